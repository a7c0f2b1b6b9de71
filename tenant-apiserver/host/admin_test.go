package host

import (
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// TestAdminMetricsPerTenant checks the admin port's per-tenant figures: each tenant's
// requests are counted under its own name (upstream's apiserver_* series add up all
// tenants), and a removed tenant's series go away.
func TestAdminMetricsPerTenant(t *testing.T) {
	h := startHost(t, Options{DisableControllers: true})
	ctx := t.Context()
	for _, name := range []string{"a", "b"} {
		if _, err := h.Add(ctx, TenantSpec{Name: name, UID: "uid-" + name}); err != nil {
			t.Fatal(err)
		}
	}
	scrape := func() map[string]float64 { return scrapeMetrics(t, h) }
	count := func(samples map[string]float64, tenant string) float64 {
		return samples[`vcp_tenant_requests_total{code="200",method="GET",tenant="`+tenant+`",watch="false"}`]
	}
	before := scrape()
	cfg, err := h.RESTConfig("a")
	if err != nil {
		t.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	for range 7 {
		if _, err := client.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	after := scrape()
	if got := count(after, "a") - count(before, "a"); got < 7 {
		t.Errorf("tenant a's GET 200 count rose by %v, want at least 7", got)
	}
	if got := count(after, "b") - count(before, "b"); got >= 7 {
		t.Errorf("tenant b's count rose by %v with a's requests", got)
	}
	if after[`vcp_tenant_request_duration_seconds_count{method="GET",tenant="a"}`] < 7 {
		t.Error("tenant a's request durations are not counted")
	}
	if err := h.Remove(ctx, "a", false); err != nil {
		t.Fatal(err)
	}
	for key := range scrape() {
		if strings.HasPrefix(key, "vcp_tenant_") && strings.Contains(key, `tenant="a"`) {
			t.Errorf("a removed tenant's series remains: %s", key)
		}
	}
}

// TestAdminProfilesNeedTheToken: Go's profiles are on the admin port, behind its token.
func TestAdminProfilesNeedTheToken(t *testing.T) {
	h := startHost(t, Options{DisableControllers: true, AdminToken: "s3cret"})
	get := func(token string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, h.AdminURL()+"/debug/pprof/goroutine?debug=1", nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		return res.StatusCode
	}
	if code := get(""); code != http.StatusUnauthorized {
		t.Errorf("profile without the token: %d, want 401", code)
	}
	if code := get("wrong"); code != http.StatusUnauthorized {
		t.Errorf("profile with a wrong token: %d, want 401", code)
	}
	if code := get("s3cret"); code != http.StatusOK {
		t.Errorf("profile with the token: %d, want 200", code)
	}
}
