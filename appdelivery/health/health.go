// Package health says whether a Kubernetes object the delivery engine applied is doing
// what it was applied for: Healthy, Progressing, Degraded, Suspended or Missing, with a
// reason a person can act on.
//
// The rules are Argo CD's for Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod, Job,
// CronJob, Service, Ingress, PersistentVolumeClaim and HorizontalPodAutoscaler, with
// kstatus' stricter Deployment checks (every replica updated, ready and available, no
// surplus, the Available condition true). On top of them, fail-fast: a workload one of
// whose current pods cannot pull its image, crash-loops, was OOM-killed or cannot be
// scheduled for longer than a grace period is Degraded at once, naming the pod, instead
// of Progressing until the progress deadline.
//
// Everything here is pure: the caller (package engine) reads the objects and pods and
// passes the clock.
package health

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Status is the health of an object, a component or an application.
type Status string

// The health statuses, from Argo CD.
const (
	Healthy     Status = "Healthy"
	Progressing Status = "Progressing"
	Degraded    Status = "Degraded"
	Suspended   Status = "Suspended"
	Missing     Status = "Missing"
	Unknown     Status = "Unknown"
)

// severity orders statuses for Worst: the worst status of a group is the group's.
var severity = map[Status]int{Healthy: 0, Suspended: 1, Progressing: 2, Unknown: 3, Missing: 4, Degraded: 5}

// Worse reports whether a is worse than b.
func Worse(a, b Status) bool { return severity[a] > severity[b] }

// Result is the health of one object with the reason for it.
type Result struct {
	Status  Status `json:"status"`
	Message string `json:"message,omitempty"`
}

func result(s Status, format string, args ...any) Result {
	return Result{Status: s, Message: fmt.Sprintf(format, args...)}
}

// DefaultFailFastGrace is how long a pod may stay in a failing state before its
// workload is Degraded: long enough for a registry hiccup (ErrImagePull then success),
// short enough that nobody waits for the progress deadline.
const DefaultFailFastGrace = 15 * time.Second

// Options are what Evaluate needs besides the object.
type Options struct {
	// Now is the current time; fail-fast measures the grace from the pod's Ready
	// condition's last transition (or its creation) to Now.
	Now time.Time
	// FailFastGrace is how long a pod may fail before its workload is Degraded.
	FailFastGrace time.Duration
}

// Evaluate returns the health of obj (nil: Missing). pods are the current pods of a
// workload (see CurrentPods); they only matter while the workload is not Healthy.
func Evaluate(obj *unstructured.Unstructured, pods []corev1.Pod, opts Options) Result {
	if obj == nil {
		return Result{Status: Missing, Message: "not found"}
	}
	if obj.GetDeletionTimestamp() != nil {
		return result(Progressing, "being deleted")
	}
	r, err := evaluate(obj)
	if err != nil {
		return result(Unknown, "%v", err)
	}
	if r.Status == Healthy || r.Status == Degraded || r.Status == Suspended || !isWorkload(obj) || !observed(obj) {
		// Until the controller observed the spec, which pods are current is not known:
		// right after a rollback they are still the failing ones being replaced.
		return r
	}
	if f, ok := FailFast(pods, opts); ok {
		return f
	}
	return r
}

// observed reports whether the controller has seen obj's current generation.
func observed(obj *unstructured.Unstructured) bool {
	v, found, _ := unstructured.NestedFieldNoCopy(obj.Object, "status", "observedGeneration")
	var og int64
	switch n := v.(type) {
	case int64:
		og = n
	default:
		return !found
	}
	return og >= obj.GetGeneration()
}

// isWorkload reports whether obj's health depends on pods it creates.
func isWorkload(obj *unstructured.Unstructured) bool {
	gvk := obj.GroupVersionKind()
	switch gvk.Group + "/" + gvk.Kind {
	case "apps/Deployment", "apps/StatefulSet", "apps/DaemonSet", "apps/ReplicaSet", "batch/Job":
		return true
	}
	return false
}

// evaluate dispatches on the kind; kinds without rules are Healthy when they exist.
func evaluate(obj *unstructured.Unstructured) (Result, error) {
	gvk := obj.GroupVersionKind()
	switch gvk.Group + "/" + gvk.Kind {
	case "apps/Deployment":
		return typed(obj, deployment)
	case "apps/StatefulSet":
		return typed(obj, statefulSet)
	case "apps/DaemonSet":
		return typed(obj, daemonSet)
	case "apps/ReplicaSet":
		return typed(obj, replicaSet)
	case "/Pod":
		return typed(obj, pod)
	case "batch/Job":
		return typed(obj, job)
	case "batch/CronJob":
		return typed(obj, cronJob)
	case "/Service":
		return typed(obj, service)
	case "networking.k8s.io/Ingress":
		return typed(obj, ingress)
	case "/PersistentVolumeClaim":
		return typed(obj, pvc)
	case "autoscaling/HorizontalPodAutoscaler":
		return typed(obj, hpa)
	case "/Namespace":
		if phase, _, _ := unstructured.NestedString(obj.Object, "status", "phase"); phase == "Terminating" {
			return result(Progressing, "namespace is terminating"), nil
		}
	case "apiextensions.k8s.io/CustomResourceDefinition":
		return crd(obj), nil
	}
	return Result{Status: Healthy}, nil
}

// typed converts obj to T and applies rule.
func typed[T any](obj *unstructured.Unstructured, rule func(*T) Result) (Result, error) {
	t := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, t); err != nil {
		return Result{}, fmt.Errorf("cannot read %s: %w", obj.GetKind(), err)
	}
	return rule(t), nil
}

// crd is Healthy once the CustomResourceDefinition is Established.
func crd(obj *unstructured.Unstructured) Result {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return Result{Status: Healthy}
		}
		if m["type"] == "NamesAccepted" && m["status"] == "False" {
			return result(Degraded, "names not accepted: %v", m["message"])
		}
	}
	return result(Progressing, "waiting for the CRD to be established")
}

// joinNonEmpty joins the non-empty parts with ", ".
func joinNonEmpty(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}
