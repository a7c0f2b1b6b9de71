// Package engine delivers rendered applications to one cluster: it plans (server-side
// dry-run and a diff against the live objects), applies (server-side apply with field
// manager vcapp, in apply order and in the order of the components' dependsOn), prunes,
// waits until everything is healthy (package health), and keeps the application's
// inventory and numbered revisions in the cluster itself, so that no central server is
// needed: any vcapp with access to the cluster sees the same history.
//
// # Ordering
//
// Namespaces and CustomResourceDefinitions of every component go first (and the CRDs are
// waited for: their kinds must exist before anything uses them). Then the components,
// level by level of their dependsOn graph: the configuration of a level (ServiceAccounts,
// RBAC, Secrets, ConfigMaps, claims, Services) then its workloads and what points at
// them; a level whose components a later level depends on must be healthy before the
// later level is applied.
//
// # Conflicts
//
// Apply forces ownership of conflicting fields (ApplyOptions.Force). The application is
// the source of truth for every field it renders: a field someone changed with kubectl
// edit is taken back, as Flux and Argo CD's server-side apply do. Fields vcapp does not
// render (the replicas an autoscaler sets, labels others add) stay their owners'.
//
// # Revisions and the inventory
//
// Each deploy and rollback writes a revision: a Secret vcapp.<app>.v<N> in the
// application's namespace, labelled apps.vcp.dev/application=<app>, holding the
// rendered manifests (gzip), the inventory (every object applied), the components'
// dependencies, the digest of the inputs, who deployed and when, and the outcome. The
// newest revision's inventory is what the next deploy prunes against: only objects it
// lists and the new one does not are deleted, never PersistentVolumeClaims or Namespaces
// unless Options.PruneClaims or PruneNamespaces say so. A kept object is recorded as
// retained in the new revision (while it exists), so a later deploy or delete with the
// opt-in still deletes it; a delete that keeps objects leaves one revision, outcome
// Deleted, retaining them. The last Options.KeepRevisions (default 10) revisions are
// kept.
//
// # Pins
//
// A rollback pins the application to the revision it re-applied: the rollback's
// revision says so (which revision, who, when). A deploy over a pin fails with a
// *PinnedError, changing nothing, unless Options.Unpin; the revision it writes then
// records the pin it cleared. An atomic deploy's automatic rollback does not pin.
package engine

import (
	"context"
	"fmt"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/vcp-dev/vcp/appdelivery/model"
)

// FieldManager is vcapp's server-side-apply field manager.
const FieldManager = model.ManagedBy

// Cluster is one delivery target: a Kubernetes API server vcapp applies to.
type Cluster struct {
	// Name identifies the target in output ("staging", "eu/tenant-a").
	Name    string
	dynamic dynamic.Interface
	kube    kubernetes.Interface
	mapper  *restmapper.DeferredDiscoveryRESTMapper
}

// Connect returns the Cluster cfg reaches. It does not contact the server yet.
func Connect(name string, cfg *rest.Config) (*Cluster, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.QPS == 0 {
		// A deploy is a burst of a few dozen requests; client-go's default 5 QPS would
		// make it wait for the rate limiter, not the server.
		cfg.QPS, cfg.Burst = 100, 200
	}
	// One HTTP client (one connection pool, one TLS handshake) for the three clients.
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, err
	}
	kube, err := kubernetes.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, err
	}
	return &Cluster{
		Name:    name,
		dynamic: dyn,
		kube:    kube,
		mapper:  restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc)),
	}, nil
}

// Kube returns the typed client of the cluster (for logs).
func (c *Cluster) Kube() kubernetes.Interface { return c.kube }

// WhoAmI returns the user name the cluster knows the caller by (a SelfSubjectReview),
// or "" when the server cannot say.
func (c *Cluster) WhoAmI(ctx context.Context) string {
	r, err := c.kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return ""
	}
	return r.Status.UserInfo.Username
}

