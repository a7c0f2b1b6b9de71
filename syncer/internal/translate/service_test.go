package translate

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/vcp-dev/vcp/syncer/naming"
)

func TestEndpointSliceCopied(t *testing.T) {
	if EndpointSliceCopied(&discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Labels: map[string]string{discoveryv1.LabelServiceName: "kubernetes"}}}) {
		t.Error("a slice of the tenant API's own Service default/kubernetes is copied")
	}
	for _, tc := range []struct {
		managedBy string
		want      bool
	}{
		{"", true},
		{"my-operator.example.com", true},
		{EndpointSliceManager, true},
		{"endpointslice-controller.k8s.io", false},
		{"endpointslicemirroring-controller.k8s.io", false},
	} {
		slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{discoveryv1.LabelServiceName: "db"}}}
		if tc.managedBy != "" {
			slice.Labels[discoveryv1.LabelManagedBy] = tc.managedBy
		}
		if got := EndpointSliceCopied(slice); got != tc.want {
			t.Errorf("managed by %q: copied %v, want %v", tc.managedBy, got, tc.want)
		}
	}
}

func TestSuperEndpointSlice(t *testing.T) {
	in := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "db-1", Namespace: "shop", UID: "uid-s", ResourceVersion: "7",
			Labels: map[string]string{discoveryv1.LabelServiceName: "db", discoveryv1.LabelManagedBy: "my-operator"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.244.0.5"}, NodeName: ptr.To("node-1"), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
				TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: "db-0", UID: "pod-uid", ResourceVersion: "9"}},
			{Addresses: []string{"192.0.2.10"}},
		},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("pg"), Port: ptr.To[int32](5432)}},
	}
	before := in.DeepCopy()
	got := SuperEndpointSlice("shop-a1b2c3", in)
	superNS := naming.SuperNamespace("shop-a1b2c3", "shop")
	if got.Name != "db-1" || got.Namespace != superNS {
		t.Errorf("placed at %s/%s", got.Namespace, got.Name)
	}
	if id, ok := naming.IdentityOf(got); !ok || id != (naming.Identity{Tenant: "shop-a1b2c3", Namespace: "shop", Name: "db-1", UID: "uid-s"}) {
		t.Errorf("identity %+v, %v", id, ok)
	}
	if got.Labels[discoveryv1.LabelServiceName] != "db" || got.Labels[discoveryv1.LabelManagedBy] != EndpointSliceManager {
		t.Errorf("labels %v: want the service name kept and the syncer as manager", got.Labels)
	}
	wantEndpoints := []discoveryv1.Endpoint{
		{Addresses: []string{"10.244.0.5"}, NodeName: ptr.To("node-1"), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: superNS, Name: "db-0"}},
		{Addresses: []string{"192.0.2.10"}},
	}
	if got.AddressType != discoveryv1.AddressTypeIPv4 || !reflect.DeepEqual(got.Endpoints, wantEndpoints) || !reflect.DeepEqual(got.Ports, in.Ports) {
		t.Errorf("content:\n got %s %+v %+v\nwant IPv4 %+v %+v", got.AddressType, got.Endpoints, got.Ports, wantEndpoints, in.Ports)
	}
	if !reflect.DeepEqual(in, before) {
		t.Error("SuperEndpointSlice changed the tenant slice")
	}
}

func TestSuperClaim(t *testing.T) {
	str := func(s string) *string { return &s }
	clone := &corev1.TypedLocalObjectReference{Kind: "PersistentVolumeClaim", Name: "data"}
	cloneRef := &corev1.TypedObjectReference{Kind: "PersistentVolumeClaim", Name: "data"}
	snapshot := &corev1.TypedLocalObjectReference{APIGroup: str("snapshot.storage.k8s.io"), Kind: "VolumeSnapshot", Name: "nightly"}
	snapshotRef := &corev1.TypedObjectReference{APIGroup: str("snapshot.storage.k8s.io"), Kind: "VolumeSnapshot", Name: "nightly"}
	for _, tc := range []struct {
		name    string
		ds      *corev1.TypedLocalObjectReference
		ref     *corev1.TypedObjectReference
		wantDS  *corev1.TypedLocalObjectReference
		wantRef *corev1.TypedObjectReference
	}{
		{name: "no data source"},
		{name: "a clone of a claim of the namespace is kept: its copy has the same name", ds: clone, ref: cloneRef, wantDS: clone, wantRef: cloneRef},
		{name: "a clone in dataSourceRef only", ref: cloneRef, wantRef: cloneRef},
		{name: "a snapshot is left out", ds: snapshot, ref: snapshotRef},
		{name: "a claim of another namespace is left out", ref: &corev1.TypedObjectReference{Kind: "PersistentVolumeClaim", Name: "data", Namespace: str("other")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &corev1.PersistentVolumeClaim{
				ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "copy", UID: "u1"},
				Spec: corev1.PersistentVolumeClaimSpec{VolumeName: "pv-1", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}},
					DataSource: tc.ds.DeepCopy(), DataSourceRef: tc.ref.DeepCopy(), StorageClassName: str("fast")},
			}
			before := in.DeepCopy()
			got := SuperClaim("a-000000", in)
			if !reflect.DeepEqual(got.Spec.DataSource, tc.wantDS) || !reflect.DeepEqual(got.Spec.DataSourceRef, tc.wantRef) {
				t.Errorf("data sources %+v / %+v, want %+v / %+v", got.Spec.DataSource, got.Spec.DataSourceRef, tc.wantDS, tc.wantRef)
			}
			if got.Spec.VolumeName != "" || got.Spec.Selector != nil || got.Spec.StorageClassName == nil || *got.Spec.StorageClassName != "fast" {
				t.Errorf("spec %+v: want no volume name, no selector, class fast", got.Spec)
			}
			if got.Name != "copy" || got.Namespace != naming.SuperNamespace("a-000000", "shop") {
				t.Errorf("super claim %s/%s", got.Namespace, got.Name)
			}
			if !reflect.DeepEqual(in, before) {
				t.Error("SuperClaim changed the tenant claim")
			}
		})
	}
}
