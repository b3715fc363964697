//go:build tools

// Package etcd pins the etcd server the e2e control plane stores its state in. The server's main
// package is go.etcd.io/etcd/server/v3 (the repository's root module, go.etcd.io/etcd/v3, holds no
// command: building it yields an empty archive).
package etcd

import _ "go.etcd.io/etcd/server/v3"
