// Package translate turns tenant objects into the super-cluster objects the syncer
// creates for them. It is pure: everything a translation needs is in its arguments.
package translate

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/internal/clusterdomain"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// TokenSecretPrefix starts the names of the token Secrets (TokenSecretName): the
// platform's, so a tenant Secret of such a name is not copied down.
const TokenSecretPrefix = "vcp-token-"

// TokenSecretName is the super-cluster Secret, in the pod's super namespace, that holds a
// token of tenant service account sa for pods to mount in place of the tenant's projected
// service-account token (the super cluster would mint a token of its own account).
func TokenSecretName(sa string) string {
	name := TokenSecretPrefix + sa
	if len(name) <= 253 {
		return name
	}
	sum := sha256.Sum256([]byte(sa))
	return strings.TrimRight(name[:253-13], "-.") + "-" + hex.EncodeToString(sum[:])[:12]
}

// RootCAConfigMap is the super-cluster copy of the tenant's "kube-root-ca.crt" ConfigMap
// (the tenant API's CA): the super cluster's root-CA publisher owns a ConfigMap of that
// name in every super namespace, holding the super cluster's CA. A tenant ConfigMap named
// RootCAConfigMap is the platform's name and is not copied down.
const RootCAConfigMap = "vcp-root-ca.crt"

// SuperConfigMapName is the super name of tenant ConfigMap name: its own, but for the
// tenant's root CA.
func SuperConfigMapName(name string) string {
	if name == "kube-root-ca.crt" {
		return RootCAConfigMap
	}
	return name
}

// TokenServiceAccount returns the tenant service account whose token Secret the pod's
// super pod mounts: the pod's account, when the pod has a projected service-account
// token.
func TokenServiceAccount(tenantPod *corev1.Pod) (sa string, ok bool) {
	for _, v := range tenantPod.Spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, src := range v.Projected.Sources {
			if src.ServiceAccountToken != nil {
				return cmp.Or(tenantPod.Spec.ServiceAccountName, "default"), true
			}
		}
	}
	return "", false
}

// TokenRequests returns the token requests (TokenRequestOf: audience and, when short,
// lifetime) of the service-account tokens the pod projects, sorted and each once: ""
// stands for the tenant API's own audience at the usual lifetime.
func TokenRequests(tenantPod *corev1.Pod) []string {
	var requests []string
	for _, v := range tenantPod.Spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, src := range v.Projected.Sources {
			if src.ServiceAccountToken != nil {
				requests = append(requests, TokenRequestOf(src.ServiceAccountToken))
			}
		}
	}
	slices.Sort(requests)
	return slices.Compact(requests)
}

// SuperPod returns the super-cluster pod for a tenant pod of the tenant with key
// tenantKey: same name, in the tenant namespace's super namespace, stamped with its
// identity, with the tenant's isolation forced and everything that only means something
// in the tenant (owners, finalizers, node, service account) taken out or rewritten. Its
// labels are SuperPodLabels: tenantPolicies are the NetworkPolicies of the tenant pod's
// namespace.
func SuperPod(tenantKey string, tenantPod *corev1.Pod, iso Isolation, tenantPolicies []*networkingv1.NetworkPolicy) *corev1.Pod {
	superPod := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        tenantPod.Name,
			Namespace:   naming.SuperNamespace(tenantKey, tenantPod.Namespace),
			Labels:      SuperPodLabels(tenantKey, tenantPod, tenantPolicies),
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
	rewriteServiceAccount(spec, tenantPod.Namespace, string(tenantPod.UID))
	mountEphemeralClaims(spec, tenantPod.Name)
	pointAtTenantAPI(spec, iso.API, iso.ClusterDomain)
	pointAtTenantDNS(spec, tenantPod.Namespace, iso.DNS, iso.ClusterDomain)
	nodeDNSInVPC(spec, iso)
	return superPod
}

