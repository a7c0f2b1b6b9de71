package engine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/pmezard/go-difflib/difflib"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/vcp-dev/vcp/appdelivery/model"
)

// Action is what a deploy does to one object.
type Action string

// The actions of a plan.
const (
	Create    Action = "create"
	Change    Action = "change"
	Delete    Action = "delete"
	Unchanged Action = "unchanged"
)

// PlannedChange is one object of a plan.
type PlannedChange struct {
	Ref    Ref    `json:"ref"`
	Action Action `json:"action"`
	// Diff is a unified diff of the live object and the object after the apply, with
	// the fields the server owns left out and Secret values masked.
	Diff string `json:"diff,omitempty"`
}

// Plan is what a deploy of a release would do to one cluster.
type Plan struct {
	Target  string          `json:"target"`
	Changes []PlannedChange `json:"changes"`
	// Kept are objects of the previous inventory no longer rendered that a deploy does
	// not delete (claims and namespaces without the opt-in); it keeps tracking them.
	Kept []Ref `json:"kept,omitempty"`
	// Pin is the rollback pin a deploy would clear, nil when the application is not
	// pinned there.
	Pin *Pin `json:"pin,omitempty"`
	// Seconds is how long planning took.
	Seconds float64 `json:"seconds,omitempty"`
}

// Count returns how many changes have action a.
func (p *Plan) Count(a Action) int {
	n := 0
	for _, c := range p.Changes {
		if c.Action == a {
			n++
		}
	}
	return n
}

// HasChanges reports whether a deploy would change anything.
func (p *Plan) HasChanges() bool { return p.Count(Create)+p.Count(Change)+p.Count(Delete) > 0 }

// Plan returns what deploying rel would do: each object is applied with a server-side
// dry run and compared with the live one; objects of the newest revision's inventory
// that rel no longer renders would be deleted.
func (c *Cluster) Plan(ctx context.Context, rel *Release, opts Options) (*Plan, error) {
	start := time.Now()
	plan := &Plan{Target: c.Name}
	defer func() { plan.Seconds = time.Since(start).Seconds() }()
	objs := withNamespace(rel)
	// An object in a namespace that does not exist yet is new, and the server would
	// answer its dry run with NotFound: one read of the namespace spares a read and a
	// dry run per object (a first deploy to a fleet).
	missing, err := c.missingNamespaces(ctx, objs, rel.Namespace)
	if err != nil {
		return nil, err
	}
	// Every other object is a read and a dry-run apply: a few at once, as apply does.
	plan.Changes = make([]PlannedChange, len(objs))
	errs := make([]error, len(objs))
	sem := make(chan struct{}, applyParallelism)
	var wg sync.WaitGroup
	for i, desired := range objs {
		if ns := desired.GetNamespace(); ns != "" && missing[ns] {
			ref := RefOf(desired)
			plan.Changes[i] = PlannedChange{Ref: ref, Action: Create, Diff: diff(nil, normalize(desired, nil), ref)}
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			plan.Changes[i], errs[i] = c.planObject(ctx, desired, rel.Namespace)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	prev, err := c.latest(ctx, rel.App, rel.Namespace)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		plan.Pin = prev.Pin()
		prune, kept := pruneSet(prev.tracked(), objs, opts)
		if plan.Kept, err = c.existing(ctx, kept); err != nil {
			return nil, err
		}
		for _, ref := range prune {
			live, err := c.get(ctx, ref)
			if err != nil {
				return nil, err
			}
			if live == nil {
				continue
			}
			plan.Changes = append(plan.Changes, PlannedChange{Ref: ref, Action: Delete, Diff: diff(normalize(live, nil), nil, ref)})
		}
	}
	return plan, nil
}

// missingNamespaces returns the namespaces of objs' namespaced objects (namespace for
// those without one) that do not exist. A custom kind the cluster does not know yet is
// left to planObject.
func (c *Cluster) missingNamespaces(ctx context.Context, objs []*unstructured.Unstructured, namespace string) (map[string]bool, error) {
	missing := map[string]bool{}
	checked := map[string]bool{}
	for _, u := range objs {
		m, err := c.mapping(u.GroupVersionKind())
		if err != nil || m.Scope.Name() != meta.RESTScopeNameNamespace {
			continue
		}
		ns := u.GetNamespace()
		if ns == "" {
			ns = namespace
		}
		if checked[ns] {
			continue
		}
		checked[ns] = true
		_, err = c.kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			missing[ns] = true
		case apierrors.IsForbidden(err):
			// Not allowed to read namespaces: every object gets its own dry run.
		case err != nil:
			return nil, fmt.Errorf("get namespace %s: %w", ns, err)
		}
	}
	return missing, nil
}

