package restful

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
)

// vcp patch: route documentation is interned process-wide. A process that builds many
// containers with the same routes (vcp's tenant-apiserver builds one Kubernetes API
// server per tenant, ~1,000 routes each) otherwise keeps one copy of every route's query
// parameters (~5,000 per API server: the same dozen list and watch options on every
// resource) and of every route's metadata map per container: ~1.5 MB per API server.
// Build shares equal parameters and equal metadata maps; both are only read once a route
// is built.

// parameterKey is what makes two parameters equal, for those that hold no map, slice or
// pointer (the others are not interned).
type parameterKey struct {
	Name, Description, DataType, DataFormat  string
	Kind                                     int
	Required, AllowMultiple, AllowEmptyValue bool
	DefaultValue, CollectionFormat, Pattern  string
	UniqueItems                              bool
}

var (
	internedParameters sync.Map // parameterKey -> *Parameter
	internedMetadata   sync.Map // string -> map[string]interface{}
)

func internable(d *ParameterData) bool {
	return d.Extensions == nil && d.AllowableValues == nil && d.PossibleValues == nil &&
		d.Minimum == nil && d.Maximum == nil && d.MinLength == nil && d.MaxLength == nil &&
		d.MinItems == nil && d.MaxItems == nil
}

// internParameters replaces each parameter in params by the process's shared equal one.
func internParameters(params []*Parameter) []*Parameter {
	for i, p := range params {
		if p == nil || p.data == nil || !internable(p.data) {
			continue
		}
		d := p.data
		key := parameterKey{d.Name, d.Description, d.DataType, d.DataFormat, d.Kind, d.Required, d.AllowMultiple, d.AllowEmptyValue,
			d.DefaultValue, d.CollectionFormat, d.Pattern, d.UniqueItems}
		shared, _ := internedParameters.LoadOrStore(key, p)
		params[i] = shared.(*Parameter)
	}
	return params
}

// internMetadata returns the process's shared map equal to metadata, when every value is
// plain data: a string, bool or number, or a struct of those (Kubernetes stores an action
// and a GroupVersionKind). Other maps are returned as they are.
func internMetadata(metadata map[string]interface{}) map[string]interface{} {
	if len(metadata) == 0 {
		return metadata
	}
	keys := make([]string, 0, len(metadata))
	for k, v := range metadata {
		if !plainData(reflect.ValueOf(v)) {
			return metadata
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%q=%T%#v;", k, metadata[k], metadata[k])
	}
	shared, _ := internedMetadata.LoadOrStore(b.String(), metadata)
	return shared.(map[string]interface{})
}

// plainData reports whether v holds no pointer, map, slice, channel, function or
// interface: a value that %#v prints completely and that nobody can change through a
// shared copy.
func plainData(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if !plainData(v.Field(i)) {
				return false
			}
		}
		return true
	default:
		return false
	}
}
