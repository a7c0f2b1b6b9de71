package translate

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vcp-dev/vcp/syncer/naming"
)

// SuperService returns the super-cluster Service for a tenant Service: same name, ports
// and selector in the tenant namespace's super namespace (where only the same tenant
// namespace's pods live, so the selector cannot reach another tenant's pods). It asks for
// the tenant Service's cluster IP, so that the tenant's IP usually stays valid; node
// ports are left to the super cluster to allocate, since the tenant's were allocated
// without knowing the super cluster's.
func SuperService(tenantKey string, tenantSvc *corev1.Service) *corev1.Service {
	superSvc := &corev1.Service{
		ObjectMeta: SuperMeta(tenantKey, &tenantSvc.ObjectMeta),
		Spec:       *tenantSvc.Spec.DeepCopy(),
	}
	for i := range superSvc.Spec.Ports {
		superSvc.Spec.Ports[i].NodePort = 0
	}
	superSvc.Spec.HealthCheckNodePort = 0
	return superSvc
}

// KeepAllocated copies onto want what the super cluster allocated for have (cluster IPs,
// IP families, node ports by port number and protocol), so that an update of want
// changes only what the tenant changed.
func KeepAllocated(want, have *corev1.Service) {
	if want.Spec.Type == corev1.ServiceTypeExternalName {
		return
	}
	want.Spec.ClusterIP, want.Spec.ClusterIPs = have.Spec.ClusterIP, have.Spec.ClusterIPs
	want.Spec.IPFamilies, want.Spec.IPFamilyPolicy = have.Spec.IPFamilies, have.Spec.IPFamilyPolicy
	if want.Spec.HealthCheckNodePort == 0 {
		want.Spec.HealthCheckNodePort = have.Spec.HealthCheckNodePort
	}
	if want.Spec.Type != corev1.ServiceTypeNodePort && want.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return
	}
	for i, p := range want.Spec.Ports {
		for _, h := range have.Spec.Ports {
			if h.Port == p.Port && h.Protocol == p.Protocol {
				want.Spec.Ports[i].NodePort = h.NodePort
			}
		}
	}
}

// SuperEndpoints returns the super copy of the Endpoints of a tenant Service without a
// selector (the tenant maintains them by hand; for Services with a selector each
// cluster's own controller does).
func SuperEndpoints(tenantKey string, tenantEps *corev1.Endpoints) *corev1.Endpoints {
	return &corev1.Endpoints{
		ObjectMeta: SuperMeta(tenantKey, &tenantEps.ObjectMeta),
		Subsets:    tenantEps.DeepCopy().Subsets,
	}
}

// TenantAPIService reports whether tenant Service ns/name is the tenant API server's own,
// default/kubernetes, which is never copied down (nor are its Endpoints and slices): the
// super namespace's pods reach the tenant API through the environment SuperPod sets.
func TenantAPIService(ns, name string) bool {
	return ns == metav1.NamespaceDefault && name == "kubernetes"
}

// EndpointSliceManager is the endpointslice.kubernetes.io/managed-by label of the super
// copies of tenants' EndpointSlices.
const EndpointSliceManager = "syncer.tenancy.vcp.dev"

// EndpointSliceCopied reports whether a tenant EndpointSlice is copied down: those the
// tenant (or its own controllers) keep, not those of the cluster's endpoint controllers
// (endpointslice-controller.k8s.io from a Service's selector, and
// endpointslicemirroring-controller.k8s.io from the Endpoints the syncer already copies):
// each cluster's own controllers make those from the same pods and Endpoints.
// The tenant API server's own Service, default/kubernetes, is never copied (nor are its
// slices).
func EndpointSliceCopied(slice *discoveryv1.EndpointSlice) bool {
	if TenantAPIService(slice.Namespace, slice.Labels[discoveryv1.LabelServiceName]) {
		return false
	}
	switch slice.Labels[discoveryv1.LabelManagedBy] {
	case "endpointslice-controller.k8s.io", "endpointslicemirroring-controller.k8s.io":
		return false
	}
	return true
}

