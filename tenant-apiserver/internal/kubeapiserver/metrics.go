package kubeapiserver

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/felixge/httpsnoop"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// Per-tenant request figures. Upstream's apiserver_* metrics are process-wide: in a host
// they add up every tenant's requests. These count each tenant's own, at the edge of its
// handler chain (before authentication, so refused requests count too).
var (
	tenantRequests = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "vcp", Subsystem: "tenant", Name: "requests_total",
		Help:           "Requests a tenant's API server answered, by tenant, HTTP method, whether it was a watch, and response code.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"tenant", "method", "watch", "code"})
	tenantRequestDuration = metrics.NewHistogramVec(&metrics.HistogramOpts{
		Namespace: "vcp", Subsystem: "tenant", Name: "request_duration_seconds",
		Help:           "How long a tenant's API server took to answer a request that is not a watch, by tenant and HTTP method.",
		Buckets:        []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
		StabilityLevel: metrics.ALPHA,
	}, []string{"tenant", "method"})
	tenantInflight = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: "vcp", Subsystem: "tenant", Name: "inflight_requests",
		Help:           "Requests a tenant's API server is answering now (open watches included), by tenant.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"tenant"})
)

func init() {
	legacyregistry.MustRegister(tenantRequests, tenantRequestDuration, tenantInflight)
}

// instrumentTenant counts tenant's requests in the vcp_tenant_* request metrics.
func instrumentTenant(tenant string, next http.Handler) http.Handler {
	inflight := tenantInflight.WithLabelValues(tenant)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inflight.Inc()
		defer inflight.Dec()
		m := httpsnoop.CaptureMetrics(next, w, r)
		watch := isWatch(r)
		tenantRequests.WithLabelValues(tenant, r.Method, strconv.FormatBool(watch), strconv.Itoa(m.Code)).Inc()
		if !watch {
			tenantRequestDuration.WithLabelValues(tenant, r.Method).Observe(m.Duration.Seconds())
		}
	})
}

// isWatch reports whether r asks for a watch (?watch=true or 1, or a legacy /watch/ path).
func isWatch(r *http.Request) bool {
	if w := r.URL.Query().Get("watch"); w == "true" || w == "1" {
		return true
	}
	return strings.Contains(r.URL.Path, "/watch/")
}

// ForgetTenantMetrics drops the request series of a tenant the host no longer runs.
func ForgetTenantMetrics(tenant string) {
	tenantRequests.DeletePartialMatch(map[string]string{"tenant": tenant})
	tenantRequestDuration.DeletePartialMatch(map[string]string{"tenant": tenant})
	tenantInflight.DeleteLabelValues(tenant)
	tenantWaiting.DeleteLabelValues(tenant)
	tenantRejected.DeletePartialMatch(map[string]string{"tenant": tenant})
}
