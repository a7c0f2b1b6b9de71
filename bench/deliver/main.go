// Command deliver is the `make bench-deliver` harness: P9, delivering an application to a
// fleet. On a local super cluster with the platform it creates -targets VirtualClusters
// and measures, in the same run:
//
//   - the baseline: the same rendered manifests (`vcapp render`) applied to every tenant
//     at once with `kubectl apply -f`, followed per tenant by `kubectl rollout status`
//     of each Deployment, until the last tenant is done;
//   - P9: `vcapp deploy --yes` of the -components application to all tenants (targets
//     selected by label, rollout.parallelism = -targets) until it exits healthy: it
//     plans every target first, then applies and waits.
//
// Each run uses its own namespace in every tenant, so neither finds the other's objects.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/bench/internal/cpu"
	"github.com/vcp-dev/vcp/bench/internal/stats"
	"github.com/vcp-dev/vcp/hack/localcluster"
	"github.com/vcp-dev/vcp/internal/promtext"
	"github.com/vcp-dev/vcp/syncer/naming"
)

func main() {
	targets := flag.Int("targets", 20, "tenant clusters (VirtualClusters) to deliver to")
	components := flag.Int("components", 10, "components of the application (each a Deployment with a Service)")
	profileDir := flag.String("profile", "", "write CPU profiles of the tenant-apiserver host and the syncer, 20 s from the start of P9, into this directory")
	flag.Parse()
	if *targets < 1 || *components < 1 {
		fail(fmt.Errorf("-targets and -components must be at least 1"))
	}
	if err := run(*targets, *components, *profileDir); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench-deliver:", err)
	os.Exit(1)
}

type bench struct {
	binDir, dir     string
	superKubeconfig string
	kubeconfigs     []string
	cluster         *localcluster.Cluster
	profileDir      string

	// children is the CPU seconds of the harness's child processes (vcapp, kubectl) by
	// name, counted as each exits.
	mu       sync.Mutex
	children map[string]float64
}

