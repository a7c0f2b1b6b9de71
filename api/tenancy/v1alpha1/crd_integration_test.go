package v1alpha1_test

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/e2e/framework"
	"github.com/vcp-dev/vcp/hack/localcluster"
)

var vcResource = tenancyv1alpha1.GroupVersion.WithResource("virtualclusters")

// TestVirtualClusterCRDValidation applies the generated CRD to a real kube-apiserver and
// checks that valid specs are accepted (and defaulted) and that each invalid field is
// rejected with a message naming it.
func TestVirtualClusterCRDValidation(t *testing.T) {
	cluster := framework.StartCluster(t, localcluster.Config{ControlPlaneOnly: true})
	ctx := t.Context()
	framework.InstallCRDs(t, cluster)
	vcs := dynamic.NewForConfigOrDie(cluster.Config).Resource(vcResource).Namespace("default")

	tests := []struct {
		name string
		// object is the VirtualCluster as YAML; "name" defaults to "t1".
		object string
		// wantErr are substrings of the rejection; none means the object is accepted.
		wantErr []string
	}{
		{name: "empty spec", object: `spec: {}`},
		{name: "full spec", object: `
spec:
  kubernetesAPI: {version: v1.36.3, dedicatedHost: true, disabledAPIs: [batch/v1beta1, v1], extraSANs: [tenant.example.com, 10.0.0.5]}
  datastore: {type: Shared, keyPrefix: /vcp/custom/}
  isolation:
    runtimeClassName: gvisor
    nodePool:
      name: dedicated-a
      nodeSelector: {topology.kubernetes.io/zone: z1}
      tolerations: [{key: vcp.dev/node-pool, operator: Equal, value: dedicated-a, effect: NoSchedule}]
    network: {mode: VPC, allowedEgressCIDRs: [10.0.0.0/8, "2001:db8::/32"], allowedTenants: [shared-db]}
    resourceQuota: {hard: {cpu: "8", memory: 16Gi, pods: 100}}
    limitRange: {default: {cpu: 500m}, defaultRequest: {cpu: 100m}, max: {memory: 4Gi}, min: {memory: "0"}}
    podSecurity: {level: restricted}
    allowed: {registries: [registry.example.com, "docker.io/library", "localhost:5000/team"], storageClasses: [standard], ingressClasses: [nginx], serviceTypes: [ClusterIP, LoadBalancer]}
  sync: {weight: 10, extraResources: [{group: monitoring.coreos.com, resource: servicemonitors}, {resource: podtemplates}]}
  paused: true`},
		{name: "external datastore", object: `
spec:
  datastore: {type: External, external: {endpoints: ["https://etcd-0.etcd:2379", "https://10.0.0.1:2379"], tlsSecretRef: {name: etcd-client}}}`},

		{name: "name too long", object: "name: " + strings.Repeat("a", 41) + "\nspec: {}",
			wantErr: []string{"metadata.name must be at most 40 characters"}},
		{name: "name not a DNS label", object: "name: team.a\nspec: {}",
			wantErr: []string{"metadata.name must be a DNS-1123 label"}},
		{name: "version", object: `spec: {kubernetesAPI: {version: "1.36"}}`,
			wantErr: []string{"spec.kubernetesAPI.version"}},
		{name: "disabled API", object: `spec: {kubernetesAPI: {disabledAPIs: ["batch/"]}}`,
			wantErr: []string{"spec.kubernetesAPI.disabledAPIs[0]"}},
		{name: "datastore type", object: `spec: {datastore: {type: Postgres}}`,
			wantErr: []string{"spec.datastore.type: Unsupported value: \"Postgres\""}},
		{name: "external without endpoints", object: `spec: {datastore: {type: External}}`,
			wantErr: []string{"spec.datastore.external is required when spec.datastore.type is External"}},
		{name: "external with shared", object: `spec: {datastore: {type: Shared, external: {endpoints: ["https://e:2379"]}}}`,
			wantErr: []string{"spec.datastore.external may only be set when spec.datastore.type is External"}},
		{name: "external empty endpoints", object: `spec: {datastore: {type: External, external: {endpoints: []}}}`,
			wantErr: []string{"spec.datastore.external.endpoints"}},
		{name: "external endpoint not a URL", object: `spec: {datastore: {type: External, external: {endpoints: ["etcd:2379"]}}}`,
			wantErr: []string{"spec.datastore.external.endpoints: each endpoint must be an http:// or https:// URL"}},
		{name: "key prefix without trailing slash", object: `spec: {datastore: {keyPrefix: /vcp/a}}`,
			wantErr: []string{"spec.datastore.keyPrefix"}},
		{name: "runtime class", object: `spec: {isolation: {runtimeClassName: "G Visor"}}`,
			wantErr: []string{"spec.isolation.runtimeClassName"}},
		{name: "node pool name", object: `spec: {isolation: {nodePool: {name: Pool_A}}}`,
			wantErr: []string{"spec.isolation.nodePool.name"}},
		{name: "node selector key", object: `spec: {isolation: {nodePool: {nodeSelector: {"bad key": x}}}}`,
			wantErr: []string{"spec.isolation.nodePool.nodeSelector: keys must be label keys"}},
		{name: "node selector value", object: `spec: {isolation: {nodePool: {nodeSelector: {zone: "a b"}}}}`,
			wantErr: []string{"spec.isolation.nodePool.nodeSelector.zone: Invalid value: \"a b\""}},
		{name: "network mode", object: `spec: {isolation: {network: {mode: Mesh}}}`,
			wantErr: []string{"spec.isolation.network.mode: Unsupported value: \"Mesh\""}},
		{name: "egress CIDR", object: `spec: {isolation: {network: {allowedEgressCIDRs: [10.0.0.0/33]}}}`,
			wantErr: []string{"spec.isolation.network.allowedEgressCIDRs: each entry must be a CIDR"}},
		{name: "allowed tenant", object: `spec: {isolation: {network: {allowedTenants: [Team_B]}}}`,
			wantErr: []string{"spec.isolation.network.allowedTenants[0]"}},
		{name: "negative quota", object: `spec: {isolation: {resourceQuota: {hard: {cpu: "-1"}}}}`,
			wantErr: []string{"spec.isolation.resourceQuota.hard: Invalid value", "quantities must not be negative"}},
		{name: "negative integer quota", object: `spec: {isolation: {resourceQuota: {hard: {pods: -5}}}}`,
			wantErr: []string{"spec.isolation.resourceQuota.hard: Invalid value", "quantities must not be negative"}},
		{name: "quota not a quantity", object: `spec: {isolation: {resourceQuota: {hard: {memory: lots}}}}`,
			wantErr: []string{"spec.isolation.resourceQuota.hard.memory"}},
		{name: "empty quota", object: `spec: {isolation: {resourceQuota: {hard: {}}}}`,
			wantErr: []string{"spec.isolation.resourceQuota.hard"}},
		{name: "negative limit", object: `spec: {isolation: {limitRange: {max: {memory: -1Gi}}}}`,
			wantErr: []string{"spec.isolation.limitRange.max: quantities must not be negative"}},
		{name: "pod security level", object: `spec: {isolation: {podSecurity: {level: strict}}}`,
			wantErr: []string{"spec.isolation.podSecurity.level: Unsupported value: \"strict\""}},
		{name: "service type", object: `spec: {isolation: {allowed: {serviceTypes: [Gateway]}}}`,
			wantErr: []string{"spec.isolation.allowed.serviceTypes[0]: Unsupported value: \"Gateway\""}},
		{name: "registry", object: `spec: {isolation: {allowed: {registries: ["https://registry.example.com"]}}}`,
			wantErr: []string{"spec.isolation.allowed.registries[0]"}},
		{name: "storage class", object: `spec: {isolation: {allowed: {storageClasses: ["Fast SSD"]}}}`,
			wantErr: []string{"spec.isolation.allowed.storageClasses[0]"}},
		{name: "duplicate ingress class", object: `spec: {isolation: {allowed: {ingressClasses: [nginx, nginx]}}}`,
			wantErr: []string{"spec.isolation.allowed.ingressClasses[1]: Duplicate value"}},
		{name: "weight zero", object: `spec: {sync: {weight: 0}}`,
			wantErr: []string{"spec.sync.weight: Invalid value: 0"}},
		{name: "weight too high", object: `spec: {sync: {weight: 101}}`,
			wantErr: []string{"spec.sync.weight: Invalid value: 101"}},
		{name: "extra resource", object: `spec: {sync: {extraResources: [{group: apps, resource: Deployments}]}}`,
			wantErr: []string{"spec.sync.extraResources[0].resource"}},
		{name: "paused not a bool", object: `spec: {paused: "yes"}`,
			wantErr: []string{"spec.paused: Invalid value: \"string\""}},
		{name: "every bad field reported", object: `spec: {sync: {weight: 0}, isolation: {network: {mode: Mesh}}}`,
			wantErr: []string{"spec.sync.weight", "spec.isolation.network.mode"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := vcObject(t, tt.object)
			_, err := vcs.Create(ctx, obj, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("valid VirtualCluster rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("invalid VirtualCluster accepted; want an error naming %q", tt.wantErr)
			}
			if !apierrors.IsInvalid(err) {
				t.Errorf("error is not 422 Invalid: %v", err)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not name the field:\n got: %v\nwant: %q", err, want)
				}
			}
		})
	}

	t.Run("defaults", func(t *testing.T) {
		created, err := vcs.Create(ctx, vcObject(t, "name: defaults\nspec: {}"), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		vc := &tenancyv1alpha1.VirtualCluster{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(created.Object, vc); err != nil {
			t.Fatal(err)
		}
		s := vc.Spec
		if s.Datastore.Type != tenancyv1alpha1.DatastoreShared || s.Isolation.Network.Mode != tenancyv1alpha1.NetworkVPC ||
			s.Isolation.PodSecurity.Level != tenancyv1alpha1.PodSecurityBaseline || s.Sync.Weight != 1 ||
			len(s.Isolation.Allowed.ServiceTypes) != 1 || s.Isolation.Allowed.ServiceTypes[0] != "ClusterIP" {
			t.Errorf("defaults not applied: %+v", s)
		}
	})

	t.Run("datastore is immutable", func(t *testing.T) {
		created, err := vcs.Create(ctx, vcObject(t, "name: immutable\nspec: {datastore: {keyPrefix: /vcp/one/}}"), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := unstructured.SetNestedField(created.Object, "/vcp/two/", "spec", "datastore", "keyPrefix"); err != nil {
			t.Fatal(err)
		}
		_, err = vcs.Update(ctx, created, metav1.UpdateOptions{})
		if err == nil || !strings.Contains(err.Error(), "spec.datastore is immutable") {
			t.Fatalf("changing the datastore: error = %v, want it to say spec.datastore is immutable", err)
		}
		// Other fields stay mutable.
		if err := unstructured.SetNestedField(created.Object, "/vcp/one/", "spec", "datastore", "keyPrefix"); err != nil {
			t.Fatal(err)
		}
		if err := unstructured.SetNestedField(created.Object, true, "spec", "paused"); err != nil {
			t.Fatal(err)
		}
		if _, err := vcs.Update(ctx, created, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("pausing: %v", err)
		}
	})
}

func vcObject(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	body := map[string]any{}
	if err := yaml.Unmarshal([]byte(y), &body); err != nil {
		t.Fatalf("test object YAML: %v", err)
	}
	name := "t1"
	if n, ok := body["name"].(string); ok {
		name = n
		delete(body, "name")
	}
	body["apiVersion"] = tenancyv1alpha1.GroupVersion.String()
	body["kind"] = "VirtualCluster"
	body["metadata"] = map[string]any{"name": name}
	return &unstructured.Unstructured{Object: body}
}
