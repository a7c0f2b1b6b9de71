package host

import (
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac/bootstrappolicy"
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

// TestBootstrapPolicy checks vcp's replacements for kube-apiserver's RBAC and priority
// class bootstrap hooks (which wait a second before their first try): a new tenant has
// every bootstrap role, binding and system priority class, and /readyz reports vcp's
// hooks instead of upstream's.
func TestBootstrapPolicy(t *testing.T) {
	h := startHost(t, Options{DisableControllers: true})
	if _, err := h.Add(t.Context(), TenantSpec{Name: "a", UID: "uid-a"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := h.RESTConfig("a")
	if err != nil {
		t.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	ctx := t.Context()
	roles, err := client.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bindings, err := client.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantRoles := append(bootstrappolicy.ClusterRoles(), bootstrappolicy.ControllerRoles()...)
	wantBindings := append(bootstrappolicy.ClusterRoleBindings(), bootstrappolicy.ControllerRoleBindings()...)
	if len(roles.Items) != len(wantRoles) || len(bindings.Items) != len(wantBindings) {
		t.Errorf("%d cluster roles and %d bindings, want upstream's %d and %d", len(roles.Items), len(bindings.Items), len(wantRoles), len(wantBindings))
	}
	for namespace, want := range bootstrappolicy.NamespaceRoles() {
		got, err := client.RbacV1().Roles(namespace).List(ctx, metav1.ListOptions{})
		if err != nil || len(got.Items) != len(want) {
			t.Errorf("roles in %s: %v (err %v), want %d", namespace, got, err, len(want))
		}
	}
	for namespace, want := range bootstrappolicy.NamespaceRoleBindings() {
		got, err := client.RbacV1().RoleBindings(namespace).List(ctx, metav1.ListOptions{})
		if err != nil || len(got.Items) != len(want) {
			t.Errorf("role bindings in %s: %v (err %v), want %d", namespace, got, err, len(want))
		}
	}
	for _, name := range []string{"system-node-critical", "system-cluster-critical"} {
		if _, err := client.SchedulingV1().PriorityClasses().Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("PriorityClass %s: %v", name, err)
		}
	}
	readyz, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").Param("verbose", "true").DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[+]poststarthook/vcp/rbac-bootstrap-roles ok", "[+]poststarthook/vcp/bootstrap-system-priority-classes ok"} {
		if !strings.Contains(string(readyz), want) {
			t.Errorf("/readyz lacks %q:\n%s", want, readyz)
		}
	}
	for _, replaced := range []string{"poststarthook/rbac/bootstrap-roles", "poststarthook/scheduling/bootstrap-system-priority-classes"} {
		if strings.Contains(string(readyz), replaced) {
			t.Errorf("/readyz still has upstream's %s", replaced)
		}
	}
	// Without a peer proxy nothing reads the peer endpoint lease: its reconciler is off.
	if strings.Contains(string(readyz), "poststarthook/peer-endpoint-reconciler-controller") {
		t.Error("/readyz has the peer endpoint reconciler, which a tenant without a peer proxy does not need")
	}
	if !strings.Contains(string(readyz), "poststarthook/start-cluster-authentication-info-controller") {
		t.Errorf("/readyz lacks the post-start hooks next to the peer endpoint reconciler's:\n%s", readyz)
	}
}
