package host

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"k8s.io/component-base/metrics/legacyregistry"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/vcp-dev/vcp/internal/promtext"
	"github.com/vcp-dev/vcp/tenant-apiserver/datastore"
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

// addTenant adds tenant name (uid-<name>) to h and returns an admin client of it.
func addTenant(t *testing.T, h *Host, name string) *kubernetes.Clientset {
	t.Helper()
	if _, err := h.Add(t.Context(), TenantSpec{Name: name, UID: "uid-" + name}); err != nil {
		t.Fatal(err)
	}
	cfg, err := h.RESTConfig(name)
	if err != nil {
		t.Fatal(err)
	}
	return kubernetes.NewForConfigOrDie(cfg)
}

// scrapeMetrics reads the host's /metrics.
func scrapeMetrics(t *testing.T, h *Host) map[string]float64 {
	t.Helper()
	samples, err := promtext.Scrape(h.AdminURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	return samples
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

func TestTenantControllers(t *testing.T) {
	h := startHost(t, Options{})
	// A reflector listing a resource the server does not serve logs this, with backoff.
	unserved := logLines(t, "the server could not find the requested resource (get ")
	if _, err := h.Add(t.Context(), TenantSpec{Name: "a", UID: "uid-a"}); err != nil {
		t.Fatal(err)
	}
	cfg, _ := h.RESTConfig("a")
	client := kubernetes.NewForConfigOrDie(cfg)
	ctx := t.Context()
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
			},
		},
	}
	start := time.Now()
	if _, err := client.AppsV1().Deployments("team").Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "2 pods of deployment web", func() (bool, error) {
		pods, err := client.CoreV1().Pods("team").List(ctx, metav1.ListOptions{})
		return err == nil && len(pods.Items) == 2, err
	})
	t.Logf("deployment -> 2 pods in %s", time.Since(start))
	// The ResourceQuota controller counts what a namespace already holds when a quota is
	// created there (admission charges only later creations).
	quota := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "q"}, Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
		corev1.ResourcePods: resource.MustParse("3"), "count/deployments.apps": resource.MustParse("5"),
	}}}
	if _, err := client.CoreV1().ResourceQuotas("team").Create(ctx, quota, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "quota q to count 2 pods and 1 deployment", func() (bool, error) {
		q, err := client.CoreV1().ResourceQuotas("team").Get(ctx, "q", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		pods, deployments := q.Status.Used[corev1.ResourcePods], q.Status.Used["count/deployments.apps"]
		return pods.Value() == 2 && deployments.Value() == 1, fmt.Errorf("used %v", q.Status.Used)
	})
	waitFor(t, time.Minute, "default service account and root CA", func() (bool, error) {
		_, err1 := client.CoreV1().ServiceAccounts("team").Get(ctx, "default", metav1.GetOptions{})
		_, err2 := client.CoreV1().ConfigMaps("team").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		return err1 == nil && err2 == nil, errors.Join(err1, err2)
	})
	// The controllers share the API server's informers: a resource both watch (the
	// server for admission and authorization, the controllers for their work) is
	// watched once. Deployments only the controllers watch.
	// Nothing lists what the tenant does not serve (resource.k8s.io: upstream's quota
	// controller would).
	for resource, want := range map[string]float64{"namespaces": 1, "serviceaccounts": 1, "clusterroles": 1, "deployments": 1, "resourcequotas": 1} {
		if got := openWatches(t, resource); got != want {
			t.Errorf("%v open watches of %s in a one-tenant host, want %v", got, resource, want)
		}
	}
	if n := unserved(); n != 0 {
		t.Errorf("%d failed lists of resources the tenant does not serve (such as resource.k8s.io)", n)
	}
	if err := client.CoreV1().Namespaces().Delete(ctx, "team", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	waitFor(t, time.Minute, "namespace team to be gone", func() (bool, error) {
		_, err := client.CoreV1().Namespaces().Get(ctx, "team", metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	})
	t.Logf("namespace deleted in %s", time.Since(start))
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s: %v", what, last)
}

// TestTenantEtcdUsers runs tenants on an etcd with authentication: each tenant reaches
// etcd as its own user, whose role covers its prefix and nothing else (not even a prefix
// that merely starts with the same characters), and deleting a tenant deletes its user.
func TestTenantEtcdUsers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real API servers; skipped in -short mode")
	}
	dir := t.TempDir()
	ds, err := datastore.EmbeddedWithOptions(t.Context(), dir, datastore.EmbeddedOptions{Auth: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ds.Close)
	h := startHost(t, Options{DataDir: dir, Datastore: ds, DisableControllers: true})
	ctx := t.Context()
	for _, spec := range []TenantSpec{{Name: "a", UID: "x"}, {Name: "ab", UID: "xb"}} {
		if _, err := h.Add(ctx, spec); err != nil {
			t.Fatal(err)
		}
		cfg, _ := h.RESTConfig(spec.Name)
		if _, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns-" + spec.Name}}, metav1.CreateOptions{}); err != nil {
			t.Fatalf("tenant %s writes through its own etcd user: %v", spec.Name, err)
		}
	}
	a, _ := h.Tenant("a")
	asA, err := clientv3.New(clientv3.Config{Endpoints: a.etcd.Endpoints, TLS: tlsFor(t, a.etcd), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer asA.Close()
	if resp, err := asA.Get(ctx, "/vcp/x/", clientv3.WithPrefix(), clientv3.WithCountOnly()); err != nil || resp.Count == 0 {
		t.Fatalf("tenant a's user cannot read its own prefix: %v", err)
	}
	for _, key := range []string{"/vcp/xb/", "/vcp/", "/registry/"} {
		if _, err := asA.Get(ctx, key, clientv3.WithPrefix()); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("tenant a's user reading %s: err = %v, want permission denied", key, err)
		}
	}
	if _, err := asA.Put(ctx, "/vcp/xb/injected", "x"); err == nil {
		t.Error("tenant a's user wrote into tenant ab's prefix")
	}
	if err := h.Remove(ctx, "ab", true); err != nil {
		t.Fatal(err)
	}
	if ok, err := ds.TenantUserExists(ctx, "/vcp/xb/"); err != nil || ok {
		t.Errorf("tenant ab's etcd user still exists after deletion (err %v)", err)
	}
	if ok, _ := ds.TenantUserExists(ctx, "/vcp/x/"); !ok {
		t.Error("tenant a's etcd user is gone")
	}
}

func tlsFor(t *testing.T, c datastore.ClientConfig) *tls.Config {
	t.Helper()
	cfg, err := (transport.TLSInfo{CertFile: c.CertFile, KeyFile: c.KeyFile, TrustedCAFile: c.CAFile}).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// openWatches is the number of WATCH requests on resource the process's API servers are
// serving now (apiserver_longrunning_requests, summed over scopes).
func openWatches(t *testing.T, resource string) float64 {
	t.Helper()
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, f := range families {
		if f.GetName() != "apiserver_longrunning_requests" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["verb"] == "WATCH" && labels["resource"] == resource && labels["subresource"] == "" {
				n += m.GetGauge().GetValue()
			}
		}
	}
	return n
}

// logLines counts, from now until the test ends, the log lines that contain substr
// (everything is still written to standard error).
func logLines(t *testing.T, substr string) func() int {
	t.Helper()
	w := &lineCounter{substr: []byte(substr)}
	klog.LogToStderr(false)
	klog.SetOutput(w)
	t.Cleanup(func() {
		klog.SetOutput(os.Stderr)
		klog.LogToStderr(true)
	})
	return func() int { return int(w.n.Load()) }
}

type lineCounter struct {
	substr []byte
	n      atomic.Int64
}

func (w *lineCounter) Write(p []byte) (int, error) {
	w.n.Add(int64(bytes.Count(p, w.substr)))
	return os.Stderr.Write(p)
}
