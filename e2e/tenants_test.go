package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/vcp-dev/vcp/e2e/framework"
	"github.com/vcp-dev/vcp/hack/localcluster"
	"github.com/vcp-dev/vcp/tenant-apiserver/datastore"
	"github.com/vcp-dev/vcp/tenant-apiserver/host"
)

// tenantHost is a tenant-apiserver host with an embedded datastore, restartable in place.
type tenantHost struct {
	t       *testing.T
	dir     string
	ds      *datastore.Datastore
	h       *host.Host
	kubectl string
}

func startTenantHost(t *testing.T) *tenantHost {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real API servers; skipped in -short mode")
	}
	binDir, err := localcluster.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	th := &tenantHost{t: t, dir: t.TempDir(), kubectl: binDir}
	th.start()
	t.Cleanup(th.stop)
	return th
}

func (th *tenantHost) start() {
	th.t.Helper()
	ds, err := datastore.Embedded(th.t.Context(), th.dir)
	if err != nil {
		th.t.Fatal(err)
	}
	h, err := host.New(host.Options{DataDir: th.dir, Datastore: ds})
	if err != nil {
		th.t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		th.t.Fatal(err)
	}
	th.ds, th.h = ds, h
}

func (th *tenantHost) stop() {
	if th.h != nil {
		th.h.Stop()
		th.ds.Close()
		th.h, th.ds = nil, nil
	}
}

func (th *tenantHost) add(name string) {
	th.t.Helper()
	start := time.Now()
	if _, err := th.h.Add(th.t.Context(), host.TenantSpec{Name: name, UID: "uid-" + name}); err != nil {
		th.t.Fatalf("add tenant %s: %v", name, err)
	}
	th.t.Logf("tenant %s ready in %s", name, time.Since(start).Round(time.Millisecond))
}

// kubeconfig writes the tenant's kubeconfig to a file and returns its path.
func (th *tenantHost) kubeconfig(name string) string {
	th.t.Helper()
	kc, err := th.h.Kubeconfig(name)
	if err != nil {
		th.t.Fatal(err)
	}
	path := filepath.Join(th.dir, name+".kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		th.t.Fatal(err)
	}
	return path
}

func (th *tenantHost) client(name string) (kubernetes.Interface, *rest.Config) {
	th.t.Helper()
	cfg, err := th.h.RESTConfig(name)
	if err != nil {
		th.t.Fatal(err)
	}
	return kubernetes.NewForConfigOrDie(cfg), cfg
}

func (th *tenantHost) run(kubeconfig string, args ...string) string {
	th.t.Helper()
	return framework.Kubectl(th.t, th.kubectl, kubeconfig, args...)
}

func (th *tenantHost) apply(kubeconfig, manifest string) string {
	th.t.Helper()
	f := filepath.Join(th.t.TempDir(), "manifest.yaml")
	if err := os.WriteFile(f, []byte(manifest), 0o600); err != nil {
		th.t.Fatal(err)
	}
	return th.run(kubeconfig, "apply", "-f", f)
}

const widgetCRDv1 = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
`

const widgetCRDv2 = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Cluster
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v2
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, required: [color], properties: {color: {type: string}}}
`

