package host

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vcp-dev/vcp/tenant-apiserver/policy"
)

// warnings collects the warnings the tenant API returns.
type warnings []string

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) { *w = append(*w, text) }

// TestTenantPolicyAdmission: the tenant API refuses what its policy forbids, with a
// message naming the rule, even in a namespace the tenant labels privileged; warns about
// workloads whose pods would be refused; and a new policy applies without a restart.
func TestTenantPolicyAdmission(t *testing.T) {
	h := startHost(t, Options{DisableControllers: true})
	ctx := t.Context()
	spec := TenantSpec{Name: "strict", UID: "u-strict", Policy: &policy.Policy{PodSecurity: "baseline", Registries: []string{"registry.example.com"}, ServiceTypes: []string{"ClusterIP"}}}
	if _, err := h.Add(ctx, spec); err != nil {
		t.Fatal(err)
	}
	cfg, _ := h.RESTConfig("strict")
	var warned warnings
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = &warned
	tenant := kubernetes.NewForConfigOrDie(cfg)
	// The upstream PodSecurity admission would let this label lower the level.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps", Labels: map[string]string{"pod-security.kubernetes.io/enforce": "privileged"}}}
	if _, err := tenant.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// No controllers run here: make the account the ServiceAccount admission looks up.
	if _, err := tenant.CoreV1().ServiceAccounts("apps").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	newPod := func(name, image string, hostNetwork bool) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{HostNetwork: hostNetwork, Containers: []corev1.Container{{Name: "app", Image: image}}}}
	}
	for _, tc := range []struct {
		pod  *corev1.Pod
		want []string
	}{
		{newPod("host-net", "registry.example.com/app:1", true), []string{`pods "host-net" is forbidden`, "spec.isolation.podSecurity.level", "hostNetwork=true"}},
		{newPod("docker-hub", "nginx", false), []string{"spec.containers[0].image", `"nginx"`, "spec.isolation.allowed.registries"}},
	} {
		_, err := tenant.CoreV1().Pods("apps").Create(ctx, tc.pod, metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) {
			t.Fatalf("pod %s: got %v, want Forbidden", tc.pod.Name, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("pod %s: error %q does not name %q", tc.pod.Name, err, w)
			}
		}
	}
	if _, err := tenant.CoreV1().Pods("apps").Create(ctx, newPod("fine", "registry.example.com/app:1", false), metav1.CreateOptions{}); err != nil {
		t.Fatalf("an allowed pod was refused: %v", err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "np"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}}}}
	if _, err := tenant.CoreV1().Services("apps").Create(ctx, svc, metav1.CreateOptions{}); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "spec.isolation.allowed.serviceTypes") {
		t.Fatalf("NodePort Service: got %v, want Forbidden naming spec.isolation.allowed.serviceTypes", err)
	}

	// A Deployment is admitted (its pods are refused when created), with a warning.
	one := int32(1)
	deploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: appsv1.DeploymentSpec{
		Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}, Spec: newPod("", "registry.example.com/web", true).Spec},
	}}
	if _, err := tenant.AppsV1().Deployments("apps").Create(ctx, deploy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(warned, "\n"), "hostNetwork=true") {
		t.Errorf("creating a Deployment with hostNetwork pods gave no warning naming the rule; warnings: %q", warned)
	}

	// The platform relaxes the policy: it applies at once.
	if err := h.SetPolicy("strict", &policy.Policy{PodSecurity: "privileged"}); err != nil {
		t.Fatal(err)
	}
	if _, err := tenant.CoreV1().Pods("apps").Create(ctx, newPod("host-net", "nginx", true), metav1.CreateOptions{}); err != nil {
		t.Fatalf("after relaxing the policy: %v", err)
	}
	if err := h.SetPolicy("strict", &policy.Policy{PodSecurity: "lax"}); err == nil || !strings.Contains(err.Error(), "policy.podSecurity") {
		t.Errorf("a bad level was accepted: %v", err)
	}
	rec, err := readRecord(h.tenantDir("strict"))
	if err != nil || rec.Policy == nil || rec.Policy.PodSecurity != "privileged" {
		t.Errorf("the record kept for restarts holds policy %+v (%v), want the relaxed one", rec.Policy, err)
	}
}
