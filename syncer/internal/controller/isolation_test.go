package controller

import (
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vcp-dev/vcp/syncer/internal/translate"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// TestSuperNamespaceLabels checks that a super namespace mirrors its tenant namespace's
// labels (dropping those the tenant removed), keeps labels others set, and keeps its
// mirrored labels when the tenant namespace is not known (not in the cache).
func TestSuperNamespaceLabels(t *testing.T) {
	id := naming.Identity{Tenant: "a-111111", Name: "shop", UID: "u"}
	iso := translate.Isolation{VCNamespace: "team", VCName: "a"}
	have := map[string]string{
		"ns.tenancy.vcp.dev/old":                         "x", // the tenant removed it
		"ns.tenancy.vcp.dev/team":                        "red",
		"reach.tenancy.vcp.dev/gone":                     "true",
		"admin.example.com/owner":                        "ops", // someone else's
		"kubernetes.io/metadata.name":                    "a-111111-shop",
		"kubernetes.io.ns.tenancy.vcp.dev/metadata.name": "shop",
	}
	tenantNS := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"team": "blue", corev1.LabelMetadataName: "shop"}}}
	got := superNamespaceLabels(have, id, iso, tenantNS)
	want := map[string]string{
		"ns.tenancy.vcp.dev/team":                        "blue",
		"kubernetes.io.ns.tenancy.vcp.dev/metadata.name": "shop",
		"admin.example.com/owner":                        "ops",
		"kubernetes.io/metadata.name":                    "a-111111-shop",
		naming.LabelTenant:                               "a-111111",
		translate.LabelVCNamespace:                       "team",
		translate.LabelVCName:                            "a",
	}
	if !maps.Equal(got, want) {
		t.Errorf("superNamespaceLabels:\n got %v\nwant %v", got, want)
	}
	if unknown := superNamespaceLabels(have, id, iso, nil); unknown["ns.tenancy.vcp.dev/team"] != "red" || unknown["ns.tenancy.vcp.dev/old"] != "x" {
		t.Errorf("without the tenant namespace the mirrored labels must stay as they are: %v", unknown)
	}
	if have["ns.tenancy.vcp.dev/team"] != "red" {
		t.Error("superNamespaceLabels changed the labels it was given")
	}
}
