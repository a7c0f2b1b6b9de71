package model

import (
	"reflect"
	"slices"
	"strings"
)

// ComponentType names what a component renders to and the schema of its properties.
type ComponentType string

// The component types.
const (
	// ServiceComponent is a long-running workload reachable over the network:
	// a Deployment and a Service.
	ServiceComponent ComponentType = "service"
	// WorkerComponent is a long-running workload nobody connects to: a Deployment.
	WorkerComponent ComponentType = "worker"
	// StatefulSetComponent is a workload with stable identity and per-replica storage:
	// a StatefulSet and its headless Service.
	StatefulSetComponent ComponentType = "statefulset"
	// DaemonComponent runs one pod per node: a DaemonSet.
	DaemonComponent ComponentType = "daemon"
	// JobComponent runs to completion once: a Job.
	JobComponent ComponentType = "job"
	// CronJobComponent runs to completion on a schedule: a CronJob.
	CronJobComponent ComponentType = "cronjob"
	// ManifestsComponent is a list of raw Kubernetes objects.
	ManifestsComponent ComponentType = "manifests"
)

// TraitType names an operational behaviour attached to a component.
type TraitType string

// The trait types.
const (
	// ScaleTrait sets a fixed number of replicas.
	ScaleTrait TraitType = "scale"
	// AutoscaleTrait adds a HorizontalPodAutoscaler (autoscaling/v2).
	AutoscaleTrait TraitType = "autoscale"
	// RouteTrait adds an Ingress (networking.k8s.io/v1) to one of the Service's ports.
	RouteTrait TraitType = "route"
	// EnvTrait sets environment variables of the main container.
	EnvTrait TraitType = "env"
	// ConfigTrait mounts files from ConfigMaps it creates; their names carry a hash of
	// the content, so a change rolls the pods.
	ConfigTrait TraitType = "config"
	// SecretRefTrait exposes existing Secrets as environment variables or files.
	SecretRefTrait TraitType = "secretRef"
	// StorageTrait mounts PersistentVolumeClaims (volumeClaimTemplates on a
	// statefulset) or emptyDir volumes.
	StorageTrait TraitType = "storage"
	// ResourcesTrait sets the main container's resource requests and limits.
	ResourcesTrait TraitType = "resources"
	// ProbesTrait sets the main container's liveness, readiness and startup probes.
	ProbesTrait TraitType = "probes"
	// SidecarTrait adds containers that run beside the main one (native sidecars).
	SidecarTrait TraitType = "sidecar"
	// LabelsTrait adds labels to every object of the component and to its pods.
	LabelsTrait TraitType = "labels"
	// AnnotationsTrait adds annotations to every object of the component and to its pods.
	AnnotationsTrait TraitType = "annotations"
)

type componentInfo struct {
	newProperties func() any
	// rendersService is true when the component's name also names a Service, which
	// must be a DNS-1035 label.
	rendersService bool
	// maxNameLength is the longest name that still yields valid object names.
	maxNameLength int
}

type traitInfo struct {
	newProperties func() any
	// on lists the component types the trait applies to.
	on []ComponentType
	// conflicts lists the traits a component may not have together with this one.
	conflicts []TraitType
}

// dns1123LabelMaxLength is the longest DNS-1123 label.
const dns1123LabelMaxLength = 63

// cronJobNameMaxLength is the longest CronJob name the API server accepts: it appends
// an 11-character suffix to name the Jobs.
const cronJobNameMaxLength = 52

