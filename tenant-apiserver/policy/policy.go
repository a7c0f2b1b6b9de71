// Package policy is what a tenant's API server refuses on the platform's behalf: pods
// beyond the tenant's Pod Security Standard level or pulling from registries it may not
// use, Services of types it may not create, storage or ingress classes outside its
// allowance, and claims restored from what the super cluster does not have (a snapshot, a
// populator's object). It is pure: the tenant-apiserver's VCPTenantPolicy admission plugin calls it,
// with the Policy the provisioning manager derives from the VirtualCluster's
// spec.isolation, so that a forbidden object is refused with a message naming the rule
// when the tenant creates it, and is never silently dropped later by the syncer.
package policy

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	psaapi "k8s.io/pod-security-admission/api"
	psapolicy "k8s.io/pod-security-admission/policy"
)

// Policy is one tenant's rules. The zero Policy allows everything; an empty list allows
// anything of its kind.
type Policy struct {
	// PodSecurity is the Pod Security Standard level every pod must meet: privileged,
	// baseline or restricted. Unlike the upstream PodSecurity admission, namespace labels
	// cannot lower it: the tenant owns its namespaces, the platform owns this level.
	PodSecurity string `json:"podSecurity,omitempty"`
	// Registries are the image registry prefixes pods may pull from, such as
	// registry.example.com or docker.io/library.
	Registries []string `json:"registries,omitempty"`
	// ServiceTypes are the Service types the tenant may create.
	ServiceTypes []string `json:"serviceTypes,omitempty"`
	// StorageClasses are the classes PersistentVolumeClaims may name.
	StorageClasses []string `json:"storageClasses,omitempty"`
	// IngressClasses are the classes Ingresses may name.
	IngressClasses []string `json:"ingressClasses,omitempty"`
}

// Validate reports a bad field of the policy itself.
func (p *Policy) Validate() error {
	if p == nil {
		return nil
	}
	if _, err := psaapi.ParseLevel(p.PodSecurity); p.PodSecurity != "" && err != nil {
		return fmt.Errorf("policy.podSecurity: %w", err)
	}
	for i, t := range p.ServiceTypes {
		switch corev1.ServiceType(t) {
		case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName:
		default:
			return fmt.Errorf("policy.serviceTypes[%d]: unknown Service type %q", i, t)
		}
	}
	return nil
}

// evaluator holds upstream's Pod Security Standard checks at the latest version.
var evaluator = func() psapolicy.Evaluator {
	e, err := psapolicy.NewEvaluator(psapolicy.DefaultChecks(), nil)
	if err != nil {
		panic(fmt.Sprintf("pod security checks: %v", err))
	}
	return e
}()

// Rule names what a tenant asked for against the VirtualCluster field that forbids it.
const (
	rulePodSecurity    = "spec.isolation.podSecurity.level"
	ruleRegistries     = "spec.isolation.allowed.registries"
	ruleServiceTypes   = "spec.isolation.allowed.serviceTypes"
	ruleStorageClasses = "spec.isolation.allowed.storageClasses"
	ruleIngressClasses = "spec.isolation.allowed.ingressClasses"
)

// Pod returns what in a pod (or pod template, at path) the policy forbids.
func (p *Policy) Pod(path *field.Path, podMeta *metav1.ObjectMeta, spec *corev1.PodSpec) field.ErrorList {
	if p == nil {
		return nil
	}
	var errs field.ErrorList
	if level, err := psaapi.ParseLevel(p.PodSecurity); err == nil && level != psaapi.LevelPrivileged {
		result := psapolicy.AggregateCheckResults(evaluator.EvaluatePod(psaapi.LevelVersion{Level: level, Version: psaapi.LatestVersion()}, podMeta, spec))
		if !result.Allowed {
			errs = append(errs, field.Forbidden(path.Child("spec"),
				fmt.Sprintf("violates the tenant's Pod Security level %q (VirtualCluster %s): %s", level, rulePodSecurity, result.ForbiddenDetail())))
		}
	}
	if len(p.Registries) > 0 {
		containers := path.Child("spec")
		check := func(kind string, i int, image string) {
			if !registryAllowed(image, p.Registries) {
				errs = append(errs, field.Forbidden(containers.Child(kind).Index(i).Child("image"),
					fmt.Sprintf("image %q is not from a registry the tenant may use (VirtualCluster %s: %s)", image, ruleRegistries, strings.Join(p.Registries, ", "))))
			}
		}
		for i, c := range spec.InitContainers {
			check("initContainers", i, c.Image)
		}
		for i, c := range spec.Containers {
			check("containers", i, c.Image)
		}
		for i, c := range spec.EphemeralContainers {
			check("ephemeralContainers", i, c.Image)
		}
	}
	return errs
}

