package translate

import (
	"maps"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// superNamespaceOf returns the labels the syncer gives the super namespace of a tenant
// namespace with tenantLabels (see controller.superNamespaceLabels).
func superNamespaceOf(tenantKey, vcName string, tenantLabels map[string]string) map[string]string {
	out := MirroredNamespaceLabels(tenantLabels)
	maps.Copy(out, NamespaceLabels(Isolation{VCNamespace: "team", VCName: vcName, PodSecurity: tenancyv1alpha1.PodSecurityBaseline}))
	out[naming.LabelTenant] = tenantKey
	return out
}

func nsLabels(name string, extra ...string) map[string]string {
	l := map[string]string{corev1.LabelMetadataName: name}
	for i := 0; i+1 < len(extra); i += 2 {
		l[extra[i]] = extra[i+1]
	}
	return l
}

func TestNamespaceLabelKey(t *testing.T) {
	for in, want := range map[string]string{
		"team":                        "ns.tenancy.vcp.dev/team",
		"kubernetes.io/metadata.name": "kubernetes.io.ns.tenancy.vcp.dev/metadata.name",
		naming.LabelTenant:            "tenancy.vcp.dev.ns.tenancy.vcp.dev/tenant",
	} {
		if got := NamespaceLabelKey(in); got != want {
			t.Errorf("NamespaceLabelKey(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("a.", 120) + "example.com/team"
	if got := NamespaceLabelKey(long); len(validation.IsQualifiedName(got)) > 0 || !IsMirroredNamespaceLabel(got) {
		t.Errorf("NamespaceLabelKey of a 253-character prefix = %q: %v", got, validation.IsQualifiedName(got))
	}
	for _, platform := range []string{naming.LabelTenant, LabelVCName, LabelVCNamespace, ReachLabelPrefix + "/a", "pod-security.kubernetes.io/enforce", corev1.LabelMetadataName} {
		if IsMirroredNamespaceLabel(platform) {
			t.Errorf("the platform's label %s is taken for a mirrored tenant label", platform)
		}
	}
}

// TestSuperNetworkPolicy translates a tenant policy using every kind of peer and evaluates
// the result against the super namespaces of the same and of another tenant, the way a
// network plugin would.
func TestSuperNetworkPolicy(t *testing.T) {
	const key, otherKey = "a-111111", "b-222222"
	tenantNP := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: VPCPolicyName, Namespace: "shop", UID: "np-uid", Labels: map[string]string{"app": "web"}},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{
				{From: []networkingv1.NetworkPolicyPeer{
					{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "blue"}}},
					{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"role": "fe"}}},
					{IPBlock: &networkingv1.IPBlock{CIDR: "192.0.2.0/24"}},
					{NamespaceSelector: &metav1.LabelSelector{}, PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"role": "monitor"}}},
					{NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"shop"}}}}},
				}},
				{}, // from anywhere
			},
			Egress: []networkingv1.NetworkPolicyEgressRule{
				{To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}}},
				{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: []string{"10.0.0.0/8"}}}}},
				{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "198.51.100.0/24"}}}}, // outside what the VPC allows
				{}, // to anywhere
			},
		},
	}
	before := tenantNP.DeepCopy()
	iso := Isolation{VCNamespace: "team", VCName: "a", Network: tenancyv1alpha1.NetworkSpec{AllowedEgressCIDRs: []string{"203.0.113.0/24", "10.1.0.0/16"}}}
	got := SuperNetworkPolicy(key, tenantNP, iso)

	if got.Name != "tenant-vcp-vpc" || got.Namespace != naming.SuperNamespace(key, "shop") {
		t.Errorf("placed at %s/%s: a tenant policy named vcp-vpc must not take the platform's name", got.Namespace, got.Name)
	}
	if id, ok := naming.IdentityOf(got); !ok || id != (naming.Identity{Tenant: key, Namespace: "shop", Name: VPCPolicyName, UID: "np-uid"}) || got.Labels[LabelIsolation] != "" {
		t.Errorf("identity %+v, %v, labels %v", id, ok, got.Labels)
	}
	if !reflect.DeepEqual(got.Spec.PodSelector, tenantNP.Spec.PodSelector) || !reflect.DeepEqual(got.Spec.PolicyTypes, tenantNP.Spec.PolicyTypes) {
		t.Errorf("pod selector or policy types changed: %+v", got.Spec)
	}
	if !reflect.DeepEqual(tenantNP, before) {
		t.Error("SuperNetworkPolicy changed the tenant policy it was given")
	}

	ownShop := superNamespaceOf(key, "a", nsLabels("shop", "team", "blue"))
	ownDB := superNamespaceOf(key, "a", nsLabels("db", "team", "blue"))
	ownOps := superNamespaceOf(key, "a", nsLabels("ops"))
	// Another tenant with the same namespaces and labels (and allowed by a: it may reach a
	// through the VPC policy, never through a's own).
	otherShop := superNamespaceOf(otherKey, "b", nsLabels("shop", "team", "blue"))
	otherOps := superNamespaceOf(otherKey, "b", nsLabels("ops"))
	unlabelled := map[string]string{corev1.LabelMetadataName: "kube-system", "team": "blue"}
	from := got.Spec.Ingress[0].From
	for _, tc := range []struct {
		name      string
		peer      int
		ns        map[string]string
		podLabels map[string]string
		want      bool
	}{
		{"team=blue selects a's own blue namespace", 0, ownDB, nil, true},
		{"team=blue does not select a's unlabelled namespace", 0, ownOps, nil, false},
		{"team=blue never selects b's blue namespace", 0, otherShop, nil, false},
		{"team=blue never selects a super namespace that is no tenant's", 0, unlabelled, nil, false},
		{"all namespaces means all of a's", 3, ownOps, map[string]string{"role": "monitor"}, true},
		{"all namespaces never means b's", 3, otherOps, map[string]string{"role": "monitor"}, false},
		{"metadata.name NotIn shop selects a's ops", 4, ownOps, nil, true},
		{"metadata.name NotIn shop does not select a's shop", 4, ownShop, nil, false},
		{"metadata.name NotIn shop never selects b's ops", 4, otherOps, nil, false},
	} {
		if matched := peerMatches(t, from[tc.peer], tc.ns, tc.podLabels); matched != tc.want {
			t.Errorf("%s: matched = %v, want %v (selector %+v)", tc.name, matched, tc.want, from[tc.peer].NamespaceSelector)
		}
	}
	if !reflect.DeepEqual(from[1], tenantNP.Spec.Ingress[0].From[1]) || !reflect.DeepEqual(from[2], tenantNP.Spec.Ingress[0].From[2]) {
		t.Errorf("a same-namespace pod peer and an ingress IP block stay: %+v %+v", from[1], from[2])
	}
	own := networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{naming.LabelTenant: key}}}
	if anywhere := got.Spec.Ingress[1].From; !reflect.DeepEqual(anywhere, []networkingv1.NetworkPolicyPeer{own}) {
		t.Errorf("ingress from anywhere became %+v, want a's own namespaces only (the VPC closes the rest)", anywhere)
	}

	ipBlock := func(cidr string, except ...string) networkingv1.NetworkPolicyPeer {
		return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}
	}
	wantEgress := [][]networkingv1.NetworkPolicyPeer{
		{own},
		// 0.0.0.0/0 except 10/8, clipped to the allowed CIDRs: 10.1/16 is all excepted.
		{ipBlock("203.0.113.0/24")},
		// The rule to 198.51.100.0/24 is gone: clipped to nothing, an empty list would mean all.
		{own, ipBlock("10.1.0.0/16"), ipBlock("203.0.113.0/24")},
	}
	if len(got.Spec.Egress) != len(wantEgress) {
		t.Fatalf("egress rules %+v, want %d", got.Spec.Egress, len(wantEgress))
	}
	for i, want := range wantEgress {
		if !reflect.DeepEqual(got.Spec.Egress[i].To, want) {
			t.Errorf("egress rule %d: %+v, want %+v", i, got.Spec.Egress[i].To, want)
		}
	}

	// Without policyTypes, a policy whose only egress rule is clipped away still isolates
	// egress (deny all), as the tenant's does upstream and as the pod's markers say.
	defaulted := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "out", Namespace: "shop"}, Spec: networkingv1.NetworkPolicySpec{
		Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{ipBlock("198.51.100.0/24")}}},
	}}
	if got := SuperNetworkPolicy(key, defaulted, iso); len(got.Spec.Egress) != 0 ||
		!reflect.DeepEqual(got.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
		t.Errorf("clipped policy without policyTypes: egress %+v, policy types %v, want none and [Ingress Egress]", got.Spec.Egress, got.Spec.PolicyTypes)
	}
	if got := SuperNetworkPolicy(key, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "in"}}, iso); !reflect.DeepEqual(got.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
		t.Errorf("policy without policyTypes or egress rules: policy types %v, want [Ingress]", got.Spec.PolicyTypes)
	}

	// In Open mode there is no VPC to keep: IP blocks and open rules stay; namespace
	// selectors are still the tenant's own.
	iso.Network.Mode = tenancyv1alpha1.NetworkOpen
	open := SuperNetworkPolicy(key, tenantNP, iso)
	if len(open.Spec.Egress) != 4 || !reflect.DeepEqual(open.Spec.Egress[1], tenantNP.Spec.Egress[1]) || len(open.Spec.Egress[3].To) != 0 || len(open.Spec.Ingress[1].From) != 0 {
		t.Errorf("Open mode egress %+v ingress %+v", open.Spec.Egress, open.Spec.Ingress)
	}
	if peerMatches(t, open.Spec.Ingress[0].From[0], otherShop, nil) {
		t.Error("Open mode: team=blue selects another tenant's namespace")
	}
}

