package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// VirtualCluster is one tenant: a Kubernetes API of its own whose workloads run in the
// super cluster under the isolation this object describes.
//
// The name becomes part of super-cluster names and labels, so it must be a DNS-1123 label
// of at most 40 characters that starts with a letter.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=vc,categories=vcp
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Endpoint",type=string,JSONPath=`.status.endpoint`,priority=1
// +kubebuilder:printcolumn:name="Runtime",type=string,JSONPath=`.spec.isolation.runtimeClassName`
// +kubebuilder:printcolumn:name="Pool",type=string,JSONPath=`.spec.isolation.nodePool.name`
// +kubebuilder:printcolumn:name="Host",type=string,JSONPath=`.status.host`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 40",message="metadata.name must be at most 40 characters: it is part of every super-cluster name made for the tenant"
// +kubebuilder:validation:XValidation:rule="self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must be a DNS-1123 label that starts with a letter (a-z, 0-9 and '-')"
type VirtualCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is what the platform admin asks for.
	// +optional
	// +kubebuilder:default={}
	Spec VirtualClusterSpec `json:"spec,omitempty"`

	// Status is what the vc-manager observed.
	// +optional
	Status VirtualClusterStatus `json:"status,omitempty"`
}

// VirtualClusterSpec describes a tenant's control plane, data, isolation and sync.
type VirtualClusterSpec struct {
	// KubernetesAPI configures the tenant's API server.
	// +optional
	KubernetesAPI KubernetesAPISpec `json:"kubernetesAPI,omitempty"`

	// Datastore says where the tenant's objects are stored. It cannot change after creation.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.datastore is immutable: moving a tenant's data to another datastore is not supported"
	// +kubebuilder:default={}
	Datastore DatastoreSpec `json:"datastore,omitempty"`

	// Isolation is how the tenant's workloads are kept apart from other tenants' in the
	// super cluster.
	// +optional
	// +kubebuilder:default={}
	Isolation IsolationSpec `json:"isolation,omitempty"`

	// Sync tunes how the syncer treats the tenant.
	// +optional
	// +kubebuilder:default={}
	Sync SyncSpec `json:"sync,omitempty"`

	// Paused stops the tenant's control plane and its workloads in the super cluster while
	// keeping all its data. Setting it back to false brings both back.
	// +optional
	Paused bool `json:"paused,omitempty"`
}

// KubernetesAPISpec configures the tenant's API server.
type KubernetesAPISpec struct {
	// Version is the Kubernetes version the tenant asked for, such as v1.36. It is
	// informational: every tenant is served by the platform's Kubernetes line.
	// +optional
	// +kubebuilder:validation:Pattern=`^v1\.[0-9]+(\.[0-9]+)?$`
	// +kubebuilder:validation:MaxLength=16
	Version string `json:"version,omitempty"`

	// DedicatedHost asks for a tenant-apiserver host process of the tenant's own instead of
	// a shared one, for strict isolation.
	// +optional
	DedicatedHost bool `json:"dedicatedHost,omitempty"`

	// DisabledAPIs lists group/versions the tenant's API server does not serve, such as
	// "batch/v1beta1" or "flowcontrol.apiserver.k8s.io/v1" ("v1" alone means the core group).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:Pattern=`^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?v[0-9]+((alpha|beta)[0-9]+)?$`
	// +kubebuilder:validation:items:MaxLength=253
	DisabledAPIs []string `json:"disabledAPIs,omitempty"`

	// ExtraSANs are additional DNS names or IPs the tenant's serving certificate is valid for.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9.:]*[a-z0-9])?$`
	ExtraSANs []string `json:"extraSANs,omitempty"`
}

// DatastoreType selects where a tenant's objects live.
// +kubebuilder:validation:Enum=Shared;External
type DatastoreType string

const (
	// DatastoreShared stores the tenant in the platform's shared etcd under its own key prefix.
	DatastoreShared DatastoreType = "Shared"
	// DatastoreExternal stores the tenant in an etcd cluster the admin names.
	DatastoreExternal DatastoreType = "External"
)

