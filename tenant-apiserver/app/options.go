// Package app is the tenant-apiserver command: flags, validation and the run loop of a
// host process serving many tenants' API servers.
package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/internal/clusterdomain"
	"github.com/vcp-dev/vcp/tenant-apiserver/datastore"
	"github.com/vcp-dev/vcp/tenant-apiserver/host"
)

// Options are the tenant-apiserver flags.
type Options struct {
	ListenAddress              string
	AdminAddress               string
	DataDir                    string
	Domain                     string
	ClusterDomain              string
	EtcdServers                []string
	EtcdCAFile                 string
	EtcdCertFile               string
	EtcdKeyFile                string
	AdminTokenFile             string
	Tenants                    []string
	DisableControllers         bool
	ReadyTimeout               time.Duration
	RenewInterval              time.Duration
	BuildGCPercent             int
	MaxConcurrentBuilds        int
	MaxInflightRequests        int
	MaxQueuedRequestsPerTenant int
	EmbeddedEtcdAuth           bool
	EmbeddedEtcdPort           int

	// Registration with the super cluster (a TenantHost object).
	Register           bool
	RegisterKubeconfig string
	HostName           string
	AdvertiseURL       string
	AdminAdvertiseURL  string
	AdminTokenSecret   string
	Capacity           int32
	ServiceCIDR        string
	Dedicated          bool
}

// NewCommand returns the tenant-apiserver command.
func NewCommand() *cobra.Command { return newCommand(&Options{}) }

func newCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tenant-apiserver",
		Short: "Serve many tenants' Kubernetes API servers from one process and one port",
		Long: "tenant-apiserver runs upstream kube-apiserver chains for many tenants in one process,\n" +
			"routes connections to them by TLS server name on one port, and runs each tenant's\n" +
			"controllers. Tenants are added and removed at runtime through the admin port.",
		SilenceUsage: true,
		Args:         cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return o.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.ListenAddress, "listen-address", "127.0.0.1:6443", "the one TLS address all tenants are served on")
	f.StringVar(&o.AdminAddress, "admin-address", "127.0.0.1:6444", "address of /healthz, /readyz, /metrics and the tenant API")
	f.StringVar(&o.DataDir, "data-dir", "", "directory for tenants' PKI and the embedded etcd (required)")
	f.StringVar(&o.Domain, "domain", "tenants.vcp.local", "tenant NAME is served as NAME.DOMAIN (TLS server name)")
	f.StringVar(&o.ClusterDomain, "cluster-domain", clusterdomain.Default, "the super kubelets' cluster domain: every tenant's pods also reach their API server as kubernetes.default.svc.DOMAIN (and its shorter forms), served for all tenants and routed by the request's service-account token")
	f.StringSliceVar(&o.EtcdServers, "etcd-servers", nil, "external etcd client URLs; empty runs an embedded etcd in --data-dir")
	f.StringVar(&o.EtcdCAFile, "etcd-cafile", "", "CA of the external etcd")
	f.StringVar(&o.EtcdCertFile, "etcd-certfile", "", "client certificate for the external etcd")
	f.StringVar(&o.EtcdKeyFile, "etcd-keyfile", "", "client key for the external etcd")
	f.StringVar(&o.AdminTokenFile, "admin-token-file", "", "file with a bearer token the tenant API on the admin port requires")
	f.StringArrayVar(&o.Tenants, "tenant", nil, "NAME=UID of a tenant to serve from the start (repeatable)")
	f.BoolVar(&o.DisableControllers, "disable-controllers", false, "serve tenant APIs without their controllers")
	f.DurationVar(&o.ReadyTimeout, "tenant-ready-timeout", time.Minute, "how long a new tenant may take to answer")
	f.DurationVar(&o.RenewInterval, "certificate-renew-interval", host.DefaultRenewInterval, "how often running tenants' certificates are checked and renewed when they expire within 60 days")
	f.IntVar(&o.MaxInflightRequests, "max-inflight-requests", 0, "requests served at once across all tenants (watches and the tenants' own loopback requests aside); when more wait, free slots go to the tenants in turn, so one tenant's burst cannot starve the others (0: 16×GOMAXPROCS, at least 32; -1: no limit)")
	f.IntVar(&o.MaxQueuedRequestsPerTenant, "max-queued-requests-per-tenant", 500, "requests of one tenant that may wait for a slot; more are answered 429 Too Many Requests")
	f.IntVar(&o.MaxConcurrentBuilds, "max-concurrent-builds", 0, "tenant servers built (and their controllers started) at once; the others wait their turn (0: GOMAXPROCS)")
	f.IntVar(&o.BuildGCPercent, "build-gc-percent", host.DefaultBuildGCPercent, "GOGC while a tenant is being built (fewer half-empty heap spans per tenant afterwards); -1 leaves GOGC alone")
	f.BoolVar(&o.EmbeddedEtcdAuth, "embedded-etcd-auth", false, "serve the embedded etcd over TLS with client-certificate auth and give each tenant an etcd user limited to its prefix")
	f.IntVar(&o.EmbeddedEtcdPort, "embedded-etcd-port", 0, "loopback port the embedded etcd serves clients on (0: a free one)")
	f.BoolVar(&o.Register, "register", false, "register this host as a TenantHost in the super cluster and heartbeat (in-cluster config unless --register-kubeconfig)")
	f.StringVar(&o.RegisterKubeconfig, "register-kubeconfig", "", "kubeconfig of the super cluster to register with (implies --register)")
	f.StringVar(&o.HostName, "host-name", "", "name of this host's TenantHost object (default: the machine's host name)")
	f.StringVar(&o.AdvertiseURL, "advertise-url", "", "https URL clients reach --listen-address at, written into kubeconfigs (default: the listening address)")
	f.StringVar(&o.AdminAdvertiseURL, "admin-advertise-url", "", "URL the vc-manager reaches --admin-address at (default: the listening address)")
	f.StringVar(&o.AdminTokenSecret, "admin-token-secret", "", "NAMESPACE/NAME/KEY of the super-cluster Secret holding the --admin-token-file token, advertised to the vc-manager")
	f.Int32Var(&o.Capacity, "capacity", 50, "most tenants the vc-manager places on this host")
	f.StringVar(&o.ServiceCIDR, "service-cluster-ip-range", "10.96.0.0/16", "the super cluster's Service CIDR, which tenants share: the syncer gives each tenant Service its super copy's cluster IP")
	f.BoolVar(&o.Dedicated, "dedicated", false, "take only one tenant that asked for a dedicated host")
	return cmd
}

