package render

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/vcp-dev/vcp/appdelivery/model"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// inputs returns the test applications, by name.
func inputs(t *testing.T) map[string]*model.Application {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "apps", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test applications in testdata/apps: %v", err)
	}
	apps := map[string]*model.Application{}
	for _, f := range files {
		apps[strings.TrimSuffix(filepath.Base(f), ".yaml")] = parseFile(t, f)
	}
	return apps
}

func parseFile(t *testing.T, path string) *model.Application {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	app, err := model.ParseApplication(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return app
}

// TestGolden renders every application of testdata/apps and compares the output with
// testdata/golden; -update rewrites the golden files instead.
func TestGolden(t *testing.T) {
	for name, app := range inputs(t) {
		t.Run(name, func(t *testing.T) {
			objs, err := Render(app)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			got, err := YAML(objs)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", name+".yaml")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (go test -update rewrites it):\n%s", golden, lineDiff(string(want), string(got)))
			}
		})
	}
}

// TestKubernetesAcceptsOutput checks every rendered object the way kube-apiserver does
// on create: strict decoding into its Go type, defaulting, and the API server's own
// validation of the kind.
func TestKubernetesAcceptsOutput(t *testing.T) {
	for name, app := range inputs(t) {
		t.Run(name, func(t *testing.T) {
			objs, err := Render(app)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			for _, u := range objs {
				errs, err := kubeCheck(u)
				if err != nil {
					t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
				}
				for _, e := range errs {
					t.Errorf("%s %s: %v", u.GetKind(), u.GetName(), e)
				}
			}
		})
	}
}

// TestGoldenCoverage keeps the golden tests complete: every component type and every
// trait type appears in at least one test application.
func TestGoldenCoverage(t *testing.T) {
	comps, traits := sets.New[model.ComponentType](), sets.New[model.TraitType]()
	for _, app := range inputs(t) {
		for _, c := range app.Spec.Components {
			comps.Insert(c.Type)
			for _, tr := range c.Traits {
				traits.Insert(tr.Type)
			}
		}
	}
	if missing := sets.New(model.ComponentTypes()...).Difference(comps); missing.Len() > 0 {
		t.Errorf("component types without a test application in testdata/apps: %v", sets.List(missing))
	}
	if missing := sets.New(model.TraitTypes()...).Difference(traits); missing.Len() > 0 {
		t.Errorf("trait types without a test application in testdata/apps: %v", sets.List(missing))
	}
}

// TestDeterministic renders each application repeatedly, with its components and traits
// in reverse order too: the objects and their order must not change, and neither must
// the Application.
func TestDeterministic(t *testing.T) {
	for name, app := range inputs(t) {
		t.Run(name, func(t *testing.T) {
			first := mustYAML(t, app)
			for range 5 {
				if got := mustYAML(t, app); got != first {
					t.Fatalf("second rendering differs:\n%s", lineDiff(first, got))
				}
			}
			reversed := *app
			reversed.Spec.Components = slices.Clone(app.Spec.Components)
			slices.Reverse(reversed.Spec.Components)
			for i := range reversed.Spec.Components {
				c := &reversed.Spec.Components[i]
				c.Traits = slices.Clone(c.Traits)
				slices.Reverse(c.Traits)
			}
			if got := mustYAML(t, &reversed); got != first {
				t.Fatalf("rendering with components and traits reversed differs:\n%s", lineDiff(first, got))
			}
		})
	}
}

