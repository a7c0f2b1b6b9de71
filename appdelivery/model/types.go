package model

import (
	"encoding/json"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Group, Version and the kinds of the application-delivery format.
const (
	Group   = "apps.vcp.dev"
	Version = "v1alpha1"
	// APIVersion is the apiVersion every document carries.
	APIVersion = Group + "/" + Version

	KindApplication = "Application"
	KindProfile     = "Profile"
	KindEnvironment = "Environment"
)

// Metadata names a document. It is deliberately smaller than metav1.ObjectMeta: these
// documents are files, not API objects, and a field that does nothing is an error.
type Metadata struct {
	// Name identifies the document. For an Application it is also the default namespace
	// and the value of the app.kubernetes.io/name and app.kubernetes.io/instance labels.
	Name string `json:"name"`
}

// Application is what an application team writes: its components, and (for the
// delivery phases) where and in which order they are deployed.
type Application struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        Metadata        `json:"metadata"`
	Spec            ApplicationSpec `json:"spec"`
}

// ApplicationSpec is the body of an Application.
type ApplicationSpec struct {
	// Namespace receives every namespaced object. Empty means the Application's name.
	Namespace string `json:"namespace,omitempty"`
	// Components are the parts of the application, each rendered to Kubernetes objects.
	Components []Component `json:"components"`
	// Targets are the clusters the application is delivered to (delivery phase).
	Targets []Target `json:"targets,omitempty"`
	// Rollout orders the delivery to the targets (delivery phase).
	Rollout *Rollout `json:"rollout,omitempty"`
}

// Component is one part of an application: a workload or a set of raw manifests.
type Component struct {
	// Name is unique in the Application; it names the component's objects.
	Name string `json:"name"`
	// Type selects what the component renders to and the schema of Properties.
	Type ComponentType `json:"type"`
	// Properties are type-specific settings (ServiceProperties for type service, ...).
	Properties json.RawMessage `json:"properties,omitempty"`
	// Traits attach operational behaviour: scaling, routing, configuration, storage, ...
	// A component has at most one trait of each type.
	Traits []Trait `json:"traits,omitempty"`
	// DependsOn names components that must be healthy before this one is deployed.
	DependsOn []string `json:"dependsOn,omitempty"`
}

// Trait is an operational behaviour attached to a component.
type Trait struct {
	// Type selects the behaviour and the schema of Properties.
	Type TraitType `json:"type"`
	// Properties are type-specific settings (ScaleProperties for type scale, ...).
	Properties json.RawMessage `json:"properties,omitempty"`
}

// Target is a cluster, or a set of tenant clusters, the application is delivered to.
// Exactly one of Context and VirtualCluster is set.
type Target struct {
	// Name identifies the target in rollout stages and in delivery output.
	Name string `json:"name"`
	// Context is a context of the user's kubeconfig.
	Context string `json:"context,omitempty"`
	// VirtualCluster selects vcp tenant clusters (VirtualClusters of the super cluster).
	VirtualCluster *VirtualClusterSelector `json:"virtualCluster,omitempty"`
	// Overrides is a partial ApplicationSpec merged onto the application for this target
	// only, with the rules of an Environment overlay.
	Overrides map[string]any `json:"overrides,omitempty"`
}

// VirtualClusterSelector selects VirtualClusters in one namespace of the super cluster,
// either one by name or every one matching a label selector.
type VirtualClusterSelector struct {
	// Namespace of the VirtualClusters in the super cluster; empty means "default".
	Namespace string `json:"namespace,omitempty"`
	// Name selects one VirtualCluster.
	Name string `json:"name,omitempty"`
	// Selector selects every VirtualCluster whose labels match.
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
}

// Rollout orders the delivery to the targets: stage after stage, the targets of one
// stage at most Parallelism at a time. Targets no stage names form a last stage.
type Rollout struct {
	Stages []Stage `json:"stages,omitempty"`
	// Parallelism is how many targets of a stage are deployed at once; 0 means 1.
	Parallelism int32 `json:"parallelism,omitempty"`
	// StopOnFailure stops the rollout at the first unhealthy target; nil means true.
	StopOnFailure *bool `json:"stopOnFailure,omitempty"`
	// ProgressDeadline is how long a deploy, rollback or status --wait waits for the
	// application to be healthy on a target: a Go duration ("90s", "10m"); empty means
	// DefaultProgressDeadline.
	ProgressDeadline string `json:"progressDeadline,omitempty"`
}

