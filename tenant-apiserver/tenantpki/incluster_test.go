package tenantpki

import (
	"bytes"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/vcp-dev/vcp/internal/clusterdomain"
	"github.com/vcp-dev/vcp/internal/pki"
)

func TestEnsureInCluster(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	load := func(f *InCluster) (*pki.KeyPair, *pki.KeyPair) {
		t.Helper()
		leaf, err := pki.Load(f.Cert, f.Key)
		if err != nil {
			t.Fatal(err)
		}
		caPEM, err := os.ReadFile(f.CACert)
		if err != nil {
			t.Fatal(err)
		}
		ca, err := pki.Load(f.CACert, f.CACert[:len(f.CACert)-len(".crt")]+".key")
		if err != nil || !bytes.Equal(ca.CertPEM(), caPEM) {
			t.Fatalf("CA: %v", err)
		}
		return leaf, ca
	}
	for _, step := range []struct {
		name        string
		domain      string
		now         time.Time
		wantChanged bool
	}{
		{name: "first: CA and certificate made", domain: "cluster.local", now: now, wantChanged: true},
		{name: "again: nothing to do", domain: "cluster.local", now: now},
		{name: "within RenewBefore of expiry: renewed", domain: "cluster.local", now: now.Add(leafValidity - RenewBefore + time.Hour), wantChanged: true},
		{name: "another domain: renewed for its names", domain: "corp.internal", now: now, wantChanged: true},
	} {
		t.Run(step.name, func(t *testing.T) {
			var caBefore []byte
			if b, err := os.ReadFile(dir + "/incluster-ca.crt"); err == nil {
				caBefore = b
			}
			files, changed, err := EnsureInCluster(dir, step.domain, step.now)
			if err != nil {
				t.Fatal(err)
			}
			if changed != step.wantChanged {
				t.Errorf("changed %v, want %v", changed, step.wantChanged)
			}
			leaf, ca := load(files)
			if caBefore != nil && !bytes.Equal(caBefore, ca.CertPEM()) {
				t.Error("the in-cluster CA was replaced (every tenant's pods trust the old one)")
			}
			if err := leaf.Cert.CheckSignatureFrom(ca.Cert); err != nil {
				t.Errorf("certificate not signed by the in-cluster CA: %v", err)
			}
			if !slices.Equal(leaf.Cert.DNSNames, clusterdomain.InClusterNames(step.domain)) {
				t.Errorf("names %v, want %v", leaf.Cert.DNSNames, clusterdomain.InClusterNames(step.domain))
			}
		})
	}
}

func TestWriteRootBundle(t *testing.T) {
	dir := t.TempDir()
	f := filesIn(dir)
	if err := os.WriteFile(f.CACert, []byte("SERVING-CA\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	extra := dir + "/extra.crt"
	if err := os.WriteFile(extra, []byte("IN-CLUSTER-CA\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path, err := f.WriteRootBundle(extra)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "SERVING-CA\nIN-CLUSTER-CA\n" {
		t.Errorf("bundle %q, want the serving CA then the extra CA", got)
	}
	// A rewrite renames a new file over the old one: another file, whatever the clock.
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteRootBundle(extra); err != nil {
		t.Fatal(err)
	}
	if after, err := os.Stat(path); err != nil || !os.SameFile(before, after) {
		t.Errorf("an unchanged bundle was rewritten (%v)", err)
	}
	if _, err := f.WriteRootBundle(dir + "/missing.crt"); err == nil {
		t.Error("a missing extra CA file was not reported")
	}
}
