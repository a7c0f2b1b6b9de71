package localcluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestKwokStageFiles(t *testing.T) {
	upstream, out := t.TempDir(), t.TempDir()
	if _, err := kwokStageFiles(upstream, out); err == nil || !strings.Contains(err.Error(), "make tools") {
		t.Errorf("missing upstream stages: %v", err)
	}
	for _, f := range append(upstreamStages, "pod-ready.yaml") {
		if err := os.WriteFile(filepath.Join(upstream, f), []byte("upstream"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err := kwokStageFiles(upstream, out)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, f := range files {
		names[filepath.Base(f)] = filepath.Dir(f)
	}
	for _, want := range []string{"node-initialize.yaml", "node-heartbeat-with-lease.yaml", "pod-complete.yaml", "pod-delete.yaml"} {
		if names[want] != upstream {
			t.Errorf("%s from %q, want the upstream copy", want, names[want])
		}
	}
	// pod-ready is vcp's: upstream's would also make the failing pods ready.
	for _, want := range []string{"pod-ready.yaml", "pod-image-pull-backoff.yaml", "pod-crashloop.yaml"} {
		if names[want] != out {
			t.Errorf("%s from %q, want vcp's in %s", want, names[want], out)
		}
		b, err := os.ReadFile(filepath.Join(out, want))
		if err != nil {
			t.Fatal(err)
		}
		var stage struct {
			Kind string `json:"kind"`
			Spec struct {
				Selector struct {
					MatchExpressions []struct{ Key, Operator string } `json:"matchExpressions"`
				} `json:"selector"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(b, &stage); err != nil || stage.Kind != "Stage" {
			t.Fatalf("%s: kind %q, %v", want, stage.Kind, err)
		}
		tagged := false
		for _, e := range stage.Spec.Selector.MatchExpressions {
			if strings.Contains(e.Key, "broken-pull") || strings.Contains(e.Key, "crashloop") {
				tagged = true
				if want == "pod-ready.yaml" && e.Operator != "NotIn" {
					t.Errorf("pod-ready selects the failing images with %s", e.Operator)
				}
			}
		}
		if !tagged {
			t.Errorf("%s does not select by image tag", want)
		}
	}
}
