// Package fairqueue is the syncer's work queue: one FIFO per tenant, served round-robin
// by weight, so a tenant that queues thousands of items delays another tenant by at most
// one round (the sum of the weights), never by its backlog.
//
// A tenant that had nothing queued is served first, for one turn, and then joins the
// round: as in weighted fair queueing, a tenant that asks for little waits for no round
// of the busy tenants (its items would have finished long before theirs), and a busy
// tenant still gets its turn once per round. A tenant can come first again only after its
// queue ran dry, so the busy ones wait at most one turn of each other tenant.
//
// GetLight serves only tenants that ask for little: those fresh ones, and those in the
// round with at most LightItems queued. Workers that call it are a lane kept for such
// tenants, so their items need not wait until one of the workers busy with the greedy
// tenants' items is free, nor for the greedy tenants' turns in the round. A tenant that
// created a pod a second ever has a few items queued at once (the previous pod's status,
// its service account, the new pod): with only the fresh ones served by the lane, the
// new pod waited for a round of the greedy tenants.
//
// Within a tenant it behaves like client-go's workqueue: an item is queued at most once,
// an item being processed is not handed out again until Done, and an item added while it
// is processed is queued again at Done.
package fairqueue

import (
	"sync"
	"time"
)

// Queue hands out (tenant, item) pairs fairly across tenants.
type Queue[T comparable] struct {
	mu   sync.Mutex
	cond *sync.Cond
	// lightCond wakes GetLight: only a tenant turning fresh or light is work for it.
	lightCond *sync.Cond

	tenants map[string]*tenantQueue[T]
	// fresh are the tenants whose queue was empty when an item came, in order: each is
	// served one turn before the ring, freshCredit is what fresh[0] has left of it.
	fresh       []string
	freshCredit int
	// ring is the round-robin order of the other tenants with queued items.
	ring []string
	// next is the ring position served next; credit is what that tenant has left this round.
	next   int
	credit int
	// lightNext is the ring position GetLight looks at first (a round-robin of its own).
	lightNext int

	shuttingDown bool

	// OnServe, when set before use, is called (under the queue's lock: keep it cheap) with
	// how long each item handed out by Get waited since it was queued.
	OnServe func(tenant string, waited time.Duration)
}

// LightItems is the most items a tenant in the round may have queued for GetLight to
// serve it: a few items of a few objects, far below any backlog.
const LightItems = 4

type tenantQueue[T comparable] struct {
	weight     int
	items      []T
	queued     map[T]time.Time
	processing map[T]bool
	dirty      map[T]bool
	// active: in fresh or in the ring.
	active bool
}

// New returns an empty queue.
func New[T comparable]() *Queue[T] {
	q := &Queue[T]{tenants: map[string]*tenantQueue[T]{}}
	q.cond, q.lightCond = sync.NewCond(&q.mu), sync.NewCond(&q.mu)
	return q
}

func (q *Queue[T]) tenant(name string) *tenantQueue[T] {
	t, ok := q.tenants[name]
	if !ok {
		t = &tenantQueue[T]{weight: 1, queued: map[T]time.Time{}, processing: map[T]bool{}, dirty: map[T]bool{}}
		q.tenants[name] = t
	}
	return t
}

// SetWeight sets a tenant's share: it gets up to weight items per round. Weights below 1
// count as 1.
func (q *Queue[T]) SetWeight(tenant string, weight int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.tenant(tenant).weight = max(1, weight)
}

// Add queues item for tenant unless it is queued already.
func (q *Queue[T]) Add(tenant string, item T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shuttingDown {
		return
	}
	t := q.tenant(tenant)
	if t.processing[item] {
		t.dirty[item] = true
		return
	}
	q.enqueue(tenant, t, item)
}

func (q *Queue[T]) enqueue(name string, t *tenantQueue[T], item T) {
	if _, ok := t.queued[item]; ok {
		return
	}
	t.queued[item] = time.Now()
	t.items = append(t.items, item)
	if !t.active {
		t.active = true
		q.fresh = append(q.fresh, name)
	}
	if len(t.items) <= LightItems {
		q.lightCond.Signal()
	}
	q.cond.Signal()
}

// AddAfter queues item for tenant once d has passed.
func (q *Queue[T]) AddAfter(tenant string, item T, d time.Duration) {
	if d <= 0 {
		q.Add(tenant, item)
		return
	}
	time.AfterFunc(d, func() { q.Add(tenant, item) })
}

// Get blocks until an item is available and returns it with its tenant; shutdown is true
// once the queue is shut down and empty. The caller must call Done when finished.
func (q *Queue[T]) Get() (tenant string, item T, shutdown bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.ring) == 0 && len(q.fresh) == 0 && !q.shuttingDown {
		q.cond.Wait()
	}
	if len(q.fresh) > 0 {
		name, item := q.popFresh()
		return name, item, false
	}
	if len(q.ring) == 0 {
		var zero T
		return "", zero, true
	}
	if q.next >= len(q.ring) {
		q.next, q.credit = 0, 0
	}
	name := q.ring[q.next]
	t := q.tenants[name]
	if q.credit == 0 {
		q.credit = t.weight
	}
	item = q.pop(name, t)
	q.credit--
	switch {
	case len(t.items) == 0:
		// Out of the ring until it has work again; the next tenant moves into this slot.
		t.active = false
		q.removeFromRing(q.next)
	case q.credit == 0:
		q.next++
	}
	if len(t.items) == LightItems {
		q.lightCond.Signal()
	}
	return name, item, false
}

