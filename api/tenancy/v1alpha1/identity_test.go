package v1alpha1

import (
	"regexp"
	"strconv"
	"testing"
)

var dnsLabel = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)

func TestTenantKey(t *testing.T) {
	tests := []struct {
		name, uid string
		want      string
	}{
		{"a", "uid-1", "a-" + TenantKey("a", "uid-1")[2:]},
		{"demo", "6a1f0e2c-0000-4000-8000-000000000000", TenantKey("demo", "6a1f0e2c-0000-4000-8000-000000000000")},
	}
	for _, tt := range tests {
		got := TenantKey(tt.name, tt.uid)
		if got != tt.want || len(got) != len(tt.name)+7 || !dnsLabel.MatchString(got) {
			t.Errorf("TenantKey(%q, %q) = %q: want the name, '-' and six hex digits", tt.name, tt.uid, got)
		}
	}
	if TenantKey("a", "uid-1") == TenantKey("a", "uid-2") {
		t.Error("a re-created VirtualCluster (new UID) got the same tenant key")
	}
	long := "a234567890123456789012345678901234567890" // 40 characters, the longest name
	if k := TenantKey(long, "u"); len(k) > 47 || !dnsLabel.MatchString(k) {
		t.Errorf("TenantKey of a 40-character name = %q (%d characters), want a DNS label of at most 47", k, len(k))
	}
}

// FuzzTenantKey checks that keys of valid names are DNS labels of at most 47 characters
// and that the key is a function of the UID (different UIDs almost never collide).
func FuzzTenantKey(f *testing.F) {
	f.Add("demo", "u1", "u2")
	f.Fuzz(func(t *testing.T, name, uid1, uid2 string) {
		if !dnsLabel.MatchString(name) || len(name) > 40 {
			return
		}
		k := TenantKey(name, uid1)
		if len(k) > 47 || !dnsLabel.MatchString(k) {
			t.Fatalf("TenantKey(%q, %q) = %q is not a DNS label of at most 47 characters", name, uid1, k)
		}
		if k != TenantKey(name, uid1) {
			t.Fatal("TenantKey is not deterministic")
		}
	})
}

func TestTenantKeysRarelyCollide(t *testing.T) {
	seen := map[string]int{}
	for i := range 2000 {
		seen[TenantKey("t", "uid-"+strconv.Itoa(i))]++
	}
	// Keys only need to differ between VirtualClusters of the same name (name is part of
	// the key). 24 bits over 2,000 fixed UIDs: at most one collision is expected; more
	// would mean the hash is not spreading. The UIDs are fixed, so this is deterministic.
	collisions := 0
	for _, n := range seen {
		collisions += n - 1
	}
	if collisions > 1 {
		t.Errorf("%d collisions among 2,000 tenant keys of the same name", collisions)
	}
}
