// Package app is the vc-manager command: flags, validation and the controller-runtime
// manager that runs the VirtualCluster reconciler with leader election.
package app

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/vcp-dev/vcp/internal/ctrlapp"
	"github.com/vcp-dev/vcp/manager/internal/controller"
)

// Options are the vc-manager flags.
type Options struct {
	ctrlapp.Options
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
	o.AddFlags(cmd.Flags(), "127.0.0.1:8080", "127.0.0.1:8081")
	cmd.Flags().IntVar(&o.MaxConcurrentReconciles, "max-concurrent-reconciles", 8, "VirtualClusters provisioned in parallel")
	return cmd
}

// Validate reports every bad flag, by name.
func (o *Options) Validate() error {
	errs := o.Options.Validate()
	if o.MaxConcurrentReconciles < 1 {
		errs = append(errs, fmt.Errorf("--max-concurrent-reconciles must be at least 1, got %d", o.MaxConcurrentReconciles))
	}
	return errors.Join(errs...)
}

// Run runs the manager until SIGTERM or SIGINT.
func (o *Options) Run() error {
	mgr, _, err := o.NewManager("vc-manager.tenancy.vcp.dev", 50, 100)
	if err != nil {
		return err
	}
	r := &controller.Reconciler{Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), MaxConcurrentReconciles: o.MaxConcurrentReconciles}
	if err := r.SetupWithManager(mgr); err != nil {
		return err
	}
	ctrl.Log.Info("vc-manager starting", "leaderElect", o.LeaderElect, "pid", os.Getpid())
	return mgr.Start(ctrl.SetupSignalHandler())
}
