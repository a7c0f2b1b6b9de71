// Package controller is the syncer's engine: one session per running tenant (its
// informers on the tenant API), super-cluster informers on every object labelled for a
// tenant, and workers that take (tenant, object) keys from the fair queue and make the
// super cluster match the tenant (downward) and the tenant's status match the super
// cluster (upward).
package controller

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	networkinglisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/syncer/internal/fairqueue"
	"github.com/vcp-dev/vcp/syncer/internal/translate"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// Kind is the kind of object a queue key names.
type Kind string

// The kinds the syncer handles.
const (
	KindNamespace Kind = "Namespace"
	KindPod       Kind = "Pod"
	KindConfigMap Kind = "ConfigMap"
	KindSecret    Kind = "Secret"
	KindService   Kind = "Service"
	KindEndpoints Kind = "Endpoints"
	// KindEndpointSlice names a tenant EndpointSlice that the tenant keeps
	// (translate.EndpointSliceCopied).
	KindEndpointSlice Kind = "EndpointSlice"
	KindClaim         Kind = "PersistentVolumeClaim"
	KindIngress       Kind = "Ingress"
	// KindEvent names a super Event (by its name) in a tenant namespace's super namespace.
	KindEvent Kind = "Event"
	// KindClasses names the classes (storage, ingress, runtime, priority) the tenant sees.
	KindClasses Kind = "Classes"
	// KindPool names the tenant's node pool: every super node in it gets a virtual node.
	KindPool Kind = "Pool"
	// KindServiceAccount names a tenant ServiceAccount: its token Secret in the super
	// namespace (translate.TokenSecret) while synced pods use it.
	KindServiceAccount Kind = "ServiceAccount"
	// KindNetworkPolicy names a tenant NetworkPolicy (its super copy is renamed,
	// naming.SuperNetworkPolicyName).
	KindNetworkPolicy Kind = "NetworkPolicy"
)

// Key names a tenant object to reconcile; the tenant is the queue's.
type Key struct {
	Kind      Kind
	Namespace string
	Name      string
}

// Syncer syncs every running tenant with the super cluster.
type Syncer struct {
	superClient     kubernetes.Interface
	superPods       corelisters.PodLister
	superNSs        corelisters.NamespaceLister
	superConfigMaps corelisters.ConfigMapLister
	superSecrets    corelisters.SecretLister
	superServices   corelisters.ServiceLister
	superEndpoints  corelisters.EndpointsLister
	superSlices     discoverylisters.EndpointSliceLister
	superNodes      corelisters.NodeLister
	// Listers of the platform objects in tenants' super namespaces.
	superNetworkPolicies networkinglisters.NetworkPolicyLister
	superQuotas          corelisters.ResourceQuotaLister
	superLimitRanges     corelisters.LimitRangeLister
	superEvents          corelisters.EventLister
	superClaims          corelisters.PersistentVolumeClaimLister
	superVolumes         corelisters.PersistentVolumeLister
	superIngresses       networkinglisters.IngressLister
	classes              classListers
	queue                *fairqueue.Queue[Key]
	workers              int

	// TenantQPS and TenantBurst bound how many objects of one tenant are synced per
	// second (each sync writes at most a couple of super objects): a tenant creating
	// thousands of objects cannot flood the super cluster's API.
	TenantQPS   float64
	TenantBurst int

	// PlatformNamespace is where the platform (tenant API servers, node agents) runs:
	// tenants' VPC policies let traffic to and from it through.
	PlatformNamespace string

	// TokenLifetime is how long the service-account tokens minted for tenant pods are
	// valid; each is replaced after translate.TokenRefreshFraction of it.
	TokenLifetime time.Duration

	// ClusterDomain is the super kubelets' cluster domain ("" is clusterdomain.Default).
	ClusterDomain string

	mu       sync.RWMutex
	sessions map[string]*session

	// newPods and runningPods time the two latencies the metrics report.
	newPods, runningPods firstSeen
}

// New returns a syncer writing to the super cluster through superClient. Start runs it.
func New(superClient kubernetes.Interface, workers int) *Syncer {
	s := &Syncer{superClient: superClient, queue: fairqueue.New[Key](), workers: max(1, workers), sessions: map[string]*session{}, PlatformNamespace: "vcp-system", TenantQPS: 200, TenantBurst: 400, TokenLifetime: time.Hour}
	s.queue.OnServe = func(tenant string, waited time.Duration) { queueWait.WithLabelValues(tenant).Observe(waited.Seconds()) }
	ctrlmetrics.Registry.MustRegister(queueDepth{s})
	return s
}

