package translate

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vcp-dev/vcp/syncer/naming"
)

const (
	// LabelServiceAccountToken marks a super Secret holding a tenant service account's
	// token (TokenSecret): its identity names the service account, not a tenant Secret.
	LabelServiceAccountToken = "tenancy.vcp.dev/service-account-token"
	// AnnotationTokenSHA256 is the SHA-256 of the token a token Secret holds: a token
	// edited by hand no longer matches it and is replaced.
	AnnotationTokenSHA256 = "tenancy.vcp.dev/token-sha256"
)

// TokenSecret is the super Secret that super pods of tenant service account sa mount in
// place of the tenant's projected service-account tokens: tokens the tenant API minted
// for sa, by audience ("" for the API's own) under TokenKey(audience), and the tenant
// namespace ("namespace"). It is Opaque: a Secret of type service-account-token would be
// filled by the super cluster's token controller.
func TokenSecret(tenantKey string, sa *corev1.ServiceAccount, tokens map[string]string) *corev1.Secret {
	data := map[string][]byte{corev1.ServiceAccountNamespaceKey: []byte(sa.Namespace)}
	for audience, token := range tokens {
		data[TokenKey(audience)] = []byte(token)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:        TokenSecretName(sa.Name),
			Namespace:   naming.SuperNamespace(tenantKey, sa.Namespace),
			Labels:      map[string]string{LabelServiceAccountToken: "true"},
			Annotations: map[string]string{AnnotationTokenSHA256: tokensDigest(data)},
		},
		Type: corev1.SecretTypeOpaque,
		Data: data,
	}
	naming.Stamp(secret, naming.Identity{Tenant: tenantKey, Namespace: sa.Namespace, Name: sa.Name, UID: string(sa.UID)})
	return secret
}

// TokenKey is the key of a token Secret (TokenSecret) holding the token for audience:
// "token" for the tenant API's own (a projection without an audience), "token-" and a
// digest of the audience for another (audiences are arbitrary strings, keys are not).
func TokenKey(audience string) string {
	if audience == "" {
		return corev1.ServiceAccountTokenKey
	}
	sum := sha256.Sum256([]byte(audience))
	return corev1.ServiceAccountTokenKey + "-" + hex.EncodeToString(sum[:8])
}

// tokenKeys returns the keys of a token Secret's data that hold tokens, sorted.
func tokenKeys(data map[string][]byte) []string {
	var keys []string
	for k := range data {
		if k == corev1.ServiceAccountTokenKey || strings.HasPrefix(k, corev1.ServiceAccountTokenKey+"-") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// tokensDigest is the hex SHA-256 of a token Secret's tokens, in key order (for the one
// token of the API's own audience, the SHA-256 of that token).
func tokensDigest(data map[string][]byte) string {
	h := sha256.New()
	for _, k := range tokenKeys(data) {
		h.Write(data[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TokenSecretHolds reports whether a token Secret holds a token for exactly the given
// audiences ("" for the tenant API's own), no more.
func TokenSecretHolds(superSecret *corev1.Secret, audiences []string) bool {
	want := make([]string, 0, len(audiences))
	for _, a := range audiences {
		want = append(want, TokenKey(a))
	}
	slices.Sort(want)
	return slices.Equal(slices.Compact(want), tokenKeys(superSecret.Data))
}

// TokenRefreshFraction is how much of a token's lifetime passes before it is replaced:
// kubelets refresh projected tokens at 80% too, and the rest leaves time for retries.
const TokenRefreshFraction = 0.8

// TokenRefreshAt returns when the token in a super token Secret of tenant namespace ns
// must be replaced (TokenRefreshFraction of its lifetime, read from the token's own
// claims); ok is false when the Secret holds no well-formed token of that namespace (made
// or edited by hand) or was made immutable (it could not be renewed), so that it must be
// replaced now. Whether the token belongs to the
// service account's current UID is the caller's check (the Secret's identity).
func TokenRefreshAt(superSecret *corev1.Secret, ns string) (refreshAt time.Time, ok bool) {
	immutable := superSecret.Immutable != nil && *superSecret.Immutable
	if superSecret.Type != corev1.SecretTypeOpaque || immutable || string(superSecret.Data[corev1.ServiceAccountNamespaceKey]) != ns {
		return time.Time{}, false
	}
	keys := tokenKeys(superSecret.Data)
	sum, err := hex.DecodeString(tokensDigest(superSecret.Data))
	want, wantErr := hex.DecodeString(superSecret.Annotations[AnnotationTokenSHA256])
	if len(keys) == 0 || err != nil || wantErr != nil || subtle.ConstantTimeCompare(want, sum) != 1 {
		return time.Time{}, false
	}
	for _, k := range keys {
		issued, expires, ok := tokenLifetime(string(superSecret.Data[k]))
		if !ok {
			return time.Time{}, false
		}
		at := issued.Add(time.Duration(TokenRefreshFraction * float64(expires.Sub(issued))))
		if refreshAt.IsZero() || at.Before(refreshAt) {
			refreshAt = at
		}
	}
	return refreshAt, true
}

// tokenLifetime reads the issue and expiry times of a JWT from its claims (the signature
// is the tenant API's to check).
func tokenLifetime(token string) (issued, expires time.Time, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	var claims struct {
		IssuedAt  int64 `json:"iat"`
		ExpiresAt int64 `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.IssuedAt <= 0 || claims.ExpiresAt <= claims.IssuedAt {
		return time.Time{}, time.Time{}, false
	}
	return time.Unix(claims.IssuedAt, 0), time.Unix(claims.ExpiresAt, 0), true
}
