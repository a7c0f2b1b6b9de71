package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TenantHost is a tenant-apiserver host process that serves tenants' API servers. Hosts
// register themselves (the tenant-apiserver creates and heartbeats its TenantHost) and the
// vc-manager places each VirtualCluster on one of them.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=th,categories=vcp
// +kubebuilder:printcolumn:name="Endpoint",type=string,JSONPath=`.spec.endpoint`
// +kubebuilder:printcolumn:name="Tenants",type=integer,JSONPath=`.status.tenants`
// +kubebuilder:printcolumn:name="Capacity",type=integer,JSONPath=`.spec.capacity`
// +kubebuilder:printcolumn:name="Dedicated",type=boolean,JSONPath=`.spec.dedicated`
// +kubebuilder:printcolumn:name="Heartbeat",type=date,JSONPath=`.status.heartbeatTime`
type TenantHost struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is what the host advertises.
	Spec TenantHostSpec `json:"spec"`

	// Status is the host's own report, refreshed every heartbeat.
	// +optional
	Status TenantHostStatus `json:"status,omitempty"`
}

// TenantHostSpec is what a host advertises about itself.
type TenantHostSpec struct {
	// Endpoint is the https URL tenants' API servers are served at (one port for all;
	// tenants are told apart by TLS server name).
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^https://[^/?#@ ]+$`
	Endpoint string `json:"endpoint"`

	// AdminEndpoint is the http(s) URL of the host's admin API, where the vc-manager adds
	// and removes tenants.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^https?://[^/?#@ ]+$`
	AdminEndpoint string `json:"adminEndpoint"`

	// AdminTokenSecretRef names the Secret holding the bearer token of the admin API.
	// +optional
	AdminTokenSecretRef *NamespacedSecretKeyReference `json:"adminTokenSecretRef,omitempty"`

	// Capacity is the most tenants the host takes.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	// +kubebuilder:default=50
	// +optional
	Capacity int32 `json:"capacity,omitempty"`

	// Dedicated hosts only take a tenant that asked for a host of its own
	// (spec.kubernetesAPI.dedicatedHost), and then only that one.
	// +optional
	Dedicated bool `json:"dedicated,omitempty"`
}

// TenantHostStatus is a host's own report.
type TenantHostStatus struct {
	// Tenants is how many tenants the host runs.
	// +optional
	Tenants int32 `json:"tenants"`

	// HeartbeatTime is when the host last reported. A host whose heartbeat is older than
	// HostHeartbeatTimeout gets no new tenants.
	// +optional
	HeartbeatTime metav1.Time `json:"heartbeatTime,omitempty"`

	// Unhealthy lists tenants whose API server is down or restarting.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=10000
	Unhealthy []string `json:"unhealthy,omitempty"`
}

// NamespacedSecretKeyReference names one key of a Secret in a namespace.
type NamespacedSecretKeyReference struct {
	// Namespace of the Secret.
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace"`
	// Name of the Secret.
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// Key within the Secret.
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key"`
}

// TenantHostList is a list of TenantHosts.
//
// +kubebuilder:object:root=true
type TenantHostList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TenantHost `json:"items"`
}

func init() {
	SchemeBuilder.Register(&TenantHost{}, &TenantHostList{})
}
