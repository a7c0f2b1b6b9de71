package controller

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// The syncer's metrics, served on the manager's /metrics.
var (
	queueWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "vcp_syncer_queue_wait_seconds",
		Help:    "How long a tenant's object waited in the fair queue before a worker took it.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"tenant"})
	syncs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vcp_syncer_syncs_total",
		Help: "Objects synced, by tenant, kind and result (ok or error).",
	}, []string{"tenant", "kind", "result"})
	throttled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vcp_syncer_throttled_total",
		Help: "Syncs put back in the queue because the tenant was over its sync rate (--tenant-qps).",
	}, []string{"tenant"})
	staleStatusWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vcp_syncer_stale_status_writes_total",
		Help: "Pod status writes into a tenant refused because the syncer's copy of the tenant pod was stale (written again once its cache catches up).",
	}, []string{"tenant"})
	sessionRestarts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vcp_syncer_session_restarts_total",
		Help: "Tenant sessions started again with a new client because the tenant's kubeconfig Secret changed (renewed credentials, another host).",
	}, []string{"tenant"})
	podCreateLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "vcp_syncer_pod_create_latency_seconds",
		Help:    "From the syncer seeing a new tenant pod to its super pod being created.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	})
	superPodCreateCall = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "vcp_syncer_super_pod_create_call_seconds",
		Help:    "How long the super cluster's API took to answer the syncer's create calls of super pods (part of vcp_syncer_pod_create_latency_seconds).",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	})
	podRunningLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "vcp_syncer_pod_running_latency_seconds",
		Help:    "From the syncer seeing a super pod Running to the tenant pod being reported Running.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	})
)

func init() {
	ctrlmetrics.Registry.MustRegister(queueWait, syncs, throttled, staleStatusWrites, sessionRestarts, podCreateLatency, superPodCreateCall, podRunningLatency)
}

// queueDepth reports each tenant's queued objects at scrape time.
type queueDepth struct{ s *Syncer }

var (
	queueDepthDesc = prometheus.NewDesc("vcp_syncer_queue_depth", "Objects a tenant has waiting in the fair queue.", []string{"tenant"}, nil)
	tenantsDesc    = prometheus.NewDesc("vcp_syncer_tenants", "Tenants with a session, by state: synced (its caches hold the tenant's objects) or starting.", []string{"state"}, nil)
)

func (c queueDepth) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepthDesc
	ch <- tenantsDesc
}

func (c queueDepth) Collect(ch chan<- prometheus.Metric) {
	c.s.mu.RLock()
	sessions := make(map[string]*session, len(c.s.sessions))
	for k, sess := range c.s.sessions {
		sessions[k] = sess
	}
	c.s.mu.RUnlock()
	synced := 0
	for tenant, sess := range sessions {
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(c.s.queue.Len(tenant)), tenant)
		if sess.synced() {
			synced++
		}
	}
	ch <- prometheus.MustNewConstMetric(tenantsDesc, prometheus.GaugeValue, float64(synced), "synced")
	ch <- prometheus.MustNewConstMetric(tenantsDesc, prometheus.GaugeValue, float64(len(sessions)-synced), "starting")
}

// firstSeen remembers when the syncer first saw something happen (a tenant pod created,
// a super pod Running) until the matching sync finished, to observe the latency between.
type firstSeen struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (f *firstSeen) mark(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.at == nil {
		f.at = map[string]time.Time{}
	}
	if _, ok := f.at[key]; !ok {
		f.at[key] = time.Now()
	}
}

// done observes the time since key was marked, once, into h.
func (f *firstSeen) done(key string, h prometheus.Observer) {
	f.mu.Lock()
	at, ok := f.at[key]
	delete(f.at, key)
	f.mu.Unlock()
	if ok {
		h.Observe(time.Since(at).Seconds())
	}
}

// forget drops a mark that will never be done (the object went away).
func (f *firstSeen) forget(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.at, key)
}
