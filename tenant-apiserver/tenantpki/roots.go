package tenantpki

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/vcp-dev/vcp/internal/pki"
)

// RootFiles are the long-lived parts of a tenant's PKI: its three CAs and its
// service-account signing key. Whoever holds them can mint any of the tenant's
// credentials, so the vc-manager keeps them in a Secret and hands them to whichever host
// serves the tenant; leaf certificates are issued (and renewed) by the host from them.
var RootFiles = []string{
	"ca.crt", "ca.key",
	"client-ca.crt", "client-ca.key",
	"front-proxy-ca.crt", "front-proxy-ca.key",
	"sa.key", "sa.pub",
}

// NewRoots makes a fresh set of RootFiles for a tenant.
func NewRoots(tenant string) (map[string][]byte, error) {
	roots := make(map[string][]byte, len(RootFiles))
	for _, ca := range []struct{ file, cn string }{
		{"ca", tenant + "-ca"}, {"client-ca", tenant + "-client-ca"}, {"front-proxy-ca", tenant + "-front-proxy-ca"},
	} {
		kp, err := pki.NewCA(ca.cn, caValidity)
		if err != nil {
			return nil, err
		}
		roots[ca.file+".crt"], roots[ca.file+".key"] = kp.CertPEM(), kp.KeyPEM()
	}
	key, pub, err := pki.NewSigningKeyPEM()
	if err != nil {
		return nil, err
	}
	roots["sa.key"], roots["sa.pub"] = key, pub
	return roots, nil
}

// ValidateRoots checks that roots holds exactly the RootFiles and that each CA pair
// parses and matches, naming the first bad file.
func ValidateRoots(roots map[string][]byte) error {
	var missing, unknown []string
	for _, f := range RootFiles {
		if len(roots[f]) == 0 {
			missing = append(missing, f)
		}
	}
	for f := range roots {
		if !slices.Contains(RootFiles, f) {
			unknown = append(unknown, f)
		}
	}
	sort.Strings(unknown)
	switch {
	case len(missing) > 0:
		return fmt.Errorf("pki: missing %s", strings.Join(missing, ", "))
	case len(unknown) > 0:
		return fmt.Errorf("pki: unknown files %s (want %s)", strings.Join(unknown, ", "), strings.Join(RootFiles, ", "))
	}
	for _, ca := range []string{"ca", "client-ca", "front-proxy-ca"} {
		kp, err := pki.Parse(roots[ca+".crt"], roots[ca+".key"])
		if err != nil {
			return fmt.Errorf("pki: %s.crt/%s.key: %w", ca, ca, err)
		}
		if !kp.Cert.IsCA {
			return fmt.Errorf("pki: %s.crt is not a CA certificate", ca)
		}
	}
	return nil
}

// WriteRoots puts roots into a tenant's PKI directory, replacing files whose content
// differs. Leaf certificates signed by a replaced CA are re-issued by the next Ensure.
func WriteRoots(dir string, roots map[string][]byte) (changed bool, err error) {
	if err := ValidateRoots(roots); err != nil {
		return false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, err
	}
	for _, f := range RootFiles {
		path := filepath.Join(dir, f)
		old, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return changed, err
		}
		if bytes.Equal(old, roots[f]) {
			continue
		}
		mode := os.FileMode(0o600)
		if strings.HasSuffix(f, ".crt") || f == "sa.pub" {
			mode = 0o644
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, roots[f], mode); err != nil {
			return changed, err
		}
		if err := os.Rename(tmp, path); err != nil {
			return changed, err
		}
		changed = true
	}
	return changed, nil
}
