package controller

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
)

// Condition reasons the manager sets.
const (
	ReasonProvisioned       = "Provisioned"
	ReasonServing           = "Serving"
	ReasonInvalidSpec       = "InvalidSpec"
	ReasonNoHost            = "NoHostAvailable"
	ReasonHostUnavailable   = "HostUnavailable"
	ReasonHostError         = "HostError"
	ReasonStarting          = "Starting"
	ReasonPaused            = "Paused"
	ReasonWaitingForPrereqs = "WaitingForPrerequisites"
	ReasonCleanupFailed     = "CleanupFailed"
	ReasonDeleting          = "Deleting"
)

// failedReasons make the phase Failed: they need the admin to change something.
var failedReasons = map[string]bool{ReasonInvalidSpec: true}

// phaseOf summarises a VirtualCluster's conditions in one word.
func phaseOf(vc *tenancyv1alpha1.VirtualCluster) tenancyv1alpha1.VirtualClusterPhase {
	ready := meta.FindStatusCondition(vc.Status.Conditions, tenancyv1alpha1.ConditionReady)
	switch {
	case !vc.DeletionTimestamp.IsZero():
		return tenancyv1alpha1.PhaseDeleting
	case ready == nil:
		return tenancyv1alpha1.PhasePending
	case ready.Status == metav1.ConditionTrue:
		return tenancyv1alpha1.PhaseRunning
	case failedReasons[ready.Reason]:
		return tenancyv1alpha1.PhaseFailed
	case ready.Reason == ReasonPaused:
		return tenancyv1alpha1.PhasePaused
	case ready.Reason == ReasonNoHost:
		return tenancyv1alpha1.PhasePending
	default:
		return tenancyv1alpha1.PhaseProvisioning
	}
}

// setCondition sets a condition at the object's current generation.
func setCondition(vc *tenancyv1alpha1.VirtualCluster, typ string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&vc.Status.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: message, ObservedGeneration: vc.Generation,
	})
}

// notReady marks the tenant not Ready for reason, and cond (if not Ready itself) too.
func notReady(vc *tenancyv1alpha1.VirtualCluster, cond, reason, message string) {
	if cond != tenancyv1alpha1.ConditionReady {
		setCondition(vc, cond, metav1.ConditionFalse, reason, message)
	}
	setCondition(vc, tenancyv1alpha1.ConditionReady, metav1.ConditionFalse, reason, message)
}
