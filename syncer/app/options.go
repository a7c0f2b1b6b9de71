// Package app is the syncer command: flags, validation, and the controller-runtime
// manager (leader election, /metrics, /healthz) that runs the syncer.
package app

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/vcp-dev/vcp/internal/clusterdomain"
	"github.com/vcp-dev/vcp/internal/ctrlapp"
	"github.com/vcp-dev/vcp/syncer/internal/controller"
)

// Options are the syncer flags.
type Options struct {
	ctrlapp.Options
	Workers           int
	PatrolInterval    time.Duration
	KubeconfigRecheck time.Duration
	PlatformNamespace string
	TenantQPS         float64
	TenantBurst       int
	TokenLifetime     time.Duration
	ClusterDomain     string
	GCPercent         int
}

// DefaultGCPercent is the syncer's garbage-collector target (GOGC). The syncer's memory
// is its caches of every tenant object and super object it syncs; Go's default of 100
// lets the heap grow to twice them between collections. At 50 it grows half as far, for
// a little more of the syncer's CPU (make bench-sync shows both: P6 and the syncer's CPU
// in P3).
const DefaultGCPercent = 50

// NewCommand returns the syncer command.
func NewCommand() *cobra.Command { return newCommand(&Options{}) }

func newCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "syncer",
		Short: "Sync every running vcp tenant's workloads onto the super cluster",
		Long: "syncer watches the running VirtualClusters of the super cluster, syncs each tenant's namespaces,\n" +
			"pods, ConfigMaps, Secrets, Services, NetworkPolicies and more down into the super cluster with the\n" +
			"tenant's isolation applied, keeps the tenant service-account tokens its pods mount, and writes the\n" +
			"pods' nodes and status back into the tenant. Tenants are served fairly, by weight.",
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
	cmd.Flags().DurationVar(&o.TokenLifetime, "token-lifetime", time.Hour, "lifetime of the tenant service-account tokens minted for tenant pods (renewed at 80% of it)")
	cmd.Flags().StringVar(&o.ClusterDomain, "cluster-domain", clusterdomain.Default, "domain tenant Services are named under in the tenants' own DNS (as a kubelet's clusterDomain): pods of a tenant with a kube-system/kube-dns Service search <namespace>.svc.<domain>, svc.<domain> and <domain>")
	cmd.Flags().DurationVar(&o.PatrolInterval, "patrol-interval", time.Minute, "how often super namespaces of tenants that no longer exist are looked for and removed")
	cmd.Flags().DurationVar(&o.KubeconfigRecheck, "kubeconfig-recheck", controller.DefaultKubeconfigRecheck, "how often each running tenant's kubeconfig Secret is read again; a changed one (renewed credentials, another host) restarts the tenant's session")
	cmd.Flags().IntVar(&o.GCPercent, "gc-percent", DefaultGCPercent, "garbage-collector target (as GOGC): how far the heap may grow past the live caches before a collection, in percent; -1 leaves Go's (or the GOGC environment variable's) alone")
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
	if o.TokenLifetime < 10*time.Minute || o.TokenLifetime%time.Second != 0 {
		errs = append(errs, fmt.Errorf("--token-lifetime must be whole seconds and at least 10m (the TokenRequest API's minimum), got %s", o.TokenLifetime))
	}
	if err := clusterdomain.ValidateFlag("--cluster-domain", o.ClusterDomain); err != nil {
		errs = append(errs, err)
	}
	if o.GCPercent == 0 || o.GCPercent < -1 {
		errs = append(errs, fmt.Errorf("--gc-percent must be positive or -1, got %d", o.GCPercent))
	}
	if o.PatrolInterval < time.Second {
		errs = append(errs, fmt.Errorf("--patrol-interval must be at least 1s, got %s", o.PatrolInterval))
	}
	if o.KubeconfigRecheck < time.Second {
		errs = append(errs, fmt.Errorf("--kubeconfig-recheck must be at least 1s, got %s", o.KubeconfigRecheck))
	}
	return errors.Join(errs...)
}

// Run runs the syncer until SIGTERM or SIGINT.
func (o *Options) Run() error {
	if o.GCPercent > 0 {
		debug.SetGCPercent(o.GCPercent)
	}
	mgr, cfg, err := o.NewManager("syncer.tenancy.vcp.dev", 200, 400)
	if err != nil {
		return err
	}
	superClient, err := kubernetes.NewForConfig(ctrlapp.Protobuf(cfg))
	if err != nil {
		return err
	}
	s := controller.New(superClient, o.Workers)
	s.PlatformNamespace, s.TenantQPS, s.TenantBurst, s.TokenLifetime, s.ClusterDomain = o.PlatformNamespace, o.TenantQPS, o.TenantBurst, o.TokenLifetime, o.ClusterDomain
	if err := mgr.Add(s); err != nil {
		return err
	}
	if err := mgr.Add(&controller.Patroller{VirtualClusters: mgr.GetClient(), Syncer: s, Interval: o.PatrolInterval}); err != nil {
		return err
	}
	if err := (&controller.TenantReconciler{Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Syncer: s, KubeconfigRecheck: o.KubeconfigRecheck}).SetupWithManager(mgr); err != nil {
		return err
	}
	return mgr.Start(ctrl.SetupSignalHandler())
}
