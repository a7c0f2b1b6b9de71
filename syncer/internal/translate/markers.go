package translate

import (
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/vcp-dev/vcp/syncer/naming"
)

// Marker labels of super pods: the syncer sets them on a super pod whose tenant pod is
// selected by one of the tenant's NetworkPolicies for that direction, and the VPC's
// intra-tenant policies (VPCIngressPolicyName, VPCEgressPolicyName) leave marked pods to
// the tenant's policies. Tenants never see them (the syncer copies no labels up), and a
// tenant pod's own labels of these keys are not copied down.
const (
	LabelPolicyIngress = "tenancy.vcp.dev/np-ingress"
	LabelPolicyEgress  = "tenancy.vcp.dev/np-egress"
	// PolicyRestricted is the value of a marker.
	PolicyRestricted = "restricted"
)

// PolicyDirections reports which directions a NetworkPolicy isolates the pods it
// selects in, with upstream's defaulting: without policyTypes, ingress always and egress
// when it has egress rules.
func PolicyDirections(spec *networkingv1.NetworkPolicySpec) (ingress, egress bool) {
	if len(spec.PolicyTypes) == 0 {
		return true, len(spec.Egress) > 0
	}
	return slices.Contains(spec.PolicyTypes, networkingv1.PolicyTypeIngress), slices.Contains(spec.PolicyTypes, networkingv1.PolicyTypeEgress)
}

// PolicyMarkers returns the marker labels (LabelPolicyIngress, LabelPolicyEgress) for a
// tenant pod with podLabels, given the tenant NetworkPolicies of its namespace: a
// direction is marked when some policy (not being deleted) selects the pod and isolates
// it in that direction, as upstream decides whether a pod is isolated. A policy whose
// selector does not parse selects nothing (the super cluster refuses its copy too).
func PolicyMarkers(podLabels map[string]string, tenantPolicies []*networkingv1.NetworkPolicy) map[string]string {
	markers := map[string]string{}
	set := labels.Set(podLabels)
	for _, np := range tenantPolicies {
		if np.DeletionTimestamp != nil {
			continue
		}
		selector, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil || !selector.Matches(set) {
			continue
		}
		ingress, egress := PolicyDirections(&np.Spec)
		if ingress {
			markers[LabelPolicyIngress] = PolicyRestricted
		}
		if egress {
			markers[LabelPolicyEgress] = PolicyRestricted
		}
	}
	return markers
}

// SuperPodLabels are the labels of a tenant pod's super pod: the tenant pod's, the
// identity (naming.Stamp) and the markers PolicyMarkers computes from tenantPolicies (the
// NetworkPolicies of the pod's tenant namespace). A tenant's own labels of the marker
// keys are not copied: the platform alone says which pods its policies leave to the
// tenant's.
func SuperPodLabels(tenantKey string, tenantPod *corev1.Pod, tenantPolicies []*networkingv1.NetworkPolicy) map[string]string {
	out := maps.Clone(tenantPod.Labels)
	if out == nil {
		out = map[string]string{}
	}
	delete(out, LabelPolicyIngress)
	delete(out, LabelPolicyEgress)
	out[naming.LabelTenant] = tenantKey
	out[naming.LabelNamespace] = tenantPod.Namespace
	maps.Copy(out, PolicyMarkers(tenantPod.Labels, tenantPolicies))
	return out
}