// planObject dry-runs the apply of desired and compares the result with the live object.
func (c *Cluster) planObject(ctx context.Context, desired *unstructured.Unstructured, namespace string) (PlannedChange, error) {
	desired = desired.DeepCopy()
	ri, err := c.resource(desired, namespace)
	if meta.IsNoMatchError(err) {
		// A custom kind whose CRD this release creates: it is new, and the server
		// cannot check it before the CRD exists.
		ref := RefOf(desired)
		return PlannedChange{Ref: ref, Action: Create, Diff: diff(nil, normalize(desired, nil), ref)}, nil
	}
	if err != nil {
		return PlannedChange{}, err
	}
	ref := RefOf(desired)
	live, err := ri.Get(ctx, desired.GetName(), metav1.GetOptions{})
	if ignoreNotFound(err) != nil {
		return PlannedChange{}, fmt.Errorf("get %s: %w", ref, err)
	}
	if err != nil {
		live = nil
	}
	after, err := ri.Apply(ctx, desired.GetName(), desired, metav1.ApplyOptions{FieldManager: FieldManager, Force: true, DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		if live == nil && apierrors.IsNotFound(err) {
			// Its namespace does not exist yet: the deploy creates it first.
			return PlannedChange{Ref: ref, Action: Create, Diff: diff(nil, normalize(desired, nil), ref)}, nil
		}
		return PlannedChange{}, fmt.Errorf("dry-run apply %s: %w", ref, err)
	}
	if live == nil {
		return PlannedChange{Ref: ref, Action: Create, Diff: diff(nil, normalize(after, nil), ref)}, nil
	}
	if reflect.DeepEqual(strip(live), strip(after)) {
		return PlannedChange{Ref: ref, Action: Unchanged}, nil
	}
	return PlannedChange{Ref: ref, Action: Change, Diff: diff(normalize(live, nil), normalize(after, live), ref)}, nil
}

// serverFields are the metadata fields the server owns; a diff leaves them out.
var serverFields = []string{"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"}

// strip returns u's content without what the server owns.
func strip(u *unstructured.Unstructured) map[string]any {
	m := u.DeepCopy().Object
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		for _, f := range serverFields {
			delete(md, f)
		}
		if a, ok := md["annotations"].(map[string]any); ok {
			delete(a, "kubectl.kubernetes.io/last-applied-configuration")
			if len(a) == 0 {
				delete(md, "annotations")
			}
		}
	}
	return m
}

// normalize is strip for showing: a Secret's values are masked, "***", or "*** (changed)"
// where they differ from those of before (the live object; nil: none is).
func normalize(u, before *unstructured.Unstructured) map[string]any {
	if u == nil {
		return nil
	}
	m := strip(u)
	if u.GetKind() == "Secret" && u.GroupVersionKind().Group == "" {
		var beforeData map[string]any
		if before != nil {
			beforeData, _ = before.Object["data"].(map[string]any)
		}
		for _, key := range []string{"data", "stringData"} {
			data, _ := m[key].(map[string]any)
			for k, v := range data {
				if ov, ok := beforeData[k]; before != nil && (!ok || !reflect.DeepEqual(ov, v)) {
					data[k] = "*** (changed)"
				} else {
					data[k] = "***"
				}
			}
		}
	}
	return m
}

// diff is a unified diff of two normalized objects as YAML.
func diff(a, b map[string]any, ref Ref) string {
	toLines := func(m map[string]any) []string {
		if m == nil {
			return nil
		}
		y, err := yaml.Marshal(m)
		if err != nil {
			return []string{fmt.Sprintf("<%v>", err)}
		}
		return difflib.SplitLines(string(y))
	}
	out, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: toLines(a), B: toLines(b), FromFile: "live " + ref.String(), ToFile: "applied " + ref.String(), Context: 3,
	})
	if err != nil {
		return err.Error()
	}
	return strings.TrimRight(out, "\n")
}

// withNamespace returns rel's objects, preceded by its namespace when no object is
// that namespace: a deploy creates it (and never prunes it), labelled like the objects
// so that health checks find it with them.
func withNamespace(rel *Release) []*unstructured.Unstructured {
	for _, u := range rel.Objects {
		if u.GetKind() == "Namespace" && u.GroupVersionKind().Group == "" && u.GetName() == rel.Namespace {
			return rel.Objects
		}
	}
	ns := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": rel.Namespace, "labels": map[string]any{model.LabelManagedBy: model.ManagedBy, model.LabelInstance: rel.App}},
	}}
	return append([]*unstructured.Unstructured{ns}, rel.Objects...)
}

// pruneSet returns the objects of inventory that objs no longer hold and may be
// deleted, and those the options keep.
func pruneSet(inventory []Ref, objs []*unstructured.Unstructured, opts Options) (prune, kept []Ref) {
	rendered := map[string]bool{}
	for _, u := range objs {
		rendered[keyOf(u)] = true
	}
	for _, ref := range inventory {
		if rendered[ref.Key()] || rendered[(Ref{Group: ref.Group, Kind: ref.Kind, Name: ref.Name}).Key()] {
			continue
		}
		if (ref.Group == "" && ref.Kind == "PersistentVolumeClaim" && !opts.PruneClaims) ||
			(ref.Group == "" && ref.Kind == "Namespace" && !opts.PruneNamespaces) {
			kept = append(kept, ref)
			continue
		}
		prune = append(prune, ref)
	}
	return prune, kept
}

// keyOf is RefOf(u).Key().
func keyOf(u *unstructured.Unstructured) string { return RefOf(u).Key() }
