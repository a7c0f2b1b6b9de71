package host

import (
	"slices"
	"testing"

	"k8s.io/client-go/kubernetes"
)

// TestLeanAPISurface checks which APIs a tenant serves: what only the super cluster acts
// on (API Priority and Fairness, dynamic resource allocation, CSI node and attachment
// bookkeeping) is off, because every served resource costs each tenant routes, OpenAPI,
// storage and a garbage-collector watch, while what tenants and their tools use is on.
func TestLeanAPISurface(t *testing.T) {
	h := startHost(t, Options{DisableControllers: true})
	if _, err := h.Add(t.Context(), TenantSpec{Name: "a", UID: "uid-a"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := h.RESTConfig("a")
	if err != nil {
		t.Fatal(err)
	}
	_, lists, err := kubernetes.NewForConfigOrDie(cfg).Discovery().ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, l := range lists {
		for _, r := range l.APIResources {
			served[l.GroupVersion+"/"+r.Name] = true
		}
	}
	for _, want := range []string{
		"v1/pods", "v1/nodes", "apps/v1/deployments", "batch/v1/cronjobs", "autoscaling/v2/horizontalpodautoscalers",
		"storage.k8s.io/v1/storageclasses", "storage.k8s.io/v1/volumeattributesclasses", "node.k8s.io/v1/runtimeclasses",
		"networking.k8s.io/v1/networkpolicies", "networking.k8s.io/v1/ipaddresses", "certificates.k8s.io/v1/certificatesigningrequests",
		"admissionregistration.k8s.io/v1/validatingwebhookconfigurations", "apiextensions.k8s.io/v1/customresourcedefinitions",
		"policy/v1/poddisruptionbudgets", "scheduling.k8s.io/v1/priorityclasses",
	} {
		if !served[want] {
			t.Errorf("%s is not served", want)
		}
	}
	for _, off := range []string{
		"flowcontrol.apiserver.k8s.io/v1/flowschemas", "resource.k8s.io/v1/resourceclaims", "resource.k8s.io/v1/deviceclasses",
		"storage.k8s.io/v1/csinodes", "storage.k8s.io/v1/volumeattachments", "storage.k8s.io/v1/csistoragecapacities", "storage.k8s.io/v1/csidrivers",
	} {
		if served[off] {
			t.Errorf("%s is served, want it off", off)
		}
	}
	if t.Failed() {
		keys := make([]string, 0, len(served))
		for k := range served {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		t.Logf("served: %v", keys)
	}
}
