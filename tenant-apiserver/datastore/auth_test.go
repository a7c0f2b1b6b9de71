package datastore

import (
	"crypto/x509"
	"path/filepath"
	"testing"
	"time"

	"github.com/vcp-dev/vcp/internal/pki"
)

// TestRenewTenantCertificate checks that a tenant's etcd client certificate is renewed
// once it expires within RenewBefore, and left alone otherwise.
func TestRenewTenantCertificate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an embedded etcd; skipped in -short mode")
	}
	dir := t.TempDir()
	ds, err := EmbeddedWithOptions(t.Context(), dir, EmbeddedOptions{Auth: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ds.Close)
	tenantDir := filepath.Join(dir, "tenant")
	const prefix = "/vcp/uid-a/"
	cfg, err := ds.EnsureTenant(t.Context(), prefix, tenantDir)
	if err != nil {
		t.Fatal(err)
	}
	if renewed, err := ds.RenewTenantCertificate(prefix, tenantDir); err != nil || renewed {
		t.Fatalf("a fresh certificate was renewed (%v, %v)", renewed, err)
	}
	soon, err := ds.auth.ClientCA.Sign(pki.CertRequest{CommonName: TenantUser(prefix), Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, Validity: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := soon.WriteFiles(tenantDir, "etcd-client"); err != nil {
		t.Fatal(err)
	}
	if renewed, err := ds.RenewTenantCertificate(prefix, tenantDir); err != nil || !renewed {
		t.Fatalf("a certificate expiring in 30 days was not renewed (%v, %v)", renewed, err)
	}
	kp, err := pki.Load(cfg.CertFile, cfg.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if time.Until(kp.Cert.NotAfter) < RenewBefore || kp.Cert.Subject.CommonName != TenantUser(prefix) || kp.Cert.CheckSignatureFrom(ds.auth.ClientCA.Cert) != nil {
		t.Errorf("renewed certificate: %s, expires %s", kp.Cert.Subject, kp.Cert.NotAfter)
	}
}
