package controller

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/vcp-dev/vcp/syncer/internal/translate"
)

func TestStatusWorthWriting(t *testing.T) {
	scheduled := corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}}
	unschedulable := corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable}}}
	running := corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.5", Conditions: scheduled.Conditions}
	pending := corev1.PodStatus{Phase: corev1.PodPending}
	for _, tc := range []struct {
		name          string
		tenant, super corev1.PodStatus
		bound         bool
		want          bool
	}{
		{"equal", running, running, true, false},
		{"just scheduled, the binding said it", pending, scheduled, true, false},
		{"just scheduled but not bound yet", pending, scheduled, false, true},
		{"unschedulable must reach the tenant", pending, unschedulable, false, true},
		{"running", pending, running, true, true},
	} {
		full := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}, Status: tc.tenant}
		if got := statusWorthWriting(full, &corev1.Pod{Status: tc.super}, tc.bound); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
		// A bound pod's cache keeps a digest of its status, which answers the same.
		if !tc.bound {
			continue
		}
		bound := full.DeepCopy()
		bound.Spec.NodeName = "node-1"
		slim, _ := slimTenantObject(bound)
		if got := statusWorthWriting(slim.(*corev1.Pod), &corev1.Pod{Status: tc.super}, tc.bound); got != tc.want {
			t.Errorf("%s, slim cached pod: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestStatusUpdate(t *testing.T) {
	tenant := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", UID: "u1", ResourceVersion: "7"}, Status: corev1.PodStatus{Phase: corev1.PodPending}}
	super := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-x", UID: "s1", ResourceVersion: "99"}, Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.5"}}
	got := statusUpdate(tenant, super)
	if got.ResourceVersion != "" || got.UID != "u1" || got.Name != "web" || got.Status.PodIP != "10.0.0.5" || got.Status.Phase != corev1.PodRunning {
		t.Errorf("got %+v, want the tenant pod's identity, no resourceVersion and the super pod's status", got)
	}
	if tenant.ResourceVersion != "7" || tenant.Status.Phase != corev1.PodPending {
		t.Errorf("statusUpdate changed the cached pod: %+v", tenant)
	}
}

func TestLabelsPatch(t *testing.T) {
	have := map[string]string{"app": "web", "gone": "x", translate.LabelPolicyIngress: translate.PolicyRestricted}
	want := map[string]string{"app": "api", "tier": "fe"}
	patch, err := labelsPatch(have, want, "42")
	if err != nil {
		t.Fatal(err)
	}
	const wantPatch = `{"metadata":{"labels":{"app":"api","gone":null,"tenancy.vcp.dev/np-ingress":null,"tier":"fe"},"resourceVersion":"42"}}`
	if string(patch) != wantPatch {
		t.Errorf("patch %s, want %s", patch, wantPatch)
	}
}