// Complete fills in derived values.
func (o *Options) Complete() error {
	if o.DataDir != "" {
		abs, err := filepath.Abs(o.DataDir)
		if err != nil {
			return err
		}
		o.DataDir = abs
	}
	if o.RegisterKubeconfig != "" {
		o.Register = true
	}
	if o.HostName == "" && o.Register {
		if name, err := os.Hostname(); err == nil {
			o.HostName = strings.ToLower(name)
		}
	}
	return nil
}

var hostNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$`)

var tenantFlagRE = regexp.MustCompile(`^([a-z]([-a-z0-9]{0,38}[a-z0-9])?)=([-A-Za-z0-9_.]{1,128})$`)

// Validate reports the first bad flag, by name.
func (o *Options) Validate() error {
	var errs []error
	if o.DataDir == "" {
		errs = append(errs, errors.New("--data-dir is required"))
	}
	if err := clusterdomain.ValidateFlag("--cluster-domain", o.ClusterDomain); err != nil {
		errs = append(errs, err)
	}
	for _, a := range []struct{ flag, v string }{{"--listen-address", o.ListenAddress}, {"--admin-address", o.AdminAddress}} {
		if _, _, err := net.SplitHostPort(a.v); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", a.flag, a.v, err))
		}
	}
	if o.MaxInflightRequests < -1 {
		errs = append(errs, fmt.Errorf("--max-inflight-requests must be -1 (no limit), 0 (16×GOMAXPROCS, at least 32) or positive, got %d", o.MaxInflightRequests))
	}
	if o.MaxQueuedRequestsPerTenant < 1 {
		errs = append(errs, fmt.Errorf("--max-queued-requests-per-tenant must be positive, got %d", o.MaxQueuedRequestsPerTenant))
	}
	if o.MaxConcurrentBuilds < 0 {
		errs = append(errs, fmt.Errorf("--max-concurrent-builds must be 0 (GOMAXPROCS) or positive, got %d", o.MaxConcurrentBuilds))
	}
	if o.BuildGCPercent == 0 || o.BuildGCPercent < -1 {
		errs = append(errs, fmt.Errorf("--build-gc-percent must be positive or -1, got %d", o.BuildGCPercent))
	}
	if o.RenewInterval <= 0 {
		errs = append(errs, fmt.Errorf("--certificate-renew-interval must be positive, got %s", o.RenewInterval))
	}
	if o.ReadyTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--tenant-ready-timeout must be positive, got %s", o.ReadyTimeout))
	}
	if (o.EtcdCertFile == "") != (o.EtcdKeyFile == "") {
		errs = append(errs, errors.New("--etcd-certfile and --etcd-keyfile go together"))
	}
	if len(o.EtcdServers) == 0 && (o.EtcdCAFile != "" || o.EtcdCertFile != "") {
		errs = append(errs, errors.New("--etcd-cafile/--etcd-certfile need --etcd-servers"))
	}
	if _, _, err := net.ParseCIDR(o.ServiceCIDR); err != nil {
		errs = append(errs, fmt.Errorf("--service-cluster-ip-range %q is not a CIDR such as 10.96.0.0/16: %w", o.ServiceCIDR, err))
	}
	if o.Register {
		if o.HostName == "" {
			errs = append(errs, errors.New("--host-name is required with --register (it could not be derived from the machine)"))
		} else if !hostNameRE.MatchString(o.HostName) {
			errs = append(errs, fmt.Errorf("--host-name %q must be a DNS subdomain (lower-case letters, digits, '-' and '.')", o.HostName))
		}
		if o.Capacity < 1 {
			errs = append(errs, fmt.Errorf("--capacity must be at least 1, got %d", o.Capacity))
		}
		if o.AdminTokenSecret != "" {
			if _, err := parseSecretKeyRef(o.AdminTokenSecret); err != nil {
				errs = append(errs, fmt.Errorf("--admin-token-secret: %w", err))
			}
		}
	}
	if o.AdvertiseURL != "" && !strings.HasPrefix(o.AdvertiseURL, "https://") {
		errs = append(errs, fmt.Errorf("--advertise-url %q must be an https:// URL", o.AdvertiseURL))
	}
	if o.EmbeddedEtcdPort < 0 || o.EmbeddedEtcdPort > 65535 {
		errs = append(errs, fmt.Errorf("--embedded-etcd-port must be a port number, got %d", o.EmbeddedEtcdPort))
	}
	if o.EmbeddedEtcdAuth && len(o.EtcdServers) > 0 {
		errs = append(errs, errors.New("--embedded-etcd-auth applies to the embedded etcd only; it conflicts with --etcd-servers"))
	}
	for _, t := range o.Tenants {
		if !tenantFlagRE.MatchString(t) {
			errs = append(errs, fmt.Errorf("--tenant %q must be NAME=UID with NAME a DNS label starting with a letter", t))
		}
	}
	return errors.Join(errs...)
}

// Run serves until ctx ends.
func (o *Options) Run(ctx context.Context) error {
	var token string
	if o.AdminTokenFile != "" {
		b, err := os.ReadFile(o.AdminTokenFile)
		if err != nil {
			return fmt.Errorf("--admin-token-file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	var ds *datastore.Datastore
	var err error
	if len(o.EtcdServers) == 0 {
		ds, err = datastore.EmbeddedWithOptions(ctx, o.DataDir, datastore.EmbeddedOptions{Auth: o.EmbeddedEtcdAuth, ClientPort: o.EmbeddedEtcdPort})
	} else {
		ds, err = datastore.External(ctx, datastore.ClientConfig{Endpoints: o.EtcdServers, CAFile: o.EtcdCAFile, CertFile: o.EtcdCertFile, KeyFile: o.EtcdKeyFile})
	}
	if err != nil {
		return err
	}
	defer ds.Close()
	h, err := host.New(host.Options{
		ListenAddress: o.ListenAddress, AdminAddress: o.AdminAddress, DataDir: o.DataDir, Domain: o.Domain,
		Datastore: ds, ReadyTimeout: o.ReadyTimeout, RenewInterval: o.RenewInterval, DisableControllers: o.DisableControllers, BuildGCPercent: o.BuildGCPercent, MaxConcurrentBuilds: o.MaxConcurrentBuilds, MaxInflightRequests: o.MaxInflightRequests, MaxQueuedRequestsPerTenant: o.MaxQueuedRequestsPerTenant, AdminToken: token,
		AdvertiseURL: o.AdvertiseURL, ServiceClusterIPRange: o.ServiceCIDR, ClusterDomain: o.ClusterDomain,
	})
	if err != nil {
		return err
	}
	if err := h.Start(); err != nil {
		return err
	}
	defer h.Stop()
	klog.InfoS("tenant-apiserver serving", "url", h.URL(), "admin", h.AdminURL())
	if err := h.Restore(ctx); err != nil {
		klog.ErrorS(err, "some tenants could not be restored")
	}
	if o.Register {
		spec := tenancyv1alpha1.TenantHostSpec{Endpoint: h.URL(), AdminEndpoint: o.AdminAdvertiseURL, Capacity: o.Capacity, Dedicated: o.Dedicated}
		if spec.AdminEndpoint == "" {
			spec.AdminEndpoint = h.AdminURL()
		}
		if o.AdminTokenSecret != "" {
			spec.AdminTokenSecretRef, _ = parseSecretKeyRef(o.AdminTokenSecret)
		}
		reg, err := newRegistration(o.RegisterKubeconfig, o.HostName, spec, h)
		if err != nil {
			return err
		}
		if err := reg.run(ctx); err != nil {
			return err
		}
	}
	for _, t := range o.Tenants {
		name, uid, _ := strings.Cut(t, "=")
		if _, ok := h.Tenant(name); ok {
			continue
		}
		if _, err := h.Add(ctx, host.TenantSpec{Name: name, UID: uid}); err != nil {
			return err
		}
		klog.InfoS("tenant ready", "tenant", name)
	}
	<-ctx.Done()
	klog.InfoS("shutting down")
	return nil
}
