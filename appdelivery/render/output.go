package render

import (
	"bytes"
	"encoding/json"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// YAML returns objs as a YAML stream, each document introduced by "---", the way
// kubectl apply -f reads it. Keys are sorted, so equal objects give equal bytes.
func YAML(objs []*unstructured.Unstructured) ([]byte, error) {
	var b bytes.Buffer
	for _, u := range objs {
		doc, err := yaml.Marshal(u.Object)
		if err != nil {
			return nil, err
		}
		b.WriteString("---\n")
		b.Write(doc)
	}
	return b.Bytes(), nil
}

// JSON returns objs as an indented v1 List, the way kubectl get -o json prints several
// objects.
func JSON(objs []*unstructured.Unstructured) ([]byte, error) {
	items := make([]map[string]any, len(objs))
	for i, u := range objs {
		items[i] = u.Object
	}
	b, err := json.MarshalIndent(map[string]any{"apiVersion": "v1", "kind": "List", "items": items}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
