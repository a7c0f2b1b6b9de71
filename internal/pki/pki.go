// Package pki makes the certificate authorities, serving and client certificates and
// signing keys that vcp's control planes need: the local super cluster's kube-apiserver
// and its components, and (later) each tenant's API server. Keys are ECDSA P-256, which
// is fast to generate and accepted by every Kubernetes component.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// DefaultValidity is how long a certificate made by this package is valid.
const DefaultValidity = 365 * 24 * time.Hour

// KeyPair is a certificate and its private key.
type KeyPair struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// CertPEM returns the certificate in PEM form.
func (kp *KeyPair) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: kp.Cert.Raw})
}

// KeyPEM returns the private key in PEM form.
func (kp *KeyPair) KeyPEM() []byte {
	return EncodeKey(kp.Key)
}

// EncodeKey returns an EC private key in PEM form.
func EncodeKey(key *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		// Only fails for curves x509 does not know; P-256 is always known.
		panic(fmt.Sprintf("marshal P-256 key: %v", err))
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

// EncodePublicKey returns a public key in PKIX PEM form.
func EncodePublicKey(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// NewKey makes an ECDSA P-256 private key.
func NewKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// NewCA makes a self-signed certificate authority.
func NewCA(commonName string, validity time.Duration) (*KeyPair, error) {
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          newSerial(),
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create CA %q: %w", commonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &KeyPair{Cert: cert, Key: key}, nil
}

// CertRequest describes a certificate to sign.
type CertRequest struct {
	// CommonName becomes the user name of a client certificate.
	CommonName string
	// Organizations become the groups of a client certificate.
	Organizations []string
	// DNSNames and IPs are the serving names of a serving certificate.
	DNSNames []string
	IPs      []net.IP
	// Usages are the extended key usages; ServerAuth, ClientAuth or both.
	Usages []x509.ExtKeyUsage
	// Validity defaults to DefaultValidity.
	Validity time.Duration
}

// Sign makes a key and a certificate for req signed by the CA.
func (ca *KeyPair) Sign(req CertRequest) (*KeyPair, error) {
	if req.CommonName == "" {
		return nil, errors.New("certificate request: commonName is required")
	}
	if len(req.Usages) == 0 {
		return nil, fmt.Errorf("certificate request %q: at least one usage is required", req.CommonName)
	}
	validity := req.Validity
	if validity == 0 {
		validity = DefaultValidity
	}
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	notAfter := now.Add(validity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(),
		Subject:      pkix.Name{CommonName: req.CommonName, Organization: req.Organizations},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  req.Usages,
		DNSNames:     req.DNSNames,
		IPAddresses:  req.IPs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("sign certificate %q: %w", req.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &KeyPair{Cert: cert, Key: key}, nil
}

// WriteFiles writes the pair as <dir>/<name>.crt and <dir>/<name>.key (mode 0600) and
// returns both paths.
func (kp *KeyPair) WriteFiles(dir, name string) (certPath, keyPath string, err error) {
	certPath = filepath.Join(dir, name+".crt")
	keyPath = filepath.Join(dir, name+".key")
	// The key first: a reader that sees the new certificate then finds its key (servers
	// reload renewed pairs while they run, and keep the old pair when the two disagree).
	if err := WriteFileAtomic(keyPath, kp.KeyPEM(), 0o600); err != nil {
		return "", "", err
	}
	if err := WriteFileAtomic(certPath, kp.CertPEM(), 0o644); err != nil {
		return "", "", err
	}
	return certPath, keyPath, nil
}

// WriteFileAtomic replaces path with data by renaming a finished temporary file over
// it, so a reader sees the old content or the new, never a partial file.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Load reads a pair written by WriteFiles.
func Load(certPath, keyPath string) (*KeyPair, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	return Parse(certPEM, keyPEM)
}

// Parse decodes a PEM certificate and EC private key.
func Parse(certPEM, keyPEM []byte) (*KeyPair, error) {
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block found")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil || kb.Type != "EC PRIVATE KEY" {
		return nil, errors.New("no PEM EC PRIVATE KEY block found")
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, errors.New("private key does not match certificate")
	}
	return &KeyPair{Cert: cert, Key: key}, nil
}

func newSerial() *big.Int {
	// 128 random bits, as RFC 5280 recommends at least 64 bits of entropy.
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return n.Add(n, big.NewInt(1))
}

// NewSigningKeyPEM makes a key pair for signing service-account tokens and returns the
// PEM of the private key and of its public half.
func NewSigningKeyPEM() (keyPEM, pubPEM []byte, err error) {
	key, err := NewKey()
	if err != nil {
		return nil, nil, err
	}
	pub, err := EncodePublicKey(key.Public())
	if err != nil {
		return nil, nil, err
	}
	return EncodeKey(key), pub, nil
}

// WriteSigningKey writes a new NewSigningKeyPEM pair to keyPath (0600) and pubPath.
func WriteSigningKey(keyPath, pubPath string) error {
	key, pub, err := NewSigningKeyPEM()
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyPath, key, 0o600); err != nil {
		return err
	}
	return os.WriteFile(pubPath, pub, 0o644)
}
