package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	vcctlapp "github.com/vcp-dev/vcp/cmd/vcctl/app"
	"github.com/vcp-dev/vcp/e2e/framework"
	"github.com/vcp-dev/vcp/hack/localcluster"
	"github.com/vcp-dev/vcp/tenant-apiserver/datastore"
)

// provisioning is the platform an admin runs: a super cluster with a tenant-apiserver
// host and the vc-manager, and the admin's client.
type provisioning struct {
	t       *testing.T
	cluster *framework.Cluster
	admin   client.Client
	binDir  string
}

func startProvisioning(t *testing.T) *provisioning {
	t.Helper()
	return startProvisioningWith(t, localcluster.Config{})
}

// startProvisioningWith is startProvisioning on a super cluster configured by cfg.
func startProvisioningWith(t *testing.T, cfg localcluster.Config) *provisioning {
	t.Helper()
	cluster := framework.StartCluster(t, cfg)
	start := time.Now()
	if err := cluster.StartPlatform(t.Context()); err != nil {
		t.Fatalf("start the platform: %v", err)
	}
	t.Logf("tenant-apiserver host and vc-manager ready in %s", time.Since(start).Round(time.Millisecond))
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = tenancyv1alpha1.AddToScheme(scheme)
	admin, err := client.New(cluster.Config, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	binDir, _ := localcluster.FindBinDir()
	return &provisioning{t: t, cluster: cluster, admin: admin, binDir: binDir}
}

func (p *provisioning) create(vc *tenancyv1alpha1.VirtualCluster) *tenancyv1alpha1.VirtualCluster {
	p.t.Helper()
	if vc.Namespace == "" {
		vc.Namespace = "default"
	}
	if err := p.admin.Create(p.t.Context(), vc); err != nil {
		p.t.Fatalf("create VirtualCluster %s: %v", vc.Name, err)
	}
	return vc
}

// waitPhase waits until the VirtualCluster reaches phase and returns it.
func (p *provisioning) waitPhase(name string, phase tenancyv1alpha1.VirtualClusterPhase, timeout time.Duration) *tenancyv1alpha1.VirtualCluster {
	p.t.Helper()
	vc := &tenancyv1alpha1.VirtualCluster{}
	framework.Eventually(p.t, timeout, fmt.Sprintf("VirtualCluster %s to be %s", name, phase), func(ctx context.Context) (bool, error) {
		if err := p.admin.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, vc); err != nil {
			return false, err
		}
		return vc.Status.Phase == phase, fmt.Errorf("phase %s, conditions %s", vc.Status.Phase, conditionsOf(vc))
	})
	return vc
}

