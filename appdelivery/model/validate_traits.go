package model

import (
	"fmt"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateTraits checks each decoded trait of d, then what the traits share: volume
// names and mount paths.
func validateTraits(tpath *field.Path, d *DecodedComponent) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[TraitType]()
	for i, t := range d.Component.Traits {
		if seen.Has(t.Type) {
			continue // a duplicate, reported by decodeTraits
		}
		seen.Insert(t.Type)
		p := tpath.Index(i).Child("properties")
		switch props := d.Traits[t.Type].(type) {
		case *ScaleProperties:
			if props.Replicas == nil {
				errs = append(errs, field.Required(p.Child("replicas"), ""))
			}
			errs = append(errs, validateMin(p.Child("replicas"), props.Replicas, 0)...)
		case *AutoscaleProperties:
			errs = append(errs, validateAutoscale(p, props, d)...)
		case *RouteProperties:
			errs = append(errs, validateRoute(p, props, d.Workload())...)
		case *EnvProperties:
			errs = append(errs, validateEnvNames(p, sortedKeys(*props))...)
		case *ConfigProperties:
			errs = append(errs, validateConfig(p, props)...)
		case *SecretRefProperties:
			errs = append(errs, validateSecretRefs(p, props)...)
		case *StorageProperties:
			errs = append(errs, validateStorage(p, props)...)
		case *ResourcesProperties:
			errs = append(errs, validateResources(p, props)...)
		case *ProbesProperties:
			errs = append(errs, validateProbes(p, props, d.Workload())...)
		case *SidecarProperties:
			errs = append(errs, validateSidecars(p, props, d)...)
		case *LabelsProperties:
			errs = append(errs, validateLabels(p, *props)...)
		case *AnnotationsProperties:
			errs = append(errs, apivalidation.ValidateAnnotations(*props, p)...)
		}
	}
	errs = append(errs, validateMountPaths(tpath, d)...)
	return append(errs, validateEnvUnique(tpath, d)...)
}

// validateEnvUnique checks that no variable is set twice: by the env trait and a
// Secret's key, or by two Secrets' keys.
func validateEnvUnique(tpath *field.Path, d *DecodedComponent) field.ErrorList {
	secrets, ok := d.Traits[SecretRefTrait].(*SecretRefProperties)
	if !ok {
		return nil
	}
	seen := map[string]string{}
	if env, ok := d.Traits[EnvTrait].(*EnvProperties); ok {
		for name := range *env {
			seen[name] = "the env trait"
		}
	}
	i := slices.IndexFunc(d.Component.Traits, func(t Trait) bool { return t.Type == SecretRefTrait })
	var errs field.ErrorList
	for j, ref := range secrets.Secrets {
		p := tpath.Index(i).Child("properties", "secrets").Index(j).Child("env")
		for _, name := range sortedKeys(ref.Env) {
			if prev, dup := seen[name]; dup {
				errs = append(errs, field.Duplicate(p.Key(name), name+" (also set by "+prev+")"))
				continue
			}
			seen[name] = "Secret " + ref.Name
		}
	}
	return errs
}

func validateAutoscale(path *field.Path, a *AutoscaleProperties, d *DecodedComponent) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateMin(path.Child("minReplicas"), a.MinReplicas, 1)...)
	switch {
	case a.MaxReplicas == 0:
		errs = append(errs, field.Required(path.Child("maxReplicas"), ""))
	case a.MaxReplicas < 1:
		errs = append(errs, field.Invalid(path.Child("maxReplicas"), a.MaxReplicas, "must be at least 1"))
	case a.MinReplicas != nil && *a.MinReplicas > a.MaxReplicas:
		errs = append(errs, field.Invalid(path.Child("maxReplicas"), a.MaxReplicas, "must be at least minReplicas"))
	}
	if a.CPUUtilization == nil && a.MemoryUtilization == nil {
		errs = append(errs, field.Required(path, "set cpuUtilization and/or memoryUtilization"))
	}
	requests := map[corev1.ResourceName]Quantity{}
	if r, ok := d.Traits[ResourcesTrait].(*ResourcesProperties); ok {
		requests = r.Requests
	}
	for _, m := range []struct {
		field    string
		target   *int32
		resource corev1.ResourceName
	}{{"cpuUtilization", a.CPUUtilization, corev1.ResourceCPU}, {"memoryUtilization", a.MemoryUtilization, corev1.ResourceMemory}} {
		if m.target == nil {
			continue
		}
		errs = append(errs, validateMin(path.Child(m.field), m.target, 1)...)
		if _, ok := requests[m.resource]; !ok {
			errs = append(errs, field.Invalid(path.Child(m.field), *m.target, fmt.Sprintf(
				"utilization is a percentage of the request: the resources trait must request %s", m.resource)))
		}
	}
	return errs
}