// Ref identifies an object in a cluster.
type Ref struct {
	Group     string `json:"group,omitempty"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Component is the component the object belongs to (not part of its identity).
	Component string `json:"component,omitempty"`
}

// RefOf returns the Ref of u.
func RefOf(u *unstructured.Unstructured) Ref {
	gvk := u.GroupVersionKind()
	return Ref{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName(), Component: componentOf(u)}
}

// GroupKind returns the group and kind only.
func (r Ref) GroupKind() schema.GroupKind { return schema.GroupKind{Group: r.Group, Kind: r.Kind} }

// Key identifies the object whatever version names it.
func (r Ref) Key() string { return r.Group + "/" + r.Kind + "/" + r.Namespace + "/" + r.Name }

// String is how output names the object: Kind namespace/name, or Kind name.
func (r Ref) String() string {
	kind := r.Kind
	if r.Group != "" && !builtinGroup(r.Group) {
		kind += "." + r.Group
	}
	if r.Namespace == "" {
		return kind + " " + r.Name
	}
	return kind + " " + r.Namespace + "/" + r.Name
}

func builtinGroup(g string) bool {
	return !strings.Contains(g, ".") || strings.HasSuffix(g, ".k8s.io")
}

// mapping returns the REST mapping of gvk, refreshing discovery once when the kind is
// unknown (a CRD applied a moment ago).
func (c *Cluster) mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		c.mapper.Reset()
		m, err = c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	return m, err
}

// resource returns the client of u's resource, after giving a namespaced object without
// a namespace the default one and taking the namespace off a cluster-scoped one (render
// cannot know a custom kind's scope).
func (c *Cluster) resource(u *unstructured.Unstructured, namespace string) (dynamic.ResourceInterface, error) {
	m, err := c.mapping(u.GroupVersionKind())
	if err != nil {
		return nil, err
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if u.GetNamespace() == "" {
			u.SetNamespace(namespace)
		}
		return c.dynamic.Resource(m.Resource).Namespace(u.GetNamespace()), nil
	}
	u.SetNamespace("")
	return c.dynamic.Resource(m.Resource), nil
}

// resourceOf returns the client of the object ref names.
func (c *Cluster) resourceOf(ref Ref) (dynamic.ResourceInterface, error) {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(schema.GroupVersion{Group: ref.Group, Version: ref.Version}.String())
	u.SetKind(ref.Kind)
	u.SetNamespace(ref.Namespace)
	return c.resource(u, ref.Namespace)
}

// get returns the live object ref names, or nil when it does not exist.
func (c *Cluster) get(ctx context.Context, ref Ref) (*unstructured.Unstructured, error) {
	ri, err := c.resourceOf(ref)
	if err != nil {
		if meta.IsNoMatchError(err) {
			return nil, nil // its kind is gone, so is it
		}
		return nil, err
	}
	u, err := ri.Get(ctx, ref.Name, metav1.GetOptions{})
	if ignoreNotFound(err) != nil {
		return nil, fmt.Errorf("get %s: %w", ref, err)
	}
	if err != nil {
		return nil, nil
	}
	return u, nil
}

// Release is what a deploy applies to a cluster: an application's rendered objects.
type Release struct {
	// App is the Application's name.
	App string
	// Namespace is the Application's namespace: it receives namespaced objects without a
	// namespace, and the revisions.
	Namespace string
	// Objects are the rendered objects in apply order (render.Render).
	Objects []*unstructured.Unstructured
	// Components are the Application's components with their dependencies.
	Components []Component
	// Digest identifies the inputs (files) the objects were rendered from.
	Digest string
}

// Component is a component's name and the components it depends on.
type Component struct {
	Name      string   `json:"name"`
	DependsOn []string `json:"dependsOn,omitempty"`
}

// ComponentsOf returns the components of app for a Release.
func ComponentsOf(app *model.Application) []Component {
	out := make([]Component, len(app.Spec.Components))
	for i, c := range app.Spec.Components {
		out[i] = Component{Name: c.Name, DependsOn: c.DependsOn}
	}
	return out
}

// componentOf returns the component u belongs to (its component label).
func componentOf(u *unstructured.Unstructured) string {
	if u == nil {
		return ""
	}
	return u.GetLabels()[model.LabelComponent]
}
