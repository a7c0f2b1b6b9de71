package translate

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
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
// for sa, by token request (TokenRequestOf; "" for the API's own audience at the usual
// lifetime) under TokenKey(request), and the tenant namespace ("namespace"). It is
// Opaque: a Secret of type service-account-token would be filled by the super cluster's
// token controller.
func TokenSecret(tenantKey string, sa *corev1.ServiceAccount, tokens map[string]string) *corev1.Secret {
	data := map[string][]byte{corev1.ServiceAccountNamespaceKey: []byte(sa.Namespace)}
	for request, token := range tokens {
		data[TokenKey(request)] = []byte(token)
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

// TokenShortLived is the lifetime below which a projection's own expirationSeconds is
// followed: its token is minted for exactly that long (and replaced after
// TokenRefreshFraction of it). A projection asking for as long or longer (3600 s is the
// API's default, 3607 s the kube-api-access volume's) gets the syncer's lifetime, replaced
// as often: to the pod, a token that is always valid.
const TokenShortLived = 3600

// TokenRequestOf names the token a projection needs: its audience ("" for the tenant
// API's own), and, for a short-lived one (TokenShortLived), "\x00" and its
// expirationSeconds.
func TokenRequestOf(p *corev1.ServiceAccountTokenProjection) string {
	if p.ExpirationSeconds != nil && *p.ExpirationSeconds < TokenShortLived {
		return p.Audience + "\x00" + strconv.FormatInt(*p.ExpirationSeconds, 10)
	}
	return p.Audience
}

// ParseTokenRequest is TokenRequestOf undone: the audience and the expirationSeconds
// (0: the syncer's lifetime).
func ParseTokenRequest(request string) (audience string, expirationSeconds int64) {
	audience, seconds, ok := strings.Cut(request, "\x00")
	if !ok {
		return request, 0
	}
	n, err := strconv.ParseInt(seconds, 10, 64)
	if err != nil || n <= 0 {
		return audience, 0
	}
	return audience, n
}

// TokenProjection is a projection whose TokenRequestOf is request (at path).
func TokenProjection(request, path string) *corev1.ServiceAccountTokenProjection {
	audience, seconds := ParseTokenRequest(request)
	p := &corev1.ServiceAccountTokenProjection{Audience: audience, Path: path}
	if seconds > 0 {
		p.ExpirationSeconds = &seconds
	}
	return p
}

// TokenKey is the key of a token Secret (TokenSecret) holding the token for a token
// request (TokenRequestOf): "token" for the tenant API's own audience at the usual
// lifetime, "token-" and a digest of the request for another (audiences are arbitrary
// strings, keys are not; for an audience alone the digest is the audience's, as before
// short-lived tokens had keys of their own).
func TokenKey(request string) string {
	if request == "" {
		return corev1.ServiceAccountTokenKey
	}
	sum := sha256.Sum256([]byte(request))
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
// token requests (TokenRequestOf), no more.
func TokenSecretHolds(superSecret *corev1.Secret, requests []string) bool {
	want := make([]string, 0, len(requests))
	for _, r := range requests {
		want = append(want, TokenKey(r))
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
