// Package app implements the vcctl command tree.
package app

import (
	"io"

	"github.com/spf13/cobra"
)

// NewCommand returns the root vcctl command writing to out and errOut.
func NewCommand(out, errOut io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "vcctl",
		Short:         "Admin CLI of vcp, the virtual-cluster platform",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(out)
	root.SetErr(errOut)
	root.AddCommand(newDevCommand())
	root.AddCommand(newTenantCommand())
	return root
}
