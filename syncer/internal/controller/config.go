package controller

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/vcp-dev/vcp/syncer/internal/translate"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// rootCAConfigMap is published in every namespace by each cluster's own root CA
// publisher. The tenant's is copied down as translate.RootCAConfigMap (super pods'
// references to it are rewritten), never over the super cluster's.
const rootCAConfigMap = "kube-root-ca.crt"

// syncConfigMap copies a tenant ConfigMap down.
func (s *Syncer) syncConfigMap(ctx context.Context, sess *session, ns, name string) error {
	return syncCopy(ctx, s, sess, copied[*corev1.ConfigMap]{
		kind:      "ConfigMap",
		tenantGet: func(ns, name string) (*corev1.ConfigMap, error) { return sess.configMaps.ConfigMaps(ns).Get(name) },
		superGet:  func(ns, name string) (*corev1.ConfigMap, error) { return s.superConfigMaps.ConfigMaps(ns).Get(name) },
		writer:    func(ns string) superWriter[*corev1.ConfigMap] { return s.superClient.CoreV1().ConfigMaps(ns) },
		reserved:  func(name string) bool { return name == translate.RootCAConfigMap },
		superName: translate.SuperConfigMapName,
		want: func(cm *corev1.ConfigMap) *corev1.ConfigMap {
			meta := translate.SuperMeta(sess.key, &cm.ObjectMeta)
			meta.Name = translate.SuperConfigMapName(cm.Name)
			return &corev1.ConfigMap{ObjectMeta: meta, Data: cm.Data, BinaryData: cm.BinaryData, Immutable: cm.Immutable}
		},
		replace: func(superCM, want *corev1.ConfigMap) bool {
			return isTrue(superCM.Immutable) && !sameConfigMapData(superCM, want)
		},
		same: sameConfigMapData,
		update: func(superCM, want *corev1.ConfigMap) *corev1.ConfigMap {
			updated := superCM.DeepCopy()
			updated.Data, updated.BinaryData = want.Data, want.BinaryData
			return updated
		},
	}, ns, name)
}

func sameConfigMapData(a, b *corev1.ConfigMap) bool {
	return apiequality.Semantic.DeepEqual(a.Data, b.Data) && apiequality.Semantic.DeepEqual(a.BinaryData, b.BinaryData)
}

// syncSecret copies a tenant Secret down. Service-account token Secrets are the tenant's
// own credentials for its API and are not copied (pods get tokens from the Secrets
// syncServiceAccountToken keeps, whose names are reserved).
func (s *Syncer) syncSecret(ctx context.Context, sess *session, ns, name string) error {
	return syncCopy(ctx, s, sess, copied[*corev1.Secret]{
		kind:      "Secret",
		tenantGet: func(ns, name string) (*corev1.Secret, error) { return sess.secrets.Secrets(ns).Get(name) },
		superGet:  func(ns, name string) (*corev1.Secret, error) { return s.superSecrets.Secrets(ns).Get(name) },
		writer:    func(ns string) superWriter[*corev1.Secret] { return s.superClient.CoreV1().Secrets(ns) },
		skip:      func(secret *corev1.Secret) bool { return secret.Type == corev1.SecretTypeServiceAccountToken },
		reserved:  func(name string) bool { return strings.HasPrefix(name, translate.TokenSecretPrefix) },
		want: func(secret *corev1.Secret) *corev1.Secret {
			return &corev1.Secret{ObjectMeta: translate.SuperMeta(sess.key, &secret.ObjectMeta), Type: secret.Type, Data: secret.Data, Immutable: secret.Immutable}
		},
		// The type of a Secret cannot change either.
		replace: func(superSecret, want *corev1.Secret) bool {
			return superSecret.Type != want.Type || (isTrue(superSecret.Immutable) && !apiequality.Semantic.DeepEqual(superSecret.Data, want.Data))
		},
		same: func(superSecret, want *corev1.Secret) bool {
			return apiequality.Semantic.DeepEqual(superSecret.Data, want.Data)
		},
		update: func(superSecret, want *corev1.Secret) *corev1.Secret {
			updated := superSecret.DeepCopy()
			updated.Data = want.Data
			return updated
		},
	}, ns, name)
}

