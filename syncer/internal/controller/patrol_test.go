package controller

import (
	"encoding/base64"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	networkinglisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/vcp-dev/vcp/syncer/internal/fairqueue"
	"github.com/vcp-dev/vcp/syncer/internal/translate"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// jwt returns a token shaped like a tenant API's, with the given claims.
func jwt(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(claims)) + ".c2ln"
}

// tok is a token Secret's tokens: token, for the tenant API's own audience.
func tok(token string) map[string]string { return map[string]string{"": token} }

func indexer(objs ...any) cache.Indexer {
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, o := range objs {
		_ = idx.Add(o)
	}
	return idx
}

// TestPatrolFindsEveryKindOfDrift builds the caches of one tenant and the super cluster
// by hand and checks what one patrol pass queues.
func TestPatrolFindsEveryKindOfDrift(t *testing.T) {
	const key = "t-abc123"
	tenantPod := func(name, uid string, phase corev1.PodPhase, node string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name, UID: types.UID(uid)}, Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: phase}}
	}
	// Network policies: allow's copy is missing, old's tenant policy is gone; the
	// platform's VPC policies stand for no tenant object. allow selects app=web pods for
	// ingress: their super pods carry the ingress marker.
	allow := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "allow", UID: "np1"},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}
	superPod := func(tenant *corev1.Pod, phase corev1.PodPhase) *corev1.Pod {
		p := translate.SuperPod(key, tenant, translate.Isolation{}, []*networkingv1.NetworkPolicy{allow})
		p.Spec.NodeName, p.Status.Phase = tenant.Spec.NodeName, phase
		return p
	}
	inSync := tenantPod("in-sync", "u1", corev1.PodRunning, "n1")
	missing := tenantPod("missing", "u2", corev1.PodPending, "")
	stale := tenantPod("stale", "u3", corev1.PodPending, "")
	replaced := tenantPod("replaced", "u4", corev1.PodPending, "")
	gone := tenantPod("gone", "u5", corev1.PodRunning, "n1")
	staleSuper := superPod(stale, corev1.PodRunning)
	replacedSuper := superPod(tenantPod("replaced", "u-old", corev1.PodPending, ""), corev1.PodPending)
	otherTenant := translate.SuperPod("other-999999", gone, translate.Isolation{}, nil)
	// Markers: web's super pod has its marker; unmarked's lost it (made before allow, or
	// edited by hand); stray's has one no policy of its namespace calls for.
	web, unmarked, stray := tenantPod("web", "u6", corev1.PodRunning, "n1"), tenantPod("unmarked", "u7", corev1.PodRunning, "n1"), tenantPod("stray", "u8", corev1.PodRunning, "n1")
	web.Labels, unmarked.Labels = map[string]string{"app": "web"}, map[string]string{"app": "web"}
	unmarkedSuper, straySuper := superPod(unmarked, corev1.PodRunning), superPod(stray, corev1.PodRunning)
	delete(unmarkedSuper.Labels, translate.LabelPolicyIngress)
	straySuper.Labels[translate.LabelPolicyEgress] = translate.PolicyRestricted
	if superPod(web, corev1.PodRunning).Labels[translate.LabelPolicyIngress] != translate.PolicyRestricted {
		t.Fatal("allow does not mark web's super pod")
	}
	superPodIndex := indexer(superPod(inSync, corev1.PodRunning), staleSuper, replacedSuper, superPod(gone, corev1.PodRunning), otherTenant,
		superPod(web, corev1.PodRunning), unmarkedSuper, straySuper)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "cfg", UID: "c1"}}
	rootCA := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: rootCAConfigMap, UID: "c2"}}
	rootCACopy := &corev1.ConfigMap{ObjectMeta: translate.SuperMeta(key, &rootCA.ObjectMeta)}
	rootCACopy.Name = translate.RootCAConfigMap
	// The platform's name: never copied, so never missing.
	reservedCM := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: translate.RootCAConfigMap, UID: "c3"}}

	// Service accounts: builder's pod needs a token Secret that is missing; runner's is due
	// for renewal; ci's is valid; idle has no pod (and no Secret); gone's Secret outlived it.
	account := func(name, uid string) *corev1.ServiceAccount {
		return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name, UID: types.UID(uid)}}
	}
	builder, runner, ci, idle := account("builder", "sa1"), account("runner", "sa2"), account("ci", "sa3"), account("idle", "sa4")
	tokenPod := func(name, sa string) *corev1.Pod {
		p := tenantPod(name, "tp-"+name, corev1.PodRunning, "n1")
		p.Spec.ServiceAccountName = sa
		p.Spec.Volumes = []corev1.Volume{{Name: "kube-api-access", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
		}}}}}
		return p
	}
	builderPod, runnerPod, ciPod := tokenPod("b", "builder"), tokenPod("r", "runner"), tokenPod("c", "ci")
	now := time.Now().Unix()
	dueToken := translate.TokenSecret(key, runner, tok(jwt(fmt.Sprintf(`{"iat":%d,"exp":%d}`, now-3000, now+600))))
	validToken := translate.TokenSecret(key, ci, tok(jwt(fmt.Sprintf(`{"iat":%d,"exp":%d}`, now, now+3600))))
	orphanToken := translate.TokenSecret(key, account("gone", "sa5"), tok(jwt(fmt.Sprintf(`{"iat":%d,"exp":%d}`, now, now+3600))))

	oldCopy := translate.SuperNetworkPolicy(key, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "old", UID: "np2"}}, translate.Isolation{})
	var superPolicies []any
	for _, np := range translate.VPCPolicies(key, naming.SuperNamespace(key, "app"), "vcp-system", translate.Isolation{}) {
		superPolicies = append(superPolicies, np)
	}
	superPolicies = append(superPolicies, oldCopy)

	// EndpointSlices: own's copy is in sync, fresh's is missing, ctl is an endpoint
	// controller's (never copied), handed came under one after its copy was made; the
	// super mirroring controller's slice of the copied Endpoints db carries db's identity.
	slice := func(name, uid, managedBy string) *discoveryv1.EndpointSlice {
		return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name, UID: types.UID(uid), Labels: map[string]string{discoveryv1.LabelManagedBy: managedBy}}}
	}
	own, fresh, ctl, handed := slice("own", "es1", "op"), slice("fresh", "es2", "op"), slice("ctl", "es3", "endpointslice-controller.k8s.io"), slice("handed", "es4", "op")
	superHanded := translate.SuperEndpointSlice(key, handed)
	handed.Labels[discoveryv1.LabelManagedBy] = "endpointslicemirroring-controller.k8s.io"
	mirrored := &discoveryv1.EndpointSlice{ObjectMeta: translate.SuperMeta(key, &metav1.ObjectMeta{Namespace: "app", Name: "db", UID: "ep1"})}
	mirrored.Name, mirrored.Labels[discoveryv1.LabelManagedBy] = "db-x7k2p", "endpointslicemirroring-controller.k8s.io"

	// Services and Endpoints: db has no selector and its Endpoints' copy is missing; web's
	// Endpoints are each cluster's controller's (the super one's carries web's labels, not
	// its identity); ext has Endpoints but no Service (copied); stale's tenant Endpoints
	// are gone.
	db := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "db", UID: "sv1"}}
	webSvc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web", UID: "sv2"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}}}
	endpoints := func(name, uid string) *corev1.Endpoints { //nolint:staticcheck // what tenants write for selector-less Services
		return &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name, UID: types.UID(uid)}} //nolint:staticcheck
	}
	dbEps, webEps, extEps := endpoints("db", "ep1"), endpoints("web", "ep2"), endpoints("ext", "ep3")
	superWebEps := endpoints("web", "sep2")
	superWebEps.Namespace, superWebEps.Labels = naming.SuperNamespace(key, "app"), translate.SuperService(key, webSvc).Labels
	// Claims: data's copy is missing. Ingresses: old-ing's tenant Ingress is gone.
	data := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "data", UID: "pvc1"}}
	oldIng := &networkingv1.Ingress{ObjectMeta: translate.SuperMeta(key, &metav1.ObjectMeta{Namespace: "app", Name: "old-ing", UID: "in1"})}
	// Namespaces: app's super namespace is in sync, fresh's is missing, again was made
	// again (another UID), dropped's tenant namespace is gone.
	tenantNS := func(name, uid string) *corev1.Namespace {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(uid)}}
	}
	superNS := func(name, uid string) *corev1.Namespace {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: naming.SuperNamespace(key, name)}}
		naming.Stamp(ns, naming.Identity{Tenant: key, Name: name, UID: uid})
		return ns
	}

	s := &Syncer{
		queue:                fairqueue.New[Key](),
		superPods:            corelisters.NewPodLister(superPodIndex),
		superConfigMaps:      corelisters.NewConfigMapLister(indexer(rootCACopy)),
		superSecrets:         corelisters.NewSecretLister(indexer(dueToken, validToken, orphanToken)),
		superServices:        corelisters.NewServiceLister(indexer(translate.SuperService(key, db), translate.SuperService(key, webSvc))),
		superEndpoints:       corelisters.NewEndpointsLister(indexer(translate.SuperEndpoints(key, extEps), translate.SuperEndpoints(key, endpoints("stale", "ep4")), superWebEps)),
		superClaims:          corelisters.NewPersistentVolumeClaimLister(indexer()),
		superIngresses:       networkinglisters.NewIngressLister(indexer(oldIng)),
		superNSs:             corelisters.NewNamespaceLister(indexer(superNS("app", "ns1"), superNS("again", "ns-old"), superNS("dropped", "ns4"))),
		superSlices:          discoverylisters.NewEndpointSliceLister(indexer(translate.SuperEndpointSlice(key, own), superHanded, mirrored)),
		superNetworkPolicies: networkinglisters.NewNetworkPolicyLister(indexer(superPolicies...)),
		sessions:             map[string]*session{},
	}
	tenantPods := indexer(inSync, missing, stale, replaced, builderPod, runnerPod, ciPod, web, unmarked, stray)
	if err := tenantPods.AddIndexers(cache.Indexers{tokenAccountIndex: podsByTokenAccount}); err != nil {
		t.Fatal(err)
	}
	s.sessions[key] = &session{
		key: key, synced: func() bool { return true },
		pods:       corelisters.NewPodLister(tenantPods),
		tokenPods:  tenantPods,
		configMaps: corelisters.NewConfigMapLister(indexer(cm, rootCA, reservedCM)),
		secrets:    corelisters.NewSecretLister(indexer()),
		services:   corelisters.NewServiceLister(indexer(db, webSvc)),
		endpoints:  corelisters.NewEndpointsLister(indexer(dbEps, webEps, extEps)),
		claims:     corelisters.NewPersistentVolumeClaimLister(indexer(data)),
		ingresses:  networkinglisters.NewIngressLister(indexer()),
		nss:        corelisters.NewNamespaceLister(indexer(tenantNS("app", "ns1"), tenantNS("fresh", "ns2"), tenantNS("again", "ns3"))),
		slices:     discoverylisters.NewEndpointSliceLister(indexer(own, fresh, ctl, handed)),
		accounts:   corelisters.NewServiceAccountLister(indexer(builder, runner, ci, idle)),
		netpols:    networkinglisters.NewNetworkPolicyLister(indexer(allow)),
	}
	for _, p := range []*corev1.Pod{builderPod, runnerPod, ciPod} {
		sp := superPod(p, corev1.PodRunning)
		if err := superPodIndex.Add(sp); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"ConfigMap app/cfg", "EndpointSlice app/fresh", "EndpointSlice app/handed", "Endpoints app/db", "Endpoints app/stale", "Ingress app/old-ing",
		"Namespace /again", "Namespace /dropped", "Namespace /fresh", "NetworkPolicy app/allow", "NetworkPolicy app/old", "PersistentVolumeClaim app/data", "Pod app/gone", "Pod app/missing", "Pod app/replaced", "Pod app/stale", "Pod app/stray", "Pod app/unmarked",
		"ServiceAccount app/builder", "ServiceAccount app/gone", "ServiceAccount app/runner"}
	if n := s.Patrol(); n != len(want) {
		t.Errorf("Patrol queued %d repairs, want %d", n, len(want))
	}
	var got []string
	for s.queue.Len(key) > 0 {
		_, k, _ := s.queue.Get()
		if k.Kind != KindClasses {
			got = append(got, string(k.Kind)+" "+k.Namespace+"/"+k.Name)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("queued %q, want %q", got, want)
	}
	if _, ok := naming.IdentityOf(otherTenant); !ok {
		t.Fatal("the other tenant's pod has no identity")
	}
	if n := s.queue.Len("other-999999"); n != 0 {
		t.Errorf("a tenant without a session got %d repairs queued", n)
	}
}
