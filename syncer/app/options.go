// Package app is the syncer command: flags, validation, and the controller-runtime
// manager (leader election, /metrics, /healthz) that runs the syncer.
package app

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/vcp-dev/vcp/internal/ctrlapp"
	"github.com/vcp-dev/vcp/syncer/internal/controller"
)

// Options are the syncer flags.
type Options struct {
	ctrlapp.Options
	Workers           int
	PatrolInterval    time.Duration
	PlatformNamespace string
	TenantQPS         float64
	TenantBurst       int
}

// NewCommand returns the syncer command.
func NewCommand() *cobra.Command {
	o := &Options{}
	cmd := &cobra.Command{
		Use:   "syncer",
		Short: "Sync every running vcp tenant's workloads onto the super cluster",
		Long: "syncer watches the running VirtualClusters of the super cluster, syncs each tenant's namespaces,\n" +
			"pods, ConfigMaps and Secrets down into the super cluster with the tenant's isolation applied, and\n" +
			"writes the pods' nodes and status back into the tenant. Tenants are served fairly, by weight.",
		SilenceUsage: true,
		Args:         cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run()
		},
	}
	o.AddFlags(cmd.Flags(), "127.0.0.1:8082", "127.0.0.1:8083")
	cmd.Flags().IntVar(&o.Workers, "workers", 16, "objects synced in parallel, across all tenants")
	cmd.Flags().Float64Var(&o.TenantQPS, "tenant-qps", 200, "objects of one tenant synced per second at most (each sync writes at most a couple of super objects)")
	cmd.Flags().IntVar(&o.TenantBurst, "tenant-burst", 400, "syncs one tenant may make at once above --tenant-qps")
	cmd.Flags().StringVar(&o.PlatformNamespace, "platform-namespace", "vcp-system", "namespace the platform runs in: tenants' VPC network policies let traffic to and from it (the tenant API servers) through")
	cmd.Flags().DurationVar(&o.PatrolInterval, "patrol-interval", time.Minute, "how often super namespaces of tenants that no longer exist are looked for and removed")
	return cmd
}

// Validate reports every bad flag, by name.
func (o *Options) Validate() error {
	errs := o.Options.Validate()
	if o.Workers < 1 {
		errs = append(errs, fmt.Errorf("--workers must be at least 1, got %d", o.Workers))
	}
	if errs2 := validation.IsDNS1123Label(o.PlatformNamespace); len(errs2) > 0 {
		errs = append(errs, fmt.Errorf("--platform-namespace %q: %s", o.PlatformNamespace, strings.Join(errs2, "; ")))
	}
	if o.TenantQPS <= 0 {
		errs = append(errs, fmt.Errorf("--tenant-qps must be positive, got %v", o.TenantQPS))
	}
	if o.TenantBurst < 1 {
		errs = append(errs, fmt.Errorf("--tenant-burst must be at least 1, got %d", o.TenantBurst))
	}
	if o.PatrolInterval < time.Second {
		errs = append(errs, fmt.Errorf("--patrol-interval must be at least 1s, got %s", o.PatrolInterval))
	}
	return errors.Join(errs...)
}

// Run runs the syncer until SIGTERM or SIGINT.
func (o *Options) Run() error {
	mgr, cfg, err := o.NewManager("syncer.tenancy.vcp.dev", 200, 400)
	if err != nil {
		return err
	}
	superClient, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	s := controller.New(superClient, o.Workers)
	s.PlatformNamespace, s.TenantQPS, s.TenantBurst = o.PlatformNamespace, o.TenantQPS, o.TenantBurst
	if err := mgr.Add(s); err != nil {
		return err
	}
	if err := mgr.Add(&controller.Patroller{VirtualClusters: mgr.GetClient(), Syncer: s, Interval: o.PatrolInterval}); err != nil {
		return err
	}
	if err := (&controller.TenantReconciler{Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Syncer: s}).SetupWithManager(mgr); err != nil {
		return err
	}
	return mgr.Start(ctrl.SetupSignalHandler())
}
