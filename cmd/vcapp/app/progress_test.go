package app

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vcp-dev/vcp/appdelivery/engine"
	"github.com/vcp-dev/vcp/appdelivery/health"
)

func snapshot(target string, st health.Status, msg string) engine.Snapshot {
	return engine.Snapshot{Target: target, Objects: []engine.ObjectState{
		{Ref: engine.Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "shop", Name: "web"}, Component: "web", Health: health.Result{Status: st, Message: msg}},
	}}
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

func TestProgressTableCompactsAFleet(t *testing.T) {
	var out bytes.Buffer
	p := &progress{out: &out, live: true, last: map[string]engine.Snapshot{}, seen: map[string]string{}}
	for _, target := range []string{"a", "b", "c"} {
		s := engine.Snapshot{Target: target}
		for range 20 {
			s.Objects = append(s.Objects, snapshot(target, health.Healthy, "").Objects[0])
		}
		if target == "b" {
			s.Objects[3].Health = health.Result{Status: health.Degraded, Message: "pod web-1: CrashLoopBackOff"}
		}
		p.update(s)
	}
	last := out.String()[strings.LastIndex(out.String(), "TARGET"):]
	for _, want := range []string{"a  ", "20 of 20 objects", "19 of 20 objects", "pod web-1: CrashLoopBackOff"} {
		if !strings.Contains(last, want) {
			t.Errorf("table without %q:\n%s", want, last)
		}
	}
	if n := strings.Count(last, "\n"); n != 5 {
		t.Errorf("%d lines, want 5 (header, a, b's failure, b, c):\n%s", n, last)
	}
}
