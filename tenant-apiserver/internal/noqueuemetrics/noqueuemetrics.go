// Package noqueuemetrics turns client-go's work-queue metrics off in the process that
// imports it, and must be imported (blank) by a tenant host.
//
// Every client-go work queue with metrics runs a goroutine that wakes twice a second to
// update its unfinished-work gauges, and a tenant's controllers and API server own about
// 57 queues: at 100 tenants, 5,700 goroutines and 11,400 wake-ups a second on an idle
// host (the largest single item of its idle CPU in a profile). In a host the metrics mean
// nothing anyway: every tenant's "replicaset" queue feeds the same series. Upstream turns
// them on in an init of k8s.io/component-base/metrics/prometheus/workqueue, through a
// sync.Once; this package's init takes the Once first with client-go's own no-op provider,
// with which queues start no such goroutine. Go initializes, among packages whose imports
// are initialized, the first by import path, and this one needs only client-go's workqueue
// package (which component-base's needs too), so it always runs first
// (host.TestWorkQueuesStartNoMetricsGoroutine checks it in the host's own imports).
package noqueuemetrics

import (
	_ "unsafe" // go:linkname

	"k8s.io/client-go/util/workqueue"
)

// noop is client-go's unexported default provider (noopMetricsProvider{}), read before
// anything set another.
//
//go:linkname noop k8s.io/client-go/util/workqueue.globalMetricsProvider
var noop workqueue.MetricsProvider

func init() {
	workqueue.SetProvider(noop)
}
