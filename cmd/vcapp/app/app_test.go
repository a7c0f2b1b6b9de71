package app

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yaml from the current output")

// example is the full example appdelivery/README.md shows.
var example = filepath.Join("..", "..", "..", "appdelivery", "examples", "shop")

// run runs vcapp with args and returns its standard output and error.
func run(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := NewCommand(&out, &errOut)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func checkGolden(t *testing.T, got, golden string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it); got:\n%s", golden, got)
	}
}

func TestRenderExample(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		golden string
	}{
		{"base", []string{"-f", filepath.Join(example, "app.yaml")}, "shop.golden.yaml"},
		{"prod with the platform profile", []string{
			"-f", filepath.Join(example, "app.yaml"),
			"--env", filepath.Join(example, "envs", "prod.yaml"),
			"--profile", filepath.Join(example, "profile.yaml"),
		}, "shop-prod.golden.yaml"},
		{"dev", []string{"-f", filepath.Join(example, "app.yaml"), "--env", filepath.Join(example, "envs", "dev.yaml")}, "shop-dev.golden.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(t, "", append([]string{"render"}, tt.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, out, filepath.Join("testdata", tt.golden))
		})
	}
}

func TestRenderJSONAndStdin(t *testing.T) {
	app, err := os.ReadFile(filepath.Join(example, "app.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(t, string(app), "render", "-f", "-", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Kind  string
		Items []struct{ Kind string }
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("-o json printed no JSON: %v\n%s", err, out)
	}
	if list.Kind != "List" || len(list.Items) != 7 {
		t.Fatalf("-o json printed a %s of %d items, want a List of 7", list.Kind, len(list.Items))
	}
}

func TestRenderErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: apps.vcp.dev/v1alpha1\nkind: Application\nmetadata: {name: shop}\nspec:\n  components:\n  - {name: web, type: service, properties: {image: x}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(example, "app.yaml")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"missing application", []string{"-f", filepath.Join(dir, "app.yaml")}, "--filename " + filepath.Join(dir, "app.yaml") + ": open "},
		{"missing environment", []string{"-f", app, "--env", "envs/none.yaml"}, "--env envs/none.yaml: open envs/none.yaml: no such file or directory"},
		{"missing profile", []string{"-f", app, "--profile", "none.yaml"}, "--profile none.yaml: open none.yaml: no such file or directory"},
		{"a profile given as the environment", []string{"-f", app, "--env", filepath.Join(example, "profile.yaml")},
			`--env ` + filepath.Join(example, "profile.yaml") + `: not a apps.vcp.dev/v1alpha1 Environment:` + "\n" + `  kind: Unsupported value: "Profile": supported values: "Environment"`},
		{"invalid application", []string{"-f", bad}, "Application \"shop\" is invalid:\n  spec.components[0].properties.ports: Required value: a service exposes at least one port"},
		{"bad output", []string{"-f", app, "-o", "xml"}, `--output must be yaml or json, got "xml"`},
		{"arguments", []string{"app.yaml"}, `unknown command "app.yaml" for "vcapp render"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := run(t, "", append([]string{"render"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shop")
	out, err := run(t, "", "init", "--dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "vcapp render -f "+filepath.Join(dir, "app.yaml")+" --env "+filepath.Join(dir, "envs", "dev.yaml")) {
		t.Errorf("init does not say how to render: %q", out)
	}
	rendered, err := run(t, "", "render", "-f", filepath.Join(dir, "app.yaml"), "--env", filepath.Join(dir, "envs", "dev.yaml"))
	if err != nil {
		t.Fatalf("the starter does not render: %v", err)
	}
	checkGolden(t, rendered, filepath.Join("testdata", "init-dev.golden.yaml"))

	before, _ := os.ReadFile(filepath.Join(dir, "app.yaml"))
	if _, err := run(t, "", "init", "other", "--dir", dir); err == nil || !strings.Contains(err.Error(), "app.yaml already exists: init never overwrites a file") {
		t.Fatalf("second init: err = %v, want a refusal to overwrite", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "app.yaml")); !bytes.Equal(before, after) {
		t.Fatal("the second init changed app.yaml")
	}

	// Only envs/dev.yaml exists: init still writes nothing.
	dir2 := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir2, "envs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir2, "envs", "dev.yaml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "", "init", "shop", "--dir", dir2); err == nil || !strings.Contains(err.Error(), "dev.yaml already exists") {
		t.Fatalf("init over envs/dev.yaml: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir2, "app.yaml")); err == nil {
		t.Fatal("init wrote app.yaml though it refused envs/dev.yaml")
	}
}

func TestInitName(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		dir     string
		wantErr string
	}{
		{name: "from the directory", dir: "my-app"},
		{name: "given", args: []string{"shop"}, dir: "My App"},
		{name: "invalid directory name", dir: "My App", wantErr: `"My App", is not an application name (pass NAME)`},
		{name: "invalid name", args: []string{"Shop"}, dir: "x", wantErr: `NAME, "Shop", is not an application name`},
		{name: "too long", args: []string{strings.Repeat("a", 60)}, dir: "x", wantErr: "is longer than 59 characters"},
		{name: "two names", args: []string{"a", "b"}, dir: "x", wantErr: "accepts at most 1 arg(s), received 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), tt.dir)
			_, err := run(t, "", append(append([]string{"init"}, tt.args...), "--dir", dir)...)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestREADMEShowsTheExample keeps the README's full example the one this test renders.
func TestREADMEShowsTheExample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(example, "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"app.yaml", filepath.Join("envs", "prod.yaml"), "profile.yaml"} {
		content, err := os.ReadFile(filepath.Join(example, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(readme, content) {
			t.Errorf("appdelivery/README.md does not show %s as it is in appdelivery/examples/shop", f)
		}
	}
}

func TestCompletion(t *testing.T) {
	out, err := run(t, "", "__complete", "render", "-o", "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "yaml\njson\n") {
		t.Errorf("completion of -o = %q, want yaml and json", out)
	}
	if _, err := run(t, "", "completion", "bash"); err != nil {
		t.Errorf("completion bash: %v", err)
	}
}
