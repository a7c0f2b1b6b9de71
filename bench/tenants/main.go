// Command tenants is the `make bench-tenants` harness: it measures the tenant-apiserver
// host against a standalone kube-apiserver built by `make tools`, on the same machine in
// the same run, and prints one table.
//
//   - P1: time from "add tenant" until `kubectl get ns` succeeds with the tenant's
//     kubeconfig, p50/p95 over -p1 tenants; next to a standalone kube-apiserver process's
//     time from exec to /readyz.
//   - P2: marginal RSS and Go heap per idle tenant (after GC) for N tenants in this process,
//     next to the RSS of an idle standalone lean kube-apiserver process.
//   - goroutines and etcd client connections per tenant.
//
// The harness process is the host: its own footprint before any tenant is the baseline
// that marginal figures are taken from.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/component-base/metrics/legacyregistry"

	"github.com/vcp-dev/vcp/bench/internal/stats"
	"github.com/vcp-dev/vcp/hack/localcluster"
	"github.com/vcp-dev/vcp/tenant-apiserver/datastore"
	"github.com/vcp-dev/vcp/tenant-apiserver/host"
)

func main() {
	nList := flag.String("n", "1,10,50,100", "tenant counts to measure idle cost at")
	p1 := flag.Int("p1", 20, "tenants to time for P1")
	settle := flag.Duration("settle", 20*time.Second, "idle time before measuring memory")
	controllers := flag.Bool("controllers", true, "run each tenant's controllers")
	etcdMode := flag.String("etcd", "external", "external: the host uses an etcd process (as in production); embedded: etcd runs inside the host process and its memory counts as the host's")
	flag.StringVar(&memProfile, "memprofile", "", "write a heap profile at the largest N to this file")
	flag.StringVar(&goroutineProfile, "goroutineprofile", "", "write a goroutine profile at the largest N to this file")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the P1 phase (adding the timed tenants) to this file")
	flag.StringVar(&idleProfile, "idle-cpuprofile", "", "write a CPU profile of the idle settle period at the largest N to this file")
	flag.IntVar(&buildGCPercent, "build-gc-percent", 0, "GOGC while a tenant is built (0: the host's default, -1: leave GOGC alone)")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof and the host's /metrics on this address (such as 127.0.0.1:6060) while the benchmark runs")
	flag.Parse()
	if *pprofAddr != "" {
		http.Handle("/metrics", legacyregistry.Handler())
		go func() { fmt.Fprintln(os.Stderr, "pprof:", http.ListenAndServe(*pprofAddr, nil)) }()
	}
	counts, err := parseCounts(*nList)
	if err != nil {
		fail(err)
	}
	if *etcdMode != "external" && *etcdMode != "embedded" {
		fail(fmt.Errorf("-etcd must be external or embedded, got %q", *etcdMode))
	}
	if err := run(counts, *p1, *settle, *controllers, *etcdMode == "embedded"); err != nil {
		fail(err)
	}
}

var memProfile, goroutineProfile, cpuProfile, idleProfile string

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench-tenants:", err)
	os.Exit(1)
}

func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-n: %q is not a positive tenant count", f)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

var buildGCPercent int

type memPoint struct {
	n                    int
	rss, heap, stacks    uint64
	heapInuse            uint64 // spans in use; minus heap: free slots in them (fragmentation)
	goroutines, etcdConn int
	// idleCPU is the CPU time the process used per second of wall-clock time while it
	// idled before this point was measured (cores; 0.05 = 50 millicores).
	idleCPU float64
}

