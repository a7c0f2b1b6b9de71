//go:build linux && !appengine

package fsnotify

// vcp patch: every Watcher of a process shares one inotify instance.
//
// Linux limits inotify instances per user (fs.inotify.max_user_instances, often 128),
// and upstream makes one per Watcher. k8s.io/apiserver makes a Watcher for each
// certificate file it reloads (serving certificate, client CAs, front-proxy CAs): about
// six per API server, so a host of many tenant API servers ran out of instances, logged
// "too many open files" every minute for each tenant, and took instances from every other
// process of the same user on the node (the kubelet among them when both run as root).
//
// Here each Watcher is a view on one process-wide inotify backend (newInotifyBackend),
// created with the first Watcher and kept for the life of the process. A path is watched
// in the kernel once, however many Watchers watch it; each event of the shared instance
// goes to the Watchers of its path and of its path's directory. A watched path that is
// removed or renamed loses its kernel watch (as with upstream), so every Watcher of it
// gets the event and must Add it again to keep watching, which is what upstream's callers
// do. Options given to AddWith apply to the kernel watch when it is made by the first
// Watcher of the path.

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
)

// hub is the process-wide inotify instance and who watches what on it.
type hub struct {
	in     backend
	ev     chan Event
	errs   chan error
	mu     sync.Mutex
	subs   map[string]map[*muxWatcher]struct{} // watched path (a recursive one without "/...") -> its watchers
	active map[string]bool                     // path watched in the kernel
	rec    map[string]bool                     // path watched recursively
}

var (
	hubMu  sync.Mutex
	theHub *hub
)

// sharedHub returns the process's hub, made by the first Watcher; a failure (out of
// instances) is tried again by the next one.
func sharedHub() (*hub, error) {
	hubMu.Lock()
	defer hubMu.Unlock()
	if theHub != nil {
		return theHub, nil
	}
	h := &hub{ev: make(chan Event, 1024), errs: make(chan error, 16),
		subs: map[string]map[*muxWatcher]struct{}{}, active: map[string]bool{}, rec: map[string]bool{}}
	in, err := newInotifyBackend(h.ev, h.errs)
	if err != nil {
		return nil, err
	}
	h.in = in
	theHub = h
	go h.dispatch()
	return h, nil
}

func (h *hub) dispatch() {
	for {
		select {
		case e, ok := <-h.ev:
			if !ok {
				return
			}
			h.mu.Lock()
			ts := h.targets(e)
			e.watchPath = ""
			for w := range ts {
				w.push(e)
			}
			h.mu.Unlock()
		case err, ok := <-h.errs:
			if !ok {
				return
			}
			h.mu.Lock()
			seen := map[*muxWatcher]bool{}
			for _, ws := range h.subs {
				for w := range ws {
					if !seen[w] {
						seen[w] = true
						w.push(err)
					}
				}
			}
			h.mu.Unlock()
		}
	}
}

