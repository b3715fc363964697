// Command pulumi-resource-kubernetes serves the Kubernetes provider as a Pulumi resource plugin.
// The schema and Terraform mapping are the module's own files, copied next to this file by
// e2e/engine/build.sh at build time (they are generated artefacts of the provider, not ours).
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, terraformMapping)
}