// TestPolicyPodsEnqueuer checks which tenant pods a NetworkPolicy change queues for their
// markers: those the old or new policy selects, in its namespace, and none on a resync or
// a change of rules only.
func TestPolicyPodsEnqueuer(t *testing.T) {
	pod := func(ns, name, app string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": app}}}
	}
	pods := corelisters.NewPodLister(indexer(pod("shop", "web-1", "web"), pod("shop", "db-1", "db"), pod("other", "web-2", "web")))
	np := func(app string) *networkingv1.NetworkPolicy {
		return &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "p", ResourceVersion: "1"},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}}}
	}
	withRule := np("web")
	withRule.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}}
	deleting := np("web")
	deleting.DeletionTimestamp = &metav1.Time{}
	for _, tc := range []struct {
		name     string
		old, obj any
		want     []string
	}{
		{"added", nil, np("web"), []string{"shop/web-1"}},
		{"deleted", nil, cache.DeletedFinalStateUnknown{Obj: np("web")}, []string{"shop/web-1"}},
		{"selector changed", np("web"), np("db"), []string{"shop/db-1", "shop/web-1"}},
		{"resync", np("web"), np("web"), nil},
		{"rules only", np("web"), withRule, nil},
		{"being deleted", np("web"), deleting, []string{"shop/web-1"}},
	} {
		var got []string
		policyPodsEnqueuer(pods, func(ns, name string) { got = append(got, ns+"/"+name) })(tc.old, tc.obj)
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: queued %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSlimTenantObject(t *testing.T) {
	token := corev1.Volume{Name: "kube-api-access-x", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}}}}}
	data := corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
	status := corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.5",
		Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		ContainerStatuses: []corev1.ContainerStatus{{Name: "c", Ready: true, Image: "app"}}}
	pod := func(node string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "p", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
			Spec: corev1.PodSpec{NodeName: node, ServiceAccountName: "builder", Containers: []corev1.Container{{Name: "c", Image: "app"}},
				Volumes: []corev1.Volume{data, token}},
			Status: *status.DeepCopy(),
		}
	}
	for _, tc := range []struct {
		name     string
		in       *corev1.Pod
		wantSlim bool
	}{
		{"unbound: the spec makes its super pod", pod(""), false},
		{"bound: its super pod exists", pod("node-1"), true},
	} {
		obj, err := slimTenantObject(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		got := obj.(*corev1.Pod)
		if slimPod(got) != tc.wantSlim {
			t.Errorf("%s: slim %v, want %v", tc.name, slimPod(got), tc.wantSlim)
		}
		if got.ManagedFields != nil || got.Status.Phase != corev1.PodRunning {
			t.Errorf("%s: managed fields %v, status %v", tc.name, got.ManagedFields, got.Status)
		}
		// What the syncer reads of a cached pod survives: node, the token's account, the
		// phase, and whether the status is a super pod's.
		if sa, ok := translate.TokenServiceAccount(got); !ok || sa != "builder" || got.Spec.NodeName != tc.in.Spec.NodeName {
			t.Errorf("%s: token account %q %v, node %q", tc.name, sa, ok, got.Spec.NodeName)
		}
		if !tenantStatusCurrent(got, &corev1.Pod{Status: status}) {
			t.Errorf("%s: the cached status %+v is not taken for the one it came from", tc.name, got.Status)
		}
		other := status.DeepCopy()
		other.Conditions[0].Status = corev1.ConditionFalse
		if tenantStatusCurrent(got, &corev1.Pod{Status: *other}) {
			t.Errorf("%s: the cached status is taken for a different one", tc.name)
		}
		if tc.wantSlim && (len(got.Spec.Volumes) != 1 || &got.Spec.Volumes[0] != &tokenMarker[0] || len(got.Status.Conditions) != 0) {
			t.Errorf("%s: volumes %v, status %+v; want only the shared token marker and the phase", tc.name, got.Spec.Volumes, got.Status)
		}
	}
	// A pod with a token of another audience, and a short-lived one, keeps its token
	// requests, which the request index reads.
	vault := pod("node-1")
	vault.Namespace = "ci"
	vault.Spec.Volumes = append(vault.Spec.Volumes, corev1.Volume{Name: "vault", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "vault-token", Audience: "vault", ExpirationSeconds: ptr.To[int64](900)}},
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "sts-token", Audience: "sts"}},
		}}}})
	wantRequests := []string{"", "sts", "vault\x00900"}
	obj, _ := slimTenantObject(vault)
	slimVault := obj.(*corev1.Pod)
	if got := translate.TokenRequests(slimVault); !slimPod(slimVault) || !slices.Equal(got, wantRequests) {
		t.Errorf("slim pod with vault and sts tokens: requests %q, want %q", got, wantRequests)
	}
	pods := indexer(slimVault)
	if err := pods.AddIndexers(cache.Indexers{tokenAccountIndex: podsByTokenAccount, tokenRequestIndex: podsByTokenRequest}); err != nil {
		t.Fatal(err)
	}
	sess := &session{tokenPods: pods}
	if got := sess.tokenRequests("ci", "builder"); !slices.Equal(got, wantRequests) {
		t.Errorf("tokens of ci/builder are needed for %q, want %q", got, wantRequests)
	}
	if got := sess.tokenRequests("ci", "other"); !slices.Equal(got, []string{""}) {
		t.Errorf("tokens of ci/other are needed for %q, want the API's own only", got)
	}
	if err := pods.Delete(slimVault); err != nil {
		t.Fatal(err)
	}
	if got := sess.tokenRequests("ci", "builder"); !slices.Equal(got, []string{""}) {
		t.Errorf("after the vault pod went, tokens of ci/builder are needed for %q, want the API's own only", got)
	}

	// A pod without a token keeps no volume.
	bare := pod("node-1")
	bare.Spec.Volumes = []corev1.Volume{data}
	obj, _ = slimTenantObject(bare)
	if got := obj.(*corev1.Pod); got.Spec.Volumes != nil {
		t.Errorf("a pod without a token kept volumes %v", got.Spec.Volumes)
	}
}

func TestEnsureOnce(t *testing.T) {
	sess := &session{}
	key := Key{Kind: KindServiceAccount, Namespace: "shop", Name: "default"}
	var runs atomic.Int32
	release := make(chan struct{})
	ensure := func() error {
		runs.Add(1)
		<-release
		return nil
	}
	// Ten pods of a namespace synced at once: one ensure, the others wait for it.
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if err := sess.ensureOnce(key, ensure); err != nil {
				t.Error(err)
			}
		})
	}
	for runs.Load() == 0 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if n := runs.Load(); n != 1 {
		t.Fatalf("ensure ran %d times for 10 concurrent callers, want 1", n)
	}
	// A failure is not remembered: the next pod tries again.
	other := Key{Kind: KindConfigMap, Namespace: "shop", Name: rootCAConfigMap}
	failing := errors.New("super API down")
	if err := sess.ensureOnce(other, func() error { return failing }); !errors.Is(err, failing) {
		t.Fatalf("got %v, want the ensure's error", err)
	}
	ran := false
	if err := sess.ensureOnce(other, func() error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("after a failure: err %v, ran %v; want a new run", err, ran)
	}
	// Past prereqFresh the super cache is the authority again: ensure runs.
	v, _ := sess.prereqs.Load(key)
	v.(*prereq).done = time.Now().Add(-prereqFresh - time.Second)
	if err := sess.ensureOnce(key, func() error { runs.Add(1); return nil }); err != nil || runs.Load() != 2 {
		t.Fatalf("a stale success was taken as fresh: err %v, runs %d", err, runs.Load())
	}
	// Pruning forgets what is stale and keeps what is fresh.
	v, _ = sess.prereqs.Load(other)
	v.(*prereq).done = time.Now().Add(-prereqFresh - time.Second)
	sess.prunePrereqs()
	if _, ok := sess.prereqs.Load(other); ok {
		t.Error("a prerequisite ensured longer than prereqFresh ago was kept")
	}
	if _, ok := sess.prereqs.Load(key); !ok {
		t.Error("a prerequisite ensured just now was forgotten")
	}
}

