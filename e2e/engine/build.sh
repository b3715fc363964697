#!/usr/bin/env bash
# Builds the real engine the e2e runs against, from the Go modules pinned in this folder: etcd,
# kube-apiserver, kube-controller-manager, the Pulumi CLI, our Node.js language host, the Kubernetes
# provider and the stand-in random provider (README.md says which is which, and why).
#
# The result goes to a cache outside the repository,
#   ${DM_E2E_CACHE:-$HOME/.cache/diaspomoney-e2e}/<key>/
#     bin/               pulumi, pulumi-language-nodejs, etcd, kube-apiserver, kube-controller-manager
#     pulumi-home/       the PULUMI_HOME the plugins are installed in (kubernetes, random)
#     build-times.txt    the wall time of each binary's build
# where <key> hashes every go.mod, go.sum and *.go file here, this script and `go version`: an
# unchanged tree reuses the build, a changed one builds afresh (Go's own build cache keeps that cheap
# for the binaries that did not change). The two newest builds are kept. Nothing is downloaded at
# run time: the plugins are already in pulumi-home.
#
# Usage: e2e/engine/build.sh            progress on stderr; the last line of stdout is
#                                       DM_E2E_ENGINE=<the build's directory>
# Binaries are built one after the other (each `go build` already uses every core).
set -euo pipefail

# The versions the npm packages in package.json ask for: the CLI of @pulumi/pulumi 3.248.0, the
# plugins of @pulumi/kubernetes 4.34.2 and @pulumi/random 4.21.2, and the Kubernetes release built.
PULUMI_VERSION=3.248.0
KUBERNETES_PLUGIN_VERSION=4.34.2
RANDOM_PLUGIN_VERSION=4.21.2
KUBERNETES_VERSION=1.36.3

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${DM_E2E_CACHE:-$HOME/.cache/diaspomoney-e2e}
mkdir -p "$cache_root"

log() { printf '%s\n' "$*" >&2; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }

key=$(
  cd "$here"
  {
    go version
    find . -type f \( -name go.mod -o -name go.sum -o -name '*.go' -o -name build.sh \) -print0 |
      LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
)
out=$cache_root/$key

# One build at a time per cache: a second caller waits, then finds the build done.
exec 9>"$cache_root/.lock"
flock 9

if [[ -f $out/.complete ]]; then
  log "engine: reusing $out (key $key)"
  cat "$out/build-times.txt" >&2
  echo "DM_E2E_ENGINE=$out"
  exit 0
fi

work=$out.partial
rm -rf "$work"
mkdir -p "$work/bin"
times=$work/build-times.txt
: >"$times"
total_start=$(date +%s.%N)

# build OUTPUT MODULE_DIR PACKAGE [LDFLAGS...]: one binary, timed.
build() {
  local output=$1 dir=$2 pkg=$3 name
  shift 3
  name=$(basename "$output")
  local start end
  log "engine: building $name"
  start=$(date +%s.%N)
  (cd "$here/$dir" && go build -trimpath -ldflags "-s -w $*" -o "$output" "$pkg")
  end=$(date +%s.%N)
  printf '%-32s %6.1fs\n' "$name" "$(elapsed "$start" "$end")" | tee -a "$times" >&2
}

kube_version_flags() {
  local pkg flags=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=v$KUBERNETES_VERSION"
    flags+=" -X $pkg.gitMajor=${KUBERNETES_VERSION%%.*}"
    flags+=" -X $pkg.gitMinor=$(cut -d. -f2 <<<"$KUBERNETES_VERSION")"
    flags+=" -X $pkg.gitTreeState=clean"
  done
  echo "$flags"
}

# The provider's main embeds the module's own schema (with the plugin version set) and Terraform
# mapping; they are generated artefacts of the provider, copied here at build time and git-ignored.
# `go list -m` names no folder for a module not yet in the module cache (a fresh machine), so the
# module is downloaded first.
provider_module=github.com/pulumi/pulumi-kubernetes/provider/v4
provider_dir=$(cd "$here/provider-kubernetes" && go mod download "$provider_module" && go list -m -f '{{.Dir}}' "$provider_module")
if [[ -z $provider_dir || ! -f $provider_dir/cmd/pulumi-resource-kubernetes/schema.json ]]; then
  log "engine: cannot find the schema of $provider_module in the module cache (got '${provider_dir}')"
  exit 1
fi
node -e '
  const fs = require("fs");
  const [src, dst, version] = process.argv.slice(1);
  const schema = JSON.parse(fs.readFileSync(src, "utf8"));
  schema.version = version;
  fs.writeFileSync(dst, JSON.stringify(schema));
' "$provider_dir/cmd/pulumi-resource-kubernetes/schema.json" "$here/provider-kubernetes/schema-embed.json" \
  "$KUBERNETES_PLUGIN_VERSION"
cp "$provider_dir/cmd/pulumi-resource-kubernetes/terraform-mapping.json" "$here/provider-kubernetes/terraform-mapping-embed.json"
chmod u+w "$here/provider-kubernetes/terraform-mapping-embed.json"

bin=$work/bin
build "$bin/etcd" etcd go.etcd.io/etcd/server/v3
build "$bin/kube-apiserver" controlplane k8s.io/kubernetes/cmd/kube-apiserver "$(kube_version_flags)"
build "$bin/kube-controller-manager" controlplane k8s.io/kubernetes/cmd/kube-controller-manager "$(kube_version_flags)"
build "$bin/pulumi" pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
  "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
build "$bin/pulumi-language-nodejs" language-nodejs . "-X main.version=$PULUMI_VERSION"

# The resource plugins are built aside and installed under the versions the npm SDKs ask for: a
# pulumi-resource-* on PATH would shadow the installed plugin (the CLI warns "using ... from $PATH"
# on every run). The language host, by contrast, is found on PATH, next to the CLI.
plugins=$work/plugin-build
build "$plugins/pulumi-resource-kubernetes" provider-kubernetes . \
  "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KUBERNETES_PLUGIN_VERSION"
build "$plugins/pulumi-resource-random" provider-random . "-X main.version=$RANDOM_PLUGIN_VERSION"

export PULUMI_HOME=$work/pulumi-home PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
"$bin/pulumi" plugin install resource kubernetes "$KUBERNETES_PLUGIN_VERSION" \
  --file "$plugins/pulumi-resource-kubernetes" >&2
"$bin/pulumi" plugin install resource random "$RANDOM_PLUGIN_VERSION" \
  --file "$plugins/pulumi-resource-random" >&2
rm -rf "$plugins"

total_end=$(date +%s.%N)
printf '%-32s %6.1fs\n' total "$(elapsed "$total_start" "$total_end")" | tee -a "$times" >&2

# Publish the directory by renaming it, so a reader never sees half a build.
rm -rf "$out"
mv "$work" "$out"
touch "$out/.complete"

# Keep this build and the previous one (a run may still be using it); older ones are ~1 GB each.
find "$cache_root" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended -regex '.*/[0-9a-f]{16}(\.partial)?' \
  -printf '%T@ %p\n' | sort -rn | tail -n +3 | cut -d' ' -f2- | xargs -r rm -rf
echo "DM_E2E_ENGINE=$out"
