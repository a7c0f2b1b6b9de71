package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vcp-dev/vcp/e2e/framework"
	"github.com/vcp-dev/vcp/hack/localcluster"
)

// TestChartRendersValidObjects renders charts/vcp with helm (the embedded-etcd default and
// an external etcd with TLS) and applies the result to a real API server with a
// server-side dry run, so every object the chart installs passes the API server's
// validation (schemas, RBAC rules, probes, volume references).
func TestChartRendersValidObjects(t *testing.T) {
	cluster := framework.StartCluster(t, localcluster.Config{ControlPlaneOnly: true})
	binDir, err := localcluster.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	framework.Kubectl(t, binDir, cluster.Kubeconfig, "create", "namespace", "vcp-system")
	chart := filepath.Join("..", "charts", "vcp")
	for name, set := range map[string][]string{
		"embedded etcd": nil,
		"external etcd": {"--set", "tenantHost.etcd.endpoints={https://etcd-0:2379,https://etcd-1:2379}", "--set", "tenantHost.etcd.tlsSecret=etcd-client", "--set", "tenantHost.replicas=3"},
	} {
		args := append([]string{"template", "vcp", chart, "--namespace", "vcp-system", "--kube-version", "1.36.3", "--include-crds"}, set...)
		out, err := exec.Command(filepath.Join(binDir, "helm"), args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: helm template: %v\n%s", name, err, out)
		}
		file := filepath.Join(t.TempDir(), "rendered.yaml")
		if err := os.WriteFile(file, out, 0o600); err != nil {
			t.Fatal(err)
		}
		applied := framework.Kubectl(t, binDir, cluster.Kubeconfig, "apply", "--dry-run=server", "-f", file)
		wants := []string{"deployment.apps/vc-manager", "deployment.apps/syncer", "statefulset.apps/tenant-apiserver", "customresourcedefinition.apiextensions.k8s.io/virtualclusters.tenancy.vcp.dev", "customresourcedefinition.apiextensions.k8s.io/tenanthosts.tenancy.vcp.dev", "service/tenant-apiserver-0"}
		if name == "external etcd" { // three replicas, each with its own Service
			wants = append(wants, "service/tenant-apiserver-2")
		}
		for _, want := range wants {
			if !strings.Contains(applied, want) {
				t.Errorf("%s: the chart does not install %s:\n%s", name, want, applied)
			}
		}
	}
}
