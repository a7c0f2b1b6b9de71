package render

import (
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/vcp-dev/vcp/appdelivery/model"
)

// builder renders a workload component: its traits shape the pod template and add
// objects, then the controller (Deployment, StatefulSet, ...) wraps the template.
type builder struct {
	app       *model.Application
	namespace string
	comp      *model.DecodedComponent
	w         *model.Workload
	pod       corev1.PodTemplateSpec
	// replicas is nil when an autoscaler owns the field.
	replicas *int32
	// claims are the statefulset's volumeClaimTemplates.
	claims []corev1.PersistentVolumeClaim
	// objects are what traits add: ConfigMaps, PersistentVolumeClaims, a
	// HorizontalPodAutoscaler, an Ingress.
	objects []object
}

func newBuilder(app *model.Application, c *model.DecodedComponent) *builder {
	b := &builder{app: app, namespace: app.Namespace(), comp: c, w: c.Workload(), replicas: ptr.To[int32](1)}
	b.pod = corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: b.labels(), Annotations: b.annotations()},
		Spec: corev1.PodSpec{
			ServiceAccountName: b.w.ServiceAccountName,
			Containers: []corev1.Container{{
				Name:            c.Name,
				Image:           b.w.Image,
				ImagePullPolicy: b.w.ImagePullPolicy,
				Command:         b.w.Command,
				Args:            b.w.Args,
				Ports:           containerPorts(b.w.Ports),
			}},
		},
	}
	return b
}

// main returns the main container.
func (b *builder) main() *corev1.Container { return &b.pod.Spec.Containers[0] }

// selector returns the labels that select the component's pods. They never change for
// a component, since a workload's selector is immutable.
func (b *builder) selector() map[string]string {
	return map[string]string{model.LabelInstance: b.app.Metadata.Name, model.LabelComponent: b.comp.Name}
}

// labels returns the labels of every object of the component: the common ones and the
// labels trait's.
func (b *builder) labels() map[string]string {
	l := commonLabels(b.app, b.comp.Name)
	if t, ok := b.comp.Traits[model.LabelsTrait].(*model.LabelsProperties); ok {
		maps.Copy(l, *t)
	}
	return l
}

// annotations returns the annotations trait's annotations, or nil.
func (b *builder) annotations() map[string]string {
	if t, ok := b.comp.Traits[model.AnnotationsTrait].(*model.AnnotationsProperties); ok && len(*t) > 0 {
		return maps.Clone(map[string]string(*t))
	}
	return nil
}

// meta returns the metadata of an object of the component named name.
func (b *builder) meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: b.namespace, Labels: b.labels(), Annotations: b.annotations()}
}

func commonLabels(app *model.Application, component string) map[string]string {
	return map[string]string{
		model.LabelName:      app.Metadata.Name,
		model.LabelInstance:  app.Metadata.Name,
		model.LabelComponent: component,
		model.LabelManagedBy: model.ManagedBy,
	}
}

func containerPorts(ports []model.Port) []corev1.ContainerPort {
	var out []corev1.ContainerPort
	for _, p := range ports {
		out = append(out, corev1.ContainerPort{Name: p.Name, ContainerPort: p.Port, Protocol: p.Protocol})
	}
	return out
}

// controller returns the workload object of the component's type.
func (b *builder) controller() object {
	switch p := b.comp.Properties.(type) {
	case *model.StatefulSetProperties:
		return b.statefulSet()
	case *model.DaemonProperties:
		return b.daemonSet()
	case *model.JobProperties:
		return b.job(&p.JobSettings)
	case *model.CronJobProperties:
		return b.cronJob(p)
	}
	return b.deployment()
}

func (b *builder) deployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: b.meta(b.comp.Name),
		Spec: appsv1.DeploymentSpec{
			Replicas: b.replicas,
			Selector: &metav1.LabelSelector{MatchLabels: b.selector()},
			Template: b.pod,
		},
	}
}

func (b *builder) statefulSet() *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: b.meta(b.comp.Name),
		Spec: appsv1.StatefulSetSpec{
			Replicas:             b.replicas,
			Selector:             &metav1.LabelSelector{MatchLabels: b.selector()},
			ServiceName:          b.comp.Name,
			Template:             b.pod,
			VolumeClaimTemplates: b.claims,
		},
	}
}

func (b *builder) daemonSet() *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: b.meta(b.comp.Name),
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: b.selector()},
			Template: b.pod,
		},
	}
}

func (b *builder) job(s *model.JobSettings) *batchv1.Job {
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: b.meta(b.comp.Name),
		Spec:       b.jobSpec(s),
	}
}

// jobSpec leaves the selector to the Job controller, which generates a unique one.
func (b *builder) jobSpec(s *model.JobSettings) batchv1.JobSpec {
	pod := *b.pod.DeepCopy()
	pod.Spec.RestartPolicy = s.RestartPolicy
	if pod.Spec.RestartPolicy == "" {
		pod.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	}
	return batchv1.JobSpec{
		BackoffLimit:            s.BackoffLimit,
		Completions:             s.Completions,
		Parallelism:             s.Parallelism,
		ActiveDeadlineSeconds:   s.ActiveDeadlineSeconds,
		TTLSecondsAfterFinished: s.TTLSecondsAfterFinished,
		Template:                pod,
	}
}

func (b *builder) cronJob(p *model.CronJobProperties) *batchv1.CronJob {
	cj := &batchv1.CronJob{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
		ObjectMeta: b.meta(b.comp.Name),
		Spec: batchv1.CronJobSpec{
			Schedule:          p.Schedule,
			ConcurrencyPolicy: p.ConcurrencyPolicy,
			Suspend:           p.Suspend,
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: b.labels(), Annotations: b.annotations()},
				Spec:       b.jobSpec(&p.JobSettings),
			},
		},
	}
	if p.TimeZone != "" {
		cj.Spec.TimeZone = ptr.To(p.TimeZone)
	}
	return cj
}

// service returns the Service of a service component, the headless Service of a
// statefulset, or nil.
func (b *builder) service() *corev1.Service {
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: b.meta(b.comp.Name),
		Spec:       corev1.ServiceSpec{Selector: b.selector(), Ports: servicePorts(b.w.Ports)},
	}
	switch p := b.comp.Properties.(type) {
	case *model.ServiceProperties:
		svc.Spec.Type = p.ServiceType
	case *model.StatefulSetProperties:
		// The headless Service gives each replica its DNS name; peers find each other
		// through it before they are ready.
		svc.Spec.ClusterIP = corev1.ClusterIPNone
		svc.Spec.PublishNotReadyAddresses = true
	default:
		return nil
	}
	return svc
}

func servicePorts(ports []model.Port) []corev1.ServicePort {
	var out []corev1.ServicePort
	for _, p := range ports {
		port := p.ServicePort
		if port == 0 {
			port = p.Port
		}
		out = append(out, corev1.ServicePort{Name: p.Name, Port: port, TargetPort: intstr.FromString(p.Name), Protocol: p.Protocol})
	}
	return out
}
