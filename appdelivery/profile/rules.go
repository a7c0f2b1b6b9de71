package profile

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/vcp-dev/vcp/appdelivery/model"
)

// slot is a place a rule's path reaches: key of parent, at path.
type slot struct {
	parent map[string]any
	key    string
	path   *field.Path
}

func (s slot) get() (any, bool) {
	v, ok := s.parent[s.key]
	return v, ok && v != nil
}

// cursor is where a walk along a rule's path stands.
type cursor struct {
	node map[string]any
	path *field.Path
	// component is the component entry the walk is in, if any.
	component map[string]any
	// root is true at the spec itself, where components is the list of components.
	root bool
}

// walker resolves a rule's path in a spec. With create, it adds the maps missing on the
// way, and the list entries a "[+key]" selector names where adding them makes sense (see
// canCreate), so that the rule can set the field.
type walker struct {
	create bool
}

// resolve returns the slots p reaches from c, in the order of the spec's lists.
func (w walker) resolve(c cursor, p model.Path) ([]slot, *field.Error) {
	seg := p[0]
	if len(p) == 1 {
		return []slot{{parent: c.node, key: seg.Field, path: c.path.Child(seg.Field)}}, nil
	}
	if seg.Selector == "" {
		child, err := w.mapAt(c, seg.Field)
		if child == nil || err != nil {
			return nil, err
		}
		return w.resolve(cursor{node: child, path: c.path.Child(seg.Field), component: c.component}, p[1:])
	}
	return w.resolveList(c, p)
}

// mapAt returns the map at key of c.node, creating it when the walker creates. It
// returns nil when there is none, and an error when the value is not a map.
func (w walker) mapAt(c cursor, key string) (map[string]any, *field.Error) {
	switch v := c.node[key].(type) {
	case map[string]any:
		return v, nil
	case nil:
		if !w.create {
			return nil, nil
		}
		m := map[string]any{}
		c.node[key] = m
		return m, nil
	default:
		return nil, field.TypeInvalid(c.path.Child(key), v, "the rule's path needs a map here")
	}
}

// resolveList resolves p, whose first segment selects entries of a list.
func (w walker) resolveList(c cursor, p model.Path) ([]slot, *field.Error) {
	seg := p[0]
	list, ok := c.node[seg.Field].([]any)
	if !ok && c.node[seg.Field] != nil {
		return nil, field.TypeInvalid(c.path.Child(seg.Field), c.node[seg.Field], "the rule's path needs a list here")
	}
	key := model.ListKey(seg.Field)
	components := c.root && seg.Field == "components"
	var out []slot
	matched := false
	for i, e := range list {
		entry, ok := e.(map[string]any)
		id, _ := entry[key].(string)
		if !ok || (seg.Selector != model.SelectAll && id != seg.Selector) {
			continue
		}
		matched = true
		next := cursor{node: entry, path: c.path.Child(seg.Field).Key(id), component: c.component}
		if id == "" {
			next.path = c.path.Child(seg.Field).Index(i)
		}
		if components {
			if !appliesTo(entry, p[1:]) {
				continue
			}
			next.component = entry
		}
		slots, err := w.resolve(next, p[1:])
		if err != nil {
			return nil, err
		}
		out = append(out, slots...)
	}
	if matched || !seg.Add || !w.create || !canCreate(c, seg, components) {
		return out, nil
	}
	entry := map[string]any{key: seg.Selector}
	c.node[seg.Field] = append(list, entry)
	return w.resolve(cursor{node: entry, path: c.path.Child(seg.Field).Key(seg.Selector), component: c.component}, p[1:])
}

// appliesTo reports whether a rule's path below a component entry concerns it: a path
// into properties concerns only the component types that have the property, so that
// "components[*].properties.imagePullPolicy" passes manifests components by.
func appliesTo(component map[string]any, rest model.Path) bool {
	if len(rest) < 2 || rest[0].Field != "properties" {
		return true
	}
	t, _ := component["type"].(string)
	ct := model.ComponentType(t)
	return !ct.Known() || ct.HasProperty(rest[1].Field)
}

