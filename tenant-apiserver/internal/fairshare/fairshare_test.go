package fairshare

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// queueUp starts an Acquire for tenant in its own goroutine and returns once it waits;
// granted receives "tenant:n" when it gets its slot, and the slot is released when the
// returned function is called.
type harness struct {
	t       *testing.T
	d       *Dispatcher
	granted chan string
	mu      sync.Mutex
	release map[string]func()
}

func newHarness(t *testing.T, limit, maxQueued int) *harness {
	return &harness{t: t, d: New(limit, maxQueued), granted: make(chan string, 100), release: map[string]func(){}}
}

func (h *harness) queueUp(ctx context.Context, tenant, id string) {
	h.t.Helper()
	before := h.d.Waiting(tenant)
	go func() {
		release, err := h.d.Acquire(ctx, tenant)
		if err != nil {
			h.granted <- tenant + ":" + id + ":" + err.Error()
			return
		}
		h.mu.Lock()
		h.release[tenant+":"+id] = release
		h.mu.Unlock()
		h.granted <- tenant + ":" + id
	}()
	deadline := time.Now().Add(5 * time.Second)
	for h.d.Waiting(tenant) == before {
		if time.Now().After(deadline) {
			h.t.Fatalf("%s:%s never started waiting", tenant, id)
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *harness) next() string {
	h.t.Helper()
	select {
	case g := <-h.granted:
		return g
	case <-time.After(5 * time.Second):
		h.t.Fatal("no request was granted a slot")
		return ""
	}
}

func (h *harness) done(key string) {
	h.mu.Lock()
	release := h.release[key]
	h.mu.Unlock()
	release()
}

func TestLimitAndTurns(t *testing.T) {
	for _, tc := range []struct {
		name   string
		queued []string // tenant:id, queued in this order while the one slot is taken
		want   string   // the order they are granted the slot, one at a time
	}{
		{"one tenant: FIFO", []string{"a:1", "a:2", "a:3"}, "a:1,a:2,a:3"},
		{"a busy tenant and a quiet one: turns", []string{"a:1", "a:2", "a:3", "a:4", "b:1"}, "a:1,b:1,a:2,a:3,a:4"},
		{"three tenants", []string{"a:1", "a:2", "b:1", "b:2", "c:1"}, "a:1,b:1,c:1,a:2,b:2"},
		{"turns in round order, not arrival order", []string{"a:1", "b:1", "a:2", "c:1"}, "a:1,b:1,c:1,a:2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, 1, 100)
			hold, err := h.d.Acquire(t.Context(), "holder")
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range tc.queued {
				tenant, id, _ := strings.Cut(q, ":")
				h.queueUp(t.Context(), tenant, id)
			}
			if h.d.Inflight() != 1 {
				t.Fatalf("%d slots taken with a limit of 1", h.d.Inflight())
			}
			hold()
			var got []string
			for range tc.queued {
				g := h.next()
				got = append(got, g)
				if h.d.Inflight() != 1 {
					t.Fatalf("%d slots taken with a limit of 1", h.d.Inflight())
				}
				h.done(g)
			}
			if strings.Join(got, ",") != tc.want {
				t.Errorf("granted %s, want %s", strings.Join(got, ","), tc.want)
			}
			if h.d.Inflight() != 0 {
				t.Errorf("%d slots still taken after every request was answered", h.d.Inflight())
			}
		})
	}
}

func TestServesUpToLimitAtOnce(t *testing.T) {
	d := New(3, 10)
	var releases []func()
	for i := range 3 {
		r, err := d.Acquire(t.Context(), fmt.Sprint("t", i%2))
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, r)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := d.Acquire(ctx, "t9"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a fourth request with a limit of 3: %v, want it to wait until its context ends", err)
	}
	if d.Waiting("t9") != 0 {
		t.Error("a request that gave up still waits")
	}
	releases[0]()
	releases[0]() // releasing twice gives back one slot
	r, err := d.Acquire(t.Context(), "t9")
	if err != nil {
		t.Fatal(err)
	}
	r()
	if d.Inflight() != 2 {
		t.Errorf("inflight %d, want 2", d.Inflight())
	}
}

func TestQueueFull(t *testing.T) {
	h := newHarness(t, 1, 2)
	hold, _ := h.d.Acquire(t.Context(), "holder")
	defer hold()
	h.queueUp(t.Context(), "a", "1")
	h.queueUp(t.Context(), "a", "2")
	if _, err := h.d.Acquire(t.Context(), "a"); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("a third waiting request with 2 allowed: %v, want ErrQueueFull", err)
	}
	// Another tenant still queues.
	h.queueUp(t.Context(), "b", "1")
}

func TestCancelledWaiterLeavesNoTrace(t *testing.T) {
	h := newHarness(t, 1, 10)
	hold, _ := h.d.Acquire(t.Context(), "holder")
	ctx, cancel := context.WithCancel(t.Context())
	h.queueUp(ctx, "a", "gives-up")
	h.queueUp(t.Context(), "b", "1")
	cancel()
	if g := h.next(); !strings.HasPrefix(g, "a:gives-up:") {
		t.Fatalf("got %s, want a:gives-up to end with its context", g)
	}
	hold()
	if g := h.next(); g != "b:1" {
		t.Fatalf("got %s, want b:1", g)
	}
	h.done("b:1")
	if h.d.Inflight() != 0 || h.d.Waiting("a") != 0 || len(h.d.ring) != 0 {
		t.Errorf("inflight %d, a waiting %d, ring %v after all done", h.d.Inflight(), h.d.Waiting("a"), h.d.ring)
	}
}

// FuzzDispatcher runs random acquires (some giving up) and releases from many goroutines
// and checks that the limit always holds and that every request ends granted or with its
// context's error, leaving no slot taken.
func FuzzDispatcher(f *testing.F) {
	f.Add([]byte{3, 1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(2))
	f.Fuzz(func(t *testing.T, ops []byte, limit uint8) {
		if len(ops) > 200 {
			ops = ops[:200]
		}
		d := New(int(limit%4)+1, 1000)
		var over sync.Once
		var wg sync.WaitGroup
		for i, op := range ops {
			wg.Go(func() {
				ctx := context.Background()
				if op%5 == 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, time.Duration(op%7)*time.Millisecond)
					defer cancel()
				}
				release, err := d.Acquire(ctx, fmt.Sprint("t", op%3))
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("request %d: %v without its context ending", i, err)
					}
					return
				}
				if n := d.Inflight(); n > d.limit {
					over.Do(func() { t.Errorf("%d requests served at once with a limit of %d", n, d.limit) })
				}
				time.Sleep(time.Duration(op%3) * 100 * time.Microsecond)
				release()
			})
		}
		wg.Wait()
		if d.Inflight() != 0 || len(d.ring) != 0 || len(d.waiting) != 0 {
			t.Fatalf("after all requests: inflight %d, ring %v, waiting %v", d.Inflight(), d.ring, d.waiting)
		}
	})
}
