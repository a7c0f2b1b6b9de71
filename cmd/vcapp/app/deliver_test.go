package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/vcp-dev/vcp/appdelivery/fleet"
	"github.com/vcp-dev/vcp/cmd/vcapp/app/apptest"
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
		out, err := run(t, "", cmd, "--filename", app, "--kubeconfig", kubeconfig, "--context", "nope")
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
	o.filename, o.output, o.parallelism = app, outputText, 1
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

// TestConfirmNeedsATerminal: the answer to a question that changes clusters comes from
// a person at a terminal, never from a pipe or a file.
func TestConfirmNeedsATerminal(t *testing.T) {
	var out bytes.Buffer
	if ok, err := confirm(strings.NewReader("y\n"), &out, "deploy?"); ok || err == nil || !strings.Contains(err.Error(), "pass --yes") {
		t.Errorf("confirm from a reader: %v, %v", ok, err)
	}
	if out.Len() != 0 {
		t.Errorf("asked without a terminal: %q", out.String())
	}
	for _, tt := range []struct {
		typed string
		want  bool
	}{{"y\n", true}, {"YES\n", true}, {"\n", false}, {"no\n", false}, {"yes please\n", false}} {
		control, terminal, err := apptest.OpenPTY()
		if err != nil {
			t.Fatalf("pseudo-terminal: %v", err)
		}
		if _, err := control.WriteString(tt.typed); err != nil {
			t.Fatal(err)
		}
		out.Reset()
		ok, err := confirm(terminal, &out, "deploy shop?")
		if err != nil || ok != tt.want || out.String() != "deploy shop? [y/N] " {
			t.Errorf("typed %q: %v, %v, asked %q", tt.typed, ok, err, out.String())
		}
		control.Close()
		terminal.Close()
	}
}

// TestFlagErrorsNameTheFlag: a value a user got wrong is refused naming the flag,
// before any cluster is contacted.
func TestFlagErrorsNameTheFlag(t *testing.T) {
	app := filepath.Join(example, "app.yaml")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"deploy", "-f", app, "--timeout", "-1s"}, "--timeout must be positive"},
		{[]string{"status", "-f", app, "--parallelism", "0"}, "--parallelism must be at least 1"},
		{[]string{"logs", "--filename", app, "--tail", "-2"}, "--tail must be -1 (all) or more"},
	} {
		_, err := run(t, "", tt.args...)
		if ExitCode(err) != ExitError || err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want %q", tt.args, err, tt.want)
		}
	}
}

// TestStreamLinesEndsWithTheContext: a followed stream prints each line with its
// prefix as it comes, and ends without an error when the context does (Ctrl-C).
func TestStreamLinesEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	stream := func(ctx context.Context) (io.ReadCloser, error) {
		go func() { // as client-go does: the body closes when the request's context ends
			<-ctx.Done()
			pw.CloseWithError(ctx.Err())
		}()
		return pr, nil
	}
	var out, errOut bytes.Buffer
	w := &lineWriter{out: &out, errOut: &errOut}
	lines := make(chan struct{}, 2)
	done := make(chan error, 1)
	go func() {
		done <- streamLines(ctx, stream, func(l string) { w.line("[t pod/c] ", l); lines <- struct{}{} })
	}()
	for _, l := range []string{"starting\n", "listening on :8080\n"} {
		if _, err := pw.Write([]byte(l)); err != nil {
			t.Fatal(err)
		}
		<-lines
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ended with %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still streaming 5s after the context ended")
	}
	if want := "[t pod/c] starting\n[t pod/c] listening on :8080\n"; out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
	if errOut.Len() != 0 {
		t.Errorf("errors %q", errOut.String())
	}
	// A stream that cannot start is an error (logs prints it as "no logs").
	if err := streamLines(t.Context(), func(context.Context) (io.ReadCloser, error) { return nil, errors.New("connection refused") }, func(string) {}); err == nil {
		t.Error("a failed stream is no error")
	}
}

// TestProgressDeadlinePerTarget: --timeout wins; else the application's
// rollout.progressDeadline as a target's overrides leave it; else 5m.
func TestProgressDeadlinePerTarget(t *testing.T) {
	app := filepath.Join(t.TempDir(), "app.yaml")
	doc := `apiVersion: apps.vcp.dev/v1alpha1
kind: Application
metadata: {name: shop}
spec:
  components: [{name: web, type: worker, properties: {image: "registry.example.com/web:1"}}]
  targets:
  - {name: staging, context: staging}
  - {name: prod, context: prod, overrides: {rollout: {"progressDeadline!": 20m}}}
  rollout: {progressDeadline: 90s}
`
	if err := os.WriteFile(app, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		timeout time.Duration
		target  int
		want    time.Duration
	}{
		{0, 0, 90 * time.Second},
		{0, 1, 20 * time.Minute},
		{time.Minute, 0, time.Minute},
		{time.Minute, 1, time.Minute},
	} {
		o := &deliverOptions{timeout: tt.timeout}
		o.filename, o.output, o.parallelism = app, outputText, 1
		in, err := o.load(strings.NewReader(""))
		if err != nil {
			t.Fatal(err)
		}
		spec := &in.base.Spec.Targets[tt.target]
		opts, err := o.targetOptions(in, fleet.Target{Name: spec.Name, Spec: spec}, o.engineOptions())
		if err != nil || opts.ProgressDeadline != tt.want {
			t.Errorf("--timeout %s, target %s: deadline %s (%v), want %s", tt.timeout, spec.Name, opts.ProgressDeadline, err, tt.want)
		}
	}
	o := &deliverOptions{}
	o.filename, o.output, o.parallelism = app, outputText, 1
	in, err := o.load(strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	in.base.Spec.Rollout = nil // an application without rollout
	if opts, _ := o.targetOptions(in, fleet.Target{Name: "x"}, o.engineOptions()); opts.ProgressDeadline != 5*time.Minute {
		t.Errorf("default deadline %s, want 5m", opts.ProgressDeadline)
	}
}
