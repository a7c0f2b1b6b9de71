package ctrlapp

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProfilingHandlersOnlyWithTheFlag(t *testing.T) {
	if h := (&Options{}).profilingHandlers(); h != nil {
		t.Fatalf("without --profiling: %d handlers, want none", len(h))
	}
	h := (&Options{Profiling: true}).profilingHandlers()
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/profile", "/debug/pprof/trace"} {
		if h[path] == nil {
			t.Errorf("with --profiling: no handler for %s", path)
		}
	}
	rec := httptest.NewRecorder()
	h["/debug/pprof/"].ServeHTTP(rec, httptest.NewRequest("GET", "/debug/pprof/heap?debug=1", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "heap profile") {
		t.Errorf("heap profile: %d %.100q", rec.Code, rec.Body.String())
	}
}
