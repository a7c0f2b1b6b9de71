package host

import (
	"time"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2"

	"github.com/vcp-dev/vcp/tenant-apiserver/tenantpki"
)

// DefaultRenewInterval is how often the host checks its tenants' certificates.
const DefaultRenewInterval = time.Hour

var certificateRenewals = metrics.NewCounterVec(&metrics.CounterOpts{
	Namespace: "vcp", Subsystem: "host", Name: "certificate_renewals_total",
	Help: "Renewals of tenants' certificates (serving, admin, front-proxy client, etcd client) by a running host, by result.",
}, []string{"result"})

func init() { legacyregistry.MustRegister(certificateRenewals) }

// renewLoop renews running tenants' certificates that expire within
// tenantpki.RenewBefore (or datastore.RenewBefore), every interval, until stop is closed.
// A tenant's server reloads renewed serving and CA files by itself, its etcd client reads
// its certificate at every connection, and the manager re-publishes the admin
// kubeconfig it reads from the host; a tenant that is never restarted keeps working past
// its certificates' first year.
func (h *Host) renewLoop(interval time.Duration, stop <-chan struct{}) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
			h.renewCertificates()
		}
	}
}

// renewCertificates renews what is due in every tenant the host runs.
func (h *Host) renewCertificates() {
	if h.inCluster != nil {
		if _, err := h.inCluster.renew(); err != nil {
			certificateRenewals.WithLabelValues("error").Inc()
			klog.ErrorS(err, "Renewing the in-cluster certificate failed; retrying at the next check")
		}
	}
	for _, t := range h.Tenants() {
		renewed, err := t.renewCertificates()
		switch {
		case err != nil:
			certificateRenewals.WithLabelValues("error").Inc()
			klog.ErrorS(err, "Renewing certificates failed; retrying at the next check", "tenant", t.spec.Name)
		case renewed:
			certificateRenewals.WithLabelValues("renewed").Inc()
			klog.InfoS("Renewed certificates", "tenant", t.spec.Name)
		}
	}
}

// renewCertificates renews the tenant's leaf certificates and etcd client certificate
// that are due, and reports whether it renewed any.
func (t *Tenant) renewCertificates() (bool, error) {
	t.pkiMu.Lock()
	defer t.pkiMu.Unlock()
	_, leaves, err := tenantpki.Ensure(t.dir+"/pki", t.pkiRequest())
	if err != nil {
		return false, err
	}
	etcd, err := t.h.opts.Datastore.RenewTenantCertificate(t.spec.prefix(), t.dir+"/pki")
	return leaves || etcd, err
}
