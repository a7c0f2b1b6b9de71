package controller

import (
	"context"

	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"

	"github.com/vcp-dev/vcp/syncer/internal/translate"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// syncNetworkPolicy copies a tenant NetworkPolicy down, renamed and translated so that it
// selects only the tenant's own namespaces and opens nothing the tenant's VPC closes
// (translate.SuperNetworkPolicy).
func (s *Syncer) syncNetworkPolicy(ctx context.Context, sess *session, ns, name string) error {
	return syncCopy(ctx, s, sess, copied[*networkingv1.NetworkPolicy]{
		kind: "NetworkPolicy",
		tenantGet: func(ns, name string) (*networkingv1.NetworkPolicy, error) {
			return sess.netpols.NetworkPolicies(ns).Get(name)
		},
		superGet: func(ns, name string) (*networkingv1.NetworkPolicy, error) {
			return s.superNetworkPolicies.NetworkPolicies(ns).Get(name)
		},
		writer: func(ns string) superWriter[*networkingv1.NetworkPolicy] {
			return s.superClient.NetworkingV1().NetworkPolicies(ns)
		},
		superName: naming.SuperNetworkPolicyName,
		want: func(np *networkingv1.NetworkPolicy) *networkingv1.NetworkPolicy {
			return translate.SuperNetworkPolicy(sess.key, np, sess.currentIsolation())
		},
		same: func(superNP, want *networkingv1.NetworkPolicy) bool {
			return apiequality.Semantic.DeepEqual(superNP.Spec, want.Spec)
		},
		update: func(superNP, want *networkingv1.NetworkPolicy) *networkingv1.NetworkPolicy {
			updated := superNP.DeepCopy()
			updated.Spec = want.Spec
			return updated
		},
	}, ns, name)
}
