package translate

import (
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/syncer/naming"
)

func policy(name string, selector metav1.LabelSelector, types []networkingv1.PolicyType, egressRules int) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
		Spec:       networkingv1.NetworkPolicySpec{PodSelector: selector, PolicyTypes: types, Egress: make([]networkingv1.NetworkPolicyEgressRule, egressRules)},
	}
}

func TestPolicyMarkers(t *testing.T) {
	ingress, egress := networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress
	all := metav1.LabelSelector{}
	web := metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	frontend := metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"frontend"}}}}
	invalid := metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Bogus"}}}
	deleting := policy("deleting", all, []networkingv1.PolicyType{ingress, egress}, 0)
	deleting.DeletionTimestamp = &metav1.Time{}
	in, out := map[string]string{LabelPolicyIngress: PolicyRestricted}, map[string]string{LabelPolicyEgress: PolicyRestricted}
	both := map[string]string{LabelPolicyIngress: PolicyRestricted, LabelPolicyEgress: PolicyRestricted}
	for _, tc := range []struct {
		name     string
		pod      map[string]string
		policies []*networkingv1.NetworkPolicy
		want     map[string]string
	}{
		{"no policies", map[string]string{"app": "web"}, nil, map[string]string{}},
		{"default deny ingress", map[string]string{"app": "web"}, []*networkingv1.NetworkPolicy{policy("deny", all, []networkingv1.PolicyType{ingress}, 0)}, in},
		{"default deny egress", map[string]string{"app": "web"}, []*networkingv1.NetworkPolicy{policy("deny", all, []networkingv1.PolicyType{egress}, 0)}, out},
		{"no policyTypes, no egress rules: ingress only", map[string]string{"app": "web"}, []*networkingv1.NetworkPolicy{policy("p", web, nil, 0)}, in},
		{"no policyTypes, egress rules: both", map[string]string{"app": "web"}, []*networkingv1.NetworkPolicy{policy("p", web, nil, 1)}, both},
		{"selector does not match", map[string]string{"app": "db"}, []*networkingv1.NetworkPolicy{policy("p", web, []networkingv1.PolicyType{ingress, egress}, 0)}, map[string]string{}},
		{"two policies, one per direction", map[string]string{"app": "web", "tier": "frontend"}, []*networkingv1.NetworkPolicy{
			policy("a", web, []networkingv1.PolicyType{ingress}, 0), policy("b", frontend, []networkingv1.PolicyType{egress}, 0)}, both},
		{"an invalid selector selects nothing", map[string]string{"app": "web"}, []*networkingv1.NetworkPolicy{policy("p", invalid, []networkingv1.PolicyType{ingress}, 0)}, map[string]string{}},
		{"a policy being deleted selects nothing", map[string]string{"app": "web"}, []*networkingv1.NetworkPolicy{deleting}, map[string]string{}},
	} {
		if got := PolicyMarkers(tc.pod, tc.policies); !maps.Equal(got, tc.want) {
			t.Errorf("%s: markers %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSuperPodLabels(t *testing.T) {
	tenantPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "shop", Labels: map[string]string{
		"app": "web", LabelPolicyIngress: "forged", LabelPolicyEgress: PolicyRestricted, // the tenant's own: not copied
	}}}
	before := maps.Clone(tenantPod.Labels)
	deny := policy("deny", metav1.LabelSelector{}, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}, 0)
	got := SuperPodLabels("a-111111", tenantPod, []*networkingv1.NetworkPolicy{deny})
	want := map[string]string{"app": "web", naming.LabelTenant: "a-111111", naming.LabelNamespace: "shop", LabelPolicyIngress: PolicyRestricted}
	if !maps.Equal(got, want) {
		t.Errorf("SuperPodLabels = %v, want %v", got, want)
	}
	if !maps.Equal(tenantPod.Labels, before) {
		t.Error("SuperPodLabels changed the tenant pod's labels")
	}
	superPod := SuperPod("a-111111", tenantPod, Isolation{}, []*networkingv1.NetworkPolicy{deny})
	if !maps.Equal(superPod.Labels, want) {
		t.Errorf("SuperPod labels = %v, want %v", superPod.Labels, want)
	}
}

// FuzzPolicyMarkers checks, for any tenant pod labels and policy selector, that the
// super pod is left to the tenant's policies in a direction exactly when one of them
// selects it for that direction (the intra-tenant VPC policy selects it otherwise), and
// that the VPC policies never select on anything but the markers.
func FuzzPolicyMarkers(f *testing.F) {
	f.Add("app", "web", "app", "web", uint8(0), uint8(0))
	f.Add("app", "web", "app", "db", uint8(1), uint8(1))
	f.Add(LabelPolicyIngress, "x", LabelPolicyIngress, "x", uint8(2), uint8(2))
	f.Add("tier", "", "tier", "", uint8(3), uint8(3))
	ops := []metav1.LabelSelectorOperator{metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn, metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist}
	typeSets := [][]networkingv1.PolicyType{nil, {networkingv1.PolicyTypeIngress}, {networkingv1.PolicyTypeEgress}, {networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}}
	iso := Isolation{VCNamespace: "team", VCName: "a", Network: tenancyv1alpha1.NetworkSpec{Mode: tenancyv1alpha1.NetworkVPC}}
	vpc := VPCPolicies("a-111111", "a-111111-shop", "vcp-system", iso)
	f.Fuzz(func(t *testing.T, podKey, podValue, selKey, selValue string, op, types uint8) {
		if len(validation.IsQualifiedName(podKey)) > 0 || len(validation.IsValidLabelValue(podValue)) > 0 {
			return
		}
		req := metav1.LabelSelectorRequirement{Key: selKey, Operator: ops[int(op)%len(ops)]}
		if req.Operator == metav1.LabelSelectorOpIn || req.Operator == metav1.LabelSelectorOpNotIn {
			req.Values = []string{selValue}
		}
		selector := metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{req}}
		tenantSel, err := metav1.LabelSelectorAsSelector(&selector)
		if err != nil {
			return // the tenant API refuses it
		}
		np := policy("p", selector, typeSets[int(types)%len(typeSets)], int(types)%2)
		tenantPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "shop", Labels: map[string]string{podKey: podValue}}}
		superLabels := SuperPodLabels("a-111111", tenantPod, []*networkingv1.NetworkPolicy{np})
		selected := tenantSel.Matches(labels.Set(tenantPod.Labels))
		wantIn, wantOut := PolicyDirections(&np.Spec)
		for name, want := range map[string]bool{VPCIngressPolicyName: selected && wantIn, VPCEgressPolicyName: selected && wantOut} {
			intra, err := metav1.LabelSelectorAsSelector(&vpc[name].Spec.PodSelector)
			if err != nil {
				t.Fatal(err)
			}
			if left := !intra.Matches(labels.Set(superLabels)); left != want {
				t.Fatalf("%s: pod %v (super %v) left to the tenant's policies: %v, want %v (policy %+v)", name, tenantPod.Labels, superLabels, left, want, np.Spec)
			}
		}
		for k, v := range superLabels {
			if (k == LabelPolicyIngress || k == LabelPolicyEgress) && v != PolicyRestricted {
				t.Fatalf("marker %s=%q is not the platform's", k, v)
			}
			if k != LabelPolicyIngress && k != LabelPolicyEgress && k != naming.LabelTenant && k != naming.LabelNamespace && tenantPod.Labels[k] != v {
				t.Fatalf("super label %s=%q is not the tenant pod's %q", k, v, tenantPod.Labels[k])
			}
		}
	})
}
