//go:build tools

// Package pulumi pins the Pulumi CLI the e2e drives.
package pulumi

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
