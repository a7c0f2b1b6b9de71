package fleet

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/vcp-dev/vcp/appdelivery/model"
)

func targets(names ...string) []Target {
	var out []Target
	for _, n := range names {
		out = append(out, Target{Name: n, Spec: &model.Target{Name: n}})
	}
	return out
}

func TestRunOrderAndStopOnFailure(t *testing.T) {
	no := false
	for _, tc := range []struct {
		name    string
		rollout *model.Rollout
		fail    string
		order   []string
		skipped []string
	}{
		{"stages in order, the rest last", &model.Rollout{Stages: []model.Stage{{Name: "canary", Targets: []string{"c"}}, {Name: "b", Targets: []string{"b"}}}},
			"", []string{"c", "b", "a", "d"}, nil},
		{"a failure stops the rollout", &model.Rollout{Stages: []model.Stage{{Name: "canary", Targets: []string{"c"}}}},
			"c", []string{"c"}, []string{"a", "b", "d"}},
		{"stopOnFailure false goes on", &model.Rollout{StopOnFailure: &no, Stages: []model.Stage{{Name: "canary", Targets: []string{"c"}}}},
			"c", []string{"c", "a", "b", "d"}, nil},
		{"no rollout: one stage", nil, "b", []string{"a", "b"}, []string{"c", "d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var order []string
			out := Run(context.Background(), targets("a", "b", "c", "d"), tc.rollout, 1, func(_ context.Context, tg Target) (bool, error) {
				mu.Lock()
				order = append(order, tg.Name)
				mu.Unlock()
				if tg.Name == tc.fail {
					return false, errors.New("boom")
				}
				return true, nil
			})
			if !slices.Equal(order, tc.order) {
				t.Errorf("order %v, want %v", order, tc.order)
			}
			var skipped []string
			for _, o := range out {
				if o.Skipped {
					skipped = append(skipped, o.Target.Name)
				}
				if o.Target.Name == tc.fail && (o.OK || o.Err == nil) {
					t.Errorf("failed target %s: %+v", o.Target.Name, o)
				}
			}
			if !slices.Equal(skipped, tc.skipped) {
				t.Errorf("skipped %v, want %v", skipped, tc.skipped)
			}
		})
	}
}

func TestRunParallelism(t *testing.T) {
	var mu sync.Mutex
	running, peak := 0, 0
	release := make(chan struct{})
	go func() {
		for range 6 {
			release <- struct{}{}
		}
	}()
	Run(context.Background(), targets("a", "b", "c", "d", "e", "f"), &model.Rollout{Parallelism: 3}, 1, func(context.Context, Target) (bool, error) {
		mu.Lock()
		running++
		peak = max(peak, running)
		mu.Unlock()
		<-release
		mu.Lock()
		running--
		mu.Unlock()
		return true, nil
	})
	if peak > 3 {
		t.Errorf("%d targets at once, parallelism 3", peak)
	}
}

func TestResolveNothingIsAnError(t *testing.T) {
	r := &Resolver{Kubeconfig: t.TempDir() + "/missing"}
	if _, err := r.Resolve(context.Background(), nil); err == nil {
		t.Error("no targets: no error")
	}
	if _, err := r.Resolve(context.Background(), []model.Target{{Name: "x", Context: "nope"}}); err == nil {
		t.Error("a missing context: no error")
	}
}