// mountEphemeralClaims makes each generic ephemeral volume of the pod a volume of the
// claim the tenant's ephemeral volume controller made for it (<pod>-<volume>, owned by the
// tenant pod), whose super copy has the same name: the tenant sees, counts and deletes
// the claim as in any cluster, the super cluster binds its copy, and no super-side claim
// escapes the tenant's rules. The syncer makes the super pod only once that claim exists
// and is the pod's (the controller's ephemeralClaimsReady); the super pod waits
// (unschedulable, as any pod whose claim is missing) until the copy exists.
func mountEphemeralClaims(spec *corev1.PodSpec, podName string) {
	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		if v.Ephemeral == nil {
			continue
		}
		v.VolumeSource = corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: EphemeralClaimName(podName, v.Name)}}
	}
}

// EphemeralClaimName is the name of the claim of a pod's generic ephemeral volume
// (upstream's ephemeral.VolumeClaimName).
func EphemeralClaimName(pod, volume string) string { return pod + "-" + volume }

// TenantAPI is where a tenant's pods reach the tenant's API server: the address of the
// host serving it, and its TLS server name there (the host routes by server name).
type TenantAPI struct {
	// Host is the TLS server name, such as a.tenants.vcp.local.
	Host string
	// IP is the address Host stands for in the pods (a host alias).
	IP string
	// Port is the host's tenant port.
	Port string
}

// The environment in-cluster clients (client-go's rest.InClusterConfig) read the API
// server's address from.
const (
	EnvServiceHost      = "KUBERNETES_SERVICE_HOST"
	EnvServicePort      = "KUBERNETES_SERVICE_PORT"
	EnvServicePortHTTPS = "KUBERNETES_SERVICE_PORT_HTTPS"
)

// pointAtTenantAPI sends the pod's in-cluster clients to the tenant's API server
// instead of the super cluster's: the super kubelet sets KUBERNETES_SERVICE_HOST/PORT to
// the super cluster's "kubernetes" Service, so every container gets the tenant API's
// server name and port first in its environment (a container's own value wins, as it
// does over the kubelet's; being first, later variables that refer to them get the
// tenant's), and a host alias resolves that name to the host's address. The name, not
// the address, goes into the environment: the host picks the tenant by TLS server name,
// which clients send for names only. The token and CA the pod mounts are the tenant's
// (rewriteServiceAccount), so rest.InClusterConfig works unchanged. The in-cluster names
// (kubernetes.default.svc...) resolve to the host too, ahead of any DNS: the host serves
// them for every tenant, with a certificate of the CA the tenant's ca.crt carries beside
// its own, and hands each request to the tenant that issued its token.
func pointAtTenantAPI(spec *corev1.PodSpec, api TenantAPI, domain string) {
	if api.Host == "" || api.IP == "" || api.Port == "" {
		return
	}
	names := clusterdomain.InClusterNames(domain)
	if api.Host != api.IP {
		names = append([]string{api.Host}, names...)
	}
	spec.HostAliases = append(spec.HostAliases, corev1.HostAlias{IP: api.IP, Hostnames: names})
	vars := []corev1.EnvVar{{Name: EnvServiceHost, Value: api.Host}, {Name: EnvServicePort, Value: api.Port}, {Name: EnvServicePortHTTPS, Value: api.Port}}
	forEachEnv(spec, func(env *[]corev1.EnvVar, _ []corev1.EnvFromSource) {
		out := make([]corev1.EnvVar, 0, len(vars)+len(*env))
		for _, v := range vars {
			if !slices.ContainsFunc(*env, func(e corev1.EnvVar) bool { return e.Name == v.Name }) {
				out = append(out, v)
			}
		}
		*env = append(out, *env...)
	})
}

