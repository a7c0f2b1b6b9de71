// Command sync is the `make bench-sync` harness. On a local super cluster (KWOK nodes)
// with the whole platform (tenant-apiserver host, vc-manager, syncer) and -tenants
// tenants, it measures the syncer's figures next to baselines taken in the same run:
//
//   - P3: -tenants × -pods pods created at once across the tenants until all are Running
//     in the tenants, against the same number created directly in the super cluster
//     (-tenants namespaces) until all are Running there.
//   - P4: at light load, one pod at a time, each Running before the next (-light-gap
//     after): tenant pod created → super pod seen by a watch, against super pod created →
//     seen by the same watch; twice: from the create call's start (the tenant API's own
//     write counts) and from its return (the pod exists: the issue's "tenant pod created →
//     super pod created", the watch's delay cancelling). Then the same back to back (the
//     next pod 10 ms after the previous one was seen), where each pod's create competes
//     with the previous one's scheduling, status and event writes.
//   - P5: fairness: -greedy tenants create -greedy-pods pods each at once while -quiet
//     tenants create -quiet-pods one after another; the quiet pods' latency (as P4).
//   - P6: the syncer's RSS and heap per synced pod after P3.
//   - P7: one patrol pass over every tenant's caches with the P3 pods in them.
//   - P8: the syncer killed and started again: from holding the lease to every tenant's
//     caches synced and its queue drained.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/bench/internal/cpu"
	"github.com/vcp-dev/vcp/bench/internal/stats"
	"github.com/vcp-dev/vcp/hack/localcluster"
	"github.com/vcp-dev/vcp/internal/promtext"
	"github.com/vcp-dev/vcp/syncer/naming"
)

type options struct {
	tenants, pods                             int
	greedy, greedyPods, quiet, quietPods      int
	light, nodes, nodePods, createParallelism int
	lightGap                                  time.Duration
	profileDir                                string
	p5Only                                    bool
}

