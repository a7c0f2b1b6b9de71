package model

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

// validateComponent checks a decoded component's properties and traits, and what they
// need from each other.
func validateComponent(path *field.Path, d *DecodedComponent) field.ErrorList {
	props := path.Child("properties")
	var errs field.ErrorList
	if w := d.Workload(); w != nil {
		errs = append(errs, validateWorkload(props, w)...)
	}
	switch p := d.Properties.(type) {
	case *ServiceProperties:
		errs = append(errs, validateService(props, p)...)
	case *JobProperties:
		errs = append(errs, validateJobSettings(props, &p.JobSettings)...)
	case *CronJobProperties:
		errs = append(errs, validateJobSettings(props, &p.JobSettings)...)
		errs = append(errs, validateCronJob(props, p)...)
	case *ManifestsProperties:
		errs = append(errs, validateManifests(props.Child("objects"), p.Objects)...)
	}
	return append(errs, validateTraits(path.Child("traits"), d)...)
}

func validateWorkload(path *field.Path, w *Workload) field.ErrorList {
	var errs field.ErrorList
	switch {
	case w.Image == "":
		errs = append(errs, field.Required(path.Child("image"), ""))
	case strings.TrimSpace(w.Image) != w.Image || strings.ContainsAny(w.Image, " \t\n"):
		errs = append(errs, field.Invalid(path.Child("image"), w.Image, "must not contain whitespace"))
	}
	errs = append(errs, validateEnum(path.Child("imagePullPolicy"), w.ImagePullPolicy,
		corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever)...)
	errs = append(errs, validatePorts(path.Child("ports"), w.Ports)...)
	if w.ServiceAccountName != "" {
		errs = append(errs, validateDNSSubdomain(path.Child("serviceAccountName"), w.ServiceAccountName)...)
	}
	return errs
}

func validatePorts(path *field.Path, ports []Port) field.ErrorList {
	var errs field.ErrorList
	names, numbers := sets.New[string](), sets.New[string]()
	for i, port := range ports {
		p := path.Index(i)
		if port.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), "routes and probes refer to ports by name"))
		}
		for _, msg := range validation.IsValidPortName(port.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), port.Name, msg))
		}
		if names.Has(port.Name) {
			errs = append(errs, field.Duplicate(p.Child("name"), port.Name))
		}
		names.Insert(port.Name)
		errs = append(errs, validatePortNumber(p.Child("port"), port.Port)...)
		if port.ServicePort != 0 {
			errs = append(errs, validatePortNumber(p.Child("servicePort"), port.ServicePort)...)
		}
		errs = append(errs, validateEnum(p.Child("protocol"), port.Protocol, corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP)...)
		key := fmt.Sprintf("%d/%s", port.Port, port.Protocol)
		if numbers.Has(key) {
			errs = append(errs, field.Duplicate(p.Child("port"), port.Port))
		}
		numbers.Insert(key)
	}
	return errs
}

func validatePortNumber(path *field.Path, port int32) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsValidPortNum(int(port)) {
		errs = append(errs, field.Invalid(path, port, msg))
	}
	return errs
}

func validateService(path *field.Path, p *ServiceProperties) field.ErrorList {
	var errs field.ErrorList
	if len(p.Ports) == 0 {
		errs = append(errs, field.Required(path.Child("ports"), "a service exposes at least one port"))
	}
	return append(errs, validateEnum(path.Child("serviceType"), p.ServiceType,
		corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer)...)
}

func validateJobSettings(path *field.Path, j *JobSettings) field.ErrorList {
	errs := validateEnum(path.Child("restartPolicy"), j.RestartPolicy, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever)
	errs = append(errs, validateMin(path.Child("backoffLimit"), j.BackoffLimit, 0)...)
	errs = append(errs, validateMin(path.Child("completions"), j.Completions, 0)...)
	errs = append(errs, validateMin(path.Child("parallelism"), j.Parallelism, 0)...)
	errs = append(errs, validateMin(path.Child("activeDeadlineSeconds"), j.ActiveDeadlineSeconds, 1)...)
	return append(errs, validateMin(path.Child("ttlSecondsAfterFinished"), j.TTLSecondsAfterFinished, 0)...)
}

func validateCronJob(path *field.Path, p *CronJobProperties) field.ErrorList {
	var errs field.ErrorList
	switch _, err := cron.ParseStandard(p.Schedule); {
	case p.Schedule == "":
		errs = append(errs, field.Required(path.Child("schedule"), `a cron schedule such as "*/15 * * * *" or "@daily"`))
	case strings.Contains(p.Schedule, "TZ"):
		errs = append(errs, field.Invalid(path.Child("schedule"), p.Schedule, "set the time zone with timeZone, not in the schedule"))
	case err != nil:
		errs = append(errs, field.Invalid(path.Child("schedule"), p.Schedule, err.Error()))
	}
	return append(errs, validateEnum(path.Child("concurrencyPolicy"), p.ConcurrencyPolicy,
		batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent)...)
}

func validateManifests(path *field.Path, objects []map[string]any) field.ErrorList {
	if len(objects) == 0 {
		return field.ErrorList{field.Required(path, "a manifests component has at least one object")}
	}
	var errs field.ErrorList
	seen := map[string]int{}
	for i, obj := range objects {
		p := path.Index(i)
		apiVersion, _ := obj["apiVersion"].(string)
		kind, _ := obj["kind"].(string)
		meta, _ := obj["metadata"].(map[string]any)
		name, _ := meta["name"].(string)
		namespace, _ := meta["namespace"].(string)
		if apiVersion == "" {
			errs = append(errs, field.Required(p.Child("apiVersion"), ""))
		}
		if kind == "" {
			errs = append(errs, field.Required(p.Child("kind"), ""))
		}
		if name == "" {
			errs = append(errs, field.Required(p.Child("metadata", "name"), "objects are applied by name"))
		}
		if _, set := meta["namespace"]; set {
			errs = append(errs, validateDNSLabel(p.Child("metadata", "namespace"), namespace)...)
		}
		errs = append(errs, validateBuiltinObject(p, obj, apiVersion, kind)...)
		key := strings.Join([]string{apiVersion, kind, namespace, name}, "/")
		if j, dup := seen[key]; dup {
			errs = append(errs, field.Duplicate(p, fmt.Sprintf("%s %s (also objects[%d])", kind, name, j)))
		}
		seen[key] = i
	}
	return errs
}

func validateEnum[T ~string](path *field.Path, v T, allowed ...T) field.ErrorList {
	if v == "" {
		return nil
	}
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(path, v, allowed)}
}

func validateMin[T int32 | int64](path *field.Path, v *T, minimum T) field.ErrorList {
	if v == nil || *v >= minimum {
		return nil
	}
	return field.ErrorList{field.Invalid(path, *v, fmt.Sprintf("must be at least %d", minimum))}
}

func validateDNSSubdomain(path *field.Path, name string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(name) {
		errs = append(errs, field.Invalid(path, name, msg))
	}
	return errs
}

// validateBuiltinObject decodes a raw object of a built-in kind strictly into its Go
// type, so that a misspelt field of a Deployment is found offline, not at deploy time.
// Other kinds (custom resources) are left to the target cluster.
func validateBuiltinObject(path *field.Path, obj map[string]any, apiVersion, kind string) field.ErrorList {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil || kind == "" {
		return nil
	}
	typed, err := clientgoscheme.Scheme.New(gv.WithKind(kind))
	if err != nil {
		return nil
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return field.ErrorList{field.Invalid(path, field.OmitValueType{}, err.Error())}
	}
	return DecodeStrict(data, typed, path)
}
