package pki

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"strings"
	"testing"
	"time"
)

func TestSignVerifiesAgainstCA(t *testing.T) {
	ca, err := NewCA("test-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCA("other-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		req     CertRequest
		usage   x509.ExtKeyUsage
		dnsName string
		wantErr string
	}{
		{name: "client", req: CertRequest{CommonName: "admin", Organizations: []string{"system:masters"}, Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, usage: x509.ExtKeyUsageClientAuth},
		{name: "serving", req: CertRequest{CommonName: "apiserver", DNSNames: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}, Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, usage: x509.ExtKeyUsageServerAuth, dnsName: "localhost"},
		{name: "no common name", req: CertRequest{Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, wantErr: "commonName is required"},
		{name: "no usage", req: CertRequest{CommonName: "x"}, wantErr: "at least one usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kp, err := ca.Sign(tt.req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Sign() error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			opts := x509.VerifyOptions{Roots: pool(ca), KeyUsages: []x509.ExtKeyUsage{tt.usage}, DNSName: tt.dnsName}
			if _, err := kp.Cert.Verify(opts); err != nil {
				t.Errorf("certificate does not verify against its CA: %v", err)
			}
			opts.Roots = pool(other)
			if _, err := kp.Cert.Verify(opts); err == nil {
				t.Errorf("certificate verifies against an unrelated CA")
			}
			if kp.Cert.NotAfter.After(ca.Cert.NotAfter) {
				t.Errorf("certificate outlives its CA: %v > %v", kp.Cert.NotAfter, ca.Cert.NotAfter)
			}
			if got := kp.Cert.Subject.Organization; len(got) != len(tt.req.Organizations) {
				t.Errorf("organizations = %v, want %v", got, tt.req.Organizations)
			}
		})
	}
}

func TestWriteLoadRoundTrip(t *testing.T) {
	ca, err := NewCA("ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, keyPath, err := ca.WriteFiles(dir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Cert.Equal(ca.Cert) || !got.Key.Equal(ca.Key) {
		t.Fatal("loaded pair differs from the written one")
	}
}

func TestParseRejectsMismatchedKey(t *testing.T) {
	a, _ := NewCA("a", time.Hour)
	b, _ := NewCA("b", time.Hour)
	tests := []struct {
		name         string
		cert, key    []byte
		wantContains string
	}{
		{"mismatch", a.CertPEM(), b.KeyPEM(), "does not match"},
		{"not a cert", []byte("junk"), a.KeyPEM(), "CERTIFICATE"},
		{"not a key", a.CertPEM(), a.CertPEM(), "EC PRIVATE KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.cert, tt.key)
			if err == nil || !strings.Contains(err.Error(), tt.wantContains) {
				t.Fatalf("Parse() error = %v, want it to contain %q", err, tt.wantContains)
			}
		})
	}
}

func pool(ca *KeyPair) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

func TestNewSigningKeyPEM(t *testing.T) {
	keyPEM, pubPEM, err := NewSigningKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	keyBlock, _ := pem.Decode(keyPEM)
	pubBlock, _ := pem.Decode(pubPEM)
	if keyBlock == nil || pubBlock == nil {
		t.Fatal("the key or public key is not PEM")
	}
	key, err := x509.ParseECPrivateKey(keyBlock.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(pubBlock.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !key.PublicKey.Equal(pub) {
		t.Error("the public PEM is not the private key's public half")
	}
}
