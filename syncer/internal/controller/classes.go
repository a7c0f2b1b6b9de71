package controller

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	networkinglisters "k8s.io/client-go/listers/networking/v1"
	nodelisters "k8s.io/client-go/listers/node/v1"
	schedulinglisters "k8s.io/client-go/listers/scheduling/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
)

// AnnotationMirrored marks a tenant object the syncer keeps as a read-only copy of a super
// object (the classes a tenant may use). The syncer never touches a tenant's own object
// of the same kind without it.
const AnnotationMirrored = "tenancy.vcp.dev/mirrored"

// classListers are the super cluster's classes.
type classListers struct {
	storage  storagelisters.StorageClassLister
	priority schedulinglisters.PriorityClassLister
	ingress  networkinglisters.IngressClassLister
	runtime  nodelisters.RuntimeClassLister
}

// mirror is one kind of class shown to tenants.
type mirror[P interface {
	*T
	metav1.Object
}, T any] struct {
	kind   string
	super  func() ([]P, error)
	tenant func(ctx context.Context) ([]P, error)
	writer superWriter[P]
	// allowed reports whether the tenant may use (and so sees) a super class.
	allowed func(P) bool
	// copyOf is the tenant's copy of a super class (no metadata besides the name).
	copyOf func(P) P
	// same reports a tenant copy equal to want; updatable whether one that is not can be
	// updated in place (else it is deleted and created again).
	same, updatable func(have, want P) bool
}

// syncMirror makes the tenant's mirrored objects of one kind exactly the allowed super ones.
func syncMirror[P interface {
	*T
	metav1.Object
}, T any](ctx context.Context, m mirror[P, T]) error {
	superObjs, err := m.super()
	if err != nil {
		return err
	}
	tenantObjs, err := m.tenant(ctx)
	if err != nil {
		return fmt.Errorf("list tenant %s: %w", m.kind, err)
	}
	have := map[string]P{}
	for _, o := range tenantObjs {
		have[o.GetName()] = o
	}
	var errs []error
	wanted := map[string]bool{}
	for _, superObj := range superObjs {
		if !m.allowed(superObj) {
			continue
		}
		want := m.copyOf(superObj)
		want.SetAnnotations(map[string]string{AnnotationMirrored: "true"})
		wanted[want.GetName()] = true
		existing, ok := have[want.GetName()]
		switch {
		case !ok:
			_, err = m.writer.Create(ctx, want, metav1.CreateOptions{})
			errs = append(errs, ignoreExists(err))
		case existing.GetAnnotations()[AnnotationMirrored] != "true":
			// The tenant's own class of that name: the tenant's choice wins in the tenant.
		case m.same(existing, want):
		case m.updatable(existing, want):
			want.SetResourceVersion(existing.GetResourceVersion())
			_, err = m.writer.Update(ctx, want, metav1.UpdateOptions{})
			errs = append(errs, ignoreGone(err))
		default:
			errs = append(errs, ignoreGone(m.writer.Delete(ctx, existing.GetName(), metav1.DeleteOptions{})))
			_, err = m.writer.Create(ctx, want, metav1.CreateOptions{})
			errs = append(errs, ignoreExists(err))
		}
	}
	for name, o := range have {
		if o.GetAnnotations()[AnnotationMirrored] == "true" && !wanted[name] {
			errs = append(errs, ignoreGone(m.writer.Delete(ctx, name, metav1.DeleteOptions{})))
		}
	}
	return errors.Join(errs...)
}

func allowedBy(list []string) func(name string) bool {
	return func(name string) bool { return len(list) == 0 || slices.Contains(list, name) }
}

func itemsOf[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}

