package app

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vcp-dev/vcp/appdelivery/engine"
	"github.com/vcp-dev/vcp/appdelivery/fleet"
	"github.com/vcp-dev/vcp/appdelivery/health"
)

type statusOptions struct {
	deliverOptions
	wait bool
}

func newStatusCommand() *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the health of the application on each target, with the reason for everything not healthy",
		Long: "status reads the last revision of the application on each target and checks the health of every\n" +
			"object it holds, grouped by component; it shows a rollback's pin and the objects vcapp retained\n" +
			"(no longer rendered, kept without --prune-claims/--prune-namespaces). With --wait it waits until\n" +
			"healthy, at most the progress deadline (--timeout, else spec.rollout.progressDeadline, else 5m).\n" +
			"Exit status: 0 healthy everywhere, 1 error, 3 otherwise.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runStatus(cmd, o) },
	}
	o.addFlags(cmd)
	cmd.Flags().BoolVarP(&o.wait, "wait", "w", false, "wait until healthy (or Degraded, or the progress deadline passed)")
	return cmd
}

func runStatus(cmd *cobra.Command, o *statusOptions) error {
	ctx := cmd.Context()
	in, ts, cs, err := o.prepare(ctx, cmd.InOrStdin())
	if err != nil {
		return err
	}
	sts := make([]*engine.AppStatus, len(ts))
	err = forEach(ctx, ts, func(ctx context.Context, i int) error {
		rel, err := in.release(ts[i])
		if err != nil {
			return err
		}
		opts, err := o.targetOptions(in, ts[i], o.engineOptions())
		if err != nil {
			return err
		}
		if o.wait {
			sts[i], err = cs[i].WaitStatus(ctx, rel.App, rel.Namespace, opts)
		} else {
			sts[i], err = cs[i].Status(ctx, rel.App, rel.Namespace, opts)
		}
		return err
	})
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if o.output == outputJSON {
		if err := printJSON(out, sts); err != nil {
			return err
		}
	} else {
		for _, st := range sts {
			printStatus(out, in.base.Metadata.Name, st)
		}
	}
	for _, st := range sts {
		if st.Status != health.Healthy {
			return &exitError{code: ExitUnhealthy}
		}
	}
	return nil
}

func printStatus(w io.Writer, app string, st *engine.AppStatus) {
	r := st.Revision
	switch {
	case r == nil:
		fmt.Fprintf(w, "target %s: %s %s: %s\n", st.Target, app, st.Status, st.Message)
		return
	case r.Status == engine.RevisionDeleted:
		fmt.Fprintf(w, "target %s: %s %s: %s by %s at %s\n", st.Target, app, st.Status, st.Message, orDash(r.User), r.Time.UTC().Format(time.RFC3339))
	default:
		fmt.Fprintf(w, "target %s: %s revision %d %s (deployed by %s at %s, outcome %s)\n", st.Target, app, r.Number, st.Status,
			orDash(r.User), r.Time.UTC().Format(time.RFC3339), r.Status)
		if st.Status != health.Healthy && st.Message != "" {
			fmt.Fprintf(w, "  %s\n", st.Message)
		}
	}
	if st.Pin != nil {
		fmt.Fprintf(w, "  %s, until a deploy clears it (vcapp deploy, confirmed or --unpin)\n", st.Pin)
	}
	printTree(w, st.Objects)
	for _, ref := range st.Retained {
		fmt.Fprintf(w, "  retained %s (no longer rendered; --prune-claims/--prune-namespaces deletes it)\n", ref)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// forEach runs f for every target at once and returns the errors, one per line.
func forEach(ctx context.Context, ts []fleet.Target, f func(context.Context, int) error) error {
	errs := make([]error, len(ts))
	var wg sync.WaitGroup
	for i := range ts {
		wg.Go(func() {
			if err := f(ctx, i); err != nil {
				errs[i] = fmt.Errorf("target %s: %w", ts[i].Name, err)
			}
		})
	}
	wg.Wait()
	var msgs []string
	for _, err := range errs {
		if err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	if len(msgs) > 0 {
		return fmt.Errorf("%s", strings.Join(msgs, "\n"))
	}
	return nil
}

func newHistoryCommand() *cobra.Command {
	o := &deliverOptions{}
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List the revisions of the application on each target",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			in, ts, cs, err := o.prepare(ctx, cmd.InOrStdin())
			if err != nil {
				return err
			}
			hs := make([][]*engine.Revision, len(ts))
			err = forEach(ctx, ts, func(ctx context.Context, i int) error {
				rel, err := in.release(ts[i])
				if err != nil {
					return err
				}
				hs[i], err = cs[i].History(ctx, rel.App, rel.Namespace)
				return err
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if o.output == outputJSON {
				m := map[string][]*engine.Revision{}
				for i, t := range ts {
					m[t.Name] = hs[i]
				}
				return printJSON(out, m)
			}
			for i, t := range ts {
				printHistory(out, t.Name, hs[i])
			}
			return nil
		},
	}
	o.addFlags(cmd)
	return cmd
}

// printHistory prints the revisions of one target, and the pin the newest holds.
func printHistory(w io.Writer, target string, h []*engine.Revision) {
	fmt.Fprintf(w, "target %s:\n", target)
	if len(h) > 0 {
		if p := h[len(h)-1].Pin(); p != nil {
			fmt.Fprintf(w, "  %s, until a deploy clears it\n", p)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  REVISION\tDEPLOYED\tBY\tOUTCOME\tDIGEST\tNOTE")
	for _, r := range h {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", r.Number, r.Time.UTC().Format(time.RFC3339), orDash(r.User), r.Status, shortDigest(r.Digest), truncate(historyNote(r), 100))
	}
	_ = tw.Flush()
}

// historyNote is the NOTE of a revision: a rollback and its pin, the pin a deploy
// cleared, what a delete retained, else the outcome's message.
func historyNote(r *engine.Revision) string {
	var notes []string
	switch {
	case r.RollbackOf > 0 && r.Pinned:
		notes = append(notes, fmt.Sprintf("rollback to %d, pinned", r.RollbackOf))
	case r.RollbackOf > 0:
		notes = append(notes, fmt.Sprintf("rollback to %d (atomic)", r.RollbackOf))
	}
	if r.Unpinned != nil {
		notes = append(notes, fmt.Sprintf("unpinned revision %d (rollback to %d)", r.Unpinned.ByRevision, r.Unpinned.Revision))
	}
	if len(r.Retained) > 0 {
		notes = append(notes, fmt.Sprintf("retains %s", refList(r.Retained)))
	}
	if len(notes) == 0 {
		return r.Message
	}
	return strings.Join(notes, "; ")
}

func shortDigest(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return orDash(d)
}
