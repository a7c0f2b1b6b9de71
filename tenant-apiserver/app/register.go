package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/tenant-apiserver/host"
)

// registration keeps the host's TenantHost object in the super cluster: its spec is what
// the flags say, its status the host's tenant count and a heartbeat, so the vc-manager can
// place tenants on it.
type registration struct {
	client client.Client
	name   string
	spec   tenancyv1alpha1.TenantHostSpec
	host   *host.Host
}

func newRegistration(kubeconfig, name string, spec tenancyv1alpha1.TenantHostSpec, h *host.Host) (*registration, error) {
	// An empty kubeconfig means the in-cluster configuration.
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("super-cluster client for registration: %w", err)
	}
	scheme := runtime.NewScheme()
	if err := tenancyv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	return &registration{client: c, name: name, spec: spec, host: h}, nil
}

// run reports every HostHeartbeatInterval until ctx ends. The first report must succeed
// within a minute: a host that cannot register is useless to the manager.
func (r *registration) run(ctx context.Context) error {
	first, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var last error
	if err := wait.PollUntilContextCancel(first, time.Second, true, func(ctx context.Context) (bool, error) {
		last = r.report(ctx)
		return last == nil, nil
	}); err != nil {
		return fmt.Errorf("register TenantHost %s: %v", r.name, last)
	}
	klog.InfoS("registered with the super cluster", "tenantHost", r.name)
	go wait.UntilWithContext(ctx, func(ctx context.Context) {
		if err := r.report(ctx); err != nil {
			klog.ErrorS(err, "TenantHost heartbeat failed", "tenantHost", r.name)
		}
	}, tenancyv1alpha1.HostHeartbeatInterval)
	return nil
}

func (r *registration) report(ctx context.Context) error {
	th := &tenancyv1alpha1.TenantHost{}
	err := r.client.Get(ctx, client.ObjectKey{Name: r.name}, th)
	switch {
	case apierrors.IsNotFound(err):
		th = &tenancyv1alpha1.TenantHost{ObjectMeta: metav1.ObjectMeta{Name: r.name}, Spec: r.spec}
		if err := r.client.Create(ctx, th); err != nil {
			return err
		}
	case err != nil:
		return err
	case !equalSpec(th.Spec, r.spec):
		base := th.DeepCopy()
		th.Spec = r.spec
		if err := r.client.Patch(ctx, th, client.MergeFrom(base)); err != nil {
			return err
		}
	}
	base := th.DeepCopy()
	th.Status.Tenants, th.Status.Unhealthy = 0, nil
	for _, t := range r.host.Tenants() {
		th.Status.Tenants++
		if s := t.Status(); !s.Healthy {
			th.Status.Unhealthy = append(th.Status.Unhealthy, s.Name)
		}
	}
	slices.Sort(th.Status.Unhealthy)
	th.Status.HeartbeatTime = metav1.Now()
	return r.client.Status().Patch(ctx, th, client.MergeFrom(base))
}

func equalSpec(a, b tenancyv1alpha1.TenantHostSpec) bool {
	ref := func(r *tenancyv1alpha1.NamespacedSecretKeyReference) string {
		if r == nil {
			return ""
		}
		return r.Namespace + "/" + r.Name + "/" + r.Key
	}
	return a.Endpoint == b.Endpoint && a.AdminEndpoint == b.AdminEndpoint && a.Capacity == b.Capacity &&
		a.Dedicated == b.Dedicated && ref(a.AdminTokenSecretRef) == ref(b.AdminTokenSecretRef)
}

// parseSecretKeyRef parses NAMESPACE/NAME/KEY.
func parseSecretKeyRef(s string) (*tenancyv1alpha1.NamespacedSecretKeyReference, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 || slices.Contains(parts, "") {
		return nil, fmt.Errorf("%q must be NAMESPACE/NAME/KEY", s)
	}
	return &tenancyv1alpha1.NamespacedSecretKeyReference{Namespace: parts[0], Name: parts[1], Key: parts[2]}, nil
}
