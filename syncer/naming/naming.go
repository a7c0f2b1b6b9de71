// Package naming maps a tenant's objects to names in the super cluster and records which
// tenant object a super object stands for. It is pure and shared by the syncer (which
// creates super objects) and the node-agent (which must find a tenant's pod on a node).
//
// A tenant namespace ns of the tenant with key k (api/tenancy/v1alpha1.TenantKey) lives in
// the super namespace "<k>-<ns>", or, when that is longer than a DNS label allows, in its
// first 50 characters plus "-" and 12 hex digits of a hash of (k, ns). Object names inside
// a namespace stay as they are. Identity is never parsed back out of a name: every super
// object carries its tenant, namespace, name and UID in labels and annotations (Stamp),
// and the syncer writes only into super objects whose labels name the same tenant
// (Owns), so even a name two tenants could both map to never mixes their objects.
package naming

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
)

// Labels and annotations that carry a super object's tenant identity.
const (
	// LabelTenant is the tenant key (tenancy.vcp.dev/tenant).
	LabelTenant = tenancyv1alpha1.LabelTenant
	// LabelNamespace is the tenant namespace of a namespaced object (label values and
	// namespace names share the 63-character limit).
	LabelNamespace = "tenancy.vcp.dev/namespace"
	// AnnotationName is the object's name in the tenant.
	AnnotationName = "tenancy.vcp.dev/name"
	// AnnotationUID is the object's UID in the tenant: a super object whose UID annotation
	// differs from the tenant object's is an orphan of an earlier object of the same name.
	AnnotationUID = "tenancy.vcp.dev/uid"
)

const (
	maxName     = 63
	hashLen     = 12
	readableLen = maxName - 1 - hashLen
)

// SuperNamespace is the super-cluster namespace of tenant namespace ns of tenant key.
func SuperNamespace(tenantKey, ns string) string {
	name := tenantKey + "-" + ns
	if len(name) <= maxName {
		return name
	}
	sum := sha256.Sum256([]byte(tenantKey + "/" + ns))
	return strings.TrimRight(name[:readableLen], "-") + "-" + hex.EncodeToString(sum[:])[:hashLen]
}

// superPolicyPrefix starts the super name of every tenant NetworkPolicy.
const superPolicyPrefix = "tenant-"

// SuperNetworkPolicyName is the super-cluster name of tenant NetworkPolicy name. Objects
// that pods refer to by name (Secrets, ConfigMaps, claims) keep their names; nothing
// refers to a NetworkPolicy, so it is renamed: the platform puts policies of its own into
// the same super namespaces (all named "vcp-…", such as the VPC policy "vcp-vpc"), and a
// tenant policy of the same name must never replace them. Tenant policies are "tenant-…",
// hash-truncated to the 253 characters an object name may have.
func SuperNetworkPolicyName(name string) string {
	return hashTruncate(superPolicyPrefix+name, name, 253)
}

// hashTruncate returns full when it fits in max characters, else its beginning and "-"
// and 12 hex digits of a hash of key.
func hashTruncate(full, key string, max int) string {
	if len(full) <= max {
		return full
	}
	sum := sha256.Sum256([]byte(key))
	return strings.TrimRight(full[:max-1-hashLen], "-.") + "-" + hex.EncodeToString(sum[:])[:hashLen]
}

// Identity is which tenant object a super object stands for.
type Identity struct {
	// Tenant is the tenant key.
	Tenant string
	// Namespace is the tenant namespace; empty for cluster-scoped objects.
	Namespace string
	// Name and UID are the tenant object's.
	Name string
	UID  string
}

// Stamp records id on a super object's labels and annotations, keeping what else they hold.
func Stamp(obj metav1.Object, id Identity) {
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelTenant] = id.Tenant
	if id.Namespace != "" {
		labels[LabelNamespace] = id.Namespace
	} else {
		delete(labels, LabelNamespace)
	}
	obj.SetLabels(labels)
	annotations := obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[AnnotationName] = id.Name
	annotations[AnnotationUID] = id.UID
	obj.SetAnnotations(annotations)
}

// IdentityOf reads the identity Stamp recorded; ok is false when obj carries none.
func IdentityOf(obj metav1.Object) (id Identity, ok bool) {
	labels, annotations := obj.GetLabels(), obj.GetAnnotations()
	id = Identity{Tenant: labels[LabelTenant], Namespace: labels[LabelNamespace], Name: annotations[AnnotationName], UID: annotations[AnnotationUID]}
	return id, id.Tenant != "" && id.Name != ""
}

// Owns reports whether a super object belongs to the tenant: only then may the syncer
// change or delete it.
func Owns(tenantKey string, superObj metav1.Object) bool {
	return tenantKey != "" && superObj.GetLabels()[LabelTenant] == tenantKey
}
