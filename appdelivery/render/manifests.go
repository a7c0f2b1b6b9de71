package render

import (
	"encoding/json"
	"maps"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "sigs.k8s.io/json"

	"github.com/vcp-dev/vcp/appdelivery/model"
)

// renderManifests returns a manifests component's objects as written, but for the
// namespace (the Application's, where a namespaced object has none) and labels: vcapp
// sets the instance, component and managed-by labels, which the delivery engine finds
// its objects by, and adds the name label and the labels and annotations traits' where
// the object does not set them.
func renderManifests(app *model.Application, c *model.DecodedComponent, p *model.ManifestsProperties) ([]*unstructured.Unstructured, error) {
	owned := commonLabels(app, c.Name)
	defaults := map[string]string{model.LabelName: owned[model.LabelName]}
	delete(owned, model.LabelName)
	if t, ok := c.Traits[model.LabelsTrait].(*model.LabelsProperties); ok {
		maps.Copy(defaults, *t)
	}
	var annotations map[string]string
	if t, ok := c.Traits[model.AnnotationsTrait].(*model.AnnotationsProperties); ok {
		annotations = *t
	}
	out := make([]*unstructured.Unstructured, 0, len(p.Objects))
	for _, obj := range p.Objects {
		copied, err := copyJSON(obj)
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{Object: copied}
		if u.GetNamespace() == "" && !clusterScoped(u.GroupVersionKind().GroupKind()) {
			u.SetNamespace(app.Namespace())
		}
		labels := withDefaults(u.GetLabels(), defaults)
		maps.Copy(labels, owned)
		u.SetLabels(labels)
		if len(annotations) > 0 {
			u.SetAnnotations(withDefaults(u.GetAnnotations(), annotations))
		}
		out = append(out, u)
	}
	return out, nil
}

// withDefaults returns m with the entries of defaults it does not have.
func withDefaults(m, defaults map[string]string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	for k, v := range defaults {
		if _, ok := m[k]; !ok {
			m[k] = v
		}
	}
	return m
}

// copyJSON returns a deep copy of obj through JSON, which works on any value a caller
// may have built (runtime.DeepCopyJSON panics on an int).
func copyJSON(obj map[string]any) (map[string]any, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// clusterScopedKinds are the built-in kinds that live outside namespaces. Rendering is
// offline, so it cannot ask a cluster; a cluster-scoped custom resource written without
// a namespace gets one, which the delivery engine drops when the target's REST mapping
// says the kind is cluster-scoped.
var clusterScopedKinds = map[schema.GroupKind]bool{
	{Kind: "Namespace"}:        true,
	{Kind: "Node"}:             true,
	{Kind: "PersistentVolume"}: true,
	{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}:                 true,
	{Group: "apiregistration.k8s.io", Kind: "APIService"}:                             true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:                         true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}:                  true,
	{Group: "storage.k8s.io", Kind: "StorageClass"}:                                   true,
	{Group: "storage.k8s.io", Kind: "CSIDriver"}:                                      true,
	{Group: "storage.k8s.io", Kind: "VolumeAttributesClass"}:                          true,
	{Group: "scheduling.k8s.io", Kind: "PriorityClass"}:                               true,
	{Group: "node.k8s.io", Kind: "RuntimeClass"}:                                      true,
	{Group: "networking.k8s.io", Kind: "IngressClass"}:                                true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"}:   true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"}:     true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicy"}:        true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicyBinding"}: true,
	{Group: "flowcontrol.apiserver.k8s.io", Kind: "FlowSchema"}:                       true,
	{Group: "flowcontrol.apiserver.k8s.io", Kind: "PriorityLevelConfiguration"}:       true,
	{Group: "resource.k8s.io", Kind: "DeviceClass"}:                                   true,
}

func clusterScoped(gk schema.GroupKind) bool { return clusterScopedKinds[gk] }
