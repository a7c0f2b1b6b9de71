package controller

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
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
