package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vcp-dev/vcp/e2e/framework"
	"github.com/vcp-dev/vcp/hack/localcluster"
	"github.com/vcp-dev/vcp/internal/netutil"
)

// TestTenantAPIServerBinary runs bin/tenant-apiserver as users deploy it: tenants are added
// through the admin API (which requires the admin token), served on one port, and come
// back with their data after the process is restarted.
func TestTenantAPIServerBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real API servers; skipped in -short mode")
	}
	binDir, err := localcluster.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(binDir, "tenant-apiserver")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s not built (run `make build`): %v", bin, err)
	}
	dir := t.TempDir()
	token := "s3cret-admin-token"
	tokenFile := filepath.Join(dir, "admin.token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ports, err := netutil.FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	admin := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "--data-dir", filepath.Join(dir, "data"),
			"--listen-address", "127.0.0.1:"+strconv.Itoa(ports[0]), "--admin-address", "127.0.0.1:"+strconv.Itoa(ports[1]),
			"--admin-token-file", tokenFile)
		logFile, err := os.Create(filepath.Join(dir, fmt.Sprintf("host-%d.log", time.Now().UnixNano())))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = logFile, logFile
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
		framework.Eventually(t, time.Minute, "the admin port to answer /readyz", func(ctx context.Context) (bool, error) {
			code, body := call(ctx, http.MethodGet, admin+"/readyz", "", "")
			return code == http.StatusOK, fmt.Errorf("%d %s", code, body)
		})
		return cmd
	}
	cmd := start()
	ctx := t.Context()

	if code, _ := call(ctx, http.MethodPut, admin+"/tenants/alpha", "", `{"uid":"u-alpha"}`); code != http.StatusUnauthorized {
		t.Errorf("PUT without the admin token: %d, want 401", code)
	}
	for _, tc := range []struct {
		body, want string
		code       int
	}{
		{`{"uid":"u-alpha","bogus":1}`, `unknown field \"bogus\"`, http.StatusBadRequest},
		{`{"name":"beta","uid":"u"}`, "differs", http.StatusBadRequest},
		{`{}`, "uid is required", http.StatusUnprocessableEntity},
	} {
		if code, body := call(ctx, http.MethodPut, admin+"/tenants/alpha", token, tc.body); code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("PUT %s: %d %s, want %d mentioning %q", tc.body, code, body, tc.code, tc.want)
		}
	}
	if code, body := call(ctx, http.MethodPut, admin+"/tenants/Alpha_1", token, `{"uid":"u"}`); code != http.StatusUnprocessableEntity || !strings.Contains(body, "DNS label") {
		t.Errorf("PUT with a bad name: %d %s, want 422 naming the rule", code, body)
	}
	if code, body := call(ctx, http.MethodPut, admin+"/tenants/alpha", token, `{"uid":"u-alpha"}`); code != http.StatusCreated {
		t.Fatalf("PUT /tenants/alpha: %d %s", code, body)
	}
	kubeconfig := func() string {
		code, kc := call(ctx, http.MethodGet, admin+"/tenants/alpha/kubeconfig", token, "")
		if code != http.StatusOK {
			t.Fatalf("kubeconfig: %d %s", code, kc)
		}
		path := filepath.Join(dir, "alpha.kubeconfig")
		if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	kc := kubeconfig()
	framework.Kubectl(t, binDir, kc, "create", "namespace", "survives-restart")

	// Restart the process: SIGTERM, then start it again on the same data directory.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := cmd.Process.Wait(); done <- err }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("tenant-apiserver did not exit within a minute of SIGTERM")
	}
	start()
	framework.Eventually(t, time.Minute, "tenant alpha to be restored", func(ctx context.Context) (bool, error) {
		code, body := call(ctx, http.MethodGet, admin+"/tenants", token, "")
		return code == http.StatusOK && strings.Contains(body, `"name":"alpha","prefix":"/vcp/u-alpha/","healthy":true`), fmt.Errorf("%d %s", code, body)
	})
	if out := framework.Kubectl(t, binDir, kubeconfig(), "get", "namespace", "survives-restart", "-o", "name"); !strings.Contains(out, "namespace/survives-restart") {
		t.Errorf("namespace lost across the restart:\n%s", out)
	}
	code, metrics := call(ctx, http.MethodGet, admin+"/metrics", "", "")
	if code != http.StatusOK || !strings.Contains(metrics, `vcp_tenant_up{tenant="alpha"} 1`) {
		t.Errorf("/metrics lacks vcp_tenant_up for alpha (%d)", code)
	}
	if code, _ := call(ctx, http.MethodDelete, admin+"/tenants/alpha?deleteData=true", token, ""); code != http.StatusNoContent {
		t.Errorf("DELETE /tenants/alpha: %d", code)
	}
}

func call(ctx context.Context, method, url, token, body string) (int, string) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, err.Error()
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
