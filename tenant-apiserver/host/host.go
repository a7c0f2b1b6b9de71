// Package host runs many tenants' Kubernetes API servers in one process behind one TLS
// port. Tenants are added and removed at runtime. Each tenant is an upstream kube-apiserver
// chain with its own PKI and etcd key prefix (/vcp/<uid>/ by default), plus the
// controllers a tenant expects; connections are routed to it by TLS server name
// (<tenant>.<domain>), which the tenant's kubeconfig sets as tls-server-name so kubectl
// works unmodified.
package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/vcp-dev/vcp/internal/clusterdomain"
	"github.com/vcp-dev/vcp/tenant-apiserver/datastore"
	"github.com/vcp-dev/vcp/tenant-apiserver/internal/fairshare"
	"github.com/vcp-dev/vcp/tenant-apiserver/internal/kubeapiserver"
	_ "github.com/vcp-dev/vcp/tenant-apiserver/internal/noqueuemetrics" // before upstream turns queue metrics on
	"github.com/vcp-dev/vcp/tenant-apiserver/internal/router"
	"github.com/vcp-dev/vcp/tenant-apiserver/policy"
	"github.com/vcp-dev/vcp/tenant-apiserver/tenantpki"
)

// Options configure a host.
type Options struct {
	// ListenAddress is the one TLS port all tenants are served on. Default 127.0.0.1:0.
	ListenAddress string
	// AdminAddress serves /healthz, /readyz and /metrics. Default 127.0.0.1:0.
	AdminAddress string
	// DataDir holds each tenant's PKI (and the embedded etcd's data).
	DataDir string
	// Domain: tenant t is served as t.<Domain>. Default tenants.vcp.local.
	Domain string
	// Datastore is where tenants store their objects.
	Datastore *datastore.Datastore
	// ReadyTimeout bounds the wait for a new tenant to answer. Default 1m.
	ReadyTimeout time.Duration
	// DisableControllers runs tenants without their in-process controllers (API-only).
	DisableControllers bool
	// MaxInflightRequests is how many requests (not watches or other long-running ones,
	// nor the tenants' own loopback requests) the host serves at once across all its
	// tenants; when more wait, free slots go to the tenants in turn
	// (internal/fairshare). Default 16×GOMAXPROCS, at least 32; negative turns it off.
	MaxInflightRequests int
	// MaxQueuedRequestsPerTenant is how many of one tenant's requests may wait for a
	// slot; more are answered 429. Default 500.
	MaxQueuedRequestsPerTenant int
	// MaxConcurrentBuilds is how many tenants' servers are built (and their controllers
	// started) at once; the others wait their turn, which ReadyTimeout does not count.
	// Default GOMAXPROCS.
	MaxConcurrentBuilds int
	// BuildGCPercent is GOGC while a tenant is being built (see DefaultBuildGCPercent,
	// which 0 means); negative leaves GOGC alone.
	BuildGCPercent int
	// AdminToken, when set, must be sent as a bearer token to the admin port's tenant API.
	AdminToken string
	// AdvertiseURL is the https URL clients reach the tenant port at, written into
	// kubeconfigs. Default: the listener's address.
	AdvertiseURL string
	// ServiceClusterIPRange is the super cluster's Service CIDR, which every tenant uses
	// too (the syncer gives tenant Services their super copies' IPs). Default 10.96.0.0/16.
	ServiceClusterIPRange string
	// RenewInterval is how often running tenants' certificates are checked and renewed
	// when due. Default DefaultRenewInterval.
	RenewInterval time.Duration
	// ClusterDomain is the domain of the in-cluster names (kubernetes.default.svc.<domain>)
	// the host serves every tenant's pods at. Default clusterdomain.Default.
	ClusterDomain string
}

// TenantSpec describes a tenant to add.
type TenantSpec struct {
	// Name is a DNS label; the tenant is served as <Name>.<Domain>.
	Name string `json:"name"`
	// UID keys the etcd prefix, so a re-created tenant of the same name starts empty.
	UID string `json:"uid,omitempty"`
	// KeyPrefix overrides /vcp/<UID>/; it must start and end with "/".
	KeyPrefix string `json:"keyPrefix,omitempty"`
	// DisabledAPIs are group/versions not served.
	DisabledAPIs []string `json:"disabledAPIs,omitempty"`
	// ExtraSANs are more names for the serving certificate.
	ExtraSANs []string `json:"extraSANs,omitempty"`
	// PKI, when given, is the tenant's root material (tenantpki.RootFiles: its CAs and
	// service-account key), kept by whoever provisions the tenant so that any host can
	// serve it with the same identity. Leaf certificates are issued by the host. Without
	// it the host makes the roots itself. It is never written into the tenant's record.
	PKI map[string][]byte `json:"pki,omitempty"`
	// Policy is what the tenant's API refuses on the platform's behalf (nil: nothing). It
	// is the one part of a running tenant's spec that a PUT changes in place.
	Policy *policy.Policy `json:"policy,omitempty"`
}

