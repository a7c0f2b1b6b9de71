package health

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// fatalWaitReasons are the waiting reasons that fail a workload fast: none of them goes
// away without a change to what was deployed (or to the registry).
var fatalWaitReasons = map[string]bool{
	"ImagePullBackOff":           true,
	"ErrImagePull":               true,
	"InvalidImageName":           true,
	"CrashLoopBackOff":           true,
	"CreateContainerConfigError": true,
}

// FailFast returns Degraded, naming the pod and the reason, when one of pods has been
// failing for longer than opts.FailFastGrace: a container waiting in ImagePullBackOff,
// ErrImagePull or CrashLoopBackOff, a container whose last run was OOMKilled and that is
// not ready, or the pod Unschedulable. The grace runs from the pod's last Ready
// transition (its creation if it has none), the last moment it was known fine.
func FailFast(pods []corev1.Pod, opts Options) (Result, bool) {
	for i := range pods {
		p := &pods[i]
		if p.DeletionTimestamp != nil {
			continue
		}
		reason, msg := failing(p)
		if reason == "" {
			continue
		}
		since := p.CreationTimestamp.Time
		for _, c := range p.Status.Conditions {
			if (c.Type == corev1.PodReady || (reason == "Unschedulable" && c.Type == corev1.PodScheduled)) && !c.LastTransitionTime.IsZero() {
				since = c.LastTransitionTime.Time
			}
		}
		if opts.Now.Sub(since) < opts.FailFastGrace {
			continue
		}
		return Result{Status: Degraded, Message: joinNonEmpty(fmt.Sprintf("pod %s: %s", p.Name, reason), msg)}, true
	}
	return Result{}, false
}

// failing returns why p fails, if it does.
func failing(p *corev1.Pod) (reason, message string) {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return "Unschedulable", c.Message
		}
	}
	statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	for _, cs := range statuses {
		if w := cs.State.Waiting; w != nil && fatalWaitReasons[w.Reason] {
			return w.Reason, joinNonEmpty("container "+cs.Name, w.Message)
		}
	}
	for _, cs := range statuses {
		if t := cs.LastTerminationState.Terminated; t != nil && t.Reason == "OOMKilled" && !cs.Ready {
			return "OOMKilled", fmt.Sprintf("container %s (restarted %d times)", cs.Name, cs.RestartCount)
		}
		if t := cs.State.Terminated; t != nil && t.Reason == "OOMKilled" {
			return "OOMKilled", "container " + cs.Name
		}
	}
	return "", ""
}

// PodSelector returns the label selector of a workload's pods, or nil for kinds
// without pods.
func PodSelector(obj *unstructured.Unstructured) (labels.Selector, error) {
	if !isWorkload(obj) {
		return nil, nil
	}
	m, found, err := unstructured.NestedStringMap(obj.Object, "spec", "selector", "matchLabels")
	if err != nil || !found {
		return nil, err
	}
	return labels.SelectorFromSet(m), nil
}

// CurrentPods keeps the pods of the workload's current revision: for a Deployment those
// of its newest ReplicaSet (the one whose revision annotation is the Deployment's), for
// a StatefulSet those at its update revision, else all. Pods of an old revision are
// being replaced; their failures are not the current deployment's.
func CurrentPods(obj *unstructured.Unstructured, replicaSets []appsv1.ReplicaSet, pods []corev1.Pod) []corev1.Pod {
	keep := func(ok func(*corev1.Pod) bool) []corev1.Pod {
		var out []corev1.Pod
		for i := range pods {
			if pods[i].DeletionTimestamp == nil && ok(&pods[i]) {
				out = append(out, pods[i])
			}
		}
		return out
	}
	gvk := obj.GroupVersionKind()
	switch gvk.Group + "/" + gvk.Kind {
	case "apps/Deployment":
		rev := obj.GetAnnotations()[revisionAnnotation]
		hash := ""
		for _, rs := range replicaSets {
			if rev != "" && rs.Annotations[revisionAnnotation] == rev && ownedBy(rs.OwnerReferences, obj) {
				hash = rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
			}
		}
		if hash == "" {
			return nil // the new ReplicaSet does not exist yet
		}
		return keep(func(p *corev1.Pod) bool { return p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] == hash })
	case "apps/StatefulSet":
		rev, _, _ := unstructured.NestedString(obj.Object, "status", "updateRevision")
		return keep(func(p *corev1.Pod) bool { return rev == "" || p.Labels[appsv1.ControllerRevisionHashLabelKey] == rev })
	}
	return keep(func(*corev1.Pod) bool { return true })
}

// revisionAnnotation is the Deployment controller's revision number on a Deployment and
// its ReplicaSets.
const revisionAnnotation = "deployment.kubernetes.io/revision"

func ownedBy(refs []metav1.OwnerReference, obj *unstructured.Unstructured) bool {
	for _, r := range refs {
		if r.UID == obj.GetUID() {
			return true
		}
	}
	return false
}

// ToTyped converts an unstructured object into T (a helper for callers holding lists).
func ToTyped[T any](obj map[string]any) (*T, error) {
	t := new(T)
	return t, runtime.DefaultUnstructuredConverter.FromUnstructured(obj, t)
}
