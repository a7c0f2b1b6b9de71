package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/vcp-dev/vcp/appdelivery/health"
	"github.com/vcp-dev/vcp/appdelivery/render"
)

// Options tune a deploy, a wait or a delete.
type Options struct {
	// PruneClaims lets prune and delete remove PersistentVolumeClaims (their data).
	PruneClaims bool
	// PruneNamespaces lets prune and delete remove Namespaces (everything in them).
	PruneNamespaces bool
	// ProgressDeadline bounds the wait for health, from the start of the deploy.
	// Default 5 minutes.
	ProgressDeadline time.Duration
	// FailFastGrace is how long a pod may fail before its workload is Degraded
	// (health.DefaultFailFastGrace when zero; negative means no grace).
	FailFastGrace time.Duration
	// Interval is the longest time between two health checks (a change of a watched
	// workload brings the next one forward); default 500ms.
	Interval time.Duration
	// KeepRevisions is how many revisions are kept; default 10.
	KeepRevisions int
	// Atomic re-applies the previous revision when the deploy ends Degraded or timed out.
	// That re-application does not pin the application (a rollback someone asked for
	// does).
	Atomic bool
	// Unpin lets a deploy replace a revision a rollback pinned. Without it a deploy to a
	// pinned application fails with a *PinnedError before anything is changed.
	Unpin bool
	// NoWait returns after applying, without waiting for health (dependencies are
	// applied in order, not waited for).
	NoWait bool
	// User is who deploys (recorded in the revision).
	User string
	// Progress, when set, receives the health of every object at each check.
	Progress func(Snapshot)
}

func (o Options) deadline() time.Duration {
	if o.ProgressDeadline <= 0 {
		return 5 * time.Minute
	}
	return o.ProgressDeadline
}

func (o Options) grace() time.Duration {
	switch {
	case o.FailFastGrace < 0:
		return 0
	case o.FailFastGrace == 0:
		return health.DefaultFailFastGrace
	}
	return o.FailFastGrace
}

func (o Options) interval() time.Duration {
	if o.Interval <= 0 {
		return 500 * time.Millisecond
	}
	return o.Interval
}

func (o Options) keep() int {
	if o.KeepRevisions <= 0 {
		return 10
	}
	return o.KeepRevisions
}

// Result is the outcome of a deploy, rollback or wait on one cluster.
type Result struct {
	Target   string        `json:"target"`
	Revision int           `json:"revision,omitempty"`
	Status   health.Status `json:"status"`
	Message  string        `json:"message,omitempty"`
	Pruned   []Ref         `json:"pruned,omitempty"`
	Objects  []ObjectState `json:"objects,omitempty"`
	// RolledBack is the revision an atomic deploy re-applied after failing (0: none).
	RolledBack int `json:"rolledBack,omitempty"`
	// RollbackRevision is the revision that re-application wrote.
	RollbackRevision int `json:"rollbackRevision,omitempty"`
	// Unpinned is the pin this deploy cleared (Options.Unpin), nil when there was none.
	Unpinned *Pin `json:"unpinned,omitempty"`
	// Retained are the objects no longer rendered that the deploy kept and tracks.
	Retained []Ref `json:"retained,omitempty"`
	// AppliedSeconds is how long applying (and waiting for dependencies) took;
	// Seconds the whole deploy, health wait included.
	AppliedSeconds float64 `json:"appliedSeconds,omitempty"`
	Seconds        float64 `json:"seconds,omitempty"`
}

// Deploy applies rel, prunes what the previous revision had and rel no longer renders,
// records the new revision and, unless opts.NoWait, waits until every object is healthy
// (or one is Degraded, or the progress deadline passes). With opts.Atomic a deploy that
// ends Degraded or timed out re-applies the previous revision.
func (c *Cluster) Deploy(ctx context.Context, rel *Release, opts Options) (*Result, error) {
	return c.deploy(ctx, rel, opts, 0, false)
}

// PinnedError is the error of a deploy to an application a rollback pinned, without
// Options.Unpin. Nothing was changed.
type PinnedError struct {
	Target string
	App    string
	Pin    Pin
}

