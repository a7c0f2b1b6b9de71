package v1alpha1

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Labels and annotations that record which tenant an object in the super cluster belongs
// to. Identity is always read from these, never parsed back out of object names.
const (
	// LabelTenant holds the tenant key (see TenantKey) on every super-cluster object made
	// for a tenant: its Secrets, and later the syncer's namespaces and objects.
	LabelTenant = "tenancy.vcp.dev/tenant"
	// AnnotationVirtualCluster holds <namespace>/<name> of the VirtualCluster.
	AnnotationVirtualCluster = "tenancy.vcp.dev/virtualcluster"

	// NodePoolLabel marks the super nodes of a node pool: vcp.dev/node-pool=<pool>.
	// Dedicated pools also taint their nodes <NodePoolLabel>=<pool>:NoSchedule.
	NodePoolLabel = "vcp.dev/node-pool"

	// KubeconfigSecretKey is the key of the tenant admin kubeconfig in the Secret that
	// status.kubeconfigSecretRef names.
	KubeconfigSecretKey = "kubeconfig"

	// Finalizer keeps a VirtualCluster until everything made for it is gone.
	Finalizer = "tenancy.vcp.dev/cleanup"

	// HostHeartbeatTimeout is how old a TenantHost's heartbeat may be before the host is
	// considered gone for placement.
	HostHeartbeatTimeout = 45 * time.Second
	// HostHeartbeatInterval is how often hosts report.
	HostHeartbeatInterval = 10 * time.Second
)

// TenantKey is the name a tenant goes by outside its VirtualCluster object: on its
// tenant-apiserver host (TLS server name <key>.<domain>) and in the LabelTenant label. It
// is the VirtualCluster's name plus six hex digits of its UID's hash, so two
// VirtualClusters of the same name in different namespaces, or a deleted and re-created
// one, never share a key. At most 47 characters: a DNS label and a label value.
func TenantKey(name, uid string) string {
	sum := sha256.Sum256([]byte(uid))
	return name + "-" + hex.EncodeToString(sum[:3])
}

// TenantKey is this VirtualCluster's tenant key.
func (vc *VirtualCluster) TenantKey() string { return TenantKey(vc.Name, string(vc.UID)) }
