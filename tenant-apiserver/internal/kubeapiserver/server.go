// Package kubeapiserver builds and runs one tenant's Kubernetes API server in-process: the
// upstream chain of apiextensions, kube and aggregator servers from
// k8s.io/kubernetes/cmd/kube-apiserver/app, configured with the same flags the
// kube-apiserver binary takes, serving on a listener the host gives it.
//
// The configuration is lean: no watch cache, no API priority and fairness, no endpoint
// reconciler, and API groups a virtual cluster has no use for turned off.
package kubeapiserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/pflag"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/rest"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	"k8s.io/kubernetes/cmd/kube-apiserver/app/options"

	"github.com/vcp-dev/vcp/tenant-apiserver/internal/fairshare"
	"github.com/vcp-dev/vcp/tenant-apiserver/policy"
)

// Config is what one tenant's API server needs.
type Config struct {
	// Name of the tenant, for errors and logs.
	Name string
	// Listener serves the tenant's API. Its Addr is what loopback clients dial.
	Listener net.Listener
	// EtcdServers, and the client TLS files when etcd needs them.
	EtcdServers              []string
	EtcdCAFile, EtcdCertFile string
	EtcdKeyFile              string
	// EtcdPrefix is the tenant's key prefix without the trailing slash, e.g. /vcp/<uid>.
	EtcdPrefix string
	// ServingCertFile and ServingKeyFile are the tenant's serving certificate.
	ServingCertFile, ServingKeyFile string
	// ClientCAFile verifies client certificates.
	ClientCAFile string
	// ServiceAccountKeyFile signs service-account tokens; ServiceAccountPubFile verifies them.
	ServiceAccountKeyFile, ServiceAccountPubFile string
	// Issuer is the tenant's service-account issuer URL, unique per tenant.
	Issuer string
	// ProxyClientCertFile, ProxyClientKeyFile and RequestHeaderCAFile let the aggregator
	// authenticate to the tenant's aggregated API servers.
	ProxyClientCertFile, ProxyClientKeyFile, RequestHeaderCAFile string
	// DisabledAPIs are extra group/versions to turn off (VirtualCluster
	// spec.kubernetesAPI.disabledAPIs).
	DisabledAPIs []string
	// PathPrefix, such as /tenants/a, is stripped from request paths. Tenants on one host
	// share its address; a per-tenant path keeps their server URLs (and so the discovery
	// caches kubectl keys by URL) apart. Requests without the prefix are served too.
	PathPrefix string
	// ServiceClusterIPRange is the tenant's Service CIDR. It must be the super cluster's:
	// the syncer gives tenant Services the cluster IPs of their super copies. Empty means
	// 10.96.0.0/16, the usual default.
	ServiceClusterIPRange string
	// Policy, when set, returns the platform's current policy for the tenant, enforced by
	// the VCPTenantPolicy admission plugin on every request.
	Policy func() *policy.Policy
	// Fairness, when set, is the host's request slots, shared fairly among its tenants
	// (withFairShare).
	Fairness *fairshare.Dispatcher
	// ExtraFlags are appended last and so win.
	ExtraFlags []string
}

// leanRuntimeConfig turns off APIs a tenant has no use for, because only the super
// cluster acts on them: internal storage-version bookkeeping and storage migration; API
// Priority and Fairness (off in tenants, so its objects would configure nothing); dynamic
// resource allocation (devices are the super cluster's, and no tenant controller or the
// syncer handles claims); and the CSI bookkeeping of kubelets, the attach/detach
// controller and the scheduler (CSINode, VolumeAttachment, CSIStorageCapacity,
// CSIDriver). Every served resource costs each tenant its storage, routes, OpenAPI
// models, table printers and a garbage-collector and quota watch (~13 goroutines).
var leanRuntimeConfig = []string{
	"internal.apiserver.k8s.io/v1alpha1=false",
	"storagemigration.k8s.io/v1beta1=false",
	"flowcontrol.apiserver.k8s.io/v1=false",
	"resource.k8s.io/v1=false",
	"storage.k8s.io/v1/csinodes=false",
	"storage.k8s.io/v1/volumeattachments=false",
	"storage.k8s.io/v1/csistoragecapacities=false",
	"storage.k8s.io/v1/csidrivers=false",
}

// DefaultServiceClusterIPRange is the tenants' Service CIDR unless the host is told the
// super cluster's.
const DefaultServiceClusterIPRange = "10.96.0.0/16"

