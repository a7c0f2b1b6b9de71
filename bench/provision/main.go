// Command provision is the `make bench-provision` harness. On a local super cluster with
// the platform (tenant-apiserver host + vc-manager) it measures P1 end to end: from
// creating a VirtualCluster until `kubectl get ns` succeeds through the kubeconfig Secret
// the manager publishes, p50/p95 over -n tenants created one after another and -parallel
// at a time. The baseline, measured in the same run on the same host, is the host alone:
// adding a tenant through its admin API until `kubectl get ns` succeeds, without the
// manager, so the table shows what provisioning adds.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/bench/internal/stats"
	"github.com/vcp-dev/vcp/hack/localcluster"
	"github.com/vcp-dev/vcp/tenant-apiserver/adminclient"
)

func main() {
	n := flag.Int("n", 20, "tenants per measurement")
	parallel := flag.Int("parallel", 10, "tenants created at a time in the parallel measurement")
	flag.Parse()
	if *n < 1 || *parallel < 1 {
		fail(fmt.Errorf("-n and -parallel must be at least 1"))
	}
	if err := run(*n, *parallel); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench-provision:", err)
	os.Exit(1)
}

type bench struct {
	cluster *localcluster.Cluster
	admin   client.Client
	kubectl string
	dir     string
}

func run(n, parallel int) error {
	ctx := context.Background()
	binDir, err := localcluster.FindBinDir()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "vcp-bench-provision-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintln(os.Stderr, "starting a local super cluster and the platform...")
	c, err := localcluster.Start(ctx, localcluster.Config{Dir: dir, BinDir: binDir})
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = c.Stop(stopCtx)
	}()
	if err := c.StartPlatform(ctx); err != nil {
		return err
	}
	restCfg, err := c.RESTConfig()
	if err != nil {
		return err
	}
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = tenancyv1alpha1.AddToScheme(scheme)
	admin, err := client.New(restCfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	b := &bench{cluster: c, admin: admin, kubectl: filepath.Join(binDir, "kubectl"), dir: dir}

	fmt.Fprintf(os.Stderr, "baseline: %d tenants added on the host directly...\n", n)
	direct, err := b.times(ctx, n, 1, b.direct)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	fmt.Fprintf(os.Stderr, "P1: %d VirtualClusters one after another...\n", n)
	seq, err := b.times(ctx, n, 1, func(ctx context.Context, i int) error { return b.viaVirtualCluster(ctx, fmt.Sprintf("seq-%03d", i)) })
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "P1: %d VirtualClusters, %d at a time...\n", n, parallel)
	par, err := b.times(ctx, n, parallel, func(ctx context.Context, i int) error { return b.viaVirtualCluster(ctx, fmt.Sprintf("par-%03d", i)) })
	if err != nil {
		return err
	}
	fmt.Printf("\nprovisioning: VirtualCluster created → `kubectl get ns` ok through the kubeconfig Secret (n=%d each)\n\n", n)
	fmt.Println("| measure | p50 | p95 | p50 vs host alone |")
	fmt.Println("|---|---|---|---|")
	row := func(name string, ds []time.Duration) {
		fmt.Printf("| %s | %s | %s | %.2f× |\n", name, stats.Percentile(ds, 50).Round(time.Millisecond), stats.Percentile(ds, 95).Round(time.Millisecond),
			stats.Percentile(ds, 50).Seconds()/stats.Percentile(direct, 50).Seconds())
	}
	row("baseline: host admin API PUT → `kubectl get ns` (no manager)", direct)
	row("P1 sequential", seq)
	row(fmt.Sprintf("P1 %d at a time", parallel), par)
	return nil
}

// times runs measure for 0..n-1 with at most parallel at once and returns each duration.
func (b *bench) times(ctx context.Context, n, parallel int, measure func(context.Context, int) error) ([]time.Duration, error) {
	out := make([]time.Duration, n)
	errs := make([]error, n)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			start := time.Now()
			errs[i] = measure(ctx, i)
			out[i] = time.Since(start)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// viaVirtualCluster creates a VirtualCluster and returns once kubectl works through the
// kubeconfig Secret the manager writes.
func (b *bench) viaVirtualCluster(ctx context.Context, name string) error {
	vc := &tenancyv1alpha1.VirtualCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}
	if err := b.admin.Create(ctx, vc); err != nil {
		return err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if err := b.admin.Get(ctx, client.ObjectKeyFromObject(vc), vc); err == nil && vc.Status.KubeconfigSecretRef != nil {
			s := &corev1.Secret{}
			if err := b.admin.Get(ctx, client.ObjectKey{Namespace: vc.Namespace, Name: vc.Status.KubeconfigSecretRef.Name}, s); err == nil {
				if b.kubectlWorks(name, s.Data[vc.Status.KubeconfigSecretRef.Key]) == nil {
					return nil
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("VirtualCluster %s: kubectl get ns did not succeed within 2m (phase %s)", name, vc.Status.Phase)
}

// direct adds a tenant through the host's admin API, as the manager does, and returns
// once kubectl works with the kubeconfig the host returns.
func (b *bench) direct(ctx context.Context, i int) error {
	token, err := os.ReadFile(filepath.Join(b.cluster.Dir, "pki", "tenant-host-admin.token"))
	if err != nil {
		return err
	}
	host := &adminclient.Client{URL: b.cluster.Platform.HostAdminURL, Token: string(token)}
	name := fmt.Sprintf("direct-%03d", i)
	if _, err := host.Put(ctx, adminclient.Tenant{Name: name, UID: "bench-" + name}); err != nil {
		return err
	}
	kc, err := host.Kubeconfig(ctx, name)
	if err != nil {
		return err
	}
	return b.kubectlWorks(name, kc)
}

func (b *bench) kubectlWorks(name string, kubeconfig []byte) error {
	path := filepath.Join(b.dir, name+".kubeconfig")
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		return err
	}
	cmd := exec.Command(b.kubectl, "--kubeconfig", path, "get", "ns", "--request-timeout=5s")
	cmd.Env = append(os.Environ(), "KUBECACHEDIR="+filepath.Join(b.dir, "kubecache"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kubectl get ns on %s: %v: %s", name, err, out)
	}
	return nil
}
