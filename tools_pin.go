//go:build pin

// This file pins the Kubernetes and etcd lines for the whole repository. The tenant
// control plane is built from k8s.io/kubernetes/cmd/kube-apiserver/app and embeds etcd,
// so these modules stay in go.mod at exactly the versions the local super cluster's tools
// are built from (hack/tools/go.mod). It is never compiled: the "pin" tag is never set.
package vcp

import (
	_ "go.etcd.io/etcd/client/v3"
	_ "go.etcd.io/etcd/server/v3/embed"
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "sigs.k8s.io/controller-runtime"
)
