package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
)

// maxTenantNameLength is the longest VirtualCluster name: it is part of every
// super-cluster name made for the tenant.
const maxTenantNameLength = 40

// vcKind is the kind of a VirtualCluster.
const vcKind = "VirtualCluster"

var tenantNameRE = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)

// createOptions are the flags of `vcctl tenant create`.
type createOptions struct {
	runtimeClass string
	nodePool     string
	quota        string
	fromFile     string
}

func (o *tenantOptions) newCreateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a tenant (a VirtualCluster), optionally waiting until it is ready",
		Example: "  vcctl tenant create team-a --runtime-class gvisor --node-pool shared --quota cpu=4,memory=8Gi,pods=20 --wait\n" +
			"  vcctl tenant create team-b --from-file team-b.yaml",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE:              func(cmd *cobra.Command, args []string) error { return o.createTenant(cmd, args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&o.create.runtimeClass, "runtime-class", "", "RuntimeClass every tenant pod runs with, such as gvisor")
	f.StringVar(&o.create.nodePool, "node-pool", "", "node pool (super nodes labelled "+tenancyv1alpha1.NodePoolLabel+"=POOL) the tenant's pods run on")
	f.StringVar(&o.create.quota, "quota", "", "resource quota of each tenant namespace, such as cpu=4,memory=8Gi,pods=20")
	f.StringVar(&o.create.fromFile, "from-file", "", "VirtualCluster YAML to start from; NAME and the flags given override its fields")
	f.BoolVar(&o.wait, "wait", false, "wait until the tenant is ready, printing each condition change")
	f.DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long --wait waits")
	return cmd
}

// validateTenantName checks that name can be a VirtualCluster's name.
func validateTenantName(name string) error {
	if len(name) > maxTenantNameLength {
		return fmt.Errorf("NAME %q is %d characters long; it must be at most %d", name, len(name), maxTenantNameLength)
	}
	if !tenantNameRE.MatchString(name) {
		return fmt.Errorf("NAME %q must be a DNS label that starts with a letter (a-z, 0-9 and '-', ending with a letter or digit)", name)
	}
	return nil
}

// parseQuota parses --quota, such as cpu=4,memory=8Gi,pods=20.
func parseQuota(s string) (map[corev1.ResourceName]resource.Quantity, error) {
	hard := map[corev1.ResourceName]resource.Quantity{}
	for pair := range strings.SplitSeq(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		key, value, ok := strings.Cut(pair, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok {
			return nil, fmt.Errorf("--quota %s: want RESOURCE=QUANTITY, such as cpu=4", pair)
		}
		if key == "" {
			return nil, fmt.Errorf("--quota %q: empty resource name", pair)
		}
		if errs := validation.IsQualifiedName(key); len(errs) > 0 {
			return nil, fmt.Errorf("--quota %s: not a resource name: %s", key, strings.Join(errs, "; "))
		}
		if _, dup := hard[corev1.ResourceName(key)]; dup {
			return nil, fmt.Errorf("--quota %s: given twice", key)
		}
		q, err := resource.ParseQuantity(value)
		if err != nil {
			return nil, fmt.Errorf("--quota %s: %q is not a quantity (such as 4, 500m or 8Gi)", key, value)
		}
		if q.Sign() < 0 {
			return nil, fmt.Errorf("--quota %s: %s is negative", key, value)
		}
		hard[corev1.ResourceName(key)] = q
	}
	if len(hard) == 0 {
		return nil, errors.New("--quota: no RESOURCE=QUANTITY pairs, such as cpu=4,memory=8Gi")
	}
	return hard, nil
}

// loadVirtualClusterFile strictly decodes the VirtualCluster YAML in path. It returns
// the object as written, not as Go types would re-encode it (which would drop explicit
// zero values such as weight: 0 and hide them from the server's validation), without what
// the server sets, so that `tenant get -o yaml` output can be fed back.
func loadVirtualClusterFile(path string) (*unstructured.Unstructured, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--from-file: %w", err)
	}
	vc := &tenancyv1alpha1.VirtualCluster{}
	if err := yaml.UnmarshalStrict(b, vc); err != nil {
		return nil, fmt.Errorf("--from-file %s: %w", path, err)
	}
	gv := tenancyv1alpha1.GroupVersion.String()
	if (vc.APIVersion != "" && vc.APIVersion != gv) || (vc.Kind != "" && vc.Kind != vcKind) {
		return nil, fmt.Errorf("--from-file %s: holds a %s %s, want a %s %s", path, vc.APIVersion, vc.Kind, gv, vcKind)
	}
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		return nil, fmt.Errorf("--from-file %s: %w", path, err)
	}
	obj := map[string]any{}
	if err := utiljson.Unmarshal(j, &obj); err != nil {
		return nil, fmt.Errorf("--from-file %s: %w", path, err)
	}
	if obj == nil {
		obj = map[string]any{}
	}
	md := map[string]any{}
	if old, ok := obj["metadata"].(map[string]any); ok {
		for _, k := range []string{"name", "namespace", "labels", "annotations"} {
			if v, ok := old[k]; ok {
				md[k] = v
			}
		}
	}
	obj["metadata"] = md
	delete(obj, "status")
	return &unstructured.Unstructured{Object: obj}, nil
}

