package render

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	"k8s.io/kubernetes/pkg/apis/apps"
	_ "k8s.io/kubernetes/pkg/apis/apps/install"
	appsvalidation "k8s.io/kubernetes/pkg/apis/apps/validation"
	"k8s.io/kubernetes/pkg/apis/autoscaling"
	_ "k8s.io/kubernetes/pkg/apis/autoscaling/install"
	autoscalingvalidation "k8s.io/kubernetes/pkg/apis/autoscaling/validation"
	"k8s.io/kubernetes/pkg/apis/batch"
	_ "k8s.io/kubernetes/pkg/apis/batch/install"
	batchvalidation "k8s.io/kubernetes/pkg/apis/batch/validation"
	"k8s.io/kubernetes/pkg/apis/core"
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	corevalidation "k8s.io/kubernetes/pkg/apis/core/validation"
	"k8s.io/kubernetes/pkg/apis/networking"
	_ "k8s.io/kubernetes/pkg/apis/networking/install"
	networkingvalidation "k8s.io/kubernetes/pkg/apis/networking/validation"
	"k8s.io/kubernetes/pkg/apis/rbac"
	_ "k8s.io/kubernetes/pkg/apis/rbac/install"
	rbacvalidation "k8s.io/kubernetes/pkg/apis/rbac/validation"

	"github.com/vcp-dev/vcp/appdelivery/model"
)

// kubeCheck does to a rendered object what kube-apiserver does on create, short of
// storing it: decode it strictly into its versioned Go type (an unknown field is an
// error), default it, convert it to the internal type and run the API server's own
// validation of that kind. It returns the problems found.
func kubeCheck(u *unstructured.Unstructured) (field.ErrorList, error) {
	gvk := u.GroupVersionKind()
	versioned, err := clientgoscheme.Scheme.New(gvk)
	if err != nil {
		return nil, fmt.Errorf("%s is not a built-in kind: %w", gvk, err)
	}
	data, err := json.Marshal(u.Object)
	if err != nil {
		return nil, err
	}
	if errs := model.DecodeStrict(data, versioned, nil); len(errs) > 0 {
		return errs, nil
	}
	legacyscheme.Scheme.Default(versioned)
	internal, err := legacyscheme.Scheme.ConvertToVersion(versioned, gvk.GroupKind().WithVersion(runtime.APIVersionInternal).GroupVersion())
	if err != nil {
		return nil, err
	}
	return validateInternal(internal)
}

// validateInternal runs the API server's create validation of obj's kind.
func validateInternal(obj runtime.Object) (field.ErrorList, error) {
	pod := corevalidation.PodValidationOptions{}
	switch o := obj.(type) {
	case *apps.Deployment:
		return appsvalidation.ValidateDeployment(o, pod), nil
	case *apps.StatefulSet:
		return appsvalidation.ValidateStatefulSet(o, pod), nil
	case *apps.DaemonSet:
		return appsvalidation.ValidateDaemonSet(o, pod), nil
	case *batch.Job:
		generateJobSelector(o)
		return batchvalidation.ValidateJob(o, batchvalidation.JobValidationOptions{PodValidationOptions: pod, RequirePrefixedLabels: true}), nil
	case *batch.CronJob:
		return batchvalidation.ValidateCronJobCreate(o, pod), nil
	case *core.Service:
		normalizeClusterIPs(o)
		return corevalidation.ValidateServiceCreate(o), nil
	case *core.ConfigMap:
		return corevalidation.ValidateConfigMap(o), nil
	case *core.PersistentVolumeClaim:
		return corevalidation.ValidatePersistentVolumeClaim(o, corevalidation.ValidationOptionsForPersistentVolumeClaimCreate()), nil
	case *autoscaling.HorizontalPodAutoscaler:
		return autoscalingvalidation.ValidateHorizontalPodAutoscaler(o, autoscalingvalidation.HorizontalPodAutoscalerSpecValidationOptions{MinReplicasLowerBound: 1}), nil
	case *networking.Ingress:
		return networkingvalidation.ValidateIngressCreate(o), nil
	case *rbac.ClusterRole:
		return rbacvalidation.ValidateClusterRole(o, rbacvalidation.ClusterRoleValidationOptions{}), nil
	}
	return nil, fmt.Errorf("no validation for %T in this test", obj)
}

// generateJobSelector does what the Job registry does on create, before validation
// (pkg/registry/batch/job generateSelector): give the Job a uid, label the template with
// it and the Job's name, and select the pods by the uid.
func generateJobSelector(job *batch.Job) {
	const uid = "00000000-0000-0000-0000-000000000000"
	job.UID = uid
	if job.Spec.Template.Labels == nil {
		job.Spec.Template.Labels = map[string]string{}
	}
	for _, l := range []string{batch.LegacyJobNameLabel, batch.JobNameLabel} {
		job.Spec.Template.Labels[l] = job.Name
	}
	for _, l := range []string{batch.LegacyControllerUidLabel, batch.ControllerUidLabel} {
		job.Spec.Template.Labels[l] = uid
	}
	job.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{batch.ControllerUidLabel: uid}}
}

// normalizeClusterIPs does what the Service registry does on create, before validation
// (pkg/registry/core/service/storage normalizeClusterIPs): a client that sets only
// clusterIP gets clusterIPs.
func normalizeClusterIPs(svc *core.Service) {
	if svc.Spec.ClusterIP != "" && len(svc.Spec.ClusterIPs) == 0 {
		svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
	}
}

// TestKubeCheckFindsProblems shows that kubeCheck is a real check: it rejects objects
// kube-apiserver would reject.
func TestKubeCheckFindsProblems(t *testing.T) {
	deployment := func(mutate func(map[string]any)) *unstructured.Unstructured {
		obj := map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "web", "namespace": "shop"},
			"spec": map[string]any{
				"selector": map[string]any{"matchLabels": map[string]any{"app": "web"}},
				"template": map[string]any{
					"metadata": map[string]any{"labels": map[string]any{"app": "web"}},
					"spec":     map[string]any{"containers": []any{map[string]any{"name": "web", "image": "nginx"}}},
				},
			},
		}
		mutate(obj)
		return &unstructured.Unstructured{Object: obj}
	}
	spec := func(obj map[string]any) map[string]any { return obj["spec"].(map[string]any) }
	tests := []struct {
		name    string
		obj     *unstructured.Unstructured
		wantErr string
	}{
		{"valid", deployment(func(map[string]any) {}), ""},
		{"unknown field", deployment(func(o map[string]any) { spec(o)["replica"] = int64(2) }), `spec.replica: Forbidden: unknown field`},
		{"selector does not match the template", deployment(func(o map[string]any) {
			spec(o)["selector"] = map[string]any{"matchLabels": map[string]any{"app": "api"}}
		}), "spec.template.metadata.labels"},
		{"invalid name", deployment(func(o map[string]any) { o["metadata"].(map[string]any)["name"] = "Web" }), "metadata.name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs, err := kubeCheck(tt.obj)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantErr == "" {
				if len(errs) > 0 {
					t.Fatalf("kubeCheck = %v, want no error", errs)
				}
				return
			}
			if !strings.Contains(errs.ToAggregate().Error(), tt.wantErr) {
				t.Fatalf("kubeCheck = %v, want an error containing %q", errs, tt.wantErr)
			}
		})
	}
}
