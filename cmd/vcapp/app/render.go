package app

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/vcp-dev/vcp/appdelivery/model"
	"github.com/vcp-dev/vcp/appdelivery/profile"
	"github.com/vcp-dev/vcp/appdelivery/render"
)

// The values of --output.
const (
	outputYAML = "yaml"
	outputJSON = "json"
)

// renderOptions are the flags of `vcapp render`.
type renderOptions struct {
	filename string
	profile  string
	envs     []string
	output   string
}

func newRenderCommand() *cobra.Command {
	o := &renderOptions{}
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Print the Kubernetes objects an application renders to, offline",
		Long: "render reads the application (-f), merges the environments (--env, in order) onto it, applies\n" +
			"the platform profile (--profile), validates the result and prints its Kubernetes objects in\n" +
			"apply order. It reads no cluster. A file name of - reads standard input.",
		Example: "  vcapp render\n  vcapp render -f app.yaml --env envs/prod.yaml --profile platform.yaml -o json",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	flags := cmd.Flags()
	flags.StringVarP(&o.filename, "filename", "f", "app.yaml", "the Application file")
	flags.StringVar(&o.profile, "profile", "", "the platform team's Profile file")
	flags.StringArrayVar(&o.envs, "env", nil, "an Environment file merged onto the application; repeat to merge several, in order")
	flags.StringVarP(&o.output, "output", "o", outputYAML, "output format: yaml or json")
	for _, f := range []string{"filename", "profile", "env"} {
		_ = cmd.MarkFlagFilename(f, "yaml", "yml", "json")
	}
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{outputYAML, outputJSON}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (o *renderOptions) run(cmd *cobra.Command) error {
	if o.output != outputYAML && o.output != outputJSON {
		return fmt.Errorf("--output must be %s or %s, got %q", outputYAML, outputJSON, o.output)
	}
	app, err := o.compose(cmd.InOrStdin())
	if err != nil {
		return err
	}
	objs, err := render.Render(app)
	if err != nil {
		return err
	}
	print := render.YAML
	if o.output == outputJSON {
		print = render.JSON
	}
	b, err := print(objs)
	if err != nil {
		return err
	}
	_, err = cmd.OutOrStdout().Write(b)
	return err
}

// compose reads the files the flags name and composes the application they describe.
func (o *renderOptions) compose(stdin io.Reader) (*model.Application, error) {
	app, err := parseFile(stdin, "--filename", o.filename, model.ParseApplication)
	if err != nil {
		return nil, err
	}
	envs := make([]*model.Environment, 0, len(o.envs))
	for _, f := range o.envs {
		env, err := parseFile(stdin, "--env", f, model.ParseEnvironment)
		if err != nil {
			return nil, err
		}
		envs = append(envs, env)
	}
	var prof *model.Profile
	if o.profile != "" {
		if prof, err = parseFile(stdin, "--profile", o.profile, model.ParseProfile); err != nil {
			return nil, err
		}
	}
	return profile.Compose(app, prof, envs...)
}

// parseFile reads the file flag names ("-": stdin) and parses it; errors name the flag
// and the file.
func parseFile[T any](stdin io.Reader, flag, path string, parse func([]byte) (T, error)) (T, error) {
	var zero T
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return zero, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	v, err := parse(data)
	if err != nil {
		return zero, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	return v, nil
}
