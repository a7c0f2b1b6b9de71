// Package cpu reads how much CPU the processes of a benchmark used, from /proc: every
// process of the local super cluster and the platform shares the machine's cores, so a
// benchmark that compares two paths shows what each cost in CPU next to its wall clock.
package cpu

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

// Of is a process's user + system CPU time so far (/proc/<pid>/stat fields 14 and 15);
// false when the process is gone.
func Of(pid int) (time.Duration, bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	return parseStat(string(raw))
}

func parseStat(raw string) (time.Duration, bool) {
	// The command name (field 2) may hold spaces; fields after it are counted from ')'.
	i := strings.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(raw[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, true
}

// Machine returns the busy and total jiffies of all cores so far, from /proc/stat.
func Machine() (busy, total uint64) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	return parseMachine(string(raw))
}

func parseMachine(raw string) (busy, total uint64) {
	line, _, _ := strings.Cut(raw, "\n")
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

// Sample is CPU seconds used so far, per process name, and the machine's busy and total
// jiffies.
type Sample struct {
	At          time.Time
	Procs       map[string]float64
	busy, total uint64
}

// Take samples the processes of pids (by name; the CPU of several processes under one
// name is added up) and the machine.
func Take(pids map[string][]int) Sample {
	s := Sample{At: time.Now(), Procs: map[string]float64{}}
	for name, ps := range pids {
		for _, pid := range ps {
			if d, ok := Of(pid); ok {
				s.Procs[name] += d.Seconds()
			}
		}
	}
	s.busy, s.total = Machine()
	return s
}

// Use is what a phase used.
type Use struct {
	Wall  time.Duration
	Procs map[string]float64
	// Busy is the fraction of all cores' time that was not idle.
	Busy float64
}

// Since is what was used between old and s.
func (s Sample) Since(old Sample) Use {
	u := Use{Wall: s.At.Sub(old.At), Procs: map[string]float64{}}
	for name, sec := range s.Procs {
		u.Procs[name] = sec - old.Procs[name]
	}
	if s.total > old.total {
		u.Busy = float64(s.busy-old.busy) / float64(s.total-old.total)
	}
	return u
}

// Sum is the CPU seconds of every process of u.
func (u Use) Sum() float64 {
	var t float64
	for _, v := range u.Procs {
		t += v
	}
	return t
}

// PrintTable prints, as a Markdown table, the CPU seconds per process of two phases
// (sorted by the first), their sums, how busy the cores were, and the two ratios.
func PrintTable(title, nameA, nameB string, a, b Use) {
	names := map[string]bool{}
	for n := range a.Procs {
		names[n] = true
	}
	for n := range b.Procs {
		names[n] = true
	}
	sorted := slices.Collect(maps.Keys(names))
	slices.SortFunc(sorted, func(x, y string) int {
		if c := int((a.Procs[y] - a.Procs[x]) * 1000); c != 0 {
			return c
		}
		return strings.Compare(x, y)
	})
	fmt.Printf("\n%s (%d cores; the two phases share them):\n\n", title, runtime.NumCPU())
	fmt.Printf("| process | %s | %s |\n", nameA, nameB)
	fmt.Println("|---|---|---|")
	for _, n := range sorted {
		fmt.Printf("| %s | %.1f s | %.1f s |\n", n, a.Procs[n], b.Procs[n])
	}
	fmt.Printf("| all of the above | %.1f s | %.1f s |\n", a.Sum(), b.Sum())
	fmt.Printf("| machine busy (all cores) | %.0f%% of %s | %.0f%% of %s |\n",
		100*a.Busy, a.Wall.Round(time.Second), 100*b.Busy, b.Wall.Round(time.Second))
	if b.Sum() > 0 && b.Wall > 0 {
		fmt.Printf("\nCPU work ratio (%s / %s): %.2f×; wall-clock ratio: %.2f×\n", nameA, nameB, a.Sum()/b.Sum(), a.Wall.Seconds()/b.Wall.Seconds())
	}
}

// FetchProfile gets a Go profile (a /debug/pprof/ URL, with a bearer token when token is
// set) and writes it to path.
func FetchProfile(ctx context.Context, url, token, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, res.Status)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, body, 0o644)
}
