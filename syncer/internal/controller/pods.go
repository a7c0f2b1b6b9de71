package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vcp-dev/vcp/syncer/internal/translate"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// syncNamespace makes the tenant namespace's super namespace exist while the tenant
// namespace does, and deletes it after.
func (s *Syncer) syncNamespace(ctx context.Context, sess *session, name string) error {
	tenantNS, err := sess.nss.Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	superName := naming.SuperNamespace(sess.key, name)
	superNS, err := s.superNSs.Get(superName)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if tenantNS == nil || !tenantNS.DeletionTimestamp.IsZero() {
		if superNS != nil && naming.Owns(sess.key, superNS) && superNS.DeletionTimestamp.IsZero() {
			return s.superClient.CoreV1().Namespaces().Delete(ctx, superName, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &superNS.UID}})
		}
		return nil
	}
	if superNS == nil {
		if superNS, err = s.createSuperNamespace(ctx, sess, tenantNS); err != nil {
			return err
		}
	}
	if !naming.Owns(sess.key, superNS) || !superNS.DeletionTimestamp.IsZero() {
		return nil
	}
	return s.ensureNamespaceIsolation(ctx, sess, superNS)
}

// createSuperNamespace creates the super namespace of a tenant namespace (or finds it
// already there), stamped and labelled for the tenant's isolation.
func (s *Syncer) createSuperNamespace(ctx context.Context, sess *session, tenantNS *corev1.Namespace) (*corev1.Namespace, error) {
	tenantKey := sess.key
	id := naming.Identity{Tenant: tenantKey, Name: tenantNS.Name, UID: string(tenantNS.UID)}
	superNS := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: naming.SuperNamespace(tenantKey, tenantNS.Name), Labels: superNamespaceLabels(nil, id, sess.currentIsolation(), tenantNS)}}
	naming.Stamp(superNS, id)
	created, err := s.superClient.CoreV1().Namespaces().Create(ctx, superNS, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		// Either the cache lags (it is ours) or a namespace the tenant does not own has the
		// name: look, and never write into another's.
		existing, getErr := s.superClient.CoreV1().Namespaces().Get(ctx, superNS.Name, metav1.GetOptions{})
		if getErr != nil {
			return nil, getErr
		}
		if !naming.Owns(tenantKey, existing) {
			return nil, fmt.Errorf("super namespace %s exists and does not belong to tenant %s: refusing to use it", superNS.Name, tenantKey)
		}
		return existing, nil
	}
	return created, err
}

// syncPod makes the tenant pod's super pod match it (create, replace an orphan, delete),
// and the tenant pod's node and status match the super pod's.
func (s *Syncer) syncPod(ctx context.Context, sess *session, ns, name string) error {
	superNS := naming.SuperNamespace(sess.key, ns)
	tenantPod, superPod, err := lookupPair(sess.key, "pod", sess.pods.Pods(ns).Get, s.superPods.Pods(superNS).Get, name)
	if err != nil {
		return err
	}
	if tenantPod == nil || !tenantPod.DeletionTimestamp.IsZero() {
		s.newPods.forget(sess.key + "/" + ns + "/" + name)
		s.runningPods.forget(sess.key + "/" + ns + "/" + name)
	}
	switch {
	case tenantPod == nil:
		return s.deleteSuperPod(ctx, superPod)
	case !tenantPod.DeletionTimestamp.IsZero():
		if superPod != nil {
			return s.deleteSuperPod(ctx, superPod)
		}
		// The super pod is gone: finish the deletion, as a kubelet does once its containers stopped.
		err := sess.client.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: new(int64), Preconditions: &metav1.Preconditions{UID: &tenantPod.UID}})
		return ignoreGone(err)
	case superPod != nil && superPod.Annotations[naming.AnnotationUID] != string(tenantPod.UID):
		// Left from an earlier tenant pod of the same name.
		if err := s.deleteSuperPod(ctx, superPod); err != nil {
			return err
		}
		return fmt.Errorf("replaced orphan super pod %s/%s", superNS, name)
	case superPod == nil:
		return s.createSuperPod(ctx, sess, tenantPod)
	}
	if err := s.syncSuperPodLabels(ctx, sess, tenantPod, superPod); err != nil {
		return err
	}
	return s.syncPodUp(ctx, sess, tenantPod, superPod)
}

