// Command pulumi-resource-random is the e2e engine's stand-in for the random provider: the Go module
// of the real one (github.com/pulumi/pulumi-random/provider/v4) is refused by the Go module proxy at
// every version, so the e2e cannot build it. build.sh installs this binary as plugin random 4.21.2,
// the version @pulumi/random 4.21.2 asks for.
//
// It implements exactly the two resources the platform creates, with the property names and types of
// @pulumi/random 4.21.2 (randomBytes.d.ts, randomPassword.d.ts) and the real provider's lifecycle:
// values are generated once with crypto/rand on create and kept in state; any input change (keepers
// included) replaces the resource; read returns the state; delete forgets it. Generated values are
// secret outputs. Everything else a real provider serves (functions, other resources) is absent.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math/big"
	"os"
	"sort"
	"time"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/grpc"
)

// version is the plugin version; build.sh sets it to the one @pulumi/random asks for.
var version = "4.21.2"

const (
	randomBytesType    = "random:index/randomBytes:RandomBytes"
	randomPasswordType = "random:index/randomPassword:RandomPassword"

	// The real provider's default special characters (Terraform's random_password).
	defaultSpecial = "!@#$%&*()-_=+[]{}<>:?"
	lowerChars     = "abcdefghijklmnopqrstuvwxyz"
	upperChars     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	numericChars   = "0123456789"
)

func main() {
	flag.Parse()
	engineAddress := flag.Arg(0)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if engineAddress != "" {
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, cancel); err != nil {
			fatal(err)
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
			pulumirpc.RegisterResourceProviderServer(srv, plugin.NewProviderServer(&provider{}))
			return nil
		},
	})
	if err != nil {
		fatal(err)
	}
	// The CLI reads the port from the first line of our standard output.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-resource-random: %v\n", err)
	os.Exit(1)
}

type provider struct {
	plugin.UnimplementedProvider
}

func (p *provider) GetPluginInfo(context.Context) (plugin.PluginInfo, error) {
	v := semver.MustParse(version)
	return plugin.PluginInfo{Version: &v}, nil
}

func (p *provider) SignalCancellation(context.Context) error { return nil }

func (p *provider) Close() error { return nil }

func (p *provider) GetSchema(context.Context, plugin.GetSchemaRequest) (plugin.GetSchemaResponse, error) {
	b, err := json.Marshal(schema())
	return plugin.GetSchemaResponse{Schema: b}, err
}

// The provider has no configuration.
func (p *provider) CheckConfig(_ context.Context, req plugin.CheckConfigRequest) (plugin.CheckConfigResponse, error) {
	return plugin.CheckConfigResponse{Properties: req.News}, nil
}

func (p *provider) DiffConfig(context.Context, plugin.DiffConfigRequest) (plugin.DiffConfigResponse, error) {
	return plugin.DiffResult{Changes: plugin.DiffNone}, nil
}

func (p *provider) Configure(context.Context, plugin.ConfigureRequest) (plugin.ConfigureResponse, error) {
	return plugin.ConfigureResponse{}, nil
}

func (p *provider) Check(_ context.Context, req plugin.CheckRequest) (plugin.CheckResponse, error) {
	if err := knownType(req.Type); err != nil {
		return plugin.CheckResponse{}, err
	}
	var failures []plugin.CheckFailure
	length := req.News["length"]
	switch {
	case length.IsNull():
		failures = append(failures, plugin.CheckFailure{Property: "length", Reason: "Missing required argument length"})
	case length.IsNumber() && length.NumberValue() < 1:
		failures = append(failures, plugin.CheckFailure{Property: "length", Reason: "length must be at least 1"})
	}
	return plugin.CheckResponse{Properties: req.News, Failures: failures}, nil
}

// Diff replaces the resource on any change of its inputs, as the real provider does (every input of
// both resources is ForceNew): a new value is generated only when asked for.
func (p *provider) Diff(_ context.Context, req plugin.DiffRequest) (plugin.DiffResponse, error) {
	keys := map[resource.PropertyKey]bool{}
	for k := range req.OldInputs {
		keys[k] = true
	}
	for k := range req.NewInputs {
		keys[k] = true
	}
	var changed []resource.PropertyKey
	detailed := map[string]plugin.PropertyDiff{}
	for k := range keys {
		if k == "__defaults" {
			continue
		}
		oldV, newV := unsecret(req.OldInputs[k]), unsecret(req.NewInputs[k])
		if newV.ContainsUnknowns() || !oldV.DeepEquals(newV) {
			changed = append(changed, k)
			kind := plugin.DiffUpdateReplace
			if oldV.IsNull() {
				kind = plugin.DiffAddReplace
			} else if newV.IsNull() {
				kind = plugin.DiffDeleteReplace
			}
			detailed[string(k)] = plugin.PropertyDiff{Kind: kind, InputDiff: true}
		}
	}
	if len(changed) == 0 {
		return plugin.DiffResult{Changes: plugin.DiffNone}, nil
	}
	sort.Slice(changed, func(i, j int) bool { return changed[i] < changed[j] })
	return plugin.DiffResult{
		Changes: plugin.DiffSome, ReplaceKeys: changed, ChangedKeys: changed, DetailedDiff: detailed,
	}, nil
}