func run(counts []int, p1 int, settle time.Duration, controllers, embedded bool) error {
	ctx := context.Background()
	binDir, err := localcluster.FindBinDir()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "vcp-bench-tenants-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Fprintln(os.Stderr, "standalone kube-apiserver: measuring start time and idle RSS...")
	standaloneCluster, standalone, err := measureStandalone(ctx, binDir, dir, settle)
	if standaloneCluster != nil {
		defer func() { _ = standaloneCluster.Stop(context.Background()) }()
	}
	if err != nil {
		return fmt.Errorf("standalone kube-apiserver: %w", err)
	}
	// The standalone API server is done; its etcd process serves the host when -etcd=external.
	if err := standaloneCluster.Kill("kube-apiserver"); err != nil {
		return err
	}
	var ds *datastore.Datastore
	if embedded {
		ds, err = datastore.Embedded(ctx, filepath.Join(dir, "host"))
	} else {
		ds, err = datastore.External(ctx, datastore.ClientConfig{Endpoints: []string{standaloneCluster.EtcdURL}})
	}
	if err != nil {
		return err
	}
	defer ds.Close()
	h, err := host.New(host.Options{DataDir: filepath.Join(dir, "host"), Datastore: ds, DisableControllers: !controllers, ReadyTimeout: 5 * time.Minute, BuildGCPercent: buildGCPercent})
	if err != nil {
		return err
	}
	if err := h.Start(); err != nil {
		return err
	}
	defer h.Stop()
	etcdPort := portOf(ds.Client.Endpoints[0])
	base := measure(0, etcdPort)

	// P1: add tenants one after another; each is timed until kubectl get ns works.
	var p1Times []time.Duration
	added := 0
	add := func(timeIt bool) error {
		name := fmt.Sprintf("t%03d", added)
		start := time.Now()
		if _, err := h.Add(ctx, host.TenantSpec{Name: name, UID: "bench-" + name}); err != nil {
			return err
		}
		kc, err := h.Kubeconfig(name)
		if err != nil {
			return err
		}
		kcPath := filepath.Join(dir, name+".kubeconfig")
		if err := os.WriteFile(kcPath, kc, 0o600); err != nil {
			return err
		}
		cmd := exec.Command(filepath.Join(binDir, "kubectl"), "--kubeconfig", kcPath, "get", "ns")
		cmd.Env = append(os.Environ(), "KUBECACHEDIR="+filepath.Join(dir, "kubecache"))
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("kubectl get ns on %s: %v: %s", name, err, out)
		}
		if timeIt {
			p1Times = append(p1Times, time.Since(start))
		}
		added++
		return nil
	}
	// Tenants are added one after another. The first p1 are timed (P1); at each count in
	// counts the host idles, then its footprint is measured (P2).
	var points []memPoint
	total := max(p1, counts[len(counts)-1])
	fmt.Fprintf(os.Stderr, "adding %d tenants one by one (P1 times the first %d)...\n", total, p1)
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer f.Close()
	}
	for added < total {
		if err := add(added < p1); err != nil {
			return err
		}
		if added == p1 && cpuProfile != "" {
			pprof.StopCPUProfile()
		}
		if slices.Contains(counts, added) {
			fmt.Fprintf(os.Stderr, "P2: %d tenants; idling %s before measuring...\n", added, settle)
			idleCPU, err := idle(settle, added == total)
			if err != nil {
				return err
			}
			point := measure(added, etcdPort)
			point.idleCPU = idleCPU
			points = append(points, point)
		}
	}
	for profile, file := range map[string]string{"heap": memProfile, "goroutine": goroutineProfile} {
		if file == "" {
			continue
		}
		f, err := os.Create(file)
		if err != nil {
			return err
		}
		if err := pprof.Lookup(profile).WriteTo(f, 0); err != nil {
			return err
		}
		_ = f.Close()
	}
	printTable(os.Stdout, standalone, p1Times, base, points, controllers, embedded)
	return nil
}

// idle waits for settle and returns the CPU the process used meanwhile, in cores. The
// first half of settle lets the last tenant's start-up work finish; the CPU is measured
// over the second half (and profiled into -idle-cpuprofile when profile is set).
func idle(settle time.Duration, profile bool) (float64, error) {
	time.Sleep(settle / 2)
	if profile && idleProfile != "" {
		f, err := os.Create(idleProfile)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return 0, err
		}
		defer pprof.StopCPUProfile()
	}
	start, cpu0 := time.Now(), cpuTime(os.Getpid())
	time.Sleep(settle - settle/2)
	return (cpuTime(os.Getpid()) - cpu0).Seconds() / time.Since(start).Seconds(), nil
}

