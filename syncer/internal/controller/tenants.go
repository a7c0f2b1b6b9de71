package controller

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/internal/ctrlapp"
	"github.com/vcp-dev/vcp/syncer/internal/translate"
)

// TenantReconciler keeps one syncer session per running VirtualCluster: it starts one
// when the tenant is Running with a kubeconfig, updates its isolation and weight when
// the spec changes, and stops it when the tenant is paused, failing or deleted.
type TenantReconciler struct {
	// Client reads VirtualClusters through the manager's cache.
	Client client.Client
	// Reader reads kubeconfig Secrets directly (the syncer caches no Secrets).
	Reader client.Reader
	Syncer *Syncer

	mu   sync.Mutex
	keys map[types.NamespacedName]string
}

// SetupWithManager registers the reconciler.
func (r *TenantReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.keys = map[types.NamespacedName]string{}
	// Sessions start in parallel: after a restart every tenant's caches fill at once.
	return ctrl.NewControllerManagedBy(mgr).Named("tenants").For(&tenancyv1alpha1.VirtualCluster{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: 8}).Complete(r)
}

// Reconcile starts, updates or stops the tenant's session.
func (r *TenantReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	vc := &tenancyv1alpha1.VirtualCluster{}
	err := r.Client.Get(ctx, req.NamespacedName, vc)
	if client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, err
	}
	if apierrors.IsNotFound(err) || !vc.DeletionTimestamp.IsZero() || vc.Spec.Paused ||
		vc.Status.Phase != tenancyv1alpha1.PhaseRunning || vc.Status.KubeconfigSecretRef == nil {
		r.stop(req.NamespacedName)
		if err == nil && vc.Spec.Paused {
			// A paused tenant's workloads stop too; its pods stay in the tenant and are
			// synced down again on resume.
			return ctrl.Result{}, r.deleteSuperPods(ctx, vc.TenantKey())
		}
		return ctrl.Result{}, nil
	}
	key := vc.TenantKey()
	tenantClient, api, err := r.tenantClient(ctx, vc)
	if err != nil {
		return ctrl.Result{}, err
	}
	iso := translate.IsolationFor(vc)
	iso.API = api
	if err := r.Syncer.EnsureTenant(TenantConfig{Key: key, Client: tenantClient, Isolation: iso, Weight: int(vc.Spec.Sync.Weight)}); err != nil {
		return ctrl.Result{}, err
	}
	r.mu.Lock()
	r.keys[req.NamespacedName] = key
	r.mu.Unlock()
	return ctrl.Result{}, nil
}

func (r *TenantReconciler) stop(name types.NamespacedName) {
	r.mu.Lock()
	key, ok := r.keys[name]
	delete(r.keys, name)
	r.mu.Unlock()
	if ok {
		r.Syncer.RemoveTenant(key)
	}
}

// deleteSuperPods deletes every super pod of the tenant.
func (r *TenantReconciler) deleteSuperPods(ctx context.Context, tenantKey string) error {
	namespaces := &corev1.NamespaceList{}
	if err := r.Reader.List(ctx, namespaces, client.MatchingLabels{tenancyv1alpha1.LabelTenant: tenantKey}); err != nil {
		return err
	}
	for _, ns := range namespaces.Items {
		if err := r.Client.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(ns.Name), client.MatchingLabels{tenancyv1alpha1.LabelTenant: tenantKey}); err != nil {
			return fmt.Errorf("stop the paused tenant's pods in %s: %w", ns.Name, err)
		}
	}
	return nil
}

// tenantClient returns a client of the tenant's API server, from the kubeconfig the
// VirtualCluster's status names, and where the tenant's pods reach that server.
func (r *TenantReconciler) tenantClient(ctx context.Context, vc *tenancyv1alpha1.VirtualCluster) (kubernetes.Interface, translate.TenantAPI, error) {
	ref := vc.Status.KubeconfigSecretRef
	secret := &corev1.Secret{}
	if err := r.Reader.Get(ctx, client.ObjectKey{Namespace: vc.Namespace, Name: ref.Name}, secret); err != nil {
		return nil, translate.TenantAPI{}, fmt.Errorf("kubeconfig of tenant %s/%s: %w", vc.Namespace, vc.Name, err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(secret.Data[ref.Key])
	if err != nil {
		return nil, translate.TenantAPI{}, fmt.Errorf("kubeconfig of tenant %s/%s: %w", vc.Namespace, vc.Name, err)
	}
	api, err := tenantAPIFor(ctx, cfg)
	if err != nil {
		return nil, translate.TenantAPI{}, fmt.Errorf("kubeconfig of tenant %s/%s: %w", vc.Namespace, vc.Name, err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	cfg.UserAgent = "vcp-syncer"
	c, err := kubernetes.NewForConfig(ctrlapp.Protobuf(cfg))
	return c, api, err
}

// tenantAPIFor says where a tenant's pods reach its API server: where the syncer does,
// the server of the tenant's kubeconfig (its TLS server name, port and address; a name
// is resolved here, as the syncer's own client would).
func tenantAPIFor(ctx context.Context, cfg *rest.Config) (translate.TenantAPI, error) {
	u, err := url.Parse(cfg.Host)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return translate.TenantAPI{}, fmt.Errorf("server %q is not an https URL", cfg.Host)
	}
	api := translate.TenantAPI{Host: cmp.Or(cfg.TLSClientConfig.ServerName, u.Hostname()), IP: u.Hostname(), Port: cmp.Or(u.Port(), "443")}
	if net.ParseIP(api.IP) != nil {
		return api, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", api.IP)
	if err != nil {
		return translate.TenantAPI{}, fmt.Errorf("resolve the server's host: %w", err)
	}
	// The first address, IPv4 first (as most resolvers order them).
	ip := ips[0].Unmap()
	if i := slices.IndexFunc(ips, func(a netip.Addr) bool { return a.Unmap().Is4() }); i >= 0 {
		ip = ips[i].Unmap()
	}
	api.IP = ip.String()
	return api, nil
}
