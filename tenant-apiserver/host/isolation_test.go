package host

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/component-base/metrics/testutil"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// TestFatalInOneTenantLeavesOthersServing: upstream calls klog.Fatal in some per-server
// goroutines (a failed post-start hook); in a host that must end only that goroutine.
func TestFatalInOneTenantLeavesOthersServing(t *testing.T) {
	afterReady = func(tenant string) {
		if tenant == "fatal" {
			klog.Fatalf("injected fatal in tenant %s", tenant)
		}
	}
	t.Cleanup(func() { afterReady = nil })
	h := startHost(t, Options{DisableControllers: true})
	ctx := t.Context()
	for _, name := range []string{"steady", "fatal"} {
		if _, err := h.Add(ctx, TenantSpec{Name: name, UID: "u-" + name}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 30*time.Second, "the injected fatal to be counted", func() (bool, error) {
		v, err := testutil.GetCounterMetricValue(tenantFatals)
		return v >= 1, err
	})
	for _, name := range []string{"steady", "fatal"} {
		cfg, _ := h.RESTConfig(name)
		if _, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
			t.Errorf("tenant %s stopped serving after a klog.Fatal in tenant fatal: %v", name, err)
		}
	}
}

// TestFatalWhileStartingRetriesTheStart: a klog.Fatal while a tenant starts (upstream's
// post-start hooks do that when, under load, a check times out) leaves that start without
// its hook, so it would never turn ready. The starting tenant is told, and when it is not
// ready within the grace (here none) it starts again; its Add succeeds, and a tenant
// already running is not touched.
func TestFatalWhileStartingRetriesTheStart(t *testing.T) {
	var fatals atomic.Int32
	whileStarting = func(tenant string) {
		if tenant == "flaky" && fatals.Add(1) == 1 {
			klog.Fatalf("injected fatal while tenant %s starts", tenant)
		}
	}
	grace := fatalGrace
	fatalGrace = 0
	t.Cleanup(func() { whileStarting, fatalGrace = nil, grace })
	h := startHost(t, Options{DisableControllers: true, ReadyTimeout: 2 * time.Minute})
	ctx := t.Context()
	for _, name := range []string{"steady", "flaky"} {
		if _, err := h.Add(ctx, TenantSpec{Name: name, UID: "u-" + name}); err != nil {
			t.Fatalf("add %s: %v", name, err)
		}
	}
	for name, want := range map[string]int{"steady": 0, "flaky": 1} {
		tenant, ok := h.Tenant(name)
		if !ok {
			t.Fatalf("tenant %s is gone", name)
		}
		if got := tenant.Status().Restarts; got != want {
			t.Errorf("tenant %s started %d extra times, want %d", name, got, want)
		}
		cfg, _ := h.RESTConfig(name)
		if _, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
			t.Errorf("tenant %s does not serve: %v", name, err)
		}
	}
}

// TestPanicInOneTenantLeavesOthersServing injects a panic into one tenant's goroutine and
// a CRD whose conversion webhook goes nowhere: the host recovers, marks the tenant
// unhealthy, restarts it, and the other tenant keeps serving throughout.
func TestPanicInOneTenantLeavesOthersServing(t *testing.T) {
	var panics atomic.Int32
	afterReady = func(tenant string) {
		if tenant == "crashy" && panics.Add(1) == 1 {
			panic("injected fault")
		}
	}
	t.Cleanup(func() { afterReady = nil })
	h := startHost(t, Options{DisableControllers: true})
	ctx := t.Context()
	if _, err := h.Add(ctx, TenantSpec{Name: "steady", UID: "u-steady"}); err != nil {
		t.Fatal(err)
	}
	steadyCfg, _ := h.RESTConfig("steady")
	steady := kubernetes.NewForConfigOrDie(steadyCfg)
	if _, err := h.Add(ctx, TenantSpec{Name: "crashy", UID: "u-crashy"}); err != nil {
		t.Fatal(err)
	}
	crashy, _ := h.Tenant("crashy")
	waitFor(t, time.Minute, "crashy to be restarted after its panic and healthy again", func() (bool, error) {
		s := crashy.Status()
		return s.Restarts >= 1 && s.Healthy, nil
	})
	if s := crashy.Status(); s.Restarts != 1 {
		t.Errorf("crashy restarted %d times, want 1", s.Restarts)
	}
	steadyTenant, _ := h.Tenant("steady")
	if s := steadyTenant.Status(); s.Restarts != 0 || !s.Healthy {
		t.Errorf("steady was affected by crashy's panic: %+v", s)
	}
	if _, err := steady.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("steady stopped serving: %v", err)
	}

	// A CRD whose conversion webhook points nowhere breaks only its own resource.
	crashyCfg, _ := h.RESTConfig("crashy")
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "gadgets.example.com"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "example.com", Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "gadgets", Kind: "Gadget"},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{
				{Name: "v1", Served: true, Storage: true, Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{Type: "object", XPreserveUnknownFields: ptr.To(true)}}},
				{Name: "v2", Served: true, Storage: false, Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{Type: "object", XPreserveUnknownFields: ptr.To(true)}}},
			},
			Conversion: &apiextensionsv1.CustomResourceConversion{
				Strategy: apiextensionsv1.WebhookConverter,
				Webhook: &apiextensionsv1.WebhookConversion{
					ConversionReviewVersions: []string{"v1"},
					ClientConfig:             &apiextensionsv1.WebhookClientConfig{URL: ptr.To("https://127.0.0.1:1/convert")},
				},
			},
		},
	}
	if _, err := apiextensionsclient.NewForConfigOrDie(crashyCfg).ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(crashyCfg)
	gadgetsV2 := schema.GroupVersionResource{Group: "example.com", Version: "v2", Resource: "gadgets"}
	waitFor(t, 30*time.Second, "a v2 gadget write to fail on the unreachable conversion webhook", func() (bool, error) {
		obj := map[string]any{"apiVersion": "example.com/v2", "kind": "Gadget", "metadata": map[string]any{"name": "g"}}
		_, err := dyn.Resource(gadgetsV2).Namespace("default").Create(ctx, unstructuredOf(obj), metav1.CreateOptions{})
		return err != nil && strings.Contains(err.Error(), "conversion webhook"), err
	})
	if _, err := steady.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("steady stopped serving after crashy's broken CRD: %v", err)
	}
	if _, err := kubernetes.NewForConfigOrDie(crashyCfg).CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("crashy's other APIs broke with its CRD: %v", err)
	}
}

func unstructuredOf(obj map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: obj}
}
