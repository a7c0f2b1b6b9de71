package host

import (
	"encoding/json"
	"fmt"
	"net/http"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

var (
	tenantUp = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: "vcp", Subsystem: "tenant", Name: "up",
		Help: "1 when the tenant's API server answers, 0 when it is down or restarting.", StabilityLevel: metrics.ALPHA,
	}, []string{"tenant"})
	tenantRestarts = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: "vcp", Subsystem: "tenant", Name: "restarts",
		Help: "How often the host restarted the tenant's API server after a failure.", StabilityLevel: metrics.ALPHA,
	}, []string{"tenant"})
	tenantsGauge = metrics.NewGauge(&metrics.GaugeOpts{
		Namespace: "vcp", Subsystem: "host", Name: "tenants",
		Help: "Tenants on this host.", StabilityLevel: metrics.ALPHA,
	})
)

func init() {
	legacyregistry.MustRegister(tenantUp, tenantRestarts, tenantsGauge)
}

// adminHandler serves the host's /healthz (the process runs), /readyz (every tenant is
// healthy; ?verbose lists them), /tenants (JSON) and /metrics (upstream process-wide
// metrics plus per-tenant vcp_tenant_* series).
func (h *Host) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") })
	mux.HandleFunc("/livez", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ok := true
		for _, t := range h.Tenants() {
			s := t.Status()
			if !s.Healthy {
				ok = false
			}
			if _, verbose := r.URL.Query()["verbose"]; verbose {
				fmt.Fprintf(w, "[%s] tenant %s %s\n", map[bool]string{true: "+", false: "-"}[s.Healthy], s.Name, s.Error)
			}
		}
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, "some tenants are not healthy")
			return
		}
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("/tenants", func(w http.ResponseWriter, _ *http.Request) {
		var out []Status
		for _, t := range h.Tenants() {
			out = append(out, t.Status())
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	metricsHandler := legacyregistry.Handler()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		h.updateMetrics()
		metricsHandler.ServeHTTP(w, r)
	})
	return mux
}

func (h *Host) updateMetrics() {
	tenants := h.Tenants()
	tenantsGauge.Set(float64(len(tenants)))
	tenantUp.Reset()
	tenantRestarts.Reset()
	for _, t := range tenants {
		s := t.Status()
		up := 0.0
		if s.Healthy {
			up = 1
		}
		tenantUp.WithLabelValues(s.Name).Set(up)
		tenantRestarts.WithLabelValues(s.Name).Set(float64(s.Restarts))
	}
}