// Start runs the super-cluster informers and the workers until ctx ends. It is a
// controller-runtime Runnable, so it runs only on the elected leader.
func (s *Syncer) Start(ctx context.Context) error {
	factory := informers.NewSharedInformerFactoryWithOptions(s.superClient, 10*time.Minute, informers.WithTransform(slimSuperObject),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = naming.LabelTenant }))
	core := factory.Core().V1()
	s.superPods, s.superNSs = core.Pods().Lister(), core.Namespaces().Lister()
	s.superConfigMaps, s.superSecrets = core.ConfigMaps().Lister(), core.Secrets().Lister()
	s.superServices, s.superEndpoints = core.Services().Lister(), core.Endpoints().Lister() //nolint:staticcheck // Endpoints of selector-less Services are what tenants write
	s.superClaims, s.superIngresses = core.PersistentVolumeClaims().Lister(), factory.Networking().V1().Ingresses().Lister()
	s.superSlices = factory.Discovery().V1().EndpointSlices().Lister()
	// A change to a super object (a pod scheduled or running; anything edited or deleted by
	// hand) is work for the tenant object it stands for: drift is repaired as it happens.
	s.superNetworkPolicies = factory.Networking().V1().NetworkPolicies().Lister()
	s.superQuotas, s.superLimitRanges = core.ResourceQuotas().Lister(), core.LimitRanges().Lister()
	for _, inf := range []cache.SharedIndexInformer{core.ResourceQuotas().Informer(), core.LimitRanges().Informer()} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: s.enqueueIsolation, UpdateFunc: func(_, obj any) { s.enqueueIsolation(obj) }, DeleteFunc: s.enqueueIsolation}); err != nil {
			return err
		}
	}
	// A super NetworkPolicy is either the copy of a tenant's (it has an identity) or the
	// platform's VPC policy of its namespace.
	enqueueTenantPolicy := s.enqueueSuper(KindNetworkPolicy)
	enqueuePolicy := func(obj any) {
		if m, err := meta.Accessor(unwrapTombstone(obj)); err == nil {
			if _, ok := naming.IdentityOf(m); ok {
				enqueueTenantPolicy(obj)
				return
			}
		}
		s.enqueueIsolation(obj)
	}
	if _, err := factory.Networking().V1().NetworkPolicies().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: enqueuePolicy, UpdateFunc: func(_, obj any) { enqueuePolicy(obj) }, DeleteFunc: enqueuePolicy,
	}); err != nil {
		return err
	}
	for kind, inf := range map[Kind]cache.SharedIndexInformer{
		KindNamespace: core.Namespaces().Informer(), KindPod: core.Pods().Informer(), KindConfigMap: core.ConfigMaps().Informer(), KindSecret: core.Secrets().Informer(),
		KindService: core.Services().Informer(), KindEndpoints: core.Endpoints().Informer(), //nolint:staticcheck
		KindClaim: core.PersistentVolumeClaims().Informer(), KindIngress: factory.Networking().V1().Ingresses().Informer(),
		KindEndpointSlice: factory.Discovery().V1().EndpointSlices().Informer(),
	} {
		enqueue := s.enqueueSuper(kind)
		update := func(old, obj any) {
			s.markRunning(old, obj)
			enqueue(obj)
		}
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: enqueue, UpdateFunc: update, DeleteFunc: enqueue}); err != nil {
			return err
		}
	}
	// Nodes and Events carry no tenant label: they get a factory of their own. A node
	// joining a pool is work for every tenant of that pool; an Event in a tenant's super
	// namespace is copied to the tenant.
	nodeFactory := informers.NewSharedInformerFactoryWithOptions(s.superClient, 10*time.Minute, informers.WithTransform(slimSuperObject))
	// Only warnings are copied (enqueueEvent): the API server filters the rest out, so the
	// Normal events of every super pod (Scheduled, Pulled, Started...) are neither sent to
	// nor cached by the syncer.
	eventFactory := informers.NewSharedInformerFactoryWithOptions(s.superClient, 10*time.Minute, informers.WithTransform(slimSuperObject),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = "type=" + corev1.EventTypeWarning }))
	s.superEvents = eventFactory.Core().V1().Events().Lister()
	s.superVolumes = nodeFactory.Core().V1().PersistentVolumes().Lister()
	_ = nodeFactory.Core().V1().PersistentVolumes().Informer()
	if _, err := eventFactory.Core().V1().Events().Informer().AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{
		AddFunc:    s.enqueueEvent,
		UpdateFunc: func(_, obj any) { s.enqueueEvent(obj, false) },
	}); err != nil {
		return err
	}
	s.classes = classListers{
		storage: nodeFactory.Storage().V1().StorageClasses().Lister(), priority: nodeFactory.Scheduling().V1().PriorityClasses().Lister(),
		ingress: nodeFactory.Networking().V1().IngressClasses().Lister(), runtime: nodeFactory.Node().V1().RuntimeClasses().Lister(),
	}
	for _, inf := range []cache.SharedIndexInformer{nodeFactory.Storage().V1().StorageClasses().Informer(), nodeFactory.Scheduling().V1().PriorityClasses().Informer(),
		nodeFactory.Networking().V1().IngressClasses().Informer(), nodeFactory.Node().V1().RuntimeClasses().Informer()} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: s.enqueueClasses, UpdateFunc: func(_, obj any) { s.enqueueClasses(obj) }, DeleteFunc: s.enqueueClasses}); err != nil {
			return err
		}
	}
	s.superNodes = nodeFactory.Core().V1().Nodes().Lister()
	if _, err := nodeFactory.Core().V1().Nodes().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: s.enqueuePool}); err != nil {
		return err
	}
	for _, f := range []informers.SharedInformerFactory{factory, nodeFactory, eventFactory} {
		f.Start(ctx.Done())
		for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
			if !ok {
				return fmt.Errorf("super-cluster %v cache did not sync", typ)
			}
		}
	}
	var wg sync.WaitGroup
	for range s.workers {
		wg.Go(func() { s.work(ctx, s.queue.Get) })
	}
	// A lane for tenants that ask for little (fairqueue.GetLight): a quiet tenant's pod
	// need not wait until one of the workers busy with greedy tenants' pods is free.
	for range lightWorkers(s.workers) {
		wg.Go(func() { s.work(ctx, s.queue.GetLight) })
	}
	<-ctx.Done()
	s.queue.ShutDown()
	wg.Wait()
	s.mu.Lock()
	for key, sess := range s.sessions {
		sess.stop()
		delete(s.sessions, key)
	}
	s.mu.Unlock()
	return nil
}