func conditionsOf(vc *tenancyv1alpha1.VirtualCluster) string {
	var parts []string
	for _, c := range vc.Status.Conditions {
		parts = append(parts, fmt.Sprintf("%s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message))
	}
	return strings.Join(parts, "; ")
}

// kubeconfig writes the tenant's kubeconfig from its Secret, as `vcctl tenant kubeconfig`
// does, and returns the file.
func (p *provisioning) kubeconfig(vc *tenancyv1alpha1.VirtualCluster) string {
	p.t.Helper()
	ref := vc.Status.KubeconfigSecretRef
	if ref == nil {
		p.t.Fatalf("VirtualCluster %s has no kubeconfigSecretRef", vc.Name)
	}
	s := &corev1.Secret{}
	if err := p.admin.Get(p.t.Context(), client.ObjectKey{Namespace: vc.Namespace, Name: ref.Name}, s); err != nil {
		p.t.Fatal(err)
	}
	path := filepath.Join(p.t.TempDir(), vc.Name+".kubeconfig")
	if err := os.WriteFile(path, s.Data[ref.Key], 0o600); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// etcd is a root client of the host's embedded etcd.
func (p *provisioning) etcd() *clientv3.Client {
	p.t.Helper()
	pki := filepath.Join(p.cluster.Platform.HostDataDir, "etcd-pki")
	tlsCfg, err := (transport.TLSInfo{CertFile: filepath.Join(pki, "root.crt"), KeyFile: filepath.Join(pki, "root.key"), TrustedCAFile: filepath.Join(pki, "ca.crt")}).ClientConfig()
	if err != nil {
		p.t.Fatal(err)
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{p.cluster.Platform.HostEtcdURL}, TLS: tlsCfg, DialTimeout: 5 * time.Second})
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestProvisioning drives the VirtualCluster lifecycle as a platform admin does, against
// a real super cluster with a registered tenant-apiserver host and the vc-manager.
func TestProvisioning(t *testing.T) {
	p := startProvisioning(t)
	ctx := t.Context()

	t.Run("create → Ready → kubectl through the kubeconfig Secret", func(t *testing.T) {
		start := time.Now()
		p.create(&tenancyv1alpha1.VirtualCluster{
			ObjectMeta: metav1.ObjectMeta{Name: "a"},
			Spec: tenancyv1alpha1.VirtualClusterSpec{Isolation: tenancyv1alpha1.IsolationSpec{
				RuntimeClassName: "gvisor",
				NodePool:         tenancyv1alpha1.NodePoolSpec{Name: "shared"},
				ResourceQuota:    &tenancyv1alpha1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")}},
			}},
		})
		vc := p.waitPhase("a", tenancyv1alpha1.PhaseRunning, time.Minute)
		t.Logf("VirtualCluster a Running in %s on host %s", time.Since(start).Round(time.Millisecond), vc.Status.Host)
		if vc.Status.Host != localcluster.LocalHostName || vc.Status.TenantKey != vc.TenantKey() || vc.Status.Endpoint == "" {
			t.Errorf("status host=%q tenantKey=%q endpoint=%q", vc.Status.Host, vc.Status.TenantKey, vc.Status.Endpoint)
		}
		ds := &corev1.Secret{}
		if err := p.admin.Get(ctx, client.ObjectKey{Namespace: "default", Name: "a-datastore"}, ds); err != nil {
			t.Fatalf("datastore credentials Secret: %v", err)
		}
		if user, want := string(ds.Data["user"]), datastore.TenantUser("/vcp/"+string(vc.UID)+"/"); user != want || len(ds.Data["tls.key"]) == 0 {
			t.Errorf("datastore Secret: user %q (want %q), %d bytes of key", user, want, len(ds.Data["tls.key"]))
		}
		out := framework.Kubectl(t, p.binDir, p.kubeconfig(vc), "get", "ns", "kube-system", "-o", "name")
		if strings.TrimSpace(out) != "namespace/kube-system" {
			t.Errorf("kubectl get ns in the tenant: %q", out)
		}
	})

	t.Run("vcctl tenant create --wait, kubeconfig and list against the manager", func(t *testing.T) {
		vcctl := func(args ...string) string {
			t.Helper()
			var out bytes.Buffer
			cmd := vcctlapp.NewCommand(&out, &out)
			cmd.SetArgs(append(args, "--kubeconfig", p.cluster.Kubeconfig))
			if err := cmd.ExecuteContext(t.Context()); err != nil {
				t.Fatalf("vcctl %s: %v\n%s", strings.Join(args, " "), err, out.String())
			}
			return out.String()
		}
		if out := vcctl("tenant", "create", "cli", "--runtime-class", "kata", "--node-pool", "dedicated-a", "--wait", "--timeout", "1m"); !strings.Contains(out, "is ready") {
			t.Errorf("create --wait does not report the tenant ready:\n%s", out)
		}
		file := filepath.Join(t.TempDir(), "cli.kubeconfig")
		vcctl("tenant", "kubeconfig", "cli", "--file", file)
		framework.Kubectl(t, p.binDir, file, "get", "ns", "default")
		if out := vcctl("tenant", "list"); !strings.Contains(out, "cli") || !strings.Contains(out, "Running") {
			t.Errorf("tenant list does not show cli Running:\n%s", out)
		}
		vcctl("tenant", "delete", "cli", "--wait", "--timeout", "1m")
	})

	t.Run("what the schema cannot check fails with a condition naming the field, nothing created", func(t *testing.T) {
		for _, tc := range []struct {
			name, field string
			spec        tenancyv1alpha1.IsolationSpec
		}{
			{"bad-rc", "spec.isolation.runtimeClassName: RuntimeClass \"nope\" does not exist", tenancyv1alpha1.IsolationSpec{RuntimeClassName: "nope"}},
			{"bad-pool", "spec.isolation.nodePool.name: no super-cluster node is in pool \"nope\"", tenancyv1alpha1.IsolationSpec{NodePool: tenancyv1alpha1.NodePoolSpec{Name: "nope"}}},
		} {
			p.create(&tenancyv1alpha1.VirtualCluster{ObjectMeta: metav1.ObjectMeta{Name: tc.name}, Spec: tenancyv1alpha1.VirtualClusterSpec{Isolation: tc.spec}})
			vc := p.waitPhase(tc.name, tenancyv1alpha1.PhaseFailed, 30*time.Second)
			if msg := conditionsOf(vc); !strings.Contains(msg, tc.field) {
				t.Errorf("%s: conditions %q do not name %q", tc.name, msg, tc.field)
			}
			secrets := &corev1.SecretList{}
			if err := p.admin.List(ctx, secrets, client.MatchingLabels{tenancyv1alpha1.LabelTenant: vc.TenantKey()}); err != nil || len(secrets.Items) != 0 {
				t.Errorf("%s: %d Secrets were made for an invalid tenant (err %v)", tc.name, len(secrets.Items), err)
			}
			if vc.Status.Host != "" {
				t.Errorf("%s: an invalid tenant was placed on host %s", tc.name, vc.Status.Host)
			}
			if err := p.admin.Delete(ctx, vc); err != nil {
				t.Fatal(err)
			}
		}
		// What the schema checks is refused at once, naming the field.
		bad := &tenancyv1alpha1.VirtualCluster{ObjectMeta: metav1.ObjectMeta{Name: "neg", Namespace: "default"}, Spec: tenancyv1alpha1.VirtualClusterSpec{
			Isolation: tenancyv1alpha1.IsolationSpec{ResourceQuota: &tenancyv1alpha1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("-1")}}}}}
		if err := p.admin.Create(ctx, bad); err == nil || !strings.Contains(err.Error(), "spec.isolation.resourceQuota.hard") {
			t.Errorf("negative quota: err = %v, want a rejection naming spec.isolation.resourceQuota.hard", err)
		}
		if err := p.admin.Create(ctx, &tenancyv1alpha1.VirtualCluster{ObjectMeta: metav1.ObjectMeta{Name: "Bad_Name", Namespace: "default"}}); err == nil {
			t.Error("a VirtualCluster named Bad_Name was accepted")
		}
	})

	t.Run("pause stops the tenant and keeps its data; resume brings both back", func(t *testing.T) {
		vc := p.waitPhase("a", tenancyv1alpha1.PhaseRunning, time.Minute)
		kc := p.kubeconfig(vc)
		framework.Kubectl(t, p.binDir, kc, "create", "namespace", "keep-me")
		setPaused(t, p, "a", true)
		p.waitPhase("a", tenancyv1alpha1.PhasePaused, 30*time.Second)
		framework.Eventually(t, 30*time.Second, "the paused tenant to stop answering", func(ctx context.Context) (bool, error) {
			err := kubectlErr(p.binDir, kc, "get", "ns", "--request-timeout=2s")
			return err != nil, nil
		})
		setPaused(t, p, "a", false)
		vc = p.waitPhase("a", tenancyv1alpha1.PhaseRunning, time.Minute)
		if out := framework.Kubectl(t, p.binDir, p.kubeconfig(vc), "get", "ns", "keep-me", "-o", "name"); !strings.Contains(out, "keep-me") {
			t.Errorf("namespace keep-me lost across pause/resume: %s", out)
		}
	})

	t.Run("manager killed mid-provisioning: the next one converges", func(t *testing.T) {
		p.create(&tenancyv1alpha1.VirtualCluster{ObjectMeta: metav1.ObjectMeta{Name: "crash"}})
		if err := p.cluster.Kill("vc-manager"); err != nil {
			t.Fatal(err)
		}
		if _, err := p.cluster.StartManager(ctx, "vc-manager"); err != nil {
			t.Fatal(err)
		}
		vc := p.waitPhase("crash", tenancyv1alpha1.PhaseRunning, 2*time.Minute)
		framework.Kubectl(t, p.binDir, p.kubeconfig(vc), "get", "ns", "default")
	})

	t.Run("two managers: only the leader acts", func(t *testing.T) {
		standby, err := p.cluster.StartManager(ctx, "vc-manager-standby")
		if err != nil {
			t.Fatal(err)
		}
		p.create(&tenancyv1alpha1.VirtualCluster{ObjectMeta: metav1.ObjectMeta{Name: "led"}})
		p.waitPhase("led", tenancyv1alpha1.PhaseRunning, time.Minute)
		log, _ := os.ReadFile(standby.Log)
		if strings.Contains(string(log), "Starting workers") || strings.Contains(string(log), "tenant deleted") {
			t.Errorf("the standby manager started reconciling while the leader runs:\n%s", log)
		}
		if !strings.Contains(strings.ToLower(string(log)), "attempting to acquire leader lease") {
			t.Errorf("the standby manager does not wait for the leader lease:\n%s", log)
		}
		if err := p.cluster.Kill("vc-manager-standby"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("delete removes every trace", func(t *testing.T) {
		vc := p.waitPhase("a", tenancyv1alpha1.PhaseRunning, time.Minute)
		key, prefix := vc.TenantKey(), "/vcp/"+string(vc.UID)+"/"
		etcd := p.etcd()
		if n := countKeys(t, etcd, prefix); n == 0 {
			t.Fatalf("tenant a has no keys under %s before deletion", prefix)
		}
		if !userExists(t, etcd, datastore.TenantUser(prefix)) {
			t.Fatalf("tenant a has no etcd user %s before deletion", datastore.TenantUser(prefix))
		}
		if err := p.admin.Delete(ctx, vc); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, time.Minute, "VirtualCluster a to be gone", func(ctx context.Context) (bool, error) {
			err := p.admin.Get(ctx, client.ObjectKeyFromObject(vc), vc)
			return apierrors.IsNotFound(err), fmt.Errorf("get: %v; conditions %s", err, conditionsOf(vc))
		})
		for _, list := range []client.ObjectList{&corev1.SecretList{}, &corev1.NamespaceList{}, &corev1.ConfigMapList{}, &corev1.PodList{}} {
			if err := p.admin.List(ctx, list, client.MatchingLabels{tenancyv1alpha1.LabelTenant: key}); err != nil {
				t.Fatal(err)
			}
			if n := len(mustItems(t, list)); n != 0 {
				t.Errorf("%d %T labelled %s=%s remain", n, list, tenancyv1alpha1.LabelTenant, key)
			}
		}
		if n := countKeys(t, etcd, prefix); n != 0 {
			t.Errorf("%d etcd keys remain under %s", n, prefix)
		}
		if userExists(t, etcd, datastore.TenantUser(prefix)) {
			t.Errorf("etcd user %s remains", datastore.TenantUser(prefix))
		}
		if _, err := os.Stat(filepath.Join(p.cluster.Platform.HostDataDir, "tenants", key)); !os.IsNotExist(err) {
			t.Errorf("the host kept the tenant's directory (stat: %v)", err)
		}
	})

	t.Run("20 tenants created at once all become Ready", func(t *testing.T) {
		start := time.Now()
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				p.create(&tenancyv1alpha1.VirtualCluster{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("many-%02d", i)}})
			})
		}
		wg.Wait()
		for i := range 20 {
			p.waitPhase(fmt.Sprintf("many-%02d", i), tenancyv1alpha1.PhaseRunning, 3*time.Minute)
		}
		t.Logf("20 concurrent tenants Running in %s", time.Since(start).Round(time.Millisecond))
	})
}

