package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	apiextensionshelpers "k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/vcp-dev/vcp/tenant-apiserver/datastore"
	"github.com/vcp-dev/vcp/tenant-apiserver/internal/kubeapiserver"
	"github.com/vcp-dev/vcp/tenant-apiserver/internal/router"
	"github.com/vcp-dev/vcp/tenant-apiserver/policy"
	"github.com/vcp-dev/vcp/tenant-apiserver/tenantpki"
)

// Tenant is one tenant control plane on a host. If its server fails or panics, the host
// marks it unhealthy and restarts it with backoff; other tenants are not affected.
type Tenant struct {
	h    *Host
	spec TenantSpec
	dir  string

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	// pkiMu serialises writes of the tenant's PKI files (start and renewal).
	pkiMu sync.Mutex

	mu       sync.Mutex
	files    *tenantpki.Files
	etcd     datastore.ClientConfig
	loopback *rest.Config
	healthy  bool
	lastErr  error
	restarts int
	// controllersSettled is closed once the current controllers run (or failed to start).
	controllersSettled chan struct{}
	// policy is read by the tenant's admission on every request.
	policy atomic.Pointer[policy.Policy]
	// handler is the running server's handler chain once it is ready (nil otherwise).
	handler http.Handler
}

// servingHandler is the ready server's handler chain, or nil.
func (t *Tenant) servingHandler() http.Handler {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.handler
}

// afterReady, when set by a test, runs in a tenant's guarded goroutine each time its server
// becomes ready: the place to inject a fault.
var afterReady func(tenant string)

// whileStarting, when set by a test, runs in a goroutine of its own while a tenant's
// server is starting, as upstream's post-start hooks do.
var whileStarting func(tenant string)

var closeMu sync.Mutex

// closeOnce closes ch unless it is closed already.
func closeOnce(ch chan struct{}) {
	closeMu.Lock()
	defer closeMu.Unlock()
	select {
	case <-ch:
	default:
		close(ch)
	}
}

func newTenant(h *Host, spec TenantSpec) *Tenant {
	t := &Tenant{h: h, spec: spec, dir: h.tenantDir(spec.Name), done: make(chan struct{})}
	t.policy.Store(spec.Policy)
	return t
}

// Name is the tenant's name.
func (t *Tenant) Name() string { return t.spec.Name }

// Prefix is the tenant's etcd key prefix.
func (t *Tenant) Prefix() string { return t.spec.prefix() }

// Status is a tenant's health as the host sees it.
type Status struct {
	Name     string `json:"name"`
	Prefix   string `json:"prefix"`
	Healthy  bool   `json:"healthy"`
	Restarts int    `json:"restarts"`
	Error    string `json:"error,omitempty"`
}

// Status returns the tenant's current health.
func (t *Tenant) Status() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := Status{Name: t.spec.Name, Prefix: t.spec.prefix(), Healthy: t.healthy, Restarts: t.restarts}
	if t.lastErr != nil {
		s.Error = t.lastErr.Error()
	}
	return s
}

// Kubeconfig is the tenant admin's kubeconfig, pointing at the host port with the
// tenant's server name.
func (t *Tenant) Kubeconfig() ([]byte, error) {
	t.mu.Lock()
	files := t.files
	t.mu.Unlock()
	if files == nil {
		return nil, fmt.Errorf("tenant %s has no PKI yet", t.spec.Name)
	}
	return files.Kubeconfig(t.spec.Name, t.h.URL()+t.h.PathPrefix(t.spec.Name), t.h.ServerName(t.spec.Name))
}

// DatastoreCredentials is how a tenant reaches its datastore: endpoints, its key prefix
// and, when the datastore has auth, its etcd user with that user's client certificate.
type DatastoreCredentials struct {
	Endpoints []string `json:"endpoints"`
	Prefix    string   `json:"prefix"`
	User      string   `json:"user,omitempty"`
	CACert    []byte   `json:"caCert,omitempty"`
	Cert      []byte   `json:"cert,omitempty"`
	Key       []byte   `json:"key,omitempty"`
}

// DatastoreCredentials returns the tenant's datastore credentials. Without datastore
// auth the tenant shares the host's connection and only endpoints and prefix are given.
func (t *Tenant) DatastoreCredentials() (DatastoreCredentials, error) {
	t.mu.Lock()
	etcd := t.etcd
	t.mu.Unlock()
	c := DatastoreCredentials{Endpoints: etcd.Endpoints, Prefix: t.spec.prefix()}
	if !t.h.opts.Datastore.AuthEnabled() {
		return c, nil
	}
	c.User = datastore.TenantUser(c.Prefix)
	for _, f := range []struct {
		path string
		dst  *[]byte
	}{{etcd.CAFile, &c.CACert}, {etcd.CertFile, &c.Cert}, {etcd.KeyFile, &c.Key}} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			return c, fmt.Errorf("tenant %s datastore credentials: %w", t.spec.Name, err)
		}
		*f.dst = b
	}
	return c, nil
}

