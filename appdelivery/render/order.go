package render

import (
	"cmp"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// kindOrder is the apply order of the kinds render knows: what others need first
// (namespaces, CRDs, identities and configuration), then Services, workloads, and what
// refers to workloads. Other kinds (custom resources among them) come last, after the
// CRDs that define them.
var kindOrder = []string{
	"Namespace", "CustomResourceDefinition", "PriorityClass", "StorageClass", "IngressClass", "RuntimeClass",
	"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
	"ResourceQuota", "LimitRange", "NetworkPolicy", "Secret", "ConfigMap", "PersistentVolume", "PersistentVolumeClaim",
	"Service", "DaemonSet", "Deployment", "StatefulSet", "Job", "CronJob",
	"HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress",
}

// kindRank returns the position of kind in kindOrder, or len(kindOrder).
func kindRank(kind string) int {
	if i := slices.Index(kindOrder, kind); i >= 0 {
		return i
	}
	return len(kindOrder)
}

// compareForApply orders objects by kind rank, then group, kind, namespace and name.
func compareForApply(a, b *unstructured.Unstructured) int {
	ga, gb := a.GroupVersionKind(), b.GroupVersionKind()
	return cmp.Or(
		cmp.Compare(kindRank(ga.Kind), kindRank(gb.Kind)),
		cmp.Compare(ga.Group, gb.Group),
		cmp.Compare(ga.Kind, gb.Kind),
		cmp.Compare(a.GetNamespace(), b.GetNamespace()),
		cmp.Compare(a.GetName(), b.GetName()),
	)
}
