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
// every tenant because one tenant's RBAC bootstrap or service-IP repair check timed out
// under load. Here such a call on any goroutine but main ends only that goroutine
// (runtime.Goexit, after klog has logged and flushed) and tells every tenant that is
// still starting (startingTenants): the goroutine cannot be attributed to a tenant, and
// post-start hooks run while a server starts (or fail while it stops). A starting tenant
// that then does not turn ready within fatalGrace, instead of its whole ready timeout,
// starts again (supervise); one that does was not the victim. A Fatal on the main
// goroutine still exits.
func guardFatal() {
	fatalGuard.Do(func() {
		exit := klog.OsExit
		klog.OsExit = func(code int) {
			if onMainGoroutine() {
				exit(code)
				return
			}
			tenantFatals.Inc()
			startingTenants.fatal()
			runtime.Goexit()
		}
	})
}

func onMainGoroutine() bool {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	return bytes.HasPrefix(buf[:n], []byte("goroutine 1 "))
}

// startingTenants are the tenant servers between build and ready; each holds a channel
// closed when a Fatal ended a goroutine meanwhile.
var startingTenants = &starting{attempts: map[chan struct{}]struct{}{}}

type starting struct {
	mu       sync.Mutex
	attempts map[chan struct{}]struct{}
}

// begin registers a starting server; done unregisters it (idempotent).
func (s *starting) begin() (fatal <-chan struct{}, done func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.attempts[ch] = struct{}{}
	s.mu.Unlock()
	return ch, sync.OnceFunc(func() {
		s.mu.Lock()
		delete(s.attempts, ch)
		s.mu.Unlock()
	})
}

func (s *starting) fatal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.attempts {
		close(ch)
		delete(s.attempts, ch)
	}
}