// DefaultProgressDeadline is the progress deadline of an application that sets none.
const DefaultProgressDeadline = 5 * time.Minute

// ProgressDeadline returns the application's progress deadline: rollout.progressDeadline,
// else DefaultProgressDeadline. Validate refuses a value that is not a positive duration.
func (a *Application) ProgressDeadline() time.Duration {
	if a.Spec.Rollout != nil && a.Spec.Rollout.ProgressDeadline != "" {
		if d, err := time.ParseDuration(a.Spec.Rollout.ProgressDeadline); err == nil && d > 0 {
			return d
		}
	}
	return DefaultProgressDeadline
}

// Stage is a group of targets deployed together.
type Stage struct {
	Name    string   `json:"name"`
	Targets []string `json:"targets"`
}

// Namespace is where the Application's namespaced objects go.
func (a *Application) Namespace() string {
	if a.Spec.Namespace != "" {
		return a.Spec.Namespace
	}
	return a.Metadata.Name
}

// Profile is what a platform team writes: rules that every Application deployed to its
// platform gets, applied after the Application's environment overlays.
type Profile struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        Metadata    `json:"metadata"`
	Spec            ProfileSpec `json:"spec"`
}

// ProfileSpec is the body of a Profile.
type ProfileSpec struct {
	// Rules are applied in order.
	Rules []Rule `json:"rules"`
}

// Rule sets one field of an ApplicationSpec, addressed by Path (see ParsePath). Exactly
// one of Default, Merge and Immutable is set; it holds the rule's value.
type Rule struct {
	Path string `json:"path"`
	// Default is used where the application does not set the field.
	Default json.RawMessage `json:"default,omitempty"`
	// Merge is unioned with the application's map or list; the application's entries
	// win on the same key.
	Merge json.RawMessage `json:"merge,omitempty"`
	// Immutable is used where the application does not set the field; setting it to
	// another value is an error.
	Immutable json.RawMessage `json:"immutable,omitempty"`
}

// RuleSemantics says how a Rule's value combines with the application's.
type RuleSemantics string

// The semantics of a Rule.
const (
	SemanticsDefault   RuleSemantics = "default"
	SemanticsMerge     RuleSemantics = "merge"
	SemanticsImmutable RuleSemantics = "immutable"
)

// Semantics returns which of Default, Merge and Immutable the rule sets, and its value
// as raw JSON. It returns "" when the rule sets none or more than one.
func (r *Rule) Semantics() (RuleSemantics, json.RawMessage) {
	var s RuleSemantics
	var v json.RawMessage
	n := 0
	for _, c := range []struct {
		s RuleSemantics
		v json.RawMessage
	}{{SemanticsDefault, r.Default}, {SemanticsMerge, r.Merge}, {SemanticsImmutable, r.Immutable}} {
		if c.v != nil {
			s, v, n = c.s, c.v, n+1
		}
	}
	if n != 1 {
		return "", nil
	}
	return s, v
}

// Environment adapts an Application to one environment (dev, staging, prod). Its spec is
// a partial ApplicationSpec merged onto the Application's: maps merge key by key, lists
// of traits merge by trait type, other lists of objects with a name merge by name, and
// setting a value the Application already sets to something else is an error unless the
// key carries the override marker (see OverrideSuffix).
type Environment struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        Metadata       `json:"metadata"`
	Spec            map[string]any `json:"spec"`
}

// OverrideSuffix marks an overlay key whose value replaces the base's value, whatever it
// is: `replicas!: 5`. A marked key with a null value removes the key from the base.
const OverrideSuffix = "!"

// OverrideKey splits an overlay key into the field name and whether it carries the
// override marker.
func OverrideKey(key string) (name string, override bool) {
	if len(key) > len(OverrideSuffix) && key[len(key)-len(OverrideSuffix):] == OverrideSuffix {
		return key[:len(key)-len(OverrideSuffix)], true
	}
	return key, false
}