// targets are the Watchers an event of the shared instance goes to, each once: those of
// the watch that saw it (or of the recursive watch above it), as upstream's own instance
// per Watcher would deliver it. A watched path removed or renamed has lost its kernel
// watch: that is recorded, and its Watchers get the event even when it was seen by the
// watch of its directory (the backend then skips the path's own event). Under h.mu.
func (h *hub) targets(e Event) map[*muxWatcher]struct{} {
	ts := map[*muxWatcher]struct{}{}
	add := func(path string) {
		for w := range h.subs[path] {
			ts[w] = struct{}{}
		}
	}
	add(e.watchPath)
	for dir := e.watchPath; ; {
		if h.rec[dir] {
			add(dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if e.Has(Remove) || e.Has(Rename) {
		if h.active[e.Name] {
			h.active[e.Name] = false
			_ = h.in.Remove(e.Name)
		}
		if e.Name != e.watchPath {
			add(e.Name)
		}
	}
	return ts
}

// muxWatcher is one Watcher's view of the hub. Its events are queued without bound and
// sent by its own goroutine, so the hub never blocks on a Watcher whose reader is busy
// (or is itself calling Add or Remove).
type muxWatcher struct {
	hub    *hub
	ev     chan Event
	errs   chan error
	paths  map[string]struct{} // under hub.mu
	mu     sync.Mutex
	queue  []interface{} // Event or error
	wake   chan struct{}
	done   chan struct{}
	pumped chan struct{}
	closed bool
}

func newBackend(ev chan Event, errs chan error) (backend, error) {
	h, err := sharedHub()
	if err != nil {
		return nil, err
	}
	w := &muxWatcher{hub: h, ev: ev, errs: errs, paths: map[string]struct{}{},
		wake: make(chan struct{}, 1), done: make(chan struct{}), pumped: make(chan struct{})}
	go w.pump()
	return w, nil
}

func (w *muxWatcher) push(item interface{}) {
	w.mu.Lock()
	if !w.closed {
		w.queue = append(w.queue, item)
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *muxWatcher) pump() {
	defer func() {
		close(w.errs)
		close(w.ev)
		close(w.pumped)
	}()
	for {
		w.mu.Lock()
		var item interface{}
		if len(w.queue) > 0 {
			item = w.queue[0]
			w.queue[0] = nil
			w.queue = w.queue[1:]
		}
		w.mu.Unlock()
		if item == nil {
			select {
			case <-w.wake:
				continue
			case <-w.done:
				return
			}
		}
		switch it := item.(type) {
		case Event:
			select {
			case w.ev <- it:
			case <-w.done:
				return
			}
		case error:
			select {
			case w.errs <- it:
			case <-w.done:
				return
			}
		}
	}
}

func (w *muxWatcher) Add(name string) error { return w.AddWith(name) }

func (w *muxWatcher) AddWith(name string, opts ...addOpt) error {
	if w.isClosed() {
		return ErrClosed
	}
	name, recurse := recursivePath(filepath.Clean(name))
	h := w.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.active[name] {
		path := name
		if recurse {
			path = filepath.Join(name, "...")
		}
		if err := h.in.AddWith(path, opts...); err != nil {
			return err
		}
		h.active[name] = true
		h.rec[name] = recurse
	}
	if h.subs[name] == nil {
		h.subs[name] = map[*muxWatcher]struct{}{}
	}
	h.subs[name][w] = struct{}{}
	w.paths[name] = struct{}{}
	return nil
}

func (w *muxWatcher) Remove(name string) error {
	if w.isClosed() {
		return nil
	}
	name, recurse := recursivePath(filepath.Clean(name))
	h := w.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := w.paths[name]; !ok {
		return fmt.Errorf("%w: %s", ErrNonExistentWatch, name)
	}
	if recurse && !h.rec[name] {
		return fmt.Errorf("can't use /... with non-recursive watch %q", name)
	}
	return w.unwatch(name)
}

// unwatch drops name from w and, when w was its last watcher, from the kernel; under
// hub.mu. As upstream, removing a watch the kernel no longer has (another path to the
// same file was removed first) is ErrNonExistentWatch.
func (w *muxWatcher) unwatch(name string) error {
	h := w.hub
	delete(w.paths, name)
	delete(h.subs[name], w)
	if len(h.subs[name]) > 0 {
		return nil
	}
	var err error
	if h.active[name] {
		if err = h.in.Remove(name); !errors.Is(err, ErrNonExistentWatch) {
			err = nil
		}
	}
	delete(h.subs, name)
	delete(h.active, name)
	delete(h.rec, name)
	return err
}

func (w *muxWatcher) WatchList() []string {
	if w.isClosed() {
		return nil
	}
	w.hub.mu.Lock()
	defer w.hub.mu.Unlock()
	l := make([]string, 0, len(w.paths))
	for p := range w.paths {
		l = append(l, p)
	}
	return l
}

func (w *muxWatcher) isClosed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed
}

func (w *muxWatcher) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.queue = nil
	w.mu.Unlock()
	w.hub.mu.Lock()
	for p := range w.paths {
		_ = w.unwatch(p)
	}
	w.hub.mu.Unlock()
	close(w.done)
	<-w.pumped
	return nil
}

func (w *muxWatcher) xSupports(op Op) bool { return w.hub.in.xSupports(op) }
