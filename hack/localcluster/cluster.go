// Package localcluster runs a real Kubernetes super cluster on 127.0.0.1 from the binaries
// `make tools` builds: etcd, kube-apiserver (own CA, client-certificate and token
// authentication, RBAC, service-account issuer), kube-controller-manager, kube-scheduler
// and KWOK, which simulates the nodes of configurable node pools. It is what `vcctl dev up`
// (and so `make up`) runs, and what the integration and e2e tests start.
//
// All state lives under one directory (default ./.vcp/super): PKI, kubeconfigs, logs,
// etcd data and a state file recording every process by PID and start time, so that a
// stop signals exactly the processes that were started and nothing else.
package localcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/vcp-dev/vcp/internal/netutil"
)

// State is what a running local cluster records in <dir>/super/state.json.
type State struct {
	// Dir is the cluster's own directory (<Config.Dir>/super).
	Dir string `json:"dir"`
	// Kubeconfig is the admin kubeconfig.
	Kubeconfig string `json:"kubeconfig"`
	// APIServerURL is https://127.0.0.1:<port>.
	APIServerURL string `json:"apiServerURL"`
	// EtcdURL is the etcd client URL, for components that share the super cluster's etcd.
	EtcdURL string `json:"etcdURL"`
	// AdminTokenFile holds a bearer token with cluster-admin rights.
	AdminTokenFile string `json:"adminTokenFile"`
	// Processes in start order.
	Processes []*Process `json:"processes"`
	// Ready is set once every component answered and the nodes are Ready.
	Ready bool `json:"ready"`
	// StartedAt is when the start began.
	StartedAt time.Time `json:"startedAt"`
	// Platform is where vcp's own components listen, once StartPlatform ran.
	Platform *Platform `json:"platform,omitempty"`
}

// Cluster is a local super cluster started by Start or found by Load.
type Cluster struct {
	State
	cfg Config

	mu sync.Mutex
}

// ErrNotRunning is returned by Load when no cluster state exists.
var ErrNotRunning = errors.New("no local super cluster is running")

func stateDir(dir string) string  { return filepath.Join(dir, "super") }
func statePath(dir string) string { return filepath.Join(stateDir(dir), "state.json") }

// Load reads the state a running (or crashed) cluster left in dir. It returns ErrNotRunning
// when there is none.
func Load(dir string) (*Cluster, error) {
	b, err := os.ReadFile(statePath(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotRunning
	}
	if err != nil {
		return nil, err
	}
	c := &Cluster{}
	if err := json.Unmarshal(b, &c.State); err != nil {
		return nil, fmt.Errorf("read %s: %w", statePath(dir), err)
	}
	c.cfg.Dir = dir
	return c, nil
}

// Running reports whether every recorded process is alive.
func (c *Cluster) Running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.Processes) == 0 {
		return false
	}
	for _, p := range c.Processes {
		if !p.Alive() {
			return false
		}
	}
	return true
}

// RESTConfig returns an admin client configuration.
func (c *Cluster) RESTConfig() (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 100, 200
	return cfg, nil
}

