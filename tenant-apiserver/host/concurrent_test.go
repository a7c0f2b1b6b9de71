package host

import (
	"fmt"
	"sync"
	"testing"
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
