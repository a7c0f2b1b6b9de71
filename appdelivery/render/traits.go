package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/vcp-dev/vcp/appdelivery/model"
)

// applyTraits applies the component's traits in a fixed order, whatever their order in
// the Application, so that the output depends only on what the traits say. The labels
// and annotations traits are read by builder.labels and builder.annotations.
func (b *builder) applyTraits() {
	t := b.comp.Traits
	if p, ok := t[model.ConfigTrait].(*model.ConfigProperties); ok {
		b.config(p)
	}
	if p, ok := t[model.SecretRefTrait].(*model.SecretRefProperties); ok {
		b.secretRefs(p)
	}
	if p, ok := t[model.StorageTrait].(*model.StorageProperties); ok {
		b.storage(p)
	}
	b.env()
	if p, ok := t[model.ResourcesTrait].(*model.ResourcesProperties); ok {
		b.main().Resources = corev1.ResourceRequirements{Requests: resourceList(p.Requests), Limits: resourceList(p.Limits)}
	}
	if p, ok := t[model.ProbesTrait].(*model.ProbesProperties); ok {
		b.main().LivenessProbe, b.main().ReadinessProbe, b.main().StartupProbe = p.Liveness, p.Readiness, p.Startup
	}
	if p, ok := t[model.SidecarTrait].(*model.SidecarProperties); ok {
		b.sidecars(p)
	}
	if p, ok := t[model.ScaleTrait].(*model.ScaleProperties); ok {
		b.replicas = p.Replicas
	}
	if p, ok := t[model.AutoscaleTrait].(*model.AutoscaleProperties); ok {
		b.autoscale(p)
	}
	if p, ok := t[model.RouteTrait].(*model.RouteProperties); ok {
		b.route(p)
	}
}

// env sets the main container's variables from the env trait and the secretRef trait's
// keys, sorted by name. Sorting makes the output independent of map order; a value
// referring to another variable ($(VAR)) sees only those sorted before it.
func (b *builder) env() {
	var vars []corev1.EnvVar
	if p, ok := b.comp.Traits[model.EnvTrait].(*model.EnvProperties); ok {
		for name, value := range *p {
			vars = append(vars, corev1.EnvVar{Name: name, Value: value})
		}
	}
	if p, ok := b.comp.Traits[model.SecretRefTrait].(*model.SecretRefProperties); ok {
		for _, ref := range p.Secrets {
			for name, key := range ref.Env {
				vars = append(vars, corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{
					SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: ref.Name}, Key: key},
				}})
			}
		}
	}
	slices.SortFunc(vars, func(a, b corev1.EnvVar) int { return strings.Compare(a.Name, b.Name) })
	b.main().Env = vars
}

// config mounts each of the config trait's file sets from a ConfigMap named after its
// content, so that changing a file changes the pod template and rolls the pods (and the
// delivery engine prunes the old ConfigMap).
func (b *builder) config(p *model.ConfigProperties) {
	for _, m := range p.Mounts {
		cm := &corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: b.meta(b.comp.Name + "-" + m.Name + "-" + contentHash(m.Files)),
			Data:       maps.Clone(m.Files),
		}
		b.objects = append(b.objects, cm)
		b.mount(corev1.Volume{Name: model.ConfigVolumeName(m.Name), VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name}},
		}}, m.MountPath, true)
	}
}

// contentHash is the first 10 hex digits of the SHA-256 of files, as JSON (sorted keys).
func contentHash(files map[string]string) string {
	data, _ := json.Marshal(files) // a map of strings always marshals
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:10]
}

func (b *builder) secretRefs(p *model.SecretRefProperties) {
	for _, ref := range p.Secrets {
		if ref.EnvFrom {
			b.main().EnvFrom = append(b.main().EnvFrom, corev1.EnvFromSource{
				Prefix:    ref.EnvPrefix,
				SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: ref.Name}},
			})
		}
		if ref.MountPath != "" {
			b.mount(corev1.Volume{Name: model.SecretVolumeName(ref.Name), VolumeSource: corev1.VolumeSource{
				Secret: &corev1.SecretVolumeSource{SecretName: ref.Name},
			}}, ref.MountPath, true)
		}
	}
}