func TestClipIPBlock(t *testing.T) {
	allowed := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.0/24"), netip.MustParsePrefix("2001:db8::/32")}
	for _, tc := range []struct {
		block networkingv1.IPBlock
		want  []networkingv1.IPBlock
	}{
		{networkingv1.IPBlock{CIDR: "10.2.0.0/16", Except: []string{"10.2.3.0/24"}}, []networkingv1.IPBlock{{CIDR: "10.2.0.0/16", Except: []string{"10.2.3.0/24"}}}},
		{networkingv1.IPBlock{CIDR: "192.168.0.0/16", Except: []string{"192.168.1.128/25", "192.168.2.0/24"}}, []networkingv1.IPBlock{{CIDR: "192.168.1.0/24", Except: []string{"192.168.1.128/25"}}}},
		{networkingv1.IPBlock{CIDR: "0.0.0.0/0"}, []networkingv1.IPBlock{{CIDR: "10.0.0.0/8"}, {CIDR: "192.168.1.0/24"}}},
		{networkingv1.IPBlock{CIDR: "::/0"}, []networkingv1.IPBlock{{CIDR: "2001:db8::/32"}}},
		{networkingv1.IPBlock{CIDR: "172.16.0.0/12"}, nil},
		{networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: []string{"192.168.0.0/16"}}, []networkingv1.IPBlock{{CIDR: "10.0.0.0/8"}}},
		{networkingv1.IPBlock{CIDR: "not a cidr"}, nil},
	} {
		if got := clipIPBlock(tc.block, allowed); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("clipIPBlock(%+v) = %+v, want %+v", tc.block, got, tc.want)
		}
	}
}

