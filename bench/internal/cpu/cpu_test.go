package cpu

import (
	"os"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		want      time.Duration
		ok        bool
	}{
		{name: "plain", raw: "42 (etcd) S 1 42 42 0 -1 4194560 100 0 0 0 250 31 0 0 20 0 12 0 100 0 0", want: 2810 * time.Millisecond, ok: true},
		{name: "command with spaces and parens", raw: "7 (a) b (c) R 1 7 7 0 -1 0 0 0 0 0 5 5 0 0", want: 100 * time.Millisecond, ok: true},
		{name: "truncated", raw: "7 (x) R 1 7", ok: false},
		{name: "no command", raw: "garbage", ok: false},
		{name: "not a number", raw: "7 (x) R 1 7 7 0 -1 0 0 0 0 0 x 5 0 0", ok: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseStat(tc.raw)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("parseStat(%q) = %v, %v; want %v, %v", tc.raw, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestParseMachine(t *testing.T) {
	busy, total := parseMachine("cpu  10 1 5 100 4 0 2 0 0 0\ncpu0 1 1 1 1 1 1 1 1 1 1\n")
	if busy != 18 || total != 122 {
		t.Fatalf("busy, total = %d, %d; want 18, 122", busy, total)
	}
	if busy, total := parseMachine("intr 1 2 3\n"); busy != 0 || total != 0 {
		t.Fatalf("a file without a cpu line gave %d, %d", busy, total)
	}
}

// The test process itself burns CPU between two samples: the phase shows it.
func TestTakeSince(t *testing.T) {
	pids := map[string][]int{"self": {os.Getpid()}, "gone": {1 << 30}}
	before := Take(pids)
	deadline := time.Now().Add(150 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	u := Take(pids).Since(before)
	if u.Procs["self"] <= 0 {
		t.Fatalf("the test's own CPU did not grow: %v", u.Procs)
	}
	if u.Procs["gone"] != 0 {
		t.Fatalf("a process that does not exist used %v s", u.Procs["gone"])
	}
	if got := u.Sum(); got != u.Procs["self"] {
		t.Fatalf("Sum() = %v with %v", got, u.Procs)
	}
	if u.Busy <= 0 || u.Busy > 1 {
		t.Fatalf("Busy = %v, want (0, 1]", u.Busy)
	}
}
