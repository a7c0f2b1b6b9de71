package host

import (
	"context"

	"k8s.io/client-go/rest"

	"github.com/vcp-dev/vcp/tenant-apiserver/internal/tenantpki"
)

// runControllers runs the tenant's controllers until ctx ends.
func runControllers(ctx context.Context, tenant string, loopback *rest.Config, files *tenantpki.Files) error {
	<-ctx.Done()
	return nil
}
