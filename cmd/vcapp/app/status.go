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

func newStatusCommand() *cobra.Command {
	o := &deliverOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the health of the application on each target, with the reason for everything not healthy",
		Long: "status reads the last revision of the application on each target and checks the health of every\n" +
			"object it holds, grouped by component. Exit status: 0 healthy everywhere, 1 error, 3 otherwise.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runStatus(cmd, o) },
	}
	o.addFlags(cmd)
	return cmd
}

func runStatus(cmd *cobra.Command, o *deliverOptions) error {
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
		sts[i], err = cs[i].Status(ctx, rel.App, rel.Namespace, o.engineOptions())
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
	if st.Revision == nil {
		fmt.Fprintf(w, "target %s: %s %s: %s\n", st.Target, app, st.Status, st.Message)
		return
	}
	r := st.Revision
	fmt.Fprintf(w, "target %s: %s revision %d %s (deployed by %s at %s, outcome %s)%s\n", st.Target, app, r.Number, st.Status,
		orDash(r.User), r.Time.UTC().Format(time.RFC3339), r.Status, pinnedNote(r))
	printTree(w, st.Objects)
}

func pinnedNote(r *engine.Revision) string {
	if r.Pinned {
		return fmt.Sprintf("; pinned to revision %d by a rollback until the next deploy", r.RollbackOf)
	}
	return ""
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
				fmt.Fprintf(out, "target %s:\n", t.Name)
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "  REVISION\tDEPLOYED\tBY\tOUTCOME\tDIGEST\tNOTE")
				for _, r := range hs[i] {
					note := r.Message
					if r.RollbackOf > 0 {
						note = fmt.Sprintf("rollback to %d", r.RollbackOf)
					}
					fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", r.Number, r.Time.UTC().Format(time.RFC3339), orDash(r.User), r.Status, shortDigest(r.Digest), truncate(note, 80))
				}
				_ = tw.Flush()
			}
			return nil
		},
	}
	o.addFlags(cmd)
	return cmd
}

func shortDigest(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return orDash(d)
}