// LoopbackConfig is a privileged in-process client of the tenant's API server.
func (t *Tenant) LoopbackConfig() *rest.Config {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.loopback == nil {
		return nil
	}
	return rest.CopyConfig(t.loopback)
}

// start makes the PKI, starts the supervisor and waits for the first server to be ready.
func (t *Tenant) start(ctx context.Context) error {
	if t.spec.PKI != nil {
		if _, err := tenantpki.WriteRoots(t.dir+"/pki", t.spec.PKI); err != nil {
			return fmt.Errorf("tenant %s: PKI: %w", t.spec.Name, err)
		}
	}
	t.pkiMu.Lock()
	files, _, err := tenantpki.Ensure(t.dir+"/pki", t.pkiRequest())
	var etcd datastore.ClientConfig
	if err == nil {
		etcd, err = t.h.opts.Datastore.EnsureTenant(ctx, t.spec.prefix(), t.dir+"/pki")
	}
	t.pkiMu.Unlock()
	if err != nil {
		return fmt.Errorf("tenant %s: datastore: %w", t.spec.Name, err)
	}
	t.mu.Lock()
	t.files, t.etcd = files, etcd
	t.mu.Unlock()

	logger := klog.LoggerWithValues(klog.Background(), "tenant", t.spec.Name)
	t.ctx, t.cancel = context.WithCancel(klog.NewContext(context.Background(), logger))
	firstReady := make(chan error, 1)
	go t.supervise(firstReady)
	select {
	case err := <-firstReady:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (t *Tenant) pkiRequest() tenantpki.Request {
	dns := append([]string{t.h.ServerName(t.spec.Name), "localhost", "kubernetes", "kubernetes.default",
		"kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}, t.spec.ExtraSANs...)
	ips := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1")}
	for i := 0; i < len(dns); {
		if ip := net.ParseIP(dns[i]); ip != nil {
			ips = append(ips, ip)
			dns = append(dns[:i], dns[i+1:]...)
			continue
		}
		i++
	}
	return tenantpki.Request{Tenant: t.spec.Name, DNSNames: dns, IPs: ips}
}

// firstStartAttempts bounds how often a tenant's first start is tried when its server was
// built but did not turn ready (a post-start hook failing under load, say). Errors before
// that (flags, certificates) are not retried.
const firstStartAttempts = 3

// errNotReady marks a start whose server was built but did not turn ready.
var errNotReady = errors.New("not ready")

// supervise runs the tenant's server, restarting it with backoff when it fails, until
// the tenant is stopped. The first start's outcome (after up to firstStartAttempts
// tries) goes to firstReady.
func (t *Tenant) supervise(firstReady chan<- error) {
	defer close(t.done)
	backoff := time.Second
	first := true
	attempts := 0
	for {
		err := t.runOnce(func() {
			if first {
				first = false
				firstReady <- nil
			}
			backoff = time.Second
		})
		if t.ctx.Err() != nil {
			if first {
				firstReady <- t.ctx.Err()
			}
			return
		}
		t.setHealth(false, err)
		if first {
			attempts++
			if attempts >= firstStartAttempts || !errors.Is(err, errNotReady) {
				// The caller gets the error (the vc-manager retries).
				firstReady <- err
				return
			}
			klog.FromContext(t.ctx).Error(err, "tenant API server did not start; trying again", "attempt", attempts, "backoff", backoff)
		} else {
			klog.FromContext(t.ctx).Error(err, "tenant API server failed; restarting", "backoff", backoff)
		}
		t.mu.Lock()
		t.restarts++
		t.mu.Unlock()
		select {
		case <-time.After(backoff):
		case <-t.ctx.Done():
			if first {
				firstReady <- t.ctx.Err()
			}
			return
		}
		backoff = min(backoff*2, time.Minute)
	}
}

// runOnce builds and runs one incarnation of the tenant's server. It calls ready once the
// server answers /readyz and returns when the server stops.
func (t *Tenant) runOnce(ready func()) (err error) {
	// Building ends when the controllers have started (or, without them, at ready). At
	// most Options.MaxConcurrentBuilds tenants build at once: a build is CPU-bound, and
	// more at once only makes each slower, past the bootstrap hooks' and ReadyTimeout's
	// bounds under load (they failed, were built again, and the host never caught up).
	select {
	case t.h.builds <- struct{}{}:
	case <-t.ctx.Done():
		return t.ctx.Err()
	}
	leaveGC := t.h.gc.enter()
	endBuild := sync.OnceFunc(func() {
		leaveGC()
		<-t.h.builds
	})
	defer endBuild()
	fatal, endStarting := startingTenants.begin()
	defer endStarting()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	l := router.NewListener(inner)
	serverName := t.h.ServerName(t.spec.Name)
	if err := t.h.router.Add(serverName, l); err != nil {
		_ = l.Close()
		return err
	}
	defer func() {
		t.h.router.Remove(serverName)
		_ = l.Close()
	}()

	runCtx, cancelRun := context.WithCancel(t.ctx)
	defer cancelRun()
	files := t.files
	ds := t.etcd
	srv, err := guard("build server", func() (*kubeapiserver.Server, error) {
		return kubeapiserver.New(runCtx, kubeapiserver.Config{
			Name:        t.spec.Name,
			Listener:    l,
			EtcdServers: ds.Endpoints, EtcdCAFile: ds.CAFile, EtcdCertFile: ds.CertFile, EtcdKeyFile: ds.KeyFile,
			EtcdPrefix:      t.spec.prefix()[:len(t.spec.prefix())-1],
			ServingCertFile: files.ServingCert, ServingKeyFile: files.ServingKey,
			ClientCAFile:          files.ClientCACert,
			ServiceAccountKeyFile: files.ServiceAccountKey, ServiceAccountPubFile: files.ServiceAccountPub,
			Issuer:              "https://" + serverName,
			ProxyClientCertFile: files.ProxyClientCert, ProxyClientKeyFile: files.ProxyClientKey,
			RequestHeaderCAFile:   files.FrontProxyCACert,
			DisabledAPIs:          t.spec.DisabledAPIs,
			PathPrefix:            t.h.PathPrefix(t.spec.Name),
			ServiceClusterIPRange: t.h.opts.ServiceClusterIPRange,
			Policy:                t.policy.Load,
			Fairness:              t.h.fair,
		})
	})
	if err != nil {
		return err
	}
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	wg.Go(func() {
		_, err := guard("serve", func() (struct{}, error) { return struct{}{}, srv.Run(runCtx) })
		errs <- err
	})
	defer wg.Wait()

	if hook := whileStarting; hook != nil {
		go hook(t.spec.Name)
	}
	loopback := srv.LoopbackConfig()
	if err := waitReady(runCtx, loopback, t.h.opts.ReadyTimeout, errs, fatal); err != nil {
		cancelRun()
		return fmt.Errorf("tenant %s %w: %w", t.spec.Name, errNotReady, err)
	}
	if err := waitCRDsServed(runCtx, loopback, t.h.opts.ReadyTimeout); err != nil {
		cancelRun()
		return fmt.Errorf("tenant %s %w: %w", t.spec.Name, errNotReady, err)
	}
	if err := waitOpenAPIServed(runCtx, loopback, t.h.opts.ReadyTimeout); err != nil {
		cancelRun()
		return fmt.Errorf("tenant %s %w: %w", t.spec.Name, errNotReady, err)
	}
	endStarting()
	t.mu.Lock()
	t.loopback, t.handler = loopback, srv.Handler()
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.handler = nil
		t.mu.Unlock()
	}()
	t.setHealth(true, nil)
	ready()
	if t.h.opts.DisableControllers {
		endBuild()
	} else {
		// Controllers that never report started (a cache that never syncs) must not keep
		// other tenants from building.
		stopTimer := time.AfterFunc(t.h.opts.ReadyTimeout, endBuild).Stop
		defer stopTimer()
	}
	if hook := afterReady; hook != nil {
		wg.Go(func() {
			if _, err := guard("after-ready hook", func() (struct{}, error) { hook(t.spec.Name); return struct{}{}, nil }); err != nil {
				errs <- err
			}
		})
	}

	if !t.h.opts.DisableControllers {
		settled := make(chan struct{})
		t.mu.Lock()
		t.controllersSettled = settled
		t.mu.Unlock()
		wg.Go(func() {
			defer closeOnce(settled)
			started := func() {
				endBuild()
				closeOnce(settled)
			}
			_, err := guard("controllers", func() (struct{}, error) {
				return struct{}{}, runControllers(runCtx, t.spec.Name, loopback, srv.Informers(), t.files, t.rootBundle(), started)
			})
			if err != nil && runCtx.Err() == nil {
				errs <- err
			}
		})
	}
	select {
	case err = <-errs:
		if err == nil && runCtx.Err() == nil {
			err = errors.New("server stopped")
		}
	case <-runCtx.Done():
	}
	cancelRun()
	return err
}

// guard runs fn, turning a panic into an error so one tenant's crash stays its own.
func guard[T any](what string, fn func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in %s: %v\n%s", what, r, debug.Stack())
		}
	}()
	return fn()
}

// waitReady polls /readyz through the loopback client until it answers ok, the server
// fails or timeout passes.
func waitReady(ctx context.Context, cfg *rest.Config, timeout time.Duration, errs <-chan error, fatal <-chan struct{}) error {
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	delay := 10 * time.Millisecond
	var last error
	fatalSeen := false
	for time.Now().Before(deadline) {
		select {
		case err := <-errs:
			if err == nil {
				err = errors.New("server stopped before it was ready")
			}
			return err
		case <-fatal:
			// Some starting (or stopping) tenant's goroutine ended in klog.Fatal; if it was
			// one of this server's post-start hooks, this start never turns ready. Give it
			// fatalGrace to prove otherwise instead of the whole timeout.
			fatal, fatalSeen = nil, true
			if d := time.Now().Add(fatalGrace); d.Before(deadline) {
				deadline = d
			}
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 50*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+"/readyz", nil)
		resp, err := client.Do(req)
		if err != nil {
			last = err
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
		last = fmt.Errorf("/readyz: %s: %s", resp.Status, body)
	}
	if fatalSeen {
		return fmt.Errorf("not ready %s after a goroutine of a starting tenant ended in klog.Fatal (logged above; typically a post-start hook timing out under load): %v", fatalGrace, last)
	}
	return fmt.Errorf("not ready after %s: %v", timeout, last)
}

// fatalGrace is how long a starting tenant may still take to turn ready after a Fatal
// ended a goroutine of some starting tenant (guardFatal). Post-start hooks of a healthy
// start finish in seconds.
var fatalGrace = 30 * time.Second

// waitCRDsServed waits until discovery lists every version of every established CRD: a
// restarted tenant answers /readyz before its custom resources are discoverable, and
// kubectl would then report them unknown.
func waitCRDsServed(ctx context.Context, cfg *rest.Config, timeout time.Duration) error {
	crdClient, err := apiextensionsclient.NewForConfig(cfg)
	if err != nil {
		return err
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	var missing []string
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		crds, err := crdClient.ApiextensionsV1().CustomResourceDefinitions().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		missing = missing[:0]
		for _, crd := range crds.Items {
			if !apiextensionshelpers.IsCRDConditionTrue(&crd, apiextensionsv1.Established) {
				continue
			}
			for _, v := range crd.Spec.Versions {
				if !v.Served {
					continue
				}
				gv := crd.Spec.Group + "/" + v.Name
				list, err := disco.ServerResourcesForGroupVersion(gv)
				if err != nil || !slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == crd.Spec.Names.Plural }) {
					missing = append(missing, crd.Spec.Names.Plural+"."+gv)
				}
			}
		}
		return len(missing) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("custom resources not served yet: %v: %w", missing, err)
	}
	return nil
}