func main() {
	var o options
	flag.IntVar(&o.tenants, "tenants", 100, "tenants (P3 spreads its pods over all of them)")
	flag.IntVar(&o.pods, "pods", 100, "P3 pods per tenant")
	flag.IntVar(&o.greedy, "greedy", 10, "P5 greedy tenants")
	flag.IntVar(&o.greedyPods, "greedy-pods", 900, "P5 pods each greedy tenant creates at once")
	flag.IntVar(&o.quiet, "quiet", 40, "P5 quiet tenants")
	flag.IntVar(&o.quietPods, "quiet-pods", 10, "P5 pods each quiet tenant creates one after another")
	flag.IntVar(&o.light, "light", 100, "P4 pods created one at a time (for each of the two measurements)")
	flag.DurationVar(&o.lightGap, "light-gap", 50*time.Millisecond, "P4 at light load: pause after each pod is Running, before the next is created")
	flag.IntVar(&o.nodes, "nodes", 25, "KWOK nodes")
	flag.IntVar(&o.nodePods, "node-pods", 1000, "pods each KWOK node holds")
	flag.IntVar(&o.createParallelism, "parallelism", 50, "clients creating pods at once in P3")
	flag.StringVar(&o.profileDir, "profile", "", "write CPU profiles of the tenant-apiserver host (30 s from the start of the P3 baseline, with the tenants idle; 60 s from the start of P3) and the syncer's heap profile after P3 into this directory")
	flag.BoolVar(&o.p5Only, "p5-only", false, "measure only P5 (for comparing two syncers at the fairness figure; the run needs only -greedy + -quiet tenants)")
	flag.Parse()
	if o.tenants < 1 || o.pods < 1 || o.greedy+o.quiet > o.tenants || o.light < 1 || o.nodes < 1 {
		fail(fmt.Errorf("need -tenants ≥ 1, -pods ≥ 1, -light ≥ 1, -nodes ≥ 1 and -greedy + -quiet ≤ -tenants"))
	}
	if o.lightGap < 0 {
		fail(fmt.Errorf("-light-gap must not be negative, got %s", o.lightGap))
	}
	if err := run(o); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench-sync:", err)
	os.Exit(1)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

type bench struct {
	o       options
	cluster *localcluster.Cluster
	super   kubernetes.Interface
	admin   client.Client
	tenants []*tenant
	// seen records when the bench's super watch first saw each super pod (namespace/name);
	// waiters holds a channel, closed on first sight, for each pod someone waits for.
	seen, waiters sync.Map
	// superRunning counts Running super pods by label bench=<phase>.
	superRunning sync.Map
}

type tenant struct {
	name, key string
	client    kubernetes.Interface
}

func run(o options) error {
	ctx := context.Background()
	binDir, err := localcluster.FindBinDir()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "vcp-bench-sync-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logf("starting a local super cluster (%d KWOK nodes × %d pods) and the platform...", o.nodes, o.nodePods)
	c, err := localcluster.Start(ctx, localcluster.Config{Dir: dir, BinDir: binDir,
		NodePools: []localcluster.NodePool{{Name: "bench", Nodes: o.nodes, Pods: strconv.Itoa(o.nodePods)}}})
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
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
	restCfg = rest.CopyConfig(restCfg)
	restCfg.QPS, restCfg.Burst = 2000, 4000
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = tenancyv1alpha1.AddToScheme(scheme)
	admin, err := client.New(restCfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	b := &bench{o: o, cluster: c, super: kubernetes.NewForConfigOrDie(restCfg), admin: admin}
	if err := b.watchSuperPods(ctx); err != nil {
		return err
	}
	start := time.Now()
	if err := b.createTenants(ctx); err != nil {
		return err
	}
	logf("%d tenants Running in %s", o.tenants, time.Since(start).Round(time.Second))
	return b.measure(ctx)
}

func (b *bench) measure(ctx context.Context) error {
	o := b.o
	r := results{}
	var err error
	if o.p5Only {
		if err := b.measureFairness(ctx, &r); err != nil {
			return err
		}
		r.printFairness()
		return nil
	}
	logf("P4: %d pods one at a time, each Running before the next, directly and through a tenant...", o.light)
	if r.light, err = b.measureLight(ctx, true); err != nil {
		return err
	}
	logf("P4: %d pods back to back, directly and through a tenant...", o.light)
	if r.busy, err = b.measureLight(ctx, false); err != nil {
		return err
	}
	rssBefore, heapBefore, err := b.syncerMemory()
	if err != nil {
		return err
	}
	total := o.tenants * o.pods
	logf("P3 baseline: %d pods across %d super namespaces...", total, o.tenants)
	b.profileHost(ctx, "host-p3-baseline.pprof", 30*time.Second)
	cpu0 := b.cpu()
	if r.p3Base, err = b.burstSuper(ctx, "p3-base"); err != nil {
		return fmt.Errorf("P3 baseline: %w", err)
	}
	r.cpuBase = b.cpu().Since(cpu0)
	logf("P3 baseline: %s; deleting its pods...", r.p3Base.Round(time.Millisecond))
	if err := b.deleteSuperBurst(ctx, "p3-base"); err != nil {
		return err
	}
	logf("P3: %d pods across %d tenants...", total, o.tenants)
	b.profileHost(ctx, "host-p3.pprof", time.Minute)
	cpu0 = b.cpu()
	if r.p3VCP, err = b.burstTenants(ctx, "p3"); err != nil {
		return fmt.Errorf("P3: %w", err)
	}
	r.cpuVCP = b.cpu().Since(cpu0)
	logf("P3: %s", r.p3VCP.Round(time.Millisecond))
	rssAfter, heapAfter, err := b.syncerMemory()
	if err != nil {
		return err
	}
	r.rssPerPod, r.heapPerPod = float64(rssAfter-rssBefore)/float64(total), float64(heapAfter-heapBefore)/float64(total)
	b.profileSyncerHeap(ctx, "syncer-heap-after-p3.pprof")
	logf("P7: waiting for patrol passes over the %d pods...", total)
	if r.patrol, err = b.patrolPass(ctx); err != nil {
		return fmt.Errorf("P7: %w", err)
	}
	logf("P8: killing and restarting the syncer...")
	if r.restartFromStart, r.restartFromLease, err = b.restart(ctx); err != nil {
		return fmt.Errorf("P8: %w", err)
	}
	if err := b.measureFairness(ctx, &r); err != nil {
		return err
	}
	r.print(o)
	return nil
}

// measureLight runs P4 once: o.light pods one at a time directly in the super cluster,
// then as many in the first tenant, with the syncer's own view of the tenant's pods.
// settle: each pod is Running before the next (light load); else the next comes 10 ms
// after the previous was seen.
func (b *bench) measureLight(ctx context.Context, settle bool) (p4 p4Results, err error) {
	ns := "light"
	if !settle {
		ns = "busy"
	}
	if p4.base, p4.baseCalls, err = b.lightLoad(ctx, nil, ns+"-base", settle); err != nil {
		return p4, fmt.Errorf("P4 baseline: %w", err)
	}
	before, err := b.metrics()
	if err != nil {
		return p4, err
	}
	if p4.vcp, p4.calls, err = b.lightLoad(ctx, b.tenants[0], ns, settle); err != nil {
		return p4, fmt.Errorf("P4: %w", err)
	}
	after, err := b.metrics()
	if err != nil {
		return p4, err
	}
	p4.syncer = meanOf(before, after, "vcp_syncer_pod_create_latency_seconds")
	p4.queue = meanOf(before, after, fmt.Sprintf("vcp_syncer_queue_wait_seconds{tenant=%q}", b.tenants[0].key))
	p4.superCall = meanOf(before, after, "vcp_syncer_super_pod_create_call_seconds")
	return p4, nil
}

// measureFairness runs P5 and records, besides the latencies, where the quiet tenants'
// time went: the syncer's fair queue, or elsewhere (the API servers, on the same two
// cores), and how many syncs each of their pods took.
func (b *bench) measureFairness(ctx context.Context, r *results) error {
	o := b.o
	logf("P5: %d greedy tenants × %d pods at once, %d quiet tenants × %d pods one after another...", o.greedy, o.greedyPods, o.quiet, o.quietPods)
	before, err := b.metrics()
	if err != nil {
		return err
	}
	if r.quiet, r.quietCalls, r.greedy, err = b.fairness(ctx); err != nil {
		return fmt.Errorf("P5: %w", err)
	}
	after, err := b.metrics()
	if err != nil {
		return err
	}
	quiet := b.tenants[o.greedy : o.greedy+o.quiet]
	r.quietQueue = meanOver(before, after, "vcp_syncer_queue_wait_seconds", quiet)
	r.greedyQueue = meanOver(before, after, "vcp_syncer_queue_wait_seconds", b.tenants[:o.greedy])
	var syncs float64
	for series, v := range after {
		if !strings.HasPrefix(series, "vcp_syncer_syncs_total{") {
			continue
		}
		for _, t := range quiet {
			if strings.Contains(series, fmt.Sprintf("tenant=%q", t.key)) {
				syncs += v - before[series]
			}
		}
	}
	r.quietSyncsPerPod = syncs / float64(o.quiet*o.quietPods)
	return nil
}

// p4Results is one P4 measurement: each pod's time from its create call's start until
// the super pod was seen and its create call's duration, through the tenant and
// directly, and the syncer's mean time from seeing a tenant pod to its super pod created
// (of which in the fair queue, and its create call to the super API).
type p4Results struct {
	vcp, calls, base, baseCalls []time.Duration
	syncer, queue, superCall    time.Duration
}

type results struct {
	light, busy                        p4Results
	quiet, greedy                      []time.Duration
	quietCalls                         []time.Duration
	p3Base, p3VCP                      time.Duration
	quietQueue, greedyQueue            time.Duration
	quietSyncsPerPod                   float64
	rssPerPod, heapPerPod              float64
	patrol                             time.Duration
	restartFromStart, restartFromLease time.Duration
	cpuBase, cpuVCP                    cpu.Use
}

func (r results) print(o options) {
	fmt.Printf("\nsyncer: %d tenants on one tenant-apiserver host, %d KWOK nodes, one run\n\n", o.tenants, o.nodes)
	fmt.Println("| measure | vcp | baseline (same run) | ratio / added | target |")
	fmt.Println("|---|---|---|---|---|")
	fmt.Printf("| P3 %d pods (%d tenants × %d) to Running | %s | %s created directly in the super cluster | %.2f× | ≤ 1.10× |\n",
		o.tenants*o.pods, o.tenants, o.pods, r.p3VCP.Round(time.Millisecond), r.p3Base.Round(time.Millisecond), r.p3VCP.Seconds()/r.p3Base.Seconds())
	r.light.print("P4 light load (each pod Running before the next)", true)
	r.busy.print("P4 back to back (the next pod 10 ms after the previous is seen)", false)
	r.printFairnessRows()
	fmt.Printf("| P6 syncer memory per synced pod (RSS / Go heap) | %.1f KB / %.1f KB | | | ≤ 15 KB RSS |\n", r.rssPerPod/1024, r.heapPerPod/1024)
	fmt.Printf("| P7 patrol pass over %d pods (mean of passes) | %s | | | ≤ 1 s |\n", o.tenants*o.pods, ms(r.patrol))
	fmt.Printf("| P8 restart: lease held → %d tenants synced, queue drained | %s | from process start: %s (includes waiting out the old lease) | | ≤ 10 s |\n",
		o.tenants, r.restartFromLease.Round(time.Millisecond), r.restartFromStart.Round(time.Millisecond))
	cpu.PrintTable("P3 CPU seconds by process", "P3 through tenants", "P3 baseline (direct)", r.cpuVCP, r.cpuBase)
}

// print prints P4's rows: the added latency from the tenant create call's start and
// from its return (the wording, tenant pod created → super pod created: the pod
// exists; next to the same for a pod created directly, super create returned → seen,
// the watch's own delay, which cancels), and where the time went. The targets are the
// issue's, for light load.
func (p4 p4Results) print(what string, targets bool) {
	target := func(p int) string {
		if !targets {
			return ""
		}
		return map[int]string{50: "≤ 5 ms added", 99: "≤ 25 ms added"}[p]
	}
	for _, p := range []int{50, 99} {
		v, base := stats.Percentile(p4.vcp, p), stats.Percentile(p4.base, p)
		fmt.Printf("| %s p%d: tenant create → super pod seen (n=%d) | %s | %s (super create → seen) | +%s | %s |\n", what, p, len(p4.vcp), ms(v), ms(base), ms(v-base), target(p))
	}
	afterCreated := func(seen, calls []time.Duration) []time.Duration {
		out := make([]time.Duration, len(seen))
		for i := range seen {
			out[i] = seen[i] - calls[i]
		}
		return out
	}
	created, createdBase := afterCreated(p4.vcp, p4.calls), afterCreated(p4.base, p4.baseCalls)
	for _, p := range []int{50, 99} {
		v, base := stats.Percentile(created, p), stats.Percentile(createdBase, p)
		fmt.Printf("| %s p%d: tenant pod created (create returned) → super pod seen | %s | %s (super create returned → seen) | +%s | %s |\n", what, p, ms(v), ms(base), ms(v-base), target(p))
	}
	fmt.Printf("| %s, of which the create call, p50 | %s (tenant API) | %s (super API) | +%s | |\n", what,
		ms(stats.Percentile(p4.calls, 50)), ms(stats.Percentile(p4.baseCalls, 50)), ms(stats.Percentile(p4.calls, 50)-stats.Percentile(p4.baseCalls, 50)))
	fmt.Printf("| %s, of which inside the syncer (tenant pod seen → super pod created), mean | %s (in the queue: %s; the super create call: %s) | | | |\n", what, ms(p4.syncer), ms(p4.queue), ms(p4.superCall))
}

// ms formats a duration in milliseconds for the tables.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// printFairness prints the table of a -p5-only run.
func (r results) printFairness() {
	fmt.Print("\nsyncer: P5 only, one run\n\n")
	fmt.Println("| measure | vcp | baseline (same run) | ratio / added | target |")
	fmt.Println("|---|---|---|---|---|")
	r.printFairnessRows()
}

func (r results) printFairnessRows() {
	light := "light load alone: not measured"
	if len(r.light.vcp) > 0 {
		light = fmt.Sprintf("light load alone: %s / %s", ms(stats.Mean(r.light.vcp)), ms(stats.Percentile(r.light.vcp, 99)))
	}
	fmt.Printf("| P5 quiet tenants' pods, mean / p99 (n=%d) | %s / %s | %s | | mean ≤ 1 s |\n", len(r.quiet),
		ms(stats.Mean(r.quiet)), ms(stats.Percentile(r.quiet, 99)), light)
	fmt.Printf("| P5 of which the quiet tenants' create calls (tenant API), mean / p99 | %s / %s | | | |\n", ms(stats.Mean(r.quietCalls)), ms(stats.Percentile(r.quietCalls, 99)))
	fmt.Printf("| P5 greedy tenants' pods, mean / p99 (n=%d) | %s / %s | | | |\n", len(r.greedy), ms(stats.Mean(r.greedy)), ms(stats.Percentile(r.greedy, 99)))
	fmt.Printf("| P5 mean wait in the syncer's fair queue, quiet / greedy tenants | %s / %s | | | |\n", ms(r.quietQueue), ms(r.greedyQueue))
	fmt.Printf("| P5 syncs per quiet tenant's pod (every kind) | %.1f | | | |\n", r.quietSyncsPerPod)
}

// watchSuperPods runs the bench's own super-cluster pod watch: first sight of each pod,
// and Running pods counted by their bench label.
func (b *bench) watchSuperPods(ctx context.Context) error {
	factory := informers.NewSharedInformerFactory(b.super, 0)
	inf := factory.Core().V1().Pods().Informer()
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			pod := obj.(*corev1.Pod)
			key := pod.Namespace + "/" + pod.Name
			b.seen.LoadOrStore(key, time.Now())
			if ch, ok := b.waiters.LoadAndDelete(key); ok {
				close(ch.(chan struct{}))
			}
			b.countRunning(nil, pod)
		},
		UpdateFunc: func(old, obj any) { b.countRunning(old.(*corev1.Pod), obj.(*corev1.Pod)) },
	})
	if err != nil {
		return err
	}
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	return nil
}