// syncSuperPodLabels makes the super pod's labels translate.SuperPodLabels: the tenant
// pod's (which may change), its identity and the markers of the tenant's NetworkPolicies
// that select it. Only the labels are patched (the cached super pod has no spec to
// update with), at the cached resourceVersion: a super pod changed meanwhile comes back
// through its informer.
func (s *Syncer) syncSuperPodLabels(ctx context.Context, sess *session, tenantPod, superPod *corev1.Pod) error {
	policies, err := sess.netpols.NetworkPolicies(tenantPod.Namespace).List(labels.Everything())
	if err != nil {
		return err
	}
	want := translate.SuperPodLabels(sess.key, tenantPod, policies)
	if maps.Equal(superPod.Labels, want) {
		return nil
	}
	patch, err := labelsPatch(superPod.Labels, want, superPod.ResourceVersion)
	if err != nil {
		return err
	}
	_, err = s.superClient.CoreV1().Pods(superPod.Namespace).Patch(ctx, superPod.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	return ignoreGone(err)
}

// labelsPatch is the JSON merge patch that turns labels have into want, at
// resourceVersion (a conflict when the object changed since).
func labelsPatch(have, want map[string]string, resourceVersion string) ([]byte, error) {
	changes := map[string]*string{}
	for k := range have {
		if _, ok := want[k]; !ok {
			changes[k] = nil
		}
	}
	for k, v := range want {
		if old, ok := have[k]; !ok || old != v {
			changes[k] = &v
		}
	}
	return json.Marshal(map[string]any{"metadata": map[string]any{"resourceVersion": resourceVersion, "labels": changes}})
}

func (s *Syncer) createSuperPod(ctx context.Context, sess *session, tenantPod *corev1.Pod) error {
	if err := s.ensureSuperNamespace(ctx, sess, tenantPod.Namespace); err != nil {
		return err
	}
	// What the super pod mounts in place of the tenant's token and CA is there first.
	if sa, ok := translate.TokenServiceAccount(tenantPod); ok {
		ns := tenantPod.Namespace
		if err := sess.ensureOnce(Key{Kind: KindServiceAccount, Namespace: ns, Name: sa}, func() error {
			return s.syncServiceAccountToken(ctx, sess, ns, sa)
		}); err != nil {
			return err
		}
		if err := sess.ensureOnce(Key{Kind: KindConfigMap, Namespace: ns, Name: rootCAConfigMap}, func() error {
			return s.syncConfigMap(ctx, sess, ns, rootCAConfigMap)
		}); err != nil {
			return err
		}
	}
	policies, err := sess.netpols.NetworkPolicies(tenantPod.Namespace).List(labels.Everything())
	if err != nil {
		return err
	}
	if slimPod(tenantPod) {
		// A bound pod whose super pod went (deleted by hand, or by a node's end): the
		// cache has no spec to make its new super pod from.
		full, err := sess.client.CoreV1().Pods(tenantPod.Namespace).Get(ctx, tenantPod.Name, metav1.GetOptions{})
		if err != nil {
			return ignoreGone(err)
		}
		if full.UID != tenantPod.UID {
			return fmt.Errorf("tenant pod %s/%s was re-created; waiting for the cache", tenantPod.Namespace, tenantPod.Name)
		}
		tenantPod = full
	}
	if err := ephemeralClaimsReady(tenantPod, sess.claims.PersistentVolumeClaims(tenantPod.Namespace).Get); err != nil {
		return err
	}
	iso := sess.currentIsolation()
	iso.DNS = s.tenantDNS(sess)
	iso.ClusterDomain = s.ClusterDomain
	superPod := translate.SuperPod(sess.key, tenantPod, iso, policies)
	call := time.Now()
	_, err = s.superClient.CoreV1().Pods(superPod.Namespace).Create(ctx, superPod, metav1.CreateOptions{})
	superPodCreateCall.Observe(time.Since(call).Seconds())
	if apierrors.IsAlreadyExists(err) {
		return nil // the super informer will bring it
	}
	if err == nil {
		s.newPods.done(podKey(sess.key, tenantPod), podCreateLatency)
	}
	return err
}

// ephemeralClaimsReady tells whether every generic ephemeral volume of the tenant pod has
// its claim, <pod>-<volume>, made for the pod (controlled by it) by the tenant's ephemeral
// volume controller: the super pod mounts that claim's super copy, and, as the kubelet and
// scheduler do upstream, a claim of that name made otherwise is never used (it holds
// someone else's data). An error holds the super pod back (the key is retried); a claim
// made for another pod is reported by the tenant's controller as an event on the pod.
func ephemeralClaimsReady(pod *corev1.Pod, getClaim func(name string) (*corev1.PersistentVolumeClaim, error)) error {
	for _, v := range pod.Spec.Volumes {
		if v.Ephemeral == nil {
			continue
		}
		name := translate.EphemeralClaimName(pod.Name, v.Name)
		claim, err := getClaim(name)
		switch {
		case apierrors.IsNotFound(err):
			return fmt.Errorf("tenant pod %s/%s: waiting for claim %s of its ephemeral volume %s", pod.Namespace, pod.Name, name, v.Name)
		case err != nil:
			return err
		case !metav1.IsControlledBy(claim, pod):
			return fmt.Errorf("tenant pod %s/%s: claim %s was not made for the pod, so its ephemeral volume %s cannot use it", pod.Namespace, pod.Name, name, v.Name)
		}
	}
	return nil
}

// tenantDNS is the tenant's own DNS server, if it has one: the cluster IPs of the super
// copy of its kube-system/kube-dns Service (the IPs the super cluster routes; the tenant's
// copy is given the same). A pod made before that copy exists keeps the super cluster's
// DNS, as pod specs cannot change.
func (s *Syncer) tenantDNS(sess *session) translate.TenantDNS {
	svc, err := s.superServices.Services(naming.SuperNamespace(sess.key, translate.TenantDNSNamespace)).Get(translate.TenantDNSService)
	if err != nil || !naming.Owns(sess.key, svc) || !svc.DeletionTimestamp.IsZero() ||
		svc.Spec.Type != corev1.ServiceTypeClusterIP || svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
		return translate.TenantDNS{}
	}
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 {
		ips = []string{svc.Spec.ClusterIP}
	}
	return translate.TenantDNS{Nameservers: ips}
}