func (s *Syncer) enqueueSuper(kind Kind) func(any) {
	return func(obj any) {
		m, err := meta.Accessor(unwrapTombstone(obj))
		if err != nil {
			return
		}
		id, ok := naming.IdentityOf(m)
		if !ok {
			return
		}
		if kind == KindEndpointSlice && m.GetLabels()[discoveryv1.LabelManagedBy] != translate.EndpointSliceManager {
			// The super mirroring controller's, from the copy of a tenant's Endpoints,
			// whose labels and annotations (the identity, too) it copies.
			return
		}
		if kind == KindSecret && m.GetLabels()[translate.LabelServiceAccountToken] == "true" {
			// A token Secret stands for the service account it holds a token of.
			s.queue.Add(id.Tenant, Key{Kind: KindServiceAccount, Namespace: id.Namespace, Name: id.Name})
			return
		}
		s.queue.Add(id.Tenant, Key{Kind: kind, Namespace: id.Namespace, Name: id.Name})
	}
}

func unwrapTombstone(obj any) any {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return tomb.Obj
	}
	return obj
}

// enqueuePool queues the pool of every tenant whose pool the node is in.
func (s *Syncer) enqueuePool(obj any) {
	node, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	pool := node.Labels[tenancyv1alpha1.NodePoolLabel]
	if pool == "" {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for key, sess := range s.sessions {
		if sess.currentIsolation().NodePool == pool {
			s.queue.Add(key, Key{Kind: KindPool})
		}
	}
}

// markRunning starts the Running-latency clock when a super pod turns Running.
func (s *Syncer) markRunning(old, obj any) {
	oldPod, ok1 := old.(*corev1.Pod)
	pod, ok2 := obj.(*corev1.Pod)
	if !ok1 || !ok2 || oldPod.Status.Phase == corev1.PodRunning || pod.Status.Phase != corev1.PodRunning {
		return
	}
	if id, ok := naming.IdentityOf(pod); ok {
		s.runningPods.mark(id.Tenant + "/" + id.Namespace + "/" + id.Name)
	}
}

// lightWorkers is how many workers serve only tenants that ask for little (a quarter of
// the shared ones, at least two).
func lightWorkers(workers int) int { return max(2, workers/4) }

func (s *Syncer) work(ctx context.Context, get func() (string, Key, bool)) {
	for {
		tenant, key, shutdown := get()
		if shutdown {
			return
		}
		s.mu.RLock()
		sess := s.sessions[tenant]
		s.mu.RUnlock()
		if sess != nil {
			// A tenant over its sync rate waits in the queue, not in a worker: the
			// workers go on serving the other tenants.
			if delay := sess.throttle(); delay > 0 {
				throttled.WithLabelValues(tenant).Inc()
				s.queue.Done(tenant, key)
				s.queue.AddAfter(tenant, key, delay)
				continue
			}
		}
		var err error
		if sess != nil {
			err = s.reconcile(ctx, sess, key)
			result := "ok"
			switch {
			case errors.Is(err, errNotSynced):
				result = "not_synced"
			case err != nil:
				result = "error"
			}
			syncs.WithLabelValues(tenant, string(key.Kind), result).Inc()
		}
		s.queue.Done(tenant, key)
		switch {
		case errors.Is(err, errNotSynced):
			// The session just started: its caches fill in a fraction of a second.
			s.queue.AddAfter(tenant, key, 100*time.Millisecond)
		case err != nil && ctx.Err() == nil:
			klog.FromContext(ctx).V(2).Info("sync failed; retrying", "tenant", tenant, "kind", key.Kind, "namespace", key.Namespace, "name", key.Name, "err", err)
			s.queue.AddAfter(tenant, key, time.Second)
		}
	}
}

func (s *Syncer) reconcile(ctx context.Context, sess *session, key Key) error {
	if !sess.synced() {
		return errNotSynced
	}
	switch key.Kind {
	case KindNamespace:
		return s.syncNamespace(ctx, sess, key.Name)
	case KindPod:
		return s.syncPod(ctx, sess, key.Namespace, key.Name)
	case KindConfigMap:
		return s.syncConfigMap(ctx, sess, key.Namespace, key.Name)
	case KindSecret:
		return s.syncSecret(ctx, sess, key.Namespace, key.Name)
	case KindService:
		return s.syncService(ctx, sess, key.Namespace, key.Name)
	case KindEndpoints:
		return s.syncEndpoints(ctx, sess, key.Namespace, key.Name)
	case KindEndpointSlice:
		return s.syncEndpointSlice(ctx, sess, key.Namespace, key.Name)
	case KindIngress:
		return s.syncIngress(ctx, sess, key.Namespace, key.Name)
	case KindClaim:
		return s.syncClaim(ctx, sess, key.Namespace, key.Name)
	case KindEvent:
		return s.syncEvent(ctx, sess, key.Namespace, key.Name)
	case KindClasses:
		return s.syncClasses(ctx, sess)
	case KindPool:
		return s.syncPool(ctx, sess)
	case KindServiceAccount:
		return s.syncServiceAccountToken(ctx, sess, key.Namespace, key.Name)
	case KindNetworkPolicy:
		return s.syncNetworkPolicy(ctx, sess, key.Namespace, key.Name)
	}
	return nil
}

// TenantConfig is what the syncer needs to serve one tenant.
type TenantConfig struct {
	Key       string
	Client    kubernetes.Interface
	Isolation translate.Isolation
	Weight    int
}

// EnsureTenant starts (or updates) the session of a running tenant.
func (s *Syncer) EnsureTenant(cfg TenantConfig) error {
	s.queue.SetWeight(cfg.Key, cfg.Weight)
	s.mu.Lock()
	defer s.mu.Unlock()
	if sess, ok := s.sessions[cfg.Key]; ok {
		old := sess.currentIsolation()
		sess.setIsolation(cfg.Isolation)
		if old.NodePool != cfg.Isolation.NodePool {
			s.queue.Add(cfg.Key, Key{Kind: KindPool})
		}
		if !apiequality.Semantic.DeepEqual(old, cfg.Isolation) {
			s.queue.Add(cfg.Key, Key{Kind: KindClasses})
		}
		if !apiequality.Semantic.DeepEqual(old, cfg.Isolation) && sess.synced() {
			// Every super namespace carries the isolation, and the tenant's own network
			// policies are translated with it: bring each up to date.
			nss, err := sess.nss.List(labels.Everything())
			if err != nil {
				return err
			}
			for _, ns := range nss {
				s.queue.Add(cfg.Key, Key{Kind: KindNamespace, Name: ns.Name})
			}
			policies, err := sess.netpols.List(labels.Everything())
			if err != nil {
				return err
			}
			for _, np := range policies {
				s.queue.Add(cfg.Key, Key{Kind: KindNetworkPolicy, Namespace: np.Namespace, Name: np.Name})
			}
		}
		return nil
	}
	sess, err := startSession(cfg, s.queue, &s.newPods)
	if err != nil {
		return err
	}
	sess.limiter = rate.NewLimiter(rate.Limit(s.TenantQPS), s.TenantBurst)
	s.sessions[cfg.Key] = sess
	s.queue.Add(cfg.Key, Key{Kind: KindPool})
	s.queue.Add(cfg.Key, Key{Kind: KindClasses})
	return nil
}

// hasSession reports whether the tenant has a session.
func (s *Syncer) hasSession(key string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.sessions[key]
	return ok
}

// RemoveTenant stops a tenant's session (paused or deleted tenants).
func (s *Syncer) RemoveTenant(key string) {
	s.mu.Lock()
	sess, ok := s.sessions[key]
	delete(s.sessions, key)
	s.mu.Unlock()
	if ok {
		sess.stop()
		s.queue.RemoveTenant(key)
	}
}

// Tenants lists the tenants with a running session.
func (s *Syncer) Tenants() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.sessions))
	for k := range s.sessions {
		out = append(out, k)
	}
	return out
}

