package localcluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr []string // each must appear in the aggregate error; none means valid
	}{
		{name: "defaults are valid", mutate: func(*Config) {}},
		{name: "bad timeout", mutate: func(c *Config) { c.ReadyTimeout = "soon" }, wantErr: []string{`readyTimeout: Invalid value: "soon"`}},
		{name: "negative timeout", mutate: func(c *Config) { c.ReadyTimeout = "-1s" }, wantErr: []string{`readyTimeout: Invalid value: "-1s": must be positive`}},
		{name: "control plane only without pools", mutate: func(c *Config) { c.ControlPlaneOnly = true; c.NodePools = nil }},
		{name: "control plane only with pools", mutate: func(c *Config) { c.ControlPlaneOnly = true }, wantErr: []string{"nodePools: Forbidden"}},
		{name: "bad pool name", mutate: func(c *Config) { c.NodePools[0].Name = "Bad_Name" }, wantErr: []string{"nodePools[0].name: Invalid value"}},
		{name: "long pool name", mutate: func(c *Config) { c.NodePools[1].Name = strings.Repeat("a", 41) }, wantErr: []string{"nodePools[1].name: Too long"}},
		{name: "duplicate pool", mutate: func(c *Config) { c.NodePools[1].Name = c.NodePools[0].Name }, wantErr: []string{"nodePools[1].name: Duplicate value"}},
		{name: "zero nodes", mutate: func(c *Config) { c.NodePools[0].Nodes = 0 }, wantErr: []string{"nodePools[0].nodes: Invalid value: 0"}},
		{name: "pool label set by hand", mutate: func(c *Config) { c.NodePools[0].Labels = map[string]string{NodePoolLabel: "x"} }, wantErr: []string{"nodePools[0].labels[vcp.dev/node-pool]: Forbidden"}},
		{name: "bad label", mutate: func(c *Config) { c.NodePools[0].Labels = map[string]string{"a b": "x"} }, wantErr: []string{"nodePools[0].labels: Invalid value: \"a b\""}},
		{name: "bad taint effect", mutate: func(c *Config) {
			c.NodePools[0].Taints = []corev1.Taint{{Key: "gpu", Effect: "Sometimes"}}
		}, wantErr: []string{"nodePools[0].taints[0].effect: Unsupported value: \"Sometimes\""}},
		{name: "bad taint key", mutate: func(c *Config) {
			c.NodePools[0].Taints = []corev1.Taint{{Key: "-gpu", Effect: corev1.TaintEffectNoSchedule}}
		}, wantErr: []string{"nodePools[0].taints[0].key: Invalid value"}},
		{name: "negative cpu", mutate: func(c *Config) { c.NodePools[0].CPU = "-1" }, wantErr: []string{"nodePools[0].cpu: Invalid value: \"-1\": must be positive"}},
		{name: "garbage memory", mutate: func(c *Config) { c.NodePools[1].Memory = "lots" }, wantErr: []string{"nodePools[1].memory: Invalid value: \"lots\""}},
		{name: "every error reported", mutate: func(c *Config) { c.NodePools[0].Nodes = -1; c.NodePools[1].Name = "" },
			wantErr: []string{"nodePools[0].nodes", "nodePools[1].name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{}
			cfg.Default()
			tt.mutate(&cfg)
			err := cfg.Validate().ToAggregate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want no error", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors %q", tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Validate() = %v, want it to contain %q", err, want)
				}
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "pools and timeout", yaml: "readyTimeout: 90s\nnodePools:\n- name: gpu\n  nodes: 3\n  dedicated: true\n  cpu: \"64\"\n",
			check: func(t *testing.T, c Config) {
				if c.readyTimeout().Seconds() != 90 || len(c.NodePools) != 1 || c.NodePools[0].Nodes != 3 || !c.NodePools[0].Dedicated {
					t.Errorf("got %+v", c)
				}
			}},
		{name: "unknown field", yaml: "nodeCount: 3\n", wantErr: `unknown field "nodeCount"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cluster.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := LoadConfig(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadConfig() error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg)
		})
	}
}

func TestPoolNodes(t *testing.T) {
	cfg := Config{NodePools: []NodePool{{Name: "dedicated-a", Nodes: 2, Dedicated: true, Labels: map[string]string{"zone": "z1"}}}}
	cfg.Default()
	nodes := poolNodes(cfg.NodePools[0])
	if len(nodes) != 2 {
		t.Fatalf("got %d nodes, want 2", len(nodes))
	}
	for _, n := range nodes {
		if n.Labels[NodePoolLabel] != "dedicated-a" || n.Labels["zone"] != "z1" {
			t.Errorf("node %s labels = %v", n.Name, n.Labels)
		}
		if n.Annotations[KwokNodeAnnotation] != KwokNodeAnnotationValue {
			t.Errorf("node %s is not marked for KWOK: %v", n.Name, n.Annotations)
		}
		if len(n.Spec.Taints) != 1 || n.Spec.Taints[0] != PoolTaint("dedicated-a") {
			t.Errorf("node %s taints = %v, want the pool taint", n.Name, n.Spec.Taints)
		}
	}
	if nodes[0].Name == nodes[1].Name {
		t.Errorf("node names collide: %s", nodes[0].Name)
	}
}