// waitOpenAPIServed waits until /openapi/v3 lists every group/version discovery serves.
// The aggregator collects the documents just after /readyz turns ok, and clients that
// read them (kubectl explain, client-side validation, code generators) would meanwhile
// find groups missing.
func waitOpenAPIServed(ctx context.Context, cfg *rest.Config, timeout time.Duration) error {
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	var missing []string
	err = wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		groups, err := disco.ServerGroups()
		if err != nil {
			return false, nil
		}
		paths, err := disco.OpenAPIV3().Paths()
		if err != nil {
			return false, nil
		}
		missing = missing[:0]
		for _, g := range groups.Groups {
			for _, v := range g.Versions {
				path := "apis/" + v.GroupVersion
				if g.Name == "" {
					path = "api/" + v.Version
				}
				if _, ok := paths[path]; !ok {
					missing = append(missing, path)
				}
			}
		}
		return len(missing) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("OpenAPI v3 does not list %v yet: %w", missing, err)
	}
	return nil
}

func (t *Tenant) setHealth(healthy bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.healthy, t.lastErr = healthy, err
}

// stop cancels the tenant and waits for its server and controllers to end. Controllers
// still being built are given time to start first: cancelled half-way, some upstream
// constructors leave goroutines behind.
func (t *Tenant) stop() {
	if t.cancel == nil {
		return
	}
	t.mu.Lock()
	settled := t.controllersSettled
	t.mu.Unlock()
	if settled != nil {
		select {
		case <-settled:
		case <-time.After(30 * time.Second):
		}
	}
	t.cancel()
	<-t.done
	t.setHealth(false, errors.New("stopped"))
}

func restConfigFromKubeconfig(kc []byte) (*rest.Config, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kc)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}
