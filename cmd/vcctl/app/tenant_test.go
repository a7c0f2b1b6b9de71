package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/e2e/framework"
	"github.com/vcp-dev/vcp/hack/localcluster"
)

func TestParseQuota(t *testing.T) {
	tests := []struct {
		in      string
		want    map[corev1.ResourceName]string
		wantErr string
	}{
		{in: "cpu=4,memory=8Gi,pods=20", want: map[corev1.ResourceName]string{"cpu": "4", "memory": "8Gi", "pods": "20"}},
		{in: " cpu = 500m , requests.storage=10Gi,", want: map[corev1.ResourceName]string{"cpu": "500m", "requests.storage": "10Gi"}},
		{in: "count/deployments.apps=5", want: map[corev1.ResourceName]string{"count/deployments.apps": "5"}},
		{in: "cpu=0", want: map[corev1.ResourceName]string{"cpu": "0"}},
		{in: "cpu=-1", wantErr: "--quota cpu: -1 is negative"},
		{in: "pods=10,memory=-2Gi", wantErr: "--quota memory: -2Gi is negative"},
		{in: "memory=lots", wantErr: `--quota memory: "lots" is not a quantity`},
		{in: "cpu=", wantErr: `--quota cpu: "" is not a quantity`},
		{in: "=4", wantErr: `--quota "=4": empty resource name`},
		{in: "cpu", wantErr: "--quota cpu: want RESOURCE=QUANTITY"},
		{in: "c p u=1", wantErr: "--quota c p u: not a resource name"},
		{in: "cpu=1,cpu=2", wantErr: "--quota cpu: given twice"},
		{in: "", wantErr: "--quota: no RESOURCE=QUANTITY pairs"},
		{in: " , ", wantErr: "--quota: no RESOURCE=QUANTITY pairs"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseQuota(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseQuota(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseQuota(%q): %v", tt.in, err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("parseQuota(%q) = %v, want %v", tt.in, got, tt.want)
			}
			for k, v := range tt.want {
				q, ok := got[k]
				if !ok || q.Cmp(resource.MustParse(v)) != 0 {
					t.Errorf("parseQuota(%q)[%s] = %v, want %s", tt.in, k, got[k], v)
				}
			}
		})
	}
}

func TestValidateTenantName(t *testing.T) {
	tests := []struct {
		name    string
		wantErr string
	}{
		{name: "a"},
		{name: "team-a"},
		{name: "t1"},
		{name: strings.Repeat("a", 40)},
		{name: strings.Repeat("a", 41), wantErr: "at most 40"},
		{name: "", wantErr: "DNS label"},
		{name: "1team", wantErr: "starts with a letter"},
		{name: "Team", wantErr: "DNS label"},
		{name: "team.a", wantErr: "DNS label"},
		{name: "team-", wantErr: "DNS label"},
		{name: "team_a", wantErr: "DNS label"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateTenantName(tt.name)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("validateTenantName(%q): %v", tt.name, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "NAME") {
				t.Fatalf("validateTenantName(%q) = %v, want an error naming NAME and containing %q", tt.name, err, tt.wantErr)
			}
		})
	}
}

