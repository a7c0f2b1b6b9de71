package controller

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

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
		got := statusWorthWriting(&corev1.Pod{Status: tc.tenant}, &corev1.Pod{Status: tc.super}, tc.bound)
		if got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
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
