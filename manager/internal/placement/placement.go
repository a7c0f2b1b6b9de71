// Package placement picks the tenant-apiserver host a new tenant runs on. It is pure: the
// caller gives it the registered hosts and how many tenants each already has.
package placement

import (
	"fmt"
	"slices"
	"strings"
	"time"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
)

// Pick returns the least loaded live host that may take the tenant: a dedicated host
// without tenants when dedicated is asked for, else a shared host below its capacity.
// Ties go to the first name. load counts the tenants placed on each host. The error says
// why no host fits, host by host.
func Pick(hosts []tenancyv1alpha1.TenantHost, load map[string]int, dedicated bool, now time.Time) (string, error) {
	if len(hosts) == 0 {
		return "", fmt.Errorf("no tenant-apiserver host is registered (no TenantHost objects)")
	}
	sorted := slices.Clone(hosts)
	slices.SortFunc(sorted, func(a, b tenancyv1alpha1.TenantHost) int { return strings.Compare(a.Name, b.Name) })
	best, bestLoad := "", 0
	var why []string
	for _, h := range sorted {
		n := load[h.Name]
		switch {
		case now.Sub(h.Status.HeartbeatTime.Time) > tenancyv1alpha1.HostHeartbeatTimeout:
			why = append(why, fmt.Sprintf("%s: no heartbeat since %s", h.Name, h.Status.HeartbeatTime.UTC().Format(time.RFC3339)))
		case h.Spec.Dedicated != dedicated:
			why = append(why, fmt.Sprintf("%s: dedicated=%v", h.Name, h.Spec.Dedicated))
		case dedicated && n > 0:
			why = append(why, fmt.Sprintf("%s: dedicated and already serving a tenant", h.Name))
		case n >= int(capacity(h)):
			why = append(why, fmt.Sprintf("%s: full (%d/%d tenants)", h.Name, n, capacity(h)))
		case best == "" || n < bestLoad:
			best, bestLoad = h.Name, n
		}
	}
	if best == "" {
		kind := "shared"
		if dedicated {
			kind = "dedicated"
		}
		return "", fmt.Errorf("no %s tenant-apiserver host can take the tenant: %s", kind, strings.Join(why, "; "))
	}
	return best, nil
}

func capacity(h tenancyv1alpha1.TenantHost) int32 {
	if h.Spec.Capacity <= 0 {
		return 50
	}
	return h.Spec.Capacity
}