func (e *PinnedError) Error() string {
	return fmt.Sprintf("%s on %s is %s; deploying would replace it (unpin it explicitly to deploy)", e.App, e.Target, e.Pin.String())
}

// Rollback re-applies revision `to` (0: the one before the newest) as a new revision
// that pins the application (a deploy needs Options.Unpin to replace it), and waits
// like Deploy.
func (c *Cluster) Rollback(ctx context.Context, app, namespace string, to int, opts Options) (*Result, error) {
	return c.rollback(ctx, app, namespace, to, opts, true)
}

func (c *Cluster) rollback(ctx context.Context, app, namespace string, to int, opts Options, pin bool) (*Result, error) {
	h, err := c.History(ctx, app, namespace)
	if err != nil {
		return nil, err
	}
	if len(h) == 0 {
		return nil, fmt.Errorf("%s has no revisions in namespace %s on %s", app, namespace, c.Name)
	}
	if to == 0 {
		if len(h) < 2 {
			return nil, fmt.Errorf("%s has only revision %d: nothing to roll back to", app, h[0].Number)
		}
		to = h[len(h)-2].Number
	}
	i := slices.IndexFunc(h, func(r *Revision) bool { return r.Number == to })
	if i < 0 {
		return nil, fmt.Errorf("%s has no revision %d (kept: %s)", app, to, revisionNumbers(h))
	}
	if h[i].Status == RevisionDeleted {
		return nil, fmt.Errorf("revision %d of %s records a delete: nothing to re-apply", to, app)
	}
	objs, err := h[i].Objects()
	if err != nil {
		return nil, err
	}
	opts.Atomic = false
	return c.deploy(ctx, &Release{App: app, Namespace: namespace, Objects: objs, Components: h[i].Components, Digest: h[i].Digest}, opts, to, pin)
}

func revisionNumbers(h []*Revision) string {
	s := ""
	for i, r := range h {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(r.Number)
	}
	return s
}