// buildTenant returns the VirtualCluster to create: --from-file's, overridden by NAME and
// the flags given.
func (o *tenantOptions) buildTenant(cmd *cobra.Command, name string) (*unstructured.Unstructured, error) {
	if err := validateTenantName(name); err != nil {
		return nil, err
	}
	vc := &unstructured.Unstructured{Object: map[string]any{}}
	if o.create.fromFile != "" {
		var err error
		if vc, err = loadVirtualClusterFile(o.create.fromFile); err != nil {
			return nil, err
		}
	}
	vc.SetAPIVersion(tenancyv1alpha1.GroupVersion.String())
	vc.SetKind(vcKind)
	vc.SetName(name)
	flags := cmd.Flags()
	if vc.GetNamespace() == "" || flags.Changed("namespace") {
		vc.SetNamespace(o.namespace)
	}
	if flags.Changed("runtime-class") {
		if err := setField(vc, o.create.runtimeClass, runtimeClassPath...); err != nil {
			return nil, err
		}
	}
	if flags.Changed("node-pool") {
		if err := setField(vc, o.create.nodePool, nodePoolPath...); err != nil {
			return nil, err
		}
	}
	if flags.Changed("quota") {
		hard, err := parseQuota(o.create.quota)
		if err != nil {
			return nil, err
		}
		m := make(map[string]any, len(hard))
		for k, q := range hard {
			m[string(k)] = q.String()
		}
		if err := setField(vc, m, quotaPath...); err != nil {
			return nil, err
		}
	}
	return vc, nil
}

// The fields of a VirtualCluster that flags of `tenant create` set.
var (
	runtimeClassPath = []string{"spec", "isolation", "runtimeClassName"}
	nodePoolPath     = []string{"spec", "isolation", "nodePool", "name"}
	quotaPath        = []string{"spec", "isolation", "resourceQuota", "hard"}
)

// setField sets the field at path of vc to value.
func setField(vc *unstructured.Unstructured, value any, path ...string) error {
	if err := unstructured.SetNestedField(vc.Object, value, path...); err != nil {
		return fmt.Errorf("set %s: %w", strings.Join(path, "."), err)
	}
	return nil
}

// fieldSource names where a value came from: the flag when given, else the file's field.
func (o *tenantOptions) fieldSource(cmd *cobra.Command, flag, field string) string {
	if cmd.Flags().Changed(flag) || o.create.fromFile == "" {
		return "--" + flag
	}
	return fmt.Sprintf("%s (from %s)", field, o.create.fromFile)
}

