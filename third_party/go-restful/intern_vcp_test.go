package restful

import (
	"reflect"
	"testing"
)

type gvk struct{ Group, Version, Kind string }

func buildRoute(ws *WebService, kind string, extra ...*Parameter) Route {
	b := ws.GET("/things").To(func(*Request, *Response) {}).
		Param(ws.QueryParameter("watch", "Watch for changes.").DataType("boolean")).
		Param(ws.QueryParameter("limit", "Page size.").DataType("integer")).
		Metadata("x-kubernetes-action", "list").
		Metadata("x-kubernetes-group-version-kind", gvk{"apps", "v1", kind})
	for _, p := range extra {
		b.Param(p)
	}
	return b.Build()
}

// TestRouteDocsAreInterned checks the vcp patch: equal parameters and metadata of routes
// built by different containers are one shared value; anything that holds a pointer,
// map or slice is left alone; a route's documentation reads the same either way.
func TestRouteDocsAreInterned(t *testing.T) {
	a, b := buildRoute(new(WebService), "Deployment"), buildRoute(new(WebService), "Deployment")
	for i := range a.ParameterDocs {
		if a.ParameterDocs[i] != b.ParameterDocs[i] {
			t.Errorf("parameter %s is not shared", a.ParameterDocs[i].Data().Name)
		}
	}
	if reflect.ValueOf(a.Metadata).Pointer() != reflect.ValueOf(b.Metadata).Pointer() {
		t.Error("equal metadata maps are not shared")
	}
	if a.ParameterDocs[0].Data().Name != "watch" || a.ParameterDocs[0].Data().DataType != "boolean" || a.ParameterDocs[1].Data().Kind != QueryParameterKind {
		t.Errorf("parameters changed: %+v %+v", a.ParameterDocs[0].Data(), a.ParameterDocs[1].Data())
	}
	if a.Metadata["x-kubernetes-group-version-kind"] != (gvk{"apps", "v1", "Deployment"}) {
		t.Errorf("metadata changed: %v", a.Metadata)
	}

	other := buildRoute(new(WebService), "StatefulSet")
	if reflect.ValueOf(other.Metadata).Pointer() == reflect.ValueOf(a.Metadata).Pointer() {
		t.Error("different metadata share a map")
	}
	if other.Metadata["x-kubernetes-group-version-kind"] != (gvk{"apps", "v1", "StatefulSet"}) {
		t.Errorf("metadata of the other route: %v", other.Metadata)
	}

	ws := new(WebService)
	enum1 := ws.QueryParameter("mode", "Mode.").PossibleValues([]string{"a"})
	enum2 := ws.QueryParameter("mode", "Mode.").PossibleValues([]string{"a"})
	c, d := buildRoute(ws, "Deployment", enum1), buildRoute(ws, "Deployment", enum2)
	if c.ParameterDocs[2] == d.ParameterDocs[2] {
		t.Error("a parameter holding a slice was interned")
	}
	withPointer := ws.GET("/x").To(func(*Request, *Response) {}).Metadata("sample", &gvk{}).Build()
	withPointer2 := ws.GET("/x").To(func(*Request, *Response) {}).Metadata("sample", &gvk{}).Build()
	if reflect.ValueOf(withPointer.Metadata).Pointer() == reflect.ValueOf(withPointer2.Metadata).Pointer() {
		t.Error("metadata holding a pointer was interned")
	}
}
