// Package controller is the vc-manager's VirtualCluster reconciler.
package controller

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/manager/internal/placement"
	"github.com/vcp-dev/vcp/tenant-apiserver/adminclient"
	"github.com/vcp-dev/vcp/tenant-apiserver/policy"
	"github.com/vcp-dev/vcp/tenant-apiserver/tenantpki"
)

// HostAPI is what the reconciler needs of a tenant-apiserver host.
type HostAPI interface {
	Put(ctx context.Context, t adminclient.Tenant) (adminclient.Status, error)
	Delete(ctx context.Context, name string, deleteData bool) error
	Kubeconfig(ctx context.Context, name string) ([]byte, error)
	Datastore(ctx context.Context, name string) (adminclient.Datastore, error)
}

// Reconciler turns VirtualClusters into running tenants.
type Reconciler struct {
	// Client reads through the manager's cache (VirtualClusters, TenantHosts).
	Client client.Client
	// Reader reads Secrets, RuntimeClasses and Nodes directly, so the manager does not
	// cache every Secret of the super cluster.
	Reader client.Reader
	// HostFor returns the admin API of a host. Default: adminclient with the token the
	// TenantHost's adminTokenSecretRef names.
	HostFor func(ctx context.Context, th *tenancyv1alpha1.TenantHost) (HostAPI, error)
	// MaxConcurrentReconciles bounds parallel provisioning. Default 8.
	MaxConcurrentReconciles int
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time

	// failingSince holds, per Ready VirtualCluster whose checks fail, when they began to
	// fail (keepReady).
	failingSince sync.Map
}

// readyGrace is how long the checks of a Running tenant (the host's health report, its
// /readyz through the kubeconfig) may fail before it is marked not Ready: one /readyz
// that timed out on a busy host is no reason to flip a tenant to Provisioning under the
// clients that select Running tenants (vcapp's fleet), as a kubelet's readiness probe
// has its failureThreshold.
const readyGrace = 15 * time.Second

// keepReady reports whether a failed check of vc leaves it Ready: it is Ready and its
// checks have failed for less than readyGrace. It records when they began to fail.
func (r *Reconciler) keepReady(vc *tenancyv1alpha1.VirtualCluster) bool {
	key := client.ObjectKeyFromObject(vc)
	if !meta.IsStatusConditionTrue(vc.Status.Conditions, tenancyv1alpha1.ConditionReady) {
		r.failingSince.Delete(key)
		return false
	}
	now := r.Now()
	since, _ := r.failingSince.LoadOrStore(key, now)
	return now.Sub(since.(time.Time)) < readyGrace
}

// checksPassed forgets vc's failing checks.
func (r *Reconciler) checksPassed(vc *tenancyv1alpha1.VirtualCluster) {
	r.failingSince.Delete(client.ObjectKeyFromObject(vc))
}