// preflight checks that the RuntimeClass and node pool the tenant asks for exist, so
// that nothing is created for a tenant that could never run.
func (o *tenantOptions) preflight(cmd *cobra.Command, c client.Client, vc *unstructured.Unstructured) error {
	ctx := cmd.Context()
	if rc, _, _ := unstructured.NestedString(vc.Object, runtimeClassPath...); rc != "" {
		src := o.fieldSource(cmd, "runtime-class", "spec.isolation.runtimeClassName")
		err := c.Get(ctx, client.ObjectKey{Name: rc}, &nodev1.RuntimeClass{})
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%s: RuntimeClass %q does not exist in the super cluster", src, rc)
		}
		if err != nil {
			return fmt.Errorf("%s: check RuntimeClass %q: %w", src, rc, err)
		}
	}
	if pool, _, _ := unstructured.NestedString(vc.Object, nodePoolPath...); pool != "" {
		src := o.fieldSource(cmd, "node-pool", "spec.isolation.nodePool.name")
		nodes := &corev1.NodeList{}
		err := c.List(ctx, nodes, client.MatchingLabels{tenancyv1alpha1.NodePoolLabel: pool}, client.Limit(1))
		if err != nil {
			return fmt.Errorf("%s: list the nodes of pool %q: %w", src, pool, err)
		}
		if len(nodes.Items) == 0 {
			return fmt.Errorf("%s: no super-cluster node is in pool %q (nodes labelled %s=%s)", src, pool, tenancyv1alpha1.NodePoolLabel, pool)
		}
	}
	return nil
}

func (o *tenantOptions) createTenant(cmd *cobra.Command, name string) error {
	if o.wait && o.timeout <= 0 {
		return fmt.Errorf("--timeout must be positive, got %s", o.timeout)
	}
	vc, err := o.buildTenant(cmd, name)
	if err != nil {
		return err
	}
	c, err := o.client(cmd)
	if err != nil {
		return err
	}
	if err := o.preflight(cmd, c, vc); err != nil {
		return err
	}
	if err := c.Create(cmd.Context(), vc); err != nil {
		return apiError(err)
	}
	out := cmd.OutOrStdout()
	ns := vc.GetNamespace()
	fmt.Fprintf(out, "virtualcluster %s/%s created\n", ns, name)
	if !o.wait {
		return nil
	}
	if err := o.waitReady(cmd, c, ns, name); err != nil {
		return err
	}
	fmt.Fprintf(out, "Tenant %s is ready. Get its kubeconfig with: vcctl tenant kubeconfig %s -n %s\n", name, name, ns)
	return nil
}

// waitReady polls the VirtualCluster until it is Ready or Failed, printing each
// condition change.
func (o *tenantOptions) waitReady(cmd *cobra.Command, c client.Client, namespace, name string) error {
	ctx, cancel := contextWithTimeout(cmd, o.timeout)
	defer cancel()
	seen := map[string]string{}
	vc := &tenancyv1alpha1.VirtualCluster{}
	var failed error
	// Requests use the command's context, so that only the poll loop times out and a
	// timeout is always reported as one.
	err := wait.PollUntilContextCancel(ctx, pollInterval, true, func(context.Context) (bool, error) {
		if err := c.Get(cmd.Context(), client.ObjectKey{Namespace: namespace, Name: name}, vc); err != nil {
			return false, apiError(err)
		}
		printConditionChanges(cmd.OutOrStdout(), vc.Status.Conditions, seen)
		if ready := readyCondition(vc); ready != nil && ready.Status == metav1.ConditionTrue {
			return true, nil
		}
		if vc.Status.Phase == tenancyv1alpha1.PhaseFailed {
			failed = fmt.Errorf("tenant %s failed: %s", name, readyMessage(vc))
			return false, failed
		}
		return false, nil
	})
	if err != nil && failed == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %s waiting for tenant %s to become ready (phase %s; %s)",
			o.timeout, name, phaseOf(vc), conditionSummary(vc.Status.Conditions))
	}
	return err
}

// readyMessage is the message of the Ready condition, or a note that there is none.
func readyMessage(vc *tenancyv1alpha1.VirtualCluster) string {
	if ready := readyCondition(vc); ready != nil && ready.Message != "" {
		return ready.Message
	}
	return "the Ready condition gives no reason"
}