func (b *bench) countRunning(old, pod *corev1.Pod) {
	phase := pod.Labels["bench"]
	if phase == "" || pod.Status.Phase != corev1.PodRunning || (old != nil && old.Status.Phase == corev1.PodRunning) {
		return
	}
	n, _ := b.superRunning.LoadOrStore(phase, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
}

func (b *bench) running(phase string) int64 {
	n, ok := b.superRunning.Load(phase)
	if !ok {
		return 0
	}
	return n.(*atomic.Int64).Load()
}

// createTenants creates the VirtualClusters 10 at a time and waits until each serves
// and has its default service account.
func (b *bench) createTenants(ctx context.Context) error {
	b.tenants = make([]*tenant, b.o.tenants)
	return forEach(b.o.tenants, 10, func(i int) error {
		name := fmt.Sprintf("t-%03d", i)
		vc := &tenancyv1alpha1.VirtualCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}
		if err := b.admin.Create(ctx, vc); err != nil {
			return err
		}
		var tc kubernetes.Interface
		err := poll(ctx, 3*time.Minute, "tenant "+name+" Running", func() (bool, error) {
			if err := b.admin.Get(ctx, client.ObjectKeyFromObject(vc), vc); err != nil || vc.Status.Phase != tenancyv1alpha1.PhaseRunning || vc.Status.KubeconfigSecretRef == nil {
				return false, err
			}
			secret := &corev1.Secret{}
			if err := b.admin.Get(ctx, client.ObjectKey{Namespace: "default", Name: vc.Status.KubeconfigSecretRef.Name}, secret); err != nil {
				return false, err
			}
			cfg, err := clientcmd.RESTConfigFromKubeConfig(secret.Data[vc.Status.KubeconfigSecretRef.Key])
			if err != nil {
				return false, err
			}
			cfg.QPS, cfg.Burst = 1000, 2000
			tc = kubernetes.NewForConfigOrDie(cfg)
			_, err = tc.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
			return err == nil, nil
		})
		b.tenants[i] = &tenant{name: name, key: vc.TenantKey(), client: tc}
		return err
	})
}