// SetupWithManager registers the reconciler.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.HostFor == nil {
		r.HostFor = r.adminClient
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.MaxConcurrentReconciles == 0 {
		r.MaxConcurrentReconciles = 8
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&tenancyv1alpha1.VirtualCluster{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Complete(r)
}

// step is one phase of a reconcile. It returns done=false to stop the pass (with the
// status it set explaining why) and a requeue delay.
type step func(ctx context.Context, vc *tenancyv1alpha1.VirtualCluster) (done bool, requeue time.Duration, err error)

// Reconcile brings one VirtualCluster's tenant to what its spec asks for.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	vc := &tenancyv1alpha1.VirtualCluster{}
	if err := r.Client.Get(ctx, req.NamespacedName, vc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if vc.DeletionTimestamp.IsZero() && controllerutil.AddFinalizer(vc, tenancyv1alpha1.Finalizer) {
		if err := r.Client.Update(ctx, vc); err != nil {
			return ctrl.Result{}, err
		}
	}
	base := vc.DeepCopy()
	defer func() {
		vc.Status.Phase = phaseOf(vc)
		if err := r.Client.Status().Patch(ctx, vc, client.MergeFrom(base)); err != nil && !apierrors.IsNotFound(err) {
			retErr = errors.Join(retErr, err)
		}
	}()
	vc.Status.ObservedGeneration = vc.Generation
	vc.Status.TenantKey = vc.TenantKey()

	steps := []step{r.validate, r.ensurePKI, r.place, r.ensureControlPlane, r.ensureKubeconfig}
	if !vc.DeletionTimestamp.IsZero() {
		steps = []step{r.cleanup}
	}
	for _, s := range steps {
		done, requeue, err := s(ctx, vc)
		if err != nil || !done {
			return ctrl.Result{RequeueAfter: requeue}, err
		}
	}
	// Level-based repair: look again now and then even when nothing changed.
	return ctrl.Result{RequeueAfter: 5 * time.Minute}, nil
}

// validate checks what the schema cannot: that the referenced RuntimeClass and node pool
// exist in the super cluster, and that the datastore is one hosts can serve.
func (r *Reconciler) validate(ctx context.Context, vc *tenancyv1alpha1.VirtualCluster) (bool, time.Duration, error) {
	invalid := func(msg string) (bool, time.Duration, error) {
		notReady(vc, tenancyv1alpha1.ConditionControlPlaneReady, ReasonInvalidSpec, msg)
		// Look again later: the admin may create what is missing.
		return false, 30 * time.Second, nil
	}
	if vc.Spec.Datastore.Type == tenancyv1alpha1.DatastoreExternal {
		return invalid("spec.datastore.type: External is not supported by tenant-apiserver hosts yet; use Shared")
	}
	if rc := vc.Spec.Isolation.RuntimeClassName; rc != "" {
		err := r.Reader.Get(ctx, client.ObjectKey{Name: rc}, &nodev1.RuntimeClass{})
		if apierrors.IsNotFound(err) {
			return invalid(fmt.Sprintf("spec.isolation.runtimeClassName: RuntimeClass %q does not exist in the super cluster", rc))
		}
		if err != nil {
			return false, 0, err
		}
	}
	if pool := vc.Spec.Isolation.NodePool.Name; pool != "" {
		nodes := &corev1.NodeList{}
		if err := r.Reader.List(ctx, nodes, client.MatchingLabels{tenancyv1alpha1.NodePoolLabel: pool}, client.Limit(1)); err != nil {
			return false, 0, err
		}
		if len(nodes.Items) == 0 {
			return invalid(fmt.Sprintf("spec.isolation.nodePool.name: no super-cluster node is in pool %q (nodes labelled %s=%s)", pool, tenancyv1alpha1.NodePoolLabel, pool))
		}
	}
	return true, 0, nil
}

func pkiSecretName(vc *tenancyv1alpha1.VirtualCluster) string        { return vc.Name + "-pki" }
func kubeconfigSecretName(vc *tenancyv1alpha1.VirtualCluster) string { return vc.Name + "-kubeconfig" }
func datastoreSecretName(vc *tenancyv1alpha1.VirtualCluster) string  { return vc.Name + "-datastore" }

// tenantSecret is a Secret made for the tenant: labelled with its key and owned by it.
func tenantSecret(vc *tenancyv1alpha1.VirtualCluster, name string, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: vc.Namespace,
			Labels:      map[string]string{tenancyv1alpha1.LabelTenant: vc.TenantKey()},
			Annotations: map[string]string{tenancyv1alpha1.AnnotationVirtualCluster: vc.Namespace + "/" + vc.Name},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: tenancyv1alpha1.GroupVersion.String(), Kind: "VirtualCluster",
				Name: vc.Name, UID: vc.UID, Controller: ptrTo(true), BlockOwnerDeletion: ptrTo(true),
			}},
		},
		Type: corev1.SecretTypeOpaque,
		Data: data,
	}
}

func ptrTo[T any](v T) *T { return &v }

