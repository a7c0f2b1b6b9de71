package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vcp-dev/vcp/appdelivery/engine"
)

type deleteOptions struct {
	deliverOptions
	pruneOptions
	yes bool
}

func newDeleteCommand() *cobra.Command {
	o := &deleteOptions{}
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "Delete the objects of the application's last revision from each target",
		Long: "delete lists, per target, the objects of the last revision's inventory that exist (never\n" +
			"PersistentVolumeClaims or Namespaces unless --prune-claims or --prune-namespaces), asks for\n" +
			"confirmation on the terminal unless --yes, deletes them and the application's revisions. Nothing\n" +
			"else is touched. What it keeps stays tracked: one revision (outcome Deleted) retains it, so status\n" +
			"shows it and a later delete with --prune-claims or --prune-namespaces deletes it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	o.deliverOptions.addFlags(cmd)
	o.pruneOptions.addFlags(cmd)
	cmd.Flags().BoolVarP(&o.yes, "yes", "y", false, "delete without asking")
	return cmd
}

// deleteResult is the JSON output of delete for one target.
type deleteResult struct {
	Target  string       `json:"target"`
	Deleted []engine.Ref `json:"deleted"`
	Kept    []engine.Ref `json:"kept,omitempty"`
}

func (o *deleteOptions) run(cmd *cobra.Command) error {
	ctx := cmd.Context()
	in, ts, cs, err := o.prepare(ctx, cmd.InOrStdin())
	if err != nil {
		return err
	}
	opts := o.engineOptions()
	o.pruneOptions.apply(&opts)
	app, ns := in.base.Metadata.Name, in.base.Namespace()
	res := make([]deleteResult, len(ts))
	err = forEach(ctx, ts, func(ctx context.Context, i int) error {
		del, kept, err := cs[i].DeletePlan(ctx, app, ns, opts)
		res[i] = deleteResult{Target: ts[i].Name, Deleted: del, Kept: kept}
		return err
	})
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if o.output != outputJSON || !o.yes {
		for _, r := range res {
			fmt.Fprintf(out, "target %s: %d to delete\n", r.Target, len(r.Deleted))
			for _, ref := range r.Deleted {
				fmt.Fprintf(out, "  delete %s\n", ref)
			}
			for _, ref := range r.Kept {
				fmt.Fprintf(out, "  keep %s\n", ref)
			}
		}
	}
	if !o.yes {
		ok, err := confirm(cmd.InOrStdin(), out, fmt.Sprintf("delete %s from %d target(s)?", app, len(ts)))
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("delete cancelled")
		}
	}
	err = forEach(ctx, ts, func(ctx context.Context, i int) error {
		opts := opts
		if opts.User = cs[i].WhoAmI(ctx); opts.User == "" {
			opts.User = localUser()
		}
		deleted, err := cs[i].Delete(ctx, app, ns, opts)
		res[i].Deleted = deleted
		return err
	})
	if err != nil {
		return err
	}
	if o.output == outputJSON {
		return printJSON(out, res)
	}
	for _, r := range res {
		fmt.Fprintf(out, "target %s: deleted %d objects\n", r.Target, len(r.Deleted))
	}
	return nil
}
