package model

import (
	"bytes"

	"k8s.io/apimachinery/pkg/util/validation/field"
	kjson "sigs.k8s.io/json"
)

// Validate checks the Profile: its kind, name, and every rule's path (syntax and
// schema), semantics and value. It returns a *FieldErrors or nil.
func (p *Profile) Validate() error {
	errs := validateTypeMeta(p.TypeMeta, KindProfile)
	errs = append(errs, validateDNSLabel(field.NewPath("metadata", "name"), p.Metadata.Name)...)
	for i := range p.Spec.Rules {
		errs = append(errs, validateRule(field.NewPath("spec", "rules").Index(i), &p.Spec.Rules[i])...)
	}
	return NewFieldErrors(KindProfile, p.Metadata.Name, "is invalid", errs)
}

func validateRule(path *field.Path, r *Rule) field.ErrorList {
	var errs field.ErrorList
	if r.Path == "" {
		errs = append(errs, field.Required(path.Child("path"), ""))
	} else if p, err := ParsePath(r.Path); err != nil {
		errs = append(errs, field.Invalid(path.Child("path"), r.Path, err.Error()))
	} else if err := p.checkSchema(); err != nil {
		errs = append(errs, field.Invalid(path.Child("path"), r.Path, err.Error()))
	}
	sem, raw := r.Semantics()
	if sem == "" {
		return append(errs, field.Invalid(path, field.OmitValueType{}, "set exactly one of default, merge and immutable"))
	}
	v, err := r.Value()
	switch {
	case err != nil:
		errs = append(errs, field.Invalid(path.Child(string(sem)), string(raw), err.Error()))
	case v == nil:
		errs = append(errs, field.Invalid(path.Child(string(sem)), nil, "must not be null"))
	case sem == SemanticsMerge && !isCollection(v):
		errs = append(errs, field.Invalid(path.Child(string(sem)), v, "merge unions maps or lists: the value must be one"))
	}
	return errs
}

// Value returns the rule's value decoded from JSON (maps, lists, strings, int64s,
// float64s, booleans), or nil when it is null or the rule has none.
func (r *Rule) Value() (any, error) {
	_, raw := r.Semantics()
	if raw == nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, nil
	}
	var v any
	if err := kjson.UnmarshalCaseSensitivePreserveInts(raw, &v); err != nil {
		return nil, err
	}
	return v, nil
}

func isCollection(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}
