// Package app is the vc-manager command: flags, validation and the controller-runtime
// manager that runs the VirtualCluster reconciler with leader election.
package app

import (
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/manager/internal/controller"
)

// Options are the vc-manager flags.
type Options struct {
	Kubeconfig              string
	LeaderElect             bool
	LeaderElectionNamespace string
	MetricsAddress          string
	HealthAddress           string
	MaxConcurrentReconciles int
}

// NewCommand returns the vc-manager command.
func NewCommand() *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "vc-manager",
		Short: "Provision vcp tenants from VirtualCluster objects",
		Long: "vc-manager reconciles VirtualCluster objects in the super cluster: it places each tenant on a\n" +
			"registered tenant-apiserver host, owns its PKI and kubeconfig Secrets, pauses and resumes it,\n" +
			"and removes everything made for it when the VirtualCluster is deleted.",
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
	f.BoolVar(&o.LeaderElect, "leader-elect", true, "elect a leader so that only one of several replicas acts")
	f.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "vcp-system", "namespace of the leader-election Lease")
	f.StringVar(&o.MetricsAddress, "metrics-bind-address", "127.0.0.1:8080", "address of /metrics; 0 disables it")
	f.StringVar(&o.HealthAddress, "health-probe-bind-address", "127.0.0.1:8081", "address of /healthz and /readyz")
	f.IntVar(&o.MaxConcurrentReconciles, "max-concurrent-reconciles", 8, "VirtualClusters provisioned in parallel")
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
	if o.MaxConcurrentReconciles < 1 {
		errs = append(errs, fmt.Errorf("--max-concurrent-reconciles must be at least 1, got %d", o.MaxConcurrentReconciles))
	}
	if o.LeaderElect && o.LeaderElectionNamespace == "" {
		errs = append(errs, errors.New("--leader-election-namespace is required with --leader-elect"))
	}
	return errors.Join(errs...)
}

// Run runs the manager until SIGTERM or SIGINT.
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
	cfg.QPS, cfg.Burst = 50, 100
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := tenancyv1alpha1.AddToScheme(scheme); err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		LeaderElection:          o.LeaderElect,
		LeaderElectionID:        "vc-manager.tenancy.vcp.dev",
		LeaderElectionNamespace: o.LeaderElectionNamespace,
		// Stepping down on SIGTERM lets a standby take over at once.
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
	r := &controller.Reconciler{Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), MaxConcurrentReconciles: o.MaxConcurrentReconciles}
	if err := r.SetupWithManager(mgr); err != nil {
		return err
	}
	ctrl.Log.Info("vc-manager starting", "leaderElect", o.LeaderElect, "pid", os.Getpid())
	return mgr.Start(ctrl.SetupSignalHandler())
}