func validateRoute(p *field.Path, r *RouteProperties, w *Workload) field.ErrorList {
	var errs field.ErrorList
	if r.Host == "" {
		errs = append(errs, field.Required(p.Child("host"), ""))
	} else {
		errs = append(errs, validateHost(p.Child("host"), r.Host)...)
	}
	if r.Path != "" && !strings.HasPrefix(r.Path, "/") {
		errs = append(errs, field.Invalid(p.Child("path"), r.Path, `must begin with "/"`))
	}
	errs = append(errs, validateEnum(p.Child("pathType"), r.PathType,
		networkingv1.PathTypeExact, networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific)...)
	if r.Port != "" && !slices.ContainsFunc(w.Ports, func(port Port) bool { return port.Name == r.Port }) {
		errs = append(errs, field.NotFound(p.Child("port"), r.Port))
	}
	if r.IngressClassName != "" {
		errs = append(errs, validateDNSSubdomain(p.Child("ingressClassName"), r.IngressClassName)...)
	}
	if r.TLSSecretName != "" {
		errs = append(errs, validateDNSSubdomain(p.Child("tlsSecretName"), r.TLSSecretName)...)
	}
	return append(errs, apivalidation.ValidateAnnotations(r.Annotations, p.Child("annotations"))...)
}

func validateHost(path *field.Path, host string) field.ErrorList {
	check := validation.IsDNS1123Subdomain
	if strings.HasPrefix(host, "*.") {
		check = validation.IsWildcardDNS1123Subdomain
	}
	var errs field.ErrorList
	for _, msg := range check(host) {
		errs = append(errs, field.Invalid(path, host, msg))
	}
	return errs
}

func validateEnvNames(path *field.Path, names []string) field.ErrorList {
	var errs field.ErrorList
	for _, name := range names {
		for _, msg := range validation.IsEnvVarName(name) {
			errs = append(errs, field.Invalid(path.Key(name), name, msg))
		}
	}
	return errs
}

func validateConfig(path *field.Path, c *ConfigProperties) field.ErrorList {
	if len(c.Mounts) == 0 {
		return field.ErrorList{field.Required(path.Child("mounts"), "")}
	}
	var errs field.ErrorList
	names := sets.New[string]()
	for i, m := range c.Mounts {
		p := path.Child("mounts").Index(i)
		errs = append(errs, validateVolumeName(p.Child("name"), m.Name, names)...)
		if len(m.Files) == 0 {
			errs = append(errs, field.Required(p.Child("files"), "file name to content"))
		}
		for _, f := range sortedKeys(m.Files) {
			for _, msg := range validation.IsConfigMapKey(f) {
				errs = append(errs, field.Invalid(p.Child("files").Key(f), f, msg))
			}
		}
	}
	return errs
}

func validateSecretRefs(path *field.Path, s *SecretRefProperties) field.ErrorList {
	if len(s.Secrets) == 0 {
		return field.ErrorList{field.Required(path.Child("secrets"), "")}
	}
	var errs field.ErrorList
	names := sets.New[string]()
	for i, ref := range s.Secrets {
		p := path.Child("secrets").Index(i)
		errs = append(errs, validateVolumeName(p.Child("name"), ref.Name, names)...)
		if !ref.EnvFrom && len(ref.Env) == 0 && ref.MountPath == "" {
			errs = append(errs, field.Required(p, "set envFrom, env and/or mountPath"))
		}
		if ref.EnvPrefix != "" && !ref.EnvFrom {
			errs = append(errs, field.Forbidden(p.Child("envPrefix"), "only with envFrom"))
		}
		errs = append(errs, validateEnvNames(p.Child("env"), sortedKeys(ref.Env))...)
		for _, name := range sortedKeys(ref.Env) {
			for _, msg := range validation.IsConfigMapKey(ref.Env[name]) {
				errs = append(errs, field.Invalid(p.Child("env").Key(name), ref.Env[name], "not a Secret key: "+msg))
			}
		}
	}
	return errs
}

