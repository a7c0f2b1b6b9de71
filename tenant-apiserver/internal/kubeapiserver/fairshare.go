package kubeapiserver

import (
	"errors"
	"fmt"
	"net/http"

	"k8s.io/apiserver/pkg/authentication/user"
	apirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"

	"github.com/vcp-dev/vcp/tenant-apiserver/internal/fairshare"
)

var (
	tenantWaiting = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: "vcp", Subsystem: "tenant", Name: "waiting_requests",
		Help:           "Requests of a tenant waiting for one of the host's request slots (--max-inflight-requests), by tenant.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"tenant"})
	tenantRejected = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "vcp", Subsystem: "tenant", Name: "rejected_requests_total",
		Help:           "Requests of a tenant answered 429 because too many of its requests were waiting for a slot (queue_full) or one waited until its deadline (timeout), by tenant and reason.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"tenant", "reason"})
)

func init() {
	legacyregistry.MustRegister(tenantWaiting, tenantRejected)
}

// withFairShare makes each of tenant's requests take one of the host's request slots
// (fairshare.Dispatcher) while it is served. It sits innermost in the handler chain, after
// authentication and authorization (refused requests cost no slot) and after the request's
// deadline is set. Long-running requests (watches, exec, logs, proxy) hold no slot, nor
// do requests for no resource (health checks, discovery, OpenAPI: cheap, and a probe must
// not wait behind a burst), nor the tenant's own loopback clients: its controllers, and lookups admission
// makes while the request that triggered them holds a slot (waiting for a second slot
// there could deadlock), as API Priority and Fairness exempts them.
func withFairShare(d *fairshare.Dispatcher, tenant string, longRunning apirequest.LongRunningRequestCheck, next http.Handler) http.Handler {
	waiting := tenantWaiting.WithLabelValues(tenant)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if info, ok := apirequest.RequestInfoFrom(ctx); !ok || !info.IsResourceRequest || longRunning(r, info) {
			next.ServeHTTP(w, r)
			return
		}
		if u, ok := apirequest.UserFrom(ctx); ok && u.GetName() == user.APIServerUser {
			next.ServeHTTP(w, r)
			return
		}
		waiting.Inc()
		release, err := d.Acquire(ctx, tenant)
		waiting.Dec()
		if err != nil {
			reason := "timeout"
			if errors.Is(err, fairshare.ErrQueueFull) {
				reason = "queue_full"
			}
			tenantRejected.WithLabelValues(tenant, reason).Inc()
			// As upstream's max-in-flight filter answers: clients retry after a second.
			w.Header().Set("Retry-After", "1")
			http.Error(w, fmt.Sprintf("Too many requests of tenant %s are waiting on this host (%s), please try again later.", tenant, reason), http.StatusTooManyRequests)
			return
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}