// syncPodUp binds the tenant pod to the node the super cluster chose and copies the
// super pod's status to it.
func (s *Syncer) syncPodUp(ctx context.Context, sess *session, tenantPod, superPod *corev1.Pod) error {
	if node := superPod.Spec.NodeName; node != "" {
		if err := s.ensureVirtualNode(ctx, sess, node); err != nil {
			return err
		}
	}
	bound := tenantPod.Spec.NodeName != ""
	if node := superPod.Spec.NodeName; node != "" && !bound {
		binding := &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: tenantPod.Name, UID: tenantPod.UID}, Target: corev1.ObjectReference{Kind: "Node", Name: node}}
		if err := sess.client.CoreV1().Pods(tenantPod.Namespace).Bind(ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsConflict(err) {
			return fmt.Errorf("bind tenant pod %s/%s to %s: %w", tenantPod.Namespace, tenantPod.Name, node, err)
		}
		bound = true
	}
	if !statusWorthWriting(tenantPod, superPod, bound) {
		return nil
	}
	updated := statusUpdate(tenantPod, superPod)
	_, err := sess.client.CoreV1().Pods(tenantPod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		staleStatusWrites.WithLabelValues(sess.key).Inc()
	}
	if err == nil && updated.Status.Phase == corev1.PodRunning {
		s.runningPods.done(podKey(sess.key, tenantPod), podRunningLatency)
	}
	return ignoreGone(err)
}

// statusUpdate is the tenant pod carrying the super pod's status, for an unconditional
// UpdateStatus.
//
// The syncer writes a tenant pod twice in a row on its way to Running (the binding,
// then the status) and the tenant cache lags its own writes: a write at the cached
// resourceVersion was refused for 199 of 200 pods of make bench-deliver, and the status
// reached the tenant only a watch event and another sync later (seconds on a busy host).
// No resourceVersion is needed: the syncer is the only writer of a tenant pod's status,
// one worker at a time per pod, always from the newest super pod it has seen; the status
// subresource changes nothing but the status; and the UID still refuses a pod re-created
// under the same name.
func statusUpdate(tenantPod, superPod *corev1.Pod) *corev1.Pod {
	updated := tenantPod.DeepCopy()
	updated.Status = *superPod.Status.DeepCopy()
	updated.ResourceVersion = ""
	return updated
}

// statusWorthWriting reports whether the super pod's status says something the tenant
// pod's does not. A super pod that was just scheduled says nothing more than the binding
// already told the tenant (binding sets PodScheduled): skipping that write saves a third
// of the syncer's writes into tenants on the way to Running.
func statusWorthWriting(tenantPod, superPod *corev1.Pod, bound bool) bool {
	if tenantStatusCurrent(tenantPod, superPod) {
		return false
	}
	st := superPod.Status
	justScheduled := st.Phase == corev1.PodPending && tenantPod.Status.Phase == corev1.PodPending &&
		bound && len(st.ContainerStatuses) == 0 && len(st.InitContainerStatuses) == 0 && st.PodIP == "" &&
		len(st.Conditions) == 1 && st.Conditions[0].Type == corev1.PodScheduled && st.Conditions[0].Status == corev1.ConditionTrue
	return !justScheduled
}

func podKey(tenantKey string, pod *corev1.Pod) string {
	return tenantKey + "/" + pod.Namespace + "/" + pod.Name
}

func (s *Syncer) deleteSuperPod(ctx context.Context, superPod *corev1.Pod) error {
	if superPod == nil || !superPod.DeletionTimestamp.IsZero() {
		return nil
	}
	err := s.superClient.CoreV1().Pods(superPod.Namespace).Delete(ctx, superPod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &superPod.UID}})
	return ignoreGone(err)
}

func ignoreGone(err error) error {
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}