// removeFromRing takes ring[i] out of the ring; the tenant after it moves into its slot.
func (q *Queue[T]) removeFromRing(i int) {
	q.ring = append(q.ring[:i], q.ring[i+1:]...)
	switch {
	case i < q.next:
		q.next--
	case i == q.next:
		q.credit = 0
	}
	if i < q.lightNext {
		q.lightNext--
	}
}

// GetLight is Get for the tenants that ask for little (see the package's doc) only:
// the fresh ones first, then, round-robin, those in the round with at most LightItems
// queued. shutdown is true once the queue is shut down and no such tenant waits. The
// caller must call Done when finished.
func (q *Queue[T]) GetLight() (tenant string, item T, shutdown bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if name, item, ok := q.takeLight(); ok {
			q.wakeLight()
			return name, item, false
		}
		if q.shuttingDown {
			var zero T
			return "", zero, true
		}
		q.lightCond.Wait()
	}
}

// takeLight serves a fresh tenant or a light one in the ring, if any.
func (q *Queue[T]) takeLight() (string, T, bool) {
	if len(q.fresh) > 0 {
		name, item := q.popFresh()
		return name, item, true
	}
	i := q.lightInRing()
	if i < 0 {
		var zero T
		return "", zero, false
	}
	name := q.ring[i]
	t := q.tenants[name]
	item := q.pop(name, t)
	q.lightNext = i + 1
	if len(t.items) == 0 {
		t.active = false
		q.removeFromRing(i)
	}
	return name, item, true
}

// lightInRing is the ring position of the first tenant from lightNext on (wrapping
// around) with at most LightItems queued, or -1.
func (q *Queue[T]) lightInRing() int {
	n := len(q.ring)
	for k := range n {
		i := (q.lightNext + k) % n
		if len(q.tenants[q.ring[i]].items) <= LightItems {
			return i
		}
	}
	return -1
}

// popFresh serves fresh[0] its next item of its one turn.
func (q *Queue[T]) popFresh() (string, T) {
	name := q.fresh[0]
	t := q.tenants[name]
	if q.freshCredit == 0 {
		q.freshCredit = t.weight
	}
	item := q.pop(name, t)
	q.freshCredit--
	switch {
	case len(t.items) == 0:
		t.active = false
		q.fresh, q.freshCredit = q.fresh[1:], 0
	case q.freshCredit == 0:
		// Its turn is over: from now on it takes its turns in the round.
		q.fresh = q.fresh[1:]
		q.ring = append(q.ring, name)
		q.cond.Signal()
		if len(t.items) <= LightItems {
			q.lightCond.Signal()
		}
	}
	return name, item
}

// wakeLight wakes another GetLight while there is work for it: each of them takes one
// item, and one signal may stand for several (a tenant turning light has up to
// LightItems).
func (q *Queue[T]) wakeLight() {
	if len(q.fresh) > 0 || q.lightInRing() >= 0 {
		q.lightCond.Signal()
	}
}

// pop takes tenant t's first item and marks it being processed.
func (q *Queue[T]) pop(name string, t *tenantQueue[T]) T {
	item := t.items[0]
	var zero T
	t.items[0] = zero
	t.items = t.items[1:]
	if q.OnServe != nil {
		q.OnServe(name, time.Since(t.queued[item]))
	}
	delete(t.queued, item)
	t.processing[item] = true
	return item
}

// Done marks item finished; if it was added again meanwhile, it is queued again.
func (q *Queue[T]) Done(tenant string, item T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	t, ok := q.tenants[tenant]
	if !ok {
		return
	}
	delete(t.processing, item)
	if t.dirty[item] {
		delete(t.dirty, item)
		if !q.shuttingDown {
			q.enqueue(tenant, t, item)
		}
	}
}

// Len is how many items a tenant has queued (not counting those being processed).
func (q *Queue[T]) Len(tenant string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if t, ok := q.tenants[tenant]; ok {
		return len(t.items)
	}
	return 0
}

// RemoveTenant drops a tenant's queued items and its weight; items being processed may
// still be Done.
func (q *Queue[T]) RemoveTenant(tenant string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	t, ok := q.tenants[tenant]
	if !ok {
		return
	}
	for i, name := range q.fresh {
		if name == tenant {
			q.fresh = append(q.fresh[:i], q.fresh[i+1:]...)
			if i == 0 {
				q.freshCredit = 0
			}
			break
		}
	}
	if t.active {
		for i, name := range q.ring {
			if name == tenant {
				q.removeFromRing(i)
				break
			}
		}
	}
	delete(q.tenants, tenant)
}

// ShutDown makes Get return shutdown once the queue is empty and drops later Adds.
func (q *Queue[T]) ShutDown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shuttingDown = true
	q.cond.Broadcast()
	q.lightCond.Broadcast()
}