func (p *provider) Create(_ context.Context, req plugin.CreateRequest) (plugin.CreateResponse, error) {
	if err := knownType(req.Type); err != nil {
		return plugin.CreateResponse{}, err
	}
	inputs := req.Properties
	var outputs resource.PropertyMap
	var err error
	switch {
	case req.Preview || inputs.ContainsUnknowns():
		// In a preview the generated values are unknown, exactly as with the real provider.
		outputs = previewOutputs(req.Type, inputs)
	case req.Type == randomBytesType:
		outputs, err = createBytes(inputs)
	default:
		outputs, err = createPassword(inputs)
	}
	if err != nil {
		return plugin.CreateResponse{}, err
	}
	// The real provider's id for both resources.
	return plugin.CreateResponse{ID: "none", Properties: outputs, Status: resource.StatusOK}, nil
}

// Read returns the state it is given: the values live only in Pulumi's state.
func (p *provider) Read(_ context.Context, req plugin.ReadRequest) (plugin.ReadResponse, error) {
	inputs := resource.PropertyMap{}
	for k, v := range req.Inputs {
		inputs[k] = v
	}
	return plugin.ReadResponse{
		ReadResult: plugin.ReadResult{ID: req.ID, Inputs: inputs, Outputs: req.State},
		Status:     resource.StatusOK,
	}, nil
}

func (p *provider) Update(context.Context, plugin.UpdateRequest) (plugin.UpdateResponse, error) {
	return plugin.UpdateResponse{}, fmt.Errorf("random resources are replaced, never updated")
}

func (p *provider) Delete(context.Context, plugin.DeleteRequest) (plugin.DeleteResponse, error) {
	return plugin.DeleteResponse{Status: resource.StatusOK}, nil
}

func knownType(t interface{ String() string }) error {
	switch t.String() {
	case randomBytesType, randomPasswordType:
		return nil
	}
	return fmt.Errorf("unknown resource type %q: this stand-in serves only RandomBytes and RandomPassword", t)
}

func createBytes(inputs resource.PropertyMap) (resource.PropertyMap, error) {
	n := intInput(inputs, "length", 0)
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	out := copyInputs(inputs)
	out["length"] = resource.NewNumberProperty(float64(n))
	out["base64"] = resource.MakeSecret(resource.NewStringProperty(base64.StdEncoding.EncodeToString(b)))
	out["hex"] = resource.MakeSecret(resource.NewStringProperty(hex.EncodeToString(b)))
	return out, nil
}

// passwordOptions are RandomPassword's inputs with the real provider's defaults.
type passwordOptions struct {
	length                                     int
	lower, upper, numeric, special             bool
	minLower, minUpper, minNumeric, minSpecial int
	specialChars                               string
}

func readPasswordOptions(inputs resource.PropertyMap) passwordOptions {
	o := passwordOptions{
		length:       intInput(inputs, "length", 0),
		lower:        boolInput(inputs, "lower", true),
		upper:        boolInput(inputs, "upper", true),
		special:      boolInput(inputs, "special", true),
		minLower:     intInput(inputs, "minLower", 0),
		minUpper:     intInput(inputs, "minUpper", 0),
		minNumeric:   intInput(inputs, "minNumeric", 0),
		minSpecial:   intInput(inputs, "minSpecial", 0),
		specialChars: defaultSpecial,
	}
	// `number` is the deprecated spelling of `numeric`: either set to false disables digits.
	o.numeric = boolInput(inputs, "numeric", true) && boolInput(inputs, "number", true)
	if v := unsecret(inputs["overrideSpecial"]); v.IsString() {
		o.specialChars = v.StringValue()
	}
	return o
}

func createPassword(inputs resource.PropertyMap) (resource.PropertyMap, error) {
	o := readPasswordOptions(inputs)
	result, err := generatePassword(o)
	if err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(result), bcrypt.DefaultCost)
	if err != nil {
		return nil, err
	}
	out := copyInputs(inputs)
	out["length"] = resource.NewNumberProperty(float64(o.length))
	out["lower"] = resource.NewBoolProperty(o.lower)
	out["upper"] = resource.NewBoolProperty(o.upper)
	out["numeric"] = resource.NewBoolProperty(o.numeric)
	out["number"] = resource.NewBoolProperty(o.numeric)
	out["special"] = resource.NewBoolProperty(o.special)
	out["minLower"] = resource.NewNumberProperty(float64(o.minLower))
	out["minUpper"] = resource.NewNumberProperty(float64(o.minUpper))
	out["minNumeric"] = resource.NewNumberProperty(float64(o.minNumeric))
	out["minSpecial"] = resource.NewNumberProperty(float64(o.minSpecial))
	out["result"] = resource.MakeSecret(resource.NewStringProperty(result))
	out["bcryptHash"] = resource.MakeSecret(resource.NewStringProperty(string(hash)))
	return out, nil
}

