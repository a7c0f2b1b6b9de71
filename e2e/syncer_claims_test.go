package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/vcp-dev/vcp/e2e/framework"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// claimSourcesSpec: a claim cloned from another claim of its namespace keeps its data
// source in the super cluster; one restored from a snapshot is refused at the tenant API
// (the super cluster has no such snapshot), in a claim and in a pod's ephemeral volume;
// a pod's generic ephemeral volume is the claim the tenant's controller makes for it,
// bound in the super cluster and deleted with the pod, and never a claim of that name
// made otherwise.
func claimSourcesSpec(t *testing.T, p *provisioning, tenant kubernetes.Interface, key string) {
	ctx := t.Context()
	const ns = "vols"
	superNS := naming.SuperNamespace(key, ns)
	if _, err := tenant.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	claims := tenant.CoreV1().PersistentVolumeClaims(ns)
	claimSpec := func(source *corev1.TypedLocalObjectReference) corev1.PersistentVolumeClaimSpec {
		return corev1.PersistentVolumeClaimSpec{
			StorageClassName: ptr.To("manual"), AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, DataSource: source,
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		}
	}
	snapshot := &corev1.TypedLocalObjectReference{APIGroup: ptr.To("snapshot.storage.k8s.io"), Kind: "VolumeSnapshot", Name: "nightly"}

	// A clone of a claim of the namespace: the super copy clones the seed's super copy.
	for _, c := range []*corev1.PersistentVolumeClaim{
		{ObjectMeta: metav1.ObjectMeta{Name: "seed"}, Spec: claimSpec(nil)},
		{ObjectMeta: metav1.ObjectMeta{Name: "copy"}, Spec: claimSpec(&corev1.TypedLocalObjectReference{Kind: "PersistentVolumeClaim", Name: "seed"})},
	} {
		if _, err := claims.Create(ctx, c, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	framework.Eventually(t, 30*time.Second, "super copy of claim copy cloning seed", func(ctx context.Context) (bool, error) {
		superCopy, err := p.cluster.SuperClient.CoreV1().PersistentVolumeClaims(superNS).Get(ctx, "copy", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		ds, ref := superCopy.Spec.DataSource, superCopy.Spec.DataSourceRef
		return ds != nil && ds.Kind == "PersistentVolumeClaim" && ds.Name == "seed" && ref != nil && ref.Name == "seed",
			fmt.Errorf("data source %+v, ref %+v", ds, ref)
	})

	// A snapshot the super cluster does not have: refused, naming the field.
	_, err := claims.Create(ctx, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "restored"}, Spec: claimSpec(snapshot)}, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "spec.dataSource") || !strings.Contains(err.Error(), `VolumeSnapshot.snapshot.storage.k8s.io "nightly"`) {
		t.Errorf("a claim restored from a snapshot: got %v, want Forbidden naming spec.dataSource and the snapshot", err)
	}
	ephemeralPod := func(name string, source *corev1.TypedLocalObjectReference) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "c", Image: "nginx", VolumeMounts: []corev1.VolumeMount{{Name: "scratch", MountPath: "/scratch"}}}},
			Volumes: []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{
				VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{Spec: claimSpec(source)}}}}},
		}}
	}
	_, err = tenant.CoreV1().Pods(ns).Create(ctx, ephemeralPod("restorer", snapshot), metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "spec.volumes[0].ephemeral.volumeClaimTemplate.spec.dataSource") {
		t.Errorf("a pod whose ephemeral volume restores a snapshot: got %v, want Forbidden naming spec.volumes[0].ephemeral.volumeClaimTemplate.spec.dataSource", err)
	}

	// A generic ephemeral volume: the tenant's claim worker-scratch, its super copy bound to
	// a super volume, the super pod mounting it, Running.
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-e2e-scratch"}, Spec: corev1.PersistentVolumeSpec{
		StorageClassName: "manual", AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
		PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/pv-e2e-scratch"}},
		ClaimRef:               &corev1.ObjectReference{Namespace: superNS, Name: "worker-scratch"},
	}}
	if _, err := p.cluster.SuperClient.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := tenant.CoreV1().Pods(ns).Create(ctx, ephemeralPod("worker", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, time.Minute, "tenant claim worker-scratch, owned by its pod, Bound", func(ctx context.Context) (bool, error) {
		c, err := claims.Get(ctx, "worker-scratch", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		owned := len(c.OwnerReferences) == 1 && c.OwnerReferences[0].Kind == "Pod" && c.OwnerReferences[0].Name == "worker"
		return owned && c.Status.Phase == corev1.ClaimBound, fmt.Errorf("owners %v, phase %s", c.OwnerReferences, c.Status.Phase)
	})
	superPod, err := p.cluster.SuperClient.CoreV1().Pods(superNS).Get(ctx, "worker", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v := superPod.Spec.Volumes[0]; v.Name != "scratch" || v.Ephemeral != nil || v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != "worker-scratch" {
		t.Errorf("super pod volume %+v, want scratch from claim worker-scratch", v)
	}
	waitRunning(t, tenant, ns, "", 1, time.Minute)

	// Gone with the pod: the tenant's garbage collector deletes the claim, the syncer its copy.
	if err := tenant.CoreV1().Pods(ns).Delete(ctx, "worker", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, time.Minute, "claim worker-scratch and its super copy gone with the pod", func(ctx context.Context) (bool, error) {
		_, cErr := claims.Get(ctx, "worker-scratch", metav1.GetOptions{})
		_, sErr := p.cluster.SuperClient.CoreV1().PersistentVolumeClaims(superNS).Get(ctx, "worker-scratch", metav1.GetOptions{})
		return apierrors.IsNotFound(cErr) && apierrors.IsNotFound(sErr), fmt.Errorf("claim: %v, super claim: %v", cErr, sErr)
	})

	// A claim the user made under the name a pod's ephemeral volume claim would have is
	// never mounted: the pod gets no super pod, and the tenant's controller says why.
	if _, err := claims.Create(ctx, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "squatter-scratch"}, Spec: claimSpec(nil)}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := tenant.CoreV1().Pods(ns).Create(ctx, ephemeralPod("squatter", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "an event on pod squatter about claim squatter-scratch", func(ctx context.Context) (bool, error) {
		events, err := tenant.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=squatter"})
		if err != nil {
			return false, err
		}
		for _, e := range events.Items {
			if strings.Contains(e.Message, "squatter-scratch") {
				return true, nil
			}
		}
		return false, fmt.Errorf("%d events", len(events.Items))
	})
	framework.Consistently(t, 3*time.Second, "no super pod squatter", func(ctx context.Context) error {
		_, err := p.cluster.SuperClient.CoreV1().Pods(superNS).Get(ctx, "squatter", metav1.GetOptions{})
		if err == nil {
			return errors.New("the super pod exists: the user's claim would be mounted")
		}
		if !apierrors.IsNotFound(err) {
			return err
		}
		return nil
	})

	if err := tenant.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := p.cluster.SuperClient.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}