var componentTypes = map[ComponentType]componentInfo{
	ServiceComponent:     {newProperties: func() any { return &ServiceProperties{} }, rendersService: true, maxNameLength: dns1123LabelMaxLength},
	WorkerComponent:      {newProperties: func() any { return &WorkerProperties{} }, maxNameLength: dns1123LabelMaxLength},
	StatefulSetComponent: {newProperties: func() any { return &StatefulSetProperties{} }, rendersService: true, maxNameLength: dns1123LabelMaxLength},
	DaemonComponent:      {newProperties: func() any { return &DaemonProperties{} }, maxNameLength: dns1123LabelMaxLength},
	JobComponent:         {newProperties: func() any { return &JobProperties{} }, maxNameLength: dns1123LabelMaxLength},
	CronJobComponent:     {newProperties: func() any { return &CronJobProperties{} }, maxNameLength: cronJobNameMaxLength},
	ManifestsComponent:   {newProperties: func() any { return &ManifestsProperties{} }, maxNameLength: dns1123LabelMaxLength},
}

var (
	workloadTypes = []ComponentType{ServiceComponent, WorkerComponent, StatefulSetComponent, DaemonComponent, JobComponent, CronJobComponent}
	replicated    = []ComponentType{ServiceComponent, WorkerComponent, StatefulSetComponent}
	allTypes      = append(slices.Clone(workloadTypes), ManifestsComponent)
)

var traitTypes = map[TraitType]traitInfo{
	ScaleTrait:       {newProperties: func() any { return &ScaleProperties{} }, on: replicated, conflicts: []TraitType{AutoscaleTrait}},
	AutoscaleTrait:   {newProperties: func() any { return &AutoscaleProperties{} }, on: replicated, conflicts: []TraitType{ScaleTrait}},
	RouteTrait:       {newProperties: func() any { return &RouteProperties{} }, on: []ComponentType{ServiceComponent}},
	EnvTrait:         {newProperties: func() any { return &EnvProperties{} }, on: workloadTypes},
	ConfigTrait:      {newProperties: func() any { return &ConfigProperties{} }, on: workloadTypes},
	SecretRefTrait:   {newProperties: func() any { return &SecretRefProperties{} }, on: workloadTypes},
	StorageTrait:     {newProperties: func() any { return &StorageProperties{} }, on: workloadTypes},
	ResourcesTrait:   {newProperties: func() any { return &ResourcesProperties{} }, on: workloadTypes},
	ProbesTrait:      {newProperties: func() any { return &ProbesProperties{} }, on: workloadTypes},
	SidecarTrait:     {newProperties: func() any { return &SidecarProperties{} }, on: workloadTypes},
	LabelsTrait:      {newProperties: func() any { return &LabelsProperties{} }, on: allTypes},
	AnnotationsTrait: {newProperties: func() any { return &AnnotationsProperties{} }, on: allTypes},
}

// ComponentTypes returns every component type, sorted.
func ComponentTypes() []ComponentType { return sortedKeys(componentTypes) }

// TraitTypes returns every trait type, sorted.
func TraitTypes() []TraitType { return sortedKeys(traitTypes) }

// Known reports whether t is a component type.
func (t ComponentType) Known() bool {
	_, ok := componentTypes[t]
	return ok
}

// IsWorkload reports whether t renders pods (every type but manifests).
func (t ComponentType) IsWorkload() bool { return slices.Contains(workloadTypes, t) }

// HasProperty reports whether the properties of t have a field named name (its JSON name).
func (t ComponentType) HasProperty(name string) bool {
	info, ok := componentTypes[t]
	return ok && slices.Contains(jsonFields(reflect.TypeOf(info.newProperties())), name)
}

// Known reports whether t is a trait type.
func (t TraitType) Known() bool {
	_, ok := traitTypes[t]
	return ok
}

// AllowedOn reports whether a component of type c may have trait t.
func (t TraitType) AllowedOn(c ComponentType) bool {
	return slices.Contains(traitTypes[t].on, c)
}

// ConflictsWith reports whether a component may not have both t and u.
func (t TraitType) ConflictsWith(u TraitType) bool {
	return slices.Contains(traitTypes[t].conflicts, u)
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// jsonFields returns the JSON names of the fields of the struct t points to, including
// those of embedded structs, sorted. It returns nil for anything but a struct.
func jsonFields(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case f.Anonymous && name == "":
			names = append(names, jsonFields(f.Type)...)
		case name == "":
			names = append(names, f.Name)
		default:
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
