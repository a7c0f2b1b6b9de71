package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
)

// localSuperKubeconfig is the admin kubeconfig of the local platform `make up` starts,
// relative to the vcp checkout.
const localSuperKubeconfig = ".vcp/super/admin.kubeconfig"

const (
	// pollInterval is how often --wait looks at a VirtualCluster.
	pollInterval = 250 * time.Millisecond
	// requestTimeout bounds each request to the super cluster.
	requestTimeout = 30 * time.Second
)

// tenantOptions are the flags of `vcctl tenant` and its subcommands.
type tenantOptions struct {
	kubeconfig    string
	namespace     string
	output        string
	allNamespaces bool

	create createOptions

	wait    bool
	timeout time.Duration

	file  string
	merge bool
}

func newTenantCommand() *cobra.Command {
	o := &tenantOptions{}
	cmd := &cobra.Command{
		Use:   "tenant",
		Short: "Create, inspect and delete tenants (VirtualClusters) of the super cluster",
		Long: "tenant manages VirtualClusters in the super cluster. Without --kubeconfig it uses\n" +
			"$KUBECONFIG, else " + localSuperKubeconfig + " when the local platform (`make up`) runs, else ~/.kube/config.",
		PersistentPreRunE: func(*cobra.Command, []string) error { return validateOutput(o.output) },
	}
	flags := cmd.PersistentFlags()
	flags.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the super cluster")
	flags.StringVarP(&o.namespace, "namespace", "n", "default", "namespace of the VirtualClusters")
	flags.StringVarP(&o.output, "output", "o", "table", "output format: table, yaml or json")

	cmd.AddCommand(o.newCreateCommand(), o.newListCommand(), o.newGetCommand(), o.newDeleteCommand(),
		o.newPauseCommand(true), o.newPauseCommand(false), o.newKubeconfigCommand())
	return cmd
}

func (o *tenantOptions) newListCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the tenants of a namespace, or of all with -A",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return o.list(cmd) },
	}
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "list the tenants of every namespace")
	return cmd
}

func (o *tenantOptions) newGetCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "get NAME",
		Short:             "Show one tenant and its conditions",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: o.completeNames,
		RunE:              func(cmd *cobra.Command, args []string) error { return o.get(cmd, args[0]) },
	}
}

func (o *tenantOptions) newDeleteCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:               "delete NAME",
		Short:             "Delete a tenant and, through the vc-manager, everything made for it",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: o.completeNames,
		RunE:              func(cmd *cobra.Command, args []string) error { return o.delete(cmd, args[0]) },
	}
	cmd.Flags().BoolVar(&o.wait, "wait", false, "wait until the VirtualCluster is gone")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long --wait waits")
	return cmd
}

// newPauseCommand returns `pause` when pause is true, else `resume`.
func (o *tenantOptions) newPauseCommand(pause bool) *cobra.Command {
	use, short := "resume NAME", "Bring a paused tenant's control plane and workloads back"
	if pause {
		use, short = "pause NAME", "Stop a tenant's control plane and workloads, keeping its data"
	}
	return &cobra.Command{
		Use:               use,
		Short:             short,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: o.completeNames,
		RunE:              func(cmd *cobra.Command, args []string) error { return o.setPaused(cmd, args[0], pause) },
	}
}

// loadingRules finds the super cluster's kubeconfig: --kubeconfig, else $KUBECONFIG, else
// the local platform's when it exists, else ~/.kube/config.
func (o *tenantOptions) loadingRules() *clientcmd.ClientConfigLoadingRules {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	switch {
	case o.kubeconfig != "":
		rules.ExplicitPath = o.kubeconfig
	case os.Getenv(clientcmd.RecommendedConfigPathEnvVar) != "":
	default:
		if _, err := os.Stat(localSuperKubeconfig); err == nil {
			rules.ExplicitPath = localSuperKubeconfig
		}
	}
	return rules
}

// newScheme returns a scheme with the core Kubernetes kinds and the tenancy API.
func newScheme() (*runtime.Scheme, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := tenancyv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	return scheme, nil
}

// client returns a client of the super cluster that prints API warnings to cmd's stderr.
func (o *tenantOptions) client(cmd *cobra.Command) (client.Client, error) {
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(o.loadingRules(), &clientcmd.ConfigOverrides{}).ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return nil, errors.New("no kubeconfig of the super cluster found: pass --kubeconfig, set $KUBECONFIG, start the local platform with `make up`, or create ~/.kube/config")
	}
	if err != nil {
		return nil, fmt.Errorf("load the super cluster's kubeconfig: %w", err)
	}
	cfg.WarningHandler = rest.NewWarningWriter(cmd.ErrOrStderr(), rest.WarningWriterOptions{Deduplicate: true})
	if cfg.Timeout == 0 {
		cfg.Timeout = requestTimeout
	}
	scheme, err := newScheme()
	if err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: scheme})
}

