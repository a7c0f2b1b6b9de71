package host

import (
	"runtime/debug"
	"testing"
)

func TestGCWindow(t *testing.T) {
	orig := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(orig) })
	current := func() int {
		v := debug.SetGCPercent(-1)
		debug.SetGCPercent(v)
		return v
	}
	for _, tc := range []struct {
		name               string
		process, percent   int
		duringOne, duringN int
	}{
		{name: "lowered while building", process: 100, percent: 25, duringOne: 25, duringN: 25},
		{name: "a lower process target is kept", process: 10, percent: 25, duringOne: 10, duringN: 10},
		{name: "GC off stays off", process: -1, percent: 25, duringOne: -1, duringN: -1},
		{name: "disabled window", process: 100, percent: -1, duringOne: 100, duringN: 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(tc.process)
			w := &gcWindow{percent: tc.percent}
			leaveA := w.enter()
			if got := current(); got != tc.duringOne {
				t.Fatalf("one build: GOGC %d, want %d", got, tc.duringOne)
			}
			leaveB := w.enter()
			leaveA()
			leaveA() // idempotent: must not end B's window
			if got := current(); got != tc.duringN {
				t.Fatalf("second build still running: GOGC %d, want %d", got, tc.duringN)
			}
			leaveB()
			if got := current(); got != tc.process {
				t.Fatalf("after the last build: GOGC %d, want the process's %d", got, tc.process)
			}
		})
	}
}