// deploy applies rel; rollbackOf is the revision a rollback re-applies (0 for a
// deploy) and pin whether that rollback pins the application.
func (c *Cluster) deploy(ctx context.Context, rel *Release, opts Options, rollbackOf int, pin bool) (*Result, error) {
	start := time.Now()
	objs := withNamespace(rel)
	// Resolve every object's scope first: a kind unknown to the server that no CRD of
	// the release defines fails the deploy before anything is applied.
	for _, u := range objs {
		if _, err := c.resource(u, rel.Namespace); err != nil && !definedByRelease(u, objs) {
			return nil, fmt.Errorf("%s: %w", RefOf(u), err)
		}
	}
	hist, err := c.History(ctx, rel.App, rel.Namespace)
	if err != nil {
		return nil, err
	}
	var prev *Revision
	if len(hist) > 0 {
		prev = hist[len(hist)-1]
	}
	rev := &Revision{Number: 1, Digest: rel.Digest, User: opts.User, Time: start, Status: RevisionApplying,
		RollbackOf: rollbackOf, Pinned: pin, Components: rel.Components}
	if p := prev.Pin(); p != nil && rollbackOf == 0 {
		if !opts.Unpin {
			return nil, &PinnedError{Target: c.Name, App: rel.App, Pin: *p}
		}
		rev.Unpinned = p
	}
	manifests, err := render.YAML(rel.Objects)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		rev.Number = prev.Number + 1
	}
	for _, u := range objs {
		rev.Inventory = append(rev.Inventory, RefOf(u))
	}
	// What prune will delete, and what it keeps: the kept objects stay tracked as
	// retained (while they exist), so that a later opt-in still deletes them.
	prune, kept := pruneSet(prev.tracked(), objs, opts)
	if rev.Retained, err = c.existing(ctx, kept); err != nil {
		return nil, err
	}
	res := &Result{Target: c.Name, Revision: rev.Number, Unpinned: rev.Unpinned, Retained: rev.Retained}

	// The namespace first: the revision lives in it.
	nsObj, others := splitNamespace(objs, rel.Namespace)
	if err := c.apply(ctx, nsObj, rel.Namespace); err != nil {
		return res, err
	}
	if err := c.writeRevision(ctx, rel.App, rel.Namespace, rev, manifests); err != nil {
		return res, err
	}
	fail := func(err error) (*Result, error) {
		_ = c.setRevisionStatus(context.WithoutCancel(ctx), rel.App, rel.Namespace, rev, RevisionFailed, err.Error())
		return res, err
	}
	deadline := start.Add(opts.deadline())
	var st health.Status
	var msg string
	stopped, err := c.applyInOrder(ctx, rel, others, opts, deadline)
	if err != nil {
		return fail(err)
	}
	if stopped != nil {
		st, msg, res.Objects = stopped.Status, stopped.Message, stopped.Objects
		if stopped.TimedOut {
			msg = "waiting for dependencies: " + TimeoutMessage(opts.deadline(), stopped.Objects)
		}
	}
	res.AppliedSeconds = time.Since(start).Seconds()
	defer func() { res.Seconds = time.Since(start).Seconds() }()
	if prev != nil && st == "" {
		if res.Pruned, err = c.deleteAll(ctx, prune); err != nil {
			return fail(err)
		}
	}
	if err := c.trimHistory(ctx, rel.App, rel.Namespace, hist, opts.keep()); err != nil {
		return fail(err)
	}
	if st == "" && !opts.NoWait {
		var snap Snapshot
		snap, err = c.Wait(ctx, rel.App, rev.Inventory, deadline, opts)
		if err != nil {
			return fail(err)
		}
		st, msg, res.Objects = snap.Status, snap.Message, snap.Objects
		if snap.TimedOut {
			msg = TimeoutMessage(opts.deadline(), snap.Objects)
		}
	}
	if st == "" {
		st = health.Healthy
		if opts.NoWait {
			st = health.Progressing
		}
	}
	res.Status, res.Message = st, msg
	outcome := string(st)
	if st == health.Progressing && !opts.NoWait {
		outcome = RevisionTimeout
	}
	if err := c.setRevisionStatus(ctx, rel.App, rel.Namespace, rev, outcome, msg); err != nil {
		return res, err
	}
	if opts.Atomic && st != health.Healthy && !opts.NoWait && prev != nil {
		rb, err := c.rollback(ctx, rel.App, rel.Namespace, prev.Number, opts, false)
		if err != nil {
			return res, fmt.Errorf("atomic: roll back to revision %d: %w", prev.Number, err)
		}
		res.RolledBack, res.RollbackRevision = prev.Number, rb.Revision
		res.Objects = rb.Objects
	}
	return res, nil
}

// splitNamespace separates the Namespace named namespace from the other objects.
func splitNamespace(objs []*unstructured.Unstructured, namespace string) (ns, others []*unstructured.Unstructured) {
	for _, u := range objs {
		if u.GetKind() == "Namespace" && u.GroupVersionKind().Group == "" && u.GetName() == namespace {
			ns = append(ns, u)
		} else {
			others = append(others, u)
		}
	}
	return ns, others
}

// definedByRelease reports whether a CRD among objs defines u's kind.
func definedByRelease(u *unstructured.Unstructured, objs []*unstructured.Unstructured) bool {
	gvk := u.GroupVersionKind()
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		g, _, _ := unstructured.NestedString(o.Object, "spec", "group")
		k, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
		if g == gvk.Group && k == gvk.Kind {
			return true
		}
	}
	return false
}

