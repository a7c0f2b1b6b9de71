package kubeapiserver

import (
	"context"
	"fmt"
	"io"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/warning"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	"k8s.io/kubernetes/pkg/kubeapiserver/options"

	"github.com/vcp-dev/vcp/tenant-apiserver/policy"
)

// PolicyPluginName is the admission plugin that enforces the platform's policy for the
// tenant (tenant-apiserver/policy).
const PolicyPluginName = "VCPTenantPolicy"

// registerPolicyPlugin adds the tenant policy plugin to a tenant's admission chain,
// ahead of ResourceQuota (which should only count what is admitted). current is read on
// every request, so a policy change needs no restart.
func registerPolicyPlugin(opts *options.AdmissionOptions, current func() *policy.Policy) {
	opts.GenericAdmission.Plugins.Register(PolicyPluginName, func(io.Reader) (admission.Interface, error) {
		return &policyPlugin{Handler: admission.NewHandler(admission.Create, admission.Update), current: current}, nil
	})
	// The recommended order is a package-level slice shared by every tenant: copy it.
	order := slices.Clone(opts.GenericAdmission.RecommendedPluginOrder)
	at := slices.Index(order, "ResourceQuota")
	if at < 0 {
		at = len(order)
	}
	opts.GenericAdmission.RecommendedPluginOrder = slices.Insert(order, at, PolicyPluginName)
}

type policyPlugin struct {
	*admission.Handler
	current func() *policy.Policy
}

var _ admission.ValidationInterface = (*policyPlugin)(nil)

var (
	podsResource      = corev1.SchemeGroupVersion.WithResource("pods").GroupResource()
	servicesResource  = corev1.SchemeGroupVersion.WithResource("services").GroupResource()
	claimsResource    = corev1.SchemeGroupVersion.WithResource("persistentvolumeclaims").GroupResource()
	ingressesResource = networkingv1.SchemeGroupVersion.WithResource("ingresses").GroupResource()
	// Workloads with a pod template are warned about, as the upstream PodSecurity plugin
	// does: their pods are refused when created.
	templateResources = map[schema.GroupResource]bool{
		{Group: "apps", Resource: "deployments"}: true, {Group: "apps", Resource: "replicasets"}: true,
		{Group: "apps", Resource: "statefulsets"}: true, {Group: "apps", Resource: "daemonsets"}: true,
		{Group: "batch", Resource: "jobs"}: true, {Group: "batch", Resource: "cronjobs"}: true,
		{Resource: "replicationcontrollers"}: true, {Resource: "podtemplates"}: true,
	}
)

// Validate refuses a pod, Service, claim or Ingress the tenant's policy forbids, naming
// the rule and the VirtualCluster field behind it.
func (p *policyPlugin) Validate(ctx context.Context, a admission.Attributes, _ admission.ObjectInterfaces) error {
	if a.GetObject() == nil {
		return nil
	}
	pol := p.current()
	if pol == nil {
		// No rules of the tenant's own; the platform's (ClaimDataSource) still hold.
		pol = &policy.Policy{}
	}
	gr := a.GetResource().GroupResource()
	sub := a.GetSubresource()
	var errs field.ErrorList
	switch {
	case gr == podsResource && (sub == "" || sub == "ephemeralcontainers"):
		pod := &corev1.Pod{}
		if err := convert(a.GetObject(), pod); err != nil {
			return err
		}
		errs = pol.Pod(nil, &pod.ObjectMeta, &pod.Spec)
		if a.GetOperation() == admission.Create && sub == "" {
			errs = append(errs, pol.PodClaimTemplates(nil, &pod.Spec)...)
		}
	case sub != "":
		return nil
	case gr == servicesResource:
		svc := &corev1.Service{}
		if err := convert(a.GetObject(), svc); err != nil {
			return err
		}
		errs = pol.Service(svc)
	case gr == claimsResource && a.GetOperation() == admission.Create:
		pvc := &corev1.PersistentVolumeClaim{}
		if err := convert(a.GetObject(), pvc); err != nil {
			return err
		}
		errs = pol.PersistentVolumeClaim(pvc)
	case gr == ingressesResource:
		ing := &networkingv1.Ingress{}
		if err := convert(a.GetObject(), ing); err != nil {
			return err
		}
		errs = pol.Ingress(ing)
	case templateResources[gr]:
		warnTemplate(ctx, pol, a)
		return nil
	}
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewForbidden(gr, a.GetName(), fmt.Errorf("tenant policy: %w", errs.ToAggregate()))
}

// warnTemplate adds a warning for each rule a workload's pod template breaks.
func warnTemplate(ctx context.Context, pol *policy.Policy, a admission.Attributes) {
	template := podTemplateOf(a.GetObject())
	if template == nil {
		return
	}
	path := field.NewPath("spec", "template")
	for _, err := range append(pol.Pod(path, &template.ObjectMeta, &template.Spec), pol.PodClaimTemplates(path, &template.Spec)...) {
		warning.AddWarning(ctx, "", fmt.Sprintf("its pods will be refused: %s", err.Error()))
	}
}

func podTemplateOf(internal runtime.Object) *corev1.PodTemplateSpec {
	external, err := legacyscheme.Scheme.ConvertToVersion(internal, schema.GroupVersions{appsv1.SchemeGroupVersion, batchv1.SchemeGroupVersion, corev1.SchemeGroupVersion})
	if err != nil {
		return nil
	}
	switch o := external.(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template
	case *appsv1.ReplicaSet:
		return &o.Spec.Template
	case *appsv1.StatefulSet:
		return &o.Spec.Template
	case *appsv1.DaemonSet:
		return &o.Spec.Template
	case *batchv1.Job:
		return &o.Spec.Template
	case *batchv1.CronJob:
		return &o.Spec.JobTemplate.Spec.Template
	case *corev1.ReplicationController:
		return o.Spec.Template
	case *corev1.PodTemplate:
		return &o.Template
	}
	return nil
}

// convert turns the internal object admission sees into its v1 form.
func convert(internal runtime.Object, out runtime.Object) error {
	if err := legacyscheme.Scheme.Convert(internal, out, nil); err != nil {
		return apierrors.NewInternalError(fmt.Errorf("tenant policy: convert %T: %w", internal, err))
	}
	return nil
}
