package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Where P3's time goes on this machine. Every process of the local super cluster and the
// platform shares the same cores, so the wall-clock ratio of P3 is bounded below by the
// ratio of CPU work the two paths need: the table shows CPU seconds per process in each
// phase and how busy the machine's cores were.

// cpuSample is CPU seconds used so far, per process name, and the machine's busy and
// total jiffies.
type cpuSample struct {
	at          time.Time
	procs       map[string]float64
	busy, total uint64
}

// cpuUse is what a phase used.
type cpuUse struct {
	wall  time.Duration
	procs map[string]float64
	// busy is the fraction of all cores' time that was not idle.
	busy float64
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

func (b *bench) cpu() cpuSample {
	s := cpuSample{at: time.Now(), procs: map[string]float64{}}
	for _, p := range b.cluster.Processes {
		if sec, ok := processCPU(p.PID); ok {
			s.procs[p.Name] += sec
		}
	}
	if sec, ok := processCPU(os.Getpid()); ok {
		s.procs["bench client"] = sec
	}
	s.busy, s.total = machineCPU()
	return s
}

func (s cpuSample) since(old cpuSample) cpuUse {
	u := cpuUse{wall: s.at.Sub(old.at), procs: map[string]float64{}}
	for name, sec := range s.procs {
		u.procs[name] = sec - old.procs[name]
	}
	if s.total > old.total {
		u.busy = float64(s.busy-old.busy) / float64(s.total-old.total)
	}
	return u
}

func (u cpuUse) sum() float64 {
	var t float64
	for _, v := range u.procs {
		t += v
	}
	return t
}

// processCPU is a process's user + system CPU seconds (/proc/<pid>/stat fields 14, 15).
func processCPU(pid int) (float64, bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces; fields after it are counted from ')'.
	i := strings.LastIndexByte(string(raw), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return float64(utime+stime) / clockTicks, true
}

// machineCPU returns busy and total jiffies of all cores from /proc/stat.
func machineCPU() (busy, total uint64) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0
	}
	for i, v := range f[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

func (r results) printCPU() {
	names := map[string]bool{}
	for n := range r.cpuBase.procs {
		names[n] = true
	}
	for n := range r.cpuVCP.procs {
		names[n] = true
	}
	sorted := slices.Collect(func(yield func(string) bool) {
		for n := range names {
			if !yield(n) {
				return
			}
		}
	})
	slices.SortFunc(sorted, func(a, b string) int {
		return int((r.cpuVCP.procs[b] - r.cpuVCP.procs[a]) * 1000)
	})
	fmt.Printf("\nP3 CPU seconds by process (%d cores; the two paths share them):\n\n", runtime.NumCPU())
	fmt.Println("| process | P3 through tenants | P3 baseline (direct) |")
	fmt.Println("|---|---|---|")
	for _, n := range sorted {
		fmt.Printf("| %s | %.1f s | %.1f s |\n", n, r.cpuVCP.procs[n], r.cpuBase.procs[n])
	}
	fmt.Printf("| all of the above | %.1f s | %.1f s |\n", r.cpuVCP.sum(), r.cpuBase.sum())
	fmt.Printf("| machine busy (all cores) | %.0f%% of %s | %.0f%% of %s |\n",
		100*r.cpuVCP.busy, r.cpuVCP.wall.Round(time.Second), 100*r.cpuBase.busy, r.cpuBase.wall.Round(time.Second))
	if b := r.cpuBase.sum(); b > 0 {
		fmt.Printf("\nCPU work ratio (through tenants / direct): %.2f×; wall-clock ratio: %.2f×\n", r.cpuVCP.sum()/b, r.cpuVCP.wall.Seconds()/r.cpuBase.wall.Seconds())
	}
}