// DatastoreSpec says where the tenant's objects are stored.
// +kubebuilder:validation:XValidation:rule="!has(self.type) || self.type != 'External' || has(self.external)",message="spec.datastore.external is required when spec.datastore.type is External"
// +kubebuilder:validation:XValidation:rule="!has(self.external) || (has(self.type) && self.type == 'External')",message="spec.datastore.external may only be set when spec.datastore.type is External"
type DatastoreSpec struct {
	// Type is Shared (the platform's etcd, the default) or External.
	// +optional
	// +kubebuilder:default=Shared
	Type DatastoreType `json:"type,omitempty"`

	// KeyPrefix is the etcd key prefix of the tenant. Empty means /vcp/<uid>/, keyed by the
	// VirtualCluster's UID so that a re-created tenant never sees old data. It must start
	// and end with "/" so that one tenant's prefix is never a prefix of another's.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^/([a-z0-9][-a-z0-9._]*/)+$`
	KeyPrefix string `json:"keyPrefix,omitempty"`

	// External names an etcd cluster of the admin's. Only with type External.
	// +optional
	External *ExternalDatastore `json:"external,omitempty"`
}

// ExternalDatastore is an etcd cluster outside the platform.
type ExternalDatastore struct {
	// Endpoints are the etcd client URLs, such as https://etcd-0.etcd:2379.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=9
	// +listType=set
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.all(e, e.matches('^https?://[^/?#@ ]+$'))",message="spec.datastore.external.endpoints: each endpoint must be an http:// or https:// URL with a host and port and no path"
	Endpoints []string `json:"endpoints"`

	// TLSSecretRef names a Secret in the VirtualCluster's namespace holding ca.crt, tls.crt
	// and tls.key for the etcd client connection.
	// +optional
	TLSSecretRef *corev1.LocalObjectReference `json:"tlsSecretRef,omitempty"`
}

// IsolationSpec keeps the tenant's workloads apart from other tenants'.
type IsolationSpec struct {
	// RuntimeClassName is the sandbox runtime every tenant pod is forced onto, such as
	// gvisor or kata. Empty means the node's default runtime.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	RuntimeClassName string `json:"runtimeClassName,omitempty"`

	// NodePool is the set of super nodes the tenant's pods may run on.
	// +optional
	NodePool NodePoolSpec `json:"nodePool,omitempty"`

	// Network is the tenant's network isolation.
	// +optional
	// +kubebuilder:default={}
	Network NetworkSpec `json:"network,omitempty"`

	// ResourceQuota is applied to each of the tenant's namespaces in the super cluster.
	// +optional
	ResourceQuota *ResourceQuotaSpec `json:"resourceQuota,omitempty"`

	// LimitRange is applied to each of the tenant's namespaces in the super cluster.
	// +optional
	LimitRange *LimitRangeSpec `json:"limitRange,omitempty"`

	// PodSecurity is the Pod Security Standard level enforced on the tenant's pods.
	// +optional
	// +kubebuilder:default={}
	PodSecurity PodSecuritySpec `json:"podSecurity,omitempty"`

	// Allowed lists what the tenant may use from the super cluster.
	// +optional
	// +kubebuilder:default={}
	Allowed AllowedSpec `json:"allowed,omitempty"`
}

// NodePoolSpec selects the super nodes of a tenant.
type NodePoolSpec struct {
	// Name is the node pool: nodes labelled vcp.dev/node-pool=<name>. The syncer adds that
	// label to the pods' nodeSelector and tolerates the pool's taint
	// vcp.dev/node-pool=<name>:NoSchedule.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name,omitempty"`

	// NodeSelector is merged into every tenant pod's nodeSelector.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.size() <= 317 && k.matches('^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$'))",message="spec.isolation.nodePool.nodeSelector: keys must be label keys ([prefix/]name)"
	NodeSelector map[string]LabelValue `json:"nodeSelector,omitempty"`

	// Tolerations are added to every tenant pod.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
}

// LabelValue is the value of a Kubernetes label: at most 63 characters of A-Z, a-z, 0-9,
// '-', '_' and '.', starting and ending with an alphanumeric character.
// +kubebuilder:validation:MaxLength=63
// +kubebuilder:validation:Pattern=`^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$`
type LabelValue string

// NetworkMode is how a tenant's pods may talk to other tenants.
// +kubebuilder:validation:Enum=VPC;Open
type NetworkMode string

const (
	// NetworkVPC denies traffic between tenants unless explicitly allowed.
	NetworkVPC NetworkMode = "VPC"
	// NetworkOpen applies no network isolation.
	NetworkOpen NetworkMode = "Open"
)

