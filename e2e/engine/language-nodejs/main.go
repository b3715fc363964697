// Command pulumi-language-nodejs is the e2e engine's Node.js language host: the plugin the Pulumi CLI
// starts to run a TypeScript program, and a Node.js policy pack, through @pulumi/pulumi's own entry
// points (cmd/run, cmd/run-policy-pack, cmd/run-plugin).
//
// It is ours, not Pulumi's: the published host (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3)
// is refused by the Go module proxy at every version, and the last copy inside sdk/v3 (v3.68.0) cannot
// serve CLI 3.248 (no RunPlugin, so no policy packs; runtime options are read from flags the CLI no
// longer passes). It implements only what `pulumi up/preview/destroy [--policy-pack]` calls, against
// the LanguageRuntime protocol of the sdk/v3 version in go.mod:
//
//   - GetRequiredPackages / GetRequiredPlugins: the Pulumi packages installed in the program's nearest
//     node_modules (package.json `pulumi.resource: true`), so the CLI loads the right plugin versions.
//   - Run: `node [nodeargs] <@pulumi/pulumi/cmd/run> --monitor ... <entry point>`, with the stack's config
//     in PULUMI_CONFIG and TypeScript through the SDK's vendored ts-node (runtime option `typescript`,
//     true unless set to false).
//   - RunPlugin: a policy pack (kind analyzer) or a Node.js provider, streamed back to the CLI.
//   - GetPluginInfo, About, GetProgramDependencies, InstallDependencies (a no-op: dependencies are
//     installed with npm by the caller).
//
// Everything else answers Unimplemented, which the CLI treats as "not supported by this host".
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// version is what GetPluginInfo reports; build.sh sets it to the CLI's version.
var version = "3.248.0"

// exitAfterUserActionableMessage is the exit code @pulumi/pulumi's run script uses when it has
// already printed an error the user can act on: the host then reports a bail, not a second error.
const exitAfterUserActionableMessage = 32

