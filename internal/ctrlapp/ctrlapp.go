// Package ctrlapp is what vcp's super-cluster controllers (vc-manager, syncer) share: the
// flags of a controller-runtime manager (super-cluster kubeconfig, leader election,
// metrics and health addresses), their validation, and building the manager.
package ctrlapp

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
)

// Options are the flags every super-cluster controller takes.
type Options struct {
	Kubeconfig              string
	LeaderElect             bool
	LeaderElectionNamespace string
	MetricsAddress          string
	HealthAddress           string
	Profiling               bool
}

// AddFlags registers the options; metrics and health default to the given addresses.
func (o *Options) AddFlags(f *pflag.FlagSet, metrics, health string) {
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig of the super cluster (default: in-cluster config, then $KUBECONFIG)")
	f.BoolVar(&o.LeaderElect, "leader-elect", true, "elect a leader so that only one of several replicas acts")
	f.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "vcp-system", "namespace of the leader-election Lease")
	f.StringVar(&o.MetricsAddress, "metrics-bind-address", metrics, "address of /metrics; 0 disables it")
	f.StringVar(&o.HealthAddress, "health-probe-bind-address", health, "address of /healthz and /readyz")
	f.BoolVar(&o.Profiling, "profiling", false, "serve Go's profiles under /debug/pprof/ on the metrics address")
}

// Validate reports every bad flag, by name.
func (o *Options) Validate() []error {
	var errs []error
	for _, a := range []struct{ flag, v string }{{"--metrics-bind-address", o.MetricsAddress}, {"--health-probe-bind-address", o.HealthAddress}} {
		if a.v == "0" {
			continue
		}
		if _, _, err := net.SplitHostPort(a.v); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", a.flag, a.v, err))
		}
	}
	if o.LeaderElect && o.LeaderElectionNamespace == "" {
		errs = append(errs, errors.New("--leader-election-namespace is required with --leader-elect"))
	}
	return errs
}

// NewManager builds a controller-runtime manager for the super cluster with the tenancy
// API in its scheme, leader election under leaderElectionID, and /healthz and /readyz.
// The returned config has qps/burst set, for clients the caller builds beside the manager.
func (o *Options) NewManager(leaderElectionID string, qps float32, burst int) (ctrl.Manager, *rest.Config, error) {
	ctrl.SetLogger(zap.New())
	var cfg *rest.Config
	var err error
	if o.Kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	} else {
		cfg, err = ctrl.GetConfig()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("super-cluster client config: %w", err)
	}
	cfg.QPS, cfg.Burst = qps, burst
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, nil, err
	}
	if err := tenancyv1alpha1.AddToScheme(scheme); err != nil {
		return nil, nil, err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		LeaderElection:          o.LeaderElect,
		LeaderElectionID:        leaderElectionID,
		LeaderElectionNamespace: o.LeaderElectionNamespace,
		// Stepping down on SIGTERM lets a standby take over at once.
		LeaderElectionReleaseOnCancel: true,
		Metrics:                       metricsserver.Options{BindAddress: o.MetricsAddress, ExtraHandlers: o.profilingHandlers()},
		HealthProbeBindAddress:        o.HealthAddress,
	})
	if err != nil {
		return nil, nil, err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, nil, err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return nil, nil, err
	}
	return mgr, cfg, nil
}

// Protobuf returns a copy of cfg whose clients send and prefer protobuf, as kube's own
// controllers do: decoding a pod from protobuf costs a fraction of the CPU JSON does,
// and a syncer decodes every pod event of every tenant and of the super cluster. Only
// for clients of built-in kinds: custom resources have no protobuf encoding.
func Protobuf(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	return cfg
}

// profilingHandlers are Go's profiles, with --profiling.
func (o *Options) profilingHandlers() map[string]http.Handler {
	if !o.Profiling {
		return nil
	}
	return map[string]http.Handler{
		"/debug/pprof/":        http.HandlerFunc(pprof.Index),
		"/debug/pprof/cmdline": http.HandlerFunc(pprof.Cmdline),
		"/debug/pprof/profile": http.HandlerFunc(pprof.Profile),
		"/debug/pprof/symbol":  http.HandlerFunc(pprof.Symbol),
		"/debug/pprof/trace":   http.HandlerFunc(pprof.Trace),
	}
}
