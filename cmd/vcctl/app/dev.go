package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/vcp-dev/vcp/hack/localcluster"
)

type devOptions struct {
	dir        string
	binDir     string
	configFile string
	timeout    time.Duration
	wipe       bool
	output     string
}

func newDevCommand() *cobra.Command {
	o := &devOptions{}
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the local development platform on this machine",
		Long: "dev runs a real super cluster on 127.0.0.1 (etcd, kube-apiserver, kube-controller-manager,\n" +
			"kube-scheduler and KWOK nodes in node pools) from the binaries `make tools` builds.",
	}
	cmd.PersistentFlags().StringVar(&o.dir, "dir", ".vcp", "directory holding all state of the local platform")
	cmd.PersistentFlags().StringVar(&o.binDir, "bin-dir", "", "directory with the binaries built by `make tools` (default: $VCP_BIN_DIR, else bin/ of the vcp checkout)")

	up := &cobra.Command{
		Use:   "up",
		Short: "Start the local platform; a no-op that prints where it is when it already runs",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return o.up(cmd) },
	}
	up.Flags().StringVar(&o.configFile, "config", "", "YAML file with the local cluster config (node pools etc.)")
	up.Flags().DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long to wait for the platform to become ready")

	down := &cobra.Command{
		Use:   "down",
		Short: "Stop exactly the processes `dev up` started",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return o.down(cmd) },
	}
	down.Flags().BoolVar(&o.wipe, "wipe", false, "also delete all state (PKI, etcd data, logs)")

	status := &cobra.Command{
		Use:   "status",
		Short: "Show whether the local platform runs and where",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return o.status(cmd) },
	}
	status.Flags().StringVarP(&o.output, "output", "o", "table", "output format: table or json")

	cmd.AddCommand(up, down, status)
	return cmd
}

func (o *devOptions) up(cmd *cobra.Command) error {
	if o.timeout <= 0 {
		return fmt.Errorf("--timeout must be positive, got %s", o.timeout)
	}
	out := cmd.OutOrStdout()
	existing, err := localcluster.Load(o.dir)
	switch {
	case err == nil && existing.Running():
		fmt.Fprintf(out, "The local super cluster is already running.\n%s\n", existing.Summary())
		printNextSteps(cmd, existing)
		return nil
	case err == nil:
		// A crash or a killed component left part of the cluster: stop what is left.
		fmt.Fprintln(out, "Stopping what is left of an earlier run...")
		if err := existing.Stop(cmd.Context()); err != nil {
			return fmt.Errorf("stop the earlier run: %w", err)
		}
	case !errors.Is(err, localcluster.ErrNotRunning):
		return err
	}

	cfg := localcluster.Config{}
	if o.configFile != "" {
		if cfg, err = localcluster.LoadConfig(o.configFile); err != nil {
			return err
		}
	}
	if cfg.Dir == "" {
		cfg.Dir = o.dir
	}
	if cfg.BinDir == "" {
		cfg.BinDir = o.binDir
	}
	if cfg.BinDir == "" {
		if cfg.BinDir, err = localcluster.FindBinDir(); err != nil {
			return err
		}
	}
	cfg.Detach = true
	ctx, cancel := contextWithTimeout(cmd, o.timeout)
	defer cancel()
	start := time.Now()
	fmt.Fprintln(out, "Starting the local super cluster (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, KWOK)...")
	c, err := localcluster.Start(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Super cluster ready in %s. Starting vcp (tenant-apiserver host, vc-manager, syncer)...\n", time.Since(start).Round(100*time.Millisecond))
	if err := c.StartPlatform(ctx); err != nil {
		return o.abandon(c, fmt.Errorf("start the platform: %w", err))
	}
	fmt.Fprintf(out, "Creating the demo tenant %q...\n", demoTenant)
	if _, err := c.EnsureTenant(ctx, demoNamespace, demoTenant); err != nil {
		return o.abandon(c, err)
	}
	fmt.Fprintf(out, "Ready in %s.\n%s\n", time.Since(start).Round(100*time.Millisecond), c.Summary())
	printNextSteps(cmd, c)
	return nil
}

// The demo tenant `make up` creates.
const (
	demoNamespace = "default"
	demoTenant    = "demo"
)

// abandon stops what an up that failed half-way had started, so nothing is left running.
func (o *devOptions) abandon(c *localcluster.Cluster, cause error) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		return errors.Join(cause, fmt.Errorf("stop what was started: %w", err))
	}
	return cause
}

func printNextSteps(cmd *cobra.Command, c *localcluster.Cluster) {
	fmt.Fprintf(cmd.OutOrStdout(), `Try:
  kubectl --kubeconfig %s get ns                      # the demo tenant's own cluster
  kubectl --kubeconfig %s get virtualclusters,tenanthosts -A
  kubectl --kubeconfig %s get nodes -L %s
  bin/vcctl tenant create team-a --wait                # another tenant (bin/vcctl tenant --help)
  (kubectl is in ./bin if it is not on your PATH)
Stop it with `+"`make down`"+` (`+"`make down WIPE=1`"+` also deletes its state).
`, filepath.Join(c.Dir, demoTenant+".kubeconfig"), c.Kubeconfig, c.Kubeconfig, localcluster.NodePoolLabel)
}

func (o *devOptions) down(cmd *cobra.Command) error {
	out := cmd.OutOrStdout()
	c, err := localcluster.Load(o.dir)
	switch {
	case errors.Is(err, localcluster.ErrNotRunning):
		fmt.Fprintf(out, "No local platform is running from %s.\n", o.dir)
	case err != nil:
		return err
	default:
		if err := c.Stop(cmd.Context()); err != nil {
			return err
		}
		for _, p := range c.Processes {
			fmt.Fprintf(out, "Stopped %s (pid %d).\n", p.Name, p.PID)
		}
		if busy := localcluster.PortsInUse(c.Ports()); len(busy) > 0 {
			return fmt.Errorf("processes are stopped but ports %v are still in use", busy)
		}
	}
	if o.wipe {
		if err := localcluster.Wipe(o.dir); err != nil {
			return err
		}
		fmt.Fprintf(out, "Deleted the state in %s.\n", o.dir)
	}
	return nil
}

func (o *devOptions) status(cmd *cobra.Command) error {
	out := cmd.OutOrStdout()
	c, err := localcluster.Load(o.dir)
	if err != nil {
		return err
	}
	switch o.output {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(c.State)
	case "table":
		fmt.Fprint(out, c.Summary())
	default:
		return fmt.Errorf("--output must be table or json, got %q", o.output)
	}
	if !c.Running() {
		return errors.New("the local platform is not fully running: run `make down` then `make up`")
	}
	return nil
}
