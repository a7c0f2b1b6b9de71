package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// ParseApplication decodes one YAML or JSON document into an Application. A wrong
// apiVersion or kind, unknown or duplicate fields and values of the wrong type are errors
// naming the field. The values themselves are checked by Validate, after profiles and
// overlays had their say.
func ParseApplication(data []byte) (*Application, error) {
	app := &Application{}
	if err := decodeDocument(data, KindApplication, app, func() string { return app.Metadata.Name }); err != nil {
		return nil, err
	}
	return app, nil
}

// ParseProfile decodes and validates one YAML or JSON document holding a Profile.
func ParseProfile(data []byte) (*Profile, error) {
	p := &Profile{}
	if err := decodeDocument(data, KindProfile, p, func() string { return p.Metadata.Name }); err != nil {
		return nil, err
	}
	return p, p.Validate()
}

// ParseEnvironment decodes and validates one YAML or JSON document holding an Environment.
func ParseEnvironment(data []byte) (*Environment, error) {
	env := &Environment{}
	if err := decodeDocument(data, KindEnvironment, env, func() string { return env.Metadata.Name }); err != nil {
		return nil, err
	}
	return env, env.Validate()
}

// decodeDocument checks data's apiVersion and kind, then decodes it strictly into doc.
// name returns the document's name once decoded, for the error summary.
func decodeDocument(data []byte, kind string, doc any, name func() string) error {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return fmt.Errorf("not a valid YAML document: %w", err)
	}
	var tm metav1.TypeMeta
	if err := kjson.UnmarshalCaseSensitivePreserveInts(j, &tm); err != nil {
		return fmt.Errorf("not a %s: the document is not a YAML map", kind)
	}
	if errs := validateTypeMeta(tm, kind); len(errs) > 0 {
		return &FieldErrors{Summary: "not a " + APIVersion + " " + kind, Errors: errs}
	}
	errs := DecodeStrict(j, doc, nil)
	return NewFieldErrors(kind, name(), "is invalid", errs)
}

// DecodeStrict decodes the JSON data into v, rejecting unknown and duplicate fields. Each
// problem is reported at its path under at (nil for the document's root); an unknown
// field's error lists the known ones.
func DecodeStrict(data []byte, v any, at *field.Path) field.ErrorList {
	strictErrs, err := kjson.UnmarshalStrict(data, v)
	if err != nil {
		return field.ErrorList{decodeError(data, v, err, at)}
	}
	var errs field.ErrorList
	for _, se := range strictErrs {
		var fe kjson.FieldError
		if !errors.As(se, &fe) {
			errs = append(errs, field.Invalid(at, field.OmitValueType{}, se.Error()))
			continue
		}
		detail := strings.TrimSuffix(se.Error(), " "+strconv.Quote(fe.FieldPath()))
		if strings.HasPrefix(detail, "unknown field") {
			if known := knownFields(reflect.TypeOf(v), fe.FieldPath()); len(known) > 0 {
				detail += " (known: " + strings.Join(known, ", ") + ")"
			}
		}
		errs = append(errs, field.Forbidden(appendPath(at, fe.FieldPath()), detail))
	}
	return errs
}

// decodeError turns a JSON decoding error into one naming the field where possible.
// v is what data was decoded into.
func decodeError(data []byte, v any, err error, at *field.Path) *field.Error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		detail := fmt.Sprintf("expected %s, got a JSON %s", jsonTypeName(te.Type), te.Value)
		if te.Type.Kind() == reflect.String {
			detail += ` (quote it: YAML reads 8080, 1.0, yes and off as numbers and booleans)`
		}
		return field.TypeInvalid(typedPath(at, reflect.TypeOf(v), pathAtOffset(data, te.Offset)), field.OmitValueType{}, detail)
	}
	return field.Invalid(at, field.OmitValueType{}, err.Error())
}

// jsonFrame is an object or array being read, and the position in it: the key of the
// current member, or the index of the current element.
type jsonFrame struct {
	array bool
	key   string
	index int
}

