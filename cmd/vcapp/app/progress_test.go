package app

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vcp-dev/vcp/appdelivery/engine"
	"github.com/vcp-dev/vcp/appdelivery/health"
	"github.com/vcp-dev/vcp/cmd/vcapp/app/apptest"
)

func snapshot(target string, st health.Status, msg string) engine.Snapshot {
	return engine.Snapshot{Target: target, Objects: []engine.ObjectState{
		{Ref: engine.Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "web"}, Component: "web", Health: health.Result{Status: st, Message: msg}},
	}}
}

func object(kind, name, component string, st health.Status, msg string) engine.ObjectState {
	group := "apps"
	if kind == "Service" || kind == "ConfigMap" {
		group = ""
	}
	return engine.ObjectState{Ref: engine.Ref{Group: group, Version: "v1", Kind: kind, Namespace: "shop", Name: name}, Component: component,
		Health: health.Result{Status: st, Message: msg}}
}

func TestProgressPlainLinesOnChange(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, outputText)
	p.update(snapshot("a", health.Progressing, "0 of 2 replicas updated"))
	p.update(snapshot("a", health.Progressing, "0 of 2 replicas updated"))
	p.update(snapshot("b", health.Progressing, "0 of 2 replicas updated"))
	p.update(snapshot("a", health.Healthy, "2 of 2 replicas available"))
	want := "a: Deployment shop/web Progressing: 0 of 2 replicas updated\n" +
		"b: Deployment shop/web Progressing: 0 of 2 replicas updated\n" +
		"a: Deployment shop/web Healthy\n"
	if out.String() != want {
		t.Errorf("got:\n%swant:\n%s", out.String(), want)
	}
	out.Reset()
	q := newProgress(&out, outputJSON)
	q.update(snapshot("a", health.Healthy, ""))
	if out.Len() != 0 {
		t.Errorf("-o json printed progress: %q", out.String())
	}
}

// TestFrame renders the live table for fixed states and compares it with golden files
// (go test -update rewrites them).
func TestFrame(t *testing.T) {
	fleet := func() (order []string, last map[string]engine.Snapshot) {
		last = map[string]engine.Snapshot{}
		for _, target := range []string{"eu/a", "eu/b", "us/c"} {
			s := engine.Snapshot{Target: target}
			for i := range 20 {
				s.Objects = append(s.Objects, object("Deployment", "c"+string(rune('a'+i)), "c"+string(rune('a'+i)), health.Healthy, "2 of 2 replicas available"))
			}
			if target == "eu/b" {
				s.Objects[3].Health = health.Result{Status: health.Degraded, Message: "pod cd-7d9c-x2x: CrashLoopBackOff: back-off 10s restarting failed container"}
			}
			order, last[target] = append(order, target), s
		}
		return order, last
	}
	tests := []struct {
		name  string
		order []string
		last  map[string]engine.Snapshot
	}{
		{"empty", nil, nil},
		{"one target applying", []string{"staging"}, map[string]engine.Snapshot{"staging": {Target: "staging", Objects: []engine.ObjectState{
			object("ConfigMap", "web-settings-5f7c", "web", health.Healthy, ""),
			object("Service", "web", "web", health.Healthy, ""),
			object("Deployment", "web", "web", health.Progressing, "1 of 2 replicas updated, 0 available"),
			object("StatefulSet", "db", "db", health.Missing, "not found"),
		}}}},
		{"two targets, a degraded one and a long reason", []string{"eu", "us"}, map[string]engine.Snapshot{
			"eu": {Target: "eu", Objects: []engine.ObjectState{object("Deployment", "api", "api", health.Healthy, "2 of 2 replicas available")}},
			"us": {Target: "us", Objects: []engine.ObjectState{object("Deployment", "api", "api", health.Degraded,
				"pod api-6b8f9-qx2lp: ImagePullBackOff: Back-off pulling image \"registry.example.com/api:broken-pull\" after repeated failures in the last minute")}},
		}},
		{"a fleet too large to list is counted", nil, nil},
	}
	tests[3].order, tests[3].last = fleet()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := frame(tt.order, tt.last)
			checkGolden(t, got, filepath.Join("testdata", "frame-"+strings.ReplaceAll(strings.ReplaceAll(tt.name, " ", "-"), ",", "")+".golden.txt"))
			if n := strings.Count(got, "\n"); n > maxTableRows+1+len(tt.order) {
				t.Errorf("%d lines: more than a terminal's table", n)
			}
		})
	}
}

// TestProgressRedrawsInPlace: on a terminal each update draws the whole frame after
// moving the cursor up over the previous one.
func TestProgressRedrawsInPlace(t *testing.T) {
	var out bytes.Buffer
	p := &progress{out: &out, live: true, last: map[string]engine.Snapshot{}, seen: map[string]string{}}
	p.update(snapshot("a", health.Progressing, "0 of 2 replicas updated"))
	first := out.String()
	if first != frame([]string{"a"}, p.last) {
		t.Fatalf("first draw:\n%q", first)
	}
	out.Reset()
	p.update(snapshot("b", health.Healthy, ""))
	want := "\x1b[2A\x1b[J" + frame([]string{"a", "b"}, p.last)
	if out.String() != want {
		t.Errorf("second draw %q, want %q", out.String(), want)
	}
}

// TestProgressModeFollowsTheTerminal: a terminal gets the live table, a pipe or a file
// the plain lines, -o json nothing, whatever the output is.
func TestProgressModeFollowsTheTerminal(t *testing.T) {
	control, terminal, err := apptest.OpenPTY()
	if err != nil {
		t.Fatalf("pseudo-terminal: %v", err)
	}
	defer control.Close()
	defer terminal.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for _, tt := range []struct {
		name              string
		out               io.Writer
		output            string
		wantLive, wantOff bool
	}{
		{"terminal", terminal, outputText, true, false},
		{"terminal, -o json", terminal, outputJSON, true, true},
		{"pipe", w, outputText, false, false},
		{"file", file, outputText, false, false},
		{"buffer", &bytes.Buffer{}, outputText, false, false},
	} {
		p := newProgress(tt.out, tt.output)
		if p.live != tt.wantLive || p.quiet != tt.wantOff {
			t.Errorf("%s: live %v quiet %v, want %v %v", tt.name, p.live, p.quiet, tt.wantLive, tt.wantOff)
		}
	}
	// What reaches the terminal: two frames, the second over the first.
	p := newProgress(terminal, outputText)
	p.update(snapshot("a", health.Progressing, "0 of 2 replicas updated"))
	p.update(snapshot("a", health.Healthy, ""))
	got := readFor(control, 500*time.Millisecond)
	if !strings.Contains(got, "TARGET") || !strings.Contains(got, "\x1b[2A\x1b[J") || strings.Count(got, "Deployment shop/web") != 2 {
		t.Errorf("terminal got %q", got)
	}
}

// readFor reads what f has within d.
func readFor(f *os.File, d time.Duration) string {
	_ = f.SetReadDeadline(time.Now().Add(d))
	var b bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := f.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}
