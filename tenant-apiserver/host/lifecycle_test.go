package host

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/vcp-dev/vcp/tenant-apiserver/tenantpki"
)

// TestStoppedTenantLifecycle covers what the vc-manager relies on: a tenant started with
// root PKI from its provisioner serves with that identity; stopping it keeps its record
// (marked stopped, so a host restart does not bring it back) and its data; adding it again
// brings the data back; deleting the data of a stopped tenant works; and a tenant the host
// never had is ErrTenantNotFound.
func TestStoppedTenantLifecycle(t *testing.T) {
	dir := t.TempDir()
	h := startHost(t, Options{DataDir: dir, DisableControllers: true})
	ctx := t.Context()
	roots, err := tenantpki.NewRoots("p")
	if err != nil {
		t.Fatal(err)
	}
	spec := TenantSpec{Name: "p", UID: "uid-p", PKI: roots}
	if _, err := h.Add(ctx, spec); err != nil {
		t.Fatal(err)
	}
	kc, _ := h.Kubeconfig("p")
	cfg, err := clientcmd.Load(kc)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		if !bytes.Equal(c.CertificateAuthorityData, roots["ca.crt"]) {
			t.Error("the tenant serves with a CA other than the one it was given")
		}
	}
	rec, _ := os.ReadFile(filepath.Join(dir, "tenants", "p", "tenant.json"))
	if bytes.Contains(rec, []byte("PRIVATE KEY")) || bytes.Contains(rec, []byte(`"pki"`)) {
		t.Errorf("the tenant's record holds its root PKI:\n%s", rec)
	}
	rest, _ := h.RESTConfig("p")
	if _, err := kubernetes.NewForConfigOrDie(rest).CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kept"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	if err := h.Remove(ctx, "p", false); err != nil {
		t.Fatal(err)
	}
	if err := h.Remove(ctx, "p", false); err != nil {
		t.Errorf("stopping a stopped tenant again: %v", err)
	}
	specs, err := readRunnableSpecs(filepath.Join(dir, "tenants"))
	if err != nil || len(specs) != 0 {
		t.Errorf("a stopped tenant would be restored after a restart: %v %v", specs, err)
	}
	if _, err := h.Add(ctx, spec); err != nil {
		t.Fatal(err)
	}
	rest, _ = h.RESTConfig("p")
	if _, err := kubernetes.NewForConfigOrDie(rest).CoreV1().Namespaces().Get(ctx, "kept", metav1.GetOptions{}); err != nil {
		t.Errorf("namespace lost across stop and start: %v", err)
	}

	if err := h.Remove(ctx, "p", false); err != nil {
		t.Fatal(err)
	}
	if err := h.Remove(ctx, "p", true); err != nil {
		t.Fatalf("delete the data of a stopped tenant: %v", err)
	}
	if n, err := h.opts.Datastore.CountKeys(ctx, "/vcp/uid-p/"); err != nil || n != 0 {
		t.Errorf("%d keys left under the deleted tenant's prefix (err %v)", n, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tenants", "p")); !os.IsNotExist(err) {
		t.Errorf("the deleted tenant's directory remains (stat: %v)", err)
	}
	if err := h.Remove(ctx, "p", true); !errors.Is(err, ErrTenantNotFound) {
		t.Errorf("removing an unknown tenant: err = %v, want ErrTenantNotFound", err)
	}
	bad := TenantSpec{Name: "q", UID: "q", PKI: map[string][]byte{"ca.crt": roots["ca.crt"]}}
	if _, err := h.Add(ctx, bad); err == nil {
		t.Error("a tenant with incomplete root PKI was accepted")
	}
}
