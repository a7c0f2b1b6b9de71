// Package framework holds what vcp's integration and e2e tests share: starting a real
// local super cluster for a test and making sure it is gone afterwards, also when the
// test fails.
package framework

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vcp-dev/vcp/hack/localcluster"
)

// Cluster is a local super cluster started for a test.
type Cluster struct {
	*localcluster.Cluster
	Config      *rest.Config
	SuperClient kubernetes.Interface
}

// StartCluster starts a local super cluster in a fresh directory and stops it when the
// test ends. Its processes die with the test binary even if cleanup never runs, because
// they are started attached (PR_SET_PDEATHSIG). In -short mode the test is skipped: it
// needs the binaries `make tools` builds.
func StartCluster(t testing.TB, cfg localcluster.Config) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real super cluster; skipped in -short mode")
	}
	binDir, err := localcluster.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	cfg.BinDir = binDir
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	cfg.Detach = false
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	c, err := localcluster.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start local super cluster: %v", err)
	}
	t.Logf("local super cluster ready in %s at %s", time.Since(start).Round(time.Millisecond), c.APIServerURL)
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range c.Processes {
				t.Logf("last lines of %s:\n%s", p.Log, p.LogTail(15))
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("stop local super cluster: %v", err)
		}
	})
	restCfg, err := c.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	superClient, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		t.Fatal(err)
	}
	return &Cluster{Cluster: c, Config: restCfg, SuperClient: superClient}
}

// KubeCacheDir, when set, is kubectl's cache directory (KUBECACHEDIR) for every Kubectl
// call, so tests neither read nor pollute the user's ~/.kube/cache and share one cache as
// a user's kubectl would.
var KubeCacheDir string

// Kubectl runs bin/kubectl with a kubeconfig and returns its combined output, failing the
// test when it exits non-zero.
func Kubectl(t testing.TB, binDir, kubeconfig string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "kubectl"), append([]string{"--kubeconfig", kubeconfig}, args...)...)
	if KubeCacheDir != "" {
		cmd.Env = append(os.Environ(), "KUBECACHEDIR="+KubeCacheDir)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// InstallCRDs installs vcp's CRDs (what the chart ships) into the cluster and waits until
// they are established.
func InstallCRDs(t testing.TB, c *Cluster) {
	t.Helper()
	if err := localcluster.InstallCRDs(t.Context(), c.Config); err != nil {
		t.Fatal(err)
	}
}
