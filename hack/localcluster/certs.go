package localcluster

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/vcp-dev/vcp/internal/pki"
)

// Identities of the components: user names and groups of their client certificates.
const (
	adminUser     = "vcp-admin"
	kcmUser       = "system:kube-controller-manager"
	schedulerUser = "system:kube-scheduler"
	// KWOK writes node and pod status of every node it manages, like a fleet of kubelets.
	kwokUser = "kwok-controller"
)

// serviceClusterIPRange is the super cluster's Service CIDR; its first IP is the
// "kubernetes" Service, which the serving certificate covers.
const (
	serviceClusterIPRange = "10.96.0.0/16"
	kubernetesServiceIP   = "10.96.0.1"
	podCIDR               = "10.244.0.0/16"
)

// clusterPKI is the file layout of the super cluster's PKI under <dir>/pki.
type clusterPKI struct {
	dir string

	caCert, caKey             string
	apiserverCert, apiserverK string
	kubeletClientCert         string
	kubeletClientKey          string
	saKey, saPub              string
	kcmServingCert, kcmKey    string
	schedServingCert, schedK  string
	tokenFile                 string
	adminToken                string
}

// ensurePKI makes the CA, serving and client certificates and the service-account key,
// reusing what a previous run left so that existing kubeconfigs and tokens stay valid.
func ensurePKI(dir string) (*clusterPKI, map[string]*pki.KeyPair, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	p := &clusterPKI{dir: dir, tokenFile: filepath.Join(dir, "tokens.csv")}
	p.caCert, p.caKey = filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	ca, err := pki.Load(p.caCert, p.caKey)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("existing CA in %s is unusable (wipe the state with `make down WIPE=1`): %w", dir, err)
		}
		if ca, err = pki.NewCA("vcp-super-ca", 10*pki.DefaultValidity); err != nil {
			return nil, nil, err
		}
		if _, _, err := ca.WriteFiles(dir, "ca"); err != nil {
			return nil, nil, err
		}
	}

	localhost := []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback}
	serving := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	client := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	type want struct {
		file string
		req  pki.CertRequest
	}
	wants := []want{
		{"apiserver", pki.CertRequest{CommonName: "kube-apiserver", Usages: serving, IPs: append(localhost, net.ParseIP(kubernetesServiceIP)),
			DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}}},
		{"apiserver-kubelet-client", pki.CertRequest{CommonName: "kube-apiserver-kubelet-client", Organizations: []string{"system:masters"}, Usages: client}},
		{"kube-controller-manager", pki.CertRequest{CommonName: "kube-controller-manager", Usages: serving, IPs: localhost, DNSNames: []string{"localhost"}}},
		{"kube-scheduler", pki.CertRequest{CommonName: "kube-scheduler", Usages: serving, IPs: localhost, DNSNames: []string{"localhost"}}},
		{"admin", pki.CertRequest{CommonName: adminUser, Organizations: []string{"system:masters"}, Usages: client}},
		{"kcm-client", pki.CertRequest{CommonName: kcmUser, Usages: client}},
		{"scheduler-client", pki.CertRequest{CommonName: schedulerUser, Usages: client}},
		{"kwok-client", pki.CertRequest{CommonName: kwokUser, Organizations: []string{"system:masters"}, Usages: client}},
	}
	pairs := map[string]*pki.KeyPair{"ca": ca}
	for _, w := range wants {
		certPath, keyPath := filepath.Join(dir, w.file+".crt"), filepath.Join(dir, w.file+".key")
		kp, err := pki.Load(certPath, keyPath)
		if err == nil && validFor(kp, ca, 30*24*time.Hour) {
			pairs[w.file] = kp
			continue
		}
		if kp, err = ca.Sign(w.req); err != nil {
			return nil, nil, err
		}
		if _, _, err := kp.WriteFiles(dir, w.file); err != nil {
			return nil, nil, err
		}
		pairs[w.file] = kp
	}
	p.apiserverCert, p.apiserverK = filepath.Join(dir, "apiserver.crt"), filepath.Join(dir, "apiserver.key")
	p.kubeletClientCert, p.kubeletClientKey = filepath.Join(dir, "apiserver-kubelet-client.crt"), filepath.Join(dir, "apiserver-kubelet-client.key")
	p.kcmServingCert, p.kcmKey = filepath.Join(dir, "kube-controller-manager.crt"), filepath.Join(dir, "kube-controller-manager.key")
	p.schedServingCert, p.schedK = filepath.Join(dir, "kube-scheduler.crt"), filepath.Join(dir, "kube-scheduler.key")

	// Service-account tokens are signed with this key; the API server verifies them with
	// the public half.
	p.saKey, p.saPub = filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	if _, err := os.Stat(p.saPub); err != nil {
		if err := pki.WriteSigningKey(p.saKey, p.saPub); err != nil {
			return nil, nil, err
		}
	}

	// A static bearer token for the admin, for tools that cannot use client certificates.
	tokenPath := filepath.Join(dir, "admin.token")
	tok, err := os.ReadFile(tokenPath)
	if err != nil || len(tok) != 64 {
		buf := make([]byte, 32)
		if _, err := rand.Read(buf); err != nil {
			return nil, nil, err
		}
		tok = []byte(hex.EncodeToString(buf))
		if err := os.WriteFile(tokenPath, tok, 0o600); err != nil {
			return nil, nil, err
		}
	}
	p.adminToken = string(tok)
	line := fmt.Sprintf("%s,%s-token,%s-token,\"system:masters\"\n", tok, adminUser, adminUser)
	if err := os.WriteFile(p.tokenFile, []byte(line), 0o600); err != nil {
		return nil, nil, err
	}
	return p, pairs, nil
}

// validFor reports whether kp was signed by ca and stays valid for at least margin.
func validFor(kp, ca *pki.KeyPair, margin time.Duration) bool {
	if kp.Cert.CheckSignatureFrom(ca.Cert) != nil {
		return false
	}
	return time.Now().Add(margin).Before(kp.Cert.NotAfter)
}

// writeKubeconfig writes a kubeconfig for user, authenticating with the client pair.
func writeKubeconfig(path, server, contextName string, ca, client *pki.KeyPair) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[contextName] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca.CertPEM()}
	cfg.AuthInfos[contextName] = &clientcmdapi.AuthInfo{ClientCertificateData: client.CertPEM(), ClientKeyData: client.KeyPEM()}
	cfg.Contexts[contextName] = &clientcmdapi.Context{Cluster: contextName, AuthInfo: contextName}
	cfg.CurrentContext = contextName
	return clientcmd.WriteToFile(*cfg, path)
}