// NetworkSpec is the tenant's network isolation.
type NetworkSpec struct {
	// Mode is VPC (default: nothing crosses tenants unless allowed) or Open.
	// +optional
	// +kubebuilder:default=VPC
	Mode NetworkMode `json:"mode,omitempty"`

	// AllowedEgressCIDRs are destinations outside the cluster the tenant's pods may reach.
	// Without any, VPC mode allows only the tenant's own pods and cluster DNS.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:XValidation:rule="self.all(c, isCIDR(c))",message="spec.isolation.network.allowedEgressCIDRs: each entry must be a CIDR such as 10.0.0.0/8 or 2001:db8::/32"
	AllowedEgressCIDRs []string `json:"allowedEgressCIDRs,omitempty"`

	// AllowedTenants names VirtualClusters in the same namespace whose pods may reach this
	// tenant's pods.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=40
	// +kubebuilder:validation:items:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	AllowedTenants []string `json:"allowedTenants,omitempty"`
}

// ResourceQuotaSpec is the quota of each of the tenant's namespaces.
type ResourceQuotaSpec struct {
	// Hard is the most each namespace may use, such as cpu: "8", memory: 16Gi, pods: "100".
	// +kubebuilder:validation:MinProperties=1
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, type(self[k]) == string ? !self[k].startsWith('-') : self[k] >= 0)",message="spec.isolation.resourceQuota.hard: quantities must not be negative"
	Hard map[corev1.ResourceName]resource.Quantity `json:"hard"`
}

// LimitRangeSpec is the per-container limit range of each of the tenant's namespaces.
type LimitRangeSpec struct {
	// Default is the limit given to containers that set none.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	// +kubebuilder:validation:XValidation:rule="self.all(k, type(self[k]) == string ? !self[k].startsWith('-') : self[k] >= 0)",message="spec.isolation.limitRange.default: quantities must not be negative"
	Default map[corev1.ResourceName]resource.Quantity `json:"default,omitempty"`
	// DefaultRequest is the request given to containers that set none.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	// +kubebuilder:validation:XValidation:rule="self.all(k, type(self[k]) == string ? !self[k].startsWith('-') : self[k] >= 0)",message="spec.isolation.limitRange.defaultRequest: quantities must not be negative"
	DefaultRequest map[corev1.ResourceName]resource.Quantity `json:"defaultRequest,omitempty"`
	// Max is the most a container may ask for.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	// +kubebuilder:validation:XValidation:rule="self.all(k, type(self[k]) == string ? !self[k].startsWith('-') : self[k] >= 0)",message="spec.isolation.limitRange.max: quantities must not be negative"
	Max map[corev1.ResourceName]resource.Quantity `json:"max,omitempty"`
	// Min is the least a container may ask for.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	// +kubebuilder:validation:XValidation:rule="self.all(k, type(self[k]) == string ? !self[k].startsWith('-') : self[k] >= 0)",message="spec.isolation.limitRange.min: quantities must not be negative"
	Min map[corev1.ResourceName]resource.Quantity `json:"min,omitempty"`
}

// PodSecurityLevel is a Pod Security Standard level.
// +kubebuilder:validation:Enum=privileged;baseline;restricted
type PodSecurityLevel string

const (
	// PodSecurityPrivileged allows everything.
	PodSecurityPrivileged PodSecurityLevel = "privileged"
	// PodSecurityBaseline forbids known privilege escalations.
	PodSecurityBaseline PodSecurityLevel = "baseline"
	// PodSecurityRestricted follows hardening best practice.
	PodSecurityRestricted PodSecurityLevel = "restricted"
)

// PodSecuritySpec is the Pod Security Standard enforced on a tenant's pods.
type PodSecuritySpec struct {
	// Level is privileged, baseline (default) or restricted.
	// +optional
	// +kubebuilder:default=baseline
	Level PodSecurityLevel `json:"level,omitempty"`
}