// TestTenantControlPlane proves that tenants on one host are real, separate Kubernetes
// clusters: kubectl works with each kubeconfig, the controllers run, CRDs of the same name
// never collide, credentials of one tenant mean nothing to another, removal frees the
// tenant's goroutines and keeps its data, and a restarted host brings every tenant back.
func TestTenantControlPlane(t *testing.T) {
	th := startTenantHost(t)
	th.add("a")
	th.add("b")
	kcA, kcB := th.kubeconfig("a"), th.kubeconfig("b")
	clientA, cfgA := th.client("a")
	_, cfgB := th.client("b")
	ctx := t.Context()

	t.Run("kubectl drives a tenant", func(t *testing.T) {
		th.run(kcA, "create", "namespace", "demo")
		th.run(kcA, "-n", "demo", "create", "deployment", "web", "--image=nginx", "--replicas=2")
		th.run(kcA, "-n", "demo", "create", "cronjob", "nightly", "--image=busybox", "--schedule=0 0 * * *")
		framework.Eventually(t, time.Minute, "deployment web to have a ReplicaSet and 2 Pending pods", func(ctx context.Context) (bool, error) {
			rs, err := clientA.AppsV1().ReplicaSets("demo").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
			if err != nil || len(rs.Items) != 1 {
				return false, fmt.Errorf("replicasets: %v (err %v)", len(rs.Items), err)
			}
			pods, err := clientA.CoreV1().Pods("demo").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
			if err != nil {
				return false, err
			}
			for _, p := range pods.Items {
				if p.Status.Phase != corev1.PodPending {
					return false, fmt.Errorf("pod %s is %s; no scheduler should run in a tenant", p.Name, p.Status.Phase)
				}
			}
			return len(pods.Items) == 2, fmt.Errorf("%d pods", len(pods.Items))
		})
		th.apply(kcA, widgetCRDv1)
		th.run(kcA, "wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=60s")
		th.apply(kcA, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: demo}\nspec: {size: 3}\n")
		if out := th.run(kcA, "-n", "demo", "get", "widgets", "-o", "name"); !strings.Contains(out, "widget.example.com/w1") {
			t.Errorf("tenant a does not list its widget:\n%s", out)
		}
		if out := th.run(kcA, "get", "cronjobs", "-A", "-o", "name"); !strings.Contains(out, "nightly") {
			t.Errorf("tenant a does not list its cronjob:\n%s", out)
		}
	})

	t.Run("tenant b sees none of a's objects", func(t *testing.T) {
		if out := th.run(kcB, "get", "namespaces", "-o", "name"); strings.Contains(out, "demo") {
			t.Errorf("tenant b sees a's namespace:\n%s", out)
		}
		for _, kind := range []string{"deployments", "cronjobs", "pods", "customresourcedefinitions"} {
			if out := th.run(kcB, "get", kind, "-A", "-o", "name"); strings.TrimSpace(out) != "" {
				t.Errorf("tenant b lists %s:\n%s", kind, out)
			}
		}
	})

	t.Run("same-named CRDs never collide", func(t *testing.T) {
		th.apply(kcB, widgetCRDv2)
		th.run(kcB, "wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=60s")
		th.apply(kcB, "apiVersion: example.com/v2\nkind: Widget\nmetadata: {name: blue}\nspec: {color: blue}\n")
		// Each tenant's controller-runtime client sees only its own definition and objects.
		for _, tc := range []struct {
			cfg     *rest.Config
			gvk     schema.GroupVersionKind
			ns      string
			want    string
			missing schema.GroupVersion
		}{
			{cfgA, schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "WidgetList"}, "demo", "w1", schema.GroupVersion{Group: "example.com", Version: "v2"}},
			{cfgB, schema.GroupVersionKind{Group: "example.com", Version: "v2", Kind: "WidgetList"}, "", "blue", schema.GroupVersion{Group: "example.com", Version: "v1"}},
		} {
			list := &unstructured.UnstructuredList{}
			list.SetGroupVersionKind(tc.gvk)
			var c client.Client
			// Discovery of a new CRD version can trail its Established condition.
			framework.Eventually(t, 30*time.Second, "a controller-runtime client to list "+tc.gvk.String(), func(ctx context.Context) (bool, error) {
				var err error
				if c, err = client.New(tc.cfg, client.Options{}); err != nil {
					return false, err
				}
				err = c.List(ctx, list, client.InNamespace(tc.ns))
				return err == nil, err
			})
			if len(list.Items) != 1 || list.Items[0].GetName() != tc.want {
				t.Errorf("%s: listed %d widgets, want only %q", tc.gvk, len(list.Items), tc.want)
			}
			other := &unstructured.UnstructuredList{}
			other.SetGroupVersionKind(tc.missing.WithKind("WidgetList"))
			if err := c.List(ctx, other); err == nil {
				t.Errorf("%s is served to the tenant that did not define it", tc.missing)
			}
		}
		// a's schema still applies to a: a v2-style object is rejected.
		if _, err := clientA.Discovery().ServerResourcesForGroupVersion("example.com/v2"); err == nil {
			t.Error("tenant a serves example.com/v2, defined only by tenant b")
		}
	})

	t.Run("credentials of one tenant are refused by another", func(t *testing.T) {
		// a's admin client certificate, presented to b (trusting b's serving CA).
		crossCert := rest.CopyConfig(cfgB)
		crossCert.CertData, crossCert.KeyData = cfgA.CertData, cfgA.KeyData
		expectUnauthorized(t, crossCert, "tenant a's client certificate at tenant b")

		// A service-account token issued by a.
		if _, err := clientA.CoreV1().ServiceAccounts("demo").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		tr, err := clientA.CoreV1().ServiceAccounts("demo").CreateToken(ctx, "robot", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		atA := rest.AnonymousClientConfig(cfgA)
		atA.BearerToken = tr.Status.Token
		review, err := kubernetes.NewForConfigOrDie(atA).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil || review.Status.UserInfo.Username != "system:serviceaccount:demo:robot" {
			t.Fatalf("a's token at a: %v %+v", err, review)
		}
		atB := rest.AnonymousClientConfig(cfgB)
		atB.BearerToken = tr.Status.Token
		expectUnauthorized(t, atB, "tenant a's service-account token at tenant b")
	})

	t.Run("namespace deletion finishes", func(t *testing.T) {
		th.run(kcA, "delete", "namespace", "demo", "--timeout=90s")
		if _, err := clientA.CoreV1().Namespaces().Get(ctx, "demo", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("namespace demo still exists after kubectl delete returned: %v", err)
		}
		th.run(kcA, "create", "namespace", "kept")
	})

	t.Run("removal frees goroutines and keeps data", func(t *testing.T) {
		// The first tenant a process removes also ends a few process-wide helpers; a
		// warm-up cycle keeps them out of the measurement.
		th.add("c")
		clientC, _ := th.client("c")
		if _, err := clientC.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "c-data"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := th.h.Remove(ctx, "c", false); err != nil {
			t.Fatal(err)
		}
		keys, err := th.ds.CountKeys(ctx, "/vcp/uid-c/")
		if err != nil || keys == 0 {
			t.Fatalf("tenant c's data is gone after a removal that keeps data: %d keys, %v", keys, err)
		}

		before := stableGoroutines(t)
		th.add("c")
		clientC, _ = th.client("c")
		if _, err := clientC.CoreV1().Namespaces().Get(ctx, "c-data", metav1.GetOptions{}); err != nil {
			t.Fatalf("re-added tenant c lost its namespace: %v", err)
		}
		during := runtime.NumGoroutine()
		if err := th.h.Remove(ctx, "c", false); err != nil {
			t.Fatal(err)
		}
		var after int
		framework.Eventually(t, time.Minute, "goroutines to return to the level before tenant c", func(context.Context) (bool, error) {
			after = settledGoroutines()
			return after <= before+5, fmt.Errorf("%d goroutines before c, %d with c, %d after removing it", before, during, after)
		})
		t.Logf("goroutines: %d before tenant c, %d with it (%d for the tenant), %d after removal", before, during, during-before, after)

		th.add("c")
		if err := th.h.Remove(ctx, "c", true); err != nil {
			t.Fatal(err)
		}
		if keys, err := th.ds.CountKeys(ctx, "/vcp/uid-c/"); err != nil || keys != 0 {
			t.Fatalf("after removal with data: %d keys left under /vcp/uid-c/ (%v)", keys, err)
		}
		if keys, err := th.ds.CountKeys(ctx, "/vcp/uid-a/"); err != nil || keys == 0 {
			t.Fatalf("deleting c's data touched a's: %d keys (%v)", keys, err)
		}
	})

	t.Run("a restarted host brings every tenant back with its data", func(t *testing.T) {
		th.stop()
		th.start()
		if err := th.h.Restore(ctx); err != nil {
			t.Fatal(err)
		}
		names := []string{}
		for _, tn := range th.h.Tenants() {
			names = append(names, tn.Name())
		}
		if strings.Join(names, ",") != "a,b" {
			t.Fatalf("restored tenants %v, want a and b (c was removed)", names)
		}
		kcA := th.kubeconfig("a")
		if out := th.run(kcA, "get", "namespace", "kept", "-o", "name"); !strings.Contains(out, "namespace/kept") {
			t.Errorf("tenant a lost its namespace across the restart:\n%s", out)
		}
		if out := th.run(th.kubeconfig("b"), "get", "widgets", "-o", "name"); !strings.Contains(out, "blue") {
			t.Errorf("tenant b lost its widget across the restart:\n%s", out)
		}
	})
}

func expectUnauthorized(t *testing.T, cfg *rest.Config, what string) {
	t.Helper()
	_, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Namespaces().List(t.Context(), metav1.ListOptions{})
	if !apierrors.IsUnauthorized(err) {
		t.Errorf("%s: err = %v, want 401 Unauthorized", what, err)
	}
}

// stableGoroutines waits until the goroutine count holds still for a second.
func stableGoroutines(t *testing.T) int {
	prev := settledGoroutines()
	for range 60 {
		time.Sleep(time.Second)
		n := settledGoroutines()
		if n-prev <= 2 && prev-n <= 2 {
			return n
		}
		prev = n
	}
	t.Fatalf("goroutine count never settled (last %d)", prev)
	return 0
}

// settledGoroutines counts goroutines after a GC, when short-lived ones have ended.
func settledGoroutines() int {
	runtime.GC()
	time.Sleep(200 * time.Millisecond)
	return runtime.NumGoroutine()
}
