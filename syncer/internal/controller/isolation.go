package controller

import (
	"context"
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"

	"github.com/vcp-dev/vcp/syncer/internal/translate"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// superNamespaceLabels returns the labels a tenant's super namespace should have, given
// the ones it has: its identity, the isolation labels of translate.NamespaceLabels
// (stale reach labels removed) and, when tenantNS is known, the tenant namespace's labels
// mirrored for the tenant's network policies (translate.MirroredNamespaceLabels). Labels
// others set are kept.
func superNamespaceLabels(have map[string]string, id naming.Identity, iso translate.Isolation, tenantNS *corev1.Namespace) map[string]string {
	out := maps.Clone(have)
	if out == nil {
		out = map[string]string{}
	}
	maps.DeleteFunc(out, func(k, _ string) bool {
		return strings.HasPrefix(k, translate.ReachLabelPrefix+"/") || k == "pod-security.kubernetes.io/enforce" ||
			(tenantNS != nil && translate.IsMirroredNamespaceLabel(k))
	})
	if tenantNS != nil {
		maps.Copy(out, translate.MirroredNamespaceLabels(tenantNS.Labels))
	}
	maps.Copy(out, translate.NamespaceLabels(iso))
	ns := &metav1.ObjectMeta{Labels: out}
	naming.Stamp(ns, id)
	return ns.Labels
}

// ensureNamespaceIsolation makes a tenant's super namespace carry its isolation: labels,
// the VPC's NetworkPolicies (translate.VPCPolicies), ResourceQuota and LimitRange of the tenant's spec. Objects the
// spec no longer asks for are deleted; edits made by hand are undone.
func (s *Syncer) ensureNamespaceIsolation(ctx context.Context, sess *session, superNS *corev1.Namespace) error {
	iso := sess.currentIsolation()
	id, _ := naming.IdentityOf(superNS)
	tenantNS, err := sess.nss.Get(id.Name)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if tenantNS != nil {
		// A tenant namespace deleted and made again while the syncer was away keeps its
		// super namespace (whose objects are compared one by one), under the new UID.
		id.UID = string(tenantNS.UID)
	}
	if labels := superNamespaceLabels(superNS.Labels, id, iso, tenantNS); !maps.Equal(labels, superNS.Labels) || superNS.Annotations[naming.AnnotationUID] != id.UID {
		updated := superNS.DeepCopy()
		updated.Labels = labels
		naming.Stamp(updated, id)
		if _, err := s.superClient.CoreV1().Namespaces().Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
			return ignoreGone(err)
		}
	}
	ns := superNS.Name
	core := s.superClient.CoreV1()
	vpc := translate.VPCPolicies(sess.key, ns, s.PlatformNamespace, iso)
	for _, name := range translate.VPCPolicyNames {
		netpol, err := s.superNetworkPolicies.NetworkPolicies(ns).Get(name)
		if err := ensureIsolationObject(ctx, s.superClient.NetworkingV1().NetworkPolicies(ns), netpol, err, vpc[name],
			specUpdate(func(o *networkingv1.NetworkPolicy) *networkingv1.NetworkPolicySpec { return &o.Spec })); err != nil {
			return err
		}
	}
	quota, err := s.superQuotas.ResourceQuotas(ns).Get(translate.QuotaName)
	if err := ensureIsolationObject(ctx, core.ResourceQuotas(ns), quota, err, translate.Quota(sess.key, ns, iso),
		specUpdate(func(o *corev1.ResourceQuota) *corev1.ResourceQuotaSpec { return &o.Spec })); err != nil {
		return err
	}
	limits, err := s.superLimitRanges.LimitRanges(ns).Get(translate.LimitRangeName)
	return ensureIsolationObject(ctx, core.LimitRanges(ns), limits, err, translate.Limits(sess.key, ns, iso),
		specUpdate(func(o *corev1.LimitRange) *corev1.LimitRangeSpec { return &o.Spec }))
}

// ensureIsolationObject creates, updates or deletes one platform object of a super
// namespace: have (with getErr from the cache) is what exists, want what should (nil:
// nothing); update returns have changed to want, or nil when it matches.
func ensureIsolationObject[P interface {
	*T
	metav1.Object
}, T any](ctx context.Context, writer superWriter[P], have P, getErr error, want P, update func(have, want P) P) error {
	if getErr != nil && !apierrors.IsNotFound(getErr) {
		return getErr
	}
	found := getErr == nil
	switch {
	case want == nil && found:
		uid := have.GetUID()
		return ignoreGone(writer.Delete(ctx, have.GetName(), metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}))
	case want == nil:
		return nil
	case !found:
		_, err := writer.Create(ctx, want, metav1.CreateOptions{})
		return ignoreExists(err)
	}
	updated := update(have, want)
	if updated == nil && maps.Equal(have.GetLabels(), want.GetLabels()) {
		return nil
	}
	if updated == nil {
		updated = have
	}
	updated.SetLabels(want.GetLabels())
	_, err := writer.Update(ctx, updated, metav1.UpdateOptions{})
	return ignoreGone(err)
}

// specUpdate is the update function of ensureIsolationObject for objects whose content is
// their spec: nil when have's spec is want's, else a copy of have with want's spec.
func specUpdate[P interface {
	*T
	DeepCopyObject() runtime.Object
}, T any, S any](spec func(P) *S) func(have, want P) P {
	return func(have, want P) P {
		if apiequality.Semantic.DeepEqual(*spec(have), *spec(want)) {
			return nil
		}
		updated := have.DeepCopyObject().(P)
		*spec(updated) = *spec(want)
		return updated
	}
}

// enqueueIsolation queues the tenant namespace of the super namespace a platform object
// (VPC policy, quota, limit range) is in: a change made to it by hand is undone.
func (s *Syncer) enqueueIsolation(obj any) {
	if tenant, ns, _, ok := s.inTenantNamespace(obj); ok {
		s.queue.Add(tenant, Key{Kind: KindNamespace, Name: ns})
	}
}

// inTenantNamespace returns, for a super object in one of a tenant's super namespaces,
// the tenant, the tenant namespace and the object's name.
func (s *Syncer) inTenantNamespace(obj any) (tenant, ns, name string, ok bool) {
	if tomb, isTomb := obj.(cache.DeletedFinalStateUnknown); isTomb {
		obj = tomb.Obj
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return "", "", "", false
	}
	superNS, err := s.superNSs.Get(m.GetNamespace())
	if err != nil {
		return "", "", "", false
	}
	id, ok := naming.IdentityOf(superNS)
	return id.Tenant, id.Name, m.GetName(), ok
}
