package model

import (
	"reflect"
	"testing"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		in      string
		want    Path
		wantErr string
	}{
		{in: "namespace", want: Path{{Field: "namespace"}}},
		{in: "components[*].traits[resources].properties.limits.memory", want: Path{
			{Field: "components", Selector: "*"}, {Field: "traits", Selector: "resources"},
			{Field: "properties"}, {Field: "limits"}, {Field: "memory"},
		}},
		{in: `components[web].traits[labels].properties."example.com/team"`, want: Path{
			{Field: "components", Selector: "web"}, {Field: "traits", Selector: "labels"},
			{Field: "properties"}, {Field: "example.com/team"},
		}},
		{in: "components[*].traits[+resources].properties", want: Path{
			{Field: "components", Selector: "*"}, {Field: "traits", Selector: "resources", Add: true}, {Field: "properties"},
		}},
		{in: "a[+]", wantErr: "at offset 0: [+] adds the entry a key names: write [+key]"},
		{in: "a[+*].b", wantErr: "at offset 0: [+] adds the entry a key names: write [+key]"},
		{in: "", wantErr: "at offset 0: expected a field name"},
		{in: "components[*]", wantErr: `must end in a field, not a selector: add the field of the entry to set (e.g. "components[*].properties")`},
		{in: "components[]", wantErr: "at offset 0: empty selector: use [*] for every entry"},
		{in: "components[web", wantErr: "at offset 0: unterminated selector"},
		{in: "a..b", wantErr: "at offset 2: expected a field name"},
		{in: `a."b`, wantErr: "at offset 2: unterminated quoted field"},
		{in: "a b", wantErr: `at offset 1: expected "." or the end, found ' '`},
		{in: "a[x]b", wantErr: `at offset 4: expected "." or the end, found 'b'`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePath(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("ParsePath(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePath(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParsePath(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

// FuzzParsePath checks that ParsePath never panics and that what it accepts prints
// back to a path that parses to the same segments.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"namespace", "components[*].traits[scale].properties.replicas", `a."b.c"[d].e`, "a[", `"`, "a.[b]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			return
		}
		again, err := ParsePath(p.String())
		if err != nil {
			t.Fatalf("ParsePath(%q) = %v, whose String() %q does not parse: %v", s, p, p.String(), err)
		}
		if !reflect.DeepEqual(p, again) {
			t.Fatalf("ParsePath(%q) = %#v, but its String() parses to %#v", s, p, again)
		}
	})
}

func TestProfileValidate(t *testing.T) {
	const head = "apiVersion: apps.vcp.dev/v1alpha1\nkind: Profile\nmetadata: {name: acme}\nspec:\n  rules:\n"
	tests := []struct {
		name    string
		rules   string
		wantErr []string
	}{
		{name: "valid", rules: `
  - {path: "components[*].traits[+resources].properties.limits.memory", default: 512Mi}
  - {path: "components[*].traits[labels].properties", merge: {team: platform}}
  - {path: "components[*].properties.imagePullPolicy", immutable: IfNotPresent}
  - {path: "components[*].traits[sidecar].properties.containers", merge: [{name: log, image: x}]}
  - {path: "components[*].properties.ports[http].port", default: 8080}
  - {path: "components[*].traits[*].properties.anything", default: 1}
  - {path: "namespace", immutable: shop}`},
		{name: "semantics", rules: `
  - {path: namespace}
  - {path: namespace, default: a, immutable: a}
  - {path: "namespace", default: null}
  - {path: "namespace", merge: a}`, wantErr: []string{
			"spec.rules[0]: Invalid value: set exactly one of default, merge and immutable",
			"spec.rules[1]: Invalid value: set exactly one of default, merge and immutable",
			"spec.rules[2].default: Invalid value: null: must not be null",
			`spec.rules[3].merge: Invalid value: "a": merge unions maps or lists: the value must be one`,
		}},
		{name: "paths", rules: `
  - {default: 1}
  - {path: "components[*", default: 1}
  - {path: "components[*].trait[scale].properties.replicas", default: 1}
  - {path: "components[*].traits[scal].properties.replicas", default: 1}
  - {path: "components[*].traits[scale].properties.replica", default: 1}
  - {path: "components[*].properties.imag", default: 1}
  - {path: "namespace[x].y", default: 1}
  - {path: "namespace.y", default: 1}
  - {path: "components[+web].properties.image", default: x}`, wantErr: []string{
			"spec.rules[0].path: Required value",
			`spec.rules[1].path: Invalid value: "components[*": at offset 0: unterminated selector`,
			`spec.rules[2].path: Invalid value: "components[*].trait[scale].properties.replicas": components[*].trait[scale]: unknown field "trait" (known: dependsOn, name, properties, traits, type)`,
			`spec.rules[3].path: Invalid value: "components[*].traits[scal].properties.replicas": components[*].traits[scal]: unknown trait type "scal"`,
			`spec.rules[4].path: Invalid value: "components[*].traits[scale].properties.replica": components[*].traits[scale].properties.replica: unknown field "replica" (known: replicas)`,
			`spec.rules[5].path: Invalid value: "components[*].properties.imag": components[*].properties.imag: no component type has the property "imag"`,
			`spec.rules[6].path: Invalid value: "namespace[x].y": namespace[x]: "namespace" is not a list, so it takes no selector`,
			`spec.rules[7].path: Invalid value: "namespace.y": namespace.y: a string has no fields`,
			`spec.rules[8].path: Invalid value: "components[+web].properties.image": components[+web]: a profile cannot add components, only select them`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseProfile([]byte(head + tt.rules))
			checkErr(t, err, tt.wantErr)
		})
	}
}

