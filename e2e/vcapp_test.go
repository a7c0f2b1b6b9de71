package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	vcappapp "github.com/vcp-dev/vcp/cmd/vcapp/app"
	"github.com/vcp-dev/vcp/cmd/vcapp/app/apptest"
)

// vcappFixture is the platform with two tenant clusters the vcapp tests deliver to.
type vcappFixture struct {
	p       *provisioning
	dir     string
	tenants map[string]kubernetes.Interface // by VirtualCluster name
	files   map[string]string               // tenant kubeconfig files
}

// vcappApp is the 3-component application the tests deliver: a database, an API that
// depends on it and a worker that depends on the API. %s are the API's image tag and the
// targets' label selector value.
const vcappApp = `apiVersion: apps.vcp.dev/v1alpha1
kind: Application
metadata:
  name: shop
spec:
  components:
  - name: db
    type: statefulset
    properties:
      image: registry.example.com/db:1
      ports: [{name: pg, port: 5432}]
  - name: api
    type: service
    dependsOn: [db]
    properties:
      image: registry.example.com/api:%s
      ports: [{name: http, port: 8080}]
    traits:
    - type: scale
      properties: {replicas: 2}
    - type: config
      properties:
        mounts: [{name: settings, mountPath: /etc/api, files: {api.yaml: "level: info"}}]
  - name: worker
    type: worker
    dependsOn: [api]
    properties:
      image: registry.example.com/worker:1
  targets:
  - name: fleet
    virtualCluster:
      namespace: default
      selector: {matchLabels: {vcapp-e2e: %q}}
  rollout:
    parallelism: 2
`

// vcapp runs vcapp in-process with args and returns its output and exit code.
func (f *vcappFixture) vcapp(t *testing.T, args ...string) (string, int) {
	t.Helper()
	return f.vcappIn(t, "", args...)
}

// vcappIn is vcapp with stdin.
func (f *vcappFixture) vcappIn(t *testing.T, stdin string, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	cmd := vcappapp.NewCommand(&out, &out)
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	err := cmd.ExecuteContext(t.Context())
	if err != nil && !vcappapp.Silent(err) {
		fmt.Fprintln(&out, "error:", err)
	}
	return out.String(), vcappapp.ExitCode(err)
}

// vcappTTY runs vcapp with a terminal as its standard input on which typed has been
// typed (a person answering deploy's question).
func (f *vcappFixture) vcappTTY(t *testing.T, typed string, args ...string) (string, int) {
	t.Helper()
	control, terminal, err := apptest.OpenPTY()
	if err != nil {
		t.Fatalf("pseudo-terminal: %v", err)
	}
	defer control.Close()
	defer terminal.Close()
	if _, err := control.WriteString(typed); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := vcappapp.NewCommand(&out, &out)
	cmd.SetArgs(args)
	cmd.SetIn(terminal)
	err = cmd.ExecuteContext(t.Context())
	if err != nil && !vcappapp.Silent(err) {
		fmt.Fprintln(&out, "error:", err)
	}
	return out.String(), vcappapp.ExitCode(err)
}

// vcappFor runs vcapp until it ends or d passes, when its context is cancelled (as
// Ctrl-C does), and returns its output, exit code and how long it took to end after
// that.
func (f *vcappFixture) vcappFor(t *testing.T, d time.Duration, args ...string) (string, int, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	var out syncBuffer
	cmd := vcappapp.NewCommand(&out, &out)
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(""))
	err := cmd.ExecuteContext(ctx)
	deadline, _ := ctx.Deadline()
	after := time.Since(deadline)
	if err != nil && !vcappapp.Silent(err) {
		fmt.Fprintln(&out, "error:", err)
	}
	return out.String(), vcappapp.ExitCode(err), after
}

// syncBuffer is a bytes.Buffer many goroutines write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// revisions returns the number of revision Secrets of shop in tenant n.
func (f *vcappFixture) revisions(t *testing.T, n string) int {
	t.Helper()
	secrets, err := f.tenants[n].CoreV1().Secrets("shop").List(t.Context(), metav1.ListOptions{LabelSelector: "apps.vcp.dev/application=shop"})
	if err != nil {
		t.Fatalf("tenant %s: %v", n, err)
	}
	return len(secrets.Items)
}