// Start brings up a local super cluster and returns once every component is ready. On
// any failure it stops whatever it had started, so nothing is left half-running.
func Start(ctx context.Context, cfg Config) (c *Cluster, err error) {
	cfg.Default()
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("invalid local cluster config: %w", errs.ToAggregate())
	}
	if existing, err := Load(cfg.Dir); err == nil && existing.anyAlive() {
		return nil, fmt.Errorf("a local super cluster already runs from %s (kubeconfig %s): stop it first", cfg.Dir, existing.Kubeconfig)
	}
	dir, err := filepath.Abs(stateDir(cfg.Dir))
	if err != nil {
		return nil, err
	}
	for _, sub := range []string{"logs", "etcd", "kwok"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	c = &Cluster{cfg: cfg, State: State{Dir: dir, StartedAt: time.Now()}}
	defer func() {
		if err != nil {
			stopCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if stopErr := c.Stop(stopCtx); stopErr != nil {
				err = errors.Join(err, fmt.Errorf("clean up after failed start: %w", stopErr))
			}
		}
	}()

	certs, pairs, err := ensurePKI(filepath.Join(dir, "pki"))
	if err != nil {
		return c, fmt.Errorf("make PKI: %w", err)
	}
	c.AdminTokenFile = filepath.Join(certs.dir, "admin.token")

	ports, err := netutil.FreePorts(7)
	if err != nil {
		return c, err
	}
	etcdPort, etcdPeer, apiPort, kcmPort, schedPort, kwokPort, etcdMetrics := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5], ports[6]
	c.EtcdURL = "http://127.0.0.1:" + strconv.Itoa(etcdPort)
	c.APIServerURL = "https://127.0.0.1:" + strconv.Itoa(apiPort)

	kubeconfigs := map[string]string{"admin": "admin", "kcm": "kcm-client", "scheduler": "scheduler-client", "kwok": "kwok-client"}
	for name, pair := range kubeconfigs {
		if err := writeKubeconfig(filepath.Join(dir, name+".kubeconfig"), c.APIServerURL, "vcp-super", pairs["ca"], pairs[pair]); err != nil {
			return c, err
		}
	}
	c.Kubeconfig = filepath.Join(dir, "admin.kubeconfig")

	if err := c.startEtcd(ctx, etcdPort, etcdPeer, etcdMetrics); err != nil {
		return c, err
	}
	if err := c.startAPIServer(ctx, certs, apiPort); err != nil {
		return c, err
	}
	restCfg, err := c.RESTConfig()
	if err != nil {
		return c, err
	}
	superClient, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return c, err
	}
	if !cfg.ControlPlaneOnly {
		if err := c.startControllers(ctx, certs, kcmPort, schedPort, kwokPort); err != nil {
			return c, err
		}
		if err := bootstrapObjects(ctx, superClient, cfg.NodePools); err != nil {
			return c, err
		}
		if err := c.waitNodesReady(ctx, superClient, cfg.NodePools); err != nil {
			return c, err
		}
	}
	c.Ready = true
	return c, c.save()
}

// anyAlive reports whether any recorded process still runs.
func (c *Cluster) anyAlive() bool {
	for _, p := range c.Processes {
		if p.Alive() {
			return true
		}
	}
	return false
}

func (c *Cluster) startEtcd(ctx context.Context, port, peerPort, metricsPort int) error {
	url := c.EtcdURL
	peer := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	args := []string{
		"--name=vcp-super",
		"--data-dir=" + filepath.Join(c.Dir, "etcd"),
		"--listen-client-urls=" + url,
		"--advertise-client-urls=" + url,
		"--listen-peer-urls=" + peer,
		"--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=vcp-super=" + peer,
		"--listen-metrics-urls=http://127.0.0.1:" + strconv.Itoa(metricsPort),
		"--quota-backend-bytes=8589934592",
		"--log-level=warn",
	}
	p, err := c.start("etcd", "etcd", args, []int{port, peerPort, metricsPort})
	if err != nil {
		return err
	}
	return c.waitFor(ctx, p, func(ctx context.Context) error {
		return httpGetOK(ctx, nil, url+"/health", `"health":"true"`)
	})
}

func (c *Cluster) startAPIServer(ctx context.Context, certs *clusterPKI, port int) error {
	args := []string{
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--etcd-servers=" + c.EtcdURL,
		"--cert-dir=" + filepath.Join(c.Dir, "pki", "apiserver-generated"),
		"--tls-cert-file=" + certs.apiserverCert,
		"--tls-private-key-file=" + certs.apiserverK,
		"--client-ca-file=" + certs.caCert,
		"--token-auth-file=" + certs.tokenFile,
		"--kubelet-client-certificate=" + certs.kubeletClientCert,
		"--kubelet-client-key=" + certs.kubeletClientKey,
		"--kubelet-certificate-authority=" + certs.caCert,
		"--authorization-mode=Node,RBAC",
		"--anonymous-auth=true",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + certs.saPub,
		"--service-account-signing-key-file=" + certs.saKey,
		"--service-cluster-ip-range=" + serviceClusterIPRange,
		"--allow-privileged=true",
		// The API server only listens on loopback, which an Endpoints object may not hold.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
		"--v=1",
	}
	args = append(args, c.cfg.ExtraAPIServerFlags...)
	p, err := c.start("kube-apiserver", "kube-apiserver", args, []int{port})
	if err != nil {
		return err
	}
	restCfg, err := c.RESTConfig()
	if err != nil {
		return err
	}
	httpClient, err := rest.HTTPClientFor(restCfg)
	if err != nil {
		return err
	}
	return c.waitFor(ctx, p, func(ctx context.Context) error {
		return httpGetOK(ctx, httpClient, c.APIServerURL+"/readyz", "ok")
	})
}