var nameRE = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)

// Validate reports the first bad field of the spec.
func (s TenantSpec) Validate() error {
	if !nameRE.MatchString(s.Name) {
		return fmt.Errorf("tenant name %q must be a DNS label (at most 63 characters) starting with a letter", s.Name)
	}
	if s.PKI != nil {
		if err := tenantpki.ValidateRoots(s.PKI); err != nil {
			return fmt.Errorf("tenant %s: %w", s.Name, err)
		}
	}
	if err := s.Policy.Validate(); err != nil {
		return fmt.Errorf("tenant %s: %w", s.Name, err)
	}
	if s.UID == "" && s.KeyPrefix == "" {
		return fmt.Errorf("tenant %s: uid is required (it keys the etcd prefix)", s.Name)
	}
	if s.KeyPrefix != "" {
		if err := datastore.ValidatePrefix(s.KeyPrefix); err != nil {
			return fmt.Errorf("tenant %s: keyPrefix: %w", s.Name, err)
		}
	}
	return nil
}

// prefix is the tenant's etcd key prefix, ending in "/".
func (s TenantSpec) prefix() string {
	if s.KeyPrefix != "" {
		return s.KeyPrefix
	}
	return "/vcp/" + s.UID + "/"
}

// Host serves tenants.
type Host struct {
	opts   Options
	router *router.Router
	ln     net.Listener
	admin  *http.Server
	adminL net.Listener

	gc *gcWindow
	// builds holds a token per tenant being built (Options.MaxConcurrentBuilds).
	builds chan struct{}
	// fair shares request slots among the tenants (Options.MaxInflightRequests); nil: off.
	fair *fairshare.Dispatcher
	// stopRenew ends the certificate renewal loop.
	stopRenew chan struct{}
	// inCluster serves the in-cluster names (kubernetes.default.svc) for all tenants.
	inCluster *inClusterFront

	mu      sync.Mutex
	tenants map[string]*Tenant
}

// New validates options and prepares a host; Start opens its ports.
func New(opts Options) (*Host, error) {
	if opts.Datastore == nil {
		return nil, errors.New("host: a datastore is required")
	}
	if opts.DataDir == "" {
		return nil, errors.New("host: a data directory is required")
	}
	if opts.ListenAddress == "" {
		opts.ListenAddress = "127.0.0.1:0"
	}
	if opts.AdminAddress == "" {
		opts.AdminAddress = "127.0.0.1:0"
	}
	if opts.Domain == "" {
		opts.Domain = "tenants.vcp.local"
	}
	if opts.BuildGCPercent == 0 {
		opts.BuildGCPercent = DefaultBuildGCPercent
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = time.Minute
	}
	if opts.MaxConcurrentBuilds <= 0 {
		opts.MaxConcurrentBuilds = runtime.GOMAXPROCS(0)
	}
	if opts.MaxInflightRequests == 0 {
		opts.MaxInflightRequests = max(32, 16*runtime.GOMAXPROCS(0))
	}
	if opts.MaxQueuedRequestsPerTenant <= 0 {
		opts.MaxQueuedRequestsPerTenant = 500
	}
	var fair *fairshare.Dispatcher
	if opts.MaxInflightRequests > 0 {
		fair = fairshare.New(opts.MaxInflightRequests, opts.MaxQueuedRequestsPerTenant)
	}
	if opts.RenewInterval == 0 {
		opts.RenewInterval = DefaultRenewInterval
	}
	if opts.ClusterDomain == "" {
		opts.ClusterDomain = clusterdomain.Default
	}
	// Library goroutines that recover with HandleCrash must not take the whole host (every
	// tenant) down when one tenant hits a bug: log and go on.
	utilruntime.ReallyCrash = false
	guardFatal()
	return &Host{opts: opts, router: router.New(), gc: &gcWindow{percent: opts.BuildGCPercent}, builds: make(chan struct{}, opts.MaxConcurrentBuilds), fair: fair, tenants: map[string]*Tenant{}}, nil
}