// ensurePKI makes the tenant's root PKI Secret once; it is the tenant's identity and is
// never regenerated while the VirtualCluster exists.
func (r *Reconciler) ensurePKI(ctx context.Context, vc *tenancyv1alpha1.VirtualCluster) (bool, time.Duration, error) {
	s := &corev1.Secret{}
	err := r.Reader.Get(ctx, client.ObjectKey{Namespace: vc.Namespace, Name: pkiSecretName(vc)}, s)
	if err == nil {
		if s.Labels[tenancyv1alpha1.LabelTenant] != vc.TenantKey() {
			notReady(vc, tenancyv1alpha1.ConditionDatastoreReady, ReasonInvalidSpec,
				fmt.Sprintf("Secret %s/%s exists and does not belong to this VirtualCluster: delete or rename it", s.Namespace, s.Name))
			return false, 30 * time.Second, nil
		}
		return true, 0, nil
	}
	if !apierrors.IsNotFound(err) {
		return false, 0, err
	}
	roots, err := tenantpki.NewRoots(vc.TenantKey())
	if err != nil {
		return false, 0, err
	}
	if err := r.Client.Create(ctx, tenantSecret(vc, pkiSecretName(vc), roots)); err != nil && !apierrors.IsAlreadyExists(err) {
		return false, 0, err
	}
	return true, 0, nil
}

// place picks a host for a tenant that has none and records it at once, so a restart of
// the manager finds the tenant where it was started.
func (r *Reconciler) place(ctx context.Context, vc *tenancyv1alpha1.VirtualCluster) (bool, time.Duration, error) {
	if vc.Status.Host != "" {
		return true, 0, nil
	}
	hosts := &tenancyv1alpha1.TenantHostList{}
	if err := r.Client.List(ctx, hosts); err != nil {
		return false, 0, err
	}
	vcs := &tenancyv1alpha1.VirtualClusterList{}
	if err := r.Client.List(ctx, vcs); err != nil {
		return false, 0, err
	}
	load := map[string]int{}
	for _, other := range vcs.Items {
		if other.UID != vc.UID && other.Status.Host != "" {
			load[other.Status.Host]++
		}
	}
	name, err := placement.Pick(hosts.Items, load, vc.Spec.KubernetesAPI.DedicatedHost, r.Now())
	if err != nil {
		notReady(vc, tenancyv1alpha1.ConditionControlPlaneReady, ReasonNoHost, err.Error())
		return false, 10 * time.Second, nil
	}
	base := vc.DeepCopy()
	vc.Status.Host = name
	setCondition(vc, tenancyv1alpha1.ConditionControlPlaneReady, metav1.ConditionFalse, ReasonStarting, "placed on tenant-apiserver host "+name)
	// Patch a copy: the response would overwrite fields of vc this pass set but has not
	// persisted yet (the deferred patch in Reconcile persists them).
	if err := r.Client.Status().Patch(ctx, vc.DeepCopy(), client.MergeFrom(base)); err != nil {
		return false, 0, err
	}
	return true, 0, nil
}