func main() {
	flag.Parse()
	// The CLI passes the engine's address as the only positional argument.
	engineAddress := flag.Arg(0)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if engineAddress != "" {
		// Exit when the engine goes away, as every plugin must, instead of lingering as an orphan.
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, cancel); err != nil {
			fatal(fmt.Errorf("starting the engine health check: %w", err))
		}
	}

	stop := make(chan bool)
	go func() {
		<-ctx.Done()
		close(stop)
	}()
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stop,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, &host{engineAddress: engineAddress})
			return nil
		},
	})
	if err != nil {
		fatal(fmt.Errorf("starting the language host's gRPC server: %w", err))
	}
	// The CLI reads the port from the first line of our standard output.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fatal(fmt.Errorf("language host stopped serving: %w", err))
	}
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
	os.Exit(1)
}

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *host) GetRequiredPackages(
	_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	deps, err := pulumiPackages(programDirectory(req.GetInfo(), ""))
	if err != nil {
		return nil, err
	}
	packages := make([]*pulumirpc.PackageDependency, 0, len(deps))
	for _, d := range deps {
		packages = append(packages, &pulumirpc.PackageDependency{
			Name: d.GetName(), Kind: d.GetKind(), Version: d.GetVersion(), Server: d.GetServer(),
		})
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

func (h *host) GetRequiredPlugins(
	_ context.Context, req *pulumirpc.GetRequiredPluginsRequest, //nolint:staticcheck // older CLIs call it
) (*pulumirpc.GetRequiredPluginsResponse, error) { //nolint:staticcheck
	deps, err := pulumiPackages(programDirectory(req.GetInfo(), req.GetPwd())) //nolint:staticcheck
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: deps}, nil //nolint:staticcheck
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	dir := programDirectory(req.GetInfo(), req.GetPwd())
	opts := runtimeOptions(req.GetInfo())
	runPath, err := resolveModule(ctx, dir, "@pulumi/pulumi/cmd/run")
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	config := req.GetConfig()
	if config == nil {
		config = map[string]string{}
	}
	configJSON, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}

	entryPoint := req.GetInfo().GetEntryPoint()
	if entryPoint == "" {
		entryPoint = "."
	}
	args := append(opts.nodeArgs, runPath)
	flagIfSet := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name+"="+value)
		}
	}
	flagIfSet("monitor", req.GetMonitorAddress())
	flagIfSet("engine", h.engineAddress)
	flagIfSet("organization", req.GetOrganization())
	flagIfSet("project", req.GetProject())
	flagIfSet("root-directory", req.GetInfo().GetRootDirectory())
	flagIfSet("stack", req.GetStack())
	flagIfSet("pwd", req.GetPwd())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() != 0 {
		flagIfSet("parallel", fmt.Sprint(req.GetParallel()))
	}
	args = append(args, entryPoint)
	args = append(args, req.GetArgs()...)

	env := append(os.Environ(), "PULUMI_CONFIG="+string(configJSON), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON))
	env = append(env, opts.env()...)

	// The program's output goes to ours, which the CLI shows as the program's diagnostics.
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			if exit.ExitCode() == exitAfterUserActionableMessage {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exit.ExitCode())}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run node: %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// RunPlugin runs a plugin written in Node.js: a policy pack when the CLI is given `--policy-pack DIR`
// (kind "analyzer"), or a provider (kind "resource"). The plugin prints its gRPC port on its first
// line of output, which the CLI reads from the stream.
func (h *host) RunPlugin(
	req *pulumirpc.RunPluginRequest, server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	ctx := server.Context()
	dir := programDirectory(req.GetInfo(), req.GetPwd())
	opts := runtimeOptions(req.GetInfo())

	entry := "@pulumi/pulumi/cmd/run-plugin"
	if req.GetKind() == "analyzer" {
		entry = "@pulumi/pulumi/cmd/run-policy-pack"
	}
	// The plugin's own node_modules hold the SDK it was written against.
	runPath, err := resolveModule(ctx, dir, entry)
	if err != nil {
		return err
	}
	args := append(opts.nodeArgs, runPath)
	args = append(args, req.GetArgs()...)
	args = append(args, ".")

	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = dir
	cmd.Env = append(append([]string{}, req.GetEnv()...), opts.env()...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}

	// A gRPC stream is not safe for concurrent sends: both pipes share one lock.
	var mu sync.Mutex
	send := func(msg *pulumirpc.RunPluginResponse) {
		mu.Lock()
		defer mu.Unlock()
		_ = server.Send(msg) // a send fails only when the CLI has gone, and then ctx kills node
	}
	var copying sync.WaitGroup
	forward := func(r io.Reader, wrap func([]byte) *pulumirpc.RunPluginResponse) {
		defer copying.Done()
		buf := make([]byte, 32*1024)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				send(wrap(append([]byte(nil), buf[:n]...)))
			}
			if err != nil {
				return
			}
		}
	}
	copying.Add(2)
	go forward(stdout, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
	})
	go forward(stderr, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	})
	copying.Wait()

	code := int32(0)
	if err := cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return err
		}
		code = int32(exit.ExitCode())
	}
	send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
	return nil
}

func (h *host) InstallDependencies(
	*pulumirpc.InstallDependenciesRequest, grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	return nil
}

func (h *host) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
	}, nil
}

// GetProgramDependencies lists the direct dependencies of the program's package.json at the versions
// installed in node_modules (what `pulumi about` shows).
func (h *host) GetProgramDependencies(
	_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := programDirectory(req.GetInfo(), req.GetPwd()) //nolint:staticcheck
	root, ok := findUp(dir, "package.json")
	if !ok {
		return &pulumirpc.GetProgramDependenciesResponse{}, nil
	}
	var manifest struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := readJSON(filepath.Join(root, "package.json"), &manifest); err != nil {
		return nil, err
	}
	var deps []*pulumirpc.DependencyInfo
	for name := range manifest.Dependencies {
		var pkg packageJSON
		if err := readJSON(filepath.Join(root, "node_modules", name, "package.json"), &pkg); err != nil {
			continue // declared but not installed: nothing to report
		}
		deps = append(deps, &pulumirpc.DependencyInfo{Name: name, Version: pkg.Version})
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].Name < deps[j].Name })
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