// PodClaimTemplates returns what in a pod's (or pod template's, at path) generic
// ephemeral volume claim templates the policy forbids: the claim the tenant's ephemeral
// volume controller makes from a template is refused as any claim would be, so the pod is
// refused when it is created, naming the volume. (A pod's volumes cannot change: updates
// need no check, and are not held up by a rule changed since.)
func (p *Policy) PodClaimTemplates(path *field.Path, spec *corev1.PodSpec) field.ErrorList {
	if p == nil {
		return nil
	}
	var errs field.ErrorList
	for i, v := range spec.Volumes {
		if v.Ephemeral == nil || v.Ephemeral.VolumeClaimTemplate == nil {
			continue
		}
		claim := path.Child("spec", "volumes").Index(i).Child("ephemeral", "volumeClaimTemplate", "spec")
		errs = append(errs, p.claimSpec(claim, &v.Ephemeral.VolumeClaimTemplate.Spec)...)
	}
	return errs
}

// Service returns what in a Service the policy forbids.
func (p *Policy) Service(svc *corev1.Service) field.ErrorList {
	if p == nil || len(p.ServiceTypes) == 0 {
		return nil
	}
	typ := svc.Spec.Type
	if typ == "" {
		typ = corev1.ServiceTypeClusterIP
	}
	if slices.Contains(p.ServiceTypes, string(typ)) {
		return nil
	}
	return field.ErrorList{field.Forbidden(field.NewPath("spec", "type"),
		fmt.Sprintf("Services of type %s are not allowed for this tenant (VirtualCluster %s: %s)", typ, ruleServiceTypes, strings.Join(p.ServiceTypes, ", ")))}
}

// PersistentVolumeClaim returns what in a claim the policy forbids (claimSpec).
func (p *Policy) PersistentVolumeClaim(pvc *corev1.PersistentVolumeClaim) field.ErrorList {
	if p == nil {
		return nil
	}
	return p.claimSpec(field.NewPath("spec"), &pvc.Spec)
}

// claimSpec returns what in a claim's spec (at path) the policy forbids: a class outside
// the allowed ones (a claim without a class gets the super cluster's default class, which
// is always allowed), and any data source but a claim of the same namespace.
func (p *Policy) claimSpec(path *field.Path, spec *corev1.PersistentVolumeClaimSpec) field.ErrorList {
	errs := ClaimDataSource(path, spec)
	if class := spec.StorageClassName; len(p.StorageClasses) > 0 && class != nil && *class != "" && !slices.Contains(p.StorageClasses, *class) {
		errs = append(errs, field.Forbidden(path.Child("storageClassName"),
			fmt.Sprintf("storage class %q is not allowed for this tenant (VirtualCluster %s: %s)", *class, ruleStorageClasses, strings.Join(p.StorageClasses, ", "))))
	}
	return errs
}

