package engine

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/vcp-dev/vcp/appdelivery/health"
	"github.com/vcp-dev/vcp/appdelivery/model"
)

// ObjectState is the health of one object of an application.
type ObjectState struct {
	Ref       Ref           `json:"ref"`
	Component string        `json:"component,omitempty"`
	Health    health.Result `json:"health"`
}

// Snapshot is the health of a set of objects at one moment.
type Snapshot struct {
	Target  string        `json:"target"`
	Objects []ObjectState `json:"objects"`
	// Status is the worst object's; Message names that object and its reason.
	Status   health.Status `json:"status"`
	Message  string        `json:"message,omitempty"`
	TimedOut bool          `json:"timedOut,omitempty"`
}

// Wait checks the health of refs every opts.Interval until all are Healthy (or
// Suspended), one is Degraded, or deadline passes (TimedOut), and returns the last
// snapshot. opts.Progress sees every snapshot.
//
// A fleet waits on many clusters at once, on the same API servers that start the pods
// being waited for, so checks are kept cheap: an object that is not a workload is not
// read again once Healthy, and pods (for fail-fast) are read every podCheckEvery checks.
func (c *Cluster) Wait(ctx context.Context, app string, refs []Ref, deadline time.Time, opts Options) (Snapshot, error) {
	t := time.NewTicker(opts.interval())
	defer t.Stop()
	settled := map[string]ObjectState{}
	for i := 0; ; i++ {
		var pending []Ref
		for _, r := range refs {
			if _, ok := settled[r.Key()]; !ok {
				pending = append(pending, r)
			}
		}
		checked, err := c.check(ctx, app, pending, opts, i%podCheckEvery == 0)
		if err != nil {
			return checked, err
		}
		now := map[string]ObjectState{}
		for _, o := range checked.Objects {
			now[o.Ref.Key()] = o
			if o.Health.Status == health.Healthy && !workloadKinds[o.Ref.Kind] {
				settled[o.Ref.Key()] = o
			}
		}
		// The settled objects are Healthy: the worst status is among the checked ones.
		snap := Snapshot{Target: c.Name, Status: checked.Status, Message: checked.Message}
		for _, r := range refs {
			if o, ok := now[r.Key()]; ok {
				snap.Objects = append(snap.Objects, o)
			} else {
				snap.Objects = append(snap.Objects, settled[r.Key()])
			}
		}
		done := snap.Status == health.Healthy || snap.Status == health.Degraded
		if !done && !time.Now().Before(deadline) {
			snap.TimedOut = true
			done = true
		}
		if opts.Progress != nil {
			opts.Progress(snap)
		}
		if done {
			return snap, nil
		}
		select {
		case <-ctx.Done():
			return snap, ctx.Err()
		case <-t.C:
		}
	}
}

// podCheckEvery is how many checks of a wait share one read of the pods: fail-fast has
// a grace of seconds anyway.
const podCheckEvery = 4

// workloadKinds are the kinds whose health changes after they were Healthy (a crash, a
// rollout by someone else): a wait reads them every time.
var workloadKinds = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true, "Job": true, "Pod": true}

// Check returns the health of refs now. It lists each kind once per namespace (objects
// of the application by its instance label), and the pods and ReplicaSets of the
// namespaces that hold workloads.
func (c *Cluster) Check(ctx context.Context, app string, refs []Ref, opts Options) (Snapshot, error) {
	return c.check(ctx, app, refs, opts, true)
}