// applyInOrder applies objs: namespaces and CRDs first, then the components level by
// level of their dependencies, waiting for the health of what a later level depends
// on. It returns the snapshot of such a wait that ended unhealthy, and then stops.
func (c *Cluster) applyInOrder(ctx context.Context, rel *Release, objs []*unstructured.Unstructured, opts Options, deadline time.Time) (*Snapshot, error) {
	var first, rest []*unstructured.Unstructured
	for _, u := range objs {
		if k := u.GetKind(); k == "Namespace" || k == "CustomResourceDefinition" {
			first = append(first, u)
		} else {
			rest = append(rest, u)
		}
	}
	if err := c.apply(ctx, first, rel.Namespace); err != nil {
		return nil, err
	}
	if crds := refsOfKind(first, "CustomResourceDefinition"); len(crds) > 0 {
		snap, err := c.Wait(ctx, rel.App, crds, deadline, opts)
		if err != nil {
			return nil, err
		}
		if snap.Status != health.Healthy {
			return &snap, nil
		}
		c.mapper.Reset()
	}
	levels, needed := levelsOf(rel.Components)
	byComp := map[string][]*unstructured.Unstructured{}
	for _, u := range rest {
		byComp[componentOf(u)] = append(byComp[componentOf(u)], u)
	}
	placed := map[string]bool{}
	for _, level := range levels {
		var batch []*unstructured.Unstructured
		var waitFor []Ref
		for _, comp := range level {
			placed[comp] = true
			batch = append(batch, byComp[comp]...)
			if needed[comp] {
				for _, u := range byComp[comp] {
					waitFor = append(waitFor, RefOf(u))
				}
			}
		}
		// byComp holds them in apply order (configuration before workloads) already.
		slices.SortStableFunc(batch, func(a, b *unstructured.Unstructured) int { return kindRank(a) - kindRank(b) })
		if err := c.apply(ctx, batch, rel.Namespace); err != nil {
			return nil, err
		}
		if len(waitFor) > 0 && !opts.NoWait {
			snap, err := c.Wait(ctx, rel.App, waitFor, deadline, opts)
			if err != nil {
				return nil, err
			}
			if snap.Status != health.Healthy {
				return &snap, nil
			}
		}
	}
	// Objects of no known component (a release read back from an older revision).
	var orphans []*unstructured.Unstructured
	for comp, us := range byComp {
		if !placed[comp] {
			orphans = append(orphans, us...)
		}
	}
	slices.SortStableFunc(orphans, func(a, b *unstructured.Unstructured) int { return kindRank(a) - kindRank(b) })
	return nil, c.apply(ctx, orphans, rel.Namespace)
}

// kindRank orders configuration before workloads.
func kindRank(u *unstructured.Unstructured) int {
	switch u.GetKind() {
	case "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ResourceQuota", "LimitRange",
		"NetworkPolicy", "Secret", "ConfigMap", "PersistentVolume", "PersistentVolumeClaim", "Service":
		return 0
	case "DaemonSet", "Deployment", "StatefulSet", "Job", "CronJob", "ReplicaSet", "Pod":
		return 1
	}
	return 2
}

func refsOfKind(objs []*unstructured.Unstructured, kind string) []Ref {
	var out []Ref
	for _, u := range objs {
		if u.GetKind() == kind {
			out = append(out, RefOf(u))
		}
	}
	return out
}

// levelsOf splits components into levels: each depends only on earlier levels. needed
// names the components some other component depends on. Unknown dependencies are
// ignored (the model validates them).
func levelsOf(comps []Component) (levels [][]string, needed map[string]bool) {
	needed = map[string]bool{}
	known := map[string]bool{}
	for _, c := range comps {
		known[c.Name] = true
	}
	for _, c := range comps {
		for _, d := range c.DependsOn {
			if known[d] {
				needed[d] = true
			}
		}
	}
	done := map[string]bool{}
	for len(done) < len(comps) {
		var level []string
		for _, c := range comps {
			if done[c.Name] {
				continue
			}
			ready := true
			for _, d := range c.DependsOn {
				if known[d] && !done[d] {
					ready = false
				}
			}
			if ready {
				level = append(level, c.Name)
			}
		}
		if len(level) == 0 { // a cycle: validation refuses it; apply the rest together
			for _, c := range comps {
				if !done[c.Name] {
					level = append(level, c.Name)
				}
			}
		}
		for _, n := range level {
			done[n] = true
		}
		levels = append(levels, level)
	}
	return levels, needed
}

// applyParallelism is how many objects of one rank are applied at once.
const applyParallelism = 8