// AllowedSpec lists what a tenant may use from the super cluster. An empty list of
// registries, storage classes or ingress classes allows any.
type AllowedSpec struct {
	// Registries are image registry prefixes, such as registry.example.com or
	// docker.io/library.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]([-a-z0-9._]*[a-z0-9])?)*$`
	Registries []string `json:"registries,omitempty"`

	// StorageClasses the tenant's PersistentVolumeClaims may use.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	StorageClasses []string `json:"storageClasses,omitempty"`

	// IngressClasses the tenant's Ingresses may use.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	IngressClasses []string `json:"ingressClasses,omitempty"`

	// ServiceTypes the tenant's Services may have. Defaults to ClusterIP only.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=4
	// +kubebuilder:validation:items:Enum=ClusterIP;NodePort;LoadBalancer;ExternalName
	// +kubebuilder:default={ClusterIP}
	ServiceTypes []corev1.ServiceType `json:"serviceTypes,omitempty"`
}

// SyncSpec tunes how the syncer treats a tenant.
type SyncSpec struct {
	// Weight is the tenant's share of the syncer's fair queue, from 1 to 100.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	Weight int32 `json:"weight,omitempty"`

	// ExtraResources are resources synced down in addition to the built-in set, such as
	// a CRD's resource the super cluster also serves.
	// +optional
	// +listType=map
	// +listMapKey=group
	// +listMapKey=resource
	// +kubebuilder:validation:MaxItems=32
	ExtraResources []GroupResource `json:"extraResources,omitempty"`
}

// GroupResource names a resource, such as group "monitoring.coreos.com", resource
// "servicemonitors".
type GroupResource struct {
	// Group is the API group; empty for the core group.
	// +kubebuilder:default=""
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$`
	Group string `json:"group"`
	// Resource is the lower-case plural resource name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z][a-z0-9]*$`
	Resource string `json:"resource"`
}

// VirtualClusterPhase is a one-word summary of a tenant's state.
// +kubebuilder:validation:Enum=Pending;Provisioning;Running;Paused;Deleting;Failed
type VirtualClusterPhase string

// The phases of a VirtualCluster.
const (
	PhasePending      VirtualClusterPhase = "Pending"
	PhaseProvisioning VirtualClusterPhase = "Provisioning"
	PhaseRunning      VirtualClusterPhase = "Running"
	PhasePaused       VirtualClusterPhase = "Paused"
	PhaseDeleting     VirtualClusterPhase = "Deleting"
	PhaseFailed       VirtualClusterPhase = "Failed"
)

// Condition types of a VirtualCluster.
const (
	// ConditionReady is true when the tenant answers through its kubeconfig.
	ConditionReady = "Ready"
	// ConditionDatastoreReady is true when the tenant's etcd prefix and credentials exist.
	ConditionDatastoreReady = "DatastoreReady"
	// ConditionControlPlaneReady is true when the tenant's API server is serving.
	ConditionControlPlaneReady = "ControlPlaneReady"
)

// VirtualClusterStatus is what the vc-manager observed of a tenant.
type VirtualClusterStatus struct {
	// Phase summarises the conditions.
	// +optional
	Phase VirtualClusterPhase `json:"phase,omitempty"`

	// Conditions are the detailed state, each with a reason.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ObservedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Endpoint is the URL of the tenant's API server.
	// +optional
	Endpoint string `json:"endpoint,omitempty"`

	// Host is the TenantHost serving the tenant's API server. It is set when the tenant
	// is placed and kept while the host exists, so a paused tenant resumes where its
	// PKI-bound state lives.
	// +optional
	Host string `json:"host,omitempty"`

	// TenantKey is the tenant's name on its host and in the tenancy.vcp.dev/tenant label
	// of every super-cluster object made for it.
	// +optional
	TenantKey string `json:"tenantKey,omitempty"`

	// KubeconfigSecretRef names the Secret, in the VirtualCluster's namespace, holding the
	// tenant's admin kubeconfig.
	// +optional
	KubeconfigSecretRef *SecretKeyReference `json:"kubeconfigSecretRef,omitempty"`
}

// SecretKeyReference names one key of a Secret in the same namespace.
type SecretKeyReference struct {
	// Name of the Secret.
	Name string `json:"name"`
	// Key within the Secret.
	Key string `json:"key"`
}

// VirtualClusterList is a list of VirtualClusters.
//
// +kubebuilder:object:root=true
type VirtualClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VirtualCluster `json:"items"`
}

func init() {
	SchemeBuilder.Register(&VirtualCluster{}, &VirtualClusterList{})
}