// check is Check, reading pods only when withPods.
func (c *Cluster) check(ctx context.Context, app string, refs []Ref, opts Options, withPods bool) (Snapshot, error) {
	snap := Snapshot{Target: c.Name, Status: health.Healthy}
	type listKey struct {
		gvr       schema.GroupVersionResource
		namespace string
	}
	lists := map[listKey]map[string]*unstructured.Unstructured{}
	pods := map[string][]corev1.Pod{}
	replicaSets := map[string][]appsv1.ReplicaSet{}
	now := time.Now()
	for _, ref := range refs {
		m, err := c.mapping(schema.GroupVersionKind{Group: ref.Group, Version: ref.Version, Kind: ref.Kind})
		var live *unstructured.Unstructured
		switch {
		case meta.IsNoMatchError(err):
		case err != nil:
			return snap, err
		default:
			key := listKey{m.Resource, ref.Namespace}
			byName, ok := lists[key]
			if !ok {
				byName = map[string]*unstructured.Unstructured{}
				list, err := c.dynamic.Resource(m.Resource).Namespace(ref.Namespace).List(ctx, metav1.ListOptions{LabelSelector: model.LabelInstance + "=" + app})
				if err != nil {
					return snap, fmt.Errorf("list %s: %w", m.Resource.Resource, err)
				}
				for i := range list.Items {
					byName[list.Items[i].GetName()] = &list.Items[i]
				}
				lists[key] = byName
			}
			live = byName[ref.Name]
		}
		hopts := health.Options{Now: now, FailFastGrace: opts.grace()}
		r := health.Evaluate(live, nil, hopts)
		if live != nil && r.Status == health.Progressing && withPods {
			// Only a workload that is not healthy yet needs its pods (fail-fast): most
			// checks list no pods at all.
			sel, err := health.PodSelector(live)
			if err != nil {
				return snap, err
			}
			if sel != nil {
				ns := ref.Namespace
				if _, ok := pods[ns]; !ok {
					if pods[ns], replicaSets[ns], err = c.podsAndReplicaSets(ctx, ns); err != nil {
						return snap, err
					}
				}
				var selected []corev1.Pod
				for _, p := range pods[ns] {
					if sel.Matches(labels.Set(p.Labels)) {
						selected = append(selected, p)
					}
				}
				r = health.Evaluate(live, health.CurrentPods(live, replicaSets[ns], selected), hopts)
			}
		}
		snap.Objects = append(snap.Objects, ObjectState{Ref: ref, Component: ref.Component, Health: r})
		if health.Worse(r.Status, snap.Status) || (r.Status == health.Suspended && snap.Status == health.Healthy) {
			snap.Status = r.Status
			snap.Message = ref.String() + ": " + r.Message
		}
	}
	if snap.Status == health.Suspended {
		snap.Status = health.Healthy // a suspended CronJob is what was asked for
	}
	return snap, nil
}

func (c *Cluster) podsAndReplicaSets(ctx context.Context, namespace string) ([]corev1.Pod, []appsv1.ReplicaSet, error) {
	pl, err := c.kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("list pods in %s: %w", namespace, err)
	}
	rl, err := c.kube.AppsV1().ReplicaSets(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("list replicasets in %s: %w", namespace, err)
	}
	return pl.Items, rl.Items, nil
}

// AppStatus is what `vcapp status` shows for one cluster.
type AppStatus struct {
	Target   string    `json:"target"`
	Revision *Revision `json:"revision,omitempty"`
	Snapshot
}

// Status returns the newest revision of app and the health of its inventory now; a
// nil Revision means the application is not deployed there.
func (c *Cluster) Status(ctx context.Context, app, namespace string, opts Options) (*AppStatus, error) {
	rev, err := c.latest(ctx, app, namespace)
	if err != nil {
		return nil, err
	}
	st := &AppStatus{Target: c.Name, Revision: rev}
	if rev == nil {
		st.Snapshot = Snapshot{Target: c.Name, Status: health.Missing, Message: fmt.Sprintf("%s is not deployed (no revision in namespace %s)", app, namespace)}
		return st, nil
	}
	st.Snapshot, err = c.Check(ctx, app, rev.Inventory, opts)
	return st, err
}

// ByComponent groups objects by component, in order of first appearance.
func ByComponent(objs []ObjectState) (names []string, groups map[string][]ObjectState) {
	groups = map[string][]ObjectState{}
	for _, o := range objs {
		if _, ok := groups[o.Component]; !ok {
			names = append(names, o.Component)
		}
		groups[o.Component] = append(groups[o.Component], o)
	}
	return names, groups
}

// Worst returns the worst status among objs.
func Worst(objs []ObjectState) health.Status {
	st := health.Healthy
	for _, o := range objs {
		if health.Worse(o.Health.Status, st) {
			st = o.Health.Status
		}
	}
	return st
}
