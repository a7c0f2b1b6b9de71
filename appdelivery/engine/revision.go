package engine

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/vcp-dev/vcp/appdelivery/model"
)

// Labels, annotations and keys of a revision Secret.
const (
	LabelApplication = "apps.vcp.dev/application"
	LabelRevision    = "apps.vcp.dev/revision"
	// SecretType is the type of revision Secrets.
	SecretType = "apps.vcp.dev/revision"

	annDigest     = "apps.vcp.dev/digest"
	annUser       = "apps.vcp.dev/deployed-by"
	annTime       = "apps.vcp.dev/deployed-at"
	annStatus     = "apps.vcp.dev/status"
	annMessage    = "apps.vcp.dev/message"
	annRollbackOf = "apps.vcp.dev/rollback-of"
	annPinned     = "apps.vcp.dev/pinned"
	annUnpinned   = "apps.vcp.dev/unpinned"

	keyManifests  = "manifests.yaml.gz"
	keyInventory  = "inventory.json"
	keyRetained   = "retained.json"
	keyComponents = "components.json"
)

// Revision is one deploy or rollback of an application to a cluster.
type Revision struct {
	Number int       `json:"number"`
	Digest string    `json:"digest,omitempty"`
	User   string    `json:"user,omitempty"`
	Time   time.Time `json:"time"`
	// Status is the outcome: Applying, Healthy, Degraded, Timeout or Failed.
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
	// RollbackOf is the revision this one re-applied, 0 for a deploy.
	RollbackOf int `json:"rollbackOf,omitempty"`
	// Pinned marks a rollback: the application stays at it until the next deploy
	// (Pin says which revision, who and when).
	Pinned bool `json:"pinned,omitempty"`
	// Unpinned is the pin this deploy cleared, nil when there was none.
	Unpinned *Pin `json:"unpinned,omitempty"`
	// Inventory is every object the revision applied.
	Inventory []Ref `json:"inventory"`
	// Retained are objects of earlier inventories no longer rendered that prune or
	// delete kept (claims and namespaces without the opt-in): still tracked, so a later
	// opt-in deletes them.
	Retained   []Ref       `json:"retained,omitempty"`
	Components []Component `json:"components,omitempty"`
	manifests  []byte
}

// Pin is what a rollback pinned: the revision it went back to, the rollback revision
// that did it, who and when.
type Pin struct {
	// Revision is the revision the application was rolled back to.
	Revision int `json:"revision"`
	// ByRevision is the rollback's own revision.
	ByRevision int       `json:"byRevision"`
	User       string    `json:"user,omitempty"`
	Time       time.Time `json:"time"`
}

// String says what is pinned, by whom and when.
func (p *Pin) String() string {
	user := p.User
	if user == "" {
		user = "unknown"
	}
	return fmt.Sprintf("pinned to revision %d by rollback revision %d (%s at %s)", p.Revision, p.ByRevision, user, p.Time.UTC().Format(time.RFC3339))
}

// Pin returns the pin r holds: a rollback pins the application until the next deploy.
// Nil when r is nil or not pinned.
func (r *Revision) Pin() *Pin {
	if r == nil || !r.Pinned {
		return nil
	}
	return &Pin{Revision: r.RollbackOf, ByRevision: r.Number, User: r.User, Time: r.Time}
}

// tracked returns every object r still manages: its inventory and what it retained.
func (r *Revision) tracked() []Ref {
	if r == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []Ref
	for _, ref := range append(append([]Ref{}, r.Inventory...), r.Retained...) {
		if !seen[ref.Key()] {
			seen[ref.Key()] = true
			out = append(out, ref)
		}
	}
	return out
}

// The outcomes of a revision.
const (
	RevisionApplying = "Applying"
	RevisionHealthy  = "Healthy"
	RevisionDegraded = "Degraded"
	RevisionTimeout  = "Timeout"
	RevisionFailed   = "Failed"
	// RevisionDeleted records a delete that kept objects (claims, namespaces): it
	// applies nothing and tracks what was kept.
	RevisionDeleted = "Deleted"
)

// secretName is the name of revision n of app.
func secretName(app string, n int) string { return fmt.Sprintf("vcapp.%s.v%d", app, n) }

// History returns the revisions of app stored in namespace, oldest first.
func (c *Cluster) History(ctx context.Context, app, namespace string) ([]*Revision, error) {
	list, err := c.kube.CoreV1().Secrets(namespace).List(ctx, metav1.ListOptions{LabelSelector: LabelApplication + "=" + app})
	if err != nil {
		return nil, fmt.Errorf("list revisions of %s: %w", app, err)
	}
	var out []*Revision
	for i := range list.Items {
		if list.Items[i].Type != SecretType {
			continue
		}
		r, err := decodeRevision(&list.Items[i])
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *Revision) int { return a.Number - b.Number })
	return out, nil
}

// latest returns the newest revision, nil when there is none.
func (c *Cluster) latest(ctx context.Context, app, namespace string) (*Revision, error) {
	h, err := c.History(ctx, app, namespace)
	if err != nil || len(h) == 0 {
		return nil, err
	}
	return h[len(h)-1], nil
}

