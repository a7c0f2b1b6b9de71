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
//
// Every operation but RemoveTenant costs the same however many tenants there are: the
// round is a circular list, and the tenants in it that GetLight may serve are kept in a
// list of their own as their queues cross LightItems (entries that stopped being light
// are dropped when reached, each once).
type Queue[T comparable] struct {
	mu   sync.Mutex
	cond *sync.Cond
	// lightCond wakes GetLight: only a tenant turning fresh or light is work for it.
	lightCond *sync.Cond

	tenants map[string]*tenantQueue[T]
	// fresh are the tenants whose queue was empty when an item came, in order: each is
	// served one turn before the round, freshCredit is what fresh[0] has left of it.
	fresh       []string
	freshCredit int
	// cur is the tenant of the round served next (nil: the round is empty); credit is
	// what it has left this round. A tenant joins the round just before cur: last.
	cur    *tenantQueue[T]
	credit int
	// light are the tenants in the round GetLight serves, in its own round-robin order:
	// each one with 1..LightItems queued is in it once (inLight), and an entry whose
	// tenant left the round or grew past LightItems is dropped when it comes first.
	light []*tenantQueue[T]

	shuttingDown bool

	// OnServe, when set before use, is called (under the queue's lock: keep it cheap) with
	// how long each item handed out by Get waited since it was queued.
	OnServe func(tenant string, waited time.Duration)
}

// LightItems is the most items a tenant in the round may have queued for GetLight to
// serve it: a few items of a few objects, far below any backlog.
const LightItems = 4

type tenantQueue[T comparable] struct {
	name       string
	weight     int
	items      []T
	queued     map[T]time.Time
	processing map[T]bool
	dirty      map[T]bool
	// active: in fresh or in the round.
	active bool
	// inRing: in the round, between prev and next.
	inRing     bool
	prev, next *tenantQueue[T]
	// inLight: has its one entry in Queue.light (an entry left for a tenant RemoveTenant
	// dropped is dropped too: the tenant is out of the round for good).
	inLight bool
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
		t = &tenantQueue[T]{name: name, weight: 1, queued: map[T]time.Time{}, processing: map[T]bool{}, dirty: map[T]bool{}}
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
	q.enqueue(t, item)
}

func (q *Queue[T]) enqueue(t *tenantQueue[T], item T) {
	if _, ok := t.queued[item]; ok {
		return
	}
	t.queued[item] = time.Now()
	t.items = append(t.items, item)
	if !t.active {
		t.active = true
		q.fresh = append(q.fresh, t.name)
		q.lightCond.Signal()
	}
	q.noteLight(t)
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
	for q.cur == nil && len(q.fresh) == 0 && !q.shuttingDown {
		q.cond.Wait()
	}
	if len(q.fresh) > 0 {
		name, item := q.popFresh()
		return name, item, false
	}
	if q.cur == nil {
		var zero T
		return "", zero, true
	}
	t := q.cur
	if q.credit == 0 {
		q.credit = t.weight
	}
	item = q.pop(t)
	q.credit--
	switch {
	case len(t.items) == 0:
		// Out of the round until it has work again; the next tenant is served next.
		t.active = false
		q.leaveRing(t)
	case q.credit == 0:
		q.cur = t.next
	}
	q.noteLight(t)
	return t.name, item, false
}

// joinRing puts t last in the round: just before the tenant served next.
func (q *Queue[T]) joinRing(t *tenantQueue[T]) {
	t.inRing = true
	if q.cur == nil {
		t.prev, t.next = t, t
		q.cur, q.credit = t, 0
		return
	}
	t.prev, t.next = q.cur.prev, q.cur
	t.prev.next, q.cur.prev = t, t
}

// leaveRing takes t out of the round; if it was to be served next, the tenant after it is.
func (q *Queue[T]) leaveRing(t *tenantQueue[T]) {
	switch {
	case t.next == t:
		q.cur, q.credit = nil, 0
	case q.cur == t:
		q.cur, q.credit = t.next, 0
	}
	t.prev.next, t.next.prev = t.next, t.prev
	t.prev, t.next, t.inRing = nil, nil, false
}

// isLight: t is in the round with 1..LightItems queued, work for GetLight.
func isLight[T comparable](t *tenantQueue[T]) bool {
	return t.inRing && len(t.items) > 0 && len(t.items) <= LightItems
}

// noteLight gives t an entry in the lane's list once it is light and has none.
func (q *Queue[T]) noteLight(t *tenantQueue[T]) {
	if t.inLight || !isLight(t) {
		return
	}
	t.inLight = true
	q.light = append(q.light, t)
	q.lightCond.Signal()
}

// firstLight drops the entries at the head of the lane's list whose tenants are no
// longer light and returns the first that is, or nil.
func (q *Queue[T]) firstLight() *tenantQueue[T] {
	for len(q.light) > 0 {
		t := q.light[0]
		if isLight(t) {
			return t
		}
		t.inLight = false
		q.light[0] = nil
		q.light = q.light[1:]
	}
	return nil
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

// takeLight serves a fresh tenant or a light one in the round, if any; the light one
// goes to the back of the lane's list.
func (q *Queue[T]) takeLight() (string, T, bool) {
	if len(q.fresh) > 0 {
		name, item := q.popFresh()
		return name, item, true
	}
	t := q.firstLight()
	if t == nil {
		var zero T
		return "", zero, false
	}
	q.light[0] = nil
	q.light = q.light[1:]
	t.inLight = false
	item := q.pop(t)
	if len(t.items) == 0 {
		t.active = false
		q.leaveRing(t)
	}
	q.noteLight(t)
	return t.name, item, true
}

// popFresh serves fresh[0] its next item of its one turn.
func (q *Queue[T]) popFresh() (string, T) {
	t := q.tenants[q.fresh[0]]
	if q.freshCredit == 0 {
		q.freshCredit = t.weight
	}
	item := q.pop(t)
	q.freshCredit--
	switch {
	case len(t.items) == 0:
		t.active = false
		q.fresh, q.freshCredit = q.fresh[1:], 0
	case q.freshCredit == 0:
		// Its turn is over: from now on it takes its turns in the round.
		q.fresh = q.fresh[1:]
		q.joinRing(t)
		q.cond.Signal()
		q.noteLight(t)
	}
	return t.name, item
}

// wakeLight wakes another GetLight while there is work for it: each of them takes one
// item, and one signal may stand for several (a tenant turning light has up to
// LightItems).
func (q *Queue[T]) wakeLight() {
	if len(q.fresh) > 0 || q.firstLight() != nil {
		q.lightCond.Signal()
	}
}

// pop takes tenant t's first item and marks it being processed.
func (q *Queue[T]) pop(t *tenantQueue[T]) T {
	item := t.items[0]
	var zero T
	t.items[0] = zero
	t.items = t.items[1:]
	if q.OnServe != nil {
		q.OnServe(t.name, time.Since(t.queued[item]))
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
			q.enqueue(t, item)
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
	if t.inRing {
		q.leaveRing(t)
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