// forEachEnv calls f with the environment of every container of the pod (init,
// regular and ephemeral).
func forEachEnv(spec *corev1.PodSpec, f func(env *[]corev1.EnvVar, envFrom []corev1.EnvFromSource)) {
	for i := range spec.InitContainers {
		f(&spec.InitContainers[i].Env, spec.InitContainers[i].EnvFrom)
	}
	for i := range spec.Containers {
		f(&spec.Containers[i].Env, spec.Containers[i].EnvFrom)
	}
	for i := range spec.EphemeralContainers {
		f(&spec.EphemeralContainers[i].Env, spec.EphemeralContainers[i].EnvFrom)
	}
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
// service account, and from seeing the super cluster where it asks about the tenant's:
//   - a projected service-account token becomes the tenant token Secret the syncer keeps
//     (TokenSecretName);
//   - every reference to the tenant's root CA ConfigMap names its copy (RootCAConfigMap);
//   - environment variables from metadata.namespace, metadata.uid or
//     spec.serviceAccountName get the tenant's values;
//   - downward API files (plain or projected volumes) of metadata.namespace and
//     metadata.uid read the super pod's identity label and annotation, which hold the
//     tenant's (the super pod's own are the super namespace and the super UID);
//   - the super pod runs as the super namespace's default account, which mounts nothing.
//
// The pod's image pull secrets stay: the tenant's ServiceAccount admission already put
// its account's into the pod, and they name Secrets copied down under the same names.
func rewriteServiceAccount(spec *corev1.PodSpec, tenantNS, tenantUID string) {
	sa := cmp.Or(spec.ServiceAccountName, "default")
	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		if v.ConfigMap != nil {
			v.ConfigMap.Name = SuperConfigMapName(v.ConfigMap.Name)
		}
		if v.DownwardAPI != nil {
			rewriteDownwardAPI(v.DownwardAPI.Items)
		}
		if v.Projected != nil {
			v.Projected.Sources = rewriteProjection(v.Projected.Sources, sa)
		}
	}
	forEachEnv(spec, func(envp *[]corev1.EnvVar, envFrom []corev1.EnvFromSource) {
		env := *envp
		for i := range env {
			from := env[i].ValueFrom
			switch {
			case from == nil:
			case from.ConfigMapKeyRef != nil:
				from.ConfigMapKeyRef.Name = SuperConfigMapName(from.ConfigMapKeyRef.Name)
			case from.FieldRef != nil && from.FieldRef.FieldPath == "metadata.namespace":
				env[i].Value, env[i].ValueFrom = tenantNS, nil
			case from.FieldRef != nil && from.FieldRef.FieldPath == "metadata.uid":
				env[i].Value, env[i].ValueFrom = tenantUID, nil
			case from.FieldRef != nil && from.FieldRef.FieldPath == "spec.serviceAccountName":
				env[i].Value, env[i].ValueFrom = sa, nil
			}
		}
		for i := range envFrom {
			if ref := envFrom[i].ConfigMapRef; ref != nil {
				ref.Name = SuperConfigMapName(ref.Name)
			}
		}
	})
	spec.ServiceAccountName = ""
	spec.DeprecatedServiceAccount = ""
	no := false
	spec.AutomountServiceAccountToken = &no
}

// rewriteProjection rewrites the sources of one projected volume (see
// rewriteServiceAccount). The service-account tokens of a volume become one projection of
// the token Secret.
func rewriteProjection(sources []corev1.VolumeProjection, sa string) []corev1.VolumeProjection {
	var token *corev1.SecretProjection
	out := make([]corev1.VolumeProjection, 0, len(sources))
	for _, src := range sources {
		switch {
		case src.ServiceAccountToken != nil:
			if token == nil {
				token = &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: TokenSecretName(sa)}}
				out = append(out, corev1.VolumeProjection{Secret: token})
			}
			token.Items = append(token.Items, corev1.KeyToPath{Key: TokenKey(TokenRequestOf(src.ServiceAccountToken)), Path: src.ServiceAccountToken.Path})
		case src.ConfigMap != nil:
			src.ConfigMap.Name = SuperConfigMapName(src.ConfigMap.Name)
			out = append(out, src)
		case src.DownwardAPI != nil:
			rewriteDownwardAPI(src.DownwardAPI.Items)
			out = append(out, src)
		default:
			out = append(out, src)
		}
	}
	return out
}

// Downward API paths of the super pod that hold the tenant pod's namespace and UID (its
// identity, naming.Stamp).
const (
	tenantNamespaceField = "metadata.labels['" + naming.LabelNamespace + "']"
	tenantUIDField       = "metadata.annotations['" + naming.AnnotationUID + "']"
)

// rewriteDownwardAPI points downward API files of the pod's namespace and UID at the
// super pod's identity, which holds the tenant pod's.
func rewriteDownwardAPI(items []corev1.DownwardAPIVolumeFile) {
	for i := range items {
		if ref := items[i].FieldRef; ref != nil {
			switch ref.FieldPath {
			case "metadata.namespace":
				ref.FieldPath = tenantNamespaceField
			case "metadata.uid":
				ref.FieldPath = tenantUIDField
			}
		}
	}
}
