package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vcp-dev/vcp/cmd/vcctl/app"
	"github.com/vcp-dev/vcp/e2e/framework"
	"github.com/vcp-dev/vcp/hack/localcluster"
)

// TestDevUpDown drives `vcctl dev up|status|down` (what `make up` and `make down` run):
// up starts a detached platform and prints a kubectl command that works, a second up is
// a no-op that prints where it runs, down stops exactly those processes and frees every
// port, and down --wipe deletes the state.
func TestDevUpDown(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a real super cluster; skipped in -short mode")
	}
	binDir, err := localcluster.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Detached processes do not die with the test binary: stop them if the test fails.
	t.Cleanup(func() {
		if c, err := localcluster.Load(dir); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_ = c.Stop(ctx)
		}
	})
	vcctl := func(args ...string) (string, error) {
		var out bytes.Buffer
		cmd := app.NewCommand(&out, &out)
		cmd.SetArgs(append(args, "--dir", dir, "--bin-dir", binDir))
		err := cmd.ExecuteContext(t.Context())
		return out.String(), err
	}

	out, err := vcctl("dev", "up")
	if err != nil {
		t.Fatalf("dev up: %v\n%s", err, out)
	}
	kubeconfig := filepath.Join(dir, "super", "admin.kubeconfig")
	if !strings.Contains(out, "kubectl --kubeconfig "+kubeconfig) {
		t.Errorf("dev up does not print the kubectl command to try:\n%s", out)
	}
	c, err := localcluster.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Running() || len(c.Processes) != 8 {
		t.Fatalf("after dev up: running=%v with %d processes, want all 8 running (5 of the super cluster, tenant-apiserver, vc-manager, syncer)", c.Running(), len(c.Processes))
	}
	// The demo tenant answers through the kubeconfig dev up printed.
	demo := filepath.Join(dir, "super", "demo.kubeconfig")
	if !strings.Contains(out, "kubectl --kubeconfig "+demo+" get ns") {
		t.Errorf("dev up does not print the demo tenant's kubectl command:\n%s", out)
	}
	if got := framework.Kubectl(t, binDir, demo, "get", "ns", "-o", "name"); !strings.Contains(got, "namespace/kube-system") {
		t.Errorf("kubectl get ns in the demo tenant: %s", got)
	}
	// The printed kubeconfig works for kubectl.
	kubectl := framework.Kubectl(t, binDir, kubeconfig, "get", "nodes", "-o", "name")
	if got := strings.Count(kubectl, "node/"); got != 4 {
		t.Errorf("kubectl get nodes listed %d nodes, want the 4 of the default pools:\n%s", got, kubectl)
	}

	out, err = vcctl("dev", "up")
	if err != nil || !strings.Contains(out, "already running") {
		t.Fatalf("second dev up: err=%v, want a no-op saying it is already running:\n%s", err, out)
	}
	again, _ := localcluster.Load(dir)
	for i, p := range again.Processes {
		if p.PID != c.Processes[i].PID {
			t.Errorf("second dev up replaced %s: pid %d -> %d", p.Name, c.Processes[i].PID, p.PID)
		}
	}
	if out, err := vcctl("dev", "status"); err != nil || !strings.Contains(out, c.APIServerURL) {
		t.Errorf("dev status: err=%v, want the API server URL:\n%s", err, out)
	}

	out, err = vcctl("dev", "down")
	if err != nil {
		t.Fatalf("dev down: %v\n%s", err, out)
	}
	for _, p := range c.Processes {
		if p.Alive() {
			t.Errorf("%s (pid %d) survived dev down", p.Name, p.PID)
		}
		if !strings.Contains(out, p.Name) {
			t.Errorf("dev down does not report stopping %s:\n%s", p.Name, out)
		}
	}
	if busy := localcluster.PortsInUse(c.Ports()); len(busy) > 0 {
		t.Errorf("ports still in use after dev down: %v", busy)
	}
	if _, err := vcctl("dev", "status"); err == nil {
		t.Error("dev status succeeds after dev down")
	}
	if _, err := os.Stat(filepath.Join(dir, "super", "pki", "ca.crt")); err != nil {
		t.Errorf("dev down without --wipe deleted state: %v", err)
	}
	// Up again on the kept state: the demo tenant is there from the last run, Ready at
	// the host's old address (the host gets new ports); dev up waits until the tenant and
	// its kubeconfig have moved to this run's address before writing the kubeconfig.
	out, err = vcctl("dev", "up")
	if err != nil {
		t.Fatalf("dev up on the kept state: %v\n%s", err, out)
	}
	if got := framework.Kubectl(t, binDir, demo, "get", "ns", "-o", "name"); !strings.Contains(got, "namespace/kube-system") {
		t.Errorf("kubectl get ns in the demo tenant after dev up on the kept state: %s", got)
	}
	if out, err := vcctl("dev", "down"); err != nil {
		t.Fatalf("second dev down: %v\n%s", err, out)
	}
	if out, err := vcctl("dev", "down", "--wipe"); err != nil {
		t.Fatalf("dev down --wipe: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "super")); !os.IsNotExist(err) {
		t.Errorf("dev down --wipe left %s/super behind (stat err %v)", dir, err)
	}
}