// canCreate reports whether a rule may add the list entry seg selects with "[+key]":
// never a component, and a trait only where its component's type allows it and no trait
// it conflicts with is there (a default for scale does not go onto a daemon, nor onto a
// component that autoscales).
func canCreate(c cursor, seg model.PathSegment, components bool) bool {
	if components {
		return false
	}
	if seg.Field != "traits" || c.component == nil {
		return true
	}
	t := model.TraitType(seg.Selector)
	ct, _ := c.component["type"].(string)
	if !t.Known() || !t.AllowedOn(model.ComponentType(ct)) {
		return false
	}
	traits, _ := c.component["traits"].([]any)
	for _, e := range traits {
		if other, ok := entryKey(e, "type"); ok && t.ConflictsWith(model.TraitType(other)) {
			return false
		}
	}
	return true
}

// source is a file whose values were merged into the composed spec, for telling which
// one set a value a rule rejects.
type source struct {
	name string
	spec map[string]any
}

// applyProfile applies the profile's rules, in order, to spec (modifying it). sources
// are the files spec was composed from, in merge order.
func applyProfile(spec map[string]any, prof *model.Profile, sources []source) field.ErrorList {
	var errs field.ErrorList
	for i := range prof.Spec.Rules {
		errs = append(errs, applyRule(spec, prof, i, sources)...)
	}
	return errs
}

func applyRule(spec map[string]any, prof *model.Profile, i int, sources []source) field.ErrorList {
	rule := &prof.Spec.Rules[i]
	p, err := model.ParsePath(rule.Path)
	if err != nil {
		return field.ErrorList{field.Invalid(field.NewPath("spec"), rule.Path, "profile rule path: "+err.Error())}
	}
	sem, _ := rule.Semantics()
	value, err := rule.Value()
	if err != nil || value == nil {
		return field.ErrorList{field.Invalid(field.NewPath("spec"), rule.Path, fmt.Sprintf("profile rule %d has no value", i))}
	}
	slots, ferr := walker{create: true}.resolve(cursor{node: spec, path: field.NewPath("spec"), root: true}, p)
	if ferr != nil {
		ferr.Detail += fmt.Sprintf(" (Profile %q, rule %d: %s)", prof.Metadata.Name, i, rule.Path)
		return field.ErrorList{ferr}
	}
	var errs field.ErrorList
	for _, s := range slots {
		cur, set := s.get()
		switch {
		case !set:
			s.parent[s.key] = deepCopy(value)
		case sem == model.SemanticsMerge:
			s.parent[s.key] = union(s.key, cur, value)
		case sem == model.SemanticsImmutable && !equal(cur, value):
			errs = append(errs, field.Invalid(s.path, cur, fmt.Sprintf(
				"immutable in Profile %q (rule %d: %s), which requires %s; set by %s",
				prof.Metadata.Name, i, rule.Path, jsonText(value), setBy(p, s.path, sources))))
		}
	}
	return errs
}

// setBy names the last of sources that sets the value at path (reached by p).
func setBy(p model.Path, path *field.Path, sources []source) string {
	for i := len(sources) - 1; i >= 0; i-- {
		slots, _ := walker{}.resolve(cursor{node: sources[i].spec, path: field.NewPath("spec"), root: true}, p)
		for _, s := range slots {
			if _, set := s.get(); set && s.path.String() == path.String() {
				return sources[i].name
			}
		}
	}
	return "an earlier rule of the profile"
}

// union returns the application's value app unioned with the profile's prof, for
// field name: maps key by key and keyed lists entry by entry, recursively, the
// application winning on the same key; lists of scalars keep the application's items
// and add the profile's missing ones. Anything else is the application's.
func union(name string, app, prof any) any {
	switch p := prof.(type) {
	case map[string]any:
		a, ok := app.(map[string]any)
		if !ok {
			return app
		}
		for _, k := range sortedKeys(p) {
			if v, set := a[k]; set && v != nil {
				a[k] = union(k, v, p[k])
			} else {
				a[k] = deepCopy(p[k])
			}
		}
		return a
	case []any:
		a, ok := app.([]any)
		if !ok {
			return app
		}
		return unionLists(name, a, p)
	}
	return app
}

func unionLists(name string, app, prof []any) []any {
	key := listKey(name, app, prof)
	for _, pe := range prof {
		i := slices.IndexFunc(app, func(ae any) bool { return sameEntry(key, ae, pe) })
		switch {
		case i < 0:
			app = append(app, deepCopy(pe))
		case key != "":
			app[i] = union("", app[i], pe)
		}
	}
	return app
}

// sameEntry reports whether a and b are the same entry of a list keyed by key, or of an
// atomic list when key is "".
func sameEntry(key string, a, b any) bool {
	if key == "" {
		return equal(a, b)
	}
	x, _ := entryKey(a, key)
	y, _ := entryKey(b, key)
	return x == y
}
