package translate

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// peerMatches reports whether a NetworkPolicy peer selects a pod in a namespace with
// nsLabels and pod labels podLabels (no IP blocks).
func peerMatches(t *testing.T, peer networkingv1.NetworkPolicyPeer, nsLabels, podLabels map[string]string) bool {
	t.Helper()
	if peer.IPBlock != nil {
		return false
	}
	match := func(sel *metav1.LabelSelector, set map[string]string) bool {
		if sel == nil {
			return true
		}
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			t.Fatal(err)
		}
		return s.Matches(labels.Set(set))
	}
	return match(peer.NamespaceSelector, nsLabels) && match(peer.PodSelector, podLabels)
}

func ingressAllowed(t *testing.T, np *networkingv1.NetworkPolicy, nsLabels map[string]string) bool {
	for _, rule := range np.Spec.Ingress {
		for _, peer := range rule.From {
			if peerMatches(t, peer, nsLabels, nil) {
				return true
			}
		}
	}
	return false
}

func egressAllowed(t *testing.T, np *networkingv1.NetworkPolicy, nsLabels, podLabels map[string]string) bool {
	for _, rule := range np.Spec.Egress {
		for _, peer := range rule.To {
			if peerMatches(t, peer, nsLabels, podLabels) {
				return true
			}
		}
	}
	return false
}

// TestVPCPolicy evaluates the VPC policy's selectors against the labels of other
// tenants' super namespaces, the way a network plugin would.
func TestVPCPolicy(t *testing.T) {
	iso := Isolation{VCNamespace: "team", VCName: "a", Network: tenancyv1alpha1.NetworkSpec{Mode: tenancyv1alpha1.NetworkVPC, AllowedTenants: []string{"b"}, AllowedEgressCIDRs: []string{"203.0.113.0/24"}}}
	np := VPCPolicy("a-111111", "a-111111-default", "vcp-system", iso)
	nsOf := func(key, vcNamespace, vcName string, reach ...string) map[string]string {
		l := map[string]string{naming.LabelTenant: key, LabelVCNamespace: vcNamespace, LabelVCName: vcName}
		for _, r := range reach {
			l[ReachLabelPrefix+"/"+r] = "true"
		}
		return l
	}
	for _, tc := range []struct {
		name     string
		peer     map[string]string
		in, out  bool
		podLabel map[string]string
	}{
		{"own namespaces", nsOf("a-111111", "team", "a"), true, true, nil},
		{"allowed tenant b reaches a", nsOf("b-222222", "team", "b"), true, false, nil},
		{"tenant c that allows a is reachable from a", nsOf("c-333333", "team", "c", "a"), false, true, nil},
		{"a tenant named b in another namespace", nsOf("b-444444", "other", "b"), false, false, nil},
		{"a stranger", nsOf("d-555555", "team", "d"), false, false, nil},
		{"the platform", map[string]string{corev1.LabelMetadataName: "vcp-system"}, true, true, nil},
		{"cluster DNS", map[string]string{corev1.LabelMetadataName: "kube-system"}, false, true, map[string]string{"k8s-app": "kube-dns"}},
		{"other kube-system pods", map[string]string{corev1.LabelMetadataName: "kube-system"}, false, false, map[string]string{"k8s-app": "metrics"}},
	} {
		if got := ingressAllowed(t, np, tc.peer); got != tc.in {
			t.Errorf("%s: ingress allowed = %v, want %v", tc.name, got, tc.in)
		}
		if got := egressAllowed(t, np, tc.peer, tc.podLabel); got != tc.out {
			t.Errorf("%s: egress allowed = %v, want %v", tc.name, got, tc.out)
		}
	}
	if last := np.Spec.Egress[len(np.Spec.Egress)-1]; len(last.To) != 1 || last.To[0].IPBlock == nil || last.To[0].IPBlock.CIDR != "203.0.113.0/24" {
		t.Errorf("allowed egress CIDR missing: %+v", last)
	}
	if VPCPolicy("k", "ns", "vcp-system", Isolation{Network: tenancyv1alpha1.NetworkSpec{Mode: tenancyv1alpha1.NetworkOpen}}) != nil {
		t.Error("Open mode got a policy")
	}
}

func TestQuotaAndLimits(t *testing.T) {
	if Quota("k", "ns", Isolation{}) != nil || Limits("k", "ns", Isolation{}) != nil {
		t.Error("no quota or limits asked for, but made")
	}
	iso := Isolation{
		ResourceQuota: &tenancyv1alpha1.ResourceQuotaSpec{Hard: map[corev1.ResourceName]resource.Quantity{corev1.ResourcePods: resource.MustParse("10")}},
		LimitRange:    &tenancyv1alpha1.LimitRangeSpec{Max: map[corev1.ResourceName]resource.Quantity{corev1.ResourceCPU: resource.MustParse("2")}},
	}
	q, l := Quota("k", "ns", iso), Limits("k", "ns", iso)
	if got := q.Spec.Hard[corev1.ResourcePods]; got.String() != "10" || q.Labels[naming.LabelTenant] != "k" || q.Namespace != "ns" {
		t.Errorf("quota %+v", q)
	}
	if got := l.Spec.Limits[0].Max[corev1.ResourceCPU]; got.String() != "2" || l.Spec.Limits[0].Type != corev1.LimitTypeContainer || l.Spec.Limits[0].Default != nil {
		t.Errorf("limits %+v", l.Spec)
	}
}
