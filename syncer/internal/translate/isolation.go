package translate

import (
	"cmp"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// Isolation is what a tenant's VirtualCluster forces onto its pods and its super
// namespaces.
type Isolation struct {
	// RuntimeClassName is the sandbox runtime; empty leaves the pod's own.
	RuntimeClassName string
	// NodePool is the pool the pods must land on; empty means any node.
	NodePool string
	// NodeSelector and Tolerations are added to every pod; on a conflicting
	// nodeSelector key the platform's value wins.
	NodeSelector map[string]string
	Tolerations  []corev1.Toleration

	// VCNamespace and VCName are the VirtualCluster's: allowed tenants are named in its
	// namespace.
	VCNamespace, VCName string
	// Network, ResourceQuota, LimitRange and PodSecurity are the VirtualCluster's.
	Network       tenancyv1alpha1.NetworkSpec
	ResourceQuota *tenancyv1alpha1.ResourceQuotaSpec
	LimitRange    *tenancyv1alpha1.LimitRangeSpec
	PodSecurity   tenancyv1alpha1.PodSecurityLevel
	// AllowedStorageClasses and AllowedIngressClasses are the classes the tenant may use
	// (empty: any), shown to it read-only.
	AllowedStorageClasses, AllowedIngressClasses []string

	// API is where the tenant's pods reach their own API server (the zero value: where
	// the super cluster's kubelet points them, the super cluster's API).
	API TenantAPI
	// DNS is the tenant's own DNS server (the zero value: none, the pods keep the super
	// cluster's).
	DNS TenantDNS
	// ClusterDomain is the super kubelets' cluster domain ("" is clusterdomain.Default):
	// of the in-cluster names pods resolve to the tenant's host, and of the Services
	// the tenant's own DNS names.
	ClusterDomain string
}

// IsolationFor reads a VirtualCluster's isolation spec.
func IsolationFor(vc *tenancyv1alpha1.VirtualCluster) Isolation {
	spec := vc.Spec.Isolation.DeepCopy()
	iso := Isolation{
		RuntimeClassName: spec.RuntimeClassName,
		NodePool:         spec.NodePool.Name,
		Tolerations:      spec.NodePool.Tolerations,
		VCNamespace:      vc.Namespace, VCName: vc.Name,
		Network: spec.Network, ResourceQuota: spec.ResourceQuota, LimitRange: spec.LimitRange,
		PodSecurity:           cmp.Or(spec.PodSecurity.Level, tenancyv1alpha1.PodSecurityBaseline),
		AllowedStorageClasses: spec.Allowed.StorageClasses, AllowedIngressClasses: spec.Allowed.IngressClasses,
	}
	if len(spec.NodePool.NodeSelector) > 0 {
		iso.NodeSelector = map[string]string{}
		for k, v := range spec.NodePool.NodeSelector {
			iso.NodeSelector[k] = string(v)
		}
	}
	return iso
}

// Labels of super namespaces that network policies select on.
const (
	// LabelVCNamespace and LabelVCName name the VirtualCluster a super namespace is of.
	LabelVCNamespace = "tenancy.vcp.dev/vc-namespace"
	LabelVCName      = "tenancy.vcp.dev/vc-name"
	// ReachLabelPrefix + "/" + <VirtualCluster name> on a super namespace says that pods
	// of that VirtualCluster (in the same namespace) may reach the pods in it.
	ReachLabelPrefix = "reach.tenancy.vcp.dev"
)

// Names of the objects the syncer puts into every super namespace of a tenant.
const (
	// VPCPolicyName, VPCIngressPolicyName and VPCEgressPolicyName are the VPC's
	// NetworkPolicies (VPCPolicies).
	VPCPolicyName        = "vcp-vpc"
	VPCIngressPolicyName = "vcp-vpc-ingress"
	VPCEgressPolicyName  = "vcp-vpc-egress"
	QuotaName            = "vcp-quota"
	LimitRangeName       = "vcp-limits"
)

// VPCPolicyNames are the names of VPCPolicies in the order they are written: the ones
// that let the tenant's own traffic through come before the base, which alone would cut
// it (a super namespace made before the split gets them first).
var VPCPolicyNames = []string{VPCIngressPolicyName, VPCEgressPolicyName, VPCPolicyName}

// NamespaceLabels are the labels, besides its identity, of each of a tenant's super
// namespaces: the VirtualCluster it belongs to, who may reach it, and the Pod Security
// level the super cluster enforces there too.
func NamespaceLabels(iso Isolation) map[string]string {
	labels := map[string]string{
		LabelVCNamespace:                     iso.VCNamespace,
		LabelVCName:                          iso.VCName,
		"pod-security.kubernetes.io/enforce": string(iso.PodSecurity),
	}
	if iso.PodSecurity == "" {
		delete(labels, "pod-security.kubernetes.io/enforce")
	}
	for _, name := range iso.Network.AllowedTenants {
		labels[ReachLabelPrefix+"/"+name] = "true"
	}
	return labels
}

// VPCPolicies are the NetworkPolicies of each of a tenant's super namespaces in VPC
// mode, by name (none in Open mode). Together they are the VPC: its pods take traffic
// from the tenant's own pods, the platform's namespace (the tenant API server, ingress)
// and the VirtualClusters it allows; they send traffic to the tenant's own pods, tenants
// that allow it, cluster DNS, the platform's namespace and the allowed egress CIDRs.
// Nothing else crosses. They are split so that the tenant's own NetworkPolicies can
// restrict within the VPC, as upstream:
//   - VPCPolicyName (the base) selects every pod, isolates it both ways and lets through
//     only what the platform needs whatever the tenant's policies say: ingress from the
//     platform's namespace, egress to it and to cluster DNS;
//   - VPCIngressPolicyName lets in the tenant's own pods and the allowed tenants, but
//     only to pods that no tenant policy selects for ingress (no LabelPolicyIngress
//     marker): for the others the tenant's policies decide;
//   - VPCEgressPolicyName likewise lets out to the tenant's own pods, the tenants that
//     allow it and the allowed egress CIDRs, for pods without LabelPolicyEgress.
//
// Every pod stays isolated both ways by the base, and the tenant's policies are
// translated to open nothing outside the VPC (SuperNetworkPolicy): a marker, right or
// wrong, can only narrow what a pod may do within the VPC.
func VPCPolicies(tenantKey, superNS, platformNS string, iso Isolation) map[string]*networkingv1.NetworkPolicy {
	if iso.Network.Mode == tenancyv1alpha1.NetworkOpen {
		return nil
	}
	own := networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{naming.LabelTenant: tenantKey}}}
	platform := networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: platformNS}}}
	udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
	dnsPort := intstr.FromInt32(53)
	base := &networkingv1.NetworkPolicy{
		ObjectMeta: isolationMeta(tenantKey, superNS, VPCPolicyName),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{platform}}},
			Egress: []networkingv1.NetworkPolicyEgressRule{
				{To: []networkingv1.NetworkPolicyPeer{platform}},
				{
					To: []networkingv1.NetworkPolicyPeer{{
						NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: metav1.NamespaceSystem}},
						PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
					}},
					Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dnsPort}, {Protocol: &tcp, Port: &dnsPort}},
				},
			},
		},
	}

	ingress := []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{own}}}
	if allowed := slices.Sorted(slices.Values(iso.Network.AllowedTenants)); len(allowed) > 0 {
		ingress = append(ingress, networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{
			MatchLabels:      map[string]string{LabelVCNamespace: iso.VCNamespace},
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: LabelVCName, Operator: metav1.LabelSelectorOpIn, Values: allowed}},
		}}}})
	}
	egress := []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{own, {NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{
		LabelVCNamespace: iso.VCNamespace, ReachLabelPrefix + "/" + iso.VCName: "true",
	}}}}}}
	if cidrs := slices.Sorted(slices.Values(iso.Network.AllowedEgressCIDRs)); len(cidrs) > 0 {
		rule := networkingv1.NetworkPolicyEgressRule{}
		for _, cidr := range cidrs {
			rule.To = append(rule.To, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr}})
		}
		egress = append(egress, rule)
	}
	unmarked := func(marker string) metav1.LabelSelector {
		return metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: marker, Operator: metav1.LabelSelectorOpDoesNotExist}}}
	}
	return map[string]*networkingv1.NetworkPolicy{
		VPCPolicyName: base,
		VPCIngressPolicyName: {ObjectMeta: isolationMeta(tenantKey, superNS, VPCIngressPolicyName), Spec: networkingv1.NetworkPolicySpec{
			PodSelector: unmarked(LabelPolicyIngress), PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}, Ingress: ingress,
		}},
		VPCEgressPolicyName: {ObjectMeta: isolationMeta(tenantKey, superNS, VPCEgressPolicyName), Spec: networkingv1.NetworkPolicySpec{
			PodSelector: unmarked(LabelPolicyEgress), PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}, Egress: egress,
		}},
	}
}