func validateStorage(path *field.Path, s *StorageProperties) field.ErrorList {
	if len(s.Volumes) == 0 {
		return field.ErrorList{field.Required(path.Child("volumes"), "")}
	}
	var errs field.ErrorList
	names := sets.New[string]()
	for i, v := range s.Volumes {
		p := path.Child("volumes").Index(i)
		errs = append(errs, validateVolumeName(p.Child("name"), v.Name, names)...)
		for _, reserved := range []string{ConfigVolumeName(""), SecretVolumeName("")} {
			if strings.HasPrefix(v.Name, reserved) {
				errs = append(errs, field.Invalid(p.Child("name"), v.Name, "the prefix "+reserved+" is reserved for the config and secretRef traits' volumes"))
			}
		}
		errs = append(errs, validateVolumeSize(p.Child("size"), v)...)
		if v.EmptyDir && v.StorageClassName != nil {
			errs = append(errs, field.Forbidden(p.Child("storageClassName"), "not with emptyDir"))
		}
		if v.EmptyDir && len(v.AccessModes) > 0 {
			errs = append(errs, field.Forbidden(p.Child("accessModes"), "not with emptyDir"))
		}
		for j, m := range v.AccessModes {
			errs = append(errs, validateEnum(p.Child("accessModes").Index(j), m, corev1.ReadWriteOnce,
				corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod)...)
		}
	}
	return errs
}

func validateVolumeSize(path *field.Path, v StorageVolume) field.ErrorList {
	if v.Size == "" {
		if v.EmptyDir {
			return nil
		}
		return field.ErrorList{field.Required(path, "the claim's storage request, e.g. 10Gi")}
	}
	q, err := resource.ParseQuantity(string(v.Size))
	switch {
	case err != nil:
		return field.ErrorList{field.Invalid(path, v.Size, err.Error())}
	case q.Sign() <= 0:
		return field.ErrorList{field.Invalid(path, v.Size, "must be positive")}
	}
	return nil
}

// validateVolumeName checks the name of an entry of the config, secretRef or storage
// trait: a DNS-1123 label that stays one with the longest volume-name prefix, unique in
// names.
func validateVolumeName(path *field.Path, name string, names sets.Set[string]) field.ErrorList {
	errs := validateDNSLabel(path, name)
	if maxLen := dns1123LabelMaxLength - volumeNamePrefixLength; len(name) > maxLen {
		errs = append(errs, field.TooLong(path, name, maxLen))
	}
	if names.Has(name) {
		errs = append(errs, field.Duplicate(path, name))
	}
	names.Insert(name)
	return errs
}

func validateResources(path *field.Path, r *ResourcesProperties) field.ErrorList {
	if len(r.Requests) == 0 && len(r.Limits) == 0 {
		return field.ErrorList{field.Required(path, "set requests and/or limits")}
	}
	requests, errs := parseResources(path.Child("requests"), r.Requests)
	limits, limitErrs := parseResources(path.Child("limits"), r.Limits)
	errs = append(errs, limitErrs...)
	for _, name := range sortedKeys(requests) {
		request := requests[name]
		if limit, ok := limits[name]; ok && request.Cmp(limit) > 0 {
			errs = append(errs, field.Invalid(path.Child("requests").Key(string(name)), r.Requests[name],
				"must not exceed the limit "+string(r.Limits[name])))
		}
	}
	return errs
}

func parseResources(path *field.Path, in map[corev1.ResourceName]Quantity) (map[corev1.ResourceName]resource.Quantity, field.ErrorList) {
	var errs field.ErrorList
	out := map[corev1.ResourceName]resource.Quantity{}
	for _, name := range sortedKeys(in) {
		p := path.Key(string(name))
		for _, msg := range validation.IsQualifiedName(string(name)) {
			errs = append(errs, field.Invalid(p, name, msg))
		}
		q, err := resource.ParseQuantity(string(in[name]))
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(p, in[name], err.Error()))
		case q.Sign() < 0:
			errs = append(errs, field.Invalid(p, in[name], "must not be negative"))
		default:
			out[name] = q
		}
	}
	return out, errs
}

func validateProbes(path *field.Path, p *ProbesProperties, w *Workload) field.ErrorList {
	if p.Liveness == nil && p.Readiness == nil && p.Startup == nil {
		return field.ErrorList{field.Required(path, "set liveness, readiness and/or startup")}
	}
	var errs field.ErrorList
	for _, probe := range []struct {
		name  string
		probe *corev1.Probe
	}{{"liveness", p.Liveness}, {"readiness", p.Readiness}, {"startup", p.Startup}} {
		if probe.probe != nil {
			errs = append(errs, validateProbe(path.Child(probe.name), probe.probe, w.Ports)...)
		}
	}
	return errs
}

