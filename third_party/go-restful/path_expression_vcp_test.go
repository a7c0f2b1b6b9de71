package restful

import "testing"

// The vcp patch: equal route templates share one compiled expression, which still
// matches as before; different templates do not share.
func TestPathExpressionsShareCompiledRegexps(t *testing.T) {
	a, err := newPathExpression("/api/v1/namespaces/{namespace}/pods/{name}")
	if err != nil {
		t.Fatal(err)
	}
	b, err := newPathExpression("/api/v1/namespaces/{namespace}/pods/{name}")
	if err != nil {
		t.Fatal(err)
	}
	c, err := newPathExpression("/api/v1/namespaces/{namespace}/services/{name}")
	if err != nil {
		t.Fatal(err)
	}
	if a.Matcher != b.Matcher {
		t.Error("two containers' equal routes compiled two regexps")
	}
	if a.Matcher == c.Matcher {
		t.Error("different routes share a regexp")
	}
	m := b.Matcher.FindStringSubmatch("/api/v1/namespaces/team/pods/web-1")
	if len(m) < 3 || m[1] != "team" || m[2] != "web-1" {
		t.Errorf("shared regexp matched %q", m)
	}
	if c.Matcher.MatchString("/api/v1/namespaces/team/pods/web-1") {
		t.Error("the services route matches a pods path")
	}
	if _, err := newPathExpression("/x/{v:[}"); err == nil {
		t.Error("a bad expression compiled")
	}
}
