package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vcp-dev/vcp/syncer/internal/translate"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// syncService makes the tenant Service's super copy match it, and the tenant Service's
// cluster IP and load-balancer status match the super copy's, so that the IPs tenant
// pods see in DNS and environment variables are the ones the super cluster routes.
func (s *Syncer) syncService(ctx context.Context, sess *session, ns, name string) error {
	if translate.TenantAPIService(ns, name) {
		return nil
	}
	superNS := naming.SuperNamespace(sess.key, ns)
	tenantSvc, superSvc, err := lookupPair(sess.key, "Service", sess.services.Services(ns).Get, s.superServices.Services(superNS).Get, name)
	if err != nil {
		return err
	}
	superServices := s.superClient.CoreV1().Services(superNS)
	if tenantSvc == nil || !tenantSvc.DeletionTimestamp.IsZero() {
		if superSvc == nil {
			return nil
		}
		return ignoreGone(superServices.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &superSvc.UID}}))
	}
	if superSvc != nil && superSvc.Annotations[naming.AnnotationUID] != string(tenantSvc.UID) {
		return s.replaceOrphanService(ctx, sess, tenantSvc, superSvc)
	}
	want := translate.SuperService(sess.key, tenantSvc)
	if superSvc == nil {
		if err := s.ensureSuperNamespace(ctx, sess, ns); err != nil {
			return err
		}
		_, err := superServices.Create(ctx, want, metav1.CreateOptions{})
		if apierrors.IsInvalid(err) && want.Spec.ClusterIP != "" && want.Spec.ClusterIP != corev1.ClusterIPNone {
			// The tenant's IP is taken in the super cluster (by another tenant) or outside its
			// range: let the super cluster pick one; the tenant's Service follows it.
			want.Spec.ClusterIP, want.Spec.ClusterIPs = "", nil
			_, err = superServices.Create(ctx, want, metav1.CreateOptions{})
		}
		return ignoreExists(err)
	}
	translate.KeepAllocated(want, superSvc)
	if !sameMeta(superSvc, want) || !apiequality.Semantic.DeepEqual(superSvc.Spec, want.Spec) {
		updated := superSvc.DeepCopy()
		updated.Labels, updated.Annotations, updated.Spec = want.Labels, want.Annotations, want.Spec
		if _, err := superServices.Update(ctx, updated, metav1.UpdateOptions{}); apierrors.IsInvalid(err) {
			// A change the super cluster cannot make in place (such as to or from
			// ExternalName): create the copy again.
			return s.deleteSuperService(ctx, superSvc)
		} else if err != nil {
			return ignoreGone(err)
		}
	}
	return s.syncServiceUp(ctx, sess, tenantSvc, superSvc)
}

// replaceOrphanService deletes a super Service left from an earlier tenant Service of the
// same name, after checking the tenant API itself: when the syncer gave a tenant Service
// its super copy's IP, the copy already carries the new UID while the cache may not.
func (s *Syncer) replaceOrphanService(ctx context.Context, sess *session, tenantSvc, superSvc *corev1.Service) error {
	live, err := sess.client.CoreV1().Services(tenantSvc.Namespace).Get(ctx, tenantSvc.Name, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if live != nil && string(live.UID) == superSvc.Annotations[naming.AnnotationUID] {
		return nil // the cache lags; its update event brings this key back
	}
	if err := s.deleteSuperService(ctx, superSvc); err != nil {
		return err
	}
	return fmt.Errorf("replaced orphan super Service %s/%s", superSvc.Namespace, superSvc.Name)
}

func (s *Syncer) deleteSuperService(ctx context.Context, superSvc *corev1.Service) error {
	err := s.superClient.CoreV1().Services(superSvc.Namespace).Delete(ctx, superSvc.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &superSvc.UID}})
	return ignoreGone(err)
}

// syncServiceUp gives the tenant Service its super copy's cluster IPs (and node ports)
// and load-balancer status.
func (s *Syncer) syncServiceUp(ctx context.Context, sess *session, tenantSvc, superSvc *corev1.Service) error {
	if tenantSvc.Spec.Type != corev1.ServiceTypeExternalName && superSvc.Spec.ClusterIP != "" && tenantSvc.Spec.ClusterIP != superSvc.Spec.ClusterIP {
		return s.recreateTenantService(ctx, sess, tenantSvc, superSvc)
	}
	if apiequality.Semantic.DeepEqual(tenantSvc.Status.LoadBalancer, superSvc.Status.LoadBalancer) {
		return nil
	}
	updated := tenantSvc.DeepCopy()
	updated.Status.LoadBalancer = *superSvc.Status.LoadBalancer.DeepCopy()
	_, err := sess.client.CoreV1().Services(tenantSvc.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	return ignoreGone(err)
}

// recreateTenantService replaces a tenant Service with one carrying the super copy's
// cluster IPs: a Service's cluster IP cannot change in place. The super copy is re-stamped
// with the new UID, so it is not taken for an orphan. Should creating the replacement
// fail, the original is created again (with its own IP, just freed), so the tenant never
// loses its Service.
func (s *Syncer) recreateTenantService(ctx context.Context, sess *session, tenantSvc, superSvc *corev1.Service) error {
	tenantServices := sess.client.CoreV1().Services(tenantSvc.Namespace)
	replacement := withAllocation(tenantSvc, superSvc)
	original := withAllocation(tenantSvc, tenantSvc)
	if err := tenantServices.Delete(ctx, tenantSvc.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &tenantSvc.UID}}); err != nil {
		return ignoreGone(err)
	}
	created, err := tenantServices.Create(ctx, replacement, metav1.CreateOptions{})
	if err != nil {
		if _, restoreErr := tenantServices.Create(ctx, original, metav1.CreateOptions{}); restoreErr != nil {
			return fmt.Errorf("give tenant Service %s/%s the cluster IP %s: %w; and restoring it failed: %v", tenantSvc.Namespace, tenantSvc.Name, superSvc.Spec.ClusterIP, err, restoreErr)
		}
		return fmt.Errorf("give tenant Service %s/%s the cluster IP %s: %w", tenantSvc.Namespace, tenantSvc.Name, superSvc.Spec.ClusterIP, err)
	}
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, naming.AnnotationUID, created.UID)
	_, err = s.superClient.CoreV1().Services(superSvc.Namespace).Patch(ctx, superSvc.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	return ignoreGone(err)
}

// withAllocation is a creatable copy of tenantSvc with the cluster IPs and node ports of
// from.
func withAllocation(tenantSvc, from *corev1.Service) *corev1.Service {
	out := &corev1.Service{ObjectMeta: metav1.ObjectMeta{
		Name: tenantSvc.Name, Namespace: tenantSvc.Namespace, Labels: tenantSvc.Labels, Annotations: tenantSvc.Annotations,
		OwnerReferences: tenantSvc.OwnerReferences, Finalizers: tenantSvc.Finalizers,
	}, Spec: *tenantSvc.Spec.DeepCopy()}
	translate.KeepAllocated(out, from)
	return out
}
