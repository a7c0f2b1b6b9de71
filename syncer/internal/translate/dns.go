package translate

import (
	"cmp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/internal/clusterdomain"
)

// The tenant's cluster DNS: the Service a tenant's DNS server (CoreDNS, as kubeadm and
// every DNS chart name it) is reached by. Its super copy's cluster IP is where the
// syncer points tenant pods' resolvers, as a kubelet's --cluster-dns would.
const (
	TenantDNSNamespace = "kube-system"
	TenantDNSService   = "kube-dns"
)

// Limits of a pod's dnsConfig the API server enforces (validation.MaxDNSNameservers and
// MaxDNSSearchPaths in k8s.io/kubernetes/pkg/apis/core/validation).
const (
	maxDNSNameservers     = 3
	maxDNSSearchPaths     = 32
	maxDNSSearchListChars = 2048
)

// ndotsOption is the kubelet's default option for cluster-first pods.
const ndotsOption = "ndots"

// TenantDNS is the tenant's own DNS server, which knows the tenant's Services by their
// tenant namespaces (the super cluster's DNS knows only super namespaces).
type TenantDNS struct {
	// Nameservers are the cluster IPs of the super copy of the tenant's DNS Service;
	// none: the tenant has no DNS of its own and its pods keep the super cluster's.
	Nameservers []string
}

// pointAtTenantDNS gives a pod whose DNS policy is the cluster's the resolver
// configuration the super kubelet would give it if the tenant's DNS were the cluster's
// and the pod's namespace its tenant namespace: the tenant's DNS server only, the
// searches <ns>.svc.<domain>, svc.<domain> and <domain> (where the super kubelet would put
// the super namespace, which no tenant Service is named under), ndots:5, and then the
// pod's own dnsConfig merged in as the kubelet merges it (nameservers and searches
// appended without duplicates, options by name with the pod's value winning). The
// policy becomes None so the super kubelet takes the configuration as it is; the super
// cluster's own search paths and the node's are not added. Pods on the host's network
// with ClusterFirst (the kubelet gives them the node's resolver), Default and None are
// left as they are, as is every pod when the tenant has no DNS. What the API server would
// refuse beyond its limits (3 nameservers, 32 searches, 2048 characters of searches) is
// left out, the pod's own last.
func pointAtTenantDNS(spec *corev1.PodSpec, tenantNS string, dns TenantDNS, domain string) {
	if len(dns.Nameservers) == 0 || !clusterFirst(spec) {
		return
	}
	domain = cmp.Or(domain, clusterdomain.Default)
	ndots := "5"
	out := &corev1.PodDNSConfig{
		Nameservers: appendNew(nil, dns.Nameservers...),
		Searches:    []string{tenantNS + ".svc." + domain, "svc." + domain, domain},
		Options:     []corev1.PodDNSConfigOption{{Name: ndotsOption, Value: &ndots}},
	}
	if own := spec.DNSConfig; own != nil {
		out.Nameservers = appendNew(out.Nameservers, own.Nameservers...)
		out.Searches = appendNew(out.Searches, own.Searches...)
		out.Options = mergeDNSOptions(out.Options, own.Options)
	}
	if len(out.Nameservers) > maxDNSNameservers {
		out.Nameservers = out.Nameservers[:maxDNSNameservers]
	}
	if len(out.Searches) > maxDNSSearchPaths {
		out.Searches = out.Searches[:maxDNSSearchPaths]
	}
	// The search line (searches joined by spaces) is limited too; the kubelet cuts from
	// the end as well. The tenant's three come first and fit (a domain is a DNS name).
	for len(out.Searches) > 3 && len(strings.Join(out.Searches, " ")) > maxDNSSearchListChars {
		out.Searches = out.Searches[:len(out.Searches)-1]
	}
	spec.DNSPolicy = corev1.DNSNone
	spec.DNSConfig = out
}

// nodeDNSInVPC gives a pod that asks for its node's DNS (dnsPolicy Default, off the host
// network) the super cluster's DNS in VPC mode: ClusterFirst in the super pod. The VPC
// lets pods out to the super cluster's DNS pods and not to the nodes' resolvers, so the
// node's DNS would resolve nothing there; a tenant's nodes are virtual, and the super
// cluster's DNS is the upstream their resolvers stand for (it forwards what it does not
// know to the real nodes'). It is what lets a tenant's own DNS server, which runs with
// Default and forwards to /etc/resolv.conf as CoreDNS does, resolve outside names. Call
// it after pointAtTenantDNS (the pod must not be pointed at the tenant's DNS). In Open
// mode the node's resolvers are reachable and Default stays.
func nodeDNSInVPC(spec *corev1.PodSpec, iso Isolation) {
	if iso.Network.Mode != tenancyv1alpha1.NetworkOpen && spec.DNSPolicy == corev1.DNSDefault && !spec.HostNetwork {
		spec.DNSPolicy = corev1.DNSClusterFirst
	}
}

// clusterFirst tells whether the kubelet would give the pod the cluster's DNS.
func clusterFirst(spec *corev1.PodSpec) bool {
	switch spec.DNSPolicy {
	case corev1.DNSClusterFirstWithHostNet:
		return true
	case corev1.DNSClusterFirst, "":
		return !spec.HostNetwork
	}
	return false
}

// appendNew appends the values not in list yet, in order.
func appendNew(list []string, values ...string) []string {
	for _, v := range values {
		if !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}

// mergeDNSOptions merges the pod's options into base by name: a pod's option replaces
// base's of the same name in place; new names are appended in the pod's order (the last
// of the pod's options of a name wins). Options are deep-copied.
func mergeDNSOptions(base, own []corev1.PodDNSConfigOption) []corev1.PodDNSConfigOption {
	out := make([]corev1.PodDNSConfigOption, 0, len(base)+len(own))
	for _, opt := range slices.Concat(base, own) {
		opt = *opt.DeepCopy()
		if i := slices.IndexFunc(out, func(o corev1.PodDNSConfigOption) bool { return o.Name == opt.Name }); i >= 0 {
			out[i] = opt
			continue
		}
		out = append(out, opt)
	}
	return out
}
