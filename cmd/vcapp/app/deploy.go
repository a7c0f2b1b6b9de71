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
	unpin  bool
	atomic bool
	noWait bool
}

func newDeployCommand() *cobra.Command {
	o := &deployOptions{}
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Plan, confirm, apply and wait until the application is healthy on every target",
		Long: "deploy plans the application on every target (see plan) and prints the plan: with --yes its summary\n" +
			"(per target what is created, changed, deleted and kept), else the whole plan with its diffs, and asks\n" +
			"for confirmation on the terminal (without a terminal on standard input it refuses: pass --yes). Then,\n" +
			"target after target in the order of spec.rollout, it applies it with server-side apply (field manager\n" +
			"vcapp), prunes what the last revision had and it no longer renders, records a new revision in the\n" +
			"target cluster and waits until every object is healthy, at most the progress deadline (--timeout,\n" +
			"else spec.rollout.progressDeadline, else 5m). A workload whose pods cannot pull their image,\n" +
			"crash-loop, are OOM-killed or unschedulable is Degraded at once. With --atomic a target that ends\n" +
			"Degraded or times out gets its previous revision back.\n\n" +
			"A target that a rollback pinned is deployed to only when that is confirmed on the terminal or with\n" +
			"--unpin; deploy --yes alone refuses before changing anything, so that automation never silently\n" +
			"replaces a rollback someone chose.\n\n" +
			"Exit status: 0 healthy everywhere, 1 error, 3 unhealthy or timed out somewhere.",
		Example: "  vcapp deploy --env envs/prod.yaml\n  vcapp deploy --context staging --yes --atomic --timeout 2m",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	o.deliverOptions.addFlags(cmd)
	o.pruneOptions.addFlags(cmd)
	cmd.Flags().BoolVarP(&o.yes, "yes", "y", false, "deploy without asking (the plan's summary is still printed)")
	cmd.Flags().BoolVar(&o.unpin, "unpin", false, "deploy also to targets a rollback pinned, clearing the pin")
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
	opts.Atomic, opts.NoWait, opts.Unpin = o.atomic, o.noWait, o.unpin
	// Always the plan first: what will change where, and whether a pin is in the way.
	plans, err := plansOf(ctx, in, ts, cs, opts)
	if err != nil {
		return err
	}
	// With -o json standard output is the result alone: a plan to confirm goes to
	// standard error, and --yes prints none (the result holds its counts).
	planOut := out
	if o.output == outputJSON {
		planOut = cmd.ErrOrStderr()
	}
	if o.output != outputJSON || !o.yes {
		changes := false
		for _, p := range plans {
			printPlan(planOut, p, !o.yes)
			changes = changes || p.HasChanges()
		}
		if !changes {
			fmt.Fprintln(planOut, "no changes; deploying records a new revision and waits for health")
		}
	}
	var pinned []string
	for _, p := range plans {
		if p.Pin != nil {
			pinned = append(pinned, fmt.Sprintf("target %s: %s is %s", p.Target, in.base.Metadata.Name, p.Pin))
		}
	}
	if o.yes {
		if len(pinned) > 0 && !o.unpin {
			return fmt.Errorf("%s\npass --unpin to deploy over a rollback's pin (nothing was changed)", strings.Join(pinned, "\n"))
		}
	} else {
		question := fmt.Sprintf("deploy %s to %d target(s)?", in.base.Metadata.Name, len(ts))
		if len(pinned) > 0 {
			question = fmt.Sprintf("deploy %s to %d target(s), unpinning %d?", in.base.Metadata.Name, len(ts), len(pinned))
		}
		ok, err := confirm(cmd.InOrStdin(), planOut, question)
		if err != nil {
			return fmt.Errorf("deploy: %w", err)
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
		topts, err := o.targetOptions(in, t, opts)
		if err != nil {
			return false, err
		}
		// A confirmed plan unpins the targets whose pin it showed; a pin that appeared
		// since is refused by the engine.
		topts.Unpin = o.unpin || (!o.yes && plans[i].Pin != nil)
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
	return report(out, o.output, outcomes, results, plans)
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
	Plan    *planSummary   `json:"plan,omitempty"`
	Result  *engine.Result `json:"result,omitempty"`
}

// planSummary is what a deploy's plan said for one target.
type planSummary struct {
	Create    int          `json:"create"`
	Change    int          `json:"change"`
	Delete    int          `json:"delete"`
	Unchanged int          `json:"unchanged"`
	Kept      []engine.Ref `json:"kept,omitempty"`
	Pin       *engine.Pin  `json:"pin,omitempty"`
	Seconds   float64      `json:"seconds"`
}

func summarize(p *engine.Plan) *planSummary {
	if p == nil {
		return nil
	}
	return &planSummary{Create: p.Count(engine.Create), Change: p.Count(engine.Change), Delete: p.Count(engine.Delete),
		Unchanged: p.Count(engine.Unchanged), Kept: p.Kept, Pin: p.Pin, Seconds: p.Seconds}
}

// report prints the outcome per target and returns the command's error: exit 1 when a
// target failed with an error, 3 when one ended unhealthy. plans (nil for a rollback)
// are the deploy's plans, per target.
func report(out io.Writer, output string, outcomes []fleet.Outcome, results []*engine.Result, plans []*engine.Plan) error {
	var errs []string
	unhealthy := false
	var rows []targetResult
	for i, oc := range outcomes {
		r := targetResult{Target: oc.Target.Name, Skipped: oc.Skipped, Result: results[i]}
		if plans != nil {
			r.Plan = summarize(plans[i])
		}
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
				if len(res.Retained) > 0 {
					line += fmt.Sprintf(" (retained %d no longer rendered: %s)", len(res.Retained), refList(res.Retained))
				}
				if res.Unpinned != nil {
					line += fmt.Sprintf("; unpinned: it was %s", res.Unpinned)
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

// refList names refs, comma-separated.
func refList(refs []engine.Ref) string {
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.String()
	}
	return strings.Join(names, ", ")
}