// syncClasses shows the tenant, read-only, the super cluster's classes it may use:
// StorageClasses and IngressClasses of its allowance (all when the allowance is empty),
// the RuntimeClass its pods are forced onto (all when none is), and PriorityClasses
// (every one but the system-* classes each API server has of its own).
func (s *Syncer) syncClasses(ctx context.Context, sess *session) error {
	iso := sess.currentIsolation()
	tenant := sess.client
	everything := labels.Everything()
	storageOK, ingressOK := allowedBy(iso.AllowedStorageClasses), allowedBy(iso.AllowedIngressClasses)
	errs := []error{
		syncMirror(ctx, mirror[*storagev1.StorageClass, storagev1.StorageClass]{
			kind: "StorageClasses", super: func() ([]*storagev1.StorageClass, error) { return s.classes.storage.List(everything) },
			tenant: func(ctx context.Context) ([]*storagev1.StorageClass, error) {
				l, err := tenant.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
				if err != nil {
					return nil, err
				}
				return itemsOf(l.Items), nil
			},
			writer:  tenant.StorageV1().StorageClasses(),
			allowed: func(c *storagev1.StorageClass) bool { return storageOK(c.Name) },
			copyOf: func(c *storagev1.StorageClass) *storagev1.StorageClass {
				out := c.DeepCopy()
				out.ObjectMeta = metav1.ObjectMeta{Name: c.Name, Labels: maps.Clone(c.Labels)}
				return out
			},
			same: func(a, b *storagev1.StorageClass) bool {
				return a.Provisioner == b.Provisioner && apiequality.Semantic.DeepEqual(a.Parameters, b.Parameters) &&
					apiequality.Semantic.DeepEqual(a.ReclaimPolicy, b.ReclaimPolicy) && apiequality.Semantic.DeepEqual(a.VolumeBindingMode, b.VolumeBindingMode) &&
					apiequality.Semantic.DeepEqual(a.AllowVolumeExpansion, b.AllowVolumeExpansion) && maps.Equal(a.Labels, b.Labels)
			},
			updatable: func(a, b *storagev1.StorageClass) bool {
				return a.Provisioner == b.Provisioner && apiequality.Semantic.DeepEqual(a.Parameters, b.Parameters) &&
					apiequality.Semantic.DeepEqual(a.ReclaimPolicy, b.ReclaimPolicy) && apiequality.Semantic.DeepEqual(a.VolumeBindingMode, b.VolumeBindingMode)
			},
		}),
		syncMirror(ctx, mirror[*networkingv1.IngressClass, networkingv1.IngressClass]{
			kind: "IngressClasses", super: func() ([]*networkingv1.IngressClass, error) { return s.classes.ingress.List(everything) },
			tenant: func(ctx context.Context) ([]*networkingv1.IngressClass, error) {
				l, err := tenant.NetworkingV1().IngressClasses().List(ctx, metav1.ListOptions{})
				if err != nil {
					return nil, err
				}
				return itemsOf(l.Items), nil
			},
			writer:  tenant.NetworkingV1().IngressClasses(),
			allowed: func(c *networkingv1.IngressClass) bool { return ingressOK(c.Name) },
			copyOf: func(c *networkingv1.IngressClass) *networkingv1.IngressClass {
				return &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: c.Name, Labels: maps.Clone(c.Labels)}, Spec: *c.Spec.DeepCopy()}
			},
			same: func(a, b *networkingv1.IngressClass) bool {
				return apiequality.Semantic.DeepEqual(a.Spec, b.Spec) && maps.Equal(a.Labels, b.Labels)
			},
			updatable: func(a, b *networkingv1.IngressClass) bool { return true },
		}),
		syncMirror(ctx, mirror[*nodev1.RuntimeClass, nodev1.RuntimeClass]{
			kind: "RuntimeClasses", super: func() ([]*nodev1.RuntimeClass, error) { return s.classes.runtime.List(everything) },
			tenant: func(ctx context.Context) ([]*nodev1.RuntimeClass, error) {
				l, err := tenant.NodeV1().RuntimeClasses().List(ctx, metav1.ListOptions{})
				if err != nil {
					return nil, err
				}
				return itemsOf(l.Items), nil
			},
			writer: tenant.NodeV1().RuntimeClasses(),
			allowed: func(c *nodev1.RuntimeClass) bool {
				return iso.RuntimeClassName == "" || c.Name == iso.RuntimeClassName
			},
			copyOf: func(c *nodev1.RuntimeClass) *nodev1.RuntimeClass {
				return &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: c.Name, Labels: maps.Clone(c.Labels)}, Handler: c.Handler,
					Overhead: c.Overhead.DeepCopy(), Scheduling: c.Scheduling.DeepCopy()}
			},
			same: func(a, b *nodev1.RuntimeClass) bool {
				return a.Handler == b.Handler && apiequality.Semantic.DeepEqual(a.Overhead, b.Overhead) &&
					apiequality.Semantic.DeepEqual(a.Scheduling, b.Scheduling) && maps.Equal(a.Labels, b.Labels)
			},
			updatable: func(a, b *nodev1.RuntimeClass) bool { return a.Handler == b.Handler },
		}),
		syncMirror(ctx, mirror[*schedulingv1.PriorityClass, schedulingv1.PriorityClass]{
			kind: "PriorityClasses", super: func() ([]*schedulingv1.PriorityClass, error) { return s.classes.priority.List(everything) },
			tenant: func(ctx context.Context) ([]*schedulingv1.PriorityClass, error) {
				l, err := tenant.SchedulingV1().PriorityClasses().List(ctx, metav1.ListOptions{})
				if err != nil {
					return nil, err
				}
				return itemsOf(l.Items), nil
			},
			writer:  tenant.SchedulingV1().PriorityClasses(),
			allowed: func(c *schedulingv1.PriorityClass) bool { return !strings.HasPrefix(c.Name, "system-") },
			copyOf: func(c *schedulingv1.PriorityClass) *schedulingv1.PriorityClass {
				return &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: c.Name, Labels: maps.Clone(c.Labels)}, Value: c.Value,
					GlobalDefault: c.GlobalDefault, Description: c.Description, PreemptionPolicy: c.PreemptionPolicy}
			},
			same: func(a, b *schedulingv1.PriorityClass) bool {
				return a.Value == b.Value && a.GlobalDefault == b.GlobalDefault && a.Description == b.Description &&
					apiequality.Semantic.DeepEqual(a.PreemptionPolicy, b.PreemptionPolicy) && maps.Equal(a.Labels, b.Labels)
			},
			updatable: func(a, b *schedulingv1.PriorityClass) bool {
				return a.Value == b.Value && apiequality.Semantic.DeepEqual(a.PreemptionPolicy, b.PreemptionPolicy)
			},
		}),
	}
	return errors.Join(errs...)
}

// enqueueClasses queues every tenant's classes: a super class changed.
func (s *Syncer) enqueueClasses(any) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for key := range s.sessions {
		s.queue.Add(key, Key{Kind: KindClasses})
	}
}