// session is one tenant: its client, informers and isolation.
type session struct {
	key        string
	client     kubernetes.Interface
	pods       corelisters.PodLister
	nss        corelisters.NamespaceLister
	configMaps corelisters.ConfigMapLister
	secrets    corelisters.SecretLister
	services   corelisters.ServiceLister
	endpoints  corelisters.EndpointsLister
	slices     discoverylisters.EndpointSliceLister
	claims     corelisters.PersistentVolumeClaimLister
	ingresses  networkinglisters.IngressLister
	netpols    networkinglisters.NetworkPolicyLister
	accounts   corelisters.ServiceAccountLister
	// tokenPods indexes the tenant pods that mount a service-account token by
	// "<namespace>/<service account>" (podsByTokenAccount).
	tokenPods cache.Indexer
	cancel    context.CancelFunc
	// synced reports whether the tenant informers hold the tenant's state: before that a
	// missing object means "not seen yet", never "deleted".
	synced func() bool

	mu        sync.RWMutex
	isolation translate.Isolation
	// tenantNodes are the tenant's Nodes (the virtual nodes the syncer made).
	tenantNodes corelisters.NodeLister
	// limiter is the tenant's sync rate (Syncer.TenantQPS).
	limiter *rate.Limiter
	// classesQueued is when the patrol last queued the tenant's classes.
	classesQueued time.Time
	// tokenRefreshes is when each service account's token Secret is queued for renewal.
	tokenRefreshes map[Key]time.Time
	// prereqs are what new super pods need first (ensureOnce), by kind/namespace/name.
	prereqs sync.Map
}

