package app

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/yaml"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
)

// The values of --output.
const (
	outputTable = "table"
	outputYAML  = "yaml"
	outputJSON  = "json"
)

// none stands for an empty column, as in kubectl.
const none = "<none>"

// validateOutput checks the --output flag.
func validateOutput(output string) error {
	switch output {
	case outputTable, outputYAML, outputJSON:
		return nil
	}
	return fmt.Errorf("--output must be %s, %s or %s, got %q", outputTable, outputYAML, outputJSON, output)
}

// printObject prints a VirtualCluster or VirtualClusterList as YAML or JSON, with its
// apiVersion and kind and without managed fields.
func printObject(out io.Writer, output string, obj any) error {
	switch o := obj.(type) {
	case *tenancyv1alpha1.VirtualCluster:
		prepareForPrinting(o)
	case *tenancyv1alpha1.VirtualClusterList:
		o.APIVersion, o.Kind = tenancyv1alpha1.GroupVersion.String(), vcKind+"List"
		for i := range o.Items {
			prepareForPrinting(&o.Items[i])
		}
	}
	var b []byte
	var err error
	if output == outputYAML {
		b, err = yaml.Marshal(obj)
	} else {
		b, err = json.MarshalIndent(obj, "", "  ")
		b = append(b, '\n')
	}
	if err != nil {
		return err
	}
	_, err = out.Write(b)
	return err
}

func prepareForPrinting(vc *tenancyv1alpha1.VirtualCluster) {
	vc.APIVersion, vc.Kind = tenancyv1alpha1.GroupVersion.String(), vcKind
	vc.ManagedFields = nil
}

// phaseOf is the tenant's phase; Pending until the vc-manager has set one.
func phaseOf(vc *tenancyv1alpha1.VirtualCluster) tenancyv1alpha1.VirtualClusterPhase {
	if vc.Status.Phase == "" {
		return tenancyv1alpha1.PhasePending
	}
	return vc.Status.Phase
}

// readyCondition is the tenant's Ready condition, or nil.
func readyCondition(vc *tenancyv1alpha1.VirtualCluster) *metav1.Condition {
	return meta.FindStatusCondition(vc.Status.Conditions, tenancyv1alpha1.ConditionReady)
}

func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}

// tenantRow is the table row of a tenant: NAME PHASE READY HOST ENDPOINT AGE.
func tenantRow(vc *tenancyv1alpha1.VirtualCluster, now time.Time) string {
	ready := string(metav1.ConditionUnknown)
	if c := readyCondition(vc); c != nil {
		ready = string(c.Status)
	}
	age := duration.HumanDuration(now.Sub(vc.CreationTimestamp.Time))
	return strings.Join([]string{vc.Name, string(phaseOf(vc)), ready, orNone(vc.Status.Host), orNone(vc.Status.Endpoint), age}, "\t")
}

const tenantHeader = "NAME\tPHASE\tREADY\tHOST\tENDPOINT\tAGE"

// printTenantTable prints one row per tenant, with a NAMESPACE column when withNamespace.
func printTenantTable(out io.Writer, vcs []tenancyv1alpha1.VirtualCluster, withNamespace bool, now time.Time) error {
	w := tabwriter.NewWriter(out, 0, 8, 3, ' ', 0)
	if withNamespace {
		fmt.Fprint(w, "NAMESPACE\t")
	}
	fmt.Fprintln(w, tenantHeader)
	for i := range vcs {
		if withNamespace {
			fmt.Fprint(w, vcs[i].Namespace+"\t")
		}
		fmt.Fprintln(w, tenantRow(&vcs[i], now))
	}
	return w.Flush()
}

// printTenant prints a tenant's row and its conditions.
func printTenant(out io.Writer, vc *tenancyv1alpha1.VirtualCluster, now time.Time) error {
	if err := printTenantTable(out, []tenancyv1alpha1.VirtualCluster{*vc}, false, now); err != nil {
		return err
	}
	fmt.Fprintln(out)
	if len(vc.Status.Conditions) == 0 {
		fmt.Fprintln(out, "No conditions yet: the vc-manager has not reported on this tenant.")
		return nil
	}
	w := tabwriter.NewWriter(out, 0, 8, 3, ' ', 0)
	fmt.Fprintln(w, "TYPE\tSTATUS\tREASON\tMESSAGE")
	for _, c := range vc.Status.Conditions {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", c.Type, c.Status, orNone(c.Reason), c.Message)
	}
	return w.Flush()
}

// formatCondition is a condition on one line: Type=Status (Reason): message.
func formatCondition(c metav1.Condition) string {
	s := fmt.Sprintf("%s=%s (%s)", c.Type, c.Status, c.Reason)
	if c.Message != "" {
		s += ": " + c.Message
	}
	return s
}

// printConditionChanges prints each condition that differs from what seen holds, and
// records it there.
func printConditionChanges(out io.Writer, conds []metav1.Condition, seen map[string]string) {
	for _, c := range conds {
		line := formatCondition(c)
		if seen[c.Type] != line {
			seen[c.Type] = line
			fmt.Fprintln(out, "  "+line)
		}
	}
}

// conditionSummary lists the conditions' states, such as "Ready=False (Provisioning)".
func conditionSummary(conds []metav1.Condition) string {
	if len(conds) == 0 {
		return "no conditions yet: is the vc-manager running?"
	}
	parts := make([]string, 0, len(conds))
	for _, c := range conds {
		parts = append(parts, fmt.Sprintf("%s=%s (%s)", c.Type, c.Status, c.Reason))
	}
	sort.Strings(parts)
	return "last conditions: " + strings.Join(parts, ", ")
}
