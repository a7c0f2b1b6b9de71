package translate

import (
	"maps"
	"slices"
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

// vpcAllows evaluates the VPC's policies the way a network plugin would, for a pod with
// podLabels and a peer pod with peerPod labels in a namespace with peerNS labels: the
// pod is isolated in a direction when a policy selecting it has that type, and then
// traffic passes when a rule of such a policy admits the peer (IP blocks aside).
func vpcAllows(t *testing.T, policies map[string]*networkingv1.NetworkPolicy, podLabels map[string]string, egress bool, peerNS, peerPod map[string]string) (isolated, allowed bool) {
	t.Helper()
	for _, np := range policies {
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil {
			t.Fatal(err)
		}
		in, out := PolicyDirections(&np.Spec)
		if !sel.Matches(labels.Set(podLabels)) || (egress && !out) || (!egress && !in) {
			continue
		}
		isolated = true
		var peers []networkingv1.NetworkPolicyPeer
		if egress {
			for _, rule := range np.Spec.Egress {
				peers = append(peers, rule.To...)
			}
		} else {
			for _, rule := range np.Spec.Ingress {
				peers = append(peers, rule.From...)
			}
		}
		for _, peer := range peers {
			if peerMatches(t, peer, peerNS, peerPod) {
				allowed = true
			}
		}
	}
	return isolated, allowed
}

// TestVPCPolicies evaluates the VPC's policies against the labels of other tenants'
// super namespaces, the way a network plugin would, for a pod no tenant policy selects
// and for pods the tenant's policies restrict: those keep only what the platform needs.
func TestVPCPolicies(t *testing.T) {
	iso := Isolation{VCNamespace: "team", VCName: "a", Network: tenancyv1alpha1.NetworkSpec{Mode: tenancyv1alpha1.NetworkVPC, AllowedTenants: []string{"b"}, AllowedEgressCIDRs: []string{"203.0.113.0/24"}}}
	policies := VPCPolicies("a-111111", "a-111111-default", "vcp-system", iso)
	if len(policies) != len(VPCPolicyNames) {
		t.Fatalf("policies %v, want %v", slices.Collect(maps.Keys(policies)), VPCPolicyNames)
	}
	for name, np := range policies {
		if np.Name != name || np.Namespace != "a-111111-default" || np.Labels[LabelIsolation] != "true" || np.Labels[naming.LabelTenant] != "a-111111" {
			t.Errorf("policy %s: %+v", name, np.ObjectMeta)
		}
	}
	nsOf := func(key, vcNamespace, vcName string, reach ...string) map[string]string {
		l := map[string]string{naming.LabelTenant: key, LabelVCNamespace: vcNamespace, LabelVCName: vcName}
		for _, r := range reach {
			l[ReachLabelPrefix+"/"+r] = "true"
		}
		return l
	}
	web := map[string]string{"app": "web", naming.LabelTenant: "a-111111"}
	ingressMarked := map[string]string{"app": "web", LabelPolicyIngress: PolicyRestricted}
	egressMarked := map[string]string{"app": "web", LabelPolicyEgress: PolicyRestricted}
	bothMarked := map[string]string{"app": "web", LabelPolicyIngress: PolicyRestricted, LabelPolicyEgress: PolicyRestricted}
	type allowed struct{ in, out bool }
	for _, tc := range []struct {
		name     string
		peer     map[string]string
		podLabel map[string]string
		// unmarked, ingressMarked, egressMarked and bothMarked are what pods with those
		// markers may do with the peer.
		unmarked, inMarked, outMarked, both allowed
	}{
		{"own namespaces", nsOf("a-111111", "team", "a"), nil,
			allowed{true, true}, allowed{false, true}, allowed{true, false}, allowed{false, false}},
		{"allowed tenant b reaches a", nsOf("b-222222", "team", "b"), nil,
			allowed{true, false}, allowed{false, false}, allowed{true, false}, allowed{false, false}},
		{"tenant c that allows a is reachable from a", nsOf("c-333333", "team", "c", "a"), nil,
			allowed{false, true}, allowed{false, true}, allowed{false, false}, allowed{false, false}},
		{"a tenant named b in another namespace", nsOf("b-444444", "other", "b"), nil,
			allowed{}, allowed{}, allowed{}, allowed{}},
		{"a stranger", nsOf("d-555555", "team", "d"), nil,
			allowed{}, allowed{}, allowed{}, allowed{}},
		{"a stranger's pod labelled like a's", nsOf("d-555555", "team", "d"), web,
			allowed{}, allowed{}, allowed{}, allowed{}},
		{"the platform, whatever the tenant's policies", map[string]string{corev1.LabelMetadataName: "vcp-system"}, nil,
			allowed{true, true}, allowed{true, true}, allowed{true, true}, allowed{true, true}},
		{"cluster DNS, whatever the tenant's policies", map[string]string{corev1.LabelMetadataName: "kube-system"}, map[string]string{"k8s-app": "kube-dns"},
			allowed{false, true}, allowed{false, true}, allowed{false, true}, allowed{false, true}},
		{"other kube-system pods", map[string]string{corev1.LabelMetadataName: "kube-system"}, map[string]string{"k8s-app": "metrics"},
			allowed{}, allowed{}, allowed{}, allowed{}},
	} {
		for _, pod := range []struct {
			what   string
			labels map[string]string
			want   allowed
		}{{"unmarked", web, tc.unmarked}, {"ingress-marked", ingressMarked, tc.inMarked}, {"egress-marked", egressMarked, tc.outMarked}, {"marked both ways", bothMarked, tc.both}} {
			inIsolated, in := vpcAllows(t, policies, pod.labels, false, tc.peer, tc.podLabel)
			outIsolated, out := vpcAllows(t, policies, pod.labels, true, tc.peer, tc.podLabel)
			if !inIsolated || !outIsolated {
				t.Errorf("%s pod: isolated for ingress %v, egress %v: the base policy must isolate every pod both ways", pod.what, inIsolated, outIsolated)
			}
			if got := (allowed{in, out}); got != pod.want {
				t.Errorf("%s, %s pod: (ingress, egress) allowed = %v, want %v", tc.name, pod.what, got, pod.want)
			}
		}
	}
	// A tenant deny-all-ingress policy marks the pod, and the intra-tenant policy leaves it.
	denyAll := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "deny", Namespace: "default"}, Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}}}
	tenantPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "default", Labels: map[string]string{"app": "web"}}}
	superLabels := SuperPodLabels("a-111111", tenantPod, []*networkingv1.NetworkPolicy{denyAll})
	if superLabels[LabelPolicyIngress] != PolicyRestricted {
		t.Fatalf("a deny-all-ingress policy did not mark the pod: %v", superLabels)
	}
	intra, err := metav1.LabelSelectorAsSelector(&policies[VPCIngressPolicyName].Spec.PodSelector)
	if err != nil {
		t.Fatal(err)
	}
	if intra.Matches(labels.Set(superLabels)) {
		t.Errorf("%s still selects the pod a deny-all-ingress policy selects: %v", VPCIngressPolicyName, superLabels)
	}
	if _, in := vpcAllows(t, policies, superLabels, false, nsOf("a-111111", "team", "a"), nil); in {
		t.Error("the tenant's own pods still reach a pod its deny-all-ingress policy selects")
	}
	if _, in := vpcAllows(t, policies, superLabels, false, map[string]string{corev1.LabelMetadataName: "vcp-system"}, nil); !in {
		t.Error("the platform no longer reaches a pod a tenant policy selects")
	}

	egress := policies[VPCEgressPolicyName].Spec.Egress
	if last := egress[len(egress)-1]; len(last.To) != 1 || last.To[0].IPBlock == nil || last.To[0].IPBlock.CIDR != "203.0.113.0/24" {
		t.Errorf("allowed egress CIDR missing: %+v", last)
	}
	for _, rule := range policies[VPCPolicyName].Spec.Egress {
		for _, peer := range rule.To {
			if peer.IPBlock != nil {
				t.Errorf("the base policy lets a tenant-restricted pod out to %s", peer.IPBlock.CIDR)
			}
		}
	}
	if VPCPolicies("k", "ns", "vcp-system", Isolation{Network: tenancyv1alpha1.NetworkSpec{Mode: tenancyv1alpha1.NetworkOpen}}) != nil {
		t.Error("Open mode got policies")
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
