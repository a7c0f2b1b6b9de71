package app

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vcp-dev/vcp/appdelivery/engine"
	"github.com/vcp-dev/vcp/appdelivery/fleet"
	"github.com/vcp-dev/vcp/appdelivery/model"
	"github.com/vcp-dev/vcp/appdelivery/profile"
	"github.com/vcp-dev/vcp/appdelivery/render"
)

// Exit codes of the delivery commands.
const (
	ExitHealthy   = 0
	ExitError     = 1
	ExitDiff      = 2
	ExitUnhealthy = 3
)

// ExitError carries a command's exit code; a nil Err means the command already said
// everything (plan --exit-code with a diff, a deploy that ended unhealthy).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// ExitCode returns the exit code for a command's error: 0 for nil, the code the
// command chose, else 1.
func ExitCode(err error) int {
	if err == nil {
		return ExitHealthy
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return ExitError
}

// Silent reports whether err needs no message (the command printed its outcome).
func Silent(err error) bool {
	var e *exitError
	return errors.As(err, &e) && e.err == nil
}

// outputText is the default --output of the delivery commands.
const outputText = "text"

// deliverOptions are the flags the delivery commands share: the inputs (as for render)
// and where they go.
type deliverOptions struct {
	renderOptions
	kubeconfig      string
	context         string
	superKubeconfig string
	superContext    string
	parallelism     int
	timeout         time.Duration
	failFastGrace   time.Duration
	// noFilenameShorthand leaves -f to the command (logs -f is --follow).
	noFilenameShorthand bool
}

func (o *deliverOptions) addFlags(cmd *cobra.Command) {
	flags := cmd.Flags()
	if o.noFilenameShorthand {
		flags.StringVar(&o.filename, "filename", "app.yaml", "the Application file")
	} else {
		flags.StringVarP(&o.filename, "filename", "f", "app.yaml", "the Application file")
	}
	flags.StringVar(&o.profile, "profile", "", "the platform team's Profile file")
	flags.StringArrayVar(&o.envs, "env", nil, "an Environment file merged onto the application; repeat to merge several, in order")
	flags.StringVarP(&o.output, "output", "o", outputText, "output format: text or json")
	flags.StringVar(&o.kubeconfig, "kubeconfig", "", "deliver to this kubeconfig's cluster instead of the application's targets")
	flags.StringVar(&o.context, "context", "", "deliver to this kubeconfig context instead of the application's targets")
	flags.StringVar(&o.superKubeconfig, "super-kubeconfig", "", "kubeconfig of the vcp super cluster, for virtualCluster targets (default: the kubeconfig's current context)")
	flags.StringVar(&o.superContext, "super-context", "", "context of --super-kubeconfig")
	flags.IntVar(&o.parallelism, "parallelism", 1, "targets delivered at once when the application has no rollout.parallelism")
	flags.DurationVar(&o.timeout, "timeout", 0, "progress deadline: how long to wait for the application to be healthy on a target (default: the application's spec.rollout.progressDeadline, else 5m)")
	flags.DurationVar(&o.failFastGrace, "fail-fast-grace", 0, "how long a pod may be in ImagePullBackOff, CrashLoopBackOff, OOMKilled or Unschedulable before its workload is Degraded (default 15s)")
	for _, f := range []string{"filename", "profile", "env", "kubeconfig", "super-kubeconfig"} {
		_ = cmd.MarkFlagFilename(f, "yaml", "yml", "json")
	}
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{outputText, outputJSON}, cobra.ShellCompDirectiveNoFileComp))
}

// inputs are the files a delivery command read.
type inputs struct {
	app  *model.Application
	envs []*model.Environment
	prof *model.Profile
	// base is the composition without target overrides.
	base *model.Application
}

func (o *deliverOptions) load(stdin io.Reader) (*inputs, error) {
	if o.output != outputText && o.output != outputJSON {
		return nil, fmt.Errorf("--output must be %s or %s, got %q", outputText, outputJSON, o.output)
	}
	if o.timeout < 0 {
		return nil, fmt.Errorf("--timeout must be positive, got %s", o.timeout)
	}
	if o.parallelism < 1 {
		return nil, fmt.Errorf("--parallelism must be at least 1, got %d", o.parallelism)
	}
	in := &inputs{}
	var err error
	if in.app, err = parseFile(stdin, "--filename", o.filename, model.ParseApplication); err != nil {
		return nil, err
	}
	for _, f := range o.envs {
		env, err := parseFile(stdin, "--env", f, model.ParseEnvironment)
		if err != nil {
			return nil, err
		}
		in.envs = append(in.envs, env)
	}
	if o.profile != "" {
		if in.prof, err = parseFile(stdin, "--profile", o.profile, model.ParseProfile); err != nil {
			return nil, err
		}
	}
	if in.base, err = profile.Compose(in.app, in.prof, in.envs...); err != nil {
		return nil, err
	}
	return in, nil
}

