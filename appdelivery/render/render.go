// Package render turns an Application into the Kubernetes objects that run it.
//
// Rendering is a pure function: nothing is read from a cluster or the clock, and the
// same Application always gives the same objects in the same order (apply order:
// namespaces and CRDs, then RBAC and configuration, then Services, workloads, and what
// points at workloads; see kindOrder). vcapp render prints them; the delivery engine of
// the later phases applies them with server-side apply (field manager vcapp) and groups
// them by the app.kubernetes.io/component label every object carries.
//
// Every rendered object carries the common labels (model.LabelName, LabelInstance,
// LabelComponent, LabelManagedBy). Selectors use only the instance and component labels,
// which never change for a component, because selectors are immutable.
package render

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/vcp-dev/vcp/appdelivery/model"
)

// object is a typed Kubernetes object render builds.
type object interface {
	metav1.Object
	runtime.Object
}

// Render validates app and returns the objects its components render to, sorted in
// apply order. An invalid Application gives a *model.FieldErrors listing every
// problem; so do two components rendering the same object.
func Render(app *model.Application) ([]*unstructured.Unstructured, error) {
	comps, err := app.Decode()
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	var owners []string // owners[i] is the component rendering out[i]
	for i := range comps {
		objs, err := renderComponent(app, &comps[i])
		if err != nil {
			return nil, fmt.Errorf("component %q: %w", comps[i].Name, err)
		}
		out = append(out, objs...)
		for range objs {
			owners = append(owners, comps[i].Name)
		}
	}
	if errs := duplicates(out, owners); len(errs) > 0 {
		return nil, model.NewFieldErrors(model.KindApplication, app.Metadata.Name, "renders an object twice", errs)
	}
	slices.SortStableFunc(out, compareForApply)
	return out, nil
}

// renderComponent renders one component.
func renderComponent(app *model.Application, c *model.DecodedComponent) ([]*unstructured.Unstructured, error) {
	if p, ok := c.Properties.(*model.ManifestsProperties); ok {
		return renderManifests(app, c, p)
	}
	b := newBuilder(app, c)
	b.applyTraits()
	typed := append([]object{b.controller()}, b.objects...)
	if svc := b.service(); svc != nil {
		typed = append(typed, svc)
	}
	out := make([]*unstructured.Unstructured, 0, len(typed))
	for _, obj := range typed {
		u, err := toUnstructured(obj)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// toUnstructured converts a typed object, dropping what a typed object always has but
// an applied configuration must not: nulls (which server-side apply reads as "remove
// this field"), status, and empty structs nobody set.
func toUnstructured(obj object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	delete(m, "status")
	prune(m)
	return &unstructured.Unstructured{Object: m}, nil
}

// emptyIsUnset lists the fields whose empty value ({}) only means that nothing was set.
// Other empty maps mean something (emptyDir: {}).
var emptyIsUnset = map[string]bool{"status": true, "strategy": true, "updateStrategy": true, "resources": true, "securityContext": true, "metadata": true}

// prune removes nulls, and the empty maps of emptyIsUnset, from m.
func prune(m map[string]any) {
	for k, v := range m {
		switch v := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			prune(v)
			if len(v) == 0 && emptyIsUnset[k] {
				delete(m, k)
			}
		case []any:
			for _, e := range v {
				if em, ok := e.(map[string]any); ok {
					prune(em)
				}
			}
		}
	}
}

// duplicates reports objects rendered twice (same group, kind, namespace and name);
// owners[i] names the component that rendered objs[i].
func duplicates(objs []*unstructured.Unstructured, owners []string) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]string{}
	for i, u := range objs {
		gvk := u.GroupVersionKind()
		key := strings.Join([]string{gvk.Group, gvk.Kind, u.GetNamespace(), u.GetName()}, "/")
		comp := owners[i]
		if prev, dup := seen[key]; dup {
			errs = append(errs, field.Duplicate(field.NewPath("spec", "components").Key(comp),
				fmt.Sprintf("%s %s/%s, which component %s renders too", gvk.Kind, u.GetNamespace(), u.GetName(), prev)))
			continue
		}
		seen[key] = comp
	}
	return errs
}
