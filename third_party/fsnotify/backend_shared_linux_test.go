//go:build linux && !appengine

package fsnotify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// inotifyInstances counts this process's inotify file descriptors.
func inotifyInstances(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.Contains(l, "inotify") {
			n++
		}
	}
	return n
}

func nextEvent(t *testing.T, w *Watcher, want Op, name string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case e := <-w.Events:
			if e.Has(want) && e.Name == name {
				return
			}
		case err := <-w.Errors:
			t.Fatalf("error while waiting for %v %s: %v", want, name, err)
		case <-deadline:
			t.Fatalf("no %v event for %s", want, name)
		}
	}
}

// TestWatchersShareOneInstance: more Watchers than the usual per-user instance limit
// (128), one instance; each still gets the events of its own files only.
func TestWatchersShareOneInstance(t *testing.T) {
	dir := t.TempDir()
	const n = 300
	watchers := make([]*Watcher, n)
	for i := range watchers {
		w, err := NewWatcher()
		if err != nil {
			t.Fatalf("watcher %d: %v", i, err)
		}
		defer w.Close()
		f := filepath.Join(dir, "f"+string(rune('a'+i%26))+strings.Repeat("x", i/26))
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := w.Add(f); err != nil {
			t.Fatalf("watcher %d: %v", i, err)
		}
		watchers[i] = w
	}
	if got := inotifyInstances(t); got != 1 {
		t.Fatalf("%d watchers hold %d inotify instances, want 1", n, got)
	}
	f0 := watchers[0].WatchList()[0]
	if err := os.WriteFile(f0, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, watchers[0], Write, f0)
	select {
	case e := <-watchers[1].Events:
		t.Fatalf("watcher 1 got %v, an event of watcher 0's file", e)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestReplacedFileIsWatchedAgain is what k8s.io/apiserver's certificate reloaders do:
// two Watchers of one file; the file is replaced by a rename; each Watcher gets the
// event, removes and adds the path again, and sees the next write.
func TestReplacedFileIsWatchedAgain(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "tls.crt")
	if err := os.WriteFile(f, []byte("1"), 0o600); err != nil {
		t.Fatal(err)
	}
	var ws []*Watcher
	for i := 0; i < 2; i++ {
		w, err := NewWatcher()
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if err := w.Add(f); err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
	}
	tmp := filepath.Join(dir, "tls.crt.tmp")
	if err := os.WriteFile(tmp, []byte("2"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, f); err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		nextEvent(t, w, Remove, f)
		_ = w.Remove(f)
		if err := w.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(f, []byte("3"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		nextEvent(t, w, Write, f)
	}
}

// TestCloseLeavesOthersWatching: closing one Watcher of a path closes its channels and
// keeps the kernel watch for the other.
func TestCloseLeavesOthersWatching(t *testing.T) {
	f := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, w := range []*Watcher{a, b} {
		if err := w.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-a.Events; ok {
		t.Fatal("a closed watcher's Events channel is open")
	}
	if err := a.Add(f); err != ErrClosed {
		t.Fatalf("Add on a closed watcher: %v, want ErrClosed", err)
	}
	if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, b, Write, f)
	if err := b.Remove(f); err != nil {
		t.Fatal(err)
	}
	if err := b.Remove(f); err == nil {
		t.Fatal("removing a path twice: no error")
	}
}
