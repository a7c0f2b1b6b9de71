package host

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	cachermetrics "k8s.io/apiserver/pkg/storage/cacher/metrics"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/openapi"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/component-base/metrics/testutil"

	"github.com/vcp-dev/vcp/tenant-apiserver/internal/kubeapiserver"
)

// TestSharedOpenAPIAndStorage checks what the process-wide sharing of OpenAPI v3
// documents and etcd clients must not change for a tenant: /openapi/v3 lists and serves
// the built-in groups (kubectl explain, client-side schema users), server-side apply
// still knows list keys (the type converter is intact: a keyed list is recorded per key
// in managedFields, not as one atomic field), and a tenant added after another serves the
// same documents while one etcd client serves both tenants' resources.
func TestSharedOpenAPIAndStorage(t *testing.T) {
	cacheInits := func(resource string) float64 {
		v, err := testutil.GetCounterMetricValue(cachermetrics.WatchCacheInitializations.WithLabelValues("", resource))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	podCaches, configMapCaches := cacheInits("pods"), cacheInits("configmaps")
	h := startHost(t, Options{DisableControllers: true})
	ctx := t.Context()
	hashes := map[string]string{}
	for _, name := range []string{"a", "b"} {
		client := addTenant(t, h, name)
		paths, err := openapi.NewClient(client.RESTClient()).Paths()
		if err != nil {
			t.Fatalf("tenant %s: /openapi/v3: %v", name, err)
		}
		apps, ok := paths["apis/apps/v1"]
		if !ok {
			t.Fatalf("tenant %s: /openapi/v3 does not list apis/apps/v1 (it lists %d paths)", name, len(paths))
		}
		doc, err := apps.Schema("application/json")
		if err != nil {
			t.Fatalf("tenant %s: /openapi/v3/apis/apps/v1: %v", name, err)
		}
		var spec struct {
			Components struct {
				Schemas map[string]json.RawMessage `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(doc, &spec); err != nil {
			t.Fatal(err)
		}
		if _, ok := spec.Components.Schemas["io.k8s.api.apps.v1.Deployment"]; !ok {
			t.Fatalf("tenant %s: apps/v1 document has no Deployment schema", name)
		}
		if _, ok := paths["apis/apiextensions.k8s.io/v1"]; !ok {
			t.Errorf("tenant %s: /openapi/v3 lacks the apiextensions group served by another server of the chain", name)
		}
		hashes[name] = string(doc)

		patch := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ssa"},"data":{"k":"v"}}`
		if _, err := client.CoreV1().ConfigMaps("default").Patch(ctx, "ssa", types.ApplyPatchType, []byte(patch), metav1.PatchOptions{FieldManager: "test"}); err != nil {
			t.Fatalf("tenant %s: server-side apply: %v", name, err)
		}
		svc := `{"apiVersion":"v1","kind":"Service","metadata":{"name":"ssa"},"spec":{"ports":[{"name":"http","port":80,"protocol":"TCP"}]}}`
		got, err := client.CoreV1().Services("default").Patch(ctx, "ssa", types.ApplyPatchType, []byte(svc), metav1.PatchOptions{FieldManager: "test"})
		if err != nil {
			t.Fatalf("tenant %s: server-side apply of a Service: %v", name, err)
		}
		fields := string(got.ManagedFields[0].FieldsV1.Raw)
		if !strings.Contains(fields, `k:{\"port\":80,\"protocol\":\"TCP\"}`) {
			t.Errorf("tenant %s: managedFields do not key spec.ports by port and protocol (type converter lost?): %s", name, fields)
		}
	}
	if hashes["a"] != hashes["b"] {
		t.Error("tenants a and b serve different apps/v1 documents")
	}
	// Pods, and only pods, are served from a watch cache: one per tenant.
	if pods, cms := cacheInits("pods")-podCaches, cacheInits("configmaps")-configMapCaches; pods != 2 || cms != 0 {
		t.Errorf("watch caches initialised for two tenants: %v of pods (want 2), %v of ConfigMaps (want 0)", pods, cms)
	}
	if n := sharedEtcdClients(); n != 1 {
		t.Errorf("%d etcd clients serve two tenants' resources on one datastore without auth, want 1", n)
	}
}

func sharedEtcdClients() int { return kubeapiserver.SharedEtcdClients() }

// TestWatchCacheProgressStaysOnItsOwnStream checks that a tenant's watch cache asks etcd
// for progress on a gRPC watch stream of its own. Consistent LISTs of pods are served from
// the watch cache, which first asks etcd for progress; on a stream shared with every
// other watch of every tenant, etcd's answer went to all of them as bookmarks (O(tenants²)
// work at idle, ~1.9 cores at 100 tenants). Here only the pods watches may see one.
func TestWatchCacheProgressStaysOnItsOwnStream(t *testing.T) {
	h := startHost(t, Options{})
	ctx := t.Context()
	for _, name := range []string{"a", "b"} {
		if _, err := h.Add(ctx, TenantSpec{Name: name, UID: "uid-" + name}); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := h.RESTConfig("a")
	if err != nil {
		t.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	before := etcdBookmarks(t)
	for i := range 20 {
		// A write elsewhere moves etcd's revision past the pods cache's, so the next
		// consistent LIST has to ask etcd for progress.
		if _, err := client.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bump-%d", i)}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := client.CoreV1().Pods("").List(ctx, metav1.ListOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	after := etcdBookmarks(t)
	if after["pods"] == before["pods"] {
		t.Error("the pods watch cache got no progress notification from etcd (was none asked for?)")
	}
	for resource, n := range after {
		if resource != "pods" && n != before[resource] {
			t.Errorf("%v progress notifications reached watches of %s; only the pods cache asked for them", n-before[resource], resource)
		}
	}
}

// etcdBookmarks is etcd_bookmark_total by resource: progress notifications etcd sent to
// the process's watches.
func etcdBookmarks(t *testing.T) map[string]float64 {
	t.Helper()
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "etcd_bookmark_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "resource" {
					out[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

// TestCRDsInOpenAPIV3 checks that a tenant's custom resources appear in /openapi/v3 with
// their schema (kubectl explain reads it). The apiextensions server publishes them only
// when it has a static OpenAPI v2 spec, which tenants, serving no /openapi/v2, lacked.
func TestCRDsInOpenAPIV3(t *testing.T) {
	h := startHost(t, Options{DisableControllers: true})
	ctx := t.Context()
	if _, err := h.Add(ctx, TenantSpec{Name: "a", UID: "uid-a"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := h.RESTConfig("a")
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "widgets.example.com"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "example.com", Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "widgets", Kind: "Widget"},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{
						"spec": {Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{"color": {Type: "string", Description: "The widget's colour."}}},
					}}}}},
		},
	}
	if _, err := apiextensionsclient.NewForConfigOrDie(cfg).ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	oapi := kubernetes.NewForConfigOrDie(cfg).Discovery().OpenAPIV3()
	var doc []byte
	waitFor(t, 30*time.Second, "apis/example.com/v1 in /openapi/v3", func() (bool, error) {
		paths, err := oapi.Paths()
		if err != nil {
			return false, err
		}
		gv, ok := paths["apis/example.com/v1"]
		if !ok {
			return false, fmt.Errorf("%d paths, none for example.com/v1", len(paths))
		}
		doc, err = gv.Schema("application/json")
		return err == nil, err
	})
	if !strings.Contains(string(doc), "The widget's colour.") {
		t.Errorf("the example.com/v1 document lacks the CRD's schema: %.500s", doc)
	}
	// The host's readiness covers it: a tenant restarted with the CRD is ready only once
	// its group is listed.
	if err := h.Remove(ctx, "a", false); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Add(ctx, TenantSpec{Name: "a", UID: "uid-a"}); err != nil {
		t.Fatal(err)
	}
	paths, err := oapi.Paths()
	if _, ok := paths["apis/example.com/v1"]; err != nil || !ok {
		t.Errorf("restarted tenant ready without example.com/v1 in /openapi/v3 (err %v)", err)
	}
}
