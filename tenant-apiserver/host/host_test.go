package host

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vcp-dev/vcp/tenant-apiserver/internal/datastore"
)

func startHost(t *testing.T, opts Options) *Host {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real API servers; skipped in -short mode")
	}
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	if opts.Datastore == nil {
		ds, err := datastore.Embedded(t.Context(), opts.DataDir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ds.Close)
		opts.Datastore = ds
	}
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Stop)
	return h
}

func TestHostServesATenant(t *testing.T) {
	h := startHost(t, Options{})
	start := time.Now()
	if _, err := h.Add(t.Context(), TenantSpec{Name: "a", UID: "uid-a"}); err != nil {
		t.Fatal(err)
	}
	t.Logf("tenant ready in %s", time.Since(start))
	cfg, err := h.RESTConfig("a")
	if err != nil {
		t.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	ns, err := client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("namespaces: %d", len(ns.Items))
}
