package clusterdomain

import (
	"slices"
	"strings"
	"testing"
)

func TestInClusterNames(t *testing.T) {
	want := []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	if got := InClusterNames(""); !slices.Equal(got, want) {
		t.Errorf("default domain: %v, want %v", got, want)
	}
	if got := InClusterNames("corp.internal"); got[3] != "kubernetes.default.svc.corp.internal" {
		t.Errorf("another domain: %v", got)
	}
}

func TestValidateFlag(t *testing.T) {
	for domain, wantErr := range map[string]string{
		"cluster.local": "", "corp.internal": "",
		"Cluster_Local": `--cluster-domain "Cluster_Local"`, "": `--cluster-domain ""`,
	} {
		err := ValidateFlag("--cluster-domain", domain)
		if (wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%q: %v, want %q", domain, err, wantErr)
		}
	}
}