// FuzzSuperNetworkPolicy translates tenant policies with random namespace selectors and IP
// blocks and checks what the translation promises: a namespace selector selects exactly
// the tenant namespaces the tenant's selector selects in the tenant, and never a namespace
// of another tenant or of nobody; in VPC mode every egress IP block lies inside an
// allowed CIDR and no rule is left open to everything.
func FuzzSuperNetworkPolicy(f *testing.F) {
	f.Add("team", "blue", uint8(0), "0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", false)
	f.Add("kubernetes.io/metadata.name", "shop", uint8(1), "10.0.0.0/8", "", "0.0.0.0/0", false)
	f.Add("tenancy.vcp.dev/tenant", "b-222222", uint8(3), "::/0", "2001:db8::/48", "2001:db8::/32", true)
	ops := []metav1.LabelSelectorOperator{metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn, metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist}
	const key, otherKey = "a-111111", "b-222222"
	f.Fuzz(func(t *testing.T, labelKey, labelValue string, op uint8, cidr, except, allowedCIDR string, open bool) {
		req := metav1.LabelSelectorRequirement{Key: labelKey, Operator: ops[int(op)%len(ops)]}
		if req.Operator == metav1.LabelSelectorOpIn || req.Operator == metav1.LabelSelectorOpNotIn {
			req.Values = []string{labelValue}
		}
		selectors := []*metav1.LabelSelector{
			{MatchLabels: map[string]string{labelKey: labelValue}},
			{MatchExpressions: []metav1.LabelSelectorRequirement{req}},
			{},
		}
		for _, sel := range selectors[:2] {
			if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
				return // the tenant API refuses it
			}
		}
		block := &networkingv1.IPBlock{CIDR: cidr}
		if except != "" {
			block.Except = []string{except}
		}
		var peers []networkingv1.NetworkPolicyPeer
		for _, sel := range selectors {
			peers = append(peers, networkingv1.NetworkPolicyPeer{NamespaceSelector: sel})
		}
		peers = append(peers, networkingv1.NetworkPolicyPeer{IPBlock: block})
		tenantNP := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "shop"}, Spec: networkingv1.NetworkPolicySpec{
			Ingress: []networkingv1.NetworkPolicyIngressRule{{From: peers}, {}},
			Egress:  []networkingv1.NetworkPolicyEgressRule{{To: peers}, {To: peers[3:]}, {}},
		}}
		iso := Isolation{VCNamespace: "team", VCName: "a", Network: tenancyv1alpha1.NetworkSpec{AllowedEgressCIDRs: []string{allowedCIDR}}}
		if open {
			iso.Network.Mode = tenancyv1alpha1.NetworkOpen
		}
		got := SuperNetworkPolicy(key, tenantNP, iso)
		if strings.HasPrefix(got.Name, "vcp-") {
			t.Fatalf("super name %q takes a platform name", got.Name)
		}

		// Namespaces to evaluate on: with and without the fuzzed label, of this tenant, of
		// another, and of nobody.
		tenantNamespaces := []map[string]string{nsLabels("shop"), nsLabels("x", labelKey, labelValue), nsLabels("y", labelKey, labelValue+"z")}
		for _, tenantLabels := range tenantNamespaces {
			if len(validation.IsValidLabelValue(tenantLabels[labelKey])) > 0 {
				continue
			}
			own, other := superNamespaceOf(key, "a", tenantLabels), superNamespaceOf(otherKey, "b", tenantLabels)
			nobody := maps.Clone(tenantLabels)
			// check evaluates the peers of a rule; translated says they are the translations
			// of peers (one per selector, in order), whose selections must agree.
			check := func(where string, rulePeers []networkingv1.NetworkPolicyPeer, translated bool) {
				for i, peer := range rulePeers {
					if peer.NamespaceSelector == nil {
						continue
					}
					if peerMatches(t, peer, other, nil) || peerMatches(t, peer, nobody, nil) {
						t.Fatalf("%s peer %d (%+v) selects a namespace outside tenant %s", where, i, peer.NamespaceSelector, key)
					}
					if translated && i < len(selectors) {
						tenantSel, _ := metav1.LabelSelectorAsSelector(selectors[i])
						if want := tenantSel.Matches(labels.Set(tenantLabels)); peerMatches(t, peer, own, nil) != want {
							t.Fatalf("%s peer %d: selects the tenant namespace %v: %v, in the tenant: %v", where, i, tenantLabels, !want, want)
						}
					}
				}
			}
			check("ingress", got.Spec.Ingress[0].From, true)
			check("egress", got.Spec.Egress[0].To, true)
			if !open {
				check("ingress from anywhere", got.Spec.Ingress[1].From, false)
				check("egress to anywhere", got.Spec.Egress[len(got.Spec.Egress)-1].To, false)
			}
		}
		if open {
			return
		}
		allowed, allowedErr := netip.ParsePrefix(allowedCIDR)
		for i, rule := range got.Spec.Egress {
			if len(rule.To) == 0 {
				t.Fatalf("egress rule %d is open to everything in VPC mode", i)
			}
			for _, peer := range rule.To {
				if peer.IPBlock == nil {
					continue
				}
				p, err := netip.ParsePrefix(peer.IPBlock.CIDR)
				if err != nil || allowedErr != nil || !contains(allowed.Masked(), p.Masked()) {
					t.Fatalf("egress rule %d reaches %s, outside the allowed %s", i, peer.IPBlock.CIDR, allowedCIDR)
				}
				for _, e := range peer.IPBlock.Except {
					ep, err := netip.ParsePrefix(e)
					if err != nil || !contains(p.Masked(), ep.Masked()) || ep.Bits() <= p.Bits() {
						t.Fatalf("egress rule %d: except %s is not strictly inside %s", i, e, peer.IPBlock.CIDR)
					}
				}
			}
		}
		for i, rule := range got.Spec.Ingress {
			if len(rule.From) == 0 {
				t.Fatalf("ingress rule %d is open to everything in VPC mode", i)
			}
		}
	})
}
