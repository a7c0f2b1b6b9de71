package host

import (
	"runtime/debug"
	"sync"
)

// DefaultBuildGCPercent is the garbage collector's target (GOGC) while a tenant's server
// is built and its controllers start.
//
// Building a Kubernetes API server allocates a few hundred MB that die at once (OpenAPI
// schemas, route tables, the first LISTs) between the tens of MB that live as long as the
// tenant. With the default GOGC=100 the heap grows far between collections, the
// long-lived objects land in spans that are otherwise garbage, and since Go's collector
// never moves objects those spans stay: measured with `make bench-tenants`, about 12 MB
// per idle tenant of in-use spans holding nothing (HeapInuse − HeapAlloc). Collecting
// more often while building packs the survivors into reused slots and roughly halves
// that. Outside the window the process runs at its own GOGC: steady-state serving pays
// nothing.
const DefaultBuildGCPercent = 25

// gcWindow lowers GOGC while at least one tenant is being built and restores the
// process's own value when the last build ends.
type gcWindow struct {
	percent int // <= 0: leave GOGC alone

	mu     sync.Mutex
	active int
	saved  int
}

// enter starts a build; the returned function ends it and may be called more than once.
func (w *gcWindow) enter() (leave func()) {
	if w.percent <= 0 {
		return func() {}
	}
	w.mu.Lock()
	if w.active == 0 {
		w.saved = debug.SetGCPercent(w.percent)
		if w.saved < w.percent {
			// The process already runs at a lower target (or GC is off): keep it.
			debug.SetGCPercent(w.saved)
		}
	}
	w.active++
	w.mu.Unlock()
	return sync.OnceFunc(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.active--
		if w.active == 0 {
			debug.SetGCPercent(w.saved)
		}
	})
}
