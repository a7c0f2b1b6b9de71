package model

import (
	"encoding/json"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validate checks the Environment: its kind, name, and that its spec is a partial
// ApplicationSpec (known fields, right types, list entries carrying their key, override
// markers used where they mean something). It returns a *FieldErrors or nil.
func (e *Environment) Validate() error {
	errs := validateTypeMeta(e.TypeMeta, KindEnvironment)
	errs = append(errs, validateDNSLabel(field.NewPath("metadata", "name"), e.Metadata.Name)...)
	errs = append(errs, validateOverlay(field.NewPath("spec"), e.Spec)...)
	return NewFieldErrors(KindEnvironment, e.Metadata.Name, "is invalid", errs)
}

// StripOverrideMarkers returns a deep copy of v in which no map key carries the override
// marker: "k!" becomes "k", and a marked key with a null value (a removal) is dropped.
func StripOverrideMarkers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for _, k := range sortedKeys(v) { // marked keys sort after plain ones and win
			name, override := OverrideKey(k)
			switch {
			case override && v[k] == nil:
				delete(out, name)
			default:
				out[name] = StripOverrideMarkers(v[k])
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = StripOverrideMarkers(e)
		}
		return out
	}
	return v
}

// validateOverlay checks a partial ApplicationSpec at path.
func validateOverlay(path *field.Path, spec map[string]any) field.ErrorList {
	if spec == nil {
		return nil
	}
	errs := validateMarkers(path, spec, "", "")
	stripped := StripOverrideMarkers(spec).(map[string]any)
	data, err := json.Marshal(stripped)
	if err != nil {
		return append(errs, field.InternalError(path, err))
	}
	var partial ApplicationSpec
	if derrs := DecodeStrict(data, &partial, path); len(derrs) > 0 {
		return append(errs, derrs...)
	}
	return append(errs, validateOverlayKeys(path, stripped)...)
}

// validateMarkers finds keys given both plain and marked, and marked identity keys of
// list entries (an entry is found by its key, so the key cannot be replaced). holder is
// the field holding v; listField is the field holding the list when v is a list entry.
func validateMarkers(path *field.Path, v any, holder, listField string) field.ErrorList {
	var errs field.ErrorList
	switch v := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v) {
			name, override := OverrideKey(k)
			switch {
			case override && listField != "" && name == ListKey(listField):
				errs = append(errs, field.Forbidden(path.Child(k), "a list entry is identified by its "+name+", which cannot be overridden"))
			case override && hasKey(v, name):
				errs = append(errs, field.Duplicate(path.Child(k), "both "+name+" and "+k+" are set"))
			}
			errs = append(errs, validateMarkers(path.Child(k), v[k], name, "")...)
		}
	case []any:
		for i, e := range v {
			errs = append(errs, validateMarkers(path.Index(i), e, "", holder)...)
		}
	}
	return errs
}

// validateOverlayKeys checks that every component entry has a name and every trait entry
// a type: an overlay's entries are matched to the base's by them.
func validateOverlayKeys(path *field.Path, spec map[string]any) field.ErrorList {
	var errs field.ErrorList
	comps, _ := spec["components"].([]any)
	for i, c := range comps {
		p := path.Child("components").Index(i)
		cm, _ := c.(map[string]any)
		if name, _ := cm["name"].(string); name == "" {
			errs = append(errs, field.Required(p.Child("name"), "an overlay's component is matched by name"))
		}
		traits, _ := cm["traits"].([]any)
		for j, t := range traits {
			tm, _ := t.(map[string]any)
			if typ, _ := tm["type"].(string); typ == "" {
				errs = append(errs, field.Required(p.Child("traits").Index(j).Child("type"), "an overlay's trait is matched by type"))
			}
		}
	}
	return errs
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}