func setPaused(t *testing.T, p *provisioning, name string, paused bool) {
	t.Helper()
	vc := &tenancyv1alpha1.VirtualCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}
	patch := []byte(fmt.Sprintf(`{"spec":{"paused":%v}}`, paused))
	if err := p.admin.Patch(t.Context(), vc, client.RawPatch("application/merge-patch+json", patch)); err != nil {
		t.Fatal(err)
	}
}

func countKeys(t *testing.T, c *clientv3.Client, prefix string) int64 {
	t.Helper()
	resp, err := c.Get(t.Context(), prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	return resp.Count
}

func userExists(t *testing.T, c *clientv3.Client, user string) bool {
	t.Helper()
	users, err := c.UserList(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users.Users {
		if u == user {
			return true
		}
	}
	return false
}

func mustItems(t *testing.T, list client.ObjectList) []runtime.Object {
	t.Helper()
	items, err := metaExtractList(list)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func metaExtractList(list client.ObjectList) ([]runtime.Object, error) { return meta.ExtractList(list) }

// kubectlErr runs kubectl and returns its error (with output) instead of failing.
func kubectlErr(binDir, kubeconfig string, args ...string) error {
	cmd := exec.Command(filepath.Join(binDir, "kubectl"), append([]string{"--kubeconfig", kubeconfig}, args...)...)
	if framework.KubeCacheDir != "" {
		cmd.Env = append(os.Environ(), "KUBECACHEDIR="+framework.KubeCacheDir)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}