func validateProbe(path *field.Path, p *corev1.Probe, ports []Port) field.ErrorList {
	var handlers []string
	var port *intstr.IntOrString
	if p.Exec != nil {
		handlers = append(handlers, "exec")
	}
	if p.HTTPGet != nil {
		handlers, port = append(handlers, "httpGet"), &p.HTTPGet.Port
	}
	if p.TCPSocket != nil {
		handlers, port = append(handlers, "tcpSocket"), &p.TCPSocket.Port
	}
	if p.GRPC != nil {
		handlers = append(handlers, "grpc")
		errs := validatePortNumber(path.Child("grpc", "port"), p.GRPC.Port)
		if len(errs) > 0 {
			return errs
		}
	}
	if len(handlers) != 1 {
		return field.ErrorList{field.Invalid(path, handlers, "set exactly one of exec, httpGet, tcpSocket and grpc")}
	}
	if port == nil {
		return nil
	}
	p0 := path.Child(handlers[0], "port")
	if port.Type == intstr.String {
		if !slices.ContainsFunc(ports, func(pp Port) bool { return pp.Name == port.StrVal }) {
			return field.ErrorList{field.NotFound(p0, port.StrVal)}
		}
		return nil
	}
	return validatePortNumber(p0, port.IntVal)
}

func validateSidecars(path *field.Path, s *SidecarProperties, d *DecodedComponent) field.ErrorList {
	if len(s.Containers) == 0 {
		return field.ErrorList{field.Required(path.Child("containers"), "")}
	}
	var errs field.ErrorList
	names := sets.New(d.Name)
	volumes := sets.New(volumeNames(d)...)
	for i, c := range s.Containers {
		p := path.Child("containers").Index(i)
		errs = append(errs, validateDNSLabel(p.Child("name"), c.Name)...)
		if names.Has(c.Name) {
			errs = append(errs, field.Duplicate(p.Child("name"), c.Name+" (the main container is named after the component)"))
		}
		names.Insert(c.Name)
		if c.Image == "" {
			errs = append(errs, field.Required(p.Child("image"), ""))
		}
		for j, m := range c.VolumeMounts {
			if !volumes.Has(m.Name) {
				errs = append(errs, field.NotFound(p.Child("volumeMounts").Index(j).Child("name"), m.Name))
			}
		}
	}
	return errs
}

func validateLabels(path *field.Path, labels map[string]string) field.ErrorList {
	errs := metav1validation.ValidateLabels(labels, path)
	for _, k := range sortedKeys(labels) {
		if slices.Contains(ReservedLabels, k) {
			errs = append(errs, field.Forbidden(path.Key(k), "set by vcapp"))
		}
	}
	return errs
}

// volumeNames returns the names of the pod volumes the traits of d add, in order.
func volumeNames(d *DecodedComponent) []string {
	var names []string
	if c, ok := d.Traits[ConfigTrait].(*ConfigProperties); ok {
		for _, m := range c.Mounts {
			names = append(names, ConfigVolumeName(m.Name))
		}
	}
	if s, ok := d.Traits[SecretRefTrait].(*SecretRefProperties); ok {
		for _, ref := range s.Secrets {
			names = append(names, SecretVolumeName(ref.Name))
		}
	}
	if s, ok := d.Traits[StorageTrait].(*StorageProperties); ok {
		for _, v := range s.Volumes {
			names = append(names, v.Name)
		}
	}
	return names
}

// validateMountPaths checks that the main container's mount paths are absolute and
// unique across the config, secretRef and storage traits.
func validateMountPaths(tpath *field.Path, d *DecodedComponent) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]string{}
	check := func(p *field.Path, mountPath string) {
		switch prev, dup := seen[path.Clean(mountPath)]; {
		case mountPath == "":
			errs = append(errs, field.Required(p, ""))
		case !path.IsAbs(mountPath):
			errs = append(errs, field.Invalid(p, mountPath, "must be an absolute path"))
		case dup:
			errs = append(errs, field.Duplicate(p, mountPath+" (also "+prev+")"))
		default:
			seen[path.Clean(mountPath)] = p.String()
		}
	}
	for i, t := range d.Component.Traits {
		p := tpath.Index(i).Child("properties")
		if d.Traits[t.Type] == nil || slices.IndexFunc(d.Component.Traits, func(u Trait) bool { return u.Type == t.Type }) != i {
			continue // not decoded, or a duplicate
		}
		switch props := d.Traits[t.Type].(type) {
		case *ConfigProperties:
			for j, m := range props.Mounts {
				check(p.Child("mounts").Index(j).Child("mountPath"), m.MountPath)
			}
		case *SecretRefProperties:
			for j, ref := range props.Secrets {
				if ref.MountPath != "" {
					check(p.Child("secrets").Index(j).Child("mountPath"), ref.MountPath)
				}
			}
		case *StorageProperties:
			for j, v := range props.Volumes {
				check(p.Child("volumes").Index(j).Child("mountPath"), v.MountPath)
			}
		}
	}
	return errs
}
