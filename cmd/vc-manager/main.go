// Command vc-manager provisions vcp tenants from VirtualCluster objects; see manager/app.
package main

import (
	"os"

	"github.com/vcp-dev/vcp/manager/app"
)

func main() {
	if err := app.NewCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