// options are the `runtime.options` of Pulumi.yaml / PulumiPolicy.yaml this host understands.
type options struct {
	typescript bool
	tsconfig   string
	nodeArgs   []string
}

func runtimeOptions(info *pulumirpc.ProgramInfo) options {
	o := options{typescript: true}
	fields := info.GetOptions().GetFields()
	if v, ok := fields["typescript"]; ok {
		if b, isBool := v.GetKind().(*structpb.Value_BoolValue); isBool {
			o.typescript = b.BoolValue
		}
	}
	o.tsconfig = fields["tsconfig"].GetStringValue()
	// Split on spaces only: node flags with quoted values are not needed here.
	o.nodeArgs = strings.Fields(fields["nodeargs"].GetStringValue())
	return o
}

// env is how @pulumi/pulumi's run scripts read the TypeScript options.
func (o options) env() []string {
	var env []string
	if o.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if o.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+o.tsconfig)
	}
	return env
}

func programDirectory(info *pulumirpc.ProgramInfo, fallback string) string {
	if dir := info.GetProgramDirectory(); dir != "" {
		return dir
	}
	return fallback
}

// resolveModule resolves a module the way the program itself would (node's require.resolve from dir),
// so a program and a policy pack each use the @pulumi/pulumi installed for them.
func resolveModule(ctx context.Context, dir, module string) (string, error) {
	cmd := exec.CommandContext(ctx, "node", "-e", "console.log(require.resolve(process.argv[1]))", module)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("cannot resolve %s from %s (is node_modules installed?): %w", module, dir, err)
	}
	return strings.TrimSpace(string(out)), nil
}

type packageJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Pulumi  struct {
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
	} `json:"pulumi"`
}

// pulumiPackages lists the resource plugins of the Pulumi packages installed at the top level of the
// nearest node_modules above dir (nested copies are not scanned: a package the program uses is
// installed at the top level, and the CLI wants one version per plugin).
func pulumiPackages(dir string) ([]*pulumirpc.PluginDependency, error) {
	root, ok := findUp(dir, "node_modules")
	if !ok {
		return nil, nil
	}
	modules := filepath.Join(root, "node_modules")
	var dirs []string
	entries, err := os.ReadDir(modules)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "@") {
			scoped, err := os.ReadDir(filepath.Join(modules, e.Name()))
			if err != nil {
				return nil, err
			}
			for _, s := range scoped {
				dirs = append(dirs, filepath.Join(modules, e.Name(), s.Name()))
			}
		} else if !strings.HasPrefix(e.Name(), ".") {
			dirs = append(dirs, filepath.Join(modules, e.Name()))
		}
	}

	var deps []*pulumirpc.PluginDependency
	for _, d := range dirs {
		var pkg packageJSON
		if err := readJSON(filepath.Join(d, "package.json"), &pkg); err != nil || !pkg.Pulumi.Resource {
			continue
		}
		name := pkg.Pulumi.Name
		if name == "" {
			name = strings.TrimPrefix(strings.TrimPrefix(pkg.Name, "@pulumi/"), "@")
		}
		v := pkg.Pulumi.Version
		if v == "" {
			v = pkg.Version
		}
		deps = append(deps, &pulumirpc.PluginDependency{
			Name: name, Kind: "resource", Version: "v" + strings.TrimPrefix(v, "v"), Server: pkg.Pulumi.Server,
		})
	}
	return deps, nil
}

// findUp returns the first directory from dir upwards that contains name.
func findUp(dir, name string) (string, bool) {
	for {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func readJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return json.NewDecoder(bufio.NewReader(f)).Decode(v)
}
