package host

import (
	"context"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/vcp-dev/vcp/tenant-apiserver/internal/controllers"
	"github.com/vcp-dev/vcp/tenant-apiserver/tenantpki"
)

// rootBundle is the root CA file the tenant publishes: its serving CA and the host's
// in-cluster CA, which pods need to trust the in-cluster names (the serving CA alone
// should the bundle not be written; that is logged).
func (t *Tenant) rootBundle() string {
	t.mu.Lock()
	files := t.files
	t.mu.Unlock()
	if t.h.inCluster == nil {
		return files.CACert
	}
	bundle, err := files.WriteRootBundle(t.h.inCluster.files.CACert)
	if err != nil {
		klog.ErrorS(err, "Writing the tenant's root bundle failed; publishing its serving CA alone (in-cluster names will not verify)", "tenant", t.spec.Name)
		return files.CACert
	}
	return bundle
}

// runControllers runs the tenant's controllers until ctx ends. rootCAFile is what the
// root CA publisher puts in every namespace's kube-root-ca.crt (the pods' ca.crt).
func runControllers(ctx context.Context, tenant string, loopback *rest.Config, shared informers.SharedInformerFactory, files *tenantpki.Files, rootCAFile string, started func()) error {
	return controllers.Run(ctx, controllers.Config{
		Tenant:                tenant,
		Loopback:              loopback,
		Informers:             shared,
		ServiceAccountKeyFile: files.ServiceAccountKey,
		RootCAFile:            rootCAFile,
		Started:               started,
	})
}