func TestValidateOutput(t *testing.T) {
	for _, ok := range []string{"table", "yaml", "json"} {
		if err := validateOutput(ok); err != nil {
			t.Errorf("validateOutput(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "wide", "JSON", "yml"} {
		err := validateOutput(bad)
		if err == nil || !strings.Contains(err.Error(), "--output") {
			t.Errorf("validateOutput(%q) = %v, want an error naming --output", bad, err)
		}
	}
}

// TestOutputFlagRejected checks that a bad -o fails before anything contacts a cluster.
func TestOutputFlagRejected(t *testing.T) {
	_, _, err := runVcctl(t, "tenant", "list", "--kubeconfig", filepath.Join(t.TempDir(), "missing"), "-o", "wide")
	if err == nil || !strings.Contains(err.Error(), "--output") {
		t.Fatalf("tenant list -o wide = %v, want an error naming --output", err)
	}
}

func TestLoadVirtualClusterFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.yaml", `apiVersion: tenancy.vcp.dev/v1alpha1
kind: VirtualCluster
metadata: {name: x, namespace: team, resourceVersion: "7", uid: abc, labels: {a: b}}
spec: {isolation: {runtimeClassName: kata, nodePool: {name: pool-a}}}
status: {phase: Running}
`)
	vc, err := loadVirtualClusterFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if rc, _, _ := unstructured.NestedString(vc.Object, runtimeClassPath...); vc.GetName() != "x" || vc.GetNamespace() != "team" || vc.GetLabels()["a"] != "b" || rc != "kata" {
		t.Errorf("decoded wrongly: %v", vc.Object)
	}
	if _, hasStatus := vc.Object["status"]; vc.GetResourceVersion() != "" || vc.GetUID() != "" || hasStatus {
		t.Errorf("server-set fields kept: %v", vc.Object)
	}
	zero := write("zero.yaml", "spec: {sync: {weight: 0}}\n")
	if vc, err = loadVirtualClusterFile(zero); err != nil {
		t.Fatal(err)
	}
	if w, found, _ := unstructured.NestedInt64(vc.Object, "spec", "sync", "weight"); !found || w != 0 {
		t.Errorf("explicit weight: 0 = %d (found %v), want it kept for the server to judge", w, found)
	}

	for name, content := range map[string]string{
		"unknown.yaml": "spec: {isolation: {runtimeClass: kata}}\n",
		"kind.yaml":    "apiVersion: v1\nkind: Pod\n",
	} {
		p := write(name, content)
		if _, err := loadVirtualClusterFile(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("loadVirtualClusterFile(%s) = %v, want an error naming the file", name, err)
		}
	}
	if _, err := loadVirtualClusterFile(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "--from-file") {
		t.Errorf("missing file: %v, want an error naming --from-file", err)
	}
}

func TestMergeKubeconfig(t *testing.T) {
	existing := clientcmdapi.Config{
		CurrentContext: "work",
		Clusters:       map[string]*clientcmdapi.Cluster{"work": {Server: "https://work:6443"}},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{"work": {Token: "w"}},
		Contexts:       map[string]*clientcmdapi.Context{"work": {Cluster: "work", AuthInfo: "work", Namespace: "dev"}},
	}
	tenant := func(server, token string) clientcmdapi.Config {
		return clientcmdapi.Config{
			CurrentContext: "admin@t",
			Clusters:       map[string]*clientcmdapi.Cluster{"t": {Server: server, CertificateAuthorityData: []byte("ca")}},
			AuthInfos:      map[string]*clientcmdapi.AuthInfo{"admin": {Token: token}},
			Contexts:       map[string]*clientcmdapi.Context{"admin@t": {Cluster: "t", AuthInfo: "admin"}},
		}
	}

	merged, err := mergeKubeconfig(existing, tenant("https://a.tenants:8443", "one"), "a")
	if err != nil {
		t.Fatal(err)
	}
	check := func(cfg clientcmdapi.Config, server, token string) {
		t.Helper()
		if cfg.CurrentContext != "work" {
			t.Errorf("current context = %q, want it unchanged", cfg.CurrentContext)
		}
		if cfg.Clusters["work"].Server != "https://work:6443" || cfg.AuthInfos["work"].Token != "w" || cfg.Contexts["work"].Namespace != "dev" {
			t.Errorf("existing entries changed: %+v", cfg)
		}
		if len(cfg.Clusters) != 2 || len(cfg.AuthInfos) != 2 || len(cfg.Contexts) != 2 {
			t.Errorf("want exactly the existing and the vcp-a entries, got clusters %d, users %d, contexts %d",
				len(cfg.Clusters), len(cfg.AuthInfos), len(cfg.Contexts))
		}
		ctx := cfg.Contexts["vcp-a"]
		if ctx == nil || ctx.Cluster != "vcp-a" || ctx.AuthInfo != "vcp-a" {
			t.Fatalf("context vcp-a = %+v, want cluster and user vcp-a", ctx)
		}
		if c := cfg.Clusters["vcp-a"]; c == nil || c.Server != server || string(c.CertificateAuthorityData) != "ca" {
			t.Errorf("cluster vcp-a = %+v, want server %s", c, server)
		}
		if u := cfg.AuthInfos["vcp-a"]; u == nil || u.Token != token {
			t.Errorf("user vcp-a = %+v, want token %s", u, token)
		}
	}
	check(merged, "https://a.tenants:8443", "one")
	if len(existing.Clusters) != 1 || existing.Contexts["vcp-a"] != nil {
		t.Errorf("mergeKubeconfig modified its argument: %+v", existing)
	}

	again, err := mergeKubeconfig(merged, tenant("https://a2.tenants:8443", "two"), "a")
	if err != nil {
		t.Fatal(err)
	}
	check(again, "https://a2.tenants:8443", "two")

	fromEmpty, err := mergeKubeconfig(clientcmdapi.Config{}, tenant("https://a.tenants:8443", "one"), "a")
	if err != nil || fromEmpty.Contexts["vcp-a"] == nil || fromEmpty.CurrentContext != "" {
		t.Errorf("merge into an empty kubeconfig = %+v, %v", fromEmpty, err)
	}

	broken := tenant("https://a.tenants:8443", "one")
	broken.CurrentContext = "nope"
	if _, err := mergeKubeconfig(existing, broken, "a"); err == nil {
		t.Error("merging a kubeconfig without a usable current context succeeded")
	}
}

// runVcctl runs vcctl in-process and returns its stdout and stderr.
func runVcctl(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := NewCommand(&out, &errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(t.Context())
	t.Logf("vcctl %s: err=%v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	return out.String(), errOut.String(), err
}

func wantErrContaining(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("command succeeded; want an error containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

// TestTenantCommands runs the tenant commands against a real kube-apiserver with the
// CRDs installed and no vc-manager; where a test needs status, it writes it itself.
func TestTenantCommands(t *testing.T) {
	cluster := framework.StartCluster(t, localcluster.Config{ControlPlaneOnly: true})
	ctx := t.Context()
	framework.InstallCRDs(t, cluster)
	scheme, err := newScheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cluster.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	kc := []string{"--kubeconfig", cluster.Kubeconfig}
	vcctl := func(t *testing.T, args ...string) (string, string, error) {
		t.Helper()
		return runVcctl(t, append(args, kc...)...)
	}
	listNames := func() []string {
		t.Helper()
		out, _, err := vcctl(t, "tenant", "list", "-o", "json")
		if err != nil {
			t.Fatal(err)
		}
		list := &tenancyv1alpha1.VirtualClusterList{}
		if err := json.Unmarshal([]byte(out), list); err != nil {
			t.Fatalf("tenant list -o json is not a VirtualClusterList: %v", err)
		}
		if list.Kind != "VirtualClusterList" {
			t.Errorf("kind = %q, want VirtualClusterList", list.Kind)
		}
		var names []string
		for _, vc := range list.Items {
			names = append(names, vc.Name)
		}
		return names
	}

	_, _, err = vcctl(t, "tenant", "create", "a", "--runtime-class", "nope")
	wantErrContaining(t, err, `--runtime-class: RuntimeClass "nope" does not exist in the super cluster`)
	if names := listNames(); len(names) != 0 {
		t.Fatalf("a failed pre-flight created tenants %v", names)
	}
	_, _, err = vcctl(t, "tenant", "create", "a", "--node-pool", "nope")
	wantErrContaining(t, err, `--node-pool: no super-cluster node is in pool "nope" (nodes labelled vcp.dev/node-pool=nope)`)
	_, _, err = vcctl(t, "tenant", "create", "b", "--quota", "cpu=-1")
	wantErrContaining(t, err, "--quota cpu")
	_, _, err = vcctl(t, "tenant", "create", "Bad_Name")
	wantErrContaining(t, err, "NAME")
	if names := listNames(); len(names) != 0 {
		t.Fatalf("failed creates created tenants %v", names)
	}

	if _, err := cluster.SuperClient.NodeV1().RuntimeClasses().Create(ctx, &nodev1.RuntimeClass{
		ObjectMeta: metav1.ObjectMeta{Name: "gvisor"}, Handler: "runsc",
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.SuperClient.CoreV1().Nodes().Create(ctx, &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "shared-0", Labels: map[string]string{tenancyv1alpha1.NodePoolLabel: "shared"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	out, _, err := vcctl(t, "tenant", "create", "a", "--runtime-class", "gvisor", "--node-pool", "shared", "--quota", "cpu=2,pods=10")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "virtualcluster default/a created") {
		t.Errorf("create printed %q", out)
	}
	vc := &tenancyv1alpha1.VirtualCluster{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "a"}, vc); err != nil {
		t.Fatal(err)
	}
	iso := vc.Spec.Isolation
	if iso.RuntimeClassName != "gvisor" || iso.NodePool.Name != "shared" || iso.ResourceQuota == nil {
		t.Fatalf("created spec.isolation = %+v", iso)
	}
	if cpu, pods := iso.ResourceQuota.Hard[corev1.ResourceCPU], iso.ResourceQuota.Hard[corev1.ResourcePods]; cpu.String() != "2" || pods.String() != "10" || len(iso.ResourceQuota.Hard) != 2 {
		t.Errorf("quota = %v, want cpu 2, pods 10", iso.ResourceQuota.Hard)
	}

	if names := listNames(); len(names) != 1 || names[0] != "a" {
		t.Errorf("tenant list -o json names %v, want [a]", names)
	}
	out, _, err = runVcctl(t, "__complete", "tenant", "pause", "--kubeconfig", cluster.Kubeconfig, "")
	if err != nil || !strings.HasPrefix(out, "a\n") {
		t.Errorf("completing tenant pause = %q, %v; want a", out, err)
	}
	out, _, err = vcctl(t, "tenant", "list", "-A")
	if err != nil || !strings.Contains(out, "NAMESPACE") || !strings.Contains(out, "default") {
		t.Errorf("tenant list -A = %q, %v", out, err)
	}
	out, _, err = vcctl(t, "tenant", "get", "a")
	if err != nil || !strings.Contains(out, "PHASE") || !strings.Contains(out, "No conditions yet") {
		t.Errorf("tenant get a = %q, %v", out, err)
	}

	if _, _, err := vcctl(t, "tenant", "pause", "a"); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "a"}, vc); err != nil || !vc.Spec.Paused {
		t.Errorf("after pause spec.paused = %v (%v), want true", vc.Spec.Paused, err)
	}
	if _, _, err := vcctl(t, "tenant", "resume", "a"); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "a"}, vc); err != nil || vc.Spec.Paused {
		t.Errorf("after resume spec.paused = %v (%v), want false", vc.Spec.Paused, err)
	}

	_, _, err = vcctl(t, "tenant", "kubeconfig", "a")
	wantErrContaining(t, err, "tenant a has no kubeconfig yet (phase Pending): wait until it is Ready")

	t.Run("from-file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "vc.yaml")
		if err := os.WriteFile(file, []byte("apiVersion: tenancy.vcp.dev/v1alpha1\nkind: VirtualCluster\nmetadata: {name: ignored}\n"+
			"spec: {isolation: {runtimeClassName: nope, podSecurity: {level: restricted}}, sync: {weight: 7}}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := vcctl(t, "tenant", "create", "f", "--from-file", file)
		wantErrContaining(t, err, "spec.isolation.runtimeClassName", file, `RuntimeClass "nope"`)
		if _, _, err := vcctl(t, "tenant", "create", "f", "--from-file", file, "--runtime-class", "gvisor"); err != nil {
			t.Fatal(err)
		}
		got := &tenancyv1alpha1.VirtualCluster{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "f"}, got); err != nil {
			t.Fatal(err)
		}
		if got.Spec.Isolation.RuntimeClassName != "gvisor" || got.Spec.Sync.Weight != 7 || got.Spec.Isolation.PodSecurity.Level != tenancyv1alpha1.PodSecurityRestricted {
			t.Errorf("created spec = %+v", got.Spec)
		}
	})

	t.Run("server-side validation", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "vc.yaml")
		if err := os.WriteFile(file, []byte("spec: {sync: {weight: 0}}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := vcctl(t, "tenant", "create", "v", "--from-file", file)
		wantErrContaining(t, err, "spec.sync.weight")
	})

	t.Run("wait and kubeconfig", func(t *testing.T) {
		testWaitAndKubeconfig(t, c, vcctl)
	})

	out, _, err = vcctl(t, "tenant", "delete", "a", "--wait", "--timeout", "30s")
	if err != nil || !strings.Contains(out, "virtualcluster default/a deleted") {
		t.Fatalf("tenant delete a = %q, %v", out, err)
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "default", Name: "a"}, vc); !apierrors.IsNotFound(err) {
		t.Errorf("after delete, get a = %v, want NotFound", err)
	}
	_, _, err = vcctl(t, "tenant", "delete", "a")
	wantErrContaining(t, err, "not found")
}

// testWaitAndKubeconfig plays the vc-manager for tenant w: while `create --wait` runs it
// reports conditions and then Ready with a kubeconfig Secret, which `kubeconfig` reads.
func testWaitAndKubeconfig(t *testing.T, c client.Client, vcctl func(*testing.T, ...string) (string, string, error)) {
	ctx := t.Context()
	kubeconfig := clientcmdapi.NewConfig()
	kubeconfig.Clusters["w"] = &clientcmdapi.Cluster{Server: "https://w.tenants.example:8443"}
	kubeconfig.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: "secret-token"}
	kubeconfig.Contexts["admin@w"] = &clientcmdapi.Context{Cluster: "w", AuthInfo: "admin"}
	kubeconfig.CurrentContext = "admin@w"
	data, err := clientcmd.Write(*kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "w-kubeconfig"},
		Data:       map[string][]byte{tenancyv1alpha1.KubeconfigSecretKey: data},
	}); err != nil {
		t.Fatal(err)
	}

	out, err := createWithManager(t, c, vcctl, "w", []managerStep{
		{tenancyv1alpha1.PhaseProvisioning, metav1.Condition{Type: tenancyv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "Provisioning"}},
		{tenancyv1alpha1.PhaseProvisioning, metav1.Condition{Type: tenancyv1alpha1.ConditionDatastoreReady, Status: metav1.ConditionTrue, Reason: "Ready", Message: "etcd prefix made"}},
		{tenancyv1alpha1.PhaseRunning, metav1.Condition{Type: tenancyv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Ready", Message: "tenant answers"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  DatastoreReady=True (Ready): etcd prefix made",
		"  Ready=False (Provisioning)",
		"  Ready=True (Ready): tenant answers",
		"Tenant w is ready. Get its kubeconfig with: vcctl tenant kubeconfig w -n default",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("create --wait output lacks %q:\n%s", want, out)
		}
	}

	out, _, err = vcctl(t, "tenant", "kubeconfig", "w")
	if err != nil || out != string(data) {
		t.Errorf("tenant kubeconfig w = %q, %v; want the Secret's kubeconfig", out, err)
	}
	file := filepath.Join(t.TempDir(), "w.kubeconfig")
	if _, _, err := vcctl(t, "tenant", "kubeconfig", "w", "--file", file); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("--file wrote %v (%v), want mode 0600", fi, err)
	}

	user := filepath.Join(t.TempDir(), "config")
	t.Setenv(clientcmd.RecommendedConfigPathEnvVar, user+string(os.PathListSeparator)+"/nonexistent")
	if _, _, err := vcctl(t, "tenant", "kubeconfig", "w", "--merge"); err != nil {
		t.Fatal(err)
	}
	merged, err := clientcmd.LoadFromFile(user)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Clusters["vcp-w"] == nil || merged.Clusters["vcp-w"].Server != "https://w.tenants.example:8443" || merged.CurrentContext != "" {
		t.Errorf("merged kubeconfig = %+v", merged)
	}

	_, _, err = vcctl(t, "tenant", "create", "x", "--wait", "--timeout", "1s")
	wantErrContaining(t, err, "timed out after 1s waiting for tenant x", "no conditions yet")

	_, err = createWithManager(t, c, vcctl, "failing", []managerStep{
		{tenancyv1alpha1.PhaseFailed, metav1.Condition{Type: tenancyv1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: "NoHost", Message: "no TenantHost has room"}},
	})
	wantErrContaining(t, err, "tenant failing failed: no TenantHost has room")
}

// managerStep is one status update of the fake vc-manager.
type managerStep struct {
	phase tenancyv1alpha1.VirtualClusterPhase
	cond  metav1.Condition
}

// fakeManager waits for VirtualCluster name and reports on it as the vc-manager would.
func fakeManager(ctx context.Context, c client.Client, name string, steps []managerStep) error {
	vc := &tenancyv1alpha1.VirtualCluster{}
	key := client.ObjectKey{Namespace: "default", Name: name}
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		err := c.Get(ctx, key, vc)
		return err == nil, client.IgnoreNotFound(err)
	})
	if err != nil {
		return err
	}
	for _, s := range steps {
		time.Sleep(400 * time.Millisecond)
		vc.Status.Phase = s.phase
		meta.SetStatusCondition(&vc.Status.Conditions, s.cond)
		vc.Status.KubeconfigSecretRef = &tenancyv1alpha1.SecretKeyReference{Name: name + "-kubeconfig", Key: tenancyv1alpha1.KubeconfigSecretKey}
		if err := c.Status().Update(ctx, vc); err != nil {
			return err
		}
	}
	return nil
}

// createWithManager runs `tenant create name --wait` while fakeManager takes steps.
func createWithManager(t *testing.T, c client.Client, vcctl func(*testing.T, ...string) (string, string, error), name string, steps []managerStep) (string, error) {
	t.Helper()
	var wg sync.WaitGroup
	var managerErr error
	wg.Go(func() { managerErr = fakeManager(t.Context(), c, name, steps) })
	out, _, err := vcctl(t, "tenant", "create", name, "--wait", "--timeout", "1m")
	wg.Wait()
	if managerErr != nil {
		t.Fatalf("fake manager: %v", managerErr)
	}
	return out, err
}
