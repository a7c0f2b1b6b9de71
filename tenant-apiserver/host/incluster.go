package host

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2"

	"github.com/vcp-dev/vcp/internal/clusterdomain"
	"github.com/vcp-dev/vcp/tenant-apiserver/internal/router"
	"github.com/vcp-dev/vcp/tenant-apiserver/tenantpki"
)

var inClusterRequests = metrics.NewCounterVec(&metrics.CounterOpts{
	Namespace: "vcp", Subsystem: "host", Name: "incluster_requests_total",
	Help: "Requests to the in-cluster names (kubernetes.default.svc), by result: routed (to the tenant its token's issuer names), no_token (no bearer JWT with an issuer), unknown_issuer (no tenant of this host), not_ready (the tenant is not serving).",
}, []string{"result"})

func init() { legacyregistry.MustRegister(inClusterRequests) }

// inClusterFront serves the in-cluster names (kubernetes.default.svc and its shorter and
// longer forms) for all the host's tenants. A client of those names sends no tenant's
// server name, so the front cannot hand the connection to a tenant as the router does:
// it does the TLS handshake itself, with a certificate of the host's in-cluster CA (which
// every tenant's published root bundle carries, so pods trust it), and then hands each
// request to the tenant that issued its bearer token (issuers are https://<server name>),
// whose own authentication verifies the token: a token naming another tenant's issuer is
// refused there, as it would be at that tenant's own name. Requests without a tenant's
// service-account token are refused here.
type inClusterFront struct {
	h     *Host
	files *tenantpki.InCluster
	cert  atomic.Pointer[tls.Certificate]
	l     *router.Listener
	srv   *http.Server
}

func (h *Host) startInClusterFront() error {
	front := &inClusterFront{h: h, l: router.NewListener(nil)}
	files, err := front.renew()
	if err != nil {
		return err
	}
	front.files = files // its paths never change
	names := clusterdomain.InClusterNames(h.opts.ClusterDomain)
	for i, name := range names {
		if err := h.router.Add(name, front.l); err != nil {
			for _, added := range names[:i] {
				h.router.Remove(added)
			}
			_ = front.l.Close()
			return fmt.Errorf("in-cluster names: %w", err)
		}
	}
	front.srv = &http.Server{
		Handler:           front,
		ReadHeaderTimeout: 10 * time.Second,
		// As kube-apiserver's secure serving: idle keep-alive connections of every
		// tenant's pods are not held for ever.
		IdleTimeout: 90 * time.Second,
		TLSConfig: &tls.Config{
			MinVersion:     tls.VersionTLS12,
			GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return front.cert.Load(), nil },
		},
	}
	go func() { _ = front.srv.ServeTLS(front.l, "", "") }()
	h.inCluster = front
	return nil
}

// renew issues or renews the front's certificate when due and loads it.
func (f *inClusterFront) renew() (*tenantpki.InCluster, error) {
	files, changed, err := tenantpki.EnsureInCluster(filepath.Join(f.h.opts.DataDir, "incluster"), f.h.opts.ClusterDomain, time.Now())
	if err != nil {
		return nil, fmt.Errorf("in-cluster certificate: %w", err)
	}
	if changed || f.cert.Load() == nil {
		cert, err := tls.LoadX509KeyPair(files.Cert, files.Key)
		if err != nil {
			return nil, fmt.Errorf("in-cluster certificate: %w", err)
		}
		f.cert.Store(&cert)
	}
	return files, nil
}

func (f *inClusterFront) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = f.srv.Shutdown(ctx)
	_ = f.l.Close()
}

func (f *inClusterFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	issuer, err := tokenIssuer(r.Header.Get("Authorization"))
	if err != nil {
		inClusterRequests.WithLabelValues("no_token").Inc()
		unauthorized(w, "requests to the in-cluster API name must carry a tenant's service-account token: "+err.Error())
		return
	}
	name, ok := strings.CutPrefix(issuer, "https://")
	if ok {
		name, ok = strings.CutSuffix(name, "."+f.h.opts.Domain)
	}
	t, found := f.h.Tenant(name)
	if !ok || !found {
		inClusterRequests.WithLabelValues("unknown_issuer").Inc()
		unauthorized(w, fmt.Sprintf("the token's issuer %q is no tenant of this host", issuer))
		return
	}
	handler := t.servingHandler()
	if handler == nil {
		inClusterRequests.WithLabelValues("not_ready").Inc()
		w.Header().Set("Retry-After", "1")
		writeStatus(w, http.StatusServiceUnavailable, metav1.StatusReasonServiceUnavailable, "tenant "+name+" is not serving yet")
		return
	}
	inClusterRequests.WithLabelValues("routed").Inc()
	handler.ServeHTTP(w, r)
}

// tokenIssuer reads the issuer of a bearer JWT without verifying it (the tenant the
// request goes to verifies it). The header is read as the API server's bearer token
// authenticator reads it (k8s.io/apiserver .../request/bearertoken): spaces trimmed,
// the scheme in any case, the token the second field.
func tokenIssuer(authorization string) (string, error) {
	parts := strings.SplitN(strings.TrimSpace(authorization), " ", 3)
	if len(parts) < 2 || !strings.EqualFold(parts[0], "bearer") || parts[1] == "" {
		return "", errors.New("no bearer token")
	}
	jwt := strings.Split(parts[1], ".")
	if len(jwt) != 3 {
		return "", errors.New("the bearer token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(jwt[1])
	if err != nil {
		return "", errors.New("the bearer token's payload is not base64url")
	}
	// A map, not a struct: encoding/json matches struct fields case-insensitively, and
	// the claim is "iss" exactly.
	var claims map[string]json.RawMessage
	var issuer string
	if err := json.Unmarshal(payload, &claims); err != nil || json.Unmarshal(claims["iss"], &issuer) != nil || issuer == "" {
		return "", errors.New("the bearer token names no issuer")
	}
	return issuer, nil
}

func unauthorized(w http.ResponseWriter, message string) {
	writeStatus(w, http.StatusUnauthorized, metav1.StatusReasonUnauthorized, message)
}

func writeStatus(w http.ResponseWriter, code int, reason metav1.StatusReason, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	status := metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure, Message: message, Reason: reason, Code: int32(code)}
	if err := json.NewEncoder(w).Encode(status); err != nil {
		klog.V(4).InfoS("writing an in-cluster front's answer failed", "err", err)
	}
}
