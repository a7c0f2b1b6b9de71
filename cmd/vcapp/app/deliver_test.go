package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/vcp-dev/vcp/appdelivery/fleet"
)

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err    error
		code   int
		silent bool
	}{
		{nil, 0, false},
		{errors.New("boom"), 1, false},
		{&exitError{code: ExitDiff}, 2, true},
		{fmt.Errorf("wrapped: %w", &exitError{code: ExitUnhealthy}), 3, true},
		{&exitError{code: ExitUnhealthy, err: errors.New("timed out")}, 3, false},
	} {
		if got := ExitCode(tc.err); got != tc.code {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.code)
		}
		if got := Silent(tc.err); got != tc.silent {
			t.Errorf("Silent(%v) = %v, want %v", tc.err, got, tc.silent)
		}
	}
}

// TestDeliveryCommandsTouchNothingWithoutATarget: a missing context or an unreadable
// kubeconfig is an error (exit 1) before any cluster is contacted.
func TestDeliveryCommandsTouchNothingWithoutATarget(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\ncontexts: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(example, "app.yaml")
	for _, cmd := range []string{"plan", "deploy", "status", "history", "rollback", "delete", "logs"} {
		out, err := run(t, "", cmd, "-f", app, "--kubeconfig", kubeconfig, "--context", "nope")
		if ExitCode(err) != ExitError || err == nil || !strings.Contains(err.Error(), `no context "nope"`) {
			t.Errorf("%s: exit %d, %v\n%s", cmd, ExitCode(err), err, out)
		}
	}
	if _, err := run(t, "", "plan", "-f", app, "-o", "yaml"); err == nil || !strings.Contains(err.Error(), "--output must be text or json") {
		t.Errorf("plan -o yaml: %v", err)
	}
}

func TestDeliveryCompletion(t *testing.T) {
	out, err := run(t, "", "__complete", "deploy", "-o", "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "text\njson\n") {
		t.Errorf("completion of deploy -o = %q, want text and json", out)
	}
}

func TestReleasePerTargetOverrides(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app.yaml")
	doc := `apiVersion: apps.vcp.dev/v1alpha1
kind: Application
metadata: {name: shop}
spec:
  components:
  - name: web
    type: worker
    properties: {image: "registry.example.com/web:1"}
    traits: [{type: scale, properties: {replicas: 2}}]
  targets:
  - name: staging
    context: staging
  - name: eu
    context: eu
    overrides:
      components: [{name: web, traits: [{type: scale, properties: {replicas!: 6}}]}]
`
	if err := os.WriteFile(app, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	o := &deliverOptions{}
	o.filename, o.output = app, outputText
	in, err := o.load(strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	replicas := func(target int) int64 {
		t.Helper()
		rel, err := in.release(fleet.Target{Name: in.base.Spec.Targets[target].Name, Spec: &in.base.Spec.Targets[target]})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range rel.Objects {
			if u.GetKind() == "Deployment" {
				n, _, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
				return n
			}
		}
		t.Fatal("no Deployment")
		return 0
	}
	if got := replicas(0); got != 2 {
		t.Errorf("staging: %d replicas, want 2", got)
	}
	if got := replicas(1); got != 6 {
		t.Errorf("eu (overridden): %d replicas, want 6", got)
	}
	relA, _ := in.release(fleet.Target{Name: "staging", Spec: &in.base.Spec.Targets[0]})
	relB, _ := in.release(fleet.Target{Name: "eu", Spec: &in.base.Spec.Targets[1]})
	if relA.Digest == relB.Digest || !strings.HasPrefix(relA.Digest, "sha256:") {
		t.Errorf("digests %s and %s: want different sha256 digests", relA.Digest, relB.Digest)
	}
}