// generatePassword draws each class's minimum first, fills the rest from every enabled class, and
// shuffles, all with crypto/rand.
func generatePassword(o passwordOptions) (string, error) {
	classes := []struct {
		on    bool
		chars string
		min   int
	}{
		{o.lower, lowerChars, o.minLower},
		{o.upper, upperChars, o.minUpper},
		{o.numeric, numericChars, o.minNumeric},
		{o.special, o.specialChars, o.minSpecial},
	}
	var all string
	var out []byte
	for _, c := range classes {
		if !c.on || c.chars == "" {
			continue
		}
		all += c.chars
		for i := 0; i < c.min; i++ {
			ch, err := pick(c.chars)
			if err != nil {
				return "", err
			}
			out = append(out, ch)
		}
	}
	if all == "" {
		return "", fmt.Errorf("at least one of lower, upper, numeric and special must be enabled")
	}
	if len(out) > o.length {
		return "", fmt.Errorf("length %d is shorter than the sum of the minimums (%d)", o.length, len(out))
	}
	for len(out) < o.length {
		ch, err := pick(all)
		if err != nil {
			return "", err
		}
		out = append(out, ch)
	}
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}

func pick(chars string) (byte, error) {
	i, err := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
	if err != nil {
		return 0, err
	}
	return chars[i.Int64()], nil
}

func previewOutputs(t interface{ String() string }, inputs resource.PropertyMap) resource.PropertyMap {
	out := copyInputs(inputs)
	unknown := resource.MakeComputed(resource.NewStringProperty(""))
	if t.String() == randomBytesType {
		out["base64"], out["hex"] = unknown, unknown
	} else {
		out["result"], out["bcryptHash"] = unknown, unknown
	}
	return out
}

func copyInputs(inputs resource.PropertyMap) resource.PropertyMap {
	out := resource.PropertyMap{}
	for k, v := range inputs {
		if k != "__defaults" {
			out[k] = v
		}
	}
	return out
}

func intInput(m resource.PropertyMap, key resource.PropertyKey, def int) int {
	if v := unsecret(m[key]); v.IsNumber() {
		return int(v.NumberValue())
	}
	return def
}

func boolInput(m resource.PropertyMap, key resource.PropertyKey, def bool) bool {
	if v := unsecret(m[key]); v.IsBool() {
		return v.BoolValue()
	}
	return def
}

// unsecret strips secret markers, deeply, so that a value compares equal to itself made secret.
func unsecret(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return unsecret(v.SecretValue().Element)
	case v.IsObject():
		m := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			m[k] = unsecret(e)
		}
		return resource.NewObjectProperty(m)
	case v.IsArray():
		a := make([]resource.PropertyValue, 0, len(v.ArrayValue()))
		for _, e := range v.ArrayValue() {
			a = append(a, unsecret(e))
		}
		return resource.NewArrayProperty(a)
	}
	return v
}

// schema is a minimal package schema describing the two resources, for `pulumi package get-schema`
// and the engine's schema loader; the Node.js SDK is the published @pulumi/random, not generated
// from it.
func schema() map[string]any {
	str := map[string]any{"type": "string"}
	num := map[string]any{"type": "integer"}
	boolean := map[string]any{"type": "boolean"}
	keepers := map[string]any{"type": "object", "additionalProperties": str}
	secret := func(t map[string]any) map[string]any {
		s := map[string]any{"secret": true}
		for k, v := range t {
			s[k] = v
		}
		return s
	}
	passwordInputs := map[string]any{
		"keepers": keepers, "length": num, "lower": boolean, "upper": boolean, "numeric": boolean,
		"number": boolean, "special": boolean, "minLower": num, "minUpper": num, "minNumeric": num,
		"minSpecial": num, "overrideSpecial": str,
	}
	passwordOutputs := map[string]any{"result": secret(str), "bcryptHash": secret(str)}
	for k, v := range passwordInputs {
		passwordOutputs[k] = v
	}
	return map[string]any{
		"name":    "random",
		"version": version,
		"resources": map[string]any{
			randomBytesType: map[string]any{
				"inputProperties": map[string]any{"keepers": keepers, "length": num},
				"requiredInputs":  []string{"length"},
				"properties":      map[string]any{"keepers": keepers, "length": num, "base64": secret(str), "hex": secret(str)},
				"required":        []string{"base64", "hex", "length"},
			},
			randomPasswordType: map[string]any{
				"inputProperties": passwordInputs,
				"requiredInputs":  []string{"length"},
				"properties":      passwordOutputs,
				"required":        []string{"bcryptHash", "length", "result"},
			},
		},
	}
}
