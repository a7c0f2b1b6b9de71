package controller

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/syncer/internal/translate"
	"github.com/vcp-dev/vcp/syncer/naming"
)

var (
	orphansRemoved = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "vcp_syncer_patrol_orphans_removed_total",
		Help: "Super namespaces removed by the patroller because no VirtualCluster has their tenant key.",
	})
	patrolMismatches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vcp_syncer_patrol_mismatches_total",
		Help: "Differences the patroller found between a tenant and the super cluster, by tenant, kind and reason (missing, orphan, status, stale, markers); each is queued for repair.",
	}, []string{"tenant", "kind", "reason"})
	patrolDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "vcp_syncer_patrol_duration_seconds",
		Help:    "How long one patrol pass (every tenant's caches against the super cluster's) took.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	})
)

func init() { ctrlmetrics.Registry.MustRegister(orphansRemoved, patrolMismatches, patrolDuration) }

// Patroller is the syncer's safety net behind its event handlers. Every interval it
// deletes the super namespaces (and so everything in them) labelled with a tenant key no
// VirtualCluster has, and compares every running tenant's cached namespaces, pods,
// ConfigMaps, Secrets, Services, Endpoints, EndpointSlices, claims, Ingresses,
// NetworkPolicies and service-account token Secrets with the super cluster's (the
// objects the tenant's are copied to): a super object missing, one whose tenant object is gone or has another UID
// (an orphan; for a token Secret also one no pod mounts any more), a pod whose phase or
// node differs, a pod whose NetworkPolicy markers are not what the tenant's policies
// say (markers), or a token due for renewal or edited by hand (stale), is counted and
// queued, and the usual sync repairs it.
type Patroller struct {
	// VirtualClusters lists every VirtualCluster, in any phase (the manager's cache).
	VirtualClusters client.Reader
	Syncer          *Syncer
	Interval        time.Duration
}

// Start patrols until ctx ends. It is a controller-runtime Runnable (leader only).
func (p *Patroller) Start(ctx context.Context) error {
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		if n, err := p.removeOrphanNamespaces(ctx); err != nil {
			klog.FromContext(ctx).Error(err, "patrol failed")
		} else if n > 0 {
			klog.FromContext(ctx).Info("patrol removed orphaned super namespaces", "count", n)
		}
		if n := p.Syncer.Patrol(); n > 0 {
			klog.FromContext(ctx).Info("patrol queued repairs", "count", n)
		}
	}, p.Interval)
	return nil
}

func (p *Patroller) removeOrphanNamespaces(ctx context.Context) (int, error) {
	if p.Syncer.superNSs == nil {
		return 0, nil // the syncer's caches are not up yet
	}
	vcs := &tenancyv1alpha1.VirtualClusterList{}
	if err := p.VirtualClusters.List(ctx, vcs); err != nil {
		return 0, err
	}
	known := map[string]bool{}
	for _, vc := range vcs.Items {
		known[vc.TenantKey()] = true
	}
	namespaces, err := p.Syncer.superNSs.List(labels.Everything())
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, ns := range namespaces {
		key := ns.Labels[naming.LabelTenant]
		if key == "" || known[key] || !ns.DeletionTimestamp.IsZero() {
			continue
		}
		if err := p.Syncer.superClient.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &ns.UID}}); ignoreGone(err) != nil {
			return removed, err
		}
		removed++
		orphansRemoved.Inc()
	}
	return removed, nil
}

// classResync is how often the patrol has a tenant's mirrored classes compared: each
// comparison lists four kinds in the tenant API.
const classResync = time.Minute

// patrolled is one super object as the patrol compares it.
type patrolled struct {
	uid   string
	phase corev1.PodPhase
	node  string
	// stale marks a token Secret to renew (due, or not holding a valid token).
	stale bool
	// markers are a pod's NetworkPolicy markers (markersOf).
	markers string
}

// markersOf is how the patrol compares a pod's NetworkPolicy markers: the super pod's
// labels of translate.LabelPolicyIngress and LabelPolicyEgress, or the markers the
// tenant pod's should be.
func markersOf(labels map[string]string) string {
	return labels[translate.LabelPolicyIngress] + "/" + labels[translate.LabelPolicyEgress]
}

