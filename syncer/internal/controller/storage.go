package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vcp-dev/vcp/syncer/internal/translate"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// syncClaim makes the tenant PersistentVolumeClaim's super copy exist (and grow when the
// tenant asks for more), and the tenant claim bound as the super claim is: the tenant
// gets a PersistentVolume mirroring the super volume, and the claim's volumeName and
// status. Tenants run no volume controllers; the super cluster provisions and binds.
func (s *Syncer) syncClaim(ctx context.Context, sess *session, ns, name string) error {
	superNS := naming.SuperNamespace(sess.key, ns)
	tenantClaim, superClaim, err := lookupPair(sess.key, "PersistentVolumeClaim", sess.claims.PersistentVolumeClaims(ns).Get, s.superClaims.PersistentVolumeClaims(superNS).Get, name)
	if err != nil {
		return err
	}
	superClaims := s.superClient.CoreV1().PersistentVolumeClaims(superNS)
	switch {
	case tenantClaim == nil || !tenantClaim.DeletionTimestamp.IsZero():
		volume := ""
		if tenantClaim != nil {
			volume = tenantClaim.Spec.VolumeName
		}
		if volume == "" && superClaim != nil {
			volume = superClaim.Spec.VolumeName
		}
		if err := s.releaseTenantVolume(ctx, sess, volume); err != nil {
			return err
		}
		if superClaim == nil || !superClaim.DeletionTimestamp.IsZero() {
			return nil
		}
		return ignoreGone(superClaims.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &superClaim.UID}}))
	case superClaim == nil:
		if err := s.ensureSuperNamespace(ctx, sess, ns); err != nil {
			return err
		}
		_, err := superClaims.Create(ctx, translate.SuperClaim(sess.key, tenantClaim), metav1.CreateOptions{})
		return ignoreExists(err)
	case superClaim.Annotations[naming.AnnotationUID] != string(tenantClaim.UID):
		if err := ignoreGone(superClaims.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &superClaim.UID}})); err != nil {
			return err
		}
		return fmt.Errorf("replaced orphan super PersistentVolumeClaim %s/%s", superNS, name)
	}
	// Only a claim's requests may grow in place (volume expansion).
	if want := tenantClaim.Spec.Resources.Requests; !apiequality.Semantic.DeepEqual(superClaim.Spec.Resources.Requests, want) {
		updated := superClaim.DeepCopy()
		updated.Spec.Resources.Requests = want.DeepCopy()
		if _, err := superClaims.Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
			return ignoreGone(err)
		}
	}
	return s.syncClaimUp(ctx, sess, tenantClaim, superClaim)
}

// syncClaimUp binds the tenant claim as the super claim is bound.
func (s *Syncer) syncClaimUp(ctx context.Context, sess *session, tenantClaim, superClaim *corev1.PersistentVolumeClaim) error {
	tenantClaims := sess.client.CoreV1().PersistentVolumeClaims(tenantClaim.Namespace)
	if volume := superClaim.Spec.VolumeName; volume != "" && superClaim.Status.Phase == corev1.ClaimBound {
		superPV, err := s.superVolumes.Get(volume)
		if err != nil {
			return fmt.Errorf("super PersistentVolume %s: %w", volume, err)
		}
		if err := s.ensureTenantVolume(ctx, sess, superPV, tenantClaim); err != nil {
			return err
		}
		if tenantClaim.Spec.VolumeName == "" {
			updated := tenantClaim.DeepCopy()
			updated.Spec.VolumeName = volume
			got, err := tenantClaims.Update(ctx, updated, metav1.UpdateOptions{})
			if err != nil {
				return ignoreGone(err)
			}
			tenantClaim = got
		}
	}
	if apiequality.Semantic.DeepEqual(tenantClaim.Status, superClaim.Status) {
		return nil
	}
	updated := tenantClaim.DeepCopy()
	updated.Status = *superClaim.Status.DeepCopy()
	_, err := tenantClaims.UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	return ignoreGone(err)
}

// ensureTenantVolume gives the tenant a PersistentVolume mirroring the super one, bound
// to the tenant claim.
func (s *Syncer) ensureTenantVolume(ctx context.Context, sess *session, superPV *corev1.PersistentVolume, tenantClaim *corev1.PersistentVolumeClaim) error {
	volumes := sess.client.CoreV1().PersistentVolumes()
	existing, err := volumes.Get(ctx, superPV.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		created, err := volumes.Create(ctx, translate.TenantVolume(superPV, tenantClaim), metav1.CreateOptions{})
		if err != nil {
			return ignoreExists(err)
		}
		existing = created
	case err != nil:
		return err
	}
	if existing.Status.Phase == superPV.Status.Phase {
		return nil
	}
	existing.Status = *superPV.Status.DeepCopy()
	_, err = volumes.UpdateStatus(ctx, existing, metav1.UpdateOptions{})
	return ignoreGone(err)
}

// releaseTenantVolume deletes the tenant's mirror of the volume a deleted claim was bound
// to (the super cluster decides what happens to the volume itself).
func (s *Syncer) releaseTenantVolume(ctx context.Context, sess *session, volume string) error {
	if volume == "" {
		return nil
	}
	volumes := sess.client.CoreV1().PersistentVolumes()
	pv, err := volumes.Get(ctx, volume, metav1.GetOptions{})
	if err != nil {
		return ignoreGone(err)
	}
	if pv.Annotations[AnnotationMirrored] != "true" {
		return nil
	}
	if len(pv.Finalizers) > 0 {
		// pv-protection: tenants run no controller to lift it, and the mirror protects nothing.
		pv.Finalizers = nil
		if pv, err = volumes.Update(ctx, pv, metav1.UpdateOptions{}); err != nil {
			return ignoreGone(err)
		}
	}
	return ignoreGone(volumes.Delete(ctx, pv.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pv.UID}}))
}