// prereqFresh is how long a prerequisite of new super pods that was just ensured is
// taken as there: longer than the super cache takes to show it, which is then the
// authority again.
const prereqFresh = 30 * time.Second

// prereq is one prerequisite of new super pods: one ensure at a time, and when it last
// succeeded.
type prereq struct {
	mu   sync.Mutex
	done time.Time
}

// ensureOnce runs ensure, which makes something new super pods need (a service
// account's token Secret, the root CA ConfigMap of a namespace), unless it succeeded
// within prereqFresh; callers for the same key wait for one run. The first pods of a
// namespace are synced at once by several workers, and each found the prerequisite
// missing from the super cache (which has not seen the first one's create yet): each
// minted a token and created the Secret again (68 token requests for 20 namespaces in
// make bench-deliver).
func (sess *session) ensureOnce(key Key, ensure func() error) error {
	v, _ := sess.prereqs.LoadOrStore(key, &prereq{})
	p := v.(*prereq)
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.done) < prereqFresh {
		return nil
	}
	if err := ensure(); err != nil {
		return err
	}
	p.done = time.Now()
	return nil
}

// prunePrereqs forgets the prerequisites ensured more than prereqFresh ago (they count
// for nothing then): a session would otherwise keep one per namespace and service
// account that ever had a new pod. One being ensured is kept; a caller that loaded an
// entry just before it went ensures once more, as every caller did before ensureOnce.
func (sess *session) prunePrereqs() {
	sess.prereqs.Range(func(k, v any) bool {
		p := v.(*prereq)
		if p.mu.TryLock() {
			if time.Since(p.done) >= prereqFresh {
				sess.prereqs.Delete(k)
			}
			p.mu.Unlock()
		}
		return true
	})
}