// Patrol compares every synced tenant's caches with the super cluster's once and queues
// each mismatch; it returns how many it queued. It reads caches only: a pass over 10,000
// pods takes milliseconds and writes nothing.
func (s *Syncer) Patrol() int {
	if s.superPods == nil {
		return 0
	}
	start := time.Now()
	defer func() { patrolDuration.Observe(time.Since(start).Seconds()) }()
	// One pass over each super cache, grouped by tenant.
	superObjs := map[Kind]map[string]map[Key]patrolled{}
	group := func(kind Kind, objs []metav1.Object, detail func(i int) patrolled) {
		byTenant := map[string]map[Key]patrolled{}
		for i, o := range objs {
			id, ok := naming.IdentityOf(o)
			if !ok || o.GetDeletionTimestamp() != nil {
				continue
			}
			if byTenant[id.Tenant] == nil {
				byTenant[id.Tenant] = map[Key]patrolled{}
			}
			d := detail(i)
			d.uid = id.UID
			byTenant[id.Tenant][Key{Kind: kind, Namespace: id.Namespace, Name: id.Name}] = d
		}
		superObjs[kind] = byTenant
	}
	if pods, err := s.superPods.List(labels.Everything()); err == nil {
		group(KindPod, asObjects(pods), func(i int) patrolled {
			return patrolled{phase: pods[i].Status.Phase, node: pods[i].Spec.NodeName, markers: markersOf(pods[i].Labels)}
		})
	}
	none := func(int) patrolled { return patrolled{} }
	if cms, err := s.superConfigMaps.List(labels.Everything()); err == nil {
		group(KindConfigMap, asObjects(cms), none)
	}
	if secrets, err := s.superSecrets.List(labels.Everything()); err == nil {
		// Token Secrets stand for service accounts, the others for tenant Secrets.
		var copies, tokens []*corev1.Secret
		for _, secret := range secrets {
			if secret.Labels[translate.LabelServiceAccountToken] == "true" {
				tokens = append(tokens, secret)
			} else {
				copies = append(copies, secret)
			}
		}
		group(KindSecret, asObjects(copies), none)
		now := time.Now()
		group(KindServiceAccount, asObjects(tokens), func(i int) patrolled {
			refreshAt, ok := translate.TokenRefreshAt(tokens[i], tokens[i].Labels[naming.LabelNamespace])
			return patrolled{stale: !ok || !now.Before(refreshAt)}
		})
	}
	if policies, err := s.superNetworkPolicies.List(labels.Everything()); err == nil {
		group(KindNetworkPolicy, asObjects(policies), none) // the platform's have no identity
	}
	if svcs, err := s.superServices.List(labels.Everything()); err == nil {
		group(KindService, asObjects(svcs), none)
	}
	// Only the syncer's copies have an identity: the super endpoints controller's carry the
	// labels of their Service, not its annotations.
	if eps, err := s.superEndpoints.List(labels.Everything()); err == nil {
		group(KindEndpoints, asObjects(eps), none)
	}
	if claims, err := s.superClaims.List(labels.Everything()); err == nil {
		group(KindClaim, asObjects(claims), none)
	}
	if ings, err := s.superIngresses.List(labels.Everything()); err == nil {
		group(KindIngress, asObjects(ings), none)
	}
	if nss, err := s.superNSs.List(labels.Everything()); err == nil {
		group(KindNamespace, asObjects(nss), none)
	}
	// Only the syncer's copies: the super mirroring controller's slices carry the identity
	// of the tenant Endpoints they mirror.
	if eps, err := s.superSlices.List(labels.SelectorFromSet(labels.Set{discoveryv1.LabelManagedBy: translate.EndpointSliceManager})); err == nil {
		group(KindEndpointSlice, asObjects(eps), none)
	}

	s.mu.RLock()
	sessions := make([]*session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	s.mu.RUnlock()
	queued := 0
	for _, sess := range sessions {
		if sess.synced() {
			queued += s.patrolTenant(sess, superObjs)
		}
	}
	return queued
}

// patrolTenant compares one tenant's caches with its super objects.
func (s *Syncer) patrolTenant(sess *session, superObjs map[Kind]map[string]map[Key]patrolled) int {
	// Classes are few but live only in the tenant API (no cache): compare them by syncing,
	// at most every classResync (a tenant may have deleted its copy).
	if sess.classesDue(classResync) {
		s.queue.Add(sess.key, Key{Kind: KindClasses})
	}
	sess.prunePrereqs()
	queued := 0
	report := func(key Key, reason string) {
		patrolMismatches.WithLabelValues(sess.key, string(key.Kind), reason).Inc()
		s.queue.Add(sess.key, key)
		queued++
	}
	compare := func(kind Kind, tenantObjs []metav1.Object, detail func(i int) patrolled, wanted func(i int) bool) {
		super := superObjs[kind][sess.key]
		for i, o := range tenantObjs {
			key := Key{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName()}
			if o.GetDeletionTimestamp() != nil || !wanted(i) {
				continue
			}
			got, ok := super[key]
			var want patrolled
			if detail != nil {
				want = detail(i)
			}
			switch {
			case !ok:
				report(key, "missing")
			case got.uid != string(o.GetUID()):
				report(key, "orphan")
			case detail == nil || want == got:
			case got.stale:
				report(key, "stale")
			case want.markers != got.markers:
				report(key, "markers")
			default:
				report(key, "status")
			}
			delete(super, key)
		}
		// What is left stands for tenant objects that no longer exist.
		for key := range super {
			report(key, "orphan")
		}
	}
	all := func(int) bool { return true }
	policies, policiesErr := sess.netpols.List(labels.Everything())
	if pods, err := sess.pods.List(labels.Everything()); err == nil && policiesErr == nil {
		byNamespace := map[string][]*networkingv1.NetworkPolicy{}
		for _, np := range policies {
			byNamespace[np.Namespace] = append(byNamespace[np.Namespace], np)
		}
		compare(KindPod, asObjects(pods), func(i int) patrolled {
			return patrolled{uid: string(pods[i].UID), phase: pods[i].Status.Phase, node: pods[i].Spec.NodeName,
				markers: markersOf(translate.PolicyMarkers(pods[i].Labels, byNamespace[pods[i].Namespace]))}
		}, all)
	}
	if cms, err := sess.configMaps.List(labels.Everything()); err == nil {
		compare(KindConfigMap, asObjects(cms), nil, func(i int) bool { return cms[i].Name != translate.RootCAConfigMap })
	}
	if secrets, err := sess.secrets.List(labels.Everything()); err == nil {
		compare(KindSecret, asObjects(secrets), nil, func(i int) bool {
			return secrets[i].Type != corev1.SecretTypeServiceAccountToken && !strings.HasPrefix(secrets[i].Name, translate.TokenSecretPrefix)
		})
	}
	if accounts, err := sess.accounts.List(labels.Everything()); err == nil {
		compare(KindServiceAccount, asObjects(accounts), func(i int) patrolled { return patrolled{uid: string(accounts[i].UID)} },
			func(i int) bool { return sess.tokenInUse(accounts[i].Namespace, accounts[i].Name) })
	}
	if policiesErr == nil {
		compare(KindNetworkPolicy, asObjects(policies), nil, all)
	}
	if eps, err := sess.slices.List(labels.Everything()); err == nil {
		compare(KindEndpointSlice, asObjects(eps), nil, func(i int) bool { return translate.EndpointSliceCopied(eps[i]) })
	}
	if svcs, err := sess.services.List(labels.Everything()); err == nil {
		compare(KindService, asObjects(svcs), nil, func(i int) bool {
			return !translate.TenantAPIService(svcs[i].Namespace, svcs[i].Name)
		})
	}
	if eps, err := sess.endpoints.List(labels.Everything()); err == nil {
		compare(KindEndpoints, asObjects(eps), nil, func(i int) bool { return sess.endpointsCopied(eps[i].Namespace, eps[i].Name) })
	}
	if claims, err := sess.claims.List(labels.Everything()); err == nil {
		compare(KindClaim, asObjects(claims), nil, all)
	}
	if ings, err := sess.ingresses.List(labels.Everything()); err == nil {
		compare(KindIngress, asObjects(ings), nil, all)
	}
	if nss, err := sess.nss.List(labels.Everything()); err == nil {
		compare(KindNamespace, asObjects(nss), nil, all)
	}
	return queued
}

func asObjects[T metav1.Object](objs []T) []metav1.Object {
	out := make([]metav1.Object, len(objs))
	for i, o := range objs {
		out[i] = o
	}
	return out
}
