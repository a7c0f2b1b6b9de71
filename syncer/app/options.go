// Package app is the syncer command: flags, validation, and the controller-runtime
// manager (leader election, /metrics, /healthz) that runs the syncer.
package app

import (
	"errors"
	"fmt"
	"net"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/syncer/internal/controller"
)

// Options are the syncer flags.
type Options struct {
	Kubeconfig              string
	LeaderElect             bool
	LeaderElectionNamespace string
	MetricsAddress          string
	HealthAddress           string
	Workers                 int
}

// NewCommand returns the syncer command.
func NewCommand() *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "syncer",
		Short: "Sync every running vcp tenant's workloads onto the super cluster",
		Long: "syncer watches the running VirtualClusters of the super cluster, syncs each tenant's namespaces\n" +
			"and pods down into the super cluster with the tenant's isolation applied, and writes the pods'\n" +
			"nodes and status back into the tenant. Tenants are served fairly, by weight.",
		SilenceUsage: true,
		Args:         cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig of the super cluster (default: in-cluster config, then $KUBECONFIG)")
	f.BoolVar(&o.LeaderElect, "leader-elect", true, "elect a leader so that only one of several replicas syncs")
	f.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "vcp-system", "namespace of the leader-election Lease")
	f.StringVar(&o.MetricsAddress, "metrics-bind-address", "127.0.0.1:8082", "address of /metrics; 0 disables it")
	f.StringVar(&o.HealthAddress, "health-probe-bind-address", "127.0.0.1:8083", "address of /healthz and /readyz")
	f.IntVar(&o.Workers, "workers", 16, "objects synced in parallel, across all tenants")
	return cmd
}

// Validate reports the first bad flag, by name.
func (o *Options) Validate() error {
	var errs []error
	for _, a := range []struct{ flag, v string }{{"--metrics-bind-address", o.MetricsAddress}, {"--health-probe-bind-address", o.HealthAddress}} {
		if a.v == "0" {
			continue
		}
		if _, _, err := net.SplitHostPort(a.v); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", a.flag, a.v, err))
		}
	}
	if o.Workers < 1 {
		errs = append(errs, fmt.Errorf("--workers must be at least 1, got %d", o.Workers))
	}
	if o.LeaderElect && o.LeaderElectionNamespace == "" {
		errs = append(errs, errors.New("--leader-election-namespace is required with --leader-elect"))
	}
	return errors.Join(errs...)
}

// Run runs the syncer until SIGTERM or SIGINT.
func (o *Options) Run() error {
	ctrl.SetLogger(zap.New())
	var cfg *rest.Config
	var err error
	if o.Kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	} else {
		cfg, err = ctrl.GetConfig()
	}
	if err != nil {
		return fmt.Errorf("super-cluster client config: %w", err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := tenancyv1alpha1.AddToScheme(scheme); err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme,
		LeaderElection:                o.LeaderElect,
		LeaderElectionID:              "syncer.tenancy.vcp.dev",
		LeaderElectionNamespace:       o.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		Metrics:                       metricsserver.Options{BindAddress: o.MetricsAddress},
		HealthProbeBindAddress:        o.HealthAddress,
	})
	if err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	superClient, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	s := controller.New(superClient, o.Workers)
	if err := mgr.Add(s); err != nil {
		return err
	}
	if err := (&controller.TenantReconciler{Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Syncer: s}).SetupWithManager(mgr); err != nil {
		return err
	}
	return mgr.Start(ctrl.SetupSignalHandler())
}
