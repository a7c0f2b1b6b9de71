package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

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

// Wait checks the health of refs until all are Healthy (or Suspended), one is
// Degraded, or deadline passes (TimedOut), and returns the last snapshot.
// opts.Progress sees every snapshot.
//
// A check follows each change of a workload among refs (the wait lists them once, then
// watches them), at most every minCheckGap, and at the latest opts.Interval after the
// previous one: the end of a rollout is seen at once, not up to an interval later, and
// the workloads are not listed again for each check. A fleet waits on many clusters at once, on the same API servers that
// start the pods being waited for, so checks are kept cheap: an object that is not a
// workload is not read again once Healthy, and pods (for fail-fast) are read at most
// every podCheckEvery intervals.
func (c *Cluster) Wait(ctx context.Context, app string, refs []Ref, deadline time.Time, opts Options) (Snapshot, error) {
	next := time.NewTimer(opts.interval())
	defer next.Stop()
	watchCtx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	changed, cache := c.watchWorkloads(watchCtx, app, refs)
	settled := map[string]ObjectState{}
	var podsRead time.Time
	for {
		var pending []Ref
		for _, r := range refs {
			if _, ok := settled[r.Key()]; !ok {
				pending = append(pending, r)
			}
		}
		checkedAt := time.Now()
		withPods := checkedAt.Sub(podsRead) >= podCheckEvery*opts.interval()
		if withPods {
			podsRead = checkedAt
		}
		checked, err := c.check(ctx, app, pending, opts, withPods, cache)
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
		next.Reset(time.Until(checkedAt.Add(opts.interval())))
		select {
		case <-ctx.Done():
			return snap, ctx.Err()
		case <-next.C:
		case <-changed:
			// The controllers write a few status updates in a row: take them together.
			gap := time.NewTimer(time.Until(checkedAt.Add(minCheckGap)))
			select {
			case <-ctx.Done():
				gap.Stop()
				return snap, ctx.Err()
			case <-gap.C:
			}
		}
	}
}

// minCheckGap is the shortest time between two checks of a wait.
const minCheckGap = 200 * time.Millisecond

// podCheckEvery is how many intervals of a wait share one read of the pods: fail-fast
// has a grace of seconds anyway.
const podCheckEvery = 4

// listKey names the objects of one resource in one namespace.
type listKey struct {
	gvr       schema.GroupVersionResource
	namespace string
}

// liveCache holds an application's objects of some resources, as watches report them,
// so that the checks of a wait do not list them again and again.
type liveCache struct {
	mu    sync.Mutex
	lists map[listKey]map[string]*unstructured.Unstructured
}

// get returns the objects of key by name, and false when key is not watched (any
// more): the check then lists them.
func (lc *liveCache) get(key listKey) (map[string]*unstructured.Unstructured, bool) {
	if lc == nil {
		return nil, false
	}
	lc.mu.Lock()
	defer lc.mu.Unlock()
	byName, ok := lc.lists[key]
	if !ok {
		return nil, false
	}
	out := make(map[string]*unstructured.Unstructured, len(byName))
	for name, u := range byName {
		out[name] = u
	}
	return out, true
}

func (lc *liveCache) set(key listKey, byName map[string]*unstructured.Unstructured) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if byName == nil {
		delete(lc.lists, key)
		return
	}
	lc.lists[key] = byName
}

func (lc *liveCache) update(key listKey, u *unstructured.Unstructured, deleted bool) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	byName, ok := lc.lists[key]
	if !ok {
		return
	}
	if deleted {
		delete(byName, u.GetName())
	} else {
		byName[u.GetName()] = u
	}
}

// watchWorkloads lists and then watches the application's workloads among refs (per
// resource and namespace), until ctx ends. It returns a channel that receives when one
// changes, and the cache of what the watches saw. A resource the server does not let
// vcapp list or watch, or whose watch ends, is left to the checks to list.
func (c *Cluster) watchWorkloads(ctx context.Context, app string, refs []Ref) (<-chan struct{}, *liveCache) {
	changed := make(chan struct{}, 1)
	cache := &liveCache{lists: map[listKey]map[string]*unstructured.Unstructured{}}
	selector := model.LabelInstance + "=" + app
	watched := map[listKey]bool{}
	for _, r := range refs {
		if !workloadKinds[r.Kind] {
			continue
		}
		m, err := c.mapping(schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind})
		if err != nil {
			continue
		}
		key := listKey{m.Resource, r.Namespace}
		if watched[key] {
			continue
		}
		watched[key] = true
		ri := c.dynamic.Resource(m.Resource).Namespace(r.Namespace)
		list, err := ri.List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			continue
		}
		w, err := ri.Watch(ctx, metav1.ListOptions{LabelSelector: selector, ResourceVersion: list.GetResourceVersion()})
		if err != nil {
			continue
		}
		byName := map[string]*unstructured.Unstructured{}
		for i := range list.Items {
			byName[list.Items[i].GetName()] = &list.Items[i]
		}
		cache.set(key, byName)
		go func() {
			defer w.Stop()
			defer cache.set(key, nil) // from now on the checks list
			for ev := range w.ResultChan() {
				u, ok := ev.Object.(*unstructured.Unstructured)
				if !ok || ev.Type == watch.Error {
					return
				}
				switch ev.Type {
				case watch.Added, watch.Modified:
					cache.update(key, u, false)
				case watch.Deleted:
					cache.update(key, u, true)
				default:
					continue
				}
				select {
				case changed <- struct{}{}:
				default:
				}
			}
		}()
	}
	return changed, cache
}

