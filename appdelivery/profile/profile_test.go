package profile

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/vcp-dev/vcp/appdelivery/model"
)

// tree decodes a YAML snippet the way the package sees specs: JSON maps and int64s.
func tree(t testing.TB, y string) map[string]any {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := kjson.UnmarshalCaseSensitivePreserveInts(j, &m); err != nil {
		t.Fatal(err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m
}

func TestMergeOverlay(t *testing.T) {
	const base = `
namespace: shop
components:
- name: web
  type: service
  properties:
    image: web:1
    args: [--a]
    ports: [{name: http, port: 8080}]
  traits:
  - type: scale
    properties: {replicas: 2}
  - type: labels
    properties: {team: a}
- name: db
  type: statefulset
  properties: {image: pg:16}
`
	tests := []struct {
		name    string
		overlay string
		want    string // YAML of the expected result; "" means base
		wantErr []string
	}{
		{name: "empty overlay", overlay: "{}"},
		{name: "same values are no conflict", overlay: `
namespace: shop
components:
- name: web
  properties: {image: web:1, args: [--a]}
  traits: [{type: scale, properties: {replicas: 2}}]`},
		{name: "new keys, entries and traits are added", overlay: `
components:
- name: web
  properties: {imagePullPolicy: Always, ports: [{name: metrics, port: 9090}]}
  traits:
  - type: labels
    properties: {tier: frontend}
  - type: env
    properties: {LOG: debug}
- name: cache
  type: worker
  properties: {image!: redis:7}`, want: `
namespace: shop
components:
- name: web
  type: service
  properties:
    image: web:1
    imagePullPolicy: Always
    args: [--a]
    ports: [{name: http, port: 8080}, {name: metrics, port: 9090}]
  traits:
  - type: scale
    properties: {replicas: 2}
  - type: labels
    properties: {team: a, tier: frontend}
  - type: env
    properties: {LOG: debug}
- name: db
  type: statefulset
  properties: {image: pg:16}
- name: cache
  type: worker
  properties: {image: redis:7}`},
		{name: "conflicts are errors naming the field and the marker", overlay: `
namespace: shop-prod
components:
- name: web
  properties: {image: web:2, args: [--b]}
  traits: [{type: scale, properties: {replicas: 5}}]`, wantErr: []string{
			`spec.components[web].properties.args: Invalid value: ["--b"]: conflicts with the base value ["--a"]; write the key as "args!" to override it`,
			`spec.components[web].properties.image: Invalid value: "web:2": conflicts with the base value "web:1"; write the key as "image!" to override it`,
			`spec.components[web].traits[scale].properties.replicas: Invalid value: 5: conflicts with the base value 2; write the key as "replicas!" to override it`,
			`spec.namespace: Invalid value: "shop-prod": conflicts with the base value "shop"; write the key as "namespace!" to override it`,
		}},
		{name: "a map against a scalar is a conflict", overlay: `
components:
- name: web
  properties: {image: {repository: web}}`, wantErr: []string{
			`spec.components[web].properties.image: Invalid value: {"repository":"web"}: conflicts with the base value "web:1"`,
		}},
		{name: "null without the marker is a conflict", overlay: `
namespace: null`, wantErr: []string{`spec.namespace: Invalid value: null: conflicts with the base value "shop"; write the key as "namespace!"`}},
		{name: "overrides replace and remove", overlay: `
namespace!: shop-prod
components:
- name: web
  properties: {image!: web:2, args!: null, ports!: [{name: https, port: 8443}]}
  traits: [{type: scale, properties!: {replicas: 5}}]`, want: `
namespace: shop-prod
components:
- name: web
  type: service
  properties:
    image: web:2
    ports: [{name: https, port: 8443}]
  traits:
  - type: scale
    properties: {replicas: 5}
  - type: labels
    properties: {team: a}
- name: db
  type: statefulset
  properties: {image: pg:16}`},
		{name: "plain and marked key together", overlay: `
namespace: shop
namespace!: b`, wantErr: []string{`spec.namespace!: Duplicate value: "both namespace and namespace! are set"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, o := tree(t, base), tree(t, tt.overlay)
			bCopy, oCopy := deepCopy(b), deepCopy(o)
			got, errs := MergeOverlay(b, o)
			if !reflect.DeepEqual(b, bCopy) || !reflect.DeepEqual(o, oCopy) {
				t.Fatal("MergeOverlay modified its inputs")
			}
			if len(tt.wantErr) > 0 {
				msg := errs.ToAggregate()
				if msg == nil || len(errs) != len(tt.wantErr) {
					t.Fatalf("errors = %v, want %d", msg, len(tt.wantErr))
				}
				for i, want := range tt.wantErr {
					if !strings.Contains(errs[i].Error(), want) {
						t.Errorf("error %d = %q, want it to contain %q", i, errs[i].Error(), want)
					}
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("MergeOverlay: %v", errs.ToAggregate())
			}
			want := b
			if tt.want != "" {
				want = tree(t, tt.want)
			}
			if !equal(got, want) {
				t.Fatalf("MergeOverlay =\n%s\nwant\n%s", jsonText(got), jsonText(want))
			}
		})
	}
}

// FuzzMergeOverlay checks MergeOverlay on arbitrary JSON documents: it never panics,
// never modifies its inputs, merging an empty overlay is the identity, merging a
// document without markers onto itself is too, and the result and errors are the same
// every time.
func FuzzMergeOverlay(f *testing.F) {
	f.Add(`{"components":[{"name":"web","properties":{"image":"a"}}]}`, `{"components":[{"name":"web","properties":{"image!":"b"}}]}`)
	f.Add(`{"components":[{"name":"web","traits":[{"type":"scale"}]}]}`, `{"components":[{"name":"web","traits":[{"type":"scale","properties":{"replicas":2}}]}]}`)
	f.Add(`{"a":[1,2],"b":{"c":null}}`, `{"a":[2,1],"b!":null,"c":{"d!":1,"d":2}}`)
	f.Add(`{"x":[{"name":"a"},{"name":"a"}]}`, `{"x":[{"name":"a","v":1},{"name!":"b"}]}`)
	f.Add(`{"n":1}`, `{"n":1.0,"m":[{"type":"t"}]}`)
	f.Fuzz(func(t *testing.T, baseJSON, overlayJSON string) {
		var base, overlay map[string]any
		if kjson.UnmarshalCaseSensitivePreserveInts([]byte(baseJSON), &base) != nil ||
			kjson.UnmarshalCaseSensitivePreserveInts([]byte(overlayJSON), &overlay) != nil {
			return
		}
		baseCopy, overlayCopy := deepCopy(base), deepCopy(overlay)
		got, errs := MergeOverlay(base, overlay)
		if !reflect.DeepEqual(base, baseCopy) || !reflect.DeepEqual(overlay, overlayCopy) {
			t.Fatal("MergeOverlay modified its inputs")
		}
		again, errsAgain := MergeOverlay(base, overlay)
		if !reflect.DeepEqual(got, again) || errs.ToAggregate() != nil && errs.ToAggregate().Error() != errsAgain.ToAggregate().Error() {
			t.Fatalf("MergeOverlay is not deterministic:\n%s\n%s", jsonText(got), jsonText(again))
		}
		if id, errs := MergeOverlay(base, map[string]any{}); len(errs) > 0 || !equal(id, base) {
			t.Fatalf("merging an empty overlay onto %s gave %s, %v", baseJSON, jsonText(id), errs.ToAggregate())
		}
		if !hasMarker(base) {
			if self, errs := MergeOverlay(base, base); len(errs) > 0 || !equal(self, base) {
				t.Fatalf("merging %s onto itself gave %s, %v", baseJSON, jsonText(self), errs.ToAggregate())
			}
		}
	})
}

// hasMarker reports whether a key of v carries the override marker.
func hasMarker(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if _, marked := model.OverrideKey(k); marked || hasMarker(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if hasMarker(e) {
				return true
			}
		}
	}
	return false
}

const appYAML = `
apiVersion: apps.vcp.dev/v1alpha1
kind: Application
metadata: {name: shop}
spec:
  components:
  - name: web
    type: service
    properties: {image: web:1, ports: [{name: http, port: 8080}]}
    traits:
    - type: scale
      properties: {replicas: 2}
    - type: labels
      properties: {team: checkout}
  - name: agent
    type: daemon
    properties: {image: agent:1, imagePullPolicy: Always}
  - name: search
    type: statefulset
    properties: {image: search:1}
    traits:
    - type: autoscale
      properties: {maxReplicas: 3, cpuUtilization: 70}
    - type: resources
      properties: {requests: {cpu: 500m}, limits: {memory: 2Gi}}
  - name: setup
    type: manifests
    properties: {objects: [{apiVersion: v1, kind: ConfigMap, metadata: {name: c}}]}
`

func parseApp(t *testing.T) *model.Application {
	t.Helper()
	app, err := model.ParseApplication([]byte(appYAML))
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func parseProfile(t *testing.T, rules string) *model.Profile {
	t.Helper()
	p, err := model.ParseProfile([]byte("apiVersion: apps.vcp.dev/v1alpha1\nkind: Profile\nmetadata: {name: acme}\nspec:\n  rules:\n" + rules))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func parseEnv(t *testing.T, name, spec string) *model.Environment {
	t.Helper()
	e, err := model.ParseEnvironment([]byte("apiVersion: apps.vcp.dev/v1alpha1\nkind: Environment\nmetadata: {name: " + name + "}\nspec:\n" + spec))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// component returns the JSON form of the composed component name.
func component(t *testing.T, app *model.Application, name string) map[string]any {
	t.Helper()
	spec, err := specTree(&app.Spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range spec["components"].([]any) {
		if c.(map[string]any)["name"] == name {
			return c.(map[string]any)
		}
	}
	t.Fatalf("no component %s", name)
	return nil
}

// get returns the value at the dotted path of m, descending into traits by type.
func get(m map[string]any, path string) any {
	var v any = m
	for seg := range strings.SplitSeq(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[seg]
		case []any:
			v = nil
			for _, e := range x {
				if id, _ := entryKey(e, "type"); id == seg {
					v = e
				}
			}
		default:
			return nil
		}
	}
	return v
}

// TestProfileSemantics checks default, merge and immutable, each case through the
// composed application: where the value applies, what it becomes, and the error text.
func TestProfileSemantics(t *testing.T) {
	type check struct {
		component, path string
		want            any // nil: the field is absent
	}
	tests := []struct {
		name    string
		rules   string
		envs    []*model.Environment
		checks  []check
		wantErr []string
	}{{
		name:  "default fills what the application leaves unset and is overridden by what it sets",
		rules: `  - {path: "components[*].traits[+scale].properties.replicas", default: 3}`,
		checks: []check{
			{"web", "traits.scale.properties.replicas", int64(2)},
			// Not on a daemon (scale does not apply) nor on an autoscaled statefulset.
			{"agent", "traits.scale", nil},
			{"search", "traits.scale", nil},
			{"setup", "traits.scale", nil},
		},
	}, {
		name:  "[+trait] adds the trait where its type allows it",
		rules: `  - {path: "components[*].traits[+resources].properties.limits.memory", default: 512Mi}`,
		checks: []check{
			{"web", "traits.resources.properties.limits.memory", "512Mi"},
			{"agent", "traits.resources.properties.limits.memory", "512Mi"},
			{"search", "traits.resources.properties.limits.memory", "2Gi"},
			{"setup", "traits.resources", nil},
		},
	}, {
		name: "without [+trait] a rule only concerns the components that have the trait",
		rules: `  - {path: "components[*].traits[route].properties.ingressClassName", default: nginx}
  - {path: "components[*].traits[labels].properties.tier", immutable: web}`,
		checks: []check{
			{"web", "traits.route", nil},
			{"web", "traits.labels.properties.tier", "web"},
			{"search", "traits.labels", nil},
		},
	}, {
		name:  "a property rule skips component types without the property",
		rules: `  - {path: "components[*].properties.imagePullPolicy", default: IfNotPresent}`,
		checks: []check{
			{"web", "properties.imagePullPolicy", "IfNotPresent"},
			{"agent", "properties.imagePullPolicy", "Always"},
			{"setup", "properties.imagePullPolicy", nil},
		},
	}, {
		name: "merge unions maps, the application winning on the same key",
		rules: `  - {path: "components[*].traits[+labels].properties", merge: {team: platform, cost-center: "42"}}
  - {path: "components[web].properties.ports", merge: [{name: http, port: 9999}, {name: metrics, port: 9090}]}
  - {path: "components[web].properties.args", merge: [--log-format=json]}`,
		checks: []check{
			{"web", "traits.labels.properties", map[string]any{"team": "checkout", "cost-center": "42"}},
			{"setup", "traits.labels.properties", map[string]any{"team": "platform", "cost-center": "42"}},
			{"web", "properties.ports", []any{
				map[string]any{"name": "http", "port": int64(8080)},
				map[string]any{"name": "metrics", "port": int64(9090)},
			}},
			{"web", "properties.args", []any{"--log-format=json"}},
		},
	}, {
		name:   "immutable sets what the application leaves unset and accepts the same value",
		rules:  `  - {path: "components[web].properties.image", immutable: "web:1"}` + "\n" + `  - {path: "components[*].properties.serviceAccountName", immutable: restricted}`,
		checks: []check{{"web", "properties.serviceAccountName", "restricted"}, {"web", "properties.image", "web:1"}},
	}, {
		name:  "immutable violated by the application",
		rules: `  - {path: "components[*].properties.imagePullPolicy", immutable: IfNotPresent}`,
		wantErr: []string{
			`Application "shop" violates Profile "acme":`,
			`spec.components[agent].properties.imagePullPolicy: Invalid value: "Always": immutable in Profile "acme" (rule 0: components[*].properties.imagePullPolicy), which requires "IfNotPresent"; set by Application "shop"`,
		},
	}, {
		name:  "immutable violated by an environment",
		rules: `  - {path: "components[*].traits[scale].properties.replicas", immutable: 2}`,
		envs: []*model.Environment{parseEnv(t, "prod", `
  components:
  - name: web
    traits:
    - type: scale
      properties: {replicas!: 6}`)},
		wantErr: []string{
			`spec.components[web].traits[scale].properties.replicas: Invalid value: 6: immutable in Profile "acme" (rule 0: components[*].traits[scale].properties.replicas), which requires 2; set by Environment "prod"`,
		},
	}, {
		name:  "a profile default is no conflict for an environment",
		rules: `  - {path: "components[*].properties.imagePullPolicy", default: IfNotPresent}`,
		envs: []*model.Environment{parseEnv(t, "dev", `
  components:
  - name: web
    properties: {imagePullPolicy: Always}`)},
		checks: []check{{"web", "properties.imagePullPolicy", "Always"}},
	}, {
		name:  "an environment conflict names the environment and the field",
		rules: `  - {path: "namespace", default: shop}`,
		envs:  []*model.Environment{parseEnv(t, "prod", "  components:\n  - name: web\n    properties: {image: web:2}\n")},
		wantErr: []string{
			`Environment "prod" conflicts with Application "shop":`,
			`spec.components[web].properties.image: Invalid value: "web:2": conflicts with the base value "web:1"; write the key as "image!" to override it`,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := parseApp(t)
			before, _ := json.Marshal(app)
			got, err := Compose(app, parseProfile(t, tt.rules), tt.envs...)
			if after, _ := json.Marshal(app); string(after) != string(before) {
				t.Fatal("Compose modified the Application")
			}
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("Compose succeeded, want an error containing %q", tt.wantErr)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error does not contain %q:\n%v", want, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Compose: %v", err)
			}
			for _, c := range tt.checks {
				if v := get(component(t, got, c.component), c.path); !equal(v, c.want) {
					t.Errorf("%s %s = %s, want %s", c.component, c.path, jsonText(v), jsonText(c.want))
				}
			}
			if err := got.Validate(); err != nil {
				t.Errorf("the composed application is invalid: %v", err)
			}
		})
	}
}

func TestComposeNamespaceOrder(t *testing.T) {
	got, err := Compose(parseApp(t), nil, parseEnv(t, "prod", "  namespace: shop-prod\n"), parseEnv(t, "eu", "  namespace!: shop-eu\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Namespace() != "shop-eu" {
		t.Fatalf("namespace = %q, want the last environment's shop-eu", got.Namespace())
	}
	_, err = Compose(parseApp(t), nil, parseEnv(t, "prod", "  namespace: shop-prod\n"), parseEnv(t, "eu", "  namespace: shop-eu\n"))
	if err == nil || !strings.Contains(err.Error(), `Environment "eu" conflicts with Application "shop"`) ||
		!strings.Contains(err.Error(), `spec.namespace: Invalid value: "shop-eu": conflicts with the base value "shop-prod"`) {
		t.Fatalf("error = %v, want a conflict of eu with prod's namespace", err)
	}
}

func TestComposeRejectsInvalidInputs(t *testing.T) {
	badEnv := &model.Environment{Metadata: model.Metadata{Name: "x"}}
	if _, err := Compose(parseApp(t), nil, badEnv); err == nil || !strings.Contains(err.Error(), `Environment "x" is invalid`) {
		t.Errorf("Compose with an Environment without apiVersion: err = %v", err)
	}
	badProfile := &model.Profile{Metadata: model.Metadata{Name: "p"}}
	if _, err := Compose(parseApp(t), badProfile); err == nil || !strings.Contains(err.Error(), `Profile "p" is invalid`) {
		t.Errorf("Compose with a Profile without apiVersion: err = %v", err)
	}
	wrongType := parseProfile(t, `  - {path: "namespace", default: {a: b}}`)
	app := parseApp(t)
	app.Spec.Namespace = ""
	_, err := Compose(app, wrongType)
	if err == nil || !strings.Contains(err.Error(), "spec.namespace: Invalid value: expected a string, got a JSON object") {
		t.Errorf("Compose with a default of the wrong type: err = %v", err)
	}
}

// FuzzCompose checks that composing the test application with any Environment and
// Profile documents never panics and never modifies the application.
func FuzzCompose(f *testing.F) {
	f.Add("spec:\n  components:\n  - name: web\n    properties: {image!: x}\n",
		"spec:\n  rules:\n  - {path: \"components[*].traits[+scale].properties.replicas\", default: 3}\n")
	f.Add("spec:\n  components!: null\n", "spec:\n  rules:\n  - {path: \"components[*].traits[+labels].properties\", merge: {a: b}}\n")
	f.Add("spec:\n  namespace: [1]\n", "spec:\n  rules:\n  - {path: \"components[*].properties.ports[+x].port\", immutable: 1}\n")
	f.Add("spec: {components: [{name: web, traits: [{type: scale, properties: 1}]}]}", "spec: {rules: [{path: namespace, merge: [a]}]}")
	f.Fuzz(func(t *testing.T, envSpec, profileSpec string) {
		env, err := model.ParseEnvironment([]byte("apiVersion: apps.vcp.dev/v1alpha1\nkind: Environment\nmetadata: {name: e}\n" + envSpec))
		if err != nil {
			env = nil
		}
		prof, err := model.ParseProfile([]byte("apiVersion: apps.vcp.dev/v1alpha1\nkind: Profile\nmetadata: {name: p}\n" + profileSpec))
		if err != nil {
			prof = nil
		}
		app := parseApp(t)
		before, _ := json.Marshal(app)
		var envs []*model.Environment
		if env != nil {
			envs = append(envs, env)
		}
		if got, err := Compose(app, prof, envs...); err == nil {
			_ = got.Validate()
		}
		if after, _ := json.Marshal(app); string(after) != string(before) {
			t.Fatal("Compose modified the Application")
		}
	})
}
