package promtext

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := `# HELP x help
# TYPE x counter
x 3
y{tenant="a b"} 1.5
z_bucket{le="+Inf"} 7
bad line
`
	got, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"x": 3, `y{tenant="a b"}`: 1.5, `z_bucket{le="+Inf"}`: 7}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}
