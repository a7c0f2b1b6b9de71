package host

import (
	"fmt"
	"runtime"
	"testing"

	"k8s.io/client-go/util/workqueue"
)

// TestWorkQueuesStartNoMetricsGoroutine: in a host (which links upstream's Prometheus
// work-queue provider through the controllers), a named work queue starts no goroutine;
// with queue metrics on, each starts one that wakes every 500 ms
// (internal/noqueuemetrics).
func TestWorkQueuesStartNoMetricsGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	var queues []workqueue.TypedInterface[string]
	for i := range 50 {
		queues = append(queues, workqueue.NewTypedWithConfig(workqueue.TypedQueueConfig[string]{Name: fmt.Sprint("q", i)}))
	}
	// A go statement counts at once: no need to wait for the goroutines to run.
	if grew := runtime.NumGoroutine() - before; grew > 5 {
		t.Errorf("50 named work queues started %d goroutines: queue metrics are on", grew)
	}
	for _, q := range queues {
		q.ShutDown()
	}
}
