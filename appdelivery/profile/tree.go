package profile

import (
	"encoding/json"
	"slices"

	"github.com/vcp-dev/vcp/appdelivery/model"
)

// The helpers in this file work on JSON trees: map[string]any, []any, string, bool,
// int64, float64 and nil, as sigs.k8s.io/json decodes them. Other values are treated as
// opaque scalars, so that no input makes them panic.

// deepCopy returns a copy of v sharing no map or list with it.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// equal reports whether a and b are the same JSON value; numbers compare by value, so
// 2 equals 2.0.
func equal(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			w, ok := b[k]
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		return ok && slices.EqualFunc(a, b, equal)
	}
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y
	}
	if isUncomparable(a) || isUncomparable(b) {
		return jsonText(a) == jsonText(b)
	}
	return a == b
}

// number returns v as a float64 when v is a JSON number.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case int:
		return float64(n), true
	}
	return 0, false
}

// isUncomparable reports whether == would panic on v.
func isUncomparable(v any) bool {
	switch v.(type) {
	case nil, string, bool, int64, float64, int:
		return false
	}
	return true
}

// jsonText formats v for error messages.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "<unprintable>"
	}
	return string(b)
}

// listKey returns the field identifying the entries of lists a and b, held by field:
// model.ListKey(field) when every entry of both is a map with a distinct string value
// there, else "" (the lists are atomic: compared and replaced whole).
func listKey(field string, a, b []any) string {
	key := model.ListKey(field)
	for _, list := range [][]any{a, b} {
		seen := map[string]bool{}
		for _, e := range list {
			id, ok := entryKey(e, key)
			if !ok || seen[id] {
				return ""
			}
			seen[id] = true
		}
	}
	return key
}

// entryKey returns the string at key of the list entry e.
func entryKey(e any, key string) (string, bool) {
	m, ok := e.(map[string]any)
	if !ok {
		return "", false
	}
	id, ok := m[key].(string)
	return id, ok
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
