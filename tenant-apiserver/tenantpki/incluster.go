package tenantpki

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"time"

	"github.com/vcp-dev/vcp/internal/clusterdomain"
	"github.com/vcp-dev/vcp/internal/pki"
)

// InCluster are the paths of a host's in-cluster PKI: a CA every tenant's pods trust (it
// is in each tenant's published root bundle) and the certificate the host serves the
// clusterdomain.InClusterNames with. One host serves many tenants under those names, so the certificate
// cannot be any one tenant's.
type InCluster struct {
	CACert, Cert, Key string
}

// EnsureInCluster makes the host's in-cluster CA in dir if it is missing, and issues or
// renews its serving certificate for clusterdomain.InClusterNames(clusterDomain) when it is missing,
// expires within RenewBefore or lacks a name. It reports whether anything changed.
func EnsureInCluster(dir, clusterDomain string, now time.Time) (*InCluster, bool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, err
	}
	files := &InCluster{CACert: filepath.Join(dir, "incluster-ca.crt"), Cert: filepath.Join(dir, "incluster.crt"), Key: filepath.Join(dir, "incluster.key")}
	ca, changed, err := ensureCA(dir, "incluster-ca", "vcp-incluster-ca")
	if err != nil {
		return nil, false, err
	}
	req := pki.CertRequest{CommonName: "vcp-incluster", DNSNames: clusterdomain.InClusterNames(clusterDomain), Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, Validity: leafValidity}
	if kp, err := pki.Load(files.Cert, files.Key); err == nil && !needsRenewal(kp, ca, req, now) {
		return files, changed, nil
	}
	kp, err := ca.Sign(req)
	if err != nil {
		return nil, false, err
	}
	if _, _, err := kp.WriteFiles(dir, "incluster"); err != nil {
		return nil, false, err
	}
	return files, true, nil
}

// WriteRootBundle writes the tenant's published root bundle, bundle.crt in the tenant's
// directory: its serving CA, then the extra CAs (the host's in-cluster CA), so the pods'
// ca.crt verifies both the tenant's own name and the in-cluster names. It returns the
// path, rewriting the file only when its content changes.
func (f *Files) WriteRootBundle(extraCAFiles ...string) (string, error) {
	out, err := os.ReadFile(f.CACert)
	if err != nil {
		return "", err
	}
	for _, name := range extraCAFiles {
		extra, err := os.ReadFile(name)
		if err != nil {
			return "", err
		}
		if len(out) > 0 && out[len(out)-1] != '\n' {
			out = append(out, '\n')
		}
		out = append(out, extra...)
	}
	path := filepath.Join(f.Dir, "bundle.crt")
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, out) {
		return path, nil
	}
	return path, pki.WriteFileAtomic(path, out, 0o644)
}
