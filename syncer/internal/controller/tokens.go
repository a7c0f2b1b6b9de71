package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vcp-dev/vcp/syncer/internal/fairqueue"
	"github.com/vcp-dev/vcp/syncer/internal/translate"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// tokenAccountIndex indexes tenant pods by the service account whose token they mount;
// tokenRequestIndex by that account and each token request (translate.TokenRequestOf)
// other than the usual one ("<namespace>/<account>\x00<request>"): another audience or a
// short lifetime, which few pods have.
const (
	tokenAccountIndex = "tokenAccount"
	tokenRequestIndex = "tokenRequest"
)

func podsByTokenRequest(obj any) ([]string, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, nil
	}
	sa, ok := translate.TokenServiceAccount(pod)
	if !ok {
		return nil, nil
	}
	var values []string
	for _, request := range translate.TokenRequests(pod) {
		if request != "" {
			values = append(values, pod.Namespace+"/"+sa+"\x00"+request)
		}
	}
	return values, nil
}

// tokenRequests returns the tokens (translate.TokenRequestOf) service account ns/sa
// needs: the usual one ("") and those tenant pods' projections ask for, sorted.
func (s *session) tokenRequests(ns, sa string) []string {
	requests := []string{""}
	prefix := ns + "/" + sa + "\x00"
	for _, v := range s.tokenPods.ListIndexFuncValues(tokenRequestIndex) {
		if request, ok := strings.CutPrefix(v, prefix); ok {
			requests = append(requests, request)
		}
	}
	slices.Sort(requests)
	return requests
}

func podsByTokenAccount(obj any) ([]string, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, nil
	}
	if sa, ok := translate.TokenServiceAccount(pod); ok {
		return []string{pod.Namespace + "/" + sa}, nil
	}
	return nil, nil
}

// syncServiceAccountToken keeps the token Secret (translate.TokenSecret) of tenant
// service account ns/name in the super namespace while the account exists and a tenant
// pod mounts its token: tokens minted by the tenant API (TokenRequest), one for the API's
// own audience and one for each other audience and short lifetime the pods' projections
// ask for (translate.TokenRequestOf), valid for Syncer.TokenLifetime or the projection's
// shorter expirationSeconds, all replaced after translate.TokenRefreshFraction of the
// shortest; one made for an earlier account of the name, for other requests, or edited
// by hand, is replaced at once. Without
// such a pod the Secret is deleted: the super cluster holds no tenant credentials that
// nothing runs with. Token values are never logged.
func (s *Syncer) syncServiceAccountToken(ctx context.Context, sess *session, ns, name string) error {
	superNS := naming.SuperNamespace(sess.key, ns)
	secretName := translate.TokenSecretName(name)
	superSecret, err := s.superSecrets.Secrets(superNS).Get(secretName)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if superSecret != nil {
		id, _ := naming.IdentityOf(superSecret)
		if !naming.Owns(sess.key, superSecret) || superSecret.Labels[translate.LabelServiceAccountToken] != "true" || id.Name != name || id.Namespace != ns {
			return fmt.Errorf("super Secret %s/%s is not the token Secret of tenant service account %s/%s: refusing to touch it", superNS, secretName, ns, name)
		}
	}
	sa, err := sess.accounts.ServiceAccounts(ns).Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	key := Key{Kind: KindServiceAccount, Namespace: ns, Name: name}
	secrets := s.superClient.CoreV1().Secrets(superNS)
	if sa == nil || !sa.DeletionTimestamp.IsZero() || !sess.tokenInUse(ns, name) {
		sess.forgetRefresh(key)
		if superSecret == nil || !superSecret.DeletionTimestamp.IsZero() {
			return nil
		}
		return ignoreGone(secrets.Delete(ctx, secretName, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &superSecret.UID}}))
	}
	if superSecret != nil && (superSecret.Type != corev1.SecretTypeOpaque || isTrue(superSecret.Immutable)) {
		// Made immutable or of another type by hand, neither of which can be undone in
		// place (and an immutable token could not be renewed): delete it; its deletion
		// queues the next pass, which creates it.
		return ignoreGone(secrets.Delete(ctx, secretName, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &superSecret.UID}}))
	}
	requests := sess.tokenRequests(ns, name)
	if superSecret != nil && superSecret.Annotations[naming.AnnotationUID] == string(sa.UID) && translate.TokenSecretHolds(superSecret, requests) {
		if refreshAt, ok := translate.TokenRefreshAt(superSecret, ns); ok && time.Now().Before(refreshAt) {
			sess.scheduleRefresh(s.queue, key, refreshAt)
			return nil
		}
	}
	if err := s.ensureSuperNamespace(ctx, sess, ns); err != nil {
		return err
	}
	tokens := make(map[string]string, len(requests))
	for _, r := range requests {
		audience, seconds := translate.ParseTokenRequest(r)
		if seconds == 0 {
			seconds = int64(s.TokenLifetime / time.Second)
		}
		request := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &seconds}}
		if audience != "" {
			request.Spec.Audiences = []string{audience}
		}
		minted, err := sess.client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, request, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("mint a token of tenant service account %s/%s (audience %q, %d s): %w", ns, name, audience, seconds, err)
		}
		tokens[r] = minted.Status.Token
	}
	want := translate.TokenSecret(sess.key, sa, tokens)
	if superSecret == nil {
		_, err = secrets.Create(ctx, want, metav1.CreateOptions{})
	} else {
		updated := superSecret.DeepCopy()
		updated.Labels, updated.Annotations, updated.Data = want.Labels, want.Annotations, want.Data
		_, err = secrets.Update(ctx, updated, metav1.UpdateOptions{})
	}
	if err != nil {
		// A conflict means the Secret changed meanwhile (its event queues this again).
		return ignoreGone(ignoreExists(err))
	}
	if refreshAt, ok := translate.TokenRefreshAt(want, ns); ok {
		sess.scheduleRefresh(s.queue, key, refreshAt)
	}
	return nil
}

// tokenInUse reports whether a tenant pod mounts a token of service account ns/sa. A
// pod being deleted still does: its super pod runs until its grace period ends.
func (s *session) tokenInUse(ns, sa string) bool {
	pods, err := s.tokenPods.ByIndex(tokenAccountIndex, ns+"/"+sa)
	return err == nil && len(pods) > 0
}

// scheduleRefresh queues key at refreshAt, unless it is queued for then already.
func (s *session) scheduleRefresh(queue *fairqueue.Queue[Key], key Key, refreshAt time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at, ok := s.tokenRefreshes[key]; ok && at.Equal(refreshAt) {
		return
	}
	s.tokenRefreshes[key] = refreshAt
	queue.AddAfter(s.key, key, time.Until(refreshAt))
}

func (s *session) forgetRefresh(key Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokenRefreshes, key)
}