// ensureControlPlane asks the tenant's host to run it (or, when paused, to stop it while
// keeping its data).
func (r *Reconciler) ensureControlPlane(ctx context.Context, vc *tenancyv1alpha1.VirtualCluster) (bool, time.Duration, error) {
	th := &tenancyv1alpha1.TenantHost{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: vc.Status.Host}, th); err != nil {
		if apierrors.IsNotFound(err) {
			notReady(vc, tenancyv1alpha1.ConditionControlPlaneReady, ReasonHostUnavailable,
				fmt.Sprintf("tenant-apiserver host %s (TenantHost) is gone; the tenant's data lives in its datastore and comes back when the host does", vc.Status.Host))
			return false, 15 * time.Second, nil
		}
		return false, 0, err
	}
	hostAPI, err := r.HostFor(ctx, th)
	if err != nil {
		notReady(vc, tenancyv1alpha1.ConditionControlPlaneReady, ReasonHostUnavailable, err.Error())
		return false, 15 * time.Second, nil
	}
	if vc.Spec.Paused {
		if err := hostAPI.Delete(ctx, vc.TenantKey(), false); err != nil && !errors.Is(err, adminclient.ErrNotFound) {
			notReady(vc, tenancyv1alpha1.ConditionControlPlaneReady, ReasonHostError, "stop the paused tenant: "+err.Error())
			return false, 10 * time.Second, nil
		}
		notReady(vc, tenancyv1alpha1.ConditionControlPlaneReady, ReasonPaused, "spec.paused is true: the control plane is stopped; its data is kept")
		return false, 0, nil
	}
	pkiSecret := &corev1.Secret{}
	if err := r.Reader.Get(ctx, client.ObjectKey{Namespace: vc.Namespace, Name: pkiSecretName(vc)}, pkiSecret); err != nil {
		return false, 0, err
	}
	status, err := hostAPI.Put(ctx, adminclient.Tenant{
		Name: vc.TenantKey(), UID: string(vc.UID), KeyPrefix: vc.Spec.Datastore.KeyPrefix,
		DisabledAPIs: vc.Spec.KubernetesAPI.DisabledAPIs, ExtraSANs: vc.Spec.KubernetesAPI.ExtraSANs,
		PKI: pkiSecret.Data, Policy: TenantPolicy(vc),
	})
	if err != nil {
		notReady(vc, tenancyv1alpha1.ConditionControlPlaneReady, ReasonHostError, err.Error())
		return false, 10 * time.Second, nil
	}
	creds, err := hostAPI.Datastore(ctx, vc.TenantKey())
	if err != nil {
		notReady(vc, tenancyv1alpha1.ConditionDatastoreReady, ReasonHostError, "get the tenant's datastore credentials: "+err.Error())
		return false, 10 * time.Second, nil
	}
	if err := r.applySecret(ctx, tenantSecret(vc, datastoreSecretName(vc), datastoreSecretData(creds))); err != nil {
		return false, 0, err
	}
	msg := "etcd key prefix " + status.Prefix
	if creds.User != "" {
		msg += " as etcd user " + creds.User
	}
	setCondition(vc, tenancyv1alpha1.ConditionDatastoreReady, metav1.ConditionTrue, ReasonProvisioned, msg+"; credentials in Secret "+datastoreSecretName(vc))
	if !status.Healthy {
		if r.keepReady(vc) {
			log.FromContext(ctx).Info("tenant reported unhealthy; still Ready within the grace", "error", status.Error, "grace", readyGrace)
			return false, 2 * time.Second, nil
		}
		notReady(vc, tenancyv1alpha1.ConditionControlPlaneReady, ReasonStarting, "host reports the tenant API server unhealthy: "+status.Error)
		return false, 5 * time.Second, nil
	}
	setCondition(vc, tenancyv1alpha1.ConditionControlPlaneReady, metav1.ConditionTrue, ReasonServing, "serving on tenant-apiserver host "+th.Name)
	vc.Status.Endpoint = th.Spec.Endpoint + "/tenants/" + vc.TenantKey()
	return true, 0, nil
}