// startControllers starts kube-controller-manager, kube-scheduler and KWOK together and
// waits for all three.
func (c *Cluster) startControllers(ctx context.Context, certs *clusterPKI, kcmPort, schedPort, kwokPort int) error {
	kcm := filepath.Join(c.Dir, "kcm.kubeconfig")
	kcmArgs := []string{
		"--kubeconfig=" + kcm,
		"--authentication-kubeconfig=" + kcm,
		"--authorization-kubeconfig=" + kcm,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(kcmPort),
		"--tls-cert-file=" + certs.kcmServingCert,
		"--tls-private-key-file=" + certs.kcmKey,
		"--leader-elect=false",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + certs.saKey,
		"--root-ca-file=" + certs.caCert,
		"--cluster-signing-cert-file=" + certs.caCert,
		"--cluster-signing-key-file=" + certs.caKey,
		"--service-cluster-ip-range=" + serviceClusterIPRange,
		"--profiling=false",
		// Simulated nodes make thousands of pods cheap: the default 20 QPS client would be
		// the bottleneck of every burst (kwokctl lifts it the same way).
		"--kube-api-qps=500",
		"--kube-api-burst=1000",
		"--v=1",
	}
	sched := filepath.Join(c.Dir, "scheduler.kubeconfig")
	schedArgs := []string{
		"--kubeconfig=" + sched,
		"--authentication-kubeconfig=" + sched,
		"--authorization-kubeconfig=" + sched,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(schedPort),
		"--tls-cert-file=" + certs.schedServingCert,
		"--tls-private-key-file=" + certs.schedK,
		"--leader-elect=false",
		"--profiling=false",
		"--kube-api-qps=500",
		"--kube-api-burst=1000",
		"--v=1",
	}
	stages, err := kwokStageFiles(c.cfg.StagesDir, filepath.Join(c.Dir, "kwok-stages"))
	if err != nil {
		return err
	}
	kwokArgs := []string{
		"--kubeconfig=" + filepath.Join(c.Dir, "kwok.kubeconfig"),
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + KwokNodeAnnotation + "=" + KwokNodeAnnotationValue,
		"--node-lease-duration-seconds=40",
		"--cidr=" + podCIDR,
		"--node-ip=127.0.0.1",
		"--server-address=127.0.0.1:" + strconv.Itoa(kwokPort),
	}
	for _, s := range stages {
		kwokArgs = append(kwokArgs, "--config="+s)
	}

	type comp struct {
		name  string
		args  []string
		port  int
		probe string
	}
	comps := []comp{
		{"kube-controller-manager", kcmArgs, kcmPort, "https://127.0.0.1:" + strconv.Itoa(kcmPort) + "/healthz"},
		{"kube-scheduler", schedArgs, schedPort, "https://127.0.0.1:" + strconv.Itoa(schedPort) + "/healthz"},
		{"kwok", kwokArgs, kwokPort, "http://127.0.0.1:" + strconv.Itoa(kwokPort) + "/healthz"},
	}
	tlsClient, err := caHTTPClient(certs.caCert)
	if err != nil {
		return err
	}
	procs := make([]*Process, len(comps))
	for i, comp := range comps {
		if procs[i], err = c.start(comp.name, comp.name, comp.args, []int{comp.port}); err != nil {
			return err
		}
	}
	errs := make([]error, len(comps))
	var wg sync.WaitGroup
	for i, comp := range comps {
		wg.Go(func() {
			errs[i] = c.waitFor(ctx, procs[i], func(ctx context.Context) error {
				return httpGetOK(ctx, tlsClient, comp.probe, "ok")
			})
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// start starts a component and records it in the state file right away, so that a stop
// finds it even if this caller dies before the cluster is ready.
func (c *Cluster) start(name, binaryName string, args []string, ports []int) (*Process, error) {
	binary, err := filepath.Abs(filepath.Join(c.cfg.BinDir, binaryName))
	if err != nil {
		return nil, err
	}
	p, err := startProcess(name, binary, args, filepath.Join(c.Dir, "logs", name+".log"), ports, c.cfg.Detach)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.Processes = append(c.Processes, p)
	c.mu.Unlock()
	return p, c.save()
}

// waitFor polls probe until it succeeds, the process exits or the ready timeout passes.
// Failures carry the end of the component's log.
func (c *Cluster) waitFor(ctx context.Context, p *Process, probe func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.readyTimeout())
	defer cancel()
	defer func() { p.ReadyIn = time.Since(p.startedAt) }()
	var lastErr error
	delay := 20 * time.Millisecond
	for {
		if err := p.exitedEarly(); err != nil {
			return fmt.Errorf("%w; last lines of %s:\n%s", err, p.Log, p.LogTail(20))
		}
		probeCtx, probeCancel := context.WithTimeout(ctx, 5*time.Second)
		lastErr = probe(probeCtx)
		probeCancel()
		if lastErr == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s: %v; last lines of %s:\n%s", p.Name, c.cfg.readyTimeout(), lastErr, p.Log, p.LogTail(20))
		case <-time.After(delay):
		}
		delay = min(delay*2, 500*time.Millisecond)
	}
}

// Stop stops every recorded process in reverse start order and removes the state file. It
// only signals processes whose PID and start time match what was recorded.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	procs := append([]*Process(nil), c.Processes...)
	c.mu.Unlock()
	var errs []error
	// Controllers first, in parallel; then the API server; then etcd.
	for len(procs) > 0 {
		var batch []*Process
		last := procs[len(procs)-1]
		if last.Name == "etcd" || last.Name == "kube-apiserver" {
			batch, procs = []*Process{last}, procs[:len(procs)-1]
		} else {
			i := len(procs)
			for i > 0 && procs[i-1].Name != "etcd" && procs[i-1].Name != "kube-apiserver" {
				i--
			}
			batch, procs = procs[i:], procs[:i]
		}
		var wg sync.WaitGroup
		batchErrs := make([]error, len(batch))
		for i, p := range batch {
			wg.Go(func() { batchErrs[i] = p.Stop(ctx, 10*time.Second) })
		}
		wg.Wait()
		errs = append(errs, batchErrs...)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(c.Dir, "state.json")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Ports lists every port the cluster's processes listen on.
func (c *Cluster) Ports() []int {
	var ports []int
	for _, p := range c.Processes {
		ports = append(ports, p.Ports...)
	}
	return ports
}

// Wipe removes all state of a stopped cluster under dir.
func Wipe(dir string) error {
	if c, err := Load(dir); err == nil && c.anyAlive() {
		return fmt.Errorf("the local super cluster in %s is still running: stop it first", dir)
	}
	return os.RemoveAll(stateDir(dir))
}

func (c *Cluster) save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, err := json.MarshalIndent(c.State, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(c.Dir, "state.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(c.Dir, "state.json"))
}

// PortsInUse returns the ports among ports that something still listens on.
func PortsInUse(ports []int) []int {
	var busy []int
	for _, port := range ports {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			_ = conn.Close()
			busy = append(busy, port)
		}
	}
	return busy
}

// Summary is a human-readable description of where the cluster is.
func (c *Cluster) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "API server:  %s\n", c.APIServerURL)
	fmt.Fprintf(&b, "Kubeconfig:  %s\n", c.Kubeconfig)
	fmt.Fprintf(&b, "Logs:        %s\n", filepath.Join(c.Dir, "logs"))
	for _, p := range c.Processes {
		state := "running"
		if !p.Alive() {
			state = "NOT RUNNING"
		}
		fmt.Fprintf(&b, "  %-24s pid %-8d %s\n", p.Name, p.PID, state)
	}
	return b.String()
}