// Objects returns the revision's rendered objects.
func (r *Revision) Objects() ([]*unstructured.Unstructured, error) {
	zr, err := gzip.NewReader(bytes.NewReader(r.manifests))
	if err != nil {
		return nil, fmt.Errorf("revision %d: %w", r.Number, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("revision %d: %w", r.Number, err)
	}
	return ParseObjects(b)
}

// ParseObjects reads a YAML or JSON stream of objects.
func ParseObjects(b []byte) ([]*unstructured.Unstructured, error) {
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}

func decodeRevision(s *corev1.Secret) (*Revision, error) {
	n, err := strconv.Atoi(s.Labels[LabelRevision])
	if err != nil {
		return nil, fmt.Errorf("revision Secret %s: label %s: %w", s.Name, LabelRevision, err)
	}
	a := s.Annotations
	r := &Revision{Number: n, Digest: a[annDigest], User: a[annUser], Status: a[annStatus], Message: a[annMessage],
		Pinned: a[annPinned] == "true", manifests: s.Data[keyManifests]}
	r.Time, _ = time.Parse(time.RFC3339, a[annTime])
	r.RollbackOf, _ = strconv.Atoi(a[annRollbackOf])
	if err := json.Unmarshal(s.Data[keyInventory], &r.Inventory); err != nil {
		return nil, fmt.Errorf("revision Secret %s: inventory: %w", s.Name, err)
	}
	if b := s.Data[keyRetained]; len(b) > 0 {
		if err := json.Unmarshal(b, &r.Retained); err != nil {
			return nil, fmt.Errorf("revision Secret %s: retained: %w", s.Name, err)
		}
	}
	if u := a[annUnpinned]; u != "" {
		r.Unpinned = &Pin{}
		if err := json.Unmarshal([]byte(u), r.Unpinned); err != nil {
			return nil, fmt.Errorf("revision Secret %s: annotation %s: %w", s.Name, annUnpinned, err)
		}
	}
	if b := s.Data[keyComponents]; len(b) > 0 {
		if err := json.Unmarshal(b, &r.Components); err != nil {
			return nil, fmt.Errorf("revision Secret %s: components: %w", s.Name, err)
		}
	}
	return r, nil
}

// writeRevision stores r with manifests (a YAML stream) for app in namespace.
func (c *Cluster) writeRevision(ctx context.Context, app, namespace string, r *Revision, manifests []byte) error {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(manifests)
	if err := zw.Close(); err != nil {
		return err
	}
	inv, err := json.Marshal(r.Inventory)
	if err != nil {
		return err
	}
	comps, err := json.Marshal(r.Components)
	if err != nil {
		return err
	}
	retained, err := json.Marshal(r.Retained)
	if err != nil {
		return err
	}
	annotations, err := revisionAnnotations(r)
	if err != nil {
		return err
	}
	r.manifests = gz.Bytes()
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      secretName(app, r.Number),
			Namespace: namespace,
			Labels: map[string]string{
				LabelApplication:     app,
				LabelRevision:        strconv.Itoa(r.Number),
				model.LabelManagedBy: model.ManagedBy,
			},
			Annotations: annotations,
		},
		Type: SecretType,
		Data: map[string][]byte{keyManifests: r.manifests, keyInventory: inv, keyRetained: retained, keyComponents: comps},
	}
	if _, err := c.kube.CoreV1().Secrets(namespace).Create(ctx, s, metav1.CreateOptions{FieldManager: FieldManager}); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("revision %d of %s was written by someone else meanwhile (a concurrent deploy?): %w", r.Number, app, err)
		}
		return fmt.Errorf("write revision %d: %w", r.Number, err)
	}
	return nil
}

func revisionAnnotations(r *Revision) (map[string]string, error) {
	a := map[string]string{
		annDigest: r.Digest,
		annUser:   r.User,
		annTime:   r.Time.UTC().Format(time.RFC3339),
		annStatus: r.Status,
	}
	if r.Message != "" {
		a[annMessage] = r.Message
	}
	if r.RollbackOf > 0 {
		a[annRollbackOf] = strconv.Itoa(r.RollbackOf)
	}
	if r.Pinned {
		a[annPinned] = "true"
	}
	if r.Unpinned != nil {
		b, err := json.Marshal(r.Unpinned)
		if err != nil {
			return nil, err
		}
		a[annUnpinned] = string(b)
	}
	return a, nil
}

// setRevisionStatus records the outcome of revision r.
func (c *Cluster) setRevisionStatus(ctx context.Context, app, namespace string, r *Revision, status, message string) error {
	r.Status, r.Message = status, message
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{annStatus: status, annMessage: message}}})
	if err != nil {
		return err
	}
	_, err = c.kube.CoreV1().Secrets(namespace).Patch(ctx, secretName(app, r.Number), "application/merge-patch+json", patch, metav1.PatchOptions{FieldManager: FieldManager})
	return err
}

// trimHistory deletes the oldest revisions of older (the history before the revision
// just written) so that keep revisions remain, the new one included.
func (c *Cluster) trimHistory(ctx context.Context, app, namespace string, older []*Revision, keep int) error {
	for len(older) > keep-1 {
		if err := c.kube.CoreV1().Secrets(namespace).Delete(ctx, secretName(app, older[0].Number), metav1.DeleteOptions{}); ignoreNotFound(err) != nil {
			return err
		}
		older = older[1:]
	}
	return nil
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
