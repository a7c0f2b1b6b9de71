package host

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestConcurrentAdds starts tenants on one host at the same time, as the vc-manager does
// when many VirtualClusters are created at once: the process-wide shared state (OpenAPI
// definitions and documents, etcd clients, upstream globals) must take it.
func TestConcurrentAdds(t *testing.T) {
	h := startHost(t, Options{DisableControllers: true})
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = h.Add(t.Context(), TenantSpec{Name: fmt.Sprintf("c%d", i), UID: fmt.Sprintf("uid-c%d", i)})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("tenant c%d: %v", i, err)
		}
	}
}

// TestBuildsWaitTheirTurn: with every build slot taken, a new tenant waits (and its Add
// can give up without leaving anything running); once a slot frees, it builds.
func TestBuildsWaitTheirTurn(t *testing.T) {
	h := startHost(t, Options{DisableControllers: true, MaxConcurrentBuilds: 1})
	h.builds <- struct{}{} // a build that takes forever
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	if _, err := h.Add(ctx, TenantSpec{Name: "waits", UID: "uid-waits"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Add with every build slot taken: %v, want it to wait until its context ends", err)
	}
	if _, ok := h.Tenant("waits"); ok {
		t.Fatal("a tenant whose Add gave up is still on the host")
	}
	<-h.builds
	if _, err := h.Add(t.Context(), TenantSpec{Name: "waits", UID: "uid-waits"}); err != nil {
		t.Fatalf("Add once a build slot is free: %v", err)
	}
	if len(h.builds) != 0 {
		t.Errorf("%d build slots still taken after the tenant is ready", len(h.builds))
	}
}
