package host

import (
	"crypto/tls"
	"crypto/x509"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/vcp-dev/vcp/internal/pki"
)

// TestCertificatesRenewedWhileRunning checks that a running tenant's certificates are
// renewed before they expire, without a restart: the serving certificate is swapped for
// one that expires in ten days (the server picks it up by itself), then a renewal check
// replaces it and the admin certificate, the server serves the new one, and the host's
// kubeconfig carries a working new admin certificate.
func TestCertificatesRenewedWhileRunning(t *testing.T) {
	h := startHost(t, Options{DisableControllers: true})
	ctx := t.Context()
	if _, err := h.Add(ctx, TenantSpec{Name: "a", UID: "uid-a"}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(h.tenantDir("a"), "pki")
	reissue := func(name, caName string) {
		t.Helper()
		ca, err := pki.Load(filepath.Join(dir, caName+".crt"), filepath.Join(dir, caName+".key"))
		if err != nil {
			t.Fatal(err)
		}
		old, err := pki.Load(filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key"))
		if err != nil {
			t.Fatal(err)
		}
		kp, err := ca.Sign(pki.CertRequest{CommonName: old.Cert.Subject.CommonName, Organizations: old.Cert.Subject.Organization,
			DNSNames: old.Cert.DNSNames, IPs: old.Cert.IPAddresses, Usages: old.Cert.ExtKeyUsage, Validity: 10 * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := kp.WriteFiles(dir, name); err != nil {
			t.Fatal(err)
		}
	}
	reissue("serving", "ca")
	reissue("admin", "client-ca")

	u, err := url.Parse(h.URL())
	if err != nil {
		t.Fatal(err)
	}
	served := func() *x509.Certificate {
		conn, err := tls.Dial("tcp", u.Host, &tls.Config{ServerName: h.ServerName("a"), InsecureSkipVerify: true})
		if err != nil {
			return nil
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0]
	}
	waitFor(t, 90*time.Second, "the server to serve the ten-day certificate", func() (bool, error) {
		c := served()
		return c != nil && time.Until(c.NotAfter) < 11*24*time.Hour, nil
	})

	h.renewCertificates()
	waitFor(t, 90*time.Second, "the server to serve a renewed certificate", func() (bool, error) {
		c := served()
		return c != nil && time.Until(c.NotAfter) > 300*24*time.Hour, nil
	})
	kc, err := h.Kubeconfig("a")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kc)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := pki.Parse(cfg.CertData, cfg.KeyData)
	if err != nil {
		t.Fatal(err)
	}
	if time.Until(admin.Cert.NotAfter) < 300*24*time.Hour {
		t.Errorf("kubeconfig's admin certificate expires %s, want renewed", admin.Cert.NotAfter)
	}
	if _, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("the renewed kubeconfig does not work: %v", err)
	}
	if renewed, err := h.Tenants()[0].renewCertificates(); err != nil || renewed {
		t.Errorf("a second check renewed again (%v, %v)", renewed, err)
	}
}