func run(targets, components int, profileDir string) error {
	ctx := context.Background()
	binDir, err := localcluster.FindBinDir()
	if err != nil {
		return err
	}
	for _, bin := range []string{"vcapp", "kubectl"} {
		if _, err := os.Stat(filepath.Join(binDir, bin)); err != nil {
			return fmt.Errorf("%s not built (make build tools): %w", bin, err)
		}
	}
	dir, err := os.MkdirTemp("", "vcp-bench-deliver-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintln(os.Stderr, "starting a local super cluster and the platform...")
	pods := fmt.Sprint(2*targets*components + 100)
	c, err := localcluster.Start(ctx, localcluster.Config{Dir: dir, BinDir: binDir,
		NodePools: []localcluster.NodePool{{Name: "shared", Nodes: 2, Pods: pods}}})
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
	b := &bench{binDir: binDir, dir: dir, superKubeconfig: c.Kubeconfig, cluster: c, profileDir: profileDir}
	fmt.Fprintf(os.Stderr, "creating %d VirtualClusters...\n", targets)
	if err := b.tenants(ctx, c, targets); err != nil {
		return err
	}

	fmt.Fprintln(os.Stderr, "baseline: kubectl apply + rollout status per target...")
	cpu0 := b.cpu()
	base, err := b.kubectlRun(ctx, components)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	cpuBase := b.cpu().Since(cpu0)
	fmt.Fprintln(os.Stderr, "P9: vcapp deploy --yes...")
	app := b.writeApp("bench-vcapp", components, targets)
	b.profile(ctx, 20*time.Second)
	before, err := b.sample()
	if err != nil {
		return err
	}
	start := time.Now()
	out, err := b.run(ctx, "vcapp", "deploy", "-f", app, "--super-kubeconfig", b.superKubeconfig, "--yes", "--timeout", "5m", "-o", "json")
	if err != nil {
		return fmt.Errorf("vcapp deploy: %w\n%s", err, out)
	}
	p9 := time.Since(start)
	after, err := b.sample()
	if err != nil {
		return err
	}
	cpuP9 := after.cpu.Since(before.cpu)
	planned, applied, healthy, err := perTarget(out)
	if err != nil {
		return err
	}
	stages, err := b.podStages(ctx, "bench-vcapp", start)
	if err != nil {
		return err
	}
	// A second deploy of the same application: nothing changes, vcapp still applies,
	// records a revision and checks health.
	start = time.Now()
	if out, err := b.run(ctx, "vcapp", "deploy", "-f", app, "--super-kubeconfig", b.superKubeconfig, "--yes", "--timeout", "5m"); err != nil {
		return fmt.Errorf("vcapp deploy (unchanged): %w\n%s", err, out)
	}
	again := time.Since(start)

	ratio := p9.Seconds() / base.Seconds()
	verdict := "met"
	if p9 > 15*time.Second || ratio > 1.2 {
		verdict = "NOT met"
	}
	fmt.Printf("\nP9: deploy a %d-component application (%d Deployments + %d Services) to %d tenant clusters in parallel until healthy\n\n",
		components, components, components, targets)
	fmt.Println("| measure | time | vs baseline |")
	fmt.Println("|---|---|---|")
	fmt.Printf("| baseline: `kubectl apply -f` of the rendered manifests, then `kubectl rollout status` per Deployment, all targets at once | %s | 1.00× |\n", base.Round(time.Millisecond))
	fmt.Printf("| P9 `vcapp deploy --yes` (apply in dependency order, revision, health) | %s | %.2f× |\n", p9.Round(time.Millisecond), ratio)
	fmt.Printf("| `vcapp deploy --yes` again, nothing changed | %s | %.2f× |\n", again.Round(time.Millisecond), again.Seconds()/base.Seconds())
	fmt.Printf("\nP9 per target (inside vcapp): planned (all targets, before applying) in p50 %s, max %s; from the start of its deploy, applied after p50 %s, max %s; healthy after p50 %s, max %s\n",
		stats.Percentile(planned, 50).Round(time.Millisecond), stats.Percentile(planned, 100).Round(time.Millisecond),
		stats.Percentile(applied, 50).Round(time.Millisecond), stats.Percentile(applied, 100).Round(time.Millisecond),
		stats.Percentile(healthy, 50).Round(time.Millisecond), stats.Percentile(healthy, 100).Round(time.Millisecond))
	fmt.Printf("\nP9 where a pod's time went, seconds from the start of the deploy (API timestamps: whole seconds), p50 / max over %d pods: %s\n", stages.pods, stages)
	printSyncer(before.syncer, after.syncer)
	printRequestMix(before.host, after.host)
	cpu.PrintTable("P9 CPU seconds by process", "P9 vcapp deploy", "baseline (kubectl)", cpuP9, cpuBase)
	fmt.Printf("\ntarget ≤ 15 s and ≤ 1.2× the baseline: %s (scale: %d targets, %d components)\n", verdict, targets, components)
	return nil
}

// tenants creates n VirtualClusters labelled for the application's selector and writes
// their kubeconfigs.
func (b *bench) tenants(ctx context.Context, c *localcluster.Cluster, n int) error {
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
	for i := range n {
		vc := &tenancyv1alpha1.VirtualCluster{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("t%02d", i), Namespace: "default", Labels: map[string]string{"bench": "deliver"}}}
		if err := admin.Create(ctx, vc); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(5 * time.Minute)
	for i := range n {
		vc := &tenancyv1alpha1.VirtualCluster{}
		for {
			if err := admin.Get(ctx, client.ObjectKey{Namespace: "default", Name: fmt.Sprintf("t%02d", i)}, vc); err != nil {
				return err
			}
			if vc.Status.Phase == tenancyv1alpha1.PhaseRunning && vc.Status.KubeconfigSecretRef != nil {
				break
			}
			if time.Now().After(deadline) {
				var conds []string
				for _, c := range vc.Status.Conditions {
					conds = append(conds, fmt.Sprintf("%s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message))
				}
				return fmt.Errorf("VirtualCluster %s not Running: %s (%s)", vc.Name, vc.Status.Phase, strings.Join(conds, "; "))
			}
			time.Sleep(200 * time.Millisecond)
		}
		s := &corev1.Secret{}
		if err := admin.Get(ctx, client.ObjectKey{Namespace: "default", Name: vc.Status.KubeconfigSecretRef.Name}, s); err != nil {
			return err
		}
		path := filepath.Join(b.dir, vc.Name+".kubeconfig")
		if err := os.WriteFile(path, s.Data[vc.Status.KubeconfigSecretRef.Key], 0o600); err != nil {
			return err
		}
		b.kubeconfigs = append(b.kubeconfigs, path)
	}
	return nil
}

// writeApp writes the application: components services, each a Deployment and a
// Service, in namespace.
func (b *bench) writeApp(namespace string, components, targets int) string {
	var s strings.Builder
	fmt.Fprintf(&s, "apiVersion: apps.vcp.dev/v1alpha1\nkind: Application\nmetadata:\n  name: bench\nspec:\n  namespace: %s\n  components:\n", namespace)
	for i := range components {
		fmt.Fprintf(&s, "  - name: c%02d\n    type: service\n    properties:\n      image: registry.example.com/bench/c%02d:1\n      ports: [{name: http, port: 8080}]\n", i, i)
	}
	fmt.Fprintf(&s, "  targets:\n  - name: bench\n    virtualCluster: {namespace: default, selector: {matchLabels: {bench: deliver}}}\n  rollout: {parallelism: %d}\n", targets)
	path := filepath.Join(b.dir, namespace+".yaml")
	if err := os.WriteFile(path, []byte(s.String()), 0o644); err != nil {
		fail(err)
	}
	return path
}

// kubectlRun is the baseline: the rendered manifests, with their Namespace, applied by
// kubectl to every tenant at once, then each Deployment's rollout awaited.
func (b *bench) kubectlRun(ctx context.Context, components int) (time.Duration, error) {
	app := b.writeApp("bench-kubectl", components, len(b.kubeconfigs))
	rendered, err := b.run(ctx, "vcapp", "render", "-f", app)
	if err != nil {
		return 0, fmt.Errorf("vcapp render: %w\n%s", err, rendered)
	}
	manifests := filepath.Join(b.dir, "rendered.yaml")
	ns := "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench-kubectl\n"
	if err := os.WriteFile(manifests, []byte(ns+rendered), 0o644); err != nil {
		return 0, err
	}
	start := time.Now()
	errs := make([]error, len(b.kubeconfigs))
	var wg sync.WaitGroup
	for i, kc := range b.kubeconfigs {
		wg.Go(func() {
			if out, err := b.run(ctx, "kubectl", "--kubeconfig", kc, "apply", "-f", manifests); err != nil {
				errs[i] = fmt.Errorf("kubectl apply: %w\n%s", err, out)
				return
			}
			for c := range components {
				if out, err := b.run(ctx, "kubectl", "--kubeconfig", kc, "-n", "bench-kubectl", "rollout", "status", fmt.Sprintf("deployment/c%02d", c), "--timeout=5m"); err != nil {
					errs[i] = fmt.Errorf("kubectl rollout status: %w\n%s", err, out)
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return took, nil
}

// perTarget reads `vcapp deploy -o json`: per target, how long applying took and how
// long until healthy.
func perTarget(out string) (planned, applied, healthy []time.Duration, err error) {
	var rows []struct {
		Target string `json:"target"`
		Plan   *struct {
			Seconds float64 `json:"seconds"`
		} `json:"plan"`
		Result *struct {
			AppliedSeconds float64 `json:"appliedSeconds"`
			Seconds        float64 `json:"seconds"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		return nil, nil, nil, fmt.Errorf("vcapp deploy -o json: %w\n%s", err, out)
	}
	for _, r := range rows {
		if r.Result == nil || r.Plan == nil {
			return nil, nil, nil, fmt.Errorf("vcapp deploy: no plan or result for %s", r.Target)
		}
		planned = append(planned, time.Duration(r.Plan.Seconds*float64(time.Second)))
		applied = append(applied, time.Duration(r.Result.AppliedSeconds*float64(time.Second)))
		healthy = append(healthy, time.Duration(r.Result.Seconds*float64(time.Second)))
	}
	return planned, applied, healthy, nil
}

// run runs a binary of bin/ and returns its standard output; on failure the error
// carries its standard error.
func (b *bench) run(ctx context.Context, bin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(b.binDir, bin), args...)
	cmd.Env = append(os.Environ(), "KUBECACHEDIR="+filepath.Join(b.dir, "kubecache"))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if cmd.ProcessState != nil {
		b.mu.Lock()
		if b.children == nil {
			b.children = map[string]float64{}
		}
		b.children[bin] += (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
		b.mu.Unlock()
	}
	if err != nil {
		return out.String(), fmt.Errorf("%w: %s", err, errOut.String())
	}
	return out.String(), nil
}

// stages are the moments, from the start of a deploy, at which its pods passed each step
// of their way: created in the tenant (by its ReplicaSet controller), created in the
// super cluster (by the syncer), Ready in the super cluster (KWOK), Ready in the tenant
// (the syncer wrote the status back), and when their Deployments became available.
type stages struct {
	pods                                                            int
	tenantCreated, superCreated, superReady, tenantReady, available []time.Duration
}

func (s stages) String() string {
	f := func(d []time.Duration) string {
		return fmt.Sprintf("%.0f / %.0f", stats.Percentile(d, 50).Seconds(), stats.Percentile(d, 100).Seconds())
	}
	return fmt.Sprintf("tenant pod created %s; super pod created %s; super pod Ready %s; tenant pod status written %s; Deployment's new ReplicaSet available %s",
		f(s.tenantCreated), f(s.superCreated), f(s.superReady), f(s.tenantReady), f(s.available))
}

// podStages reads the pods of namespace in every tenant and their super pods.
func (b *bench) podStages(ctx context.Context, namespace string, start time.Time) (stages, error) {
	var st stages
	super, err := b.client(b.superKubeconfig)
	if err != nil {
		return st, err
	}
	superPods := &corev1.PodList{}
	if err := super.List(ctx, superPods, client.HasLabels{naming.LabelTenant}); err != nil {
		return st, err
	}
	byUID := map[string]*corev1.Pod{}
	for i := range superPods.Items {
		if id, ok := naming.IdentityOf(&superPods.Items[i]); ok && id.Namespace == namespace {
			byUID[id.UID] = &superPods.Items[i]
		}
	}
	since := func(t time.Time) time.Duration { return t.Sub(start.Truncate(time.Second)) }
	for _, kc := range b.kubeconfigs {
		tenant, err := b.client(kc)
		if err != nil {
			return st, err
		}
		pods := &corev1.PodList{}
		if err := tenant.List(ctx, pods, client.InNamespace(namespace)); err != nil {
			return st, err
		}
		for i := range pods.Items {
			p := &pods.Items[i]
			sp := byUID[string(p.UID)]
			if sp == nil {
				return st, fmt.Errorf("tenant pod %s/%s has no super pod", p.Namespace, p.Name)
			}
			ready, written := readySince(sp), statusWritten(p)
			if ready.IsZero() || written.IsZero() {
				return st, fmt.Errorf("pod %s/%s: super pod not Ready or tenant status never written after a healthy deploy", p.Namespace, p.Name)
			}
			st.pods++
			st.tenantCreated = append(st.tenantCreated, since(p.CreationTimestamp.Time))
			st.superCreated = append(st.superCreated, since(sp.CreationTimestamp.Time))
			st.superReady = append(st.superReady, since(ready))
			st.tenantReady = append(st.tenantReady, since(written))
		}
		deployments := &appsv1.DeploymentList{}
		if err := tenant.List(ctx, deployments, client.InNamespace(namespace)); err != nil {
			return st, err
		}
		for _, d := range deployments.Items {
			for _, c := range d.Status.Conditions {
				if c.Type == appsv1.DeploymentProgressing && c.Reason == "NewReplicaSetAvailable" {
					st.available = append(st.available, since(c.LastUpdateTime.Time))
				}
			}
		}
	}
	return st, nil
}

// client is a controller-runtime client of the cluster of a kubeconfig file.
func (b *bench) client(kubeconfig string) (client.Client, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 100, 200
	return client.New(cfg, client.Options{})
}

// statusWritten is when a tenant pod's status was last written (by the syncer: a tenant
// has no kubelet), from its managed fields.
func statusWritten(p *corev1.Pod) time.Time {
	var last time.Time
	for _, m := range p.ManagedFields {
		if m.Subresource == "status" && m.Time != nil && m.Time.After(last) {
			last = m.Time.Time
		}
	}
	return last
}

// readySince is when p turned Ready; zero when it is not.
func readySince(p *corev1.Pod) time.Time {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return c.LastTransitionTime.Time
		}
	}
	return time.Time{}
}

// cpu samples the CPU used so far by every process of the local super cluster and the
// platform, and by the harness's children that have exited (vcapp, kubectl).
func (b *bench) cpu() cpu.Sample {
	pids := map[string][]int{}
	for _, p := range b.cluster.Processes {
		pids[p.Name] = append(pids[p.Name], p.PID)
	}
	s := cpu.Take(pids)
	b.mu.Lock()
	defer b.mu.Unlock()
	for name, sec := range b.children {
		s.Procs[name] += sec
	}
	return s
}

// profile, with -profile, fetches CPU profiles of the tenant-apiserver host and of the
// syncer for d, in the background.
func (b *bench) profile(ctx context.Context, d time.Duration) {
	if b.profileDir == "" {
		return
	}
	seconds := int(d.Seconds())
	if p := b.cluster.Platform; p != nil {
		token, err := os.ReadFile(filepath.Join(b.cluster.Dir, "pki", "tenant-host-admin.token"))
		if err != nil {
			fail(err)
		}
		go b.saveProfile(ctx, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", p.HostAdminURL, seconds), strings.TrimSpace(string(token)), "host-p9.pprof")
	}
	for _, p := range b.cluster.Processes {
		if p.Name == "syncer" && len(p.Ports) > 0 {
			go b.saveProfile(ctx, fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", p.Ports[0], seconds), "", "syncer-p9.pprof")
		}
	}
}

func (b *bench) saveProfile(ctx context.Context, url, token, name string) {
	path := filepath.Join(b.profileDir, name)
	if err := cpu.FetchProfile(ctx, url, token, path); err != nil {
		fmt.Fprintf(os.Stderr, "profile %s: %v\n", name, err)
		return
	}
	fmt.Fprintf(os.Stderr, "wrote %s\n", path)
}

// sample is what P9's report compares before and after the deploy: CPU used so far, and
// the syncer's and the tenant-apiserver host's metrics.
type sample struct {
	cpu          cpu.Sample
	syncer, host map[string]float64
}

func (b *bench) sample() (sample, error) {
	var s sample
	for _, p := range b.cluster.Processes {
		if p.Name == "syncer" && len(p.Ports) > 0 {
			var err error
			if s.syncer, err = promtext.Scrape(fmt.Sprintf("http://127.0.0.1:%d/metrics", p.Ports[0])); err != nil {
				return s, err
			}
		}
	}
	if s.syncer == nil {
		return s, fmt.Errorf("no syncer process")
	}
	var err error
	if s.host, err = promtext.Scrape(b.cluster.Platform.HostAdminURL + "/metrics"); err != nil {
		return s, err
	}
	s.cpu = b.cpu()
	return s, nil
}

// printSyncer prints what the syncer did between two scrapes of its metrics.
func printSyncer(before, after map[string]float64) {
	failed := sumDelta(before, after, "vcp_syncer_syncs_total", `result="error"`) + sumDelta(before, after, "vcp_syncer_syncs_total", `result="not_synced"`)
	fmt.Printf("\nP9 in the syncer: %.0f syncs (%.0f failed or retried; %.0f pod status writes refused as stale), mean wait in its fair queue %s; tenant pod seen → super pod created, mean %s; super pod Running → tenant pod Running written, mean %s\n",
		sumDelta(before, after, "vcp_syncer_syncs_total"), failed, sumDelta(before, after, "vcp_syncer_stale_status_writes_total"),
		meanDelta(before, after, "vcp_syncer_queue_wait_seconds").Round(time.Millisecond),
		meanDelta(before, after, "vcp_syncer_pod_create_latency_seconds").Round(time.Millisecond),
		meanDelta(before, after, "vcp_syncer_pod_running_latency_seconds").Round(time.Millisecond))
}

// sumDelta is how much the series of name (with every label given in labels) grew
// between two scrapes, over all their label sets.
func sumDelta(before, after map[string]float64, name string, labels ...string) float64 {
	total := 0.0
	for k, v := range after {
		series, set, _ := strings.Cut(k, "{")
		if series != name {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(set, l)
		}
		if ok {
			total += v - before[k]
		}
	}
	return total
}

// meanDelta is the mean of a histogram's observations between two scrapes, over all its
// label sets.
func meanDelta(before, after map[string]float64, name string) time.Duration {
	n := sumDelta(before, after, name+"_count")
	if n <= 0 {
		return 0
	}
	return time.Duration(sumDelta(before, after, name+"_sum") / n * float64(time.Second))
}

// printRequestMix prints the requests the tenant-apiserver host answered between two
// scrapes (every tenant together), by verb, resource and subresource, most first.
func printRequestMix(before, after map[string]float64) {
	type row struct {
		what string
		n    float64
	}
	byWhat := map[string]*row{}
	total := 0.0
	for k, v := range after {
		series, set, ok := strings.Cut(k, "{")
		if series != "apiserver_request_total" || !ok {
			continue
		}
		labels := map[string]string{}
		for _, kv := range strings.Split(strings.TrimSuffix(set, "}"), ",") {
			if name, value, ok := strings.Cut(kv, "="); ok {
				labels[name] = strings.Trim(value, `"`)
			}
		}
		what := labels["verb"] + " " + labels["resource"]
		if labels["subresource"] != "" {
			what += "/" + labels["subresource"]
		}
		if labels["dry_run"] != "" {
			what += " (dry run)"
		}
		if byWhat[what] == nil {
			byWhat[what] = &row{what: what}
		}
		byWhat[what].n += v - before[k]
		total += v - before[k]
	}
	rows := slices.Collect(maps.Values(byWhat))
	slices.SortFunc(rows, func(a, b *row) int {
		if a.n != b.n {
			return int(b.n - a.n)
		}
		return strings.Compare(a.what, b.what)
	})
	var parts []string
	for _, r := range rows {
		if r.n >= 1 && len(parts) < 16 {
			parts = append(parts, fmt.Sprintf("%s %.0f", r.what, r.n))
		}
	}
	fmt.Printf("\nP9 requests the tenant-apiserver host answered (all tenants): %.0f; most: %s\n", total, strings.Join(parts, ", "))
}
