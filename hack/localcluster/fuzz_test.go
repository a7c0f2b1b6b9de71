package localcluster

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestParseStat(t *testing.T) {
	tail := " S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 20 21"
	tests := []struct {
		name      string
		line      string
		wantState string
		wantStart string
		wantErr   bool
	}{
		{name: "plain", line: "42 (etcd)" + tail, wantState: "S", wantStart: "987654"},
		{name: "spaces and parens in command", line: "42 (kube (api) server)" + tail, wantState: "S", wantStart: "987654"},
		{name: "no command", line: "42 etcd" + tail, wantErr: true},
		{name: "short", line: "42 (etcd) S 1 2", wantErr: true},
		{name: "empty", line: "", wantErr: true},
		{name: "close paren only", line: ")" + tail, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseStat([]byte(tt.line))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parseStat(%q) = %v, want an error", tt.line, f)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f[0] != tt.wantState || f[19] != tt.wantStart {
				t.Errorf("state %q start %q, want %q %q", f[0], f[19], tt.wantState, tt.wantStart)
			}
		})
	}
	// The running test's own stat line parses, and its start time is stable.
	a, err := procStartTicks(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := procStartTicks(os.Getpid()); a != b || a == 0 {
		t.Errorf("start ticks of this process: %d then %d", a, b)
	}
}

// FuzzParseStat: any input either fails cleanly or yields at least 20 fields, and a
// command name of any bytes never shifts the fields after it.
func FuzzParseStat(f *testing.F) {
	f.Add([]byte("42 (etcd) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20"), "etcd")
	f.Add([]byte(""), "a) b (c")
	f.Fuzz(func(t *testing.T, line []byte, comm string) {
		if f, err := parseStat(line); err == nil && len(f) < 20 {
			t.Fatalf("parseStat accepted %q with %d fields", line, len(f))
		}
		if strings.ContainsAny(comm, "\n") {
			return
		}
		fields := make([]string, 21)
		for i := range fields {
			fields[i] = strconv.Itoa(i)
		}
		fields[0] = "R"
		synthetic := "7 (" + comm + ") " + strings.Join(fields, " ")
		got, err := parseStat([]byte(synthetic))
		if err != nil {
			t.Fatalf("parseStat(%q): %v", synthetic, err)
		}
		if got[0] != "R" || got[19] != "19" {
			t.Fatalf("command %q shifted the fields: %v", comm, got)
		}
	})
}

// FuzzLoadConfig: any file either fails to load or validate with an error, or yields a
// config whose every pool is usable; nothing panics.
func FuzzLoadConfig(f *testing.F) {
	f.Add("nodePools:\n- {name: shared, nodes: 2}\n- {name: gpu, nodes: 1, dedicated: true, cpu: \"64\"}\n")
	f.Add("readyTimeout: 1m\nnodePools: [{name: a, nodes: 1, taints: [{key: k, effect: NoSchedule}], labels: {x: y}}]\n")
	f.Add("nodePools: [{name: A, nodes: -1, memory: lots}]\n")
	f.Fuzz(func(t *testing.T, content string) {
		path := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadConfig(path)
		if err != nil {
			return
		}
		cfg.Default()
		if errs := cfg.Validate(); len(errs) > 0 {
			return
		}
		for _, p := range cfg.NodePools {
			if len(poolNodes(p)) != p.Nodes {
				t.Fatalf("pool %s: %d nodes made, want %d", p.Name, len(poolNodes(p)), p.Nodes)
			}
		}
		if cfg.readyTimeout() <= 0 {
			t.Fatalf("valid config with ready timeout %v", cfg.readyTimeout())
		}
	})
}
