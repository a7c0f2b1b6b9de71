package controller

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/vcp-dev/vcp/syncer/naming"
)

// recentEvents is how old an Event listed at start-up may be and still be copied: one
// from before the syncer stopped has been copied already.
const recentEvents = 2 * time.Minute

// enqueueEvent queues a super Event in one of a tenant's super namespaces for its tenant:
// what the scheduler (or a kubelet) says about a super pod is said about the tenant pod.
// Only warnings are copied (FailedScheduling, BackOff, FailedMount...): they are what a
// tenant must see, while the Normal ones (Scheduled, Pulled, Started) would add a write
// into the tenant for every pod.
func (s *Syncer) enqueueEvent(obj any, initialList bool) {
	event, ok := obj.(*corev1.Event)
	if !ok || event.Type != corev1.EventTypeWarning {
		return
	}
	if initialList && time.Since(lastSeen(event)) > recentEvents {
		return
	}
	if tenant, ns, name, ok := s.inTenantNamespace(obj); ok {
		s.queue.Add(tenant, Key{Kind: KindEvent, Namespace: ns, Name: name})
	}
}

// syncEvent copies a super Event about a super object (pod, Service) that stands for a
// tenant object into the tenant, about the tenant object. Tenant Events expire in the
// tenant as any Event does; deleting the super Event changes nothing.
func (s *Syncer) syncEvent(ctx context.Context, sess *session, ns, name string) error {
	superNS := naming.SuperNamespace(sess.key, ns)
	superEvent, err := s.superEvents.Events(superNS).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	uid, ok := s.tenantUIDOf(superNS, superEvent.InvolvedObject)
	if !ok {
		return nil // about something that stands for no tenant object
	}
	want := tenantEvent(ns, uid, superEvent)
	tenantEvents := sess.client.CoreV1().Events(ns)
	_, err = tenantEvents.Create(ctx, want, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		return ignoreGone(err)
	}
	have, err := tenantEvents.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return ignoreGone(err)
	}
	if have.Count == want.Count && have.Message == want.Message && have.LastTimestamp.Equal(&want.LastTimestamp) {
		return nil
	}
	have.Count, have.Message, have.LastTimestamp, have.Series = want.Count, want.Message, want.LastTimestamp, want.Series
	_, err = tenantEvents.Update(ctx, have, metav1.UpdateOptions{})
	return ignoreGone(err)
}

// tenantUIDOf finds the tenant UID of the super object an Event is about, from the
// object's identity (only pods and Services are looked up).
func (s *Syncer) tenantUIDOf(superNS string, ref corev1.ObjectReference) (types.UID, bool) {
	var obj metav1.Object
	switch ref.Kind {
	case "Pod":
		if pod, err := s.superPods.Pods(superNS).Get(ref.Name); err == nil {
			obj = pod
		}
	case "Service":
		if svc, err := s.superServices.Services(superNS).Get(ref.Name); err == nil {
			obj = svc
		}
	}
	if obj == nil {
		return "", false
	}
	id, ok := naming.IdentityOf(obj)
	if !ok || id.UID == "" {
		return "", false
	}
	return types.UID(id.UID), true
}

// tenantEvent is the tenant's copy of a super Event, about the tenant object with uid.
func tenantEvent(ns string, uid types.UID, superEvent *corev1.Event) *corev1.Event {
	ref := superEvent.InvolvedObject
	ref.Namespace, ref.UID, ref.ResourceVersion = ns, uid, ""
	return &corev1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: superEvent.Name, Namespace: ns},
		InvolvedObject:      ref,
		Reason:              superEvent.Reason,
		Message:             superEvent.Message,
		Source:              superEvent.Source,
		FirstTimestamp:      superEvent.FirstTimestamp,
		LastTimestamp:       superEvent.LastTimestamp,
		Count:               superEvent.Count,
		Type:                superEvent.Type,
		EventTime:           superEvent.EventTime,
		Series:              superEvent.Series.DeepCopy(),
		Action:              superEvent.Action,
		ReportingController: superEvent.ReportingController,
		ReportingInstance:   superEvent.ReportingInstance,
	}
}

// lastSeen is when an Event last happened, whichever API wrote it.
func lastSeen(e *corev1.Event) time.Time {
	switch {
	case e.Series != nil:
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}
