package host

import (
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestInClusterNames: a pod's in-cluster client, given kubernetes.default.svc (any of its
// forms), its tenant's published ca.crt and its token, reaches its own tenant's API on a
// host serving several; a token naming another tenant's issuer is refused by that tenant,
// one naming none by the host. The published bundle still verifies the tenant's own name.
func TestInClusterNames(t *testing.T) {
	h := startHost(t, Options{})
	ctx := t.Context()
	type account struct {
		token string
		uid   string
		ca    []byte
	}
	accounts := map[string]account{}
	for _, name := range []string{"a", "b"} {
		admin := addTenant(t, h, name)
		sa, err := admin.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "app"}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := admin.CoreV1().ServiceAccounts("default").CreateToken(ctx, "app", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var root *corev1.ConfigMap
		waitFor(t, time.Minute, "tenant "+name+" kube-root-ca.crt", func() (bool, error) {
			root, err = admin.CoreV1().ConfigMaps("default").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
			return err == nil, err
		})
		ca := []byte(root.Data["ca.crt"])
		if n := countCerts(ca); n != 2 {
			t.Errorf("tenant %s publishes %d CA certificates, want its serving CA and the host's in-cluster CA", name, n)
		}
		accounts[name] = account{token: tr.Status.Token, uid: string(sa.UID), ca: ca}
	}

	before := scrapeMetrics(t, h)
	client := func(serverName, token string, ca []byte) *kubernetes.Clientset {
		return kubernetes.NewForConfigOrDie(&rest.Config{Host: h.URL(), BearerToken: token, TLSClientConfig: rest.TLSClientConfig{ServerName: serverName, CAData: ca}, Timeout: 20 * time.Second})
	}
	whoami := func(c *kubernetes.Clientset) (authenticationv1.UserInfo, error) {
		r, err := c.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			return authenticationv1.UserInfo{}, err
		}
		return r.Status.UserInfo, nil
	}
	for _, tenant := range []string{"a", "b"} {
		acct := accounts[tenant]
		for _, name := range []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", h.ServerName(tenant)} {
			user, err := whoami(client(name, acct.token, acct.ca))
			if err != nil {
				t.Errorf("tenant %s at %s: %v", tenant, name, err)
				continue
			}
			if user.Username != "system:serviceaccount:default:app" || user.UID != acct.uid {
				t.Errorf("tenant %s at %s: user %s (uid %s), want system:serviceaccount:default:app of uid %s", tenant, name, user.Username, user.UID, acct.uid)
			}
		}
	}

	// a's token with b's issuer: routed to b, whose authentication refuses it.
	forged := withIssuer(t, accounts["a"].token, "https://"+h.ServerName("b"))
	if _, err := whoami(client("kubernetes.default.svc", forged, accounts["a"].ca)); !apierrors.IsUnauthorized(err) {
		t.Errorf("a token with another tenant's issuer: %v, want Unauthorized", err)
	}
	for what, token := range map[string]string{
		"no token":           "",
		"not a JWT":          "abc",
		"an unknown issuer":  withIssuer(t, accounts["a"].token, "https://c."+h.opts.Domain),
		"the super's issuer": withIssuer(t, accounts["a"].token, "https://kubernetes.default.svc.cluster.local"),
	} {
		_, err := whoami(client("kubernetes.default.svc", token, accounts["a"].ca))
		if !apierrors.IsUnauthorized(err) || !strings.Contains(err.Error(), "token") {
			t.Errorf("%s: %v, want Unauthorized naming the token", what, err)
		}
	}
	// 2 tenants × 4 in-cluster names and the forged token were routed; the rest refused.
	after := scrapeMetrics(t, h)
	for result, want := range map[string]float64{"routed": 9, "no_token": 2, "unknown_issuer": 2, "not_ready": 0} {
		key := `vcp_host_incluster_requests_total{result="` + result + `"}`
		if got := after[key] - before[key]; got != want {
			t.Errorf("%s: %v more, want %v", key, got, want)
		}
	}
}

func countCerts(bundle []byte) int {
	n := 0
	for {
		var block *pem.Block
		block, bundle = pem.Decode(bundle)
		if block == nil {
			return n
		}
		n++
	}
}

// withIssuer returns token with its payload's issuer replaced (its signature no longer
// matches).
func withIssuer(t *testing.T, token, issuer string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(payload), `"iss":"`)
	if i < 0 {
		t.Fatalf("no issuer in %s", payload)
	}
	end := strings.Index(string(payload[i+7:]), `"`)
	patched := string(payload[:i+7]) + issuer + string(payload[i+7+end:])
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(patched))
	return strings.Join(parts, ".")
}

func TestTokenIssuer(t *testing.T) {
	jwt := func(payload string) string {
		return "Bearer h." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".s"
	}
	for _, tc := range []struct {
		header, want, wantErr string
	}{
		{header: jwt(`{"iss":"https://a.tenants.vcp.local","sub":"x"}`), want: "https://a.tenants.vcp.local"},
		{header: "", wantErr: "no bearer token"},
		{header: "Basic dXNlcjpwYXNz", wantErr: "no bearer token"},
		{header: "Bearer ", wantErr: "no bearer token"},
		{header: "  bearer " + strings.TrimPrefix(jwt(`{"iss":"https://b.x"}`), "Bearer ") + " trailing", want: "https://b.x"},
		{header: "Bearer abc", wantErr: "not a JWT"},
		{header: "Bearer a.!!.c", wantErr: "not base64url"},
		{header: jwt(`{"sub":"x"}`), wantErr: "names no issuer"},
		{header: jwt(`[1,2]`), wantErr: "names no issuer"},
		{header: jwt(`{"iss":7}`), wantErr: "names no issuer"},
		{header: jwt(`{"ISS":"https://a.tenants.vcp.local"}`), wantErr: "names no issuer"},
	} {
		got, err := tokenIssuer(tc.header)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%q: error %v, want %q", tc.header, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || got != tc.want):
			t.Errorf("%q: %q, %v; want %q", tc.header, got, err, tc.want)
		}
	}
}

// FuzzTokenIssuer: whatever the Authorization header, tokenIssuer does not panic, and an
// issuer it returns is the payload's non-empty iss claim.
func FuzzTokenIssuer(f *testing.F) {
	f.Add("Bearer h." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://a.x"}`)) + ".s")
	f.Add("Bearer a.b.c")
	f.Add("Bearer ...")
	f.Fuzz(func(t *testing.T, header string) {
		issuer, err := tokenIssuer(header)
		if err != nil {
			return
		}
		if issuer == "" {
			t.Fatal("an empty issuer without an error")
		}
		token := strings.SplitN(strings.TrimSpace(header), " ", 3)[1]
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil || claims["iss"] != issuer {
			t.Fatalf("issuer %q from a payload whose iss is %v (%v): %q", issuer, claims["iss"], err, payload)
		}
	})
}
