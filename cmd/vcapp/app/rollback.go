package app

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/vcp-dev/vcp/appdelivery/engine"
	"github.com/vcp-dev/vcp/appdelivery/fleet"
	"github.com/vcp-dev/vcp/appdelivery/health"
)

type rollbackOptions struct {
	deliverOptions
	pruneOptions
	to int
}

func newRollbackCommand() *cobra.Command {
	o := &rollbackOptions{}
	cmd := &cobra.Command{
		Use:   "rollback",
		Short: "Re-apply an earlier revision as a new revision and wait until healthy",
		Long: "rollback re-applies revision --to (default: the one before the last) on each target as a new\n" +
			"revision, prunes what the last revision had and that one does not, and waits until healthy (at most\n" +
			"the progress deadline: --timeout, else spec.rollout.progressDeadline, else 5m). The application\n" +
			"stays pinned to it until a deploy that is confirmed or passes --unpin: status and history show the\n" +
			"pin (which revision, who, when), and deploy --yes refuses to replace it.\n" +
			"Exit status: 0 healthy, 1 error, 3 unhealthy or timed out.",
		Example: "  vcapp rollback\n  vcapp rollback --to 3 --context prod",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	o.deliverOptions.addFlags(cmd)
	o.pruneOptions.addFlags(cmd)
	cmd.Flags().IntVar(&o.to, "to", 0, "the revision to go back to (default: the one before the last)")
	return cmd
}

func (o *rollbackOptions) run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	in, ts, cs, err := o.prepare(ctx, cmd.InOrStdin())
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	opts := o.engineOptions()
	o.pruneOptions.apply(&opts)
	prog := newProgress(out, o.output)
	results := make([]*engine.Result, len(ts))
	outcomes := fleet.Run(ctx, ts, in.base.Spec.Rollout, o.parallelism, func(ctx context.Context, t fleet.Target) (bool, error) {
		i := indexOf(ts, t)
		rel, err := in.release(t)
		if err != nil {
			return false, err
		}
		topts, err := o.targetOptions(in, t, opts)
		if err != nil {
			return false, err
		}
		topts.Progress = prog.update
		if topts.User = cs[i].WhoAmI(ctx); topts.User == "" {
			topts.User = localUser()
		}
		res, err := cs[i].Rollback(ctx, rel.App, rel.Namespace, o.to, topts)
		results[i] = res
		return err == nil && res.Status == health.Healthy, err
	})
	return report(out, o.output, outcomes, results, nil)
}
