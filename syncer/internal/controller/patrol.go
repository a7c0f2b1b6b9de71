package controller

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/syncer/naming"
)

var orphansRemoved = prometheus.NewCounter(prometheus.CounterOpts{
	Name: "vcp_syncer_patrol_orphans_removed_total",
	Help: "Super namespaces removed by the patroller because no VirtualCluster has their tenant key.",
})

func init() { ctrlmetrics.Registry.MustRegister(orphansRemoved) }

// Patroller removes what the super cluster holds for tenants that no longer exist: every
// interval it deletes the super namespaces (and so everything in them) labelled with a
// tenant key no VirtualCluster has. Orphans within live tenants need no patrol: every
// super object labelled for a tenant is watched, so one whose tenant object is gone is
// deleted as soon as it is seen, including at start-up.
type Patroller struct {
	// VirtualClusters lists every VirtualCluster, in any phase (the manager's cache).
	VirtualClusters client.Reader
	Syncer          *Syncer
	Interval        time.Duration
}

// Start patrols until ctx ends. It is a controller-runtime Runnable (leader only).
func (p *Patroller) Start(ctx context.Context) error {
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		if n, err := p.patrol(ctx); err != nil {
			klog.FromContext(ctx).Error(err, "patrol failed")
		} else if n > 0 {
			klog.FromContext(ctx).Info("patrol removed orphaned super namespaces", "count", n)
		}
	}, p.Interval)
	return nil
}

func (p *Patroller) patrol(ctx context.Context) (int, error) {
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
