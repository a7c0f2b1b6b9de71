// Package app implements the vcapp command tree. The format it reads is package
// appdelivery/model; composing files is package appdelivery/profile; rendering is
// package appdelivery/render.
package app

import (
	"io"

	"github.com/spf13/cobra"
)

// NewCommand returns the root vcapp command writing to out and errOut.
func NewCommand(out, errOut io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "vcapp",
		Short: "Application delivery CLI of vcp, the virtual-cluster platform",
		Long: "vcapp turns an application (components and traits, apps.vcp.dev/v1alpha1), the platform\n" +
			"team's profile and per-environment overlays into Kubernetes objects, and delivers them to\n" +
			"clusters: plan, deploy, status, history, rollback, delete, logs.\n\n" +
			"Exit status of the delivery commands: 0 healthy, 1 error, 2 difference present (plan\n" +
			"--exit-code), 3 unhealthy or timed out.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(out)
	root.SetErr(errOut)
	root.AddCommand(newInitCommand(), newRenderCommand(), newPlanCommand(), newDeployCommand(), newStatusCommand(),
		newHistoryCommand(), newRollbackCommand(), newDeleteCommand(), newLogsCommand())
	return root
}