// SuperEndpointSlice returns the super copy of a tenant EndpointSlice (EndpointSliceCopied):
// same name, addresses, ports and service-name label, managed by the syncer
// (EndpointSliceManager), its endpoints' references to the tenant's pods pointing at
// their super pods (same name, in the super namespace).
func SuperEndpointSlice(tenantKey string, tenantSlice *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	c := tenantSlice.DeepCopy()
	superSlice := &discoveryv1.EndpointSlice{
		ObjectMeta:  SuperMeta(tenantKey, &tenantSlice.ObjectMeta),
		AddressType: c.AddressType, Endpoints: c.Endpoints, Ports: c.Ports,
	}
	if superSlice.Labels == nil {
		superSlice.Labels = map[string]string{}
	}
	superSlice.Labels[discoveryv1.LabelManagedBy] = EndpointSliceManager
	for i := range superSlice.Endpoints {
		if ref := superSlice.Endpoints[i].TargetRef; ref != nil {
			if ref.Namespace != "" {
				ref.Namespace = naming.SuperNamespace(tenantKey, ref.Namespace)
			}
			ref.UID, ref.ResourceVersion = "", ""
		}
	}
	return superSlice
}

// SuperMeta is the metadata of the super copy of a namespaced tenant object: same
// name in the super namespace, the tenant's labels and annotations, and its identity.
func SuperMeta(tenantKey string, tenant *metav1.ObjectMeta) metav1.ObjectMeta {
	m := metav1.ObjectMeta{
		Name: tenant.Name, Namespace: naming.SuperNamespace(tenantKey, tenant.Namespace),
		Labels: maps.Clone(tenant.Labels), Annotations: maps.Clone(tenant.Annotations),
	}
	naming.Stamp(&m, naming.Identity{Tenant: tenantKey, Namespace: tenant.Namespace, Name: tenant.Name, UID: string(tenant.UID)})
	return m
}

// SuperClaim returns the super copy of a tenant PersistentVolumeClaim. A claim cloned
// from another claim of its namespace keeps its data source: that claim's super copy has
// the same name in the same super namespace. Other data sources (which the tenant's API
// refuses since the tenant-apiserver's policy.ClaimDataSource, so only older claims have
// them), the volume to bind to and the volume selector name tenant objects, mean nothing
// in the super cluster and are left out: the super cluster provisions or binds.
func SuperClaim(tenantKey string, tenantClaim *corev1.PersistentVolumeClaim) *corev1.PersistentVolumeClaim {
	spec := tenantClaim.Spec.DeepCopy()
	spec.VolumeName, spec.Selector = "", nil
	if !sameNamespaceClone(spec) {
		spec.DataSource, spec.DataSourceRef = nil, nil
	}
	return &corev1.PersistentVolumeClaim{ObjectMeta: SuperMeta(tenantKey, &tenantClaim.ObjectMeta), Spec: *spec}
}

// sameNamespaceClone tells whether a claim's data sources are a claim of its own
// namespace (or it has none).
func sameNamespaceClone(spec *corev1.PersistentVolumeClaimSpec) bool {
	isClaim := func(group *string, kind string) bool {
		return (group == nil || *group == "") && kind == "PersistentVolumeClaim"
	}
	if ds := spec.DataSource; ds != nil && !isClaim(ds.APIGroup, ds.Kind) {
		return false
	}
	ref := spec.DataSourceRef
	return ref == nil || isClaim(ref.APIGroup, ref.Kind) && (ref.Namespace == nil || *ref.Namespace == "")
}

// TenantVolume is the tenant's read-only mirror of the super PersistentVolume its claim
// is bound to: same name, capacity, modes, class and source, claimed by the tenant claim.
func TenantVolume(superPV *corev1.PersistentVolume, tenantClaim *corev1.PersistentVolumeClaim) *corev1.PersistentVolume {
	spec := superPV.Spec.DeepCopy()
	spec.ClaimRef = &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: tenantClaim.Namespace, Name: tenantClaim.Name, UID: tenantClaim.UID}
	// The super cluster decides what happens to the volume; in the tenant it is kept
	// until the syncer removes it.
	spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: superPV.Name, Labels: maps.Clone(superPV.Labels), Annotations: map[string]string{"tenancy.vcp.dev/mirrored": "true"}},
		Spec:       *spec,
	}
}
