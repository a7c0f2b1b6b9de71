package controller

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/vcp-dev/vcp/syncer/internal/fairqueue"
	"github.com/vcp-dev/vcp/syncer/internal/translate"
	"github.com/vcp-dev/vcp/syncer/naming"
)

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
	superPod := func(tenant *corev1.Pod, phase corev1.PodPhase) *corev1.Pod {
		p := translate.SuperPod(key, tenant, translate.Isolation{})
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
	otherTenant := translate.SuperPod("other-999999", gone, translate.Isolation{})
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "cfg", UID: "c1"}}
	rootCA := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: rootCAConfigMap, UID: "c2"}}

	s := &Syncer{
		queue:           fairqueue.New[Key](),
		superPods:       corelisters.NewPodLister(indexer(superPod(inSync, corev1.PodRunning), staleSuper, replacedSuper, superPod(gone, corev1.PodRunning), otherTenant)),
		superConfigMaps: corelisters.NewConfigMapLister(indexer()),
		superSecrets:    corelisters.NewSecretLister(indexer()),
		superServices:   corelisters.NewServiceLister(indexer()),
		sessions:        map[string]*session{},
	}
	s.sessions[key] = &session{
		key: key, synced: func() bool { return true },
		pods:       corelisters.NewPodLister(indexer(inSync, missing, stale, replaced)),
		configMaps: corelisters.NewConfigMapLister(indexer(cm, rootCA)),
		secrets:    corelisters.NewSecretLister(indexer()),
		services:   corelisters.NewServiceLister(indexer()),
	}
	if n := s.Patrol(); n != 5 {
		t.Errorf("Patrol queued %d repairs, want 5", n)
	}
	var got []string
	for s.queue.Len(key) > 0 {
		_, k, _ := s.queue.Get()
		if k.Kind != KindClasses {
			got = append(got, string(k.Kind)+" "+k.Namespace+"/"+k.Name)
		}
	}
	slices.Sort(got)
	want := []string{"ConfigMap app/cfg", "Pod app/gone", "Pod app/missing", "Pod app/replaced", "Pod app/stale"}
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