// Flags returns the kube-apiserver flags for cfg.
func (cfg *Config) Flags() []string {
	runtimeConfig := append([]string(nil), leanRuntimeConfig...)
	for _, gv := range cfg.DisabledAPIs {
		if gv == "v1" {
			gv = "api/v1"
		}
		runtimeConfig = append(runtimeConfig, gv+"=false")
	}
	flags := []string{
		"--etcd-servers=" + strings.Join(cfg.EtcdServers, ","),
		"--etcd-prefix=" + cfg.EtcdPrefix,
		"--watch-cache=false",
		// One compactor per tenant would compact the shared etcd N times over, and a tenant's
		// etcd user may not write the global compaction key: etcd compacts itself.
		"--etcd-compaction-interval=0",
		"--enable-priority-and-fairness=false",
		"--endpoint-reconciler-type=none",
		"--bind-address=127.0.0.1",
		"--tls-cert-file=" + cfg.ServingCertFile,
		"--tls-private-key-file=" + cfg.ServingKeyFile,
		"--client-ca-file=" + cfg.ClientCAFile,
		"--authorization-mode=RBAC",
		"--anonymous-auth=true",
		"--service-account-issuer=" + cfg.Issuer,
		"--service-account-key-file=" + cfg.ServiceAccountPubFile,
		"--service-account-signing-key-file=" + cfg.ServiceAccountKeyFile,
		"--service-cluster-ip-range=" + cmp.Or(cfg.ServiceClusterIPRange, DefaultServiceClusterIPRange),
		"--allow-privileged=true",
		"--profiling=false",
		"--runtime-config=" + strings.Join(runtimeConfig, ","),
		// Tenants have no kubelets of their own: nodes are virtual.
		"--kubelet-preferred-address-types=InternalIP",
	}
	if cfg.EtcdCAFile != "" {
		flags = append(flags, "--etcd-cafile="+cfg.EtcdCAFile, "--etcd-certfile="+cfg.EtcdCertFile, "--etcd-keyfile="+cfg.EtcdKeyFile)
	}
	if cfg.ProxyClientCertFile != "" {
		flags = append(flags,
			"--proxy-client-cert-file="+cfg.ProxyClientCertFile,
			"--proxy-client-key-file="+cfg.ProxyClientKeyFile,
			"--requestheader-client-ca-file="+cfg.RequestHeaderCAFile,
			"--requestheader-allowed-names=front-proxy-client",
			"--requestheader-username-headers=X-Remote-User",
			"--requestheader-group-headers=X-Remote-Group",
			"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		)
	}
	return append(flags, cfg.ExtraFlags...)
}

// Server is a tenant API server that has been built but may not run yet.
type Server struct {
	name      string
	loopback  *rest.Config
	informers informers.SharedInformerFactory
	prepared  interface{ Run(context.Context) error }
	storages  *storages
	handler   http.Handler
}

// optionsMu serialises option completion: it sets process-wide component globals.
var optionsMu sync.Mutex

// New builds the tenant's server chain. Nothing runs until Run.
func New(ctx context.Context, cfg Config) (_ *Server, err error) {
	if cfg.Listener == nil {
		return nil, errors.New("kubeapiserver: a listener is required")
	}
	s := options.NewServerRunOptions()
	if cfg.Policy != nil {
		registerPolicyPlugin(s.Admission, cfg.Policy)
	}
	fs := pflag.NewFlagSet(cfg.Name, pflag.ContinueOnError)
	for _, f := range s.Flags().FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse(cfg.Flags()); err != nil {
		return nil, fmt.Errorf("tenant %s: flags: %w", cfg.Name, err)
	}
	s.SecureServing.Listener = cfg.Listener
	if tcp, ok := cfg.Listener.Addr().(*net.TCPAddr); ok {
		s.SecureServing.BindPort = tcp.Port
		s.SecureServing.ExternalAddress = tcp.IP
	} else if _, port, err := net.SplitHostPort(cfg.Listener.Addr().String()); err == nil {
		s.SecureServing.BindPort, _ = strconv.Atoi(port)
	}
	// The serving certificate comes from files; nothing is written next to them.
	s.SecureServing.ServerCert.CertDirectory = ""

	optionsMu.Lock()
	err = s.GenericServerRunOptions.ComponentGlobalsRegistry.Set()
	var completed options.CompletedOptions
	if err == nil {
		completed, err = s.Complete(ctx)
	}
	optionsMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("tenant %s: complete options: %w", cfg.Name, err)
	}
	if errs := completed.Validate(); len(errs) != 0 {
		return nil, fmt.Errorf("tenant %s: invalid options: %w", cfg.Name, utilerrors.NewAggregate(errs))
	}
	made := &storages{}
	defer func() {
		if err != nil {
			made.destroyAll() // what a half-built chain made
		}
	}()
	config, err := newConfig(completed, made)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: config: %w", cfg.Name, err)
	}
	// The aggregator is the outermost server: its handler chain is what the listener serves.
	generic := &config.Aggregator.GenericConfig.Config
	build := generic.BuildHandlerChainFunc
	generic.BuildHandlerChainFunc = func(h http.Handler, c *genericapiserver.Config) http.Handler {
		if cfg.Fairness != nil {
			h = withFairShare(cfg.Fairness, cfg.Name, c.LongRunningFunc, h)
		}
		h = build(h, c)
		if cfg.PathPrefix != "" {
			h = StripPathPrefix(cfg.PathPrefix, h)
		}
		return instrumentTenant(cfg.Name, h)
	}
	openAPIV3Config := config.KubeAPIs.ControlPlane.Generic.OpenAPIV3Config
	versionedInformers := config.KubeAPIs.ControlPlane.VersionedInformers
	done, err := config.Complete()
	if err != nil {
		return nil, err
	}
	chain, err := app.CreateServerChain(done)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: server chain: %w", cfg.Name, err)
	}
	if err := addBootstrapHooks(chain.GenericAPIServer); err != nil {
		return nil, fmt.Errorf("tenant %s: %w", cfg.Name, err)
	}
	prepared, err := chain.PrepareRun()
	if err != nil {
		return nil, fmt.Errorf("tenant %s: prepare: %w", cfg.Name, err)
	}
	// The aggregator delegates to the kube server, whose own OpenAPI v3 installation was
	// skipped in newConfig.
	kube, ok := chain.GenericAPIServer.NextDelegate().(*genericapiserver.GenericAPIServer)
	if !ok {
		return nil, fmt.Errorf("tenant %s: the aggregator's delegate is %T, not the kube server", cfg.Name, chain.GenericAPIServer.NextDelegate())
	}
	installSharedOpenAPIV3(kube, openAPIV3Config)
	// The apiextensions server publishes CRDs' OpenAPI v3 documents only when it has a
	// static v2 spec, which it gets only when it serves /openapi/v2, dropped in newConfig:
	// without this, no custom resource ever appeared in /openapi/v3 (kubectl explain).
	// An empty spec starts the v3 publisher; the v2 one also needs a v2 service, and stays
	// off.
	if extensions, ok := kube.NextDelegate().(*genericapiserver.GenericAPIServer); ok && extensions.StaticOpenAPISpec == nil {
		extensions.StaticOpenAPISpec = &spec.Swagger{}
	}
	return &Server{name: cfg.Name, loopback: chain.GenericAPIServer.LoopbackClientConfig, informers: versionedInformers, prepared: prepared, storages: made, handler: chain.GenericAPIServer.Handler}, nil
}

