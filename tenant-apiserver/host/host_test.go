package host

import (
	"context"
	"errors"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

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
	waitFor(t, time.Minute, "default service account and root CA", func() (bool, error) {
		_, err1 := client.CoreV1().ServiceAccounts("team").Get(ctx, "default", metav1.GetOptions{})
		_, err2 := client.CoreV1().ConfigMaps("team").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		return err1 == nil && err2 == nil, errors.Join(err1, err2)
	})
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
