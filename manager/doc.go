// Package manager is vcp's provisioning component: the vc-manager reconciles
// VirtualCluster objects in the super cluster into running tenants. It validates what CEL
// cannot, owns each tenant's root PKI (a Secret), places the tenant on a registered
// tenant-apiserver host (a TenantHost), starts it there through the host's admin API,
// publishes the admin kubeconfig as a Secret, pauses and resumes it, and on deletion
// removes everything made for it. See manager/app for the command and
// manager/internal/controller for the reconciler.
package manager
