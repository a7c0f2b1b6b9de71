package translate

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/internal/clusterdomain"
)

func TestSuperPodTenantDNS(t *testing.T) {
	dns := TenantDNS{Nameservers: []string{"10.96.0.10"}}
	five, two := "5", "2"
	ndots5 := corev1.PodDNSConfigOption{Name: "ndots", Value: &five}
	ndots2 := corev1.PodDNSConfigOption{Name: "ndots", Value: &two}
	edns := corev1.PodDNSConfigOption{Name: "edns0"}
	tenantSearches := []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local"}
	many := func(n int, f string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf(f, i)
		}
		return out
	}
	for _, tc := range []struct {
		name       string
		dns        TenantDNS
		policy     corev1.DNSPolicy
		hostNet    bool
		open       bool
		domain     string
		own        *corev1.PodDNSConfig
		wantPolicy corev1.DNSPolicy
		want       *corev1.PodDNSConfig
	}{
		{name: "no tenant DNS: the super cluster's", policy: corev1.DNSClusterFirst, wantPolicy: corev1.DNSClusterFirst},
		{name: "ClusterFirst: the tenant's server and its namespace's searches", dns: dns, policy: corev1.DNSClusterFirst,
			wantPolicy: corev1.DNSNone,
			want:       &corev1.PodDNSConfig{Nameservers: []string{"10.96.0.10"}, Searches: tenantSearches, Options: []corev1.PodDNSConfigOption{ndots5}}},
		{name: "no policy means ClusterFirst", dns: dns, wantPolicy: corev1.DNSNone,
			want: &corev1.PodDNSConfig{Nameservers: []string{"10.96.0.10"}, Searches: tenantSearches, Options: []corev1.PodDNSConfigOption{ndots5}}},
		{name: "another cluster domain, dual stack", dns: TenantDNS{Nameservers: []string{"10.96.0.10", "fd00::a"}}, domain: "corp.internal",
			policy: corev1.DNSClusterFirst, wantPolicy: corev1.DNSNone,
			want: &corev1.PodDNSConfig{Nameservers: []string{"10.96.0.10", "fd00::a"}, Searches: []string{"shop.svc.corp.internal", "svc.corp.internal", "corp.internal"}, Options: []corev1.PodDNSConfigOption{ndots5}}},
		{name: "the pod's dnsConfig merged as the kubelet merges it", dns: dns, policy: corev1.DNSClusterFirst,
			own:        &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1", "10.96.0.10"}, Searches: []string{"corp.example", "svc.cluster.local"}, Options: []corev1.PodDNSConfigOption{edns, ndots2}},
			wantPolicy: corev1.DNSNone,
			want: &corev1.PodDNSConfig{Nameservers: []string{"10.96.0.10", "1.1.1.1"}, Searches: append(slices.Clone(tenantSearches), "corp.example"),
				Options: []corev1.PodDNSConfigOption{ndots2, edns}}},
		{name: "ClusterFirstWithHostNet on the host's network: the tenant's", dns: dns, policy: corev1.DNSClusterFirstWithHostNet, hostNet: true,
			wantPolicy: corev1.DNSNone,
			want:       &corev1.PodDNSConfig{Nameservers: []string{"10.96.0.10"}, Searches: tenantSearches, Options: []corev1.PodDNSConfigOption{ndots5}}},
		{name: "ClusterFirst on the host's network: the node's, untouched", dns: dns, policy: corev1.DNSClusterFirst, hostNet: true,
			wantPolicy: corev1.DNSClusterFirst},
		{name: "Default in VPC mode: the super cluster's DNS (the nodes' resolvers are out of reach)", dns: dns, policy: corev1.DNSDefault, own: &corev1.PodDNSConfig{Searches: []string{"a.example"}},
			wantPolicy: corev1.DNSClusterFirst, want: &corev1.PodDNSConfig{Searches: []string{"a.example"}}},
		{name: "Default in VPC mode without a tenant DNS: the super cluster's", policy: corev1.DNSDefault, wantPolicy: corev1.DNSClusterFirst},
		{name: "Default in Open mode: untouched", dns: dns, open: true, policy: corev1.DNSDefault, own: &corev1.PodDNSConfig{Searches: []string{"a.example"}},
			wantPolicy: corev1.DNSDefault, want: &corev1.PodDNSConfig{Searches: []string{"a.example"}}},
		{name: "Default on the host's network: untouched", dns: dns, policy: corev1.DNSDefault, hostNet: true, wantPolicy: corev1.DNSDefault},
		{name: "None: untouched", dns: dns, policy: corev1.DNSNone, own: &corev1.PodDNSConfig{Nameservers: []string{"8.8.8.8"}},
			wantPolicy: corev1.DNSNone, want: &corev1.PodDNSConfig{Nameservers: []string{"8.8.8.8"}}},
		// 54 characters of the tenant's searches, then 101 per search of the pod's: 19 fit
		// (1,973), 20 would not (2,074).
		{name: "past the search line's 2048 characters the pod's last are left out", dns: dns, policy: corev1.DNSClusterFirst,
			own:        &corev1.PodDNSConfig{Searches: many(20, strings.Repeat("x", 90)+"%02d.example")},
			wantPolicy: corev1.DNSNone,
			want: &corev1.PodDNSConfig{Nameservers: []string{"10.96.0.10"}, Searches: append(slices.Clone(tenantSearches), many(20, strings.Repeat("x", 90)+"%02d.example")[:19]...),
				Options: []corev1.PodDNSConfigOption{ndots5}}},
		{name: "beyond the API's limits the pod's own are left out", dns: dns, policy: corev1.DNSClusterFirst,
			own:        &corev1.PodDNSConfig{Nameservers: many(3, "10.0.0.%d"), Searches: many(32, "s%d.example")},
			wantPolicy: corev1.DNSNone,
			want: &corev1.PodDNSConfig{Nameservers: append([]string{"10.96.0.10"}, many(2, "10.0.0.%d")...),
				Searches: append(slices.Clone(tenantSearches), many(29, "s%d.example")...), Options: []corev1.PodDNSConfigOption{ndots5}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tenantPod()
			in.Spec.DNSPolicy, in.Spec.HostNetwork, in.Spec.DNSConfig = tc.policy, tc.hostNet, tc.own.DeepCopy()
			before := in.DeepCopy()
			iso := Isolation{DNS: tc.dns, ClusterDomain: tc.domain}
			if tc.open {
				iso.Network.Mode = tenancyv1alpha1.NetworkOpen
			}
			got := SuperPod("a-000000", in, iso, nil).Spec
			if got.DNSPolicy != tc.wantPolicy {
				t.Errorf("dnsPolicy %q, want %q", got.DNSPolicy, tc.wantPolicy)
			}
			if !reflect.DeepEqual(got.DNSConfig, tc.want) {
				t.Errorf("dnsConfig:\n got %s\nwant %s", dnsString(got.DNSConfig), dnsString(tc.want))
			}
			if !reflect.DeepEqual(in, before) {
				t.Error("SuperPod changed the tenant pod")
			}
		})
	}
}

