package translate

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/syncer/naming"
)

func tenantPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-1", Namespace: "shop", UID: types.UID("uid-1"), ResourceVersion: "42",
			Labels:          map[string]string{"app": "web"},
			Annotations:     map[string]string{"note": "x"},
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web", UID: "rs"}},
			Finalizers:      []string{"tenant/finalizer"},
		},
		Spec: corev1.PodSpec{
			NodeName:           "virtual-node-1",
			ServiceAccountName: "builder",
			Priority:           ptr.To[int32](100),
			NodeSelector:       map[string]string{"disk": "ssd", tenancyv1alpha1.NodePoolLabel: "other"},
			Tolerations:        []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists}},
			Containers:         []corev1.Container{{Name: "app", Image: "nginx"}},
			Volumes: []corev1.Volume{{Name: "kube-api-access-abc", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](3607)}},
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}},
			}}}}},
		},
	}
}

func TestSuperPod(t *testing.T) {
	iso := Isolation{RuntimeClassName: "gvisor", NodePool: "dedicated-a", NodeSelector: map[string]string{"zone": "z1"},
		Tolerations: []corev1.Toleration{{Key: "gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}}
	in := tenantPod()
	before := in.DeepCopy()
	got := SuperPod("shop-a1b2c3", in, iso)

	if got.Namespace != naming.SuperNamespace("shop-a1b2c3", "shop") || got.Name != "web-1" {
		t.Errorf("placed at %s/%s", got.Namespace, got.Name)
	}
	if id, ok := naming.IdentityOf(got); !ok || id != (naming.Identity{Tenant: "shop-a1b2c3", Namespace: "shop", Name: "web-1", UID: "uid-1"}) {
		t.Errorf("identity %+v, %v", id, ok)
	}
	if got.Labels["app"] != "web" || got.Annotations["note"] != "x" {
		t.Error("the tenant's labels and annotations are not kept (network policies select on them)")
	}
	if len(got.OwnerReferences) != 0 || len(got.Finalizers) != 0 || got.ResourceVersion != "" || got.UID != "" {
		t.Errorf("tenant-only metadata leaked: owners %v finalizers %v rv %q uid %q", got.OwnerReferences, got.Finalizers, got.ResourceVersion, got.UID)
	}
	s := got.Spec
	if s.NodeName != "" || s.Priority != nil {
		t.Errorf("nodeName %q, priority %v: want both cleared", s.NodeName, s.Priority)
	}
	if s.RuntimeClassName == nil || *s.RuntimeClassName != "gvisor" {
		t.Errorf("runtimeClassName %v, want gvisor forced", s.RuntimeClassName)
	}
	wantSel := map[string]string{"disk": "ssd", "zone": "z1", tenancyv1alpha1.NodePoolLabel: "dedicated-a"}
	if len(s.NodeSelector) != len(wantSel) {
		t.Errorf("nodeSelector %v, want %v", s.NodeSelector, wantSel)
	}
	for k, v := range wantSel {
		if s.NodeSelector[k] != v {
			t.Errorf("nodeSelector[%s] = %q, want %q (the platform's pool wins)", k, s.NodeSelector[k], v)
		}
	}
	if len(s.Tolerations) != 3 {
		t.Errorf("tolerations %v: want the tenant's, the platform's and the pool's", s.Tolerations)
	}
	if s.ServiceAccountName != "" || s.AutomountServiceAccountToken == nil || *s.AutomountServiceAccountToken {
		t.Errorf("service account %q automount %v: the super pod must not run as or mount a super account", s.ServiceAccountName, s.AutomountServiceAccountToken)
	}
	src := s.Volumes[0].Projected.Sources
	if src[0].ServiceAccountToken != nil || src[0].Secret == nil || src[0].Secret.Name != "vcp-token-builder" || src[0].Secret.Items[0].Path != "token" {
		t.Errorf("token projection not rewritten to the tenant token Secret: %+v", src[0])
	}
	if src[1].ConfigMap == nil || src[1].ConfigMap.Name != "kube-root-ca.crt" {
		t.Error("the CA projection changed")
	}
	if in.Spec.NodeName != before.Spec.NodeName || in.Spec.Volumes[0].Projected.Sources[0].ServiceAccountToken == nil || in.Labels[naming.LabelTenant] != "" {
		t.Error("SuperPod changed the tenant pod it was given")
	}
}

func TestSuperPodWithoutIsolation(t *testing.T) {
	in := tenantPod()
	in.Spec.ServiceAccountName = ""
	got := SuperPod("t-000000", in, Isolation{})
	if got.Spec.RuntimeClassName != nil {
		t.Error("a runtime class appeared without isolation")
	}
	if got.Spec.NodeSelector[tenancyv1alpha1.NodePoolLabel] != "other" || len(got.Spec.Tolerations) != 1 {
		t.Errorf("without a pool the tenant's selector and tolerations stay: %v %v", got.Spec.NodeSelector, got.Spec.Tolerations)
	}
	if got.Spec.Volumes[0].Projected.Sources[0].Secret.Name != "vcp-token-default" {
		t.Error("a pod without a service account name uses the default account's token")
	}
	// The pool's toleration is not added twice when the tenant already has it.
	in.Spec.Tolerations = []corev1.Toleration{{Key: tenancyv1alpha1.NodePoolLabel, Operator: corev1.TolerationOpEqual, Value: "p", Effect: corev1.TaintEffectNoSchedule}}
	if got := SuperPod("t-000000", in, Isolation{NodePool: "p"}); len(got.Spec.Tolerations) != 1 {
		t.Errorf("tolerations %v: want the pool's once", got.Spec.Tolerations)
	}
}

func TestIsolationFor(t *testing.T) {
	vc := &tenancyv1alpha1.VirtualCluster{Spec: tenancyv1alpha1.VirtualClusterSpec{Isolation: tenancyv1alpha1.IsolationSpec{
		RuntimeClassName: "kata",
		NodePool:         tenancyv1alpha1.NodePoolSpec{Name: "p", NodeSelector: map[string]tenancyv1alpha1.LabelValue{"z": "1"}},
	}}}
	iso := IsolationFor(vc)
	if iso.RuntimeClassName != "kata" || iso.NodePool != "p" || iso.NodeSelector["z"] != "1" {
		t.Errorf("IsolationFor = %+v", iso)
	}
}

func TestTokenSecretName(t *testing.T) {
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a'
	}
	if n := TokenSecretName(string(long)); len(n) > 253 {
		t.Errorf("TokenSecretName of a 300-character name is %d characters", len(n))
	}
	if n := TokenSecretName("default"); n != "vcp-token-default" {
		t.Errorf("TokenSecretName(default) = %q", n)
	}
}