// ensureKubeconfig publishes the tenant admin's kubeconfig and checks that the tenant
// answers through it.
func (r *Reconciler) ensureKubeconfig(ctx context.Context, vc *tenancyv1alpha1.VirtualCluster) (bool, time.Duration, error) {
	th := &tenancyv1alpha1.TenantHost{}
	if err := r.Client.Get(ctx, client.ObjectKey{Name: vc.Status.Host}, th); err != nil {
		return false, 0, err
	}
	hostAPI, err := r.HostFor(ctx, th)
	if err != nil {
		return false, 0, err
	}
	kc, err := hostAPI.Kubeconfig(ctx, vc.TenantKey())
	if err != nil {
		notReady(vc, tenancyv1alpha1.ConditionReady, ReasonHostError, "get the admin kubeconfig: "+err.Error())
		return false, 10 * time.Second, nil
	}
	want := tenantSecret(vc, kubeconfigSecretName(vc), map[string][]byte{tenancyv1alpha1.KubeconfigSecretKey: kc})
	if err := r.applySecret(ctx, want); err != nil {
		return false, 0, err
	}
	vc.Status.KubeconfigSecretRef = &tenancyv1alpha1.SecretKeyReference{Name: want.Name, Key: tenancyv1alpha1.KubeconfigSecretKey}
	if err := answers(ctx, kc); err != nil {
		if r.keepReady(vc) {
			log.FromContext(ctx).Info("tenant does not answer; still Ready within the grace", "error", err.Error(), "grace", readyGrace)
			return false, 2 * time.Second, nil
		}
		notReady(vc, tenancyv1alpha1.ConditionReady, ReasonStarting, "the tenant does not answer through its kubeconfig yet: "+err.Error())
		return false, 2 * time.Second, nil
	}
	r.checksPassed(vc)
	setCondition(vc, tenancyv1alpha1.ConditionReady, metav1.ConditionTrue, ReasonServing, "the tenant answers at "+vc.Status.Endpoint)
	return true, 0, nil
}

// applySecret creates want, or sets its data when the Secret exists with other data.
func (r *Reconciler) applySecret(ctx context.Context, want *corev1.Secret) error {
	got := &corev1.Secret{}
	switch err := r.Reader.Get(ctx, client.ObjectKeyFromObject(want), got); {
	case apierrors.IsNotFound(err):
		return client.IgnoreAlreadyExists(r.Client.Create(ctx, want))
	case err != nil:
		return err
	case !maps.EqualFunc(got.Data, want.Data, bytes.Equal):
		base := got.DeepCopy()
		got.Data = want.Data
		return r.Client.Patch(ctx, got, client.MergeFrom(base))
	}
	return nil
}

// datastoreSecretData lays out a tenant's datastore credentials as Secret keys.
func datastoreSecretData(d adminclient.Datastore) map[string][]byte {
	data := map[string][]byte{"endpoints": []byte(strings.Join(d.Endpoints, ",")), "prefix": []byte(d.Prefix)}
	if d.User != "" {
		data["user"], data["ca.crt"], data["tls.crt"], data["tls.key"] = []byte(d.User), d.CACert, d.Cert, d.Key
	}
	return data
}

// answers checks /readyz with the kubeconfig's credentials, as a tenant's kubectl would.
func answers(ctx context.Context, kubeconfig []byte) error {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return err
	}
	cfg.Timeout = 5 * time.Second
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	defer httpClient.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz: %s", resp.Status)
	}
	return nil
}

