// Command tenant-apiserver serves many tenants' Kubernetes API servers from one process
// behind one TLS port; see tenant-apiserver/host.
package main

import (
	"os"

	"k8s.io/component-base/cli"

	"github.com/vcp-dev/vcp/tenant-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewCommand()))
}
