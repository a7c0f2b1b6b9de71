package localcluster

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
)

// Labels, annotations and taints the local super cluster puts on its nodes.
const (
	// NodePoolLabel names the pool of a node; tenants select pools by it.
	NodePoolLabel = tenancyv1alpha1.NodePoolLabel
	// KwokNodeAnnotation marks nodes that KWOK manages.
	KwokNodeAnnotation = "kwok.x-k8s.io/node"
	// KwokNodeAnnotationValue is the value of KwokNodeAnnotation.
	KwokNodeAnnotationValue = "fake"
)

// Config describes a local super cluster.
type Config struct {
	// Dir holds all state: PKI, kubeconfigs, logs, etcd data, PIDs. Default ./.vcp.
	Dir string `json:"dir,omitempty"`
	// BinDir holds the binaries built by `make tools`. Default ./bin.
	BinDir string `json:"binDir,omitempty"`
	// StagesDir holds KWOK's stage files. Default <BinDir>/kwok-stages.
	StagesDir string `json:"stagesDir,omitempty"`
	// ControlPlaneOnly starts only etcd and kube-apiserver: enough for API tests, no
	// controllers, scheduler, KWOK or nodes.
	ControlPlaneOnly bool `json:"controlPlaneOnly,omitempty"`
	// Detach lets the processes outlive the caller (vcctl dev up). Otherwise they are
	// killed when the caller dies, so tests never leave processes behind.
	Detach bool `json:"detach,omitempty"`
	// ReadyTimeout bounds the wait for each component, as a Go duration. Default "2m".
	ReadyTimeout string `json:"readyTimeout,omitempty"`
	// ExtraAPIServerFlags are appended to kube-apiserver's flags (and so win).
	ExtraAPIServerFlags []string `json:"extraAPIServerFlags,omitempty"`
	// NodePools are the KWOK nodes to create, grouped in pools.
	NodePools []NodePool `json:"nodePools,omitempty"`
}

// NodePool is a group of KWOK nodes sharing labels and taints.
type NodePool struct {
	// Name is the value of the vcp.dev/node-pool label on the pool's nodes.
	Name string `json:"name"`
	// Nodes is how many nodes the pool has.
	Nodes int `json:"nodes"`
	// Dedicated taints the nodes with vcp.dev/node-pool=<name>:NoSchedule so that only
	// pods tolerating it (a tenant bound to the pool) land there.
	Dedicated bool `json:"dedicated,omitempty"`
	// Labels are extra node labels.
	Labels map[string]string `json:"labels,omitempty"`
	// Taints are extra node taints.
	Taints []corev1.Taint `json:"taints,omitempty"`
	// CPU, Memory and Pods are each node's capacity. Defaults 32, 128Gi, 110.
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
	Pods   string `json:"pods,omitempty"`
}

// DefaultNodePools is what `make up` creates: a shared pool and a dedicated one.
func DefaultNodePools() []NodePool {
	return []NodePool{
		{Name: "shared", Nodes: 2},
		{Name: "dedicated-a", Nodes: 2, Dedicated: true},
	}
}

// LoadConfig reads a YAML config file strictly: unknown fields are errors.
func LoadConfig(path string) (Config, error) {
	var cfg Config
	b, err := os.ReadFile(path)
	if err != nil {
		return cfg, err
	}
	if err := yaml.UnmarshalStrict(b, &cfg); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Default fills in unset fields.
func (c *Config) Default() {
	if c.Dir == "" {
		c.Dir = ".vcp"
	}
	if c.BinDir == "" {
		c.BinDir = "bin"
	}
	if c.StagesDir == "" {
		c.StagesDir = filepath.Join(c.BinDir, "kwok-stages")
	}
	if c.ReadyTimeout == "" {
		c.ReadyTimeout = "2m"
	}
	if c.NodePools == nil && !c.ControlPlaneOnly {
		c.NodePools = DefaultNodePools()
	}
	for i := range c.NodePools {
		p := &c.NodePools[i]
		if p.CPU == "" {
			p.CPU = "32"
		}
		if p.Memory == "" {
			p.Memory = "128Gi"
		}
		if p.Pods == "" {
			p.Pods = "110"
		}
	}
}

// Validate reports every bad field, each named by its path.
func (c *Config) Validate() field.ErrorList {
	var errs field.ErrorList
	if d, err := time.ParseDuration(c.ReadyTimeout); err != nil {
		errs = append(errs, field.Invalid(field.NewPath("readyTimeout"), c.ReadyTimeout, "must be a duration such as 90s or 2m"))
	} else if d <= 0 {
		errs = append(errs, field.Invalid(field.NewPath("readyTimeout"), c.ReadyTimeout, "must be positive"))
	}
	if c.ControlPlaneOnly && len(c.NodePools) > 0 {
		errs = append(errs, field.Forbidden(field.NewPath("nodePools"), "a controlPlaneOnly cluster has no nodes"))
	}
	names := sets.New[string]()
	nodes := 0
	for i, p := range c.NodePools {
		path := field.NewPath("nodePools").Index(i)
		for _, msg := range validation.IsDNS1123Label(p.Name) {
			errs = append(errs, field.Invalid(path.Child("name"), p.Name, msg))
		}
		if len(p.Name) > 40 {
			errs = append(errs, field.TooLong(path.Child("name"), p.Name, 40))
		}
		if names.Has(p.Name) {
			errs = append(errs, field.Duplicate(path.Child("name"), p.Name))
		}
		names.Insert(p.Name)
		if p.Nodes < 1 || p.Nodes > 1000 {
			errs = append(errs, field.Invalid(path.Child("nodes"), p.Nodes, "must be between 1 and 1000"))
		}
		nodes += p.Nodes
		errs = append(errs, metav1validation.ValidateLabels(p.Labels, path.Child("labels"))...)
		if _, ok := p.Labels[NodePoolLabel]; ok {
			errs = append(errs, field.Forbidden(path.Child("labels").Key(NodePoolLabel), "is set from the pool name"))
		}
		for j, t := range p.Taints {
			tp := path.Child("taints").Index(j)
			for _, msg := range validation.IsQualifiedName(t.Key) {
				errs = append(errs, field.Invalid(tp.Child("key"), t.Key, msg))
			}
			if t.Value != "" {
				for _, msg := range validation.IsValidLabelValue(t.Value) {
					errs = append(errs, field.Invalid(tp.Child("value"), t.Value, msg))
				}
			}
			switch t.Effect {
			case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
			default:
				errs = append(errs, field.NotSupported(tp.Child("effect"), t.Effect, []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute}))
			}
		}
		for name, v := range map[string]string{"cpu": p.CPU, "memory": p.Memory, "pods": p.Pods} {
			q, err := resource.ParseQuantity(v)
			if err != nil {
				errs = append(errs, field.Invalid(path.Child(name), v, err.Error()))
			} else if q.Sign() <= 0 {
				errs = append(errs, field.Invalid(path.Child(name), v, "must be positive"))
			}
		}
	}
	if nodes > 5000 {
		errs = append(errs, field.Invalid(field.NewPath("nodePools"), nodes, "at most 5000 nodes in all"))
	}
	return errs
}

// readyTimeout is ReadyTimeout parsed; Validate has checked it.
func (c *Config) readyTimeout() time.Duration {
	d, _ := time.ParseDuration(c.ReadyTimeout)
	return d
}

// nodeName is the name of the i-th node (from 0) of a pool.
func nodeName(pool string, i int) string {
	return fmt.Sprintf("kwok-%s-%d", pool, i)
}
