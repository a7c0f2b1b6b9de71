// Package fairshare shares a host's request-serving capacity among its tenants. A host
// serves many tenant API servers from one process on the same cores; without it, one
// tenant sending hundreds of requests at once gets hundreds of goroutines competing for
// the CPU with everyone else's, and every other tenant's requests slow down in
// proportion. With it, at most Limit requests are served at once across the host, and
// when more are waiting a free slot goes to the tenants in turn (round-robin, FIFO within
// a tenant): a tenant with one request waits for at most one request of each other
// waiting tenant, however many a busy tenant has queued. It is API Priority and
// Fairness with one priority level and a flow per tenant (tenants do not run APF: the
// flowcontrol API is off in them).
package fairshare

import (
	"context"
	"errors"
	"sync"
)

// ErrQueueFull is returned when a tenant already has the most requests waiting that the
// Dispatcher lets it queue.
var ErrQueueFull = errors.New("too many requests of this tenant are waiting")

// Dispatcher hands out request slots fairly among tenants.
type Dispatcher struct {
	limit, maxQueued int

	mu       sync.Mutex
	inflight int
	waiting  map[string]*tenantQueue
	// ring holds the tenants with waiting requests, in turn order; next is served next.
	ring []string
	next int
}

type tenantQueue struct {
	waiters []*waiter
}

type waiter struct {
	ready   chan struct{}
	granted bool
}

// New returns a Dispatcher serving at most limit requests at once, with at most
// maxQueued waiting per tenant (values below 1 count as 1).
func New(limit, maxQueued int) *Dispatcher {
	return &Dispatcher{limit: max(1, limit), maxQueued: max(1, maxQueued), waiting: map[string]*tenantQueue{}}
}

// Acquire waits for a slot for one of tenant's requests. It returns the function that
// gives the slot back (call it once the request is answered), or ErrQueueFull, or the
// context's error when ctx ends first.
func (d *Dispatcher) Acquire(ctx context.Context, tenant string) (release func(), err error) {
	d.mu.Lock()
	if d.inflight < d.limit && len(d.ring) == 0 {
		d.inflight++
		d.mu.Unlock()
		return sync.OnceFunc(d.release), nil
	}
	q := d.waiting[tenant]
	if q == nil {
		q = &tenantQueue{}
		d.waiting[tenant] = q
		d.ring = append(d.ring, tenant)
	}
	if len(q.waiters) >= d.maxQueued {
		d.mu.Unlock()
		return nil, ErrQueueFull
	}
	w := &waiter{ready: make(chan struct{})}
	q.waiters = append(q.waiters, w)
	d.mu.Unlock()

	select {
	case <-w.ready:
		return sync.OnceFunc(d.release), nil
	case <-ctx.Done():
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if w.granted {
		// Granted as ctx ended: hand the slot on.
		d.inflight--
		d.dispatchLocked()
		return nil, ctx.Err()
	}
	q = d.waiting[tenant]
	for i, other := range q.waiters {
		if other == w {
			q.waiters = append(q.waiters[:i], q.waiters[i+1:]...)
			break
		}
	}
	if len(q.waiters) == 0 {
		d.dropLocked(tenant)
	}
	return nil, ctx.Err()
}

// Inflight is how many slots are taken; Waiting how many requests of tenant wait.
func (d *Dispatcher) Inflight() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.inflight
}

// Waiting is how many of tenant's requests wait for a slot.
func (d *Dispatcher) Waiting(tenant string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if q := d.waiting[tenant]; q != nil {
		return len(q.waiters)
	}
	return 0
}

func (d *Dispatcher) release() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.inflight--
	d.dispatchLocked()
}

// dispatchLocked grants free slots to waiting requests, one tenant after another.
func (d *Dispatcher) dispatchLocked() {
	for d.inflight < d.limit && len(d.ring) > 0 {
		if d.next >= len(d.ring) {
			d.next = 0
		}
		tenant := d.ring[d.next]
		q := d.waiting[tenant]
		w := q.waiters[0]
		q.waiters[0] = nil
		q.waiters = q.waiters[1:]
		w.granted = true
		close(w.ready)
		d.inflight++
		if len(q.waiters) == 0 {
			d.dropLocked(tenant) // the next tenant moves into this ring slot
		} else {
			d.next++
		}
	}
}

// dropLocked takes a tenant without waiting requests out of the ring.
func (d *Dispatcher) dropLocked(tenant string) {
	delete(d.waiting, tenant)
	for i, name := range d.ring {
		if name == tenant {
			d.ring = append(d.ring[:i], d.ring[i+1:]...)
			if i < d.next {
				d.next--
			}
			return
		}
	}
}