// target returns the application as composed for target t: its overrides merged like
// an Environment after the --env files.
func (in *inputs) target(t fleet.Target) (*model.Application, error) {
	if t.Spec == nil || len(t.Spec.Overrides) == 0 {
		return in.base, nil
	}
	env := &model.Environment{Metadata: model.Metadata{Name: "target-" + t.Spec.Name}, Spec: t.Spec.Overrides}
	env.APIVersion, env.Kind = model.APIVersion, model.KindEnvironment
	app, err := profile.Compose(in.app, in.prof, append(append([]*model.Environment{}, in.envs...), env)...)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	return app, nil
}

// release renders the application for target t (see target).
func (in *inputs) release(t fleet.Target) (*engine.Release, error) {
	app, err := in.target(t)
	if err != nil {
		return nil, err
	}
	objs, err := render.Render(app)
	if err != nil {
		return nil, err
	}
	spec, err := json.Marshal(app)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(spec)
	return &engine.Release{
		App:        app.Metadata.Name,
		Namespace:  app.Namespace(),
		Objects:    objs,
		Components: engine.ComponentsOf(app),
		Digest:     "sha256:" + hex.EncodeToString(sum[:]),
	}, nil
}

// targets returns the clusters to deliver to: the one --kubeconfig/--context name, or
// the application's targets (the current context when it has none).
func (o *deliverOptions) targets(ctx context.Context, app *model.Application) ([]fleet.Target, error) {
	if o.kubeconfig != "" || o.context != "" || len(app.Spec.Targets) == 0 {
		cfg, name, err := fleet.KubeconfigConfig(o.kubeconfig, o.context)
		if err != nil {
			return nil, err
		}
		return []fleet.Target{{Name: name, Config: cfg}}, nil
	}
	r := &fleet.Resolver{SuperKubeconfig: o.superKubeconfig, SuperContext: o.superContext}
	return r.Resolve(ctx, app.Spec.Targets)
}

// prepare reads the application (with its profile and environments) and connects to
// every target it selects: what each command does first.
func (o *deliverOptions) prepare(ctx context.Context, stdin io.Reader) (*inputs, []fleet.Target, []*engine.Cluster, error) {
	in, err := o.load(stdin)
	if err != nil {
		return nil, nil, nil, err
	}
	ts, cs, err := o.clusters(ctx, in.base)
	if err != nil {
		return nil, nil, nil, err
	}
	return in, ts, cs, nil
}

// clusters resolves the targets and connects to them.
func (o *deliverOptions) clusters(ctx context.Context, app *model.Application) ([]fleet.Target, []*engine.Cluster, error) {
	ts, err := o.targets(ctx, app)
	if err != nil {
		return nil, nil, err
	}
	cs := make([]*engine.Cluster, len(ts))
	for i, t := range ts {
		if cs[i], err = engine.Connect(t.Name, t.Config); err != nil {
			return nil, nil, fmt.Errorf("target %s: %w", t.Name, err)
		}
	}
	return ts, cs, nil
}

// engineOptions are the engine options the flags set; the progress deadline is the
// application's (see targetOptions) unless --timeout sets it.
func (o *deliverOptions) engineOptions() engine.Options {
	return engine.Options{ProgressDeadline: o.timeout, FailFastGrace: o.failFastGrace}
}

// targetOptions are opts for target t: the progress deadline is --timeout, else the
// spec.rollout.progressDeadline of the application composed for t (default 5m).
func (o *deliverOptions) targetOptions(in *inputs, t fleet.Target, opts engine.Options) (engine.Options, error) {
	if o.timeout > 0 {
		opts.ProgressDeadline = o.timeout
		return opts, nil
	}
	app, err := in.target(t)
	if err != nil {
		return opts, err
	}
	opts.ProgressDeadline = app.ProgressDeadline()
	return opts, nil
}

// localUser names the caller when the cluster cannot.
func localUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// isTerminal reports whether f (a writer or reader) is a terminal.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// confirm asks question on out and reads y/yes from in, which must be a terminal: a
// command that changes clusters never takes its answer from a pipe or a file.
func confirm(in io.Reader, out io.Writer, question string) (bool, error) {
	if !isTerminal(in) {
		return false, errors.New("standard input is not a terminal, so nobody can confirm: pass --yes to go ahead without asking (nothing was changed)")
	}
	fmt.Fprintf(out, "%s [y/N] ", question)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return false, fmt.Errorf("no answer (pass --yes to skip the question): %w", err)
	}
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes", nil
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