// writeApp writes the application with the API's image tag and a target selector.
func (f *vcappFixture) writeApp(t *testing.T, tag, selector string) string {
	t.Helper()
	path := filepath.Join(f.dir, fmt.Sprintf("app-%s-%s.yaml", tag, selector))
	if err := os.WriteFile(path, fmt.Appendf(nil, vcappApp, tag, selector), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// fleetArgs are the arguments that deliver app to the two tenants through the super cluster.
func (f *vcappFixture) fleetArgs(cmd, app string, extra ...string) []string {
	return append([]string{cmd, "-f", app, "--super-kubeconfig", f.p.cluster.Kubeconfig}, extra...)
}

func startVcappFixture(t *testing.T) *vcappFixture {
	p := startProvisioning(t)
	f := &vcappFixture{p: p, dir: t.TempDir(), tenants: map[string]kubernetes.Interface{}, files: map[string]string{}}
	names := []string{"shop-a", "shop-b"}
	for _, n := range names {
		p.create(&tenancyv1alpha1.VirtualCluster{ObjectMeta: metav1.ObjectMeta{Name: n, Labels: map[string]string{"vcapp-e2e": "yes"}}})
	}
	for _, n := range names {
		vc := p.waitPhase(n, tenancyv1alpha1.PhaseRunning, 2*time.Minute)
		f.files[n] = p.kubeconfig(vc)
		cfg, err := clientcmd.BuildConfigFromFlags("", f.files[n])
		if err != nil {
			t.Fatal(err)
		}
		if f.tenants[n], err = kubernetes.NewForConfig(cfg); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// apiImage returns the image of the api Deployment in tenant n.
func (f *vcappFixture) apiImage(t *testing.T, n string) string {
	t.Helper()
	d, err := f.tenants[n].AppsV1().Deployments("shop").Get(t.Context(), "api", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("tenant %s: %v", n, err)
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

// TestVcapp delivers a 3-component application to two tenant clusters selected by
// labels, through every delivery command, on one local platform.
func TestVcapp(t *testing.T) {
	f := startVcappFixture(t)
	v1 := f.writeApp(t, "1", "yes")

	t.Run("deploy to two targets: Healthy", func(t *testing.T) {
		start := time.Now()
		out, code := f.vcapp(t, f.fleetArgs("deploy", v1, "--yes", "--timeout", "2m")...)
		if code != 0 {
			t.Fatalf("deploy exited %d:\n%s", code, out)
		}
		t.Logf("deploy to two tenants healthy in %s", time.Since(start).Round(time.Millisecond))
		for _, target := range []string{"fleet/shop-a", "fleet/shop-b"} {
			if !strings.Contains(out, "target "+target+": revision 1 Healthy") {
				t.Errorf("no healthy revision 1 on %s:\n%s", target, out)
			}
		}
		// deploy --yes plans first: each target's summary before anything is applied.
		if n, first := strings.Count(out, "7 to create, 0 to change, 0 to delete, 0 unchanged"), strings.Index(out, "fleet/shop-a: "); n != 2 || first < strings.LastIndex(out, "0 unchanged") {
			t.Errorf("%d plan summaries (want 2), or not before the first health line:\n%s", n, out)
		}
		for n := range f.tenants {
			if img := f.apiImage(t, n); img != "registry.example.com/api:1" {
				t.Errorf("tenant %s: api image %s", n, img)
			}
		}
		// The order: the worker depends on the api, which depends on the db; the
		// worker's first line comes after the api was Healthy.
		if a, w := strings.Index(out, "fleet/shop-a: Deployment shop/api Healthy"), strings.Index(out, "fleet/shop-a: Deployment shop/worker"); a < 0 || w < a {
			t.Errorf("worker not applied after the api was healthy (api at %d, worker at %d):\n%s", a, w, out)
		}
		if out, code := f.vcapp(t, f.fleetArgs("status", v1)...); code != 0 || strings.Count(out, "Healthy") < 6 {
			t.Errorf("status exited %d:\n%s", code, out)
		}
		// KWOK runs no containers: logs names each api pod of both targets, with or without lines.
		logsArgs := []string{"logs", "--filename", v1, "--super-kubeconfig", f.p.cluster.Kubeconfig, "api"}
		if out, code := f.vcapp(t, logsArgs...); code != 0 || strings.Count(out, "[fleet/shop-a api-") != 2 || strings.Count(out, "[fleet/shop-b api-") != 2 || strings.Contains(out, "worker") {
			t.Errorf("logs api exited %d:\n%s", code, out)
		}
	})

	t.Run("logs --follow streams every pod until interrupted", func(t *testing.T) {
		args := []string{"logs", "--filename", v1, "--super-kubeconfig", f.p.cluster.Kubeconfig, "-f"}
		out, code, after := f.vcappFor(t, 5*time.Second, args...)
		if code != 0 || after < 0 || after > 3*time.Second {
			t.Fatalf("logs -f exited %d %s after the interrupt (want 0, at once; negative: before it):\n%s", code, after.Round(time.Millisecond), out)
		}
		t.Logf("logs -f ended %s after the interrupt:\n%s", after.Round(time.Millisecond), out)
		// Four pods per target (db, two api, worker), each followed once, each line prefixed.
		for _, target := range []string{"fleet/shop-a", "fleet/shop-b"} {
			following := regexp.MustCompile(`(?m)^\[` + target + ` (db-0|api-[a-z0-9]+-[a-z0-9]+|worker-[a-z0-9]+-[a-z0-9]+)/(db|api|worker)\] following$`)
			if n := len(following.FindAllString(out, -1)); n != 4 {
				t.Errorf("%s: %d containers followed, want 4:\n%s", target, n, out)
			}
		}
		if strings.Contains(out, "error:") || strings.Contains(out, "context canceled") {
			t.Errorf("the interrupt is reported as an error:\n%s", out)
		}
		if out, code := f.vcapp(t, "logs", "--filename", v1, "--super-kubeconfig", f.p.cluster.Kubeconfig, "-f", v1); code != 1 || !strings.Contains(out, "argument component") || !strings.Contains(out, "--filename") {
			t.Errorf("logs -f app.yaml (a file for a component) exited %d:\n%s", code, out)
		}
	})

	v2 := f.writeApp(t, "2", "yes")
	t.Run("change the image: plan shows exactly that change", func(t *testing.T) {
		out, code := f.vcapp(t, f.fleetArgs("plan", v2, "--exit-code")...)
		if code != 2 {
			t.Fatalf("plan --exit-code exited %d, want 2:\n%s", code, out)
		}
		t.Logf("plan:\n%s", out)
		if n := strings.Count(out, "0 to create, 1 to change, 0 to delete"); n != 2 {
			t.Errorf("%d targets with exactly one change, want 2:\n%s", n, out)
		}
		var changed []string
		for _, line := range strings.Split(out, "\n") {
			l := strings.TrimSpace(line)
			if (strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-")) && !strings.HasPrefix(l, "+++") && !strings.HasPrefix(l, "---") {
				changed = append(changed, l)
			}
		}
		want := []string{"-  image: registry.example.com/api:1", "+  image: registry.example.com/api:2"}
		if len(changed) != 4 || !strings.HasSuffix(changed[0], "api:1") || !strings.HasSuffix(changed[1], "api:2") {
			t.Errorf("diff lines %q, want twice %q", changed, want)
		}
		if !strings.Contains(out, "change Deployment shop/api") {
			t.Errorf("the change is not the api Deployment:\n%s", out)
		}
		if out, code := f.vcapp(t, f.fleetArgs("plan", v1, "--exit-code")...); code != 0 {
			t.Errorf("plan of what is deployed exited %d:\n%s", code, out)
		}
		// Without --yes and without a terminal nobody can confirm: the plan, then a refusal.
		out, code = f.vcappIn(t, "y\n", f.fleetArgs("deploy", v2, "--timeout", "2m")...)
		if code != 1 || !strings.Contains(out, "standard input is not a terminal") || !strings.Contains(out, "pass --yes") || strings.Count(out, "0 to create, 1 to change, 0 to delete") != 2 {
			t.Errorf("deploy without --yes from a pipe exited %d:\n%s", code, out)
		}
		if out, code := f.vcappTTY(t, "no\n", f.fleetArgs("deploy", v2, "--timeout", "2m")...); code != 1 || !strings.Contains(out, "deploy cancelled") || !strings.Contains(out, "+      - image: registry.example.com/api:2") {
			t.Errorf("deploy answered no on a terminal exited %d:\n%s", code, out)
		}
		for n := range f.tenants {
			if img := f.apiImage(t, n); img != "registry.example.com/api:1" {
				t.Errorf("tenant %s: a refused or cancelled deploy changed the image to %s", n, img)
			}
			if r := f.revisions(t, n); r != 1 {
				t.Errorf("tenant %s: %d revisions after refused deploys, want 1", n, r)
			}
		}
		out, code = f.vcappTTY(t, "y\n", f.fleetArgs("deploy", v2, "--timeout", "2m")...)
		if code != 0 || !strings.Contains(out, "0 to create, 1 to change, 0 to delete") || !strings.Contains(out, "deploy shop to 2 target(s)? [y/N]") {
			t.Fatalf("deploy v2 answered y on a terminal exited %d:\n%s", code, out)
		}
	})

	t.Run("a broken image is Degraded within seconds naming the pod; --atomic rolls back", func(t *testing.T) {
		broken := f.writeApp(t, "broken-pull", "yes")
		start := time.Now()
		out, code := f.vcapp(t, f.fleetArgs("deploy", broken, "--yes", "--atomic", "--fail-fast-grace", "1s", "--timeout", "2m")...)
		took := time.Since(start)
		if code != 3 {
			t.Fatalf("deploy of a broken image exited %d, want 3:\n%s", code, out)
		}
		t.Logf("broken image Degraded and rolled back in %s:\n%s", took.Round(time.Millisecond), out)
		if took > time.Minute {
			t.Errorf("took %s: fail-fast should be seconds", took)
		}
		podNamed := regexp.MustCompile(`revision 3 Degraded: Deployment shop/api: pod api-[a-z0-9]+-[a-z0-9]+: ImagePullBackOff`)
		if n := len(podNamed.FindAllString(out, -1)); n != 2 {
			t.Errorf("%d targets Degraded naming the pod, want 2:\n%s", n, out)
		}
		if n := strings.Count(out, "rolled back to revision 2 as revision 4"); n != 2 {
			t.Errorf("%d targets rolled back, want 2:\n%s", n, out)
		}
		for n := range f.tenants {
			if img := f.apiImage(t, n); img != "registry.example.com/api:2" {
				t.Errorf("tenant %s: api image %s after the rollback", n, img)
			}
		}
		if out, code := f.vcapp(t, f.fleetArgs("status", v2)...); code != 0 || strings.Contains(out, "pinned") {
			t.Errorf("status after the atomic rollback exited %d (an automatic rollback does not pin):\n%s", code, out)
		}
		out, _ = f.vcapp(t, f.fleetArgs("history", v2)...)
		if n := len(regexp.MustCompile(`(?m)^\s+4\s+\S+\s+\S+\s+Healthy\s+\S+\s+rollback to 2 \(atomic\)$`).FindAllString(out, -1)); n != 2 {
			t.Errorf("%d targets with revision 4 a Healthy rollback to 2, want 2:\n%s", n, out)
		}
	})

	t.Run("a crash-looping image on one cluster is Degraded naming the pod", func(t *testing.T) {
		crash := f.writeApp(t, "crashloop", "yes")
		out, code := f.vcapp(t, "deploy", "-f", crash, "--kubeconfig", f.files["shop-a"], "--yes", "--fail-fast-grace", "1s", "--timeout", "2m")
		if code != 3 || !regexp.MustCompile(`pod api-[a-z0-9]+-[a-z0-9]+: CrashLoopBackOff`).MatchString(out) {
			t.Fatalf("deploy of a crash-looping image exited %d (want 3), output:\n%s", code, out)
		}
		out, code = f.vcapp(t, "status", "-f", crash, "--kubeconfig", f.files["shop-a"], "--fail-fast-grace", "1s")
		if code != 3 || !strings.Contains(out, "CrashLoopBackOff") {
			t.Errorf("status exited %d (want 3) without the reason:\n%s", code, out)
		}
	})

	t.Run("the application's progress deadline: a timeout exits 3 naming what is not healthy and why", func(t *testing.T) {
		// The crash-looping image again with a long fail-fast grace: only the
		// application's deadline (rollout.progressDeadline, no --timeout) ends the wait.
		slow := strings.Replace(string(mustRead(t, f.writeApp(t, "crashloop", "yes"))), "    parallelism: 2\n", "    parallelism: 2\n    progressDeadline: 3s\n", 1)
		path := filepath.Join(f.dir, "app-deadline.yaml")
		if err := os.WriteFile(path, []byte(slow), 0o644); err != nil {
			t.Fatal(err)
		}
		timedOut := regexp.MustCompile(`progress deadline \(3s\) exceeded; not healthy: Deployment shop/api Progressing \(.+\)`)
		for _, args := range [][]string{
			{"deploy", "-f", path, "--kubeconfig", f.files["shop-a"], "--yes", "--fail-fast-grace", "1m"},
			{"status", "-f", path, "--kubeconfig", f.files["shop-a"], "--wait", "--fail-fast-grace", "1m"},
		} {
			start := time.Now()
			out, code := f.vcapp(t, args...)
			took := time.Since(start)
			if code != 3 || !timedOut.MatchString(out) {
				t.Errorf("%s exited %d (want 3) without naming the api:\n%s", args[0], code, out)
			}
			if took < 3*time.Second || took > 20*time.Second {
				t.Errorf("%s took %s with a 3s deadline", args[0], took.Round(time.Millisecond))
			}
		}
		if out, _ := f.vcapp(t, "history", "-f", path, "--kubeconfig", f.files["shop-a"]); !regexp.MustCompile(`(?m)^\s+6\s+\S+\s+\S+\s+Timeout\s`).MatchString(out) {
			t.Errorf("the timed-out deploy is not recorded as revision 6, outcome Timeout:\n%s", out)
		}
		if out, code := f.vcapp(t, "status", "-f", path, "--kubeconfig", f.files["shop-a"], "--wait", "--timeout", "-1s"); code != 1 || !strings.Contains(out, "--timeout must be positive") {
			t.Errorf("--timeout -1s exited %d:\n%s", code, out)
		}
		bad := strings.Replace(slow, "progressDeadline: 3s", "progressDeadline: soon", 1)
		if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, code := f.vcapp(t, "status", "-f", path, "--kubeconfig", f.files["shop-a"]); code != 1 || !strings.Contains(out, `spec.rollout.progressDeadline: Invalid value: "soon"`) {
			t.Errorf("an invalid progressDeadline exited %d:\n%s", code, out)
		}
	})

	t.Run("rollback --to 1", func(t *testing.T) {
		out, code := f.vcapp(t, f.fleetArgs("rollback", v1, "--to", "1", "--timeout", "2m")...)
		if code != 0 {
			t.Fatalf("rollback exited %d:\n%s", code, out)
		}
		for n := range f.tenants {
			if img := f.apiImage(t, n); img != "registry.example.com/api:1" {
				t.Errorf("tenant %s: api image %s after rollback --to 1", n, img)
			}
		}
		out, _ = f.vcapp(t, f.fleetArgs("history", v1)...)
		if n := strings.Count(out, "rollback to 1"); n != 2 {
			t.Errorf("%d targets record the rollback to 1, want 2:\n%s", n, out)
		}
		// The pin says which revision, which rollback, who and when; status, history and plan show it.
		pin := regexp.MustCompile(`pinned to revision 1 by rollback revision \d+ \(\S+ at \d{4}-\d\d-\d\dT\S+Z\)`)
		if n := len(pin.FindAllString(out, -1)); n != 2 || strings.Count(out, "rollback to 1, pinned") != 2 {
			t.Errorf("history: %d pins, want 2:\n%s", n, out)
		}
		out, _ = f.vcapp(t, f.fleetArgs("status", v1)...)
		if n := len(pin.FindAllString(out, -1)); n != 2 {
			t.Errorf("status: %d targets pinned to revision 1, want 2:\n%s", n, out)
		}
		out, _ = f.vcapp(t, f.fleetArgs("plan", v1)...)
		if n := strings.Count(out, "deploying replaces it and clears the pin"); n != 2 {
			t.Errorf("plan: %d targets say a deploy unpins, want 2:\n%s", n, out)
		}
	})

	// data adds a component whose objects a deploy without it keeps: a claim and a namespace.
	data := strings.Replace(string(mustRead(t, v1)), "  targets:", `  - name: data
    type: manifests
    properties:
      objects:
      - {apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: shop-data}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}
      - {apiVersion: v1, kind: Namespace, metadata: {name: shop-extra}}
  targets:`, 1)
	vData := filepath.Join(f.dir, "app-data.yaml")
	if err := os.WriteFile(vData, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("deploy --yes does not replace a pin; --unpin does and says so", func(t *testing.T) {
		before := map[string]int{}
		for n := range f.tenants {
			before[n] = f.revisions(t, n)
		}
		out, code := f.vcapp(t, f.fleetArgs("deploy", vData, "--yes", "--no-wait")...)
		if code != 1 || strings.Count(out, ": shop is pinned to revision 1 by rollback revision") != 2 || !strings.Contains(out, "pass --unpin") {
			t.Fatalf("deploy --yes over a pin exited %d:\n%s", code, out)
		}
		for n, c := range f.tenants {
			if r := f.revisions(t, n); r != before[n] {
				t.Errorf("tenant %s: %d revisions after a refused deploy, want %d", n, r, before[n])
			}
			if _, err := c.CoreV1().PersistentVolumeClaims("shop").Get(t.Context(), "shop-data", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("tenant %s: a refused deploy applied the claim (%v)", n, err)
			}
		}
		// Confirmed on a terminal after the plan showed the pin: shop-a is unpinned. The
		// claim stays Pending (nothing provisions it): no wait.
		out, code = f.vcappTTY(t, "y\n", "deploy", "-f", vData, "--kubeconfig", f.files["shop-a"], "--no-wait")
		if code != 0 || !strings.Contains(out, "deploying replaces it and clears the pin") || !strings.Contains(out, "unpinning 1? [y/N]") ||
			strings.Count(out, "unpinned: it was pinned to revision 1") != 1 {
			t.Fatalf("deploy confirmed on a terminal exited %d:\n%s", code, out)
		}
		out, code = f.vcapp(t, f.fleetArgs("deploy", vData, "--yes", "--unpin", "--no-wait")...)
		if code != 0 || strings.Count(out, "unpinned: it was pinned to revision 1") != 1 || !strings.Contains(out, "target fleet/shop-b: revision") {
			t.Fatalf("deploy --yes --unpin (shop-b still pinned) exited %d:\n%s", code, out)
		}
		out, _ = f.vcapp(t, f.fleetArgs("history", v1)...)
		if n := strings.Count(out, "unpinned revision"); n != 2 || strings.Contains(out, "until a deploy clears it") {
			t.Errorf("history after --unpin: %d unpins, want 2, and no pin:\n%s", n, out)
		}
	})

	t.Run("objects a deploy keeps stay tracked as retained", func(t *testing.T) {
		out, code := f.vcapp(t, f.fleetArgs("deploy", v1, "--yes", "--timeout", "2m")...)
		if code != 0 {
			t.Fatalf("deploy without the data component exited %d:\n%s", code, out)
		}
		for _, w := range []string{"keep PersistentVolumeClaim shop/shop-data", "keep Namespace shop-extra", "retained 2 no longer rendered"} {
			if strings.Count(out, w) != 2 {
				t.Errorf("deploy does not say %q for both targets:\n%s", w, out)
			}
		}
		out, code = f.vcapp(t, f.fleetArgs("status", v1)...)
		if code != 0 || strings.Count(out, "retained PersistentVolumeClaim shop/shop-data") != 2 || strings.Count(out, "retained Namespace shop-extra") != 2 {
			t.Errorf("status exited %d without the retained objects:\n%s", code, out)
		}
		for n, c := range f.tenants {
			if _, err := c.CoreV1().PersistentVolumeClaims("shop").Get(t.Context(), "shop-data", metav1.GetOptions{}); err != nil {
				t.Errorf("tenant %s: the kept claim: %v", n, err)
			}
		}
	})

	t.Run("delete removes exactly the inventory", func(t *testing.T) {
		ctx := t.Context()
		for n, c := range f.tenants {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "not-vcapps", Namespace: "shop"}}
			if _, err := c.CoreV1().ConfigMaps("shop").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
				t.Fatalf("tenant %s: %v", n, err)
			}
		}
		out, code := f.vcapp(t, f.fleetArgs("delete", v1, "--yes")...)
		if code != 0 {
			t.Fatalf("delete exited %d:\n%s", code, out)
		}
		for _, w := range []string{"delete StatefulSet shop/db", "delete Deployment shop/api", "delete Deployment shop/worker", "delete Service shop/api",
			"keep Namespace shop\n", "keep PersistentVolumeClaim shop/shop-data", "keep Namespace shop-extra"} {
			if strings.Count(out, w) != 2 {
				t.Errorf("delete does not show %q for both targets:\n%s", w, out)
			}
		}
		for n, c := range f.tenants {
			if _, err := c.CoreV1().ConfigMaps("shop").Get(ctx, "not-vcapps", metav1.GetOptions{}); err != nil {
				t.Errorf("tenant %s: a ConfigMap not in the inventory: %v", n, err)
			}
			if _, err := c.CoreV1().Namespaces().Get(ctx, "shop", metav1.GetOptions{}); err != nil {
				t.Errorf("tenant %s: the namespace: %v", n, err)
			}
			for _, get := range []func() error{
				func() error {
					_, err := c.AppsV1().Deployments("shop").Get(ctx, "api", metav1.GetOptions{})
					return err
				},
				func() error {
					_, err := c.AppsV1().StatefulSets("shop").Get(ctx, "db", metav1.GetOptions{})
					return err
				},
				func() error { _, err := c.CoreV1().Services("shop").Get(ctx, "api", metav1.GetOptions{}); return err },
			} {
				if err := get(); !apierrors.IsNotFound(err) {
					t.Errorf("tenant %s: an inventory object is still there (%v)", n, err)
				}
			}
			// One revision is left, recording the delete and what it kept.
			if r := f.revisions(t, n); r != 1 {
				t.Errorf("tenant %s: %d revisions left, want 1", n, r)
			}
		}
		out, code = f.vcapp(t, f.fleetArgs("status", v1)...)
		if code != 3 || strings.Count(out, "was deleted") != 2 || strings.Count(out, "retained PersistentVolumeClaim shop/shop-data") != 2 {
			t.Errorf("status after delete exited %d:\n%s", code, out)
		}
		// A later delete with the opt-ins finds what the earlier ones kept.
		out, code = f.vcapp(t, f.fleetArgs("delete", v1, "--yes", "--prune-claims", "--prune-namespaces")...)
		if code != 0 {
			t.Fatalf("delete --prune-claims --prune-namespaces exited %d:\n%s", code, out)
		}
		for _, w := range []string{"delete PersistentVolumeClaim shop/shop-data", "delete Namespace shop-extra", "delete Namespace shop\n", "deleted 3 objects"} {
			if strings.Count(out, w) != 2 {
				t.Errorf("delete with the opt-ins does not show %q for both targets:\n%s", w, out)
			}
		}
		for n, c := range f.tenants {
			for _, ns := range []string{"shop", "shop-extra"} {
				if got, err := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) && (err != nil || got.DeletionTimestamp == nil) {
					t.Errorf("tenant %s: namespace %s not deleted (%v)", n, ns, err)
				}
			}
		}
	})

	t.Run("a selector matching nothing fails without touching anything", func(t *testing.T) {
		none := f.writeApp(t, "1", "nobody")
		for _, args := range [][]string{f.fleetArgs("deploy", none, "--yes"), f.fleetArgs("plan", none), f.fleetArgs("delete", none, "--yes")} {
			out, code := f.vcapp(t, args...)
			if code != 1 || !strings.Contains(out, "no VirtualCluster in namespace default matches vcapp-e2e=nobody") {
				t.Errorf("%s with a selector matching nothing exited %d:\n%s", args[0], code, out)
			}
		}
		for n, c := range f.tenants {
			if _, err := c.AppsV1().Deployments("shop").Get(context.Background(), "api", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Errorf("tenant %s: something was deployed (%v)", n, err)
			}
		}
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
