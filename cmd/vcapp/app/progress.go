package app

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/vcp-dev/vcp/appdelivery/engine"
	"github.com/vcp-dev/vcp/appdelivery/health"
)

// progress shows the health of every target's objects while vcapp waits: on a terminal
// a table redrawn in place, otherwise one line each time an object's health changes
// (logs and CI read those), and nothing for -o json.
type progress struct {
	mu    sync.Mutex
	out   io.Writer
	live  bool
	quiet bool
	// last is the latest snapshot per target; order the targets in first-seen order.
	last  map[string]engine.Snapshot
	order []string
	// seen is the last line printed per object (plain mode).
	seen  map[string]string
	lines int // lines of the table drawn last (live mode)
}

func newProgress(out io.Writer, output string) *progress {
	return &progress{out: out, live: isTerminal(out), quiet: output == outputJSON, last: map[string]engine.Snapshot{}, seen: map[string]string{}}
}

// update is an engine.Options.Progress.
func (p *progress) update(s engine.Snapshot) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.last[s.Target]; !ok {
		p.order = append(p.order, s.Target)
	}
	p.last[s.Target] = s
	if p.live {
		p.redraw()
		return
	}
	for _, o := range s.Objects {
		line := fmt.Sprintf("%s: %s %s", s.Target, o.Ref, o.Health.Status)
		if o.Health.Message != "" && o.Health.Status != health.Healthy {
			line += ": " + o.Health.Message
		}
		key := s.Target + " " + o.Ref.Key()
		if p.seen[key] != line {
			p.seen[key] = line
			fmt.Fprintln(p.out, line)
		}
	}
}

// maxTableRows is the largest table drawn in full on a terminal.
const maxTableRows = 40

// redraw draws the table over the previous one: the cursor goes up the previous
// frame's lines and clears to the end of the screen.
func (p *progress) redraw() {
	f := frame(p.order, p.last)
	if p.lines > 0 {
		fmt.Fprintf(p.out, "\x1b[%dA\x1b[J", p.lines)
	}
	fmt.Fprint(p.out, f)
	p.lines = strings.Count(f, "\n")
}

// frame is the live table for the latest snapshot of each target, targets in order:
// one row per object (target, component, resource, health, reason). When the rows
// would not fit a terminal (more than maxTableRows), healthy objects are counted per
// target instead of listed.
func frame(order []string, last map[string]engine.Snapshot) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tCOMPONENT\tRESOURCE\tHEALTH\tREASON")
	rows := 0
	for _, t := range order {
		rows += len(last[t].Objects)
	}
	compact := rows > maxTableRows
	for _, t := range order {
		s := last[t]
		healthy := 0
		for _, o := range s.Objects {
			reason := ""
			if o.Health.Status != health.Healthy {
				reason = o.Health.Message
			} else if compact {
				healthy++
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t, o.Component, o.Ref, o.Health.Status, truncate(reason, 80))
		}
		if healthy > 0 {
			fmt.Fprintf(tw, "%s\t\t%d of %d objects\t%s\t\n", t, healthy, len(s.Objects), health.Healthy)
		}
	}
	_ = tw.Flush()
	return b.String()
}

// truncate shortens s to n runes, the last one an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// printTree prints objects grouped by component, with the reason for everything not
// Healthy.
func printTree(w io.Writer, objs []engine.ObjectState) {
	names, groups := engine.ByComponent(objs)
	slices.Sort(names)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, name := range names {
		g := groups[name]
		label := name
		if label == "" {
			label = "(application)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t\n", label, engine.Worst(g))
		for _, o := range g {
			reason := ""
			if o.Health.Status != health.Healthy {
				reason = o.Health.Message
			}
			fmt.Fprintf(tw, "    %s\t%s\t%s\n", o.Ref, o.Health.Status, reason)
		}
	}
	_ = tw.Flush()
}
