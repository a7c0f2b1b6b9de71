package host

import (
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// TestRequestSlotsShared: a tenant's requests wait for one of the host's request slots;
// past its queue they are answered 429 with Retry-After at once; what holds no slot
// (health checks, watches, the tenant's own loopback clients) is served while every slot
// is taken; a freed slot serves the waiting request.
func TestRequestSlotsShared(t *testing.T) {
	h := startHost(t, Options{DisableControllers: true, MaxInflightRequests: 1, MaxQueuedRequestsPerTenant: 1})
	ctx := t.Context()
	tenant, err := h.Add(ctx, TenantSpec{Name: "a", UID: "uid-a"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := h.RESTConfig("a")
	if err != nil {
		t.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)

	release, err := h.fair.Acquire(ctx, "someone else") // the host's only slot
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	got := make(chan error, 1)
	go func() {
		_, err := client.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{})
		got <- err
	}()
	for deadline := time.Now().Add(30 * time.Second); h.fair.Waiting("a") != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("tenant a's GET never waited for a slot")
		}
	}

	// Its one queue place is taken: the next request is refused at once.
	res := client.CoreV1().RESTClient().Get().AbsPath("/api/v1/namespaces/kube-system").MaxRetries(0).Do(ctx)
	if err := res.Error(); !apierrors.IsTooManyRequests(err) {
		t.Fatalf("a request past the tenant's queue: %v, want 429 Too Many Requests", err)
	}
	// Served without a slot: a health check, a watch, a loopback client's request.
	if err := client.Discovery().RESTClient().Get().AbsPath("/readyz").Do(ctx).Error(); err != nil {
		t.Errorf("/readyz while every slot is taken: %v", err)
	}
	w, err := client.CoreV1().ConfigMaps("default").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Errorf("a watch while every slot is taken: %v", err)
	} else {
		w.Stop()
	}
	if _, err := kubernetes.NewForConfigOrDie(tenant.LoopbackConfig()).CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Errorf("the tenant's loopback client while every slot is taken: %v", err)
	}
	select {
	case err := <-got:
		t.Fatalf("tenant a's GET was answered (%v) while the only slot was taken", err)
	default:
	}

	release()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("the waiting GET, once the slot was free: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the waiting GET was not served once the slot was free")
	}
	if samples := scrapeMetrics(t, h); samples[`vcp_tenant_rejected_requests_total{reason="queue_full",tenant="a"}`] < 1 {
		t.Error("the refused request is not counted in vcp_tenant_rejected_requests_total")
	}
}
