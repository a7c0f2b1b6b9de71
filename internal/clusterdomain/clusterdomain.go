// Package clusterdomain is what the syncer and the tenant-apiserver hosts must agree on
// about the super kubelets' cluster domain: its default, the in-cluster names a pod
// reaches its cluster's API server by, and the check of a --cluster-domain flag.
package clusterdomain

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Default is the cluster domain unless one is given (most kubelets' clusterDomain).
const Default = "cluster.local"

// InClusterNames are the names in-cluster clients reach their cluster's API server by:
// the default namespace's kubernetes Service, short and long, under domain ("" is
// Default). The tenant hosts serve them for all their tenants; the syncer resolves them
// to a tenant's host in its pods.
func InClusterNames(domain string) []string {
	if domain == "" {
		domain = Default
	}
	return []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc." + domain}
}

// ValidateFlag reports a domain given to flag that is not a DNS subdomain, naming the flag.
func ValidateFlag(flag, domain string) error {
	if msgs := validation.IsDNS1123Subdomain(domain); len(msgs) > 0 {
		return fmt.Errorf("%s %q: %s", flag, domain, strings.Join(msgs, "; "))
	}
	return nil
}
