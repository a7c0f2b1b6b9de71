// Package v1alpha1 holds the tenancy.vcp.dev/v1alpha1 API: the VirtualCluster kind a
// platform admin creates in the super cluster to get a tenant. The vc-manager reconciles
// it into a tenant control plane, and the syncer reads its isolation settings to place the
// tenant's workloads.
//
// +kubebuilder:object:generate=true
// +groupName=tenancy.vcp.dev
package v1alpha1
