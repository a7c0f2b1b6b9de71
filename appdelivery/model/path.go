package model

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// Path addresses fields of an ApplicationSpec in a profile Rule. Its syntax:
//
//	path     = segment { "." segment }
//	segment  = field [ "[" selector "]" ]
//	field    = name | '"' any characters but '"' '"'
//	name     = letters, digits, "-", "_" and "/"
//	selector = "*" | key | "+" key
//
// A field selects a key of a map. A selector selects entries of a list: "*" every entry,
// a key the entry whose identity is key: a trait's type in traits, an entry's name in
// every other list. "+" key also adds the entry where it is missing, so that a rule can
// give every component a trait; without "+", a rule only concerns the entries there
// are. A field with dots (a label key) is quoted:
//
//	components[*].traits[+resources].properties.limits.memory
//	components[*].traits[route].properties.ingressClassName
//	components[web].properties.imagePullPolicy
//	components[*].traits[+labels].properties."example.com/team"
type Path []PathSegment

// PathSegment is one step of a Path.
type PathSegment struct {
	// Field is the map key.
	Field string
	// Selector is "" when the segment selects no list entries, "*" for every entry,
	// else the identity of one entry.
	Selector string
	// Add is true when the entry Selector names is added where missing ("[+key]").
	Add bool
}

// SelectAll is the selector of every entry of a list.
const SelectAll = "*"

// ParsePath parses a Path. A rule's path must end in a field, not a selector.
func ParsePath(s string) (Path, error) {
	var p Path
	rest := s
	for {
		seg, more, err := parseSegment(rest)
		if err != nil {
			return nil, fmt.Errorf("at offset %d: %w", len(s)-len(rest), err)
		}
		p = append(p, seg)
		if more == "" {
			break
		}
		if more[0] != '.' {
			return nil, fmt.Errorf("at offset %d: expected \".\" or the end, found %q", len(s)-len(more), more[0])
		}
		rest = more[1:]
	}
	if p[len(p)-1].Selector != "" {
		return nil, fmt.Errorf("must end in a field, not a selector: add the field of the entry to set (e.g. %q)", s+".properties")
	}
	return p, nil
}

func parseSegment(s string) (PathSegment, string, error) {
	var seg PathSegment
	var rest string
	if strings.HasPrefix(s, `"`) {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return seg, "", fmt.Errorf("unterminated quoted field")
		}
		seg.Field, rest = s[1:end+1], s[end+2:]
	} else {
		n := strings.IndexFunc(s, func(r rune) bool { return !isNameRune(r) })
		if n < 0 {
			n = len(s)
		}
		seg.Field, rest = s[:n], s[n:]
	}
	if seg.Field == "" {
		return seg, "", fmt.Errorf("expected a field name")
	}
	if !strings.HasPrefix(rest, "[") {
		return seg, rest, nil
	}
	end := strings.IndexByte(rest, ']')
	if end < 0 {
		return seg, "", fmt.Errorf("unterminated selector")
	}
	seg.Selector, rest = rest[1:end], rest[end+1:]
	if key, add := strings.CutPrefix(seg.Selector, "+"); add {
		seg.Selector, seg.Add = key, true
		if key == "" || key == SelectAll {
			return seg, "", fmt.Errorf("[+] adds the entry a key names: write [+key]")
		}
	}
	if seg.Selector == "" {
		return seg, "", fmt.Errorf("empty selector: use [*] for every entry")
	}
	return seg, rest, nil
}

func isNameRune(r rune) bool {
	return r == '-' || r == '_' || r == '/' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}

// String formats p in the syntax ParsePath reads.
func (p Path) String() string {
	var b strings.Builder
	for i, seg := range p {
		if i > 0 {
			b.WriteByte('.')
		}
		if strings.IndexFunc(seg.Field, func(r rune) bool { return !isNameRune(r) }) >= 0 {
			b.WriteString(`"` + seg.Field + `"`)
		} else {
			b.WriteString(seg.Field)
		}
		switch {
		case seg.Add:
			b.WriteString("[+" + seg.Selector + "]")
		case seg.Selector != "":
			b.WriteString("[" + seg.Selector + "]")
		}
	}
	return b.String()
}

// ListKey is the field that identifies an entry of the list held by field: a trait's
// type in traits, the name in any other list.
func ListKey(field string) string {
	if field == "traits" {
		return "type"
	}
	return "name"
}

var (
	rawJSONType = reflect.TypeOf(json.RawMessage{})
	traitsType  = reflect.TypeOf([]Trait{})
)

// checkSchema reports a problem when p cannot address a field of an ApplicationSpec:
// a field no type has, a selector on something that is not a list, a field below a
// scalar. A trait's properties are checked against the type the selector names, a
// component's against the union of every component type's.
func (p Path) checkSchema() error {
	if p[0].Field == "components" && p[0].Add {
		return fmt.Errorf("%s: a profile cannot add components, only select them", p[:1])
	}
	return p.checkFrom(0, reflect.TypeOf(ApplicationSpec{}))
}

// checkFrom checks p[i:], starting from the Go type t.
func (p Path) checkFrom(i int, t reflect.Type) error {
	for ; i < len(p); i++ {
		seg := p[i]
		var ft reflect.Type
		var err error
		if t == rawJSONType {
			ft, err = p.propertyType(i)
		} else {
			ft, err = schemaField(t, seg.Field)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p[:i+1], err)
		}
		if ft == nil {
			return nil // free-form below this point
		}
		if ft == traitsType && seg.Selector != "" && i+1 < len(p) && p[i+1].Field == "properties" {
			return p.checkTraitProperties(i)
		}
		if seg.Selector != "" {
			if ft.Kind() != reflect.Slice {
				return fmt.Errorf("%s: %q is not a list, so it takes no selector", p[:i+1], seg.Field)
			}
			ft = ft.Elem()
		}
		t = ft
	}
	return nil
}

// checkTraitProperties checks the path below p[i] = traits[<type>].properties against
// the properties of that trait type.
func (p Path) checkTraitProperties(i int) error {
	sel := p[i].Selector
	if sel == SelectAll {
		return nil
	}
	info, ok := traitTypes[TraitType(sel)]
	if !ok {
		return fmt.Errorf("%s: unknown trait type %q (known: %s)", p[:i+1], sel, joinTraits(TraitTypes()))
	}
	return p.checkFrom(i+2, reflect.TypeOf(info.newProperties()))
}

// propertyType returns the type of the component property p[i] names (p[i-1] being a
// component's properties), taken from the first component type that has it. It returns
// nil, nil when p[i-1] is not a component's properties.
func (p Path) propertyType(i int) (reflect.Type, error) {
	if i < 2 || p[i-2].Field != "components" {
		return nil, nil
	}
	for _, ct := range ComponentTypes() {
		if ft := structField(reflect.TypeOf(componentTypes[ct].newProperties()).Elem(), p[i].Field); ft != nil {
			return ft, nil
		}
	}
	return nil, fmt.Errorf("no component type has the property %q", p[i].Field)
}

func joinTraits(ts []TraitType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// schemaField returns the type of field name in t: a struct field by JSON name or a map's
// values. It returns nil, nil when t is free-form (any).
func schemaField(t reflect.Type, name string) (reflect.Type, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Interface:
		return nil, nil
	case reflect.Map:
		return t.Elem(), nil
	case reflect.Struct:
		if ft := structField(t, name); ft != nil {
			return ft, nil
		}
		return nil, fmt.Errorf("unknown field %q (known: %s)", name, strings.Join(jsonFields(t), ", "))
	}
	return nil, fmt.Errorf("%s has no fields", jsonTypeName(t))
}