// apiError explains errors that mean the super cluster has no VirtualCluster API.
func apiError(err error) error {
	if meta.IsNoMatchError(err) {
		return fmt.Errorf("the super cluster does not serve VirtualClusters (%s): is vcp installed? (%w)", tenancyv1alpha1.GroupVersion, err)
	}
	return err
}

// getTenant reads the VirtualCluster name in the --namespace.
func (o *tenantOptions) getTenant(ctx context.Context, c client.Client, name string) (*tenancyv1alpha1.VirtualCluster, error) {
	vc := &tenancyv1alpha1.VirtualCluster{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: o.namespace, Name: name}, vc); err != nil {
		return nil, apiError(err)
	}
	return vc, nil
}

func (o *tenantOptions) list(cmd *cobra.Command) error {
	c, err := o.client(cmd)
	if err != nil {
		return err
	}
	var opts []client.ListOption
	if !o.allNamespaces {
		opts = append(opts, client.InNamespace(o.namespace))
	}
	list := &tenancyv1alpha1.VirtualClusterList{}
	if err := c.List(cmd.Context(), list, opts...); err != nil {
		return apiError(err)
	}
	if o.output != outputTable {
		return printObject(cmd.OutOrStdout(), o.output, list)
	}
	if len(list.Items) == 0 {
		where := "namespace " + o.namespace
		if o.allNamespaces {
			where = "any namespace"
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "No tenants found in %s.\n", where)
		return nil
	}
	return printTenantTable(cmd.OutOrStdout(), list.Items, o.allNamespaces, time.Now())
}

func (o *tenantOptions) get(cmd *cobra.Command, name string) error {
	c, err := o.client(cmd)
	if err != nil {
		return err
	}
	vc, err := o.getTenant(cmd.Context(), c, name)
	if err != nil {
		return err
	}
	if o.output != outputTable {
		return printObject(cmd.OutOrStdout(), o.output, vc)
	}
	return printTenant(cmd.OutOrStdout(), vc, time.Now())
}

func (o *tenantOptions) delete(cmd *cobra.Command, name string) error {
	if o.wait && o.timeout <= 0 {
		return fmt.Errorf("--timeout must be positive, got %s", o.timeout)
	}
	c, err := o.client(cmd)
	if err != nil {
		return err
	}
	vc := &tenancyv1alpha1.VirtualCluster{}
	vc.Namespace, vc.Name = o.namespace, name
	if err := c.Delete(cmd.Context(), vc); err != nil {
		return apiError(err)
	}
	if o.wait {
		if err := o.waitGone(cmd, c, name); err != nil {
			return err
		}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "virtualcluster %s/%s deleted\n", o.namespace, name)
	return nil
}

// waitGone waits until the VirtualCluster name no longer exists.
func (o *tenantOptions) waitGone(cmd *cobra.Command, c client.Client, name string) error {
	ctx, cancel := contextWithTimeout(cmd, o.timeout)
	defer cancel()
	last := &tenancyv1alpha1.VirtualCluster{}
	err := wait.PollUntilContextCancel(ctx, pollInterval, true, func(context.Context) (bool, error) {
		vc, err := o.getTenant(cmd.Context(), c, name)
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		if vc != nil {
			last = vc
		}
		return false, err
	})
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %s waiting for tenant %s to be deleted (phase %s, finalizers %v): is the vc-manager running?",
			o.timeout, name, phaseOf(last), last.Finalizers)
	}
	return err
}

func (o *tenantOptions) setPaused(cmd *cobra.Command, name string, paused bool) error {
	c, err := o.client(cmd)
	if err != nil {
		return err
	}
	vc := &tenancyv1alpha1.VirtualCluster{}
	vc.Namespace, vc.Name = o.namespace, name
	patch := fmt.Appendf(nil, `{"spec":{"paused":%t}}`, paused)
	if err := c.Patch(cmd.Context(), vc, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return apiError(err)
	}
	verb := "resumed"
	if paused {
		verb = "paused"
	}
	fmt.Fprintf(cmd.OutOrStdout(), "virtualcluster %s/%s %s\n", o.namespace, name, verb)
	return nil
}

// completeNames completes the NAME argument with the VirtualClusters of the namespace,
// on a best-effort basis: any error completes nothing.
func (o *tenantOptions) completeNames(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c, err := o.client(cmd)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := contextWithTimeout(cmd, 5*time.Second)
	defer cancel()
	list := &tenancyv1alpha1.VirtualClusterList{}
	if err := c.List(ctx, list, client.InNamespace(o.namespace)); err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	names := make([]cobra.Completion, 0, len(list.Items))
	for _, vc := range list.Items {
		names = append(names, vc.Name)
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}