// Start opens the tenant port and the admin port.
func (h *Host) Start() error {
	ln, err := net.Listen("tcp", h.opts.ListenAddress)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", h.opts.ListenAddress, err)
	}
	adminL, err := net.Listen("tcp", h.opts.AdminAddress)
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("admin listen on %s: %w", h.opts.AdminAddress, err)
	}
	h.ln, h.adminL = ln, adminL
	if err := h.startInClusterFront(); err != nil {
		_ = ln.Close()
		_ = adminL.Close()
		return err
	}
	h.router.OnUnknown = func(name string, remote net.Addr) {
		klog.V(2).InfoS("connection for unknown tenant closed", "serverName", name, "remote", remote)
	}
	go func() { _ = h.router.Serve(ln) }()
	h.admin = &http.Server{Handler: h.adminHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = h.admin.Serve(adminL) }()
	h.stopRenew = make(chan struct{})
	go h.renewLoop(h.opts.RenewInterval, h.stopRenew)
	return nil
}

// URL is the https URL every tenant is served at (with its own server name).
func (h *Host) URL() string {
	if h.opts.AdvertiseURL != "" {
		return h.opts.AdvertiseURL
	}
	return "https://" + h.ln.Addr().String()
}

// AdminURL is the admin port's http URL.
func (h *Host) AdminURL() string { return "http://" + h.adminL.Addr().String() }

// ServerName is the TLS server name of a tenant.
func (h *Host) ServerName(tenant string) string { return tenant + "." + h.opts.Domain }

// PathPrefix is the path a tenant's server URL carries, /tenants/<name>. Routing is by
// server name; the path keeps tenants' URLs distinct for clients that cache per URL.
func (h *Host) PathPrefix(tenant string) string { return "/tenants/" + tenant }

// Add starts a tenant and returns once its API answers. Adding a tenant that runs is an
// error; its state directory (PKI) is reused when it exists.
func (h *Host) Add(ctx context.Context, spec TenantSpec) (*Tenant, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	h.mu.Lock()
	if _, ok := h.tenants[spec.Name]; ok {
		h.mu.Unlock()
		return nil, fmt.Errorf("tenant %s already runs on this host", spec.Name)
	}
	t := newTenant(h, spec)
	h.tenants[spec.Name] = t
	h.mu.Unlock()

	if err := t.start(ctx); err != nil {
		h.mu.Lock()
		delete(h.tenants, spec.Name)
		h.mu.Unlock()
		t.stop()
		return nil, err
	}
	if err := writeRecord(t.dir, record{TenantSpec: spec}); err != nil {
		return t, fmt.Errorf("tenant %s runs but was not recorded for restarts: %w", spec.Name, err)
	}
	return t, nil
}