func dnsString(c *corev1.PodDNSConfig) string {
	if c == nil {
		return "nil"
	}
	opts := make([]string, 0, len(c.Options))
	for _, o := range c.Options {
		v := "<nil>"
		if o.Value != nil {
			v = *o.Value
		}
		opts = append(opts, o.Name+"="+v)
	}
	return fmt.Sprintf("nameservers %v searches %v options %v", c.Nameservers, c.Searches, opts)
}

// FuzzTenantDNS checks, whatever the pod's own DNS settings: the input is untouched; a
// cluster-first pod ends with policy None, the tenant's servers first, its namespace's
// three searches first, within the API's limits, without duplicates, every option name
// once and the pod's own value of it kept; any other pod keeps what it had.
func FuzzTenantDNS(f *testing.F) {
	f.Add("shop", "ClusterFirst", false, "10.96.0.10", "", "1.1.1.1,10.96.0.10", "corp.example,svc.cluster.local", "ndots=2,edns0")
	f.Add("default", "", true, "10.96.0.10,fd00::a", "corp.internal", "", "", "")
	f.Add("a", "ClusterFirstWithHostNet", true, "", "", "1.1.1.1", "x", "timeout=1")
	f.Add("b", "Default", false, "10.0.0.1", "", "", "y,y,y", "ndots=1,ndots=3")
	f.Fuzz(func(t *testing.T, ns, policy string, hostNet bool, servers, domain, ownServers, ownSearches, ownOptions string) {
		split := func(s string) []string {
			if s == "" {
				return nil
			}
			return strings.Split(s, ",")
		}
		dns := TenantDNS{Nameservers: appendNew(nil, split(servers)...)}
		if len(dns.Nameservers) > maxDNSNameservers {
			dns.Nameservers = dns.Nameservers[:maxDNSNameservers]
		}
		in := tenantPod()
		in.Namespace = ns
		in.Spec.DNSPolicy, in.Spec.HostNetwork = corev1.DNSPolicy(policy), hostNet
		var own *corev1.PodDNSConfig
		if ownServers != "" || ownSearches != "" || ownOptions != "" {
			own = &corev1.PodDNSConfig{Nameservers: split(ownServers), Searches: split(ownSearches)}
			for _, o := range split(ownOptions) {
				name, value, ok := strings.Cut(o, "=")
				opt := corev1.PodDNSConfigOption{Name: name}
				if ok {
					opt.Value = &value
				}
				own.Options = append(own.Options, opt)
			}
		}
		in.Spec.DNSConfig = own
		before := in.DeepCopy()
		got := SuperPod("a-000000", in, Isolation{DNS: dns, ClusterDomain: domain}, nil).Spec
		if !reflect.DeepEqual(in, before) {
			t.Fatal("SuperPod changed the tenant pod")
		}
		if len(dns.Nameservers) == 0 || !clusterFirst(&in.Spec) {
			// Default off the host network becomes the super cluster's DNS (VPC mode).
			wantPolicy := in.Spec.DNSPolicy
			if wantPolicy == corev1.DNSDefault && !hostNet {
				wantPolicy = corev1.DNSClusterFirst
			}
			if got.DNSPolicy != wantPolicy || !reflect.DeepEqual(got.DNSConfig, in.Spec.DNSConfig) {
				t.Fatalf("a pod the tenant's DNS is not for: %q %s, want %q and its own config", got.DNSPolicy, dnsString(got.DNSConfig), wantPolicy)
			}
			return
		}
		c := got.DNSConfig
		if got.DNSPolicy != corev1.DNSNone || c == nil {
			t.Fatalf("cluster-first pod: policy %q config %s", got.DNSPolicy, dnsString(c))
		}
		if !slices.Equal(c.Nameservers[:len(dns.Nameservers)], dns.Nameservers) || len(c.Nameservers) > maxDNSNameservers {
			t.Fatalf("nameservers %v for tenant DNS %v", c.Nameservers, dns.Nameservers)
		}
		d := domain
		if d == "" {
			d = clusterdomain.Default
		}
		if !slices.Equal(c.Searches[:3], []string{ns + ".svc." + d, "svc." + d, d}) || len(c.Searches) > maxDNSSearchPaths ||
			len(c.Searches) > 3 && len(strings.Join(c.Searches, " ")) > maxDNSSearchListChars {
			t.Fatalf("searches %v", c.Searches)
		}
		for name, list := range map[string][]string{"nameservers": c.Nameservers, "searches": c.Searches} {
			if len(slices.Compact(slices.Sorted(slices.Values(list)))) != len(list) {
				t.Fatalf("%s have duplicates: %v", name, list)
			}
		}
		seen := map[string]bool{}
		for _, o := range c.Options {
			if seen[o.Name] {
				t.Fatalf("option %q twice: %s", o.Name, dnsString(c))
			}
			seen[o.Name] = true
		}
		if !seen[ndotsOption] {
			t.Fatalf("no ndots: %s", dnsString(c))
		}
		if own != nil {
			last := map[string]*string{}
			for _, o := range own.Options {
				last[o.Name] = o.Value
			}
			for _, o := range c.Options {
				if v, ok := last[o.Name]; ok && !reflect.DeepEqual(v, o.Value) {
					t.Fatalf("option %q: the pod's own value lost: %s", o.Name, dnsString(c))
				}
			}
		}
	})
}
