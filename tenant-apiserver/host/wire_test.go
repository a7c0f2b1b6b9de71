package host

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/vcp-dev/vcp/tenant-apiserver/adminclient"
	"github.com/vcp-dev/vcp/tenant-apiserver/policy"
)

// TestAdminClientWireTypes keeps adminclient's copies of the admin API's types (it has
// its own so the vc-manager does not link kube-apiserver) in step with the host's: every
// field round-trips both ways, decoded with unknown fields disallowed as the host does.
func TestAdminClientWireTypes(t *testing.T) {
	roundTrip := func(name string, from, to any) {
		t.Helper()
		b, err := json.Marshal(from)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(to); err != nil {
			t.Errorf("%s: %v (a field exists on one side only)", name, err)
			return
		}
		back, _ := json.Marshal(to)
		if !bytes.Equal(b, back) {
			t.Errorf("%s: %s came back as %s", name, b, back)
		}
	}
	spec := TenantSpec{Name: "a", UID: "u", KeyPrefix: "/p/", DisabledAPIs: []string{"batch/v1"}, ExtraSANs: []string{"x"}, PKI: map[string][]byte{"ca.crt": []byte("c")},
		Policy: &policy.Policy{PodSecurity: "baseline", Registries: []string{"r.io"}, ServiceTypes: []string{"ClusterIP"}, StorageClasses: []string{"s"}, IngressClasses: []string{"i"}}}
	roundTrip("host.TenantSpec → adminclient.Tenant", spec, &adminclient.Tenant{})
	roundTrip("adminclient.Tenant → host.TenantSpec", adminclient.Tenant(spec), &TenantSpec{})
	status := Status{Name: "a", Prefix: "/p/", Healthy: true, Restarts: 2, Error: "e"}
	roundTrip("host.Status → adminclient.Status", status, &adminclient.Status{})
	creds := DatastoreCredentials{Endpoints: []string{"https://e"}, Prefix: "/p/", User: "u", CACert: []byte("a"), Cert: []byte("b"), Key: []byte("c")}
	roundTrip("host.DatastoreCredentials → adminclient.Datastore", creds, &adminclient.Datastore{})
}
