package e2e

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/e2e/framework"
	"github.com/vcp-dev/vcp/hack/localcluster"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// burstPods is how many pods the burst creates.
const burstPods = 2000

// TestSyncerKilledDuringBurst kills the syncer (SIGKILL) while a tenant creates 2,000
// pods and starts it again: in the end the super cluster holds exactly one super pod per
// tenant pod (by UID), none left over, and every tenant pod is Running.
func TestSyncerKilledDuringBurst(t *testing.T) {
	p := startProvisioningWith(t, localcluster.Config{NodePools: []localcluster.NodePool{{Name: "shared", Nodes: 4, Pods: "1000"}}})
	ctx := t.Context()
	p.create(&tenancyv1alpha1.VirtualCluster{ObjectMeta: metav1.ObjectMeta{Name: "burst"}})
	vc := p.waitPhase("burst", tenancyv1alpha1.PhaseRunning, time.Minute)
	cfg, err := clientcmd.BuildConfigFromFlags("", p.kubeconfig(vc))
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 500, 1000
	tenant := kubernetes.NewForConfigOrDie(cfg)
	superNS := naming.SuperNamespace(vc.TenantKey(), "default")
	framework.Eventually(t, time.Minute, "the tenant's default service account", func(ctx context.Context) (bool, error) {
		_, err := tenant.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, err
	})
	superCount := func(ctx context.Context) (int, error) {
		list, err := p.cluster.SuperClient.CoreV1().Pods(superNS).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return 0, err
		}
		return len(list.Items), nil
	}

	// Create the pods from 20 clients; kill the syncer once a fifth of them are down.
	var created atomic.Int32
	var wg sync.WaitGroup
	start := time.Now()
	errs := make(chan error, 20)
	for w := range 20 {
		wg.Go(func() {
			for i := w; i < burstPods; i += 20 {
				pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p-%04d", i), Labels: map[string]string{"burst": "true"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.example.com/app:1"}}}}
				if _, err := tenant.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
					errs <- err
					return
				}
				created.Add(1)
			}
		})
	}
	framework.Eventually(t, 2*time.Minute, "a fifth of the super pods to exist", func(ctx context.Context) (bool, error) {
		n, err := superCount(ctx)
		if err != nil {
			return false, err
		}
		return n >= burstPods/5, fmt.Errorf("%d super pods, %d tenant pods created", n, created.Load())
	})
	if err := p.cluster.Kill("syncer"); err != nil {
		t.Fatal(err)
	}
	killedAt, _ := superCount(ctx)
	t.Logf("killed the syncer with %d super pods and %d tenant pods after %s", killedAt, created.Load(), time.Since(start).Round(time.Millisecond))
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("create tenant pods: %v", err)
	}
	if _, err := p.cluster.StartSyncer(ctx); err != nil {
		t.Fatal(err)
	}

	tenantPods := waitRunning(t, tenant, "default", "burst=true", burstPods, 5*time.Minute)
	t.Logf("all %d tenant pods Running %s after the burst began", burstPods, time.Since(start).Round(time.Millisecond))
	uids := map[string]bool{}
	for _, pod := range tenantPods {
		uids[string(pod.UID)] = true
	}
	// For 10 s the super cluster holds exactly one super pod per tenant pod, and nothing else.
	framework.Consistently(t, 10*time.Second, "exactly one super pod per tenant pod", func(ctx context.Context) error {
		superPods, err := p.cluster.SuperClient.CoreV1().Pods(superNS).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		seen := map[string]int{}
		for _, sp := range superPods.Items {
			id, ok := naming.IdentityOf(&sp)
			if !ok || !uids[id.UID] {
				return fmt.Errorf("super pod %s stands for no tenant pod (identity %+v)", sp.Name, id)
			}
			seen[id.UID]++
		}
		if len(superPods.Items) != burstPods || len(seen) != burstPods {
			return fmt.Errorf("%d super pods for %d distinct tenant pods, want %d", len(superPods.Items), len(seen), burstPods)
		}
		return nil
	})
}
