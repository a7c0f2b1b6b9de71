package host

import (
	"context"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/rest"

	"github.com/vcp-dev/vcp/tenant-apiserver/internal/controllers"
	"github.com/vcp-dev/vcp/tenant-apiserver/tenantpki"
)

// runControllers runs the tenant's controllers until ctx ends.
func runControllers(ctx context.Context, tenant string, loopback *rest.Config, shared informers.SharedInformerFactory, files *tenantpki.Files, started func()) error {
	return controllers.Run(ctx, controllers.Config{
		Tenant:                tenant,
		Loopback:              loopback,
		Informers:             shared,
		ServiceAccountKeyFile: files.ServiceAccountKey,
		RootCAFile:            files.CACert,
		Started:               started,
	})
}