// apply server-side applies objs: in order of their kind's rank (configuration, then
// workloads, then the rest), the objects of one rank at once.
func (c *Cluster) apply(ctx context.Context, objs []*unstructured.Unstructured, namespace string) error {
	for start := 0; start < len(objs); {
		end := start + 1
		for end < len(objs) && kindRank(objs[end]) == kindRank(objs[start]) {
			end++
		}
		errs := make([]error, end-start)
		sem := make(chan struct{}, applyParallelism)
		var wg sync.WaitGroup
		for i, u := range objs[start:end] {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				errs[i] = c.applyOne(ctx, u.DeepCopy(), namespace)
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		start = end
	}
	return nil
}

func (c *Cluster) applyOne(ctx context.Context, u *unstructured.Unstructured, namespace string) error {
	ri, err := c.resource(u, namespace)
	if err != nil {
		return fmt.Errorf("%s: %w", RefOf(u), err)
	}
	if _, err := ri.Apply(ctx, u.GetName(), u, metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
		return fmt.Errorf("apply %s: %w", RefOf(u), err)
	}
	return nil
}

// deleteAll deletes the objects refs names that exist and returns those it deleted.
func (c *Cluster) deleteAll(ctx context.Context, refs []Ref) ([]Ref, error) {
	var deleted []Ref
	var errs []error
	// Reverse apply order: what points at workloads, workloads, then configuration.
	for i := len(refs) - 1; i >= 0; i-- {
		ref := refs[i]
		ri, err := c.resourceOf(ref)
		if err != nil {
			continue // its kind is gone, so is it
		}
		bg := metav1.DeletePropagationBackground
		err = ri.Delete(ctx, ref.Name, metav1.DeleteOptions{PropagationPolicy: &bg})
		if ignoreNotFound(err) != nil {
			errs = append(errs, fmt.Errorf("delete %s: %w", ref, err))
			continue
		}
		if err == nil {
			deleted = append(deleted, ref)
		}
	}
	slices.Reverse(deleted)
	return deleted, errors.Join(errs...)
}

// DeletePlan returns the objects Delete would delete: those of the newest revision's
// inventory that exist, without claims and namespaces unless opts opts in; and those
// it keeps.
func (c *Cluster) DeletePlan(ctx context.Context, app, namespace string, opts Options) (del, kept []Ref, err error) {
	prev, err := c.latest(ctx, app, namespace)
	if err != nil || prev == nil {
		return nil, nil, err
	}
	prune, kept := pruneSet(prev.tracked(), nil, opts)
	if del, err = c.existing(ctx, prune); err != nil {
		return nil, nil, err
	}
	if kept, err = c.existing(ctx, kept); err != nil {
		return nil, nil, err
	}
	return del, kept, nil
}

// existing returns the objects of refs that exist.
func (c *Cluster) existing(ctx context.Context, refs []Ref) ([]Ref, error) {
	var out []Ref
	for _, ref := range refs {
		live, err := c.get(ctx, ref)
		if err != nil {
			return nil, err
		}
		if live != nil {
			out = append(out, ref)
		}
	}
	return out, nil
}

// Delete deletes the objects app tracks (see DeletePlan) and its revisions. When it
// keeps objects (claims, namespaces without the opt-in) and the application's
// namespace stays, one revision with outcome Deleted is left that retains them: status
// shows them, and a later delete with the opt-in (or a deploy) still finds them.
func (c *Cluster) Delete(ctx context.Context, app, namespace string, opts Options) ([]Ref, error) {
	prev, err := c.latest(ctx, app, namespace)
	if err != nil || prev == nil {
		return nil, err
	}
	del, kept, err := c.DeletePlan(ctx, app, namespace, opts)
	if err != nil {
		return nil, err
	}
	deleted, err := c.deleteAll(ctx, del)
	if err != nil {
		return deleted, err
	}
	selector := LabelApplication + "=" + app
	namespaceStays := !slices.ContainsFunc(deleted, func(r Ref) bool { return r.Group == "" && r.Kind == "Namespace" && r.Name == namespace })
	if len(kept) > 0 && namespaceStays {
		tomb := &Revision{Number: prev.Number + 1, User: opts.User, Time: time.Now(), Status: RevisionDeleted,
			Message: fmt.Sprintf("deleted %d object(s), retained %d", len(deleted), len(kept)), Retained: kept}
		if err := c.writeRevision(ctx, app, namespace, tomb, nil); err != nil {
			return deleted, err
		}
		selector += "," + LabelRevision + "!=" + fmt.Sprint(tomb.Number)
	}
	err = c.kube.CoreV1().Secrets(namespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: selector})
	return deleted, ignoreNotFound(err)
}