// cleanup removes everything made for a deleted tenant: its control plane with its etcd
// keys and user (through its host), the super-cluster namespaces and Secrets labelled for
// it; then it lets the VirtualCluster go. A step that fails is reported in the Ready
// condition and retried, never skipped.
func (r *Reconciler) cleanup(ctx context.Context, vc *tenancyv1alpha1.VirtualCluster) (bool, time.Duration, error) {
	r.checksPassed(vc) // a deleted tenant leaves no entry behind
	if !controllerutil.ContainsFinalizer(vc, tenancyv1alpha1.Finalizer) {
		return true, 0, nil
	}
	stuck := func(msg string) (bool, time.Duration, error) {
		setCondition(vc, tenancyv1alpha1.ConditionReady, metav1.ConditionFalse, ReasonCleanupFailed, msg)
		return false, 15 * time.Second, nil
	}
	setCondition(vc, tenancyv1alpha1.ConditionReady, metav1.ConditionFalse, ReasonDeleting, "removing the tenant and everything made for it")
	if vc.Status.Host != "" {
		th := &tenancyv1alpha1.TenantHost{}
		if err := r.Client.Get(ctx, client.ObjectKey{Name: vc.Status.Host}, th); err != nil {
			if apierrors.IsNotFound(err) {
				return stuck(fmt.Sprintf("tenant-apiserver host %s is gone, so the tenant's etcd keys and user cannot be deleted; bring the host back, or remove the finalizer %s to give up on them", vc.Status.Host, tenancyv1alpha1.Finalizer))
			}
			return false, 0, err
		}
		hostAPI, err := r.HostFor(ctx, th)
		if err != nil {
			return stuck("reach host " + th.Name + ": " + err.Error())
		}
		if err := hostAPI.Delete(ctx, vc.TenantKey(), true); err != nil && !errors.Is(err, adminclient.ErrNotFound) {
			return stuck("delete the tenant and its data on host " + th.Name + ": " + err.Error())
		}
	}
	selector := client.MatchingLabels{tenancyv1alpha1.LabelTenant: vc.TenantKey()}
	namespaces := &corev1.NamespaceList{}
	if err := r.Reader.List(ctx, namespaces, selector); err != nil {
		return false, 0, err
	}
	for i := range namespaces.Items {
		if err := r.Client.Delete(ctx, &namespaces.Items[i]); client.IgnoreNotFound(err) != nil {
			return stuck(fmt.Sprintf("delete super-cluster namespace %s: %v", namespaces.Items[i].Name, err))
		}
	}
	if len(namespaces.Items) > 0 {
		setCondition(vc, tenancyv1alpha1.ConditionReady, metav1.ConditionFalse, ReasonDeleting, fmt.Sprintf("waiting for %d super-cluster namespaces to be deleted", len(namespaces.Items)))
		return false, 2 * time.Second, nil
	}
	if err := r.Client.DeleteAllOf(ctx, &corev1.Secret{}, client.InNamespace(vc.Namespace), selector); err != nil {
		return stuck("delete the tenant's Secrets: " + err.Error())
	}
	base := vc.DeepCopy()
	controllerutil.RemoveFinalizer(vc, tenancyv1alpha1.Finalizer)
	if err := r.Client.Patch(ctx, vc, client.MergeFrom(base)); err != nil {
		return false, 0, err
	}
	log.FromContext(ctx).Info("tenant deleted", "tenantKey", vc.TenantKey())
	return true, 0, nil
}

// adminClient builds a host's admin API client with the token its TenantHost names.
func (r *Reconciler) adminClient(ctx context.Context, th *tenancyv1alpha1.TenantHost) (HostAPI, error) {
	c := &adminclient.Client{URL: th.Spec.AdminEndpoint}
	if ref := th.Spec.AdminTokenSecretRef; ref != nil {
		s := &corev1.Secret{}
		if err := r.Reader.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, s); err != nil {
			return nil, fmt.Errorf("admin token of host %s: Secret %s/%s: %w", th.Name, ref.Namespace, ref.Name, err)
		}
		token, ok := s.Data[ref.Key]
		if !ok {
			return nil, fmt.Errorf("admin token of host %s: Secret %s/%s has no key %q", th.Name, ref.Namespace, ref.Name, ref.Key)
		}
		c.Token = string(trimSpace(token))
	}
	return c, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// TenantPolicy is what the tenant's API server refuses on the platform's behalf, from
// the VirtualCluster's spec.isolation.
func TenantPolicy(vc *tenancyv1alpha1.VirtualCluster) *policy.Policy {
	iso := vc.Spec.Isolation
	p := &policy.Policy{
		PodSecurity:    string(cmp.Or(iso.PodSecurity.Level, tenancyv1alpha1.PodSecurityBaseline)),
		Registries:     slices.Clone(iso.Allowed.Registries),
		StorageClasses: slices.Clone(iso.Allowed.StorageClasses),
		IngressClasses: slices.Clone(iso.Allowed.IngressClasses),
	}
	for _, t := range iso.Allowed.ServiceTypes {
		p.ServiceTypes = append(p.ServiceTypes, string(t))
	}
	if len(p.ServiceTypes) == 0 {
		p.ServiceTypes = []string{string(corev1.ServiceTypeClusterIP)}
	}
	return p
}
