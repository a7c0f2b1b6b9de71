package translate

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// MirrorLabelSuffix ends the prefix of every label key under which a tenant namespace's
// labels are mirrored onto its super namespace (NamespaceLabelKey).
const MirrorLabelSuffix = "ns.tenancy.vcp.dev"

// NamespaceLabelKey is the label key of a super namespace that holds the value of tenant
// namespace label key: "team" becomes "ns.tenancy.vcp.dev/team", "example.com/team"
// becomes "example.com.ns.tenancy.vcp.dev/team" (a prefix too long for that is replaced
// by a hash of it). Distinct tenant keys get distinct super keys, and none is a key the
// platform sets on super namespaces, so tenant namespace selectors can be translated
// key by key and can never select on the platform's labels.
func NamespaceLabelKey(key string) string {
	prefix, name, found := strings.Cut(key, "/")
	if !found {
		return MirrorLabelSuffix + "/" + key
	}
	if len(prefix)+1+len(MirrorLabelSuffix) > 253 {
		sum := sha256.Sum256([]byte(prefix))
		prefix = "h" + hex.EncodeToString(sum[:])[:16]
	}
	return prefix + "." + MirrorLabelSuffix + "/" + name
}

// IsMirroredNamespaceLabel reports whether a super namespace label key is one of
// NamespaceLabelKey's.
func IsMirroredNamespaceLabel(key string) bool {
	prefix, _, found := strings.Cut(key, "/")
	return found && (prefix == MirrorLabelSuffix || strings.HasSuffix(prefix, "."+MirrorLabelSuffix))
}

// MirroredNamespaceLabels are a tenant namespace's labels as its super namespace carries
// them (NamespaceLabelKey), including kubernetes.io/metadata.name, so that the tenant's
// namespace selectors mean on super namespaces what they mean in the tenant.
func MirroredNamespaceLabels(tenantLabels map[string]string) map[string]string {
	out := make(map[string]string, len(tenantLabels))
	for k, v := range tenantLabels {
		out[NamespaceLabelKey(k)] = v
	}
	return out
}

// SuperNetworkPolicy returns the super copy of a tenant NetworkPolicy: renamed
// (naming.SuperNetworkPolicyName, so it never replaces the platform's policies) and
// translated so that it only ever lets through what the tenant's isolation allows:
//   - podSelector stays: super pods carry their tenant pods' labels, and the policy's
//     namespace holds only that tenant namespace's pods;
//   - a peer's namespaceSelector is translated to the mirrored namespace labels and
//     ANDed with the tenant's own label: it selects the tenant's namespaces only;
//   - a peer with only a podSelector (the policy's own namespace) stays;
//   - in VPC mode, an egress ipBlock is clipped to the tenant's allowed egress CIDRs,
//     and a rule open to all destinations (or sources) is open to all of the tenant's
//     namespaces (and, for egress, the allowed CIDRs): NetworkPolicies add up, so a
//     tenant policy must not open what the VPC policy closes. Ingress ipBlocks stay: they
//     let outside addresses reach the tenant's own pods, and other tenants' pods are held
//     back by their own VPC policy's egress;
//   - policyTypes are made explicit (upstream's defaulting), so that dropping egress
//     rules never changes which directions the policy isolates.
func SuperNetworkPolicy(tenantKey string, tenantNP *networkingv1.NetworkPolicy, iso Isolation) *networkingv1.NetworkPolicy {
	vpc := iso.Network.Mode != tenancyv1alpha1.NetworkOpen
	superNP := &networkingv1.NetworkPolicy{ObjectMeta: SuperMeta(tenantKey, &tenantNP.ObjectMeta), Spec: *tenantNP.Spec.DeepCopy()}
	superNP.Name = naming.SuperNetworkPolicyName(tenantNP.Name)
	own := networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{naming.LabelTenant: tenantKey}}}
	var allowed []netip.Prefix
	for _, cidr := range slices.Sorted(slices.Values(iso.Network.AllowedEgressCIDRs)) {
		if p, err := netip.ParsePrefix(cidr); err == nil {
			allowed = append(allowed, p.Masked())
		}
	}

	ingress := superNP.Spec.Ingress[:0]
	for _, rule := range superNP.Spec.Ingress {
		if len(rule.From) == 0 && vpc {
			rule.From = []networkingv1.NetworkPolicyPeer{own}
		} else {
			rule.From = translatePeers(tenantKey, rule.From, nil, false)
		}
		ingress = append(ingress, rule)
	}
	superNP.Spec.Ingress = ingress

	egress := superNP.Spec.Egress[:0]
	for _, rule := range superNP.Spec.Egress {
		switch {
		case len(rule.To) == 0 && vpc:
			rule.To = []networkingv1.NetworkPolicyPeer{own}
			for _, p := range allowed {
				rule.To = append(rule.To, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: p.String()}})
			}
		case len(rule.To) > 0:
			rule.To = translatePeers(tenantKey, rule.To, allowed, vpc)
			if len(rule.To) == 0 {
				continue // every destination was outside the VPC: an empty list would mean all
			}
		}
		egress = append(egress, rule)
	}
	superNP.Spec.Egress = egress
	// The directions the tenant's policy isolates stay, even when clipping left it no
	// egress rule (without policyTypes that would stop it isolating egress): they are
	// what the pod's markers say (PolicyMarkers).
	if len(superNP.Spec.PolicyTypes) == 0 {
		superNP.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if _, isolatesEgress := PolicyDirections(&tenantNP.Spec); isolatesEgress {
			superNP.Spec.PolicyTypes = append(superNP.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		}
	}
	return superNP
}

