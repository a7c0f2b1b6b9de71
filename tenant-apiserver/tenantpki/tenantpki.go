// Package tenantpki makes and renews the PKI of one tenant: a serving CA and serving
// certificate, a client CA and the admin's client certificate, a front-proxy CA and the
// aggregator's proxy client certificate, and the service-account signing key. Every tenant
// has its own, so that a credential of one tenant means nothing to another.
package tenantpki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/vcp-dev/vcp/internal/pki"
)

const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 365 * 24 * time.Hour
	// RenewBefore is how long before expiry a leaf certificate is renewed.
	RenewBefore = 60 * 24 * time.Hour
	// AdminUser is the user name of the admin kubeconfig's client certificate.
	AdminUser = "vcp:tenant-admin"
)

// Files are the paths of a tenant's PKI under one directory.
type Files struct {
	Dir                                    string
	CACert, ClientCACert, FrontProxyCACert string
	ServingCert, ServingKey                string
	AdminCert, AdminKey                    string
	ProxyClientCert, ProxyClientKey        string
	ServiceAccountKey, ServiceAccountPub   string
}

// Request says what the tenant's serving certificate must cover.
type Request struct {
	// Tenant is the tenant's name (certificate subjects).
	Tenant string
	// DNSNames and IPs the serving certificate is valid for.
	DNSNames []string
	IPs      []net.IP
}

func filesIn(dir string) *Files {
	p := func(n string) string { return filepath.Join(dir, n) }
	return &Files{
		Dir:    dir,
		CACert: p("ca.crt"), ClientCACert: p("client-ca.crt"), FrontProxyCACert: p("front-proxy-ca.crt"),
		ServingCert: p("serving.crt"), ServingKey: p("serving.key"),
		AdminCert: p("admin.crt"), AdminKey: p("admin.key"),
		ProxyClientCert: p("front-proxy-client.crt"), ProxyClientKey: p("front-proxy-client.key"),
		ServiceAccountKey: p("sa.key"), ServiceAccountPub: p("sa.pub"),
	}
}

// Ensure makes whatever of the tenant's PKI is missing in dir and renews leaf certificates
// that expire within RenewBefore or no longer cover the requested names. The API server
// reloads renewed serving and CA files by itself. It reports whether anything changed.
func Ensure(dir string, req Request) (*Files, bool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, err
	}
	f := filesIn(dir)
	changed := false
	ca, c1, err := ensureCA(dir, "ca", req.Tenant+"-ca")
	if err != nil {
		return nil, false, err
	}
	clientCA, c2, err := ensureCA(dir, "client-ca", req.Tenant+"-client-ca")
	if err != nil {
		return nil, false, err
	}
	proxyCA, c3, err := ensureCA(dir, "front-proxy-ca", req.Tenant+"-front-proxy-ca")
	if err != nil {
		return nil, false, err
	}
	changed = c1 || c2 || c3
	serverAuth := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	clientAuth := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	leaves := []struct {
		name string
		ca   *pki.KeyPair
		req  pki.CertRequest
	}{
		{"serving", ca, pki.CertRequest{CommonName: req.Tenant + "-apiserver", DNSNames: req.DNSNames, IPs: req.IPs, Usages: serverAuth, Validity: leafValidity}},
		{"admin", clientCA, pki.CertRequest{CommonName: AdminUser, Organizations: []string{"system:masters"}, Usages: clientAuth, Validity: leafValidity}},
		{"front-proxy-client", proxyCA, pki.CertRequest{CommonName: "front-proxy-client", Usages: clientAuth, Validity: leafValidity}},
	}
	for _, l := range leaves {
		kp, err := pki.Load(filepath.Join(dir, l.name+".crt"), filepath.Join(dir, l.name+".key"))
		if err == nil && !needsRenewal(kp, l.ca, l.req, time.Now()) {
			continue
		}
		if kp, err = l.ca.Sign(l.req); err != nil {
			return nil, false, err
		}
		if _, _, err := kp.WriteFiles(dir, l.name); err != nil {
			return nil, false, err
		}
		changed = true
	}
	if _, err := os.Stat(f.ServiceAccountPub); errors.Is(err, fs.ErrNotExist) {
		if err := pki.WriteSigningKey(f.ServiceAccountKey, f.ServiceAccountPub); err != nil {
			return nil, false, err
		}
		changed = true
	}
	return f, changed, nil
}

// needsRenewal reports whether kp must be re-issued: signed by another CA, expiring
// within RenewBefore, or missing a requested name.
func needsRenewal(kp, ca *pki.KeyPair, req pki.CertRequest, now time.Time) bool {
	if kp.Cert.CheckSignatureFrom(ca.Cert) != nil {
		return true
	}
	if now.Add(RenewBefore).After(kp.Cert.NotAfter) {
		return true
	}
	for _, name := range req.DNSNames {
		if !slices.Contains(kp.Cert.DNSNames, name) {
			return true
		}
	}
	for _, ip := range req.IPs {
		if !slices.ContainsFunc(kp.Cert.IPAddresses, ip.Equal) {
			return true
		}
	}
	return false
}

func ensureCA(dir, name, commonName string) (*pki.KeyPair, bool, error) {
	ca, err := pki.Load(filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key"))
	if err == nil {
		// A CA is not renewed in place: that would invalidate every credential it issued.
		return ca, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("%s in %s: %w", name, dir, err)
	}
	if ca, err = pki.NewCA(commonName, caValidity); err != nil {
		return nil, false, err
	}
	if _, _, err := ca.WriteFiles(dir, name); err != nil {
		return nil, false, err
	}
	return ca, true, nil
}

// Kubeconfig renders the tenant's admin kubeconfig. server is the host's URL; serverName
// is sent as SNI (tls-server-name) so the host routes to the tenant.
func (f *Files) Kubeconfig(tenant, server, serverName string) ([]byte, error) {
	ca, err := os.ReadFile(f.CACert)
	if err != nil {
		return nil, err
	}
	cert, err := os.ReadFile(f.AdminCert)
	if err != nil {
		return nil, err
	}
	key, err := os.ReadFile(f.AdminKey)
	if err != nil {
		return nil, err
	}
	name := "vcp-" + tenant
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: server, TLSServerName: serverName, CertificateAuthorityData: ca}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{ClientCertificateData: cert, ClientKeyData: key}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	cfg.CurrentContext = name
	return clientcmd.Write(*cfg)
}
