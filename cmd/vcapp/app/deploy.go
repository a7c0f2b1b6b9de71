package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vcp-dev/vcp/appdelivery/engine"
	"github.com/vcp-dev/vcp/appdelivery/fleet"
	"github.com/vcp-dev/vcp/appdelivery/health"
)

type deployOptions struct {
	deliverOptions
	pruneOptions
	yes    bool
	atomic bool
	noWait bool
}

func newDeployCommand() *cobra.Command {
	o := &deployOptions{}
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Plan, confirm, apply and wait until the application is healthy on every target",
		Long: "deploy plans the application on every target (see plan) and asks for confirmation unless --yes,\n" +
			"then, target after target in the order of spec.rollout, applies it with server-side apply (field\n" +
			"manager vcapp), prunes what the last revision had and it no longer renders, records a new revision\n" +
			"in the target cluster and waits until every object is healthy. A workload whose pods cannot pull\n" +
			"their image, crash-loop, are OOM-killed or unschedulable is Degraded at once. With --atomic a\n" +
			"target that ends Degraded or times out gets its previous revision back.\n\n" +
			"Exit status: 0 healthy everywhere, 1 error, 3 unhealthy or timed out somewhere.",
		Example: "  vcapp deploy --env envs/prod.yaml\n  vcapp deploy --context staging --yes --atomic --timeout 2m",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	o.deliverOptions.addFlags(cmd)
	o.pruneOptions.addFlags(cmd)
	cmd.Flags().BoolVarP(&o.yes, "yes", "y", false, "deploy without showing the plan and asking")
	cmd.Flags().BoolVar(&o.atomic, "atomic", false, "roll a target back to its previous revision when it ends Degraded or times out")
	cmd.Flags().BoolVar(&o.noWait, "no-wait", false, "return after applying, without waiting for health")
	return cmd
}

func (o *deployOptions) run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	in, ts, cs, err := o.prepare(ctx, cmd.InOrStdin())
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	opts := o.engineOptions()
	o.pruneOptions.apply(&opts)
	opts.Atomic, opts.NoWait = o.atomic, o.noWait
	if !o.yes {
		plans, err := plansOf(ctx, in, ts, cs, opts)
		if err != nil {
			return err
		}
		changes := false
		for _, p := range plans {
			printPlan(out, p, true)
			changes = changes || p.HasChanges()
		}
		if !changes {
			fmt.Fprintln(out, "no changes; deploying records a new revision and waits for health")
		}
		ok, err := confirm(cmd.InOrStdin(), out, fmt.Sprintf("deploy %s to %d target(s)?", in.base.Metadata.Name, len(ts)))
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("deploy cancelled")
		}
	}
	prog := newProgress(out, o.output)
	results := make([]*engine.Result, len(ts))
	outcomes := fleet.Run(ctx, ts, in.base.Spec.Rollout, o.parallelism, func(ctx context.Context, t fleet.Target) (bool, error) {
		i := indexOf(ts, t)
		rel, err := in.release(t)
		if err != nil {
			return false, err
		}
		topts := opts
		topts.Progress = prog.update
		if topts.User = cs[i].WhoAmI(ctx); topts.User == "" {
			topts.User = localUser()
		}
		res, err := cs[i].Deploy(ctx, rel, topts)
		results[i] = res
		if err != nil {
			return false, err
		}
		applied := res.Status == health.Healthy || (o.noWait && res.Status == health.Progressing)
		return applied && res.RolledBack == 0, nil
	})
	return report(out, o.output, outcomes, results)
}

func indexOf(ts []fleet.Target, t fleet.Target) int {
	for i := range ts {
		if ts[i].Name == t.Name {
			return i
		}
	}
	return -1
}

// targetResult is the JSON output of deploy and rollback for one target.
type targetResult struct {
	Target  string         `json:"target"`
	Skipped bool           `json:"skipped,omitempty"`
	Error   string         `json:"error,omitempty"`
	Result  *engine.Result `json:"result,omitempty"`
}

// report prints the outcome per target and returns the command's error: exit 1 when a
// target failed with an error, 3 when one ended unhealthy.
func report(out io.Writer, output string, outcomes []fleet.Outcome, results []*engine.Result) error {
	var errs []string
	unhealthy := false
	var rows []targetResult
	for i, oc := range outcomes {
		r := targetResult{Target: oc.Target.Name, Skipped: oc.Skipped, Result: results[i]}
		if oc.Err != nil {
			r.Error = oc.Err.Error()
			errs = append(errs, fmt.Sprintf("target %s: %v", oc.Target.Name, oc.Err))
		} else if !oc.OK && !oc.Skipped {
			unhealthy = true
		}
		rows = append(rows, r)
	}
	if output == outputJSON {
		if err := printJSON(out, rows); err != nil {
			return err
		}
	} else {
		for _, r := range rows {
			switch {
			case r.Skipped:
				fmt.Fprintf(out, "target %s: skipped (an earlier target failed)\n", r.Target)
			case r.Error != "":
				fmt.Fprintf(out, "target %s: error: %s\n", r.Target, r.Error)
			default:
				res := r.Result
				line := fmt.Sprintf("target %s: revision %d %s", r.Target, res.Revision, res.Status)
				if res.Status != health.Healthy && res.Message != "" {
					line += ": " + res.Message
				}
				if len(res.Pruned) > 0 {
					line += fmt.Sprintf(" (pruned %d)", len(res.Pruned))
				}
				if res.RolledBack > 0 {
					line += fmt.Sprintf("; rolled back to revision %d as revision %d", res.RolledBack, res.RollbackRevision)
				}
				fmt.Fprintln(out, line)
				if res.Status != health.Healthy && res.RolledBack == 0 {
					printTree(out, res.Objects)
				}
			}
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	if unhealthy {
		return &exitError{code: ExitUnhealthy}
	}
	return nil
}
