// Package translate turns tenant objects into the super-cluster objects the syncer
// creates for them. It is pure: everything a translation needs is in its arguments.
package translate

import (
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// TokenSecretName is the super-cluster Secret, in the pod's super namespace, that holds a
// token of tenant service account sa for pods to mount in place of the tenant's projected
// service-account token (the super cluster would mint a token of its own account).
func TokenSecretName(sa string) string {
	name := "vcp-token-" + sa
	if len(name) > 253 {
		name = name[:253]
	}
	return strings.TrimRight(name, "-.")
}

// SuperPod returns the super-cluster pod for a tenant pod of the tenant with key
// tenantKey: same name, in the tenant namespace's super namespace, stamped with its
// identity, with the tenant's isolation forced and everything that only means something
// in the tenant (owners, finalizers, node, service account) taken out or rewritten.
func SuperPod(tenantKey string, tenantPod *corev1.Pod, iso Isolation) *corev1.Pod {
	superPod := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        tenantPod.Name,
			Namespace:   naming.SuperNamespace(tenantKey, tenantPod.Namespace),
			Labels:      maps.Clone(tenantPod.Labels),
			Annotations: maps.Clone(tenantPod.Annotations),
		},
		Spec: *tenantPod.Spec.DeepCopy(),
	}
	naming.Stamp(superPod, naming.Identity{Tenant: tenantKey, Namespace: tenantPod.Namespace, Name: tenantPod.Name, UID: string(tenantPod.UID)})
	spec := &superPod.Spec
	// The super cluster schedules; virtual nodes in the tenant mirror where it put the pod.
	spec.NodeName = ""
	if iso.RuntimeClassName != "" {
		spec.RuntimeClassName = &iso.RuntimeClassName
	}
	spec.NodeSelector = mergeSelector(spec.NodeSelector, iso)
	spec.Tolerations = mergeTolerations(spec.Tolerations, iso)
	// Priority is resolved again by the super cluster's admission from the class name.
	spec.Priority = nil
	rewriteServiceAccount(spec)
	return superPod
}

func mergeSelector(tenant map[string]string, iso Isolation) map[string]string {
	if len(iso.NodeSelector) == 0 && iso.NodePool == "" {
		return tenant
	}
	out := maps.Clone(tenant)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, iso.NodeSelector)
	if iso.NodePool != "" {
		out[tenancyv1alpha1.NodePoolLabel] = iso.NodePool
	}
	return out
}

func mergeTolerations(tenant []corev1.Toleration, iso Isolation) []corev1.Toleration {
	add := slices.Clone(iso.Tolerations)
	if iso.NodePool != "" {
		add = append(add, corev1.Toleration{Key: tenancyv1alpha1.NodePoolLabel, Operator: corev1.TolerationOpEqual, Value: iso.NodePool, Effect: corev1.TaintEffectNoSchedule})
	}
	out := tenant
	for _, t := range add {
		if !slices.ContainsFunc(out, func(o corev1.Toleration) bool { return o.MatchToleration(&t) }) {
			out = append(out, t)
		}
	}
	return out
}

// rewriteServiceAccount keeps the pod from running as (or mounting a token of) a super
// service account: the tenant's projected service-account token becomes the tenant
// token Secret the syncer keeps (TokenSecretName), and the super default account mounts
// nothing.
func rewriteServiceAccount(spec *corev1.PodSpec) {
	sa := spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	for i := range spec.Volumes {
		projected := spec.Volumes[i].Projected
		if projected == nil {
			continue
		}
		for j := range projected.Sources {
			if tok := projected.Sources[j].ServiceAccountToken; tok != nil {
				projected.Sources[j] = corev1.VolumeProjection{Secret: &corev1.SecretProjection{
					LocalObjectReference: corev1.LocalObjectReference{Name: TokenSecretName(sa)},
					Items:                []corev1.KeyToPath{{Key: corev1.ServiceAccountTokenKey, Path: tok.Path}},
				}}
			}
		}
	}
	spec.ServiceAccountName = ""
	spec.DeprecatedServiceAccount = ""
	no := false
	spec.AutomountServiceAccountToken = &no
}
