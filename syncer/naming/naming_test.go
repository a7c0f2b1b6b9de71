package naming

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
)

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func TestSuperNamespace(t *testing.T) {
	long := strings.Repeat("n", 63)
	tests := []struct {
		tenantKey, ns string
		want          string
	}{
		{"demo-a76a0f", "default", "demo-a76a0f-default"},
		{"demo-a76a0f", "kube-system", "demo-a76a0f-kube-system"},
		// 63 characters exactly stay readable.
		{"t-000000", strings.Repeat("x", 54), "t-000000-" + strings.Repeat("x", 54)},
	}
	for _, tt := range tests {
		if got := SuperNamespace(tt.tenantKey, tt.ns); got != tt.want {
			t.Errorf("SuperNamespace(%q, %q) = %q, want %q", tt.tenantKey, tt.ns, got, tt.want)
		}
	}
	a, b := SuperNamespace("team-a-123456", long), SuperNamespace("team-a-123456", long[:62]+"m")
	for _, got := range []string{a, b} {
		if len(got) != 63 || !dnsLabel.MatchString(got) || !strings.HasPrefix(got, "team-a-123456-nnn") {
			t.Errorf("long name %q: want 63 characters, a DNS label, starting readable", got)
		}
	}
	if a == b {
		t.Errorf("two long namespaces differing at the end map to the same %q", a)
	}
	// A cut that lands on a '-' does not leave "--" before the hash.
	if got := SuperNamespace("t-000000", strings.Repeat("a", 41)+"-"+strings.Repeat("b", 30)); strings.Contains(got, "--") {
		t.Errorf("%q holds a double dash", got)
	}
}

func TestStampAndIdentity(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-0", Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"a": "b"}}}
	id := Identity{Tenant: "demo-a76a0f", Namespace: "default", Name: "web-0", UID: "u-1"}
	Stamp(pod, id)
	got, ok := IdentityOf(pod)
	if !ok || got != id {
		t.Fatalf("IdentityOf(Stamp(%v)) = %v, %v", id, got, ok)
	}
	if pod.Labels["app"] != "web" || pod.Annotations["a"] != "b" {
		t.Errorf("Stamp dropped the object's own labels or annotations: %v %v", pod.Labels, pod.Annotations)
	}
	if !Owns("demo-a76a0f", pod) || Owns("other-000000", pod) || Owns("", pod) {
		t.Error("Owns does not follow the tenant label")
	}
	// Cluster-scoped identity clears a namespace label left from before.
	Stamp(pod, Identity{Tenant: "demo-a76a0f", Name: "pv-1", UID: "u-2"})
	if _, has := pod.Labels[LabelNamespace]; has {
		t.Error("a cluster-scoped stamp kept the namespace label")
	}
	if _, ok := IdentityOf(&corev1.Pod{}); ok {
		t.Error("an unstamped object has an identity")
	}
}

// FuzzSuperNamespace checks, for any tenant key and namespace that are valid names, that
// the super namespace is a DNS label of at most 63 characters, is deterministic, and that
// the stamped identity round-trips.
func FuzzSuperNamespace(f *testing.F) {
	f.Add("demo", "default", "uid")
	f.Add(strings.Repeat("a", 40), strings.Repeat("b", 63), "u")
	f.Fuzz(func(t *testing.T, vcName, ns, uid string) {
		if len(vcName) > 40 || !dnsLabel.MatchString(vcName) || len(ns) > 63 || !dnsLabel.MatchString(ns) {
			return
		}
		key := tenancyv1alpha1.TenantKey(vcName, uid)
		got := SuperNamespace(key, ns)
		if len(got) > 63 || !dnsLabel.MatchString(got) {
			t.Fatalf("SuperNamespace(%q, %q) = %q: not a DNS label of at most 63 characters", key, ns, got)
		}
		if got != SuperNamespace(key, ns) {
			t.Fatal("not deterministic")
		}
		obj := &corev1.Namespace{}
		id := Identity{Tenant: key, Namespace: ns, Name: ns, UID: uid}
		Stamp(obj, id)
		if back, ok := IdentityOf(obj); !ok || back != id {
			t.Fatalf("identity round trip: %v -> %v", id, back)
		}
	})
}

// TestNoCollisions maps 100,000 random (tenant, namespace) pairs, short and long, from 500
// tenants and checks that no two distinct pairs share a super namespace.
func TestNoCollisions(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789-"
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = letters[rng.IntN(len(letters))]
		}
		b[0], b[n-1] = 'a'+byte(rng.IntN(26)), 'a'+byte(rng.IntN(26))
		return string(b)
	}
	tenants := make([]string, 500)
	for i := range tenants {
		tenants[i] = tenancyv1alpha1.TenantKey(word(1+rng.IntN(40)), fmt.Sprint(i))
	}
	seen := make(map[string]string, 100000)
	for range 100000 {
		key, ns := tenants[rng.IntN(len(tenants))], word(1+rng.IntN(63))
		pair := key + "/" + ns
		super := SuperNamespace(key, ns)
		if prev, dup := seen[super]; dup && prev != pair {
			t.Fatalf("%s and %s both map to %s", prev, pair, super)
		}
		seen[super] = pair
	}
}

// FuzzSuperNetworkPolicyName checks that a tenant NetworkPolicy's super name is a valid
// object name that never clashes with the platform's own policies ("vcp-…") and that two
// tenant names never share one.
func FuzzSuperNetworkPolicyName(f *testing.F) {
	f.Add("vcp-vpc", "allow-web")
	f.Add(strings.Repeat("a", 253), strings.Repeat("a", 252)+"b")
	subdomain := regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	f.Fuzz(func(t *testing.T, a, b string) {
		if len(a) > 253 || !subdomain.MatchString(a) || len(b) > 253 || !subdomain.MatchString(b) {
			return
		}
		got := SuperNetworkPolicyName(a)
		if len(got) > 253 || !subdomain.MatchString(got) {
			t.Fatalf("SuperNetworkPolicyName(%q) = %q: not a DNS subdomain of at most 253 characters", a, got)
		}
		if strings.HasPrefix(got, "vcp-") {
			t.Fatalf("SuperNetworkPolicyName(%q) = %q: clashes with the platform's names", a, got)
		}
		if a != b && got == SuperNetworkPolicyName(b) {
			t.Fatalf("%q and %q share the super name %q", a, b, got)
		}
	})
}

func TestSuperNetworkPolicyName(t *testing.T) {
	if got := SuperNetworkPolicyName("vcp-vpc"); got != "tenant-vcp-vpc" {
		t.Errorf("SuperNetworkPolicyName(vcp-vpc) = %q, want tenant-vcp-vpc", got)
	}
	long := strings.Repeat("a", 253)
	if a, b := SuperNetworkPolicyName(long), SuperNetworkPolicyName(long[:252]+"b"); len(a) != 253 || a == b {
		t.Errorf("long names: %q (%d characters) and %q", a, len(a), b)
	}
}