func TestTenantPodChanged(t *testing.T) {
	base := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", UID: "u1", ResourceVersion: "1", Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
		Status:     corev1.PodStatus{Phase: corev1.PodPending},
	}
	slim := func(p *corev1.Pod) *corev1.Pod {
		out, _ := slimTenantObject(p)
		return out.(*corev1.Pod)
	}
	bound := base.DeepCopy()
	bound.ResourceVersion, bound.Spec.NodeName = "2", "node-1"
	running := bound.DeepCopy()
	running.ResourceVersion, running.Status = "3", corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.5"}
	for _, tc := range []struct {
		name     string
		old, obj *corev1.Pod
		want     bool
	}{
		{"resync", base, base.DeepCopy(), true},
		{"bound by the syncer", base, slim(bound.DeepCopy()), false},
		{"status written by the syncer", slim(bound.DeepCopy()), slim(running.DeepCopy()), false},
		{"status of an unbound pod", base, func() *corev1.Pod {
			p := base.DeepCopy()
			p.ResourceVersion, p.Status.Conditions = "2", []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse}}
			return p
		}(), false},
		{"labels", slim(running.DeepCopy()), func() *corev1.Pod {
			p := slim(running.DeepCopy())
			p.ResourceVersion, p.Labels = "4", map[string]string{"app": "web", "tier": "front"}
			return p
		}(), true},
		{"annotations", base, func() *corev1.Pod {
			p := base.DeepCopy()
			p.ResourceVersion, p.Annotations = "2", map[string]string{"a": "b"}
			return p
		}(), true},
		{"deleted", slim(running.DeepCopy()), func() *corev1.Pod {
			p := slim(running.DeepCopy())
			p.ResourceVersion, p.DeletionTimestamp = "4", &metav1.Time{Time: time.Now()}
			return p
		}(), true},
		{"image of an unbound pod", base, func() *corev1.Pod {
			p := base.DeepCopy()
			p.ResourceVersion, p.Spec.Containers[0].Image = "2", "nginx:2"
			return p
		}(), true},
		{"re-created under the name", base, func() *corev1.Pod {
			p := base.DeepCopy()
			p.ResourceVersion, p.UID = "2", "u2"
			return p
		}(), true},
	} {
		if got := tenantPodChanged(tc.old, tc.obj); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestEphemeralClaimsReady(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "worker", UID: "pod-uid"}, Spec: corev1.PodSpec{Volumes: []corev1.Volume{
		{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{}}}},
	}}}
	claim := func(owners ...metav1.OwnerReference) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "worker-scratch", OwnerReferences: owners}}
	}
	controller := metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: "worker", UID: "pod-uid", Controller: ptr.To(true)}
	for _, tc := range []struct {
		name    string
		claims  map[string]*corev1.PersistentVolumeClaim
		wantErr string
	}{
		{name: "the claim made for the pod", claims: map[string]*corev1.PersistentVolumeClaim{"worker-scratch": claim(controller)}},
		{name: "no claim yet", wantErr: "waiting for claim worker-scratch of its ephemeral volume scratch"},
		{name: "a claim the user made under that name", claims: map[string]*corev1.PersistentVolumeClaim{"worker-scratch": claim()},
			wantErr: "claim worker-scratch was not made for the pod"},
		{name: "a claim of an earlier pod of the same name", claims: map[string]*corev1.PersistentVolumeClaim{"worker-scratch": claim(metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: "worker", UID: "old-uid", Controller: ptr.To(true)})},
			wantErr: "was not made for the pod"},
		{name: "owned but not controlled by the pod", claims: map[string]*corev1.PersistentVolumeClaim{"worker-scratch": claim(metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: "worker", UID: "pod-uid"})},
			wantErr: "was not made for the pod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			get := func(name string) (*corev1.PersistentVolumeClaim, error) {
				if c, ok := tc.claims[name]; ok {
					return c, nil
				}
				return nil, apierrors.NewNotFound(corev1.Resource("persistentvolumeclaims"), name)
			}
			err := ephemeralClaimsReady(pod, get)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
