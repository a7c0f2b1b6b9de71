package translate

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

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
	secret := TokenSecret("t-000000", sa, map[string]string{"": token})
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
		s := TokenSecret("t-000000", sa, map[string]string{"": jwt(claims)})
		if _, ok := TokenRefreshAt(s, "shop"); ok {
			t.Errorf("claims %s: a token without a valid lifetime is taken as valid", claims)
		}
	}
	if _, ok := TokenRefreshAt(TokenSecret("t-000000", sa, map[string]string{"": "opaque-not-a-jwt"}), "shop"); ok {
		t.Error("a token that is not a JWT is taken as valid")
	}
	if _, ok := TokenRefreshAt(TokenSecret("t-000000", sa, nil), "shop"); ok {
		t.Error("a Secret without a token is taken as valid")
	}
}

func TestTokenSecretAudiences(t *testing.T) {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "builder", UID: "sa-uid"}}
	own, vault := jwt(`{"iat":1000,"exp":4600}`), jwt(`{"iat":1000,"exp":2800,"aud":["vault"]}`)
	secret := TokenSecret("t-000000", sa, map[string]string{"": own, "vault": vault})
	if string(secret.Data["token"]) != own || string(secret.Data[TokenKey("vault")]) != vault || len(secret.Data) != 3 {
		t.Errorf("data keys %v: want token, %s and namespace", slices.Sorted(maps.Keys(secret.Data)), TokenKey("vault"))
	}
	// The earliest token due decides: vault's lives 30 minutes.
	if at, ok := TokenRefreshAt(secret, "shop"); !ok || !at.Equal(time.Unix(1000+1440, 0)) {
		t.Errorf("TokenRefreshAt = %v, %v; want %v", at, ok, time.Unix(1000+1440, 0))
	}
	for _, tc := range []struct {
		audiences []string
		want      bool
	}{
		{[]string{"", "vault"}, true},
		{[]string{"vault", "", "vault"}, true},
		{[]string{""}, false},
		{[]string{"", "vault", "sts.example.com"}, false},
	} {
		if got := TokenSecretHolds(secret, tc.audiences); got != tc.want {
			t.Errorf("TokenSecretHolds(%q) = %v, want %v", tc.audiences, got, tc.want)
		}
	}
	edited := secret.DeepCopy()
	edited.Data[TokenKey("vault")] = []byte(jwt(`{"iat":1000,"exp":999999}`))
	if _, ok := TokenRefreshAt(edited, "shop"); ok {
		t.Error("a Secret whose second token was edited by hand is taken as valid")
	}
	// Keys are valid Secret keys, distinct per audience and stable.
	seen := map[string]string{}
	for _, audience := range []string{"", "vault", "https://sts.example.com", "a b/c", strings.Repeat("x", 500)} {
		k := TokenKey(audience)
		if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
			t.Errorf("TokenKey(%q) = %q: %v", audience, k, errs)
		}
		if other, ok := seen[k]; ok {
			t.Errorf("audiences %q and %q share the key %q", audience, other, k)
		}
		if TokenKey(audience) != k {
			t.Errorf("TokenKey(%q) is not stable", audience)
		}
		seen[k] = audience
	}
	if TokenKey("") != "token" {
		t.Errorf("the tenant API's own audience is under %q, want token", TokenKey(""))
	}
}

// TestTokenRequests: a projection's token request names its audience and, below
// TokenShortLived, its lifetime; it parses back into both and makes a projection that
// names it again; audiences alone keep the keys they had before lifetimes counted.
func TestTokenRequests(t *testing.T) {
	for _, tc := range []struct {
		audience string
		seconds  *int64
		want     string
		wantSecs int64
	}{
		{"", nil, "", 0},
		{"", ptr.To[int64](3607), "", 0},
		{"", ptr.To[int64](3600), "", 0},
		{"", ptr.To[int64](600), "\x00600", 600},
		{"vault", nil, "vault", 0},
		{"vault", ptr.To[int64](86400), "vault", 0},
		{"vault", ptr.To[int64](3599), "vault\x003599", 3599},
		{"https://sts.example.com/a b", ptr.To[int64](1200), "https://sts.example.com/a b\x001200", 1200},
	} {
		p := &corev1.ServiceAccountTokenProjection{Audience: tc.audience, ExpirationSeconds: tc.seconds, Path: "t"}
		got := TokenRequestOf(p)
		if got != tc.want {
			t.Errorf("TokenRequestOf(%q, %v) = %q, want %q", tc.audience, tc.seconds, got, tc.want)
		}
		if audience, secs := ParseTokenRequest(got); audience != tc.audience || secs != tc.wantSecs {
			t.Errorf("ParseTokenRequest(%q) = %q, %d; want %q, %d", got, audience, secs, tc.audience, tc.wantSecs)
		}
		if again := TokenRequestOf(TokenProjection(got, "t")); again != got {
			t.Errorf("TokenProjection(%q) names %q", got, again)
		}
	}
	// Keys stay what they were for audiences alone (pods running before mount them).
	if TokenKey("vault") != "token-"+hex.EncodeToString(sha256Prefix("vault")) {
		t.Errorf("TokenKey(vault) = %q changed", TokenKey("vault"))
	}
	if TokenKey("\x00600") == TokenKey("") || TokenKey("vault\x00600") == TokenKey("vault") {
		t.Error("a short-lived token shares the key of the usual one")
	}
	// Garbage after the separator (a Secret key is never parsed back, but the index's
	// values are): the audience, at the usual lifetime.
	for _, bad := range []string{"vault\x00", "vault\x00x", "vault\x00-5", "vault\x000"} {
		if audience, secs := ParseTokenRequest(bad); audience != "vault" || secs != 0 {
			t.Errorf("ParseTokenRequest(%q) = %q, %d; want vault, 0", bad, audience, secs)
		}
	}
}

func sha256Prefix(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:8]
}