// translatePeers translates the peers of one rule; with clip, IP blocks are clipped to
// allowed (and dropped when nothing is left).
func translatePeers(tenantKey string, peers []networkingv1.NetworkPolicyPeer, allowed []netip.Prefix, clip bool) []networkingv1.NetworkPolicyPeer {
	out := make([]networkingv1.NetworkPolicyPeer, 0, len(peers))
	for _, peer := range peers {
		switch {
		case peer.IPBlock != nil && clip:
			for _, block := range clipIPBlock(*peer.IPBlock, allowed) {
				out = append(out, networkingv1.NetworkPolicyPeer{IPBlock: &block})
			}
		case peer.NamespaceSelector != nil:
			peer.NamespaceSelector = tenantNamespaceSelector(tenantKey, peer.NamespaceSelector)
			out = append(out, peer)
		default:
			out = append(out, peer)
		}
	}
	return out
}

// tenantNamespaceSelector translates a tenant's namespace selector to the super
// namespaces' mirrored labels, ANDed with the tenant's own label.
func tenantNamespaceSelector(tenantKey string, sel *metav1.LabelSelector) *metav1.LabelSelector {
	out := &metav1.LabelSelector{MatchLabels: map[string]string{}}
	for k, v := range sel.MatchLabels {
		out.MatchLabels[NamespaceLabelKey(k)] = v
	}
	for _, req := range sel.MatchExpressions {
		req.Key = NamespaceLabelKey(req.Key)
		req.Values = slices.Clone(req.Values)
		out.MatchExpressions = append(out.MatchExpressions, req)
	}
	out.MatchLabels[naming.LabelTenant] = tenantKey
	return out
}

// clipIPBlock returns the parts of block inside the allowed prefixes: for each allowed
// prefix, block itself when the prefix holds it, the prefix when block holds it, or
// nothing; with the exceptions that lie strictly inside the result. A block that does
// not parse is dropped.
func clipIPBlock(block networkingv1.IPBlock, allowed []netip.Prefix) []networkingv1.IPBlock {
	c, err := netip.ParsePrefix(block.CIDR)
	if err != nil {
		return nil
	}
	c = c.Masked()
	var out []networkingv1.IPBlock
	for _, a := range allowed {
		clipped, within := networkingv1.IPBlock{CIDR: block.CIDR}, c
		switch {
		case contains(a, c):
		case contains(c, a):
			clipped, within = networkingv1.IPBlock{CIDR: a.String()}, a
		default:
			continue
		}
		excluded := false
		for _, e := range block.Except {
			ep, err := netip.ParsePrefix(e)
			switch {
			case err != nil:
			case contains(ep.Masked(), within):
				excluded = true
			case contains(within, ep.Masked()):
				clipped.Except = append(clipped.Except, e)
			}
		}
		duplicate := slices.ContainsFunc(out, func(o networkingv1.IPBlock) bool {
			return o.CIDR == clipped.CIDR && slices.Equal(o.Except, clipped.Except)
		})
		if !excluded && !duplicate {
			out = append(out, clipped)
		}
	}
	return out
}

// contains reports whether prefix outer holds all of inner.
func contains(outer, inner netip.Prefix) bool {
	return outer.Addr().Is4() == inner.Addr().Is4() && outer.Bits() <= inner.Bits() && outer.Contains(inner.Addr())
}
