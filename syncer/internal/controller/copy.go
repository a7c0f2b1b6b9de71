package controller

import (
	"context"
	"fmt"
	"maps"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vcp-dev/vcp/syncer/internal/translate"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// superWriter is the typed super-cluster client of one kind in one namespace.
type superWriter[P metav1.Object] interface {
	Create(ctx context.Context, obj P, opts metav1.CreateOptions) (P, error)
	Update(ctx context.Context, obj P, opts metav1.UpdateOptions) (P, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error
}

// copied describes a kind the syncer copies down as is (ConfigMaps, Secrets, Endpoints):
// the super copy exists with the tenant object's content while the tenant object does,
// an edit of the copy is undone, and the copy is deleted after the tenant object.
type copied[P metav1.Object] struct {
	kind      string
	tenantGet func(ns, name string) (P, error)
	superGet  func(superNS, name string) (P, error)
	writer    func(superNS string) superWriter[P]
	// skip reports tenant objects that are not copied (a tenant's own credentials, the
	// cluster's own EndpointSlices): a super copy made before is deleted.
	skip func(tenantObj P) bool
	// reserved reports names the platform uses for objects of its own in super
	// namespaces: a tenant object of such a name is not copied, and its key never touches
	// the platform's object.
	reserved func(name string) bool
	// superName is the super copy's name (nil: the tenant object's).
	superName func(name string) string
	// want is the super copy of tenantObj.
	want func(tenantObj P) P
	// replace reports a super copy that only deleting and creating again can make match
	// (an immutable object whose content changed).
	replace func(superObj, want P) bool
	// same reports a super copy that needs no update; update returns superObj changed to
	// want.
	same   func(superObj, want P) bool
	update func(superObj, want P) P
}

// syncCopy makes the super copy of tenant object ns/name match it.
func syncCopy[P metav1.Object](ctx context.Context, s *Syncer, sess *session, c copied[P], ns, name string) error {
	if c.reserved != nil && c.reserved(name) {
		return nil
	}
	tenantObj, err := c.tenantGet(ns, name)
	tenantFound := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	// A tenant object that is not copied (any more: an EndpointSlice's manager can change)
	// has no super copy.
	skipped := tenantFound && c.skip != nil && c.skip(tenantObj)
	superNS, superName := naming.SuperNamespace(sess.key, ns), name
	if c.superName != nil {
		superName = c.superName(name)
	}
	superObj, err := c.superGet(superNS, superName)
	superFound := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if superFound && !naming.Owns(sess.key, superObj) {
		return fmt.Errorf("super %s %s/%s belongs to another tenant: refusing to touch it", c.kind, superNS, superName)
	}
	if superFound && (superObj.GetLabels()[translate.LabelIsolation] != "" || superObj.GetLabels()[translate.LabelServiceAccountToken] != "") {
		return fmt.Errorf("super %s %s/%s is the platform's: refusing to touch it", c.kind, superNS, superName)
	}
	writer := c.writer(superNS)
	deleteSuper := func() error {
		uid := superObj.GetUID()
		return ignoreGone(writer.Delete(ctx, superName, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}))
	}
	if !tenantFound || skipped || tenantObj.GetDeletionTimestamp() != nil {
		if !superFound {
			return nil
		}
		return deleteSuper()
	}
	want := c.want(tenantObj)
	switch {
	case !superFound:
		if err := s.ensureSuperNamespace(ctx, sess, ns); err != nil {
			return err
		}
		_, err := writer.Create(ctx, want, metav1.CreateOptions{})
		return ignoreExists(err)
	case superObj.GetAnnotations()[naming.AnnotationUID] != string(tenantObj.GetUID()) || (c.replace != nil && c.replace(superObj, want)):
		// An orphan of an earlier tenant object of the same name, or an immutable copy
		// whose content changed: replace it.
		if err := deleteSuper(); err != nil {
			return err
		}
		return fmt.Errorf("replaced super %s %s/%s", c.kind, superNS, superName)
	case !sameMeta(superObj, want) || !c.same(superObj, want):
		updated := c.update(superObj, want)
		updated.SetLabels(want.GetLabels())
		updated.SetAnnotations(want.GetAnnotations())
		_, err := writer.Update(ctx, updated, metav1.UpdateOptions{})
		return ignoreGone(err)
	}
	return nil
}

func sameMeta(got, want metav1.Object) bool {
	return maps.Equal(got.GetLabels(), want.GetLabels()) && maps.Equal(got.GetAnnotations(), want.GetAnnotations())
}

// lookupPair reads a tenant object and its super copy from the caches (either may be
// nil) and refuses a super object of that name that another tenant owns.
func lookupPair[P interface {
	*T
	metav1.Object
}, T any](tenantKey, kind string, tenantGet, superGet func(name string) (P, error), name string) (tenantObj, superObj P, err error) {
	if tenantObj, err = tenantGet(name); err != nil && !apierrors.IsNotFound(err) {
		return nil, nil, err
	}
	if superObj, err = superGet(name); err != nil && !apierrors.IsNotFound(err) {
		return nil, nil, err
	}
	if superObj != nil && !naming.Owns(tenantKey, superObj) {
		return nil, nil, fmt.Errorf("super %s %s/%s belongs to another tenant: refusing to touch it", kind, superObj.GetNamespace(), name)
	}
	return tenantObj, superObj, nil
}