func benchPod(name, phase string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"bench": phase}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.example.com/app:1"}}},
	}
}

// ensureNamespace creates namespace ns (in a tenant, or the super cluster when t is nil)
// and waits for its default service account.
func (b *bench) ensureNamespace(ctx context.Context, t *tenant, ns string) error {
	cs := b.super
	if t != nil {
		cs = t.client
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return poll(ctx, time.Minute, "service account default in "+ns, func() (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
}

// lightLoad creates o.light pods one at a time (in tenant t, or directly in the super
// cluster) and returns, for each, the time from before its create call until the bench's
// super watch saw the (super) pod, and how long the create call took. settle: before
// the next pod, the pod is Running where it was created (for a tenant pod: the syncer
// has written its status back) and -light-gap has passed, so no pod's work overlaps the
// next one's (light load); else the next pod comes 10 ms after the super pod was seen,
// while the previous one's scheduling, status and events are still being written.
func (b *bench) lightLoad(ctx context.Context, t *tenant, ns string, settle bool) (seen, calls []time.Duration, err error) {
	if err := b.ensureNamespace(ctx, t, ns); err != nil {
		return nil, nil, err
	}
	cs := b.super
	if t != nil {
		cs = t.client
	}
	for i := range b.o.light {
		name := fmt.Sprintf("light-%04d", i)
		d, call, err := b.createAndSee(ctx, t, ns, name, "light")
		if err != nil {
			return nil, nil, err
		}
		seen, calls = append(seen, d), append(calls, call)
		if !settle {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if err := poll(ctx, time.Minute, "pod "+ns+"/"+name+" Running", func() (bool, error) {
			pod, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
			return err == nil && pod.Status.Phase == corev1.PodRunning, nil
		}); err != nil {
			return nil, nil, err
		}
		time.Sleep(b.o.lightGap)
	}
	return seen, calls, nil
}

// createAndSee creates one pod and waits until the super watch has seen it.
// It returns the time until seen and the time the create call took.
func (b *bench) createAndSee(ctx context.Context, t *tenant, ns, name, phase string) (seenAfter, call time.Duration, err error) {
	cs, superNS := b.super, ns
	if t != nil {
		cs, superNS = t.client, naming.SuperNamespace(t.key, ns)
	}
	key := superNS + "/" + name
	seen := make(chan struct{})
	b.waiters.Store(key, seen)
	start := time.Now()
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, benchPod(name, phase), metav1.CreateOptions{}); err != nil {
		return 0, 0, err
	}
	call = time.Since(start)
	select {
	case <-seen:
	case <-time.After(2 * time.Minute):
		if _, ok := b.seen.Load(key); !ok {
			return 0, 0, fmt.Errorf("super pod %s not seen within 2m", key)
		}
	}
	at, _ := b.seen.Load(key)
	return at.(time.Time).Sub(start), call, nil
}

// burstSuper creates tenants × pods pods directly in the super cluster, one namespace per
// tenant, at once, and returns the time until all are Running.
func (b *bench) burstSuper(ctx context.Context, phase string) (time.Duration, error) {
	if err := forEach(b.o.tenants, 10, func(i int) error { return b.ensureNamespace(ctx, nil, fmt.Sprintf("%s-%03d", phase, i)) }); err != nil {
		return 0, err
	}
	total := b.o.tenants * b.o.pods
	start := time.Now()
	err := forEach(total, b.o.createParallelism, func(i int) error {
		ns := fmt.Sprintf("%s-%03d", phase, i%b.o.tenants)
		_, err := b.super.CoreV1().Pods(ns).Create(ctx, benchPod(fmt.Sprintf("p-%05d", i), phase), metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return 0, err
	}
	if err := poll(ctx, 15*time.Minute, "baseline pods Running", func() (bool, error) { return b.running(phase) >= int64(total), nil }); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func (b *bench) deleteSuperBurst(ctx context.Context, phase string) error {
	for i := range b.o.tenants {
		if err := b.super.CoreV1().Namespaces().Delete(ctx, fmt.Sprintf("%s-%03d", phase, i), metav1.DeleteOptions{}); err != nil {
			return err
		}
	}
	return poll(ctx, 10*time.Minute, "baseline namespaces gone", func() (bool, error) {
		list, err := b.super.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{LabelSelector: "bench=" + phase, ResourceVersion: "0"})
		return err == nil && len(list.Items) == 0, nil
	})
}

// burstTenants creates pods pods in each tenant (namespace phase) at once and returns the
// time until all are Running in the tenants, as the tenants report them.
func (b *bench) burstTenants(ctx context.Context, phase string) (time.Duration, error) {
	if err := forEach(b.o.tenants, 10, func(i int) error { return b.ensureNamespace(ctx, b.tenants[i], phase) }); err != nil {
		return 0, err
	}
	var running atomic.Int64
	stop := make(chan struct{})
	defer close(stop)
	for _, t := range b.tenants {
		factory := informers.NewSharedInformerFactoryWithOptions(t.client, 0, informers.WithNamespace(phase))
		_, err := factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
			UpdateFunc: func(old, obj any) {
				if old.(*corev1.Pod).Status.Phase != corev1.PodRunning && obj.(*corev1.Pod).Status.Phase == corev1.PodRunning {
					running.Add(1)
				}
			},
		})
		if err != nil {
			return 0, err
		}
		factory.Start(stop)
		factory.WaitForCacheSync(stop)
	}
	total := b.o.tenants * b.o.pods
	start := time.Now()
	err := forEach(total, b.o.createParallelism, func(i int) error {
		t := b.tenants[i%b.o.tenants]
		_, err := t.client.CoreV1().Pods(phase).Create(ctx, benchPod(fmt.Sprintf("p-%05d", i), phase), metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return 0, err
	}
	if err := poll(ctx, 20*time.Minute, "tenant pods Running", func() (bool, error) { return running.Load() >= int64(total), nil }); err != nil {
		return 0, fmt.Errorf("%w (%d of %d Running)", err, running.Load(), total)
	}
	return time.Since(start), nil
}

// fairness runs P5 and returns the quiet and the greedy tenants' latencies (tenant
// create → super pod seen).
// quietCalls are how long the quiet tenants' create calls took (the tenant API's part).
func (b *bench) fairness(ctx context.Context) (quiet, quietCalls, greedy []time.Duration, err error) {
	o := b.o
	const ns = "p5"
	if err := forEach(o.greedy+o.quiet, 10, func(i int) error { return b.ensureNamespace(ctx, b.tenants[i], ns) }); err != nil {
		return nil, nil, nil, err
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, o.greedy+o.quiet)
	for g := range o.greedy {
		t := b.tenants[g]
		wg.Go(func() {
			err := forEach(o.greedyPods, 20, func(i int) error {
				d, _, err := b.createAndSee(ctx, t, ns, fmt.Sprintf("g-%04d", i), "p5")
				mu.Lock()
				greedy = append(greedy, d)
				mu.Unlock()
				return err
			})
			errs <- err
		})
	}
	for q := range o.quiet {
		t := b.tenants[o.greedy+q]
		wg.Go(func() {
			for i := range o.quietPods {
				d, call, err := b.createAndSee(ctx, t, ns, fmt.Sprintf("q-%04d", i), "p5")
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				quiet = append(quiet, d)
				quietCalls = append(quietCalls, call)
				mu.Unlock()
			}
			errs <- nil
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return nil, nil, nil, err
		}
	}
	return quiet, quietCalls, greedy, nil
}

// syncerMemory returns the syncer's RSS (from /proc) and Go heap in use (from its metrics).
func (b *bench) syncerMemory() (rss, heap int64, err error) {
	p := b.process("syncer")
	if p == nil {
		return 0, 0, fmt.Errorf("no syncer process")
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.PID))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			rss = kb * 1024
		}
	}
	m, err := b.metrics()
	if err != nil {
		return 0, 0, err
	}
	return rss, int64(m["go_memstats_heap_inuse_bytes"]), nil
}

func (b *bench) process(name string) *localcluster.Process {
	for _, p := range b.cluster.Processes {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// metrics scrapes the syncer's /metrics into series → value.
func (b *bench) metrics() (map[string]float64, error) {
	p := b.process("syncer")
	if p == nil {
		return nil, fmt.Errorf("no syncer process")
	}
	return promtext.Scrape(fmt.Sprintf("http://127.0.0.1:%d/metrics", p.Ports[0]))
}

// meanOf is the mean of a histogram's observations between two scrapes; name may carry
// labels in braces.
func meanOf(before, after map[string]float64, name string) time.Duration {
	base, labels, _ := strings.Cut(name, "{")
	if labels != "" {
		labels = "{" + labels
	}
	n := after[base+"_count"+labels] - before[base+"_count"+labels]
	if n <= 0 {
		return 0
	}
	return time.Duration((after[base+"_sum"+labels] - before[base+"_sum"+labels]) / n * float64(time.Second))
}

// meanOver is the mean of a per-tenant histogram's observations between two scrapes,
// over the given tenants together.
func meanOver(before, after map[string]float64, name string, tenants []*tenant) time.Duration {
	var n, sum float64
	for _, t := range tenants {
		label := fmt.Sprintf("{tenant=%q}", t.key)
		n += after[name+"_count"+label] - before[name+"_count"+label]
		sum += after[name+"_sum"+label] - before[name+"_sum"+label]
	}
	if n <= 0 {
		return 0
	}
	return time.Duration(sum / n * float64(time.Second))
}

// sumPrefix adds every series whose name starts with prefix.
func sumPrefix(m map[string]float64, prefix string) float64 {
	total := 0.0
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			total += v
		}
	}
	return total
}

// patrolPass waits for at least two patrol passes and returns their mean duration.
func (b *bench) patrolPass(ctx context.Context) (time.Duration, error) {
	before, err := b.metrics()
	if err != nil {
		return 0, err
	}
	var after map[string]float64
	err = poll(ctx, time.Minute, "two patrol passes", func() (bool, error) {
		after, err = b.metrics()
		return err == nil && after["vcp_syncer_patrol_duration_seconds_count"]-before["vcp_syncer_patrol_duration_seconds_count"] >= 2, err
	})
	if err != nil {
		return 0, err
	}
	n := after["vcp_syncer_patrol_duration_seconds_count"] - before["vcp_syncer_patrol_duration_seconds_count"]
	sum := after["vcp_syncer_patrol_duration_seconds_sum"] - before["vcp_syncer_patrol_duration_seconds_sum"]
	return time.Duration(sum / n * float64(time.Second)), nil
}

// restart kills the syncer and starts it again; it returns the time from starting it,
// and from it holding the leader lease, until every tenant's caches are synced and its
// queue is empty.
func (b *bench) restart(ctx context.Context) (fromStart, fromLease time.Duration, err error) {
	if err := b.cluster.Kill("syncer"); err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if _, err := b.cluster.StartSyncer(ctx); err != nil {
		return 0, 0, err
	}
	var leaseAt time.Time
	err = poll(ctx, 5*time.Minute, "the restarted syncer to catch up", func() (bool, error) {
		m, err := b.metrics()
		if err != nil {
			return false, nil
		}
		if leaseAt.IsZero() && m["leader_election_master_status{name=\"syncer.tenancy.vcp.dev\"}"] == 1 {
			leaseAt = time.Now()
		}
		return !leaseAt.IsZero() && m["vcp_syncer_tenants{state=\"synced\"}"] == float64(b.o.tenants) &&
			m["vcp_syncer_tenants{state=\"starting\"}"] == 0 && sumPrefix(m, "vcp_syncer_queue_depth") == 0, nil
	})
	if err != nil {
		return 0, 0, err
	}
	return time.Since(start), time.Since(leaseAt), nil
}

// forEach runs f(0..n-1) with at most parallel at once and returns the first error.
func forEach(n, parallel int, f func(i int) error) error {
	sem := make(chan struct{}, parallel)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = f(i)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// poll checks cond every 20 ms until it holds, fails, or timeout passes.
func poll(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %s", what, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// profileHost, with -profile, fetches a CPU profile of the tenant-apiserver host for d in
// the background and writes it to name in the profile directory.
func (b *bench) profileHost(ctx context.Context, name string, d time.Duration) {
	if b.o.profileDir == "" || b.cluster.Platform == nil {
		return
	}
	go func() {
		if err := b.fetchProfile(ctx, name, d); err != nil {
			logf("profile %s: %v", name, err)
		}
	}()
}

func (b *bench) fetchProfile(ctx context.Context, name string, d time.Duration) error {
	token, err := os.ReadFile(filepath.Join(b.cluster.Dir, "pki", "tenant-host-admin.token"))
	if err != nil {
		return err
	}
	url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", b.cluster.Platform.HostAdminURL, int(d.Seconds()))
	return b.saveProfile(ctx, url, strings.TrimSpace(string(token)), name)
}

// profileSyncerHeap, with -profile, writes the syncer's heap profile to name.
func (b *bench) profileSyncerHeap(ctx context.Context, name string) {
	p := b.process("syncer")
	if b.o.profileDir == "" || p == nil || len(p.Ports) == 0 {
		return
	}
	if err := b.saveProfile(ctx, fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/heap", p.Ports[0]), "", name); err != nil {
		logf("profile %s: %v", name, err)
	}
}

func (b *bench) saveProfile(ctx context.Context, url, token, name string) error {
	path := filepath.Join(b.o.profileDir, name)
	if err := cpu.FetchProfile(ctx, url, token, path); err != nil {
		return err
	}
	logf("wrote %s", path)
	return nil
}