// storage mounts each volume: an emptyDir, a volumeClaimTemplate on a statefulset (one
// claim per replica), else a PersistentVolumeClaim shared by the replicas.
func (b *builder) storage(p *model.StorageProperties) {
	_, stateful := b.comp.Properties.(*model.StatefulSetProperties)
	for _, v := range p.Volumes {
		switch {
		case v.EmptyDir:
			src := &corev1.EmptyDirVolumeSource{}
			if v.Size != "" {
				src.SizeLimit = ptr.To(quantity(v.Size))
			}
			b.mount(corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{EmptyDir: src}}, v.MountPath, v.ReadOnly)
		case stateful:
			// No labels: a StatefulSet's volumeClaimTemplates cannot be changed later.
			b.claims = append(b.claims, corev1.PersistentVolumeClaim{
				ObjectMeta: metav1.ObjectMeta{Name: v.Name},
				Spec:       claimSpec(v),
			})
			b.main().VolumeMounts = append(b.main().VolumeMounts, corev1.VolumeMount{Name: v.Name, MountPath: v.MountPath, ReadOnly: v.ReadOnly})
		default:
			pvc := &corev1.PersistentVolumeClaim{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
				ObjectMeta: b.meta(b.comp.Name + "-" + v.Name),
				Spec:       claimSpec(v),
			}
			b.objects = append(b.objects, pvc)
			b.mount(corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: pvc.Name, ReadOnly: v.ReadOnly},
			}}, v.MountPath, v.ReadOnly)
		}
	}
}

func claimSpec(v model.StorageVolume) corev1.PersistentVolumeClaimSpec {
	modes := v.AccessModes
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	return corev1.PersistentVolumeClaimSpec{
		AccessModes:      modes,
		StorageClassName: v.StorageClassName,
		Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: quantity(v.Size)}},
	}
}

// mount adds a pod volume and mounts it into the main container.
func (b *builder) mount(v corev1.Volume, path string, readOnly bool) {
	b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, v)
	b.main().VolumeMounts = append(b.main().VolumeMounts, corev1.VolumeMount{Name: v.Name, MountPath: path, ReadOnly: readOnly})
}

// sidecars adds native sidecars: init containers that keep running (restartPolicy
// Always) beside the main container.
func (b *builder) sidecars(p *model.SidecarProperties) {
	for _, c := range p.Containers {
		c := *c.DeepCopy()
		c.RestartPolicy = ptr.To(corev1.ContainerRestartPolicyAlways)
		b.pod.Spec.InitContainers = append(b.pod.Spec.InitContainers, c)
	}
}

// autoscale adds a HorizontalPodAutoscaler and leaves the replicas to it: the workload
// does not set spec.replicas, so applying it never fights the autoscaler.
func (b *builder) autoscale(p *model.AutoscaleProperties) {
	b.replicas = nil
	kind := "Deployment"
	if _, ok := b.comp.Properties.(*model.StatefulSetProperties); ok {
		kind = "StatefulSet"
	}
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: b.meta(b.comp.Name),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: kind, Name: b.comp.Name},
			MinReplicas:    p.MinReplicas,
			MaxReplicas:    p.MaxReplicas,
		},
	}
	for _, m := range []struct {
		name   corev1.ResourceName
		target *int32
	}{{corev1.ResourceCPU, p.CPUUtilization}, {corev1.ResourceMemory, p.MemoryUtilization}} {
		if m.target == nil {
			continue
		}
		hpa.Spec.Metrics = append(hpa.Spec.Metrics, autoscalingv2.MetricSpec{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: m.name, Target: autoscalingv2.MetricTarget{
				Type: autoscalingv2.UtilizationMetricType, AverageUtilization: m.target,
			}},
		})
	}
	b.objects = append(b.objects, hpa)
}

// route adds an Ingress for one host and path to one port of the component's Service.
func (b *builder) route(p *model.RouteProperties) {
	path, pathType, port := p.Path, p.PathType, p.Port
	if path == "" {
		path = "/"
	}
	if pathType == "" {
		pathType = networkingv1.PathTypePrefix
	}
	if port == "" {
		port = b.w.Ports[0].Name // a service has at least one port
	}
	ing := &networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: b.meta(b.comp.Name),
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
			Host: p.Host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: path, PathType: &pathType, Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: b.comp.Name, Port: networkingv1.ServiceBackendPort{Name: port}},
				}}},
			}},
		}}},
	}
	if p.IngressClassName != "" {
		ing.Spec.IngressClassName = ptr.To(p.IngressClassName)
	}
	if p.TLSSecretName != "" {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{p.Host}, SecretName: p.TLSSecretName}}
	}
	if len(p.Annotations) > 0 {
		if ing.Annotations == nil {
			ing.Annotations = map[string]string{}
		}
		maps.Copy(ing.Annotations, p.Annotations)
	}
	b.objects = append(b.objects, ing)
}

func resourceList(in map[corev1.ResourceName]model.Quantity) corev1.ResourceList {
	if len(in) == 0 {
		return nil
	}
	out := corev1.ResourceList{}
	for name, q := range in {
		out[name] = quantity(q)
	}
	return out
}

// quantity parses a quantity the model validated; the zero quantity stands for one it
// did not, which Render never sees.
func quantity(q model.Quantity) resource.Quantity {
	v, err := resource.ParseQuantity(string(q))
	if err != nil {
		return resource.Quantity{}
	}
	return v
}
