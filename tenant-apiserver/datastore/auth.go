package datastore

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/vcp-dev/vcp/internal/pki"
)

// rootUser is etcd's administrative user.
const rootUser = "root"

// Auth lets the datastore give each tenant an etcd user of its own, whose role may only
// read and write the tenant's key prefix. Tenants authenticate with a client certificate
// whose common name is the user name (etcd --client-cert-auth), which is how
// kube-apiserver authenticates to etcd.
type Auth struct {
	// ClientCA signs tenants' client certificates; etcd trusts it for client auth.
	ClientCA *pki.KeyPair
	// ServerCAFile verifies etcd's serving certificate.
	ServerCAFile string
}

// TenantUser is the etcd user and role of the tenant with the given key prefix.
func TenantUser(prefix string) string {
	return "vcp-" + strings.ReplaceAll(strings.Trim(prefix, "/"), "/", "-")
}

// AuthEnabled reports whether tenants get etcd users of their own.
func (ds *Datastore) AuthEnabled() bool { return ds.auth != nil }

// EnsureTenant returns how a tenant with key prefix reaches etcd. With auth enabled it
// creates (idempotently) the tenant's role, limited to [prefix, prefix-end), and user, and
// writes a client certificate for that user into dir; otherwise every tenant shares the
// datastore's client configuration.
func (ds *Datastore) EnsureTenant(ctx context.Context, prefix, dir string) (ClientConfig, error) {
	if err := ValidatePrefix(prefix); err != nil {
		return ClientConfig{}, err
	}
	if ds.auth == nil {
		return ds.Client, nil
	}
	user := TenantUser(prefix)
	if _, err := ds.kv.RoleAdd(ctx, user); err != nil && !errors.Is(err, rpctypes.ErrRoleAlreadyExist) {
		return ClientConfig{}, fmt.Errorf("etcd role %s: %w", user, err)
	}
	if _, err := ds.kv.RoleGrantPermission(ctx, user, prefix, clientv3.GetPrefixRangeEnd(prefix), clientv3.PermissionType(clientv3.PermReadWrite)); err != nil {
		return ClientConfig{}, fmt.Errorf("etcd role %s: grant %s: %w", user, prefix, err)
	}
	if _, err := ds.kv.UserAddWithOptions(ctx, user, "", &clientv3.UserAddOptions{NoPassword: true}); err != nil && !errors.Is(err, rpctypes.ErrUserAlreadyExist) {
		return ClientConfig{}, fmt.Errorf("etcd user %s: %w", user, err)
	}
	if _, err := ds.kv.UserGrantRole(ctx, user, user); err != nil {
		return ClientConfig{}, fmt.Errorf("etcd user %s: grant role: %w", user, err)
	}
	certPath, keyPath, _, err := ds.ensureTenantCertificate(user, dir)
	if err != nil {
		return ClientConfig{}, err
	}
	return ClientConfig{Endpoints: ds.Client.Endpoints, CAFile: ds.auth.ServerCAFile, CertFile: certPath, KeyFile: keyPath}, nil
}

// RenewBefore is how long before expiry a tenant's etcd client certificate is renewed.
const RenewBefore = 60 * 24 * time.Hour

// RenewTenantCertificate renews the etcd client certificate of the tenant with key prefix
// in dir when it expires within RenewBefore (or is missing or not the datastore's). The
// etcd client reads the files again at every TLS handshake, so a running tenant uses
// the new certificate from its next connection on. A no-op without auth.
func (ds *Datastore) RenewTenantCertificate(prefix, dir string) (renewed bool, err error) {
	if ds.auth == nil {
		return false, nil
	}
	_, _, renewed, err = ds.ensureTenantCertificate(TenantUser(prefix), dir)
	return renewed, err
}

func (ds *Datastore) ensureTenantCertificate(user, dir string) (certPath, keyPath string, renewed bool, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", false, err
	}
	certPath, keyPath = filepath.Join(dir, "etcd-client.crt"), filepath.Join(dir, "etcd-client.key")
	kp, err := pki.Load(certPath, keyPath)
	if err == nil && kp.Cert.Subject.CommonName == user && kp.Cert.CheckSignatureFrom(ds.auth.ClientCA.Cert) == nil &&
		time.Until(kp.Cert.NotAfter) > RenewBefore {
		return certPath, keyPath, false, nil
	}
	if kp, err = ds.auth.ClientCA.Sign(pki.CertRequest{CommonName: user, Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return "", "", false, err
	}
	if _, _, err := kp.WriteFiles(dir, "etcd-client"); err != nil {
		return "", "", false, err
	}
	return certPath, keyPath, true, nil
}

// DeleteTenantUser removes a tenant's etcd user and role; a no-op without auth.
func (ds *Datastore) DeleteTenantUser(ctx context.Context, prefix string) error {
	if ds.auth == nil {
		return nil
	}
	user := TenantUser(prefix)
	if _, err := ds.kv.UserDelete(ctx, user); err != nil && !errors.Is(err, rpctypes.ErrUserNotFound) {
		return fmt.Errorf("delete etcd user %s: %w", user, err)
	}
	if _, err := ds.kv.RoleDelete(ctx, user); err != nil && !errors.Is(err, rpctypes.ErrRoleNotFound) {
		return fmt.Errorf("delete etcd role %s: %w", user, err)
	}
	return nil
}

// TenantUserExists reports whether the tenant's etcd user exists.
func (ds *Datastore) TenantUserExists(ctx context.Context, prefix string) (bool, error) {
	if ds.auth == nil {
		return false, nil
	}
	_, err := ds.kv.UserGet(ctx, TenantUser(prefix))
	if errors.Is(err, rpctypes.ErrUserNotFound) {
		return false, nil
	}
	return err == nil, err
}

// embeddedPKI makes (or reuses) the embedded etcd's CA, serving certificate and root client
// certificate in dir.
func embeddedPKI(dir string) (ca *pki.KeyPair, serverCert, serverKey, rootCert, rootKey string, err error) {
	if err = os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	caCert, caKey := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	if ca, err = pki.Load(caCert, caKey); err != nil {
		if ca, err = pki.NewCA("vcp-etcd-ca", 10*pki.DefaultValidity); err != nil {
			return
		}
		if _, _, err = ca.WriteFiles(dir, "ca"); err != nil {
			return
		}
	}
	server, err := ca.Sign(pki.CertRequest{CommonName: "vcp-etcd", DNSNames: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")},
		Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}})
	if err != nil {
		return
	}
	if serverCert, serverKey, err = server.WriteFiles(dir, "server"); err != nil {
		return
	}
	root, err := ca.Sign(pki.CertRequest{CommonName: rootUser, Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		return
	}
	rootCert, rootKey, err = root.WriteFiles(dir, "root")
	return
}

// enableAuth creates the root user and turns authentication on, unless it is on already.
func enableAuth(ctx context.Context, kv *clientv3.Client) error {
	status, err := kv.AuthStatus(ctx)
	if err != nil {
		return err
	}
	if status.Enabled {
		return nil
	}
	if _, err := kv.UserAddWithOptions(ctx, rootUser, "", &clientv3.UserAddOptions{NoPassword: true}); err != nil && !errors.Is(err, rpctypes.ErrUserAlreadyExist) {
		return err
	}
	if _, err := kv.UserGrantRole(ctx, rootUser, rootUser); err != nil {
		return err
	}
	_, err = kv.AuthEnable(ctx)
	return err
}
