package host

import (
	"context"

	"k8s.io/client-go/rest"

	"github.com/vcp-dev/vcp/tenant-apiserver/internal/controllers"
	"github.com/vcp-dev/vcp/tenant-apiserver/tenantpki"
)

// runControllers runs the tenant's controllers until ctx ends.
func runControllers(ctx context.Context, tenant string, loopback *rest.Config, files *tenantpki.Files, started func()) error {
	return controllers.Run(ctx, controllers.Config{
		Tenant:                tenant,
		Loopback:              loopback,
		ServiceAccountKeyFile: files.ServiceAccountKey,
		RootCAFile:            files.CACert,
		Started:               started,
	})
}
