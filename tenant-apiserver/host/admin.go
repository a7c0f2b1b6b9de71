package host

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"strings"

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
// healthy; ?verbose lists them), /metrics (upstream process-wide metrics plus per-tenant
// vcp_tenant_* series) and the tenant API: GET /tenants, PUT /tenants/{name} (body: a
// TenantSpec; idempotent), DELETE /tenants/{name}[?deleteData=true] and
// GET /tenants/{name}/kubeconfig and GET /tenants/{name}/datastore (the tenant's etcd
// endpoints, prefix, user and client certificate), and Go's profiles under /debug/pprof/.
// The tenant API and the profiles require Options.AdminToken when set.
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
	mux.HandleFunc("GET /tenants", h.authorized(func(w http.ResponseWriter, _ *http.Request) {
		out := []Status{}
		for _, t := range h.Tenants() {
			out = append(out, t.Status())
		}
		writeJSON(w, http.StatusOK, out)
	}))
	mux.HandleFunc("PUT /tenants/{name}", h.authorized(func(w http.ResponseWriter, r *http.Request) {
		var spec TenantSpec
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&spec); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("tenant spec: %w", err))
			return
		}
		if spec.Name == "" {
			spec.Name = r.PathValue("name")
		}
		if spec.Name != r.PathValue("name") {
			writeError(w, http.StatusBadRequest, fmt.Errorf("name %q in the body differs from %q in the path", spec.Name, r.PathValue("name")))
			return
		}
		if err := spec.Validate(); err != nil {
			writeError(w, http.StatusUnprocessableEntity, err)
			return
		}
		if t, ok := h.Tenant(spec.Name); ok {
			if err := h.SetPolicy(spec.Name, spec.Policy); err != nil {
				writeError(w, http.StatusInternalServerError, err)
				return
			}
			writeJSON(w, http.StatusOK, t.Status())
			return
		}
		t, err := h.Add(r.Context(), spec)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, http.StatusCreated, t.Status())
	}))
	mux.HandleFunc("DELETE /tenants/{name}", h.authorized(func(w http.ResponseWriter, r *http.Request) {
		deleteData := r.URL.Query().Get("deleteData") == "true"
		if err := h.Remove(r.Context(), r.PathValue("name"), deleteData); err != nil {
			code := http.StatusInternalServerError
			if errors.Is(err, ErrTenantNotFound) {
				code = http.StatusNotFound
			}
			writeError(w, code, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.HandleFunc("GET /tenants/{name}/kubeconfig", h.authorized(func(w http.ResponseWriter, r *http.Request) {
		kc, err := h.Kubeconfig(r.PathValue("name"))
		if err != nil {
			writeError(w, http.StatusNotFound, err)
			return
		}
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(kc)
	}))
	mux.HandleFunc("GET /tenants/{name}/datastore", h.authorized(func(w http.ResponseWriter, r *http.Request) {
		t, ok := h.Tenant(r.PathValue("name"))
		if !ok {
			writeError(w, http.StatusNotFound, fmt.Errorf("tenant %s: %w", r.PathValue("name"), ErrTenantNotFound))
			return
		}
		creds, err := t.DatastoreCredentials()
		if err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, http.StatusOK, creds)
	}))
	// Go's profiles, as kube-apiserver serves them (--profiling): a host's memory and CPU
	// are every tenant's, and a profile is how to tell whose. Behind the admin token.
	mux.HandleFunc("/debug/pprof/", h.authorized(pprof.Index))
	mux.HandleFunc("/debug/pprof/cmdline", h.authorized(pprof.Cmdline))
	mux.HandleFunc("/debug/pprof/profile", h.authorized(pprof.Profile))
	mux.HandleFunc("/debug/pprof/symbol", h.authorized(pprof.Symbol))
	mux.HandleFunc("/debug/pprof/trace", h.authorized(pprof.Trace))
	metricsHandler := legacyregistry.Handler()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		h.updateMetrics()
		metricsHandler.ServeHTTP(w, r)
	})
	return mux
}

// authorized requires the admin token, when the host has one, as a bearer token.
func (h *Host) authorized(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.opts.AdminToken != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(h.opts.AdminToken)) != 1 {
				writeError(w, http.StatusUnauthorized, errors.New("a valid admin bearer token is required"))
				return
			}
		}
		next(w, r)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
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
