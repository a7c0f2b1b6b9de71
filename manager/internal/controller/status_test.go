package controller

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
)

func TestPhaseOf(t *testing.T) {
	now := metav1.Now()
	tests := []struct {
		name     string
		ready    *metav1.Condition
		deleting bool
		want     tenancyv1alpha1.VirtualClusterPhase
	}{
		{name: "new", want: tenancyv1alpha1.PhasePending},
		{name: "ready", ready: &metav1.Condition{Status: metav1.ConditionTrue, Reason: ReasonServing}, want: tenancyv1alpha1.PhaseRunning},
		{name: "invalid spec", ready: &metav1.Condition{Status: metav1.ConditionFalse, Reason: ReasonInvalidSpec}, want: tenancyv1alpha1.PhaseFailed},
		{name: "paused", ready: &metav1.Condition{Status: metav1.ConditionFalse, Reason: ReasonPaused}, want: tenancyv1alpha1.PhasePaused},
		{name: "no host yet", ready: &metav1.Condition{Status: metav1.ConditionFalse, Reason: ReasonNoHost}, want: tenancyv1alpha1.PhasePending},
		{name: "starting", ready: &metav1.Condition{Status: metav1.ConditionFalse, Reason: ReasonStarting}, want: tenancyv1alpha1.PhaseProvisioning},
		{name: "host error", ready: &metav1.Condition{Status: metav1.ConditionFalse, Reason: ReasonHostError}, want: tenancyv1alpha1.PhaseProvisioning},
		{name: "deleting wins", ready: &metav1.Condition{Status: metav1.ConditionTrue, Reason: ReasonServing}, deleting: true, want: tenancyv1alpha1.PhaseDeleting},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vc := &tenancyv1alpha1.VirtualCluster{}
			if tt.deleting {
				vc.DeletionTimestamp = &now
			}
			if tt.ready != nil {
				c := *tt.ready
				c.Type = tenancyv1alpha1.ConditionReady
				vc.Status.Conditions = []metav1.Condition{c}
			}
			if got := phaseOf(vc); got != tt.want {
				t.Errorf("phaseOf() = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestKeepReady: a Running tenant whose checks fail stays Ready for readyGrace from the
// first failure, then not; a passing check starts the grace afresh; a tenant not Ready
// gets none.
func TestKeepReady(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	r := &Reconciler{Now: func() time.Time { return now }}
	vc := &tenancyv1alpha1.VirtualCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "a"}}
	if r.keepReady(vc) {
		t.Fatal("a tenant that never was Ready is kept Ready")
	}
	setCondition(vc, tenancyv1alpha1.ConditionReady, metav1.ConditionTrue, ReasonServing, "")
	for _, step := range []struct {
		after time.Duration
		want  bool
	}{{0, true}, {10 * time.Second, true}, {readyGrace - time.Millisecond, true}, {readyGrace, false}} {
		now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC).Add(step.after)
		if got := r.keepReady(vc); got != step.want {
			t.Errorf("%s after the first failure: keepReady %v, want %v", step.after, got, step.want)
		}
	}
	r.checksPassed(vc)
	now = now.Add(time.Minute)
	if !r.keepReady(vc) {
		t.Error("a failure after a passing check is not given the grace")
	}
	other := vc.DeepCopy()
	other.Name = "b"
	if !r.keepReady(other) {
		t.Error("another tenant's failures count against this one")
	}
}