// StripPathPrefix serves paths under prefix as if the prefix were not there, and answers
// 404 for paths under the prefix's parent that name another tenant (/tenants/b on a's
// server), so a misrouted request never reaches the wrong tenant's objects.
func StripPathPrefix(prefix string, next http.Handler) http.Handler {
	parent := path.Dir(prefix) + "/"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == prefix || strings.HasPrefix(p, prefix+"/"):
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/" + strings.TrimPrefix(strings.TrimPrefix(p, prefix), "/")
			r2.URL.RawPath = ""
			r2.RequestURI = r2.URL.RequestURI()
			next.ServeHTTP(w, r2)
		case parent != "/" && strings.HasPrefix(p, parent):
			http.Error(w, "this server does not serve "+p, http.StatusNotFound)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// LoopbackConfig is a privileged client configuration of the server itself, for the
// tenant's in-process controllers.
func (s *Server) LoopbackConfig() *rest.Config {
	return rest.CopyConfig(s.loopback)
}

// Handler is the server's whole handler chain (authentication and all), for requests that
// reach the tenant other than through its listener: the host's in-cluster front, which
// did the TLS handshake itself.
func (s *Server) Handler() http.Handler { return s.handler }

// Informers is the server's own informer factory over its loopback client (started by
// the server once it serves; it drops managed fields). The tenant's controllers share it:
// a resource both the server (RBAC, namespaces, service accounts, quota, admission
// configuration...) and the controllers watch is then watched and cached once.
func (s *Server) Informers() informers.SharedInformerFactory {
	return s.informers
}

// Run serves until ctx is cancelled and the server has shut down, then releases every
// storage the server built.
func (s *Server) Run(ctx context.Context) error {
	defer s.storages.destroyAll()
	return s.prepared.Run(ctx)
}