// classesDue reports whether the tenant's classes were last queued by the patrol more
// than every ago, and if so records now.
func (s *session) classesDue(every time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.classesQueued) < every {
		return false
	}
	s.classesQueued = time.Now()
	return true
}

// throttle takes one sync from the tenant's rate, or returns how long to wait for one.
func (s *session) throttle() time.Duration {
	if s.limiter == nil {
		return 0
	}
	r := s.limiter.Reserve()
	delay := r.Delay()
	if delay > 0 {
		r.Cancel()
	}
	return delay
}

func (s *session) hasNode(name string) bool {
	_, err := s.tenantNodes.Get(name)
	return err == nil
}

func startSession(cfg TenantConfig, queue *fairqueue.Queue[Key], newPods *firstSeen) (*session, error) {
	ctx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactoryWithOptions(cfg.Client, 10*time.Minute, informers.WithTransform(slimTenantObject))
	core := factory.Core().V1()
	sess := &session{key: cfg.Key, client: cfg.Client, pods: core.Pods().Lister(), nss: core.Namespaces().Lister(),
		configMaps: core.ConfigMaps().Lister(), secrets: core.Secrets().Lister(), services: core.Services().Lister(),
		endpoints: core.Endpoints().Lister(), tenantNodes: core.Nodes().Lister(), claims: core.PersistentVolumeClaims().Lister(), ingresses: factory.Networking().V1().Ingresses().Lister(), cancel: cancel, isolation: cfg.Isolation, //nolint:staticcheck
		slices:  factory.Discovery().V1().EndpointSlices().Lister(),
		netpols: factory.Networking().V1().NetworkPolicies().Lister(), accounts: core.ServiceAccounts().Lister(), tokenPods: core.Pods().Informer().GetIndexer(), tokenRefreshes: map[Key]time.Time{}}
	informerOf := map[Kind]cache.SharedIndexInformer{KindPod: core.Pods().Informer(), KindNamespace: core.Namespaces().Informer(),
		KindConfigMap: core.ConfigMaps().Informer(), KindSecret: core.Secrets().Informer(),
		KindService: core.Services().Informer(), KindEndpoints: core.Endpoints().Informer(), //nolint:staticcheck
		KindClaim: core.PersistentVolumeClaims().Informer(), KindIngress: factory.Networking().V1().Ingresses().Informer(),
		KindServiceAccount: core.ServiceAccounts().Informer(), KindNetworkPolicy: factory.Networking().V1().NetworkPolicies().Informer(),
		KindEndpointSlice: factory.Discovery().V1().EndpointSlices().Informer()}
	if err := core.Pods().Informer().AddIndexers(cache.Indexers{tokenAccountIndex: podsByTokenAccount, tokenRequestIndex: podsByTokenRequest}); err != nil {
		cancel()
		return nil, err
	}
	// A pod that starts or stops mounting a service account's token changes whether the
	// account's token Secret is needed. Queued after the pod itself (same handler): the
	// first of a fresh tenant's items is served at once, the others in the round, and the
	// pod is the one someone waits for (its sync ensures the token Secret anyway).
	enqueueAccount := func(obj any) {
		if pod, ok := unwrapTombstone(obj).(*corev1.Pod); ok {
			if sa, ok := translate.TokenServiceAccount(pod); ok {
				queue.Add(cfg.Key, Key{Kind: KindServiceAccount, Namespace: pod.Namespace, Name: sa})
			}
		}
	}
	// A tenant NetworkPolicy that comes, goes or selects other pods changes the markers of
	// the super pods it selected or selects (translate.PolicyMarkers).
	enqueueSelected := policyPodsEnqueuer(sess.pods, func(ns, name string) { queue.Add(cfg.Key, Key{Kind: KindPod, Namespace: ns, Name: name}) })
	if _, err := factory.Networking().V1().NetworkPolicies().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { enqueueSelected(nil, obj) },
		UpdateFunc: enqueueSelected,
		DeleteFunc: func(obj any) { enqueueSelected(nil, obj) },
	}); err != nil {
		cancel()
		return nil, err
	}
	enqueue := func(kind Kind) func(any) {
		return func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			m, err := meta.Accessor(obj)
			if err != nil {
				return
			}
			queue.Add(cfg.Key, Key{Kind: kind, Namespace: m.GetNamespace(), Name: m.GetName()})
		}
	}
	for kind, inf := range informerOf {
		add := enqueue(kind)
		onUpdate, onDelete, alsoOnAdd := func(_, obj any) { add(obj) }, add, func(any) {}
		if kind == KindPod {
			alsoOnAdd = enqueueAccount
			onUpdate = func(old, obj any) {
				if oldPod, ok := old.(*corev1.Pod); !ok || tenantPodChanged(oldPod, obj.(*corev1.Pod)) {
					add(obj)
				}
			}
			onDelete = func(obj any) {
				add(obj)
				enqueueAccount(obj)
			}
		}
		onAdd := func(obj any, initialList bool) {
			// Pods created while the session runs start the create-latency clock, and so
			// do unbound pods listed at start-up (created just before the session, or
			// while the syncer was down); bound ones have their super pods already.
			if pod, ok := obj.(*corev1.Pod); ok && (!initialList || pod.Spec.NodeName == "") {
				newPods.mark(cfg.Key + "/" + pod.Namespace + "/" + pod.Name)
			}
			add(obj)
			alsoOnAdd(obj)
		}
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{AddFunc: onAdd, UpdateFunc: onUpdate, DeleteFunc: onDelete}); err != nil {
			cancel()
			return nil, err
		}
	}
	nodes := core.Nodes().Informer()
	factory.Start(ctx.Done())
	sess.synced = func() bool {
		for _, inf := range informerOf {
			if !inf.HasSynced() {
				return false
			}
		}
		return nodes.HasSynced()
	}
	return sess, nil
}

