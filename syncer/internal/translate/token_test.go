package translate

import (
	"encoding/base64"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vcp-dev/vcp/syncer/naming"
)

// jwt returns a token shaped like the tenant API's, with the given claims.
func jwt(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(claims)) + ".c2lnbmF0dXJl"
}

func TestTokenSecret(t *testing.T) {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "builder", UID: "sa-uid"}}
	token := jwt(`{"iat":1000,"exp":4600,"sub":"system:serviceaccount:shop:builder"}`)
	secret := TokenSecret("t-000000", sa, token)
	if secret.Name != "vcp-token-builder" || secret.Namespace != naming.SuperNamespace("t-000000", "shop") || secret.Type != corev1.SecretTypeOpaque {
		t.Errorf("token Secret %s/%s of type %s", secret.Namespace, secret.Name, secret.Type)
	}
	if id, ok := naming.IdentityOf(secret); !ok || id != (naming.Identity{Tenant: "t-000000", Namespace: "shop", Name: "builder", UID: "sa-uid"}) {
		t.Errorf("identity %+v, %v: want the service account's", id, ok)
	}
	if secret.Labels[LabelServiceAccountToken] != "true" || string(secret.Data["token"]) != token || string(secret.Data["namespace"]) != "shop" {
		t.Errorf("labels %v, data keys %d", secret.Labels, len(secret.Data))
	}

	at, ok := TokenRefreshAt(secret, "shop")
	if want := time.Unix(1000+2880, 0); !ok || !at.Equal(want) {
		t.Errorf("TokenRefreshAt = %v, %v; want %v (80%% of the hour)", at, ok, want)
	}
	for _, tc := range []struct {
		name string
		edit func(s *corev1.Secret)
		ns   string
	}{
		{"token edited by hand", func(s *corev1.Secret) { s.Data["token"] = []byte(jwt(`{"iat":1000,"exp":999999}`)) }, "shop"},
		{"hash edited by hand", func(s *corev1.Secret) { s.Annotations[AnnotationTokenSHA256] = "00" }, "shop"},
		{"hash missing", func(s *corev1.Secret) { delete(s.Annotations, AnnotationTokenSHA256) }, "shop"},
		{"namespace edited", func(s *corev1.Secret) { s.Data["namespace"] = []byte("other") }, "shop"},
		{"another namespace's", func(*corev1.Secret) {}, "other"},
		{"type changed", func(s *corev1.Secret) { s.Type = corev1.SecretTypeServiceAccountToken }, "shop"},
		{"made immutable", func(s *corev1.Secret) { s.Immutable = &[]bool{true}[0] }, "shop"},
	} {
		s := secret.DeepCopy()
		tc.edit(s)
		if _, ok := TokenRefreshAt(s, tc.ns); ok {
			t.Errorf("%s: the Secret is taken as valid", tc.name)
		}
	}
	for _, claims := range []string{`{"iat":1000}`, `{"iat":5000,"exp":4000}`, `not json`, `{"iat":"x","exp":2}`} {
		s := TokenSecret("t-000000", sa, jwt(claims))
		if _, ok := TokenRefreshAt(s, "shop"); ok {
			t.Errorf("claims %s: a token without a valid lifetime is taken as valid", claims)
		}
	}
	if _, ok := TokenRefreshAt(TokenSecret("t-000000", sa, "opaque-not-a-jwt"), "shop"); ok {
		t.Error("a token that is not a JWT is taken as valid")
	}
}