// workloadKinds are the kinds whose health changes after they were Healthy (a crash, a
// rollout by someone else): a wait reads them every time.
var workloadKinds = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true, "Job": true, "Pod": true}

// Check returns the health of refs now. It lists each kind once per namespace (objects
// of the application by its instance label), and the pods and ReplicaSets of the
// namespaces that hold workloads.
func (c *Cluster) Check(ctx context.Context, app string, refs []Ref, opts Options) (Snapshot, error) {
	return c.check(ctx, app, refs, opts, true, nil)
}

// check is Check, reading pods only when withPods, and the objects cache watches
// (nil: none) rather than listing them.
func (c *Cluster) check(ctx context.Context, app string, refs []Ref, opts Options, withPods bool, cache *liveCache) (Snapshot, error) {
	snap := Snapshot{Target: c.Name, Status: health.Healthy}
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
				if byName, ok = cache.get(key); !ok {
					list, err := c.dynamic.Resource(m.Resource).Namespace(ref.Namespace).List(ctx, metav1.ListOptions{LabelSelector: model.LabelInstance + "=" + app})
					if err != nil {
						return snap, fmt.Errorf("list %s: %w", m.Resource.Resource, err)
					}
					byName = map[string]*unstructured.Unstructured{}
					for i := range list.Items {
						byName[list.Items[i].GetName()] = &list.Items[i]
					}
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

// TimeoutMessage says that the progress deadline passed and names every object of
// objs that is not healthy, with its reason.
func TimeoutMessage(deadline time.Duration, objs []ObjectState) string {
	var waiting []string
	for _, o := range objs {
		if o.Health.Status == health.Healthy || o.Health.Status == health.Suspended {
			continue
		}
		w := fmt.Sprintf("%s %s", o.Ref, o.Health.Status)
		if o.Health.Message != "" {
			w += " (" + o.Health.Message + ")"
		}
		waiting = append(waiting, w)
	}
	if len(waiting) == 0 {
		return fmt.Sprintf("progress deadline (%s) exceeded", deadline)
	}
	return fmt.Sprintf("progress deadline (%s) exceeded; not healthy: %s", deadline, strings.Join(waiting, "; "))
}

// AppStatus is what `vcapp status` shows for one cluster.
type AppStatus struct {
	Target   string    `json:"target"`
	Revision *Revision `json:"revision,omitempty"`
	// Pin is the rollback pin the application is held at, nil when none.
	Pin *Pin `json:"pin,omitempty"`
	// Retained are the objects no longer rendered that vcapp kept and still tracks
	// (and that exist).
	Retained []Ref `json:"retained,omitempty"`
	Snapshot
}

// Status returns the newest revision of app and the health of its inventory now; a
// nil Revision means the application is not deployed there.
func (c *Cluster) Status(ctx context.Context, app, namespace string, opts Options) (*AppStatus, error) {
	return c.status(ctx, app, namespace, opts, false)
}

// WaitStatus is Status after waiting (see Wait) until the inventory is healthy,
// something is Degraded or opts' progress deadline passes (TimedOut).
func (c *Cluster) WaitStatus(ctx context.Context, app, namespace string, opts Options) (*AppStatus, error) {
	return c.status(ctx, app, namespace, opts, true)
}

func (c *Cluster) status(ctx context.Context, app, namespace string, opts Options, wait bool) (*AppStatus, error) {
	rev, err := c.latest(ctx, app, namespace)
	if err != nil {
		return nil, err
	}
	st := &AppStatus{Target: c.Name, Revision: rev, Pin: rev.Pin()}
	if rev == nil {
		st.Snapshot = Snapshot{Target: c.Name, Status: health.Missing, Message: fmt.Sprintf("%s is not deployed (no revision in namespace %s)", app, namespace)}
		return st, nil
	}
	if st.Retained, err = c.existing(ctx, rev.Retained); err != nil {
		return nil, err
	}
	if rev.Status == RevisionDeleted {
		st.Snapshot = Snapshot{Target: c.Name, Status: health.Missing, Message: fmt.Sprintf("%s was deleted (revision %d)", app, rev.Number)}
		return st, nil
	}
	if !wait {
		st.Snapshot, err = c.Check(ctx, app, rev.Inventory, opts)
		return st, err
	}
	st.Snapshot, err = c.Wait(ctx, app, rev.Inventory, time.Now().Add(opts.deadline()), opts)
	if st.TimedOut {
		st.Message = TimeoutMessage(opts.deadline(), st.Objects)
	}
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