// pathAtOffset returns the frames around the JSON value in data that starts or ends at
// offset, where encoding/json reports a type error.
func pathAtOffset(data []byte, offset int64) []jsonFrame {
	var stack []jsonFrame
	dec := json.NewDecoder(bytes.NewReader(data))
	inObject := func() bool { return len(stack) > 0 && !stack[len(stack)-1].array }
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return stack
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			expectKey = inObject()
			continue
		}
		if expectKey {
			stack[len(stack)-1].key, expectKey = tok.(string), false
			continue
		}
		if len(stack) > 0 && stack[len(stack)-1].array {
			stack[len(stack)-1].index++
		}
		if dec.InputOffset() >= offset {
			return stack
		}
		switch tok {
		case json.Delim('{'):
			stack, expectKey = append(stack, jsonFrame{}), true
		case json.Delim('['):
			stack = append(stack, jsonFrame{array: true, index: -1})
		default:
			expectKey = inObject()
		}
	}
}

// typedPath extends at by the frames, following the Go type t: a key of a map is
// written [key], a field of a struct .field.
func typedPath(at *field.Path, t reflect.Type, frames []jsonFrame) *field.Path {
	p := at
	for _, f := range frames {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case f.array:
			p = appendIndex(p, f.index)
		case t != nil && t.Kind() == reflect.Map:
			p = appendKey(p, f.key)
		default:
			p = appendPath(p, f.key)
		}
		if t != nil {
			if f.array {
				t = fieldType(t, "[")
			} else {
				t = fieldType(t, f.key)
			}
		}
	}
	if p == nil {
		return field.NewPath("")
	}
	return p
}

func appendIndex(p *field.Path, i int) *field.Path {
	if p == nil {
		return field.NewPath("").Index(i)
	}
	return p.Index(i)
}

func appendKey(p *field.Path, k string) *field.Path {
	if p == nil {
		return field.NewPath("").Key(k)
	}
	return p.Key(k)
}

// appendPath returns at extended by the dotted path p ("a.b[2].c").
func appendPath(at *field.Path, p string) *field.Path {
	if p == "" {
		if at == nil {
			return field.NewPath("")
		}
		return at
	}
	if at == nil {
		return field.NewPath(p)
	}
	return at.Child(p)
}

// jsonTypeName names a Go type the way a YAML author thinks of it.
func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer (" + t.Kind().String() + ")"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a map"
	}
	return t.String()
}

// knownFields returns the JSON field names of the struct holding the last element of the
// dotted path p, starting from type t; nil if that is not a struct.
func knownFields(t reflect.Type, p string) []string {
	segs := splitPath(p)
	for _, s := range segs[:max(len(segs)-1, 0)] {
		t = fieldType(t, s)
		if t == nil {
			return nil
		}
	}
	return jsonFields(t)
}

// splitPath splits "a.b[2].c" into "a", "b", "[2]", "c".
func splitPath(p string) []string {
	var segs []string
	for part := range strings.SplitSeq(p, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			segs = append(segs, name)
		}
		for rest != "" {
			idx, more, _ := strings.Cut(rest, "[")
			segs = append(segs, "["+idx)
			rest = more
		}
	}
	return segs
}

// fieldType returns the type reached from t by one path segment: a field name, a map
// key or an index ("[2]"), or nil.
func fieldType(t reflect.Type, seg string) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		if strings.HasPrefix(seg, "[") {
			return t.Elem()
		}
	case reflect.Map:
		return t.Elem()
	case reflect.Struct:
		return structField(t, seg)
	}
	return nil
}

// structField returns the type of the field of struct t whose JSON name is name,
// looking into embedded structs, or nil.
func structField(t reflect.Type, name string) reflect.Type {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case f.Anonymous && tag == "":
			if ft := structField(f.Type, name); ft != nil {
				return ft
			}
		case tag == name || (tag == "" && f.Name == name):
			return f.Type
		}
	}
	return nil
}

// validateTypeMeta checks that a document is an apps.vcp.dev/v1alpha1 kind.
func validateTypeMeta(tm metav1.TypeMeta, kind string) field.ErrorList {
	var errs field.ErrorList
	if tm.APIVersion != APIVersion {
		errs = append(errs, field.NotSupported(field.NewPath("apiVersion"), tm.APIVersion, []string{APIVersion}))
	}
	if tm.Kind != kind {
		errs = append(errs, field.NotSupported(field.NewPath("kind"), tm.Kind, []string{kind}))
	}
	return errs
}