func TestEnvironmentValidate(t *testing.T) {
	const head = "apiVersion: apps.vcp.dev/v1alpha1\nkind: Environment\nmetadata: {name: prod}\n"
	tests := []struct {
		name    string
		doc     string
		wantErr []string
	}{
		{name: "valid", doc: head + `
spec:
  namespace!: shop-prod
  components:
  - name: web
    properties: {image!: "web:2", ports!: null}
    traits:
    - type: scale
      properties: {replicas!: 5}`},
		{name: "empty", doc: head},
		{name: "unknown field after removing markers", doc: head + `
spec:
  components:
  - name: web
    traits!: []
    dependOn: [db]`, wantErr: []string{"spec.components[0].dependOn: Forbidden: unknown field"}},
		{name: "markers", doc: head + `
spec:
  components:
  - name!: web
    properties: {image: a, image!: b}
    traits:
    - type!: scale`, wantErr: []string{
			"spec.components[0].name!: Forbidden: a list entry is identified by its name, which cannot be overridden",
			`spec.components[0].properties.image!: Duplicate value: "both image and image! are set"`,
			"spec.components[0].traits[0].type!: Forbidden: a list entry is identified by its type, which cannot be overridden",
		}},
		{name: "entries need their key", doc: head + `
spec:
  components:
  - properties: {image: a}
  - name: web
    traits:
    - properties: {replicas: 2}`, wantErr: []string{
			"spec.components[0].name: Required value: an overlay's component is matched by name",
			"spec.components[1].traits[0].type: Required value: an overlay's trait is matched by type",
		}},
		{name: "wrong kind", doc: "apiVersion: apps.vcp.dev/v1alpha1\nkind: Application\nmetadata: {name: prod}\n",
			wantErr: []string{`kind: Unsupported value: "Application": supported values: "Environment"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEnvironment([]byte(tt.doc))
			checkErr(t, err, tt.wantErr)
		})
	}
}

func TestStripOverrideMarkers(t *testing.T) {
	in := map[string]any{"a!": int64(1), "b": map[string]any{"c!": nil, "d": []any{map[string]any{"e!": "x"}}}}
	want := map[string]any{"a": int64(1), "b": map[string]any{"d": []any{map[string]any{"e": "x"}}}}
	if got := StripOverrideMarkers(in); !reflect.DeepEqual(got, want) {
		t.Fatalf("StripOverrideMarkers = %#v, want %#v", got, want)
	}
	if _, ok := in["a!"]; !ok {
		t.Fatal("StripOverrideMarkers modified its input")
	}
}
