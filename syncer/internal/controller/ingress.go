package controller

import (
	"context"

	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vcp-dev/vcp/syncer/internal/translate"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// syncIngress copies a tenant Ingress down (its backends and TLS Secrets are the same
// names in the same super namespace) and the super Ingress's load-balancer status up.
// The tenant API refuses classes outside the tenant's allowance.
func (s *Syncer) syncIngress(ctx context.Context, sess *session, ns, name string) error {
	err := syncCopy(ctx, s, sess, copied[*networkingv1.Ingress]{
		kind:      "Ingress",
		tenantGet: func(ns, name string) (*networkingv1.Ingress, error) { return sess.ingresses.Ingresses(ns).Get(name) },
		superGet:  func(ns, name string) (*networkingv1.Ingress, error) { return s.superIngresses.Ingresses(ns).Get(name) },
		writer:    func(ns string) superWriter[*networkingv1.Ingress] { return s.superClient.NetworkingV1().Ingresses(ns) },
		want: func(ing *networkingv1.Ingress) *networkingv1.Ingress {
			return &networkingv1.Ingress{ObjectMeta: translate.SuperMeta(sess.key, &ing.ObjectMeta), Spec: *ing.Spec.DeepCopy()}
		},
		same: func(superIng, want *networkingv1.Ingress) bool {
			return apiequality.Semantic.DeepEqual(superIng.Spec, want.Spec)
		},
		update: func(superIng, want *networkingv1.Ingress) *networkingv1.Ingress {
			updated := superIng.DeepCopy()
			updated.Spec = want.Spec
			return updated
		},
	}, ns, name)
	if err != nil {
		return err
	}
	tenantIng, err := sess.ingresses.Ingresses(ns).Get(name)
	if err != nil {
		return nil // gone: nothing to report on
	}
	superIng, err := s.superIngresses.Ingresses(naming.SuperNamespace(sess.key, ns)).Get(name)
	if err != nil || superIng.Annotations[naming.AnnotationUID] != string(tenantIng.UID) ||
		apiequality.Semantic.DeepEqual(tenantIng.Status, superIng.Status) {
		return nil
	}
	updated := tenantIng.DeepCopy()
	updated.Status = *superIng.Status.DeepCopy()
	_, err = sess.client.NetworkingV1().Ingresses(ns).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	return ignoreGone(err)
}
