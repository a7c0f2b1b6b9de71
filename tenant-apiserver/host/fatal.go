package host

import (
	"bytes"
	"runtime"
	"sync"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2"
)

var (
	fatalGuard   sync.Once
	tenantFatals = metrics.NewCounter(&metrics.CounterOpts{
		Namespace: "vcp", Subsystem: "host", Name: "tenant_fatals_total",
		Help:           "klog.Fatal calls from tenant goroutines that ended only their goroutine instead of the process.",
		StabilityLevel: metrics.ALPHA,
	})
)

func init() { legacyregistry.MustRegister(tenantFatals) }

// guardFatal keeps upstream's klog.Fatal calls in one tenant's code paths from ending the
// whole host. kube-apiserver treats, for example, a failed post-start hook as fatal
// (runPostStartHook calls klog.Fatalf outside any recover): in a host that would stop
// every tenant because one tenant's RBAC bootstrap timed out under load. Here such a call
// on any goroutine but main ends only that goroutine (runtime.Goexit, after klog has
// logged and flushed); the tenant then never turns ready, fails its start and is retried
// by whoever added it. A Fatal on the main goroutine still exits.
func guardFatal() {
	fatalGuard.Do(func() {
		exit := klog.OsExit
		klog.OsExit = func(code int) {
			if onMainGoroutine() {
				exit(code)
				return
			}
			tenantFatals.Inc()
			runtime.Goexit()
		}
	})
}

func onMainGoroutine() bool {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	return bytes.HasPrefix(buf[:n], []byte("goroutine 1 "))
}
