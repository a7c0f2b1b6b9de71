package model

import (
	"encoding/json"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// Workload holds the properties every workload type has: its main container (named
// after the component) and a few pod-level settings.
type Workload struct {
	// Image of the main container. Required.
	Image           string            `json:"image,omitempty"`
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`
	Command         []string          `json:"command,omitempty"`
	Args            []string          `json:"args,omitempty"`
	// Ports the main container listens on. A service exposes all of them.
	Ports              []Port `json:"ports,omitempty"`
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
}

// WorkloadSpec returns w; through embedding, it gives the Workload of every workload
// type's properties.
func (w *Workload) WorkloadSpec() *Workload { return w }

// WorkloadProperties is implemented by the properties of every workload type.
type WorkloadProperties interface {
	WorkloadSpec() *Workload
}

// Port is a port the main container listens on.
type Port struct {
	// Name is an IANA service name (at most 15 characters); routes and probes use it.
	Name string `json:"name"`
	Port int32  `json:"port"`
	// ServicePort is the port of the Service; 0 means Port.
	ServicePort int32 `json:"servicePort,omitempty"`
	// Protocol is TCP (the default), UDP or SCTP.
	Protocol corev1.Protocol `json:"protocol,omitempty"`
}

// ServiceProperties are the properties of a service component.
type ServiceProperties struct {
	Workload `json:",inline"`
	// ServiceType is ClusterIP (the default), NodePort or LoadBalancer.
	ServiceType corev1.ServiceType `json:"serviceType,omitempty"`
}

// WorkerProperties are the properties of a worker component.
type WorkerProperties struct {
	Workload `json:",inline"`
}

// StatefulSetProperties are the properties of a statefulset component.
type StatefulSetProperties struct {
	Workload `json:",inline"`
}

// DaemonProperties are the properties of a daemon component.
type DaemonProperties struct {
	Workload `json:",inline"`
}

// JobSettings are the run-to-completion settings of job and cronjob components.
type JobSettings struct {
	// RestartPolicy is OnFailure (the default) or Never.
	RestartPolicy           corev1.RestartPolicy `json:"restartPolicy,omitempty"`
	BackoffLimit            *int32               `json:"backoffLimit,omitempty"`
	Completions             *int32               `json:"completions,omitempty"`
	Parallelism             *int32               `json:"parallelism,omitempty"`
	ActiveDeadlineSeconds   *int64               `json:"activeDeadlineSeconds,omitempty"`
	TTLSecondsAfterFinished *int32               `json:"ttlSecondsAfterFinished,omitempty"`
}

// JobProperties are the properties of a job component.
type JobProperties struct {
	Workload    `json:",inline"`
	JobSettings `json:",inline"`
}

// CronJobProperties are the properties of a cronjob component.
type CronJobProperties struct {
	Workload    `json:",inline"`
	JobSettings `json:",inline"`
	// Schedule in cron format ("*/5 * * * *" or "@hourly"). Required.
	Schedule string `json:"schedule,omitempty"`
	// TimeZone is an IANA time zone name; empty means the controller manager's.
	TimeZone          string                    `json:"timeZone,omitempty"`
	ConcurrencyPolicy batchv1.ConcurrencyPolicy `json:"concurrencyPolicy,omitempty"`
	Suspend           *bool                     `json:"suspend,omitempty"`
}

// ManifestsProperties are the properties of a manifests component.
type ManifestsProperties struct {
	// Objects are Kubernetes objects rendered as they are, but for the namespace of
	// namespaced objects (defaulted to the Application's) and labels: vcapp sets the
	// instance, component and managed-by labels, and adds the others where the object
	// does not set them.
	Objects []map[string]any `json:"objects,omitempty"`
}

// ScaleProperties are the properties of the scale trait.
type ScaleProperties struct {
	// Replicas is required.
	Replicas *int32 `json:"replicas,omitempty"`
}

// AutoscaleProperties are the properties of the autoscale trait. At least one target
// utilization is required, and the resources trait must request that resource.
type AutoscaleProperties struct {
	// MinReplicas defaults to 1.
	MinReplicas *int32 `json:"minReplicas,omitempty"`
	MaxReplicas int32  `json:"maxReplicas,omitempty"`
	// CPUUtilization is the target average CPU use, in percent of the request.
	CPUUtilization *int32 `json:"cpuUtilization,omitempty"`
	// MemoryUtilization is the target average memory use, in percent of the request.
	MemoryUtilization *int32 `json:"memoryUtilization,omitempty"`
}

// RouteProperties are the properties of the route trait.
type RouteProperties struct {
	// Host is required; a leading "*." makes it a wildcard.
	Host string `json:"host,omitempty"`
	// Path defaults to "/".
	Path string `json:"path,omitempty"`
	// PathType defaults to Prefix.
	PathType networkingv1.PathType `json:"pathType,omitempty"`
	// Port names the port routed to; empty means the component's first port.
	Port             string `json:"port,omitempty"`
	IngressClassName string `json:"ingressClassName,omitempty"`
	// TLSSecretName names a Secret holding the host's certificate; empty means no TLS.
	TLSSecretName string `json:"tlsSecretName,omitempty"`
	// Annotations are added to the Ingress only (ingress-controller settings).
	Annotations map[string]string `json:"annotations,omitempty"`
}

// EnvProperties are the properties of the env trait: variable name to value.
type EnvProperties map[string]string

// ConfigProperties are the properties of the config trait.
type ConfigProperties struct {
	Mounts []ConfigMount `json:"mounts,omitempty"`
}

// ConfigMount is a set of files mounted into the main container from a ConfigMap named
// <component>-<name>-<hash of the files>.
type ConfigMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	// Files maps a file name to its content.
	Files map[string]string `json:"files"`
}

// SecretRefProperties are the properties of the secretRef trait.
type SecretRefProperties struct {
	Secrets []SecretRef `json:"secrets,omitempty"`
}

// SecretRef exposes an existing Secret of the namespace to the main container in one or
// more ways: all keys as variables (EnvFrom), some keys as variables (Env), or all keys
// as files (MountPath).
type SecretRef struct {
	// Name of the Secret; a DNS-1123 label, since it also names the volume.
	Name      string `json:"name"`
	EnvFrom   bool   `json:"envFrom,omitempty"`
	EnvPrefix string `json:"envPrefix,omitempty"`
	// Env maps a variable name to a key of the Secret.
	Env       map[string]string `json:"env,omitempty"`
	MountPath string            `json:"mountPath,omitempty"`
}

// StorageProperties are the properties of the storage trait.
type StorageProperties struct {
	Volumes []StorageVolume `json:"volumes,omitempty"`
}

// StorageVolume is a volume mounted into the main container (and, by name, into
// sidecars). It is a PersistentVolumeClaim named <component>-<name>, or on a statefulset
// a volumeClaimTemplate named <name>; with EmptyDir, an emptyDir volume.
type StorageVolume struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	// Size is the claim's storage request (required for a claim), or the emptyDir's
	// size limit.
	Size             Quantity                            `json:"size,omitempty"`
	StorageClassName *string                             `json:"storageClassName,omitempty"`
	AccessModes      []corev1.PersistentVolumeAccessMode `json:"accessModes,omitempty"`
	EmptyDir         bool                                `json:"emptyDir,omitempty"`
	ReadOnly         bool                                `json:"readOnly,omitempty"`
}

// ResourcesProperties are the properties of the resources trait: quantities by
// resource name (cpu, memory, ephemeral-storage, example.com/gpu, ...).
type ResourcesProperties struct {
	Requests map[corev1.ResourceName]Quantity `json:"requests,omitempty"`
	Limits   map[corev1.ResourceName]Quantity `json:"limits,omitempty"`
}

// ProbesProperties are the properties of the probes trait, each a Kubernetes probe.
type ProbesProperties struct {
	Liveness  *corev1.Probe `json:"liveness,omitempty"`
	Readiness *corev1.Probe `json:"readiness,omitempty"`
	Startup   *corev1.Probe `json:"startup,omitempty"`
}

// SidecarProperties are the properties of the sidecar trait.
type SidecarProperties struct {
	// Containers are Kubernetes containers, rendered as native sidecars (init containers
	// with restartPolicy Always): they start before the main container, stop after it,
	// and do not keep a Job from completing. Their volumeMounts may name the
	// component's volumes.
	Containers []corev1.Container `json:"containers,omitempty"`
}

// Quantity is a resource quantity as written, "512Mi" or "0.5"; a number (cpu: 2) is
// taken as its decimal text, as Kubernetes does.
type Quantity string

// UnmarshalJSON accepts a string or a number.
func (q *Quantity) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*q = Quantity(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("a quantity is a string or a number, not %s", b)
	}
	*q = Quantity(n.String())
	return nil
}

// LabelsProperties are the properties of the labels trait.
type LabelsProperties map[string]string

// AnnotationsProperties are the properties of the annotations trait.
type AnnotationsProperties map[string]string
