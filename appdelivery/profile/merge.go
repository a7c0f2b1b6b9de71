package profile

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/vcp-dev/vcp/appdelivery/model"
)

// MergeOverlay returns overlay merged onto base, two (partial) ApplicationSpecs in JSON
// form, with the rules of an Environment:
//
//   - maps merge key by key;
//   - lists of traits merge by trait type, other lists whose entries all have a distinct
//     name merge by name: an entry of the overlay is merged onto the base's entry of the
//     same key, or appended;
//   - any other value (a scalar, a list of scalars) the overlay sets must equal the
//     base's, or the base must not set it: a different value is a conflict;
//   - a key with the override marker ("replicas!") replaces the base's value whatever it
//     is, and removes it when the overlay's value is null.
//
// The result shares nothing with the inputs, which are not modified. Every conflict is
// reported, at its path under spec, with the list entries named by key.
func MergeOverlay(base, overlay map[string]any) (map[string]any, field.ErrorList) {
	m := &merger{}
	out := m.mergeMaps(field.NewPath("spec"), deepCopy(base).(map[string]any), overlay)
	return out, m.errs
}

type merger struct {
	errs field.ErrorList
}

// mergeMaps merges overlay onto base, which it may modify (it is a copy).
func (m *merger) mergeMaps(path *field.Path, base, overlay map[string]any) map[string]any {
	if base == nil {
		base = map[string]any{}
	}
	for _, k := range sortedKeys(overlay) {
		name, override := model.OverrideKey(k)
		v := overlay[k]
		cur, set := base[name]
		switch {
		case override && hasKey(overlay, name):
			m.errs = append(m.errs, field.Duplicate(path.Child(k), "both "+name+" and "+k+" are set"))
		case override && v == nil:
			delete(base, name)
		case override || !set || cur == nil:
			if v != nil {
				base[name] = model.StripOverrideMarkers(v)
			}
		default:
			base[name] = m.merge(path.Child(name), name, cur, v)
		}
	}
	return base
}

// merge merges the overlay's value onto the base's (a copy) at path, for field name.
func (m *merger) merge(path *field.Path, name string, base, overlay any) any {
	switch o := overlay.(type) {
	case map[string]any:
		if b, ok := base.(map[string]any); ok {
			return m.mergeMaps(path, b, o)
		}
	case []any:
		if b, ok := base.([]any); ok {
			if key := listKey(name, b, o); key != "" {
				return m.mergeLists(path, key, b, o)
			}
		}
	}
	stripped := model.StripOverrideMarkers(overlay)
	if !equal(base, stripped) {
		m.errs = append(m.errs, field.Invalid(path, stripped, fmt.Sprintf(
			"conflicts with the base value %s; write the key as %q to override it", jsonText(base), name+model.OverrideSuffix)))
	}
	return base
}

// mergeLists merges the entries of overlay onto those of base with the same key, and
// appends the others. Both lists are keyed (see listKey).
func (m *merger) mergeLists(path *field.Path, key string, base, overlay []any) []any {
	index := map[string]int{}
	for i, e := range base {
		id, _ := entryKey(e, key)
		index[id] = i
	}
	for _, e := range overlay {
		id, _ := entryKey(e, key)
		if i, ok := index[id]; ok {
			base[i] = m.mergeMaps(path.Key(id), base[i].(map[string]any), e.(map[string]any))
			continue
		}
		index[id] = len(base)
		base = append(base, model.StripOverrideMarkers(e))
	}
	return base
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}