// Quota is the ResourceQuota of each of a tenant's super namespaces, or nil.
func Quota(tenantKey, superNS string, iso Isolation) *corev1.ResourceQuota {
	if iso.ResourceQuota == nil {
		return nil
	}
	return &corev1.ResourceQuota{ObjectMeta: isolationMeta(tenantKey, superNS, QuotaName), Spec: corev1.ResourceQuotaSpec{Hard: resourceList(iso.ResourceQuota.Hard)}}
}

// Limits is the LimitRange of each of a tenant's super namespaces, or nil.
func Limits(tenantKey, superNS string, iso Isolation) *corev1.LimitRange {
	lr := iso.LimitRange
	if lr == nil {
		return nil
	}
	return &corev1.LimitRange{ObjectMeta: isolationMeta(tenantKey, superNS, LimitRangeName), Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type:    corev1.LimitTypeContainer,
		Default: resourceList(lr.Default), DefaultRequest: resourceList(lr.DefaultRequest), Max: resourceList(lr.Max), Min: resourceList(lr.Min),
	}}}}
}

func resourceList(m map[corev1.ResourceName]resource.Quantity) corev1.ResourceList {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

// isolationMeta stamps a platform object in a tenant's super namespace with the tenant
// and the super namespace's tenant namespace (found from the super namespace's name by
// the caller) so that a change to it is traced back to that namespace.
func isolationMeta(tenantKey, superNS, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: superNS, Labels: map[string]string{naming.LabelTenant: tenantKey, LabelIsolation: "true"}}
}

// LabelIsolation marks the objects the syncer puts into a tenant's super namespaces on
// the platform's behalf (they stand for no tenant object).
const LabelIsolation = "tenancy.vcp.dev/isolation"
