package placement

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
)

func TestPick(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	host := func(name string, capacity int32, dedicated bool, age time.Duration) tenancyv1alpha1.TenantHost {
		return tenancyv1alpha1.TenantHost{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       tenancyv1alpha1.TenantHostSpec{Capacity: capacity, Dedicated: dedicated},
			Status:     tenancyv1alpha1.TenantHostStatus{HeartbeatTime: metav1.NewTime(now.Add(-age))},
		}
	}
	tests := []struct {
		name      string
		hosts     []tenancyv1alpha1.TenantHost
		load      map[string]int
		dedicated bool
		want      string
		wantErr   string
	}{
		{name: "no hosts", wantErr: "no tenant-apiserver host is registered"},
		{name: "least loaded", hosts: []tenancyv1alpha1.TenantHost{host("a", 10, false, 0), host("b", 10, false, 0)}, load: map[string]int{"a": 3, "b": 1}, want: "b"},
		{name: "tie goes to first name", hosts: []tenancyv1alpha1.TenantHost{host("b", 10, false, 0), host("a", 10, false, 0)}, want: "a"},
		{name: "full host skipped", hosts: []tenancyv1alpha1.TenantHost{host("a", 2, false, 0), host("b", 10, false, 0)}, load: map[string]int{"a": 2, "b": 5}, want: "b"},
		{name: "stale heartbeat skipped", hosts: []tenancyv1alpha1.TenantHost{host("a", 10, false, time.Minute), host("b", 10, false, time.Second)}, load: map[string]int{"b": 9}, want: "b"},
		{name: "all full", hosts: []tenancyv1alpha1.TenantHost{host("a", 1, false, 0)}, load: map[string]int{"a": 1}, wantErr: "a: full (1/1 tenants)"},
		{name: "all stale", hosts: []tenancyv1alpha1.TenantHost{host("a", 1, false, time.Hour)}, wantErr: "a: no heartbeat since"},
		{name: "shared tenant never on dedicated host", hosts: []tenancyv1alpha1.TenantHost{host("d", 10, true, 0)}, wantErr: "no shared tenant-apiserver host can take the tenant: d: dedicated=true"},
		{name: "dedicated tenant on empty dedicated host", hosts: []tenancyv1alpha1.TenantHost{host("a", 10, false, 0), host("d1", 1, true, 0), host("d2", 1, true, 0)}, load: map[string]int{"d1": 1}, dedicated: true, want: "d2"},
		{name: "dedicated tenant, none free", hosts: []tenancyv1alpha1.TenantHost{host("d1", 5, true, 0)}, load: map[string]int{"d1": 1}, dedicated: true, wantErr: "d1: dedicated and already serving a tenant"},
		{name: "zero capacity means default", hosts: []tenancyv1alpha1.TenantHost{host("a", 0, false, 0)}, load: map[string]int{"a": 49}, want: "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Pick(tt.hosts, tt.load, tt.dedicated, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Pick() = %q, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Pick() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