func (s *session) stop() { s.cancel() }

// policyPodsEnqueuer returns an event handler of tenant NetworkPolicies that calls add for
// each tenant pod whose markers the change may have changed: those the old or the new
// policy selects, when what decides the markers (pod selector, directions, deletion)
// changed. A resync (no change) queues nothing.
func policyPodsEnqueuer(pods corelisters.PodLister, add func(ns, name string)) func(old, obj any) {
	return func(old, obj any) {
		np, ok := unwrapTombstone(obj).(*networkingv1.NetworkPolicy)
		if !ok {
			return
		}
		policies := []*networkingv1.NetworkPolicy{np}
		if oldNP, ok := old.(*networkingv1.NetworkPolicy); ok {
			if !markersMayDiffer(oldNP, np) {
				return
			}
			policies = append(policies, oldNP)
		}
		queued := map[string]bool{}
		for _, p := range policies {
			selector, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
			if err != nil {
				continue
			}
			selected, err := pods.Pods(p.Namespace).List(selector)
			if err != nil {
				continue
			}
			for _, pod := range selected {
				if !queued[pod.Name] {
					queued[pod.Name] = true
					add(pod.Namespace, pod.Name)
				}
			}
		}
	}
}

// markersMayDiffer reports whether two versions of a tenant NetworkPolicy may mark
// different pods.
func markersMayDiffer(oldNP, np *networkingv1.NetworkPolicy) bool {
	oldIn, oldOut := translate.PolicyDirections(&oldNP.Spec)
	in, out := translate.PolicyDirections(&np.Spec)
	return oldIn != in || oldOut != out || (oldNP.DeletionTimestamp == nil) != (np.DeletionTimestamp == nil) ||
		!apiequality.Semantic.DeepEqual(oldNP.Spec.PodSelector, np.Spec.PodSelector)
}

func (s *session) setIsolation(iso translate.Isolation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.isolation = iso
}

func (s *session) currentIsolation() translate.Isolation {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.isolation
}

var errNotSynced = errors.New("tenant caches not synced yet")

// slimSuperObject keeps of a cached super object what the syncer reads. Of a super pod
// that is its metadata, node and status: the syncer makes a super pod from the tenant
// pod and never compares specs (a pod's spec hardly changes), and the containers and
// volumes are most of a pod. Of an Event, what is copied to the tenant.
func slimSuperObject(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Pod:
		o.Spec = corev1.PodSpec{NodeName: o.Spec.NodeName}
	case *corev1.Event:
		o.Annotations, o.Labels = nil, nil
		o.Related = nil
	}
	return stripManagedFields(obj)
}