func mustYAML(t *testing.T, app *model.Application) string {
	t.Helper()
	objs, err := Render(app)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	b, err := YAML(objs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestConfigMapNameFollowsContent checks that changing a config file renames the
// ConfigMap and changes the pod template, so the pods roll.
func TestConfigMapNameFollowsContent(t *testing.T) {
	app := parseFile(t, filepath.Join("testdata", "apps", "trait-config.yaml"))
	before := mustYAML(t, app)
	trait := &app.Spec.Components[0].Traits[0]
	var props model.ConfigProperties
	if err := json.Unmarshal(trait.Properties, &props); err != nil {
		t.Fatal(err)
	}
	props.Mounts[1].Files["index.html"] = "<h1>shop!</h1>"
	raw, err := json.Marshal(props)
	if err != nil {
		t.Fatal(err)
	}
	trait.Properties = raw
	after := mustYAML(t, app)
	oldNames, newNames := configMapNames(before), configMapNames(after)
	if len(oldNames) != 2 || len(newNames) != 2 {
		t.Fatalf("want 2 ConfigMaps before and after, got %v and %v", oldNames, newNames)
	}
	// Sorted: web-html-<hash> first, web-nginx-<hash> second.
	if oldNames[0] == newNames[0] {
		t.Errorf("the html ConfigMap kept its name %s when its content changed", oldNames[0])
	}
	if oldNames[1] != newNames[1] {
		t.Errorf("the nginx ConfigMap was renamed from %s to %s though its content did not change", oldNames[1], newNames[1])
	}
	for _, n := range newNames {
		if strings.Count(after, n) < 2 {
			t.Errorf("the Deployment does not mount the renamed ConfigMap %s", n)
		}
	}
}

func configMapNames(stream string) []string {
	var names []string
	for doc := range strings.SplitSeq(stream, "---\n") {
		if !strings.Contains(doc, "\nkind: ConfigMap\n") {
			continue
		}
		for line := range strings.SplitSeq(doc, "\n") {
			if name, ok := strings.CutPrefix(line, "  name: "); ok {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name    string
		spec    string
		wantErr []string
	}{{
		name: "invalid application",
		spec: `
  components:
  - name: web
    type: service
    properties: {image: nginx}`,
		wantErr: []string{`Application "shop" is invalid`, "spec.components[0].properties.ports: Required value: a service exposes at least one port"},
	}, {
		name: "two components render the same object",
		spec: `
  components:
  - name: web
    type: service
    properties: {image: nginx, ports: [{name: http, port: 80}]}
  - name: extra
    type: manifests
    properties:
      objects:
      - {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {ports: [{port: 80}]}}`,
		wantErr: []string{`Application "shop" renders an object twice`, "spec.components[extra]: Duplicate value: \"Service shop/web, which component web renders too\""},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, err := model.ParseApplication([]byte("apiVersion: apps.vcp.dev/v1alpha1\nkind: Application\nmetadata: {name: shop}\nspec:" + tt.spec))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Render(app)
			if err == nil {
				t.Fatal("Render succeeded, want an error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestJSON(t *testing.T) {
	app := parseFile(t, filepath.Join("testdata", "apps", "worker.yaml"))
	objs, err := Render(app)
	if err != nil {
		t.Fatal(err)
	}
	got, err := JSON(objs)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"kind": "List"`, `"kind": "Deployment"`, `"name": "mailer"`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("JSON output lacks %s:\n%s", want, got)
		}
	}
}

// lineDiff shows the lines of want and got from the first that differs, a few of each.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	end := func(l []string) []string { return l[i:min(len(l), i+8)] }
	return "first difference at line " + strconv.Itoa(i+1) + "\nwant:\n  " + strings.Join(end(w), "\n  ") + "\ngot:\n  " + strings.Join(end(g), "\n  ")
}

// FuzzRender checks that parsing and rendering any document never panics, and that what
// renders renders the same twice.
func FuzzRender(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "apps", "*.yaml"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		app, err := model.ParseApplication(data)
		if err != nil {
			return
		}
		first, err := Render(app)
		if err != nil {
			return
		}
		second, err := Render(app)
		if err != nil {
			t.Fatalf("the second Render failed: %v", err)
		}
		a, _ := YAML(first)
		b, _ := YAML(second)
		if !bytes.Equal(a, b) {
			t.Fatalf("Render is not deterministic:\n%s", lineDiff(string(a), string(b)))
		}
	})
}