// Restore adds again every tenant this host served when it stopped (those not removed),
// so that a restarted host comes back with all its tenants and their data. It returns
// the tenants it could not start, each with its error; the others run.
func (h *Host) Restore(ctx context.Context) error {
	specs, err := readRunnableSpecs(filepath.Join(h.opts.DataDir, "tenants"))
	if err != nil {
		return err
	}
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, spec := range specs {
		wg.Go(func() {
			if _, err := h.Add(ctx, spec); err != nil {
				errs[i] = fmt.Errorf("restore tenant %s: %w", spec.Name, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ErrTenantNotFound is returned for a tenant the host neither runs nor has a record of.
var ErrTenantNotFound = errors.New("tenant not found on this host")

// Remove stops a tenant and frees what it held. Without deleteData its record stays,
// marked stopped, so that adding it again (or deleting its data later) finds its state
// and Restore does not bring it back. With deleteData its etcd keys, its etcd user and
// role (when the datastore has auth) and its PKI are deleted too. Both work for a tenant
// that is already stopped; a tenant the host never had is ErrTenantNotFound.
func (h *Host) Remove(ctx context.Context, name string, deleteData bool) error {
	h.mu.Lock()
	t, running := h.tenants[name]
	delete(h.tenants, name)
	h.mu.Unlock()
	dir := h.tenantDir(name)
	rec, err := readRecord(dir)
	switch {
	case running:
		t.stop()
		kubeapiserver.ForgetTenantMetrics(name)
		rec = record{TenantSpec: t.spec}
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("tenant %s: %w", name, ErrTenantNotFound)
	case err != nil:
		return err
	}
	if !deleteData {
		rec.Stopped = true
		return writeRecord(dir, rec)
	}
	if _, err := h.opts.Datastore.DeletePrefix(ctx, rec.prefix()); err != nil {
		return err
	}
	if err := h.opts.Datastore.DeleteTenantUser(ctx, rec.prefix()); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}

// SetPolicy changes a running tenant's policy in place: the next request is judged by it.
func (h *Host) SetPolicy(name string, p *policy.Policy) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("tenant %s: %w", name, err)
	}
	t, ok := h.Tenant(name)
	if !ok {
		return fmt.Errorf("tenant %s: %w", name, ErrTenantNotFound)
	}
	if reflect.DeepEqual(t.policy.Load(), p) {
		return nil
	}
	t.policy.Store(p)
	t.mu.Lock()
	t.spec.Policy = p
	spec := t.spec
	t.mu.Unlock()
	return writeRecord(t.dir, record{TenantSpec: spec})
}

// Tenant returns a running tenant.
func (h *Host) Tenant(name string) (*Tenant, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.tenants[name]
	return t, ok
}

// Tenants lists the running tenants by name.
func (h *Host) Tenants() []*Tenant {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*Tenant, 0, len(h.tenants))
	for _, t := range h.tenants {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].spec.Name < out[j].spec.Name })
	return out
}

// Stop stops every tenant and closes the host's ports. Tenant data stays.
func (h *Host) Stop() {
	if h.stopRenew != nil {
		close(h.stopRenew)
		h.stopRenew = nil
	}
	var wg sync.WaitGroup
	for _, t := range h.Tenants() {
		wg.Go(t.stop)
	}
	wg.Wait()
	h.mu.Lock()
	h.tenants = map[string]*Tenant{}
	h.mu.Unlock()
	if h.ln != nil {
		_ = h.ln.Close()
	}
	if h.inCluster != nil {
		h.inCluster.stop()
	}
	if h.admin != nil {
		_ = h.admin.Close()
	}
}

// Kubeconfig returns a tenant's admin kubeconfig.
func (h *Host) Kubeconfig(name string) ([]byte, error) {
	t, ok := h.Tenant(name)
	if !ok {
		return nil, fmt.Errorf("tenant %s does not run on this host", name)
	}
	return t.Kubeconfig()
}

// RESTConfig returns a client configuration for a tenant's admin, through the host port.
func (h *Host) RESTConfig(name string) (*rest.Config, error) {
	kc, err := h.Kubeconfig(name)
	if err != nil {
		return nil, err
	}
	return restConfigFromKubeconfig(kc)
}

func (h *Host) tenantDir(name string) string {
	return filepath.Join(h.opts.DataDir, "tenants", name)
}

func portOf(addr net.Addr) string {
	if tcp, ok := addr.(*net.TCPAddr); ok {
		return strconv.Itoa(tcp.Port)
	}
	_, port, _ := net.SplitHostPort(addr.String())
	return port
}

// record is what the host keeps of a tenant in its directory: its spec (without the
// root PKI, which lives in the PKI directory) and whether it was stopped.
type record struct {
	TenantSpec
	Stopped bool `json:"stopped,omitempty"`
}

// recordPath is where a tenant's record is kept for Restore and Remove.
func recordPath(dir string) string { return filepath.Join(dir, "tenant.json") }

func writeRecord(dir string, rec record) error {
	rec.PKI = nil
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp := recordPath(dir) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, recordPath(dir))
}

func readRecord(dir string) (record, error) {
	var rec record
	b, err := os.ReadFile(recordPath(dir))
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return rec, fmt.Errorf("%s: %w", recordPath(dir), err)
	}
	return rec, nil
}

// readRunnableSpecs returns the specs of the tenants that were running when the host
// stopped: those with a record not marked stopped.
func readRunnableSpecs(tenantsDir string) ([]TenantSpec, error) {
	entries, err := os.ReadDir(tenantsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var specs []TenantSpec
	for _, e := range entries {
		rec, err := readRecord(filepath.Join(tenantsDir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !rec.Stopped {
			specs = append(specs, rec.TenantSpec)
		}
	}
	return specs, nil
}
