//go:build tools

// Package controlplane pins the Kubernetes control-plane commands the e2e builds: the real
// kube-apiserver and kube-controller-manager, at the version in go.mod.
package controlplane

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