// syncEndpoints copies down the Endpoints of a tenant Service without a selector, which
// the tenant keeps by hand. The super cluster mirrors them into EndpointSlices. For a
// Service with a selector each cluster's endpoints controller keeps its own, from the
// same pods (tenant pods carry their super pods' IPs), and the syncer leaves both alone.
func (s *Syncer) syncEndpoints(ctx context.Context, sess *session, ns, name string) error {
	return syncCopy(ctx, s, sess, copied[*corev1.Endpoints]{
		kind:      "Endpoints",
		tenantGet: func(ns, name string) (*corev1.Endpoints, error) { return sess.endpoints.Endpoints(ns).Get(name) },
		// A copy made while the Service had no selector goes once it has one.
		skip: func(eps *corev1.Endpoints) bool { return !sess.endpointsCopied(eps.Namespace, eps.Name) },
		superGet: func(ns, name string) (*corev1.Endpoints, error) {
			superEps, err := s.superEndpoints.Endpoints(ns).Get(name)
			if err == nil && superEps.Annotations[naming.AnnotationUID] == "" {
				// The super endpoints controller's, for a Service that had a selector: the
				// controller removes them itself.
				return nil, apierrors.NewNotFound(corev1.Resource("endpoints"), name)
			}
			return superEps, err
		},
		writer: func(ns string) superWriter[*corev1.Endpoints] { return s.superClient.CoreV1().Endpoints(ns) },
		want:   func(eps *corev1.Endpoints) *corev1.Endpoints { return translate.SuperEndpoints(sess.key, eps) },
		same: func(superEps, want *corev1.Endpoints) bool {
			return apiequality.Semantic.DeepEqual(superEps.Subsets, want.Subsets)
		},
		update: func(superEps, want *corev1.Endpoints) *corev1.Endpoints {
			updated := superEps.DeepCopy()
			updated.Subsets = want.Subsets
			return updated
		},
	}, ns, name)
}

// syncEndpointSlice copies down a tenant EndpointSlice that the tenant keeps (by hand or
// with its own controllers), for Services with or without a selector, as kube-proxy uses
// any slice labelled with a Service's name. The slices of the cluster's endpoint
// controllers are left alone: each cluster's own make them (translate.EndpointSliceCopied).
func (s *Syncer) syncEndpointSlice(ctx context.Context, sess *session, ns, name string) error {
	return syncCopy(ctx, s, sess, copied[*discoveryv1.EndpointSlice]{
		kind: "EndpointSlice",
		tenantGet: func(ns, name string) (*discoveryv1.EndpointSlice, error) {
			return sess.slices.EndpointSlices(ns).Get(name)
		},
		superGet: func(ns, name string) (*discoveryv1.EndpointSlice, error) {
			return s.superSlices.EndpointSlices(ns).Get(name)
		},
		writer: func(ns string) superWriter[*discoveryv1.EndpointSlice] {
			return s.superClient.DiscoveryV1().EndpointSlices(ns)
		},
		skip: func(slice *discoveryv1.EndpointSlice) bool { return !translate.EndpointSliceCopied(slice) },
		want: func(slice *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
			return translate.SuperEndpointSlice(sess.key, slice)
		},
		// The address type of a slice cannot change.
		replace: func(superSlice, want *discoveryv1.EndpointSlice) bool {
			return superSlice.AddressType != want.AddressType
		},
		same: func(superSlice, want *discoveryv1.EndpointSlice) bool {
			return apiequality.Semantic.DeepEqual(superSlice.Endpoints, want.Endpoints) && apiequality.Semantic.DeepEqual(superSlice.Ports, want.Ports)
		},
		update: func(superSlice, want *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
			updated := superSlice.DeepCopy()
			updated.Endpoints, updated.Ports = want.Endpoints, want.Ports
			return updated
		},
	}, ns, name)
}

// endpointsCopied reports whether the tenant's Endpoints ns/name are copied down: those of
// a Service without a selector (or of no Service), which the tenant keeps by hand; never
// the tenant API server's own.
func (sess *session) endpointsCopied(ns, name string) bool {
	if translate.TenantAPIService(ns, name) {
		return false
	}
	svc, err := sess.services.Services(ns).Get(name)
	return err != nil || len(svc.Spec.Selector) == 0
}

func isTrue(b *bool) bool { return b != nil && *b }

func (s *Syncer) ensureSuperNamespace(ctx context.Context, sess *session, ns string) error {
	if _, err := s.superNSs.Get(naming.SuperNamespace(sess.key, ns)); !apierrors.IsNotFound(err) {
		return err
	}
	tenantNS, err := sess.nss.Get(ns)
	if err != nil {
		return err
	}
	superNS, err := s.createSuperNamespace(ctx, sess, tenantNS)
	if err != nil {
		return err
	}
	return s.ensureNamespaceIsolation(ctx, sess, superNS)
}

func ignoreExists(err error) error {
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}