// measure returns this process's footprint after a full GC.
func measure(n, etcdPort int) memPoint {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memPoint{n: n, rss: rssOf(os.Getpid()), heap: ms.HeapAlloc, heapInuse: ms.HeapInuse, stacks: ms.StackInuse, goroutines: runtime.NumGoroutine(), etcdConn: etcdConnections(etcdPort)}
}

func printTable(w *os.File, sa standaloneResult, p1 []time.Duration, base memPoint, points []memPoint, controllers, embedded bool) {
	mb := func(b uint64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }
	etcd := "an etcd process (as in production)"
	if embedded {
		etcd = "etcd embedded in the host process (its memory counted as the host's)"
	}
	fmt.Fprintf(w, "\ntenant-apiserver density and start-up (GOMAXPROCS=%d, controllers=%v, datastore: %s)\n\n", runtime.GOMAXPROCS(0), controllers, etcd)
	fmt.Fprintf(w, "| measure | vcp tenant-apiserver host | standalone kube-apiserver | ratio |\n|---|---|---|---|\n")
	p50, p95 := stats.Percentile(p1, 50), stats.Percentile(p1, 95)
	fmt.Fprintf(w, "| P1 add → `kubectl get ns` ok, p50 (n=%d) | %s | %s (exec → /readyz) | %.2f |\n", len(p1), p50.Round(time.Millisecond), sa.ready.Round(time.Millisecond), p50.Seconds()/sa.ready.Seconds())
	fmt.Fprintf(w, "| P1 p95 | %s | | |\n", p95.Round(time.Millisecond))
	for _, p := range points {
		dRSS := float64(int64(p.rss)-int64(base.rss)) / float64(p.n)
		dHeap := float64(int64(p.heap)-int64(base.heap)) / float64(p.n)
		fmt.Fprintf(w, "| P2 N=%d: marginal RSS / heap per idle tenant | %.1f MB / %.1f MB | %s RSS (one process) | %.2f |\n",
			p.n, dRSS/1e6, dHeap/1e6, mb(sa.rss), dRSS/float64(sa.rss))
	}
	last := points[len(points)-1]
	for _, p := range points {
		fmt.Fprintf(w, "| idle CPU per tenant, N=%d (process: %.0f millicores) | %.1f millicores | %.1f millicores | %.2f |\n",
			p.n, p.idleCPU*1000, p.idleCPU*1000/float64(p.n), sa.idleCPU*1000, p.idleCPU/float64(p.n)/sa.idleCPU)
	}
	fmt.Fprintf(w, "| goroutine stacks per tenant (N=%d) | %.1f MB | | |\n", last.n, float64(int64(last.stacks)-int64(base.stacks))/float64(last.n)/1e6)
	frag := func(p memPoint) float64 { return float64(int64(p.heapInuse) - int64(p.heap)) }
	fmt.Fprintf(w, "| heap spans in use but free (fragmentation) per tenant (N=%d) | %.1f MB | | |\n", last.n, (frag(last)-frag(base))/float64(last.n)/1e6)
	fmt.Fprintf(w, "| goroutines per tenant (N=%d) | %.0f | %d | |\n", last.n, float64(last.goroutines-base.goroutines)/float64(last.n), sa.goroutines)
	fmt.Fprintf(w, "| etcd connections per tenant (N=%d) | %.1f | %d | |\n", last.n, float64(last.etcdConn-base.etcdConn)/float64(last.n), sa.etcdConns)
	gc := strconv.Itoa(buildGCPercent)
	switch buildGCPercent {
	case 0:
		gc = strconv.Itoa(host.DefaultBuildGCPercent) + " (the host's default)"
	case -1:
		gc = "unchanged (GOGC=" + cmp.Or(os.Getenv("GOGC"), "100") + ")"
	}
	fmt.Fprintf(w, "\nGOGC while a tenant is built: %s (-build-gc-percent)\n", gc)
	fmt.Fprintf(w, "host process: baseline %s RSS, %s heap, %d goroutines; at N=%d: %s RSS, %s heap, %d goroutines\n",
		mb(base.rss), mb(base.heap), base.goroutines, last.n, mb(last.rss), mb(last.heap), last.goroutines)
}
