package app

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/spf13/cobra"

	"github.com/vcp-dev/vcp/appdelivery/engine"
	"github.com/vcp-dev/vcp/appdelivery/fleet"
)

type planOptions struct {
	deliverOptions
	exitCode bool
	pruneOptions
}

// pruneOptions are the opt-ins to deleting claims and namespaces.
type pruneOptions struct {
	pruneClaims     bool
	pruneNamespaces bool
}

func (p *pruneOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&p.pruneClaims, "prune-claims", false, "also delete PersistentVolumeClaims (and their data) no longer rendered")
	cmd.Flags().BoolVar(&p.pruneNamespaces, "prune-namespaces", false, "also delete Namespaces (and everything in them) no longer rendered")
}

func (p *pruneOptions) apply(o *engine.Options) {
	o.PruneClaims, o.PruneNamespaces = p.pruneClaims, p.pruneNamespaces
}

func newPlanCommand() *cobra.Command {
	o := &planOptions{}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what a deploy would change on each target",
		Long: "plan renders the application for each target, applies every object with a server-side dry run\n" +
			"and prints the difference with the live object, and the objects of the last revision a deploy\n" +
			"would delete. Secret values are masked. It says when a deploy would clear a rollback's pin.\n" +
			"With --exit-code it exits 2 when there is a difference.",
		Example: "  vcapp plan --env envs/prod.yaml\n  vcapp plan --context staging --exit-code",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	o.deliverOptions.addFlags(cmd)
	o.pruneOptions.addFlags(cmd)
	cmd.Flags().BoolVar(&o.exitCode, "exit-code", false, "exit 2 when a target would change")
	return cmd
}

func (o *planOptions) run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	in, ts, cs, err := o.prepare(ctx, cmd.InOrStdin())
	if err != nil {
		return err
	}
	opts := o.engineOptions()
	o.pruneOptions.apply(&opts)
	plans, err := plansOf(ctx, in, ts, cs, opts)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if o.output == outputJSON {
		if err := printJSON(out, plans); err != nil {
			return err
		}
	} else {
		for _, p := range plans {
			printPlan(out, p, true)
		}
	}
	if o.exitCode {
		for _, p := range plans {
			if p.HasChanges() {
				return &exitError{code: ExitDiff}
			}
		}
	}
	return nil
}

// plansOf plans every target, all at once.
func plansOf(ctx context.Context, in *inputs, ts []fleet.Target, cs []*engine.Cluster, opts engine.Options) ([]*engine.Plan, error) {
	plans := make([]*engine.Plan, len(ts))
	errs := make([]error, len(ts))
	var wg sync.WaitGroup
	for i := range ts {
		wg.Go(func() {
			rel, err := in.release(ts[i])
			if err != nil {
				errs[i] = err
				return
			}
			if plans[i], err = cs[i].Plan(ctx, rel, opts); err != nil {
				errs[i] = fmt.Errorf("target %s: %w", ts[i].Name, err)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return plans, nil
}

// printPlan prints a target's changes (with diffs when diffs) and its summary line.
func printPlan(w io.Writer, p *engine.Plan, diffs bool) {
	fmt.Fprintf(w, "target %s:\n", p.Target)
	for _, c := range p.Changes {
		if c.Action == engine.Unchanged {
			continue
		}
		fmt.Fprintf(w, "  %s %s\n", c.Action, c.Ref)
		if diffs && c.Diff != "" {
			for _, line := range splitLines(c.Diff) {
				fmt.Fprintf(w, "    %s\n", line)
			}
		}
	}
	for _, r := range p.Kept {
		fmt.Fprintf(w, "  keep %s (no longer rendered; tracked as retained: pass --prune-claims or --prune-namespaces to delete it)\n", r)
	}
	if p.Pin != nil {
		fmt.Fprintf(w, "  unpin: the application is %s; deploying replaces it and clears the pin\n", p.Pin)
	}
	fmt.Fprintf(w, "  %d to create, %d to change, %d to delete, %d unchanged\n",
		p.Count(engine.Create), p.Count(engine.Change), p.Count(engine.Delete), p.Count(engine.Unchanged))
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
