package app

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"
)

// starter holds the files `vcapp init` writes, as templates of {{.Name}}.
//
//go:embed starter
var starter embed.FS

// starterFiles are the files of starter, by their path in the new directory.
var starterFiles = []string{"app.yaml", filepath.Join("envs", "dev.yaml")}

// maxNameLength keeps "<name>-dev", the dev namespace, a DNS-1123 label.
const maxNameLength = validation.DNS1123LabelMaxLength - len("-dev")

func newInitCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "init [NAME]",
		Short: "Write a starter app.yaml and envs/dev.yaml",
		Long: "init writes a starter application (app.yaml) and its dev environment (envs/dev.yaml) into\n" +
			"--dir. NAME, the application's name, defaults to the directory's name. It never overwrites a file.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			return runInit(cmd, dir, name)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", ".", "directory to write the files into (created if missing)")
	_ = cmd.MarkFlagDirname("dir")
	return cmd
}

func runInit(cmd *cobra.Command, dir, name string) error {
	name, err := appName(dir, name)
	if err != nil {
		return err
	}
	for _, f := range starterFiles {
		if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
			return fmt.Errorf("%s already exists: init never overwrites a file", filepath.Join(dir, f))
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	for _, f := range starterFiles {
		if err := writeStarter(filepath.Join(dir, f), f, name); err != nil {
			return err
		}
	}
	app, env := filepath.Join(dir, starterFiles[0]), filepath.Join(dir, starterFiles[1])
	fmt.Fprintf(cmd.OutOrStdout(), "Wrote %s and %s.\nSee the objects they make: vcapp render -f %s --env %s\n", app, env, app, env)
	return nil
}

// appName returns name, or the name of dir when name is empty, once checked.
func appName(dir, name string) (string, error) {
	from := "NAME"
	if name == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", err
		}
		name, from = filepath.Base(abs), fmt.Sprintf("the name of the directory %s", abs)
	}
	if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 {
		return "", fmt.Errorf("%s, %q, is not an application name (pass NAME): %s", from, name, strings.Join(msgs, "; "))
	}
	if len(name) > maxNameLength {
		return "", fmt.Errorf("%s, %q, is longer than %d characters (the dev namespace is <name>-dev)", from, name, maxNameLength)
	}
	return name, nil
}

// writeStarter writes the starter file f, rendered for name, to path; it fails if path
// exists.
func writeStarter(path, f, name string) error {
	tmpl, err := template.ParseFS(starter, filepath.ToSlash(filepath.Join("starter", f)))
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, struct{ Name string }{name}); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := out.Write(b.Bytes()); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