// ClaimDataSource returns what in a claim's data source (spec at path) a tenant cannot
// have, whatever its policy. The syncer copies the claim into the tenant namespace's
// super namespace, where a claim of the same namespace is the super copy of the same name,
// so cloning one means the same there. Nothing else does: the tenant's VolumeSnapshots and
// volume populators' objects are not synced, and a claim of another namespace is in
// another super namespace. The API server sets dataSource and dataSourceRef alike when
// either is given; an error names dataSource when it is set.
func ClaimDataSource(path *field.Path, spec *corev1.PersistentVolumeClaimSpec) field.ErrorList {
	var errs field.ErrorList
	switch {
	case spec.DataSource != nil:
		if ds := spec.DataSource; !IsClaimKind(ds.APIGroup, ds.Kind) {
			errs = append(errs, field.Forbidden(path.Child("dataSource"), dataSourceMessage(ds.APIGroup, ds.Kind, ds.Name)))
		}
	case spec.DataSourceRef != nil:
		if ref := spec.DataSourceRef; !IsClaimKind(ref.APIGroup, ref.Kind) {
			errs = append(errs, field.Forbidden(path.Child("dataSourceRef"), dataSourceMessage(ref.APIGroup, ref.Kind, ref.Name)))
		}
	}
	if ref := spec.DataSourceRef; ref != nil && ref.Namespace != nil && *ref.Namespace != "" {
		errs = append(errs, field.Forbidden(path.Child("dataSourceRef", "namespace"),
			fmt.Sprintf("a data source in another namespace (%q) cannot be used in a vcp tenant: only a PersistentVolumeClaim of the claim's own namespace can be cloned", *ref.Namespace)))
	}
	return errs
}

// IsClaimKind tells whether a data source's group and kind are a PersistentVolumeClaim's.
func IsClaimKind(group *string, kind string) bool {
	return (group == nil || *group == "") && kind == "PersistentVolumeClaim"
}

func dataSourceMessage(group *string, kind, name string) string {
	what := kind
	if group != nil && *group != "" {
		what = kind + "." + *group
	}
	return fmt.Sprintf("data source %s %q cannot be used in a vcp tenant: only a PersistentVolumeClaim of the same namespace can be cloned (the tenant's %s objects are not synced to the super cluster)", what, name, kind)
}

// Ingress returns what in an Ingress the policy forbids. An Ingress without a class
// gets the super cluster's default class, which is always allowed.
func (p *Policy) Ingress(ing *networkingv1.Ingress) field.ErrorList {
	if p == nil || len(p.IngressClasses) == 0 || ing.Spec.IngressClassName == nil || *ing.Spec.IngressClassName == "" {
		return nil
	}
	if slices.Contains(p.IngressClasses, *ing.Spec.IngressClassName) {
		return nil
	}
	return field.ErrorList{field.Forbidden(field.NewPath("spec", "ingressClassName"),
		fmt.Sprintf("ingress class %q is not allowed for this tenant (VirtualCluster %s: %s)", *ing.Spec.IngressClassName, ruleIngressClasses, strings.Join(p.IngressClasses, ", ")))}
}

// registryAllowed reports whether image comes from one of the allowed prefixes. Images
// are compared in their full form, as a container runtime resolves them: "nginx" is
// docker.io/library/nginx and "team/app" is docker.io/team/app.
func registryAllowed(image string, allowed []string) bool {
	repo := NormalizeImage(image)
	for _, prefix := range allowed {
		prefix = strings.TrimSuffix(prefix, "/")
		if repo == prefix || strings.HasPrefix(repo, prefix+"/") {
			return true
		}
	}
	return false
}

// NormalizeImage returns an image reference's repository in full (registry and path,
// without tag or digest), the way container runtimes resolve short names.
func NormalizeImage(image string) string {
	repo := image
	if i := strings.Index(repo, "@"); i >= 0 {
		repo = repo[:i]
	}
	// A tag is a colon after the last slash; a colon before it is a registry port.
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	first, rest, found := strings.Cut(repo, "/")
	switch {
	case !found:
		return "docker.io/library/" + repo
	case !strings.ContainsAny(first, ".:") && first != "localhost":
		return "docker.io/" + repo
	case first == "index.docker.io" || first == "docker.io":
		if !strings.Contains(rest, "/") {
			return "docker.io/library/" + rest
		}
		return "docker.io/" + rest
	}
	return repo
}
