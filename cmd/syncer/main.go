// Command syncer syncs every running vcp tenant's workloads onto the super cluster; see
// syncer/app.
package main

import (
	"os"

	"github.com/vcp-dev/vcp/syncer/app"
)

func main() {
	if err := app.NewCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