// slimTenantObject keeps of a cached tenant object what the syncer reads. A tenant pod
// bound to a node has its super pod (the syncer binds it to the super pod's node), so
// its spec is needed again only to re-create a super pod deleted by hand, and
// createSuperPod then fetches the pod. The cache keeps:
//   - of the spec, the node, the service account and, when the pod mounts a token of it,
//     tokenMarker in place of its volumes (translate.TokenServiceAccount finds it; for
//     tokens of other audiences or short lifetimes too, tokenMarkerFor them);
//   - of the status, the phase, and in Message the digest of the whole status
//     (statusDigest): the syncer only asks whether it equals the super pod's
//     (tenantStatusCurrent), which the super pod's cached status answers.
//
// The status is as large as the spec in the cache, and the super pod holds the same.
func slimTenantObject(obj any) (any, error) {
	if pod, ok := obj.(*corev1.Pod); ok && pod.Spec.NodeName != "" && len(pod.Spec.Containers) > 0 {
		slim := corev1.PodSpec{NodeName: pod.Spec.NodeName, ServiceAccountName: pod.Spec.ServiceAccountName}
		if _, ok := translate.TokenServiceAccount(pod); ok {
			slim.Volumes = tokenMarker
			if requests := translate.TokenRequests(pod); len(requests) > 1 || requests[0] != "" {
				slim.Volumes = tokenMarkerFor(requests)
			}
		}
		pod.Spec = slim
		pod.Status = corev1.PodStatus{Phase: pod.Status.Phase, Message: statusDigest(&pod.Status)}
	}
	return stripManagedFields(obj)
}

// tenantPodChanged reports whether a tenant pod's update can need a sync: not when only
// its node and status changed. Those are the syncer's own writes (the binding and the
// status, two of every pod's updates on its way to Running), and a sync for each cost
// the tenant a turn in the fair queue for nothing: a quiet tenant's next pod waited
// behind them. A status someone else wrote is put right with the next change of the
// super pod's (a phase or node by the patroller, too). A resync (same resourceVersion)
// always counts.
func tenantPodChanged(old, obj *corev1.Pod) bool {
	if old.ResourceVersion == obj.ResourceVersion || old.UID != obj.UID ||
		!maps.Equal(old.Labels, obj.Labels) || !maps.Equal(old.Annotations, obj.Annotations) ||
		!old.DeletionTimestamp.Equal(obj.DeletionTimestamp) {
		return true
	}
	if slimPod(old) != slimPod(obj) {
		// Bound by this update (the cache keeps a bound pod's spec slim): a binding
		// changes nothing but the node.
		return false
	}
	oldSpec, spec := old.Spec, obj.Spec
	oldSpec.NodeName, spec.NodeName = "", ""
	return !apiequality.Semantic.DeepEqual(oldSpec, spec)
}

// tokenMarker is the volume a slim cached tenant pod keeps for all of those holding its
// service-account token. Every such pod shares it: cached objects are never changed in
// place.
var tokenMarker = []corev1.Volume{{Name: "vcp-token-marker", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
	Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}}}}}}

// tokenMarkerFor is the token marker of a pod whose tokens are (also) for audiences other
// than the tenant API's own or short-lived: one projection per token request, so that
// the pod's requests stay known (translate.TokenRequests).
func tokenMarkerFor(requests []string) []corev1.Volume {
	sources := make([]corev1.VolumeProjection, len(requests))
	for i, request := range requests {
		sources[i] = corev1.VolumeProjection{ServiceAccountToken: translate.TokenProjection(request, "token")}
	}
	return []corev1.Volume{{Name: tokenMarker[0].Name, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: sources}}}}
}

// slimPod reports whether a cached tenant pod lost its spec and status to
// slimTenantObject (every pod the API accepts has a container).
func slimPod(pod *corev1.Pod) bool { return len(pod.Spec.Containers) == 0 }

// statusDigest identifies a pod status by its protobuf encoding (deterministic: the
// generated code sorts map keys).
func statusDigest(st *corev1.PodStatus) string {
	b, err := st.Marshal()
	if err != nil {
		return "" // equal to no real status's digest: the status is written
	}
	h := fnv.New64a()
	_, _ = h.Write(b)
	return strconv.FormatUint(h.Sum64(), 16)
}

// tenantStatusCurrent reports whether a cached tenant pod's status is the super pod's.
func tenantStatusCurrent(tenantPod, superPod *corev1.Pod) bool {
	if slimPod(tenantPod) {
		return tenantPod.Status.Message == statusDigest(&superPod.Status)
	}
	return apiequality.Semantic.DeepEqual(tenantPod.Status, superPod.Status)
}

// stripManagedFields drops what the syncer never reads from cached objects: managed
// fields are often the larger half of a pod, and the syncer caches every tenant pod and
// its super pod. (An update sent without them keeps the server's.)
func stripManagedFields(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}
