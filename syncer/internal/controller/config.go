package controller

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vcp-dev/vcp/syncer/naming"
)

// rootCAConfigMap is published in every namespace by each cluster's own root CA
// publisher; the tenant's is not synced over the super cluster's.
const rootCAConfigMap = "kube-root-ca.crt"

// syncConfigMap makes the tenant ConfigMap's super copy exist with the same data while
// the tenant's does, and deletes it after. An edit of the super copy is undone.
func (s *Syncer) syncConfigMap(ctx context.Context, sess *session, ns, name string) error {
	if name == rootCAConfigMap {
		return nil
	}
	tenantCM, err := sess.configMaps.ConfigMaps(ns).Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	superNS := naming.SuperNamespace(sess.key, ns)
	superCM, err := s.superConfigMaps.ConfigMaps(superNS).Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if superCM != nil && !naming.Owns(sess.key, superCM) {
		return fmt.Errorf("super ConfigMap %s/%s belongs to another tenant: refusing to touch it", superNS, name)
	}
	cms := s.superClient.CoreV1().ConfigMaps(superNS)
	if tenantCM == nil || !tenantCM.DeletionTimestamp.IsZero() {
		if superCM == nil {
			return nil
		}
		return ignoreGone(cms.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &superCM.UID}}))
	}
	want := &corev1.ConfigMap{
		ObjectMeta: superMeta(sess.key, superNS, &tenantCM.ObjectMeta),
		Data:       tenantCM.Data, BinaryData: tenantCM.BinaryData, Immutable: tenantCM.Immutable,
	}
	switch {
	case superCM == nil:
		if err := s.ensureSuperNamespace(ctx, sess, ns); err != nil {
			return err
		}
		_, err := cms.Create(ctx, want, metav1.CreateOptions{})
		return ignoreExists(err)
	case superCM.Annotations[naming.AnnotationUID] != string(tenantCM.UID) || immutableChanged(superCM.Immutable, want.Data, superCM.Data, want.BinaryData, superCM.BinaryData):
		// An orphan of an earlier ConfigMap, or an immutable one that changed: replace it.
		if err := ignoreGone(cms.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &superCM.UID}})); err != nil {
			return err
		}
		return fmt.Errorf("replaced super ConfigMap %s/%s", superNS, name)
	case !sameMeta(superCM.ObjectMeta, want.ObjectMeta) || !apiequality.Semantic.DeepEqual(superCM.Data, want.Data) || !apiequality.Semantic.DeepEqual(superCM.BinaryData, want.BinaryData):
		updated := superCM.DeepCopy()
		updated.Labels, updated.Annotations, updated.Data, updated.BinaryData = want.Labels, want.Annotations, want.Data, want.BinaryData
		_, err := cms.Update(ctx, updated, metav1.UpdateOptions{})
		return ignoreGone(err)
	}
	return nil
}

// syncSecret is syncConfigMap for Secrets. Service-account token Secrets are the
// tenant's own credentials for its API and are not copied.
func (s *Syncer) syncSecret(ctx context.Context, sess *session, ns, name string) error {
	tenantSecret, err := sess.secrets.Secrets(ns).Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if tenantSecret != nil && tenantSecret.Type == corev1.SecretTypeServiceAccountToken {
		return nil
	}
	superNS := naming.SuperNamespace(sess.key, ns)
	superSecret, err := s.superSecrets.Secrets(superNS).Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if superSecret != nil && !naming.Owns(sess.key, superSecret) {
		return fmt.Errorf("super Secret %s/%s belongs to another tenant: refusing to touch it", superNS, name)
	}
	secrets := s.superClient.CoreV1().Secrets(superNS)
	if tenantSecret == nil || !tenantSecret.DeletionTimestamp.IsZero() {
		if superSecret == nil {
			return nil
		}
		return ignoreGone(secrets.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &superSecret.UID}}))
	}
	want := &corev1.Secret{
		ObjectMeta: superMeta(sess.key, superNS, &tenantSecret.ObjectMeta),
		Type:       tenantSecret.Type, Data: tenantSecret.Data, Immutable: tenantSecret.Immutable,
	}
	switch {
	case superSecret == nil:
		if err := s.ensureSuperNamespace(ctx, sess, ns); err != nil {
			return err
		}
		_, err := secrets.Create(ctx, want, metav1.CreateOptions{})
		return ignoreExists(err)
	case superSecret.Annotations[naming.AnnotationUID] != string(tenantSecret.UID) || superSecret.Type != want.Type ||
		immutableChanged(superSecret.Immutable, want.Data, superSecret.Data, nil, nil):
		if err := ignoreGone(secrets.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &superSecret.UID}})); err != nil {
			return err
		}
		return fmt.Errorf("replaced super Secret %s/%s", superNS, name)
	case !sameMeta(superSecret.ObjectMeta, want.ObjectMeta) || !apiequality.Semantic.DeepEqual(superSecret.Data, want.Data):
		updated := superSecret.DeepCopy()
		updated.Labels, updated.Annotations, updated.Data = want.Labels, want.Annotations, want.Data
		_, err := secrets.Update(ctx, updated, metav1.UpdateOptions{})
		return ignoreGone(err)
	}
	return nil
}

// superMeta is the metadata of a super copy of a namespaced tenant object: same name in
// the super namespace, the tenant's labels and annotations, and its identity.
func superMeta(tenantKey, superNS string, tenant *metav1.ObjectMeta) metav1.ObjectMeta {
	m := metav1.ObjectMeta{Name: tenant.Name, Namespace: superNS, Labels: maps.Clone(tenant.Labels), Annotations: maps.Clone(tenant.Annotations)}
	naming.Stamp(&m, naming.Identity{Tenant: tenantKey, Namespace: tenant.Namespace, Name: tenant.Name, UID: string(tenant.UID)})
	return m
}

func sameMeta(got, want metav1.ObjectMeta) bool {
	return maps.Equal(got.Labels, want.Labels) && maps.Equal(got.Annotations, want.Annotations)
}

// immutableChanged reports whether an immutable super copy holds other data than wanted:
// it can only be replaced.
func immutableChanged(immutable *bool, want, got, wantBin, gotBin any) bool {
	if immutable == nil || !*immutable {
		return false
	}
	return !apiequality.Semantic.DeepEqual(want, got) || !apiequality.Semantic.DeepEqual(wantBin, gotBin)
}

func (s *Syncer) ensureSuperNamespace(ctx context.Context, sess *session, ns string) error {
	if _, err := s.superNSs.Get(naming.SuperNamespace(sess.key, ns)); !apierrors.IsNotFound(err) {
		return err
	}
	tenantNS, err := sess.nss.Get(ns)
	if err != nil {
		return err
	}
	return s.createSuperNamespace(ctx, sess.key, tenantNS)
}

func ignoreExists(err error) error {
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}
