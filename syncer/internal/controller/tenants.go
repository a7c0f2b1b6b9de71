package controller

import (
	"cmp"
	"context"
	"crypto/sha256"
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
	"sigs.k8s.io/controller-runtime/pkg/log"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/internal/ctrlapp"
	"github.com/vcp-dev/vcp/syncer/internal/translate"
)

// TenantReconciler keeps one syncer session per running VirtualCluster: it starts one
// when the tenant is Running with a kubeconfig, updates its isolation and weight when
// the spec changes, starts it again when the kubeconfig changed, and stops it when the
// tenant is paused, failing or deleted.
type TenantReconciler struct {
	// Client reads VirtualClusters through the manager's cache.
	Client client.Client
	// Reader reads kubeconfig Secrets directly (the syncer caches no Secrets).
	Reader client.Reader
	Syncer *Syncer
	// KubeconfigRecheck is how often a running tenant's kubeconfig Secret is read again
	// (Secrets are not watched). Default DefaultKubeconfigRecheck.
	KubeconfigRecheck time.Duration

	mu       sync.Mutex
	sessions map[types.NamespacedName]runningSession
}

// DefaultKubeconfigRecheck is how often running tenants' kubeconfigs are read again: the
// host renews credentials a month before they expire, and a tenant moved to another
// host is back within this.
const DefaultKubeconfigRecheck = 2 * time.Minute

// runningSession is what the reconciler started a tenant's session with.
type runningSession struct {
	key string
	// kubeconfig is the SHA-256 of the kubeconfig the session's client was made from.
	kubeconfig [sha256.Size]byte
}

// SetupWithManager registers the reconciler.
func (r *TenantReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.sessions = map[types.NamespacedName]runningSession{}
	if r.KubeconfigRecheck <= 0 {
		r.KubeconfigRecheck = DefaultKubeconfigRecheck
	}
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
	raw, err := r.kubeconfig(ctx, vc)
	if err != nil {
		return ctrl.Result{}, err
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(raw)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("kubeconfig of tenant %s/%s: %w", vc.Namespace, vc.Name, err)
	}
	api, err := tenantAPIFor(ctx, cfg)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("kubeconfig of tenant %s/%s: %w", vc.Namespace, vc.Name, err)
	}
	kubeconfig := sha256.Sum256(raw)
	r.mu.Lock()
	running, ok := r.sessions[req.NamespacedName]
	r.mu.Unlock()
	switch {
	case ok && running.key != key:
		r.Syncer.RemoveTenant(running.key) // the VirtualCluster was made again
	case ok && running.kubeconfig != kubeconfig:
		// Renewed credentials or another host: a session's client and informers keep
		// the kubeconfig they were made with, so start the session again. Its informers
		// list the tenant again and queue everything; the super objects stay.
		log.FromContext(ctx).Info("tenant kubeconfig changed: restarting the session", "tenant", key)
		r.Syncer.RemoveTenant(key)
		sessionRestarts.WithLabelValues(key).Inc()
	}
	iso := translate.IsolationFor(vc)
	iso.API = api
	tenant := TenantConfig{Key: key, Isolation: iso, Weight: int(vc.Spec.Sync.Weight)}
	if !r.Syncer.hasSession(key) {
		cfg.QPS, cfg.Burst = 200, 400
		cfg.UserAgent = "vcp-syncer"
		if tenant.Client, err = kubernetes.NewForConfig(ctrlapp.Protobuf(cfg)); err != nil {
			return ctrl.Result{}, fmt.Errorf("client of tenant %s/%s: %w", vc.Namespace, vc.Name, err)
		}
	}
	if err := r.Syncer.EnsureTenant(tenant); err != nil {
		return ctrl.Result{}, err
	}
	r.mu.Lock()
	r.sessions[req.NamespacedName] = runningSession{key: key, kubeconfig: kubeconfig}
	r.mu.Unlock()
	return ctrl.Result{RequeueAfter: r.KubeconfigRecheck}, nil
}

func (r *TenantReconciler) stop(name types.NamespacedName) {
	r.mu.Lock()
	running, ok := r.sessions[name]
	delete(r.sessions, name)
	r.mu.Unlock()
	if ok {
		r.Syncer.RemoveTenant(running.key)
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

// kubeconfig reads the tenant's kubeconfig from the Secret the VirtualCluster's status
// names.
func (r *TenantReconciler) kubeconfig(ctx context.Context, vc *tenancyv1alpha1.VirtualCluster) ([]byte, error) {
	ref := vc.Status.KubeconfigSecretRef
	secret := &corev1.Secret{}
	if err := r.Reader.Get(ctx, client.ObjectKey{Namespace: vc.Namespace, Name: ref.Name}, secret); err != nil {
		return nil, fmt.Errorf("kubeconfig of tenant %s/%s: %w", vc.Namespace, vc.Name, err)
	}
	raw, ok := secret.Data[ref.Key]
	if !ok {
		return nil, fmt.Errorf("kubeconfig of tenant %s/%s: Secret %s has no key %q", vc.Namespace, vc.Name, ref.Name, ref.Key)
	}
	return raw, nil
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
