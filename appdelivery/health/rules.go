package health

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// deployment is Argo CD's rule with kstatus' stricter checks: the controller has
// observed the generation, every replica is updated, ready and available, no old replica
// is left, and the Available condition is not False.
func deployment(d *appsv1.Deployment) Result {
	if d.Spec.Paused {
		return result(Suspended, "deployment is paused")
	}
	if d.Generation > d.Status.ObservedGeneration {
		return result(Progressing, "waiting for the deployment spec update to be observed (generation %d, observed %d)", d.Generation, d.Status.ObservedGeneration)
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded" {
			return result(Degraded, "deployment %q exceeded its progress deadline", d.Name)
		}
		if c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue {
			return result(Degraded, "replica failure: %s", c.Message)
		}
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	switch {
	case st.UpdatedReplicas < want:
		return result(Progressing, "%d of %d replicas updated", st.UpdatedReplicas, want)
	case st.Replicas > st.UpdatedReplicas:
		return result(Progressing, "%d old replicas pending termination", st.Replicas-st.UpdatedReplicas)
	case st.Replicas > want:
		return result(Progressing, "%d replicas, %d wanted: pending termination", st.Replicas, want)
	case st.ReadyReplicas < want:
		return result(Progressing, "%d of %d replicas ready", st.ReadyReplicas, want)
	case st.AvailableReplicas < want:
		return result(Progressing, "%d of %d replicas available", st.AvailableReplicas, want)
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionFalse {
			return result(Progressing, "not available: %s", c.Message)
		}
	}
	return result(Healthy, "%d of %d replicas available", st.AvailableReplicas, want)
}

// statefulSet is Argo CD's rule.
func statefulSet(s *appsv1.StatefulSet) Result {
	if s.Status.ObservedGeneration == 0 || s.Generation > s.Status.ObservedGeneration {
		return result(Progressing, "waiting for the statefulset spec update to be observed")
	}
	want := int32(1)
	if s.Spec.Replicas != nil {
		want = *s.Spec.Replicas
	}
	if s.Status.ReadyReplicas < want {
		return result(Progressing, "%d of %d pods ready", s.Status.ReadyReplicas, want)
	}
	if s.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		return result(Healthy, "%d pods ready (update strategy OnDelete)", s.Status.ReadyReplicas)
	}
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil && *ru.Partition > 0 {
		if s.Status.UpdatedReplicas < want-*ru.Partition {
			return result(Progressing, "%d of %d pods updated (partition %d)", s.Status.UpdatedReplicas, want-*ru.Partition, *ru.Partition)
		}
		return result(Healthy, "partitioned roll out complete: %d new pods", s.Status.UpdatedReplicas)
	}
	if s.Status.UpdateRevision != "" && s.Status.CurrentRevision != s.Status.UpdateRevision {
		return result(Progressing, "rolling update: %d of %d pods at revision %s", s.Status.UpdatedReplicas, want, s.Status.UpdateRevision)
	}
	return result(Healthy, "%d pods ready at revision %s", s.Status.ReadyReplicas, s.Status.CurrentRevision)
}

// daemonSet is Argo CD's rule.
func daemonSet(d *appsv1.DaemonSet) Result {
	if d.Status.ObservedGeneration == 0 || d.Generation > d.Status.ObservedGeneration {
		return result(Progressing, "waiting for the daemonset spec update to be observed")
	}
	if d.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType {
		return result(Healthy, "%d pods scheduled (update strategy OnDelete)", d.Status.CurrentNumberScheduled)
	}
	if d.Status.UpdatedNumberScheduled < d.Status.DesiredNumberScheduled {
		return result(Progressing, "%d of %d pods updated", d.Status.UpdatedNumberScheduled, d.Status.DesiredNumberScheduled)
	}
	if d.Status.NumberAvailable < d.Status.DesiredNumberScheduled {
		return result(Progressing, "%d of %d updated pods available", d.Status.NumberAvailable, d.Status.DesiredNumberScheduled)
	}
	return result(Healthy, "%d of %d pods available", d.Status.NumberAvailable, d.Status.DesiredNumberScheduled)
}

// replicaSet is Argo CD's rule.
func replicaSet(r *appsv1.ReplicaSet) Result {
	if r.Generation > r.Status.ObservedGeneration {
		return result(Progressing, "waiting for the replicaset spec update to be observed")
	}
	for _, c := range r.Status.Conditions {
		if c.Type == appsv1.ReplicaSetReplicaFailure && c.Status == corev1.ConditionTrue {
			return result(Degraded, "replica failure: %s", c.Message)
		}
	}
	if r.Spec.Replicas != nil && r.Status.AvailableReplicas < *r.Spec.Replicas {
		return result(Progressing, "%d of %d replicas available", r.Status.AvailableReplicas, *r.Spec.Replicas)
	}
	return result(Healthy, "%d replicas available", r.Status.AvailableReplicas)
}

// pod is Argo CD's rule: a container waiting with an Err*, *Error or *BackOff reason
// makes a restartPolicy Always pod Degraded; a running pod that is not ready and has
// restarted is Degraded; Failed is Degraded, Succeeded Healthy.
func pod(p *corev1.Pod) Result {
	if p.Spec.RestartPolicy == corev1.RestartPolicyAlways || p.Spec.RestartPolicy == "" {
		var msgs []string
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil && failingWaitReason(w.Reason) {
				msgs = append(msgs, joinNonEmpty(cs.Name+": "+w.Reason, w.Message))
			}
		}
		if len(msgs) > 0 {
			return Result{Status: Degraded, Message: strings.Join(msgs, "; ")}
		}
	}
	switch p.Status.Phase {
	case corev1.PodPending:
		return Result{Status: Progressing, Message: joinNonEmpty("pending", p.Status.Message)}
	case corev1.PodSucceeded:
		return Result{Status: Healthy, Message: p.Status.Message}
	case corev1.PodFailed:
		msg := p.Status.Message
		if msg == "" {
			msg = terminatedMessage(p)
		}
		return Result{Status: Degraded, Message: joinNonEmpty("failed", msg)}
	case corev1.PodRunning:
		if p.Spec.RestartPolicy != corev1.RestartPolicyAlways && p.Spec.RestartPolicy != "" {
			return result(Healthy, "running")
		}
		if podReady(p) {
			return result(Healthy, "running and ready")
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.LastTerminationState.Terminated != nil {
				return result(Degraded, "container %s terminated: %s", cs.Name, cs.LastTerminationState.Terminated.Reason)
			}
		}
		return result(Progressing, "running, not ready")
	}
	return result(Unknown, "phase %q", p.Status.Phase)
}

// failingWaitReason is Argo CD's test for a waiting reason that means trouble.
func failingWaitReason(r string) bool {
	return strings.HasPrefix(r, "Err") || strings.HasSuffix(r, "Error") || strings.HasSuffix(r, "BackOff")
}

func terminatedMessage(p *corev1.Pod) string {
	for _, cs := range p.Status.ContainerStatuses {
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			return joinNonEmpty(fmt.Sprintf("container %s exited %d", cs.Name, t.ExitCode), t.Reason, t.Message)
		}
	}
	return ""
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// job is Argo CD's rule.
func job(j *batchv1.Job) Result {
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobFailed:
			return Result{Status: Degraded, Message: joinNonEmpty("job failed", c.Reason, c.Message)}
		case batchv1.JobComplete:
			return Result{Status: Healthy, Message: joinNonEmpty("job complete", c.Message)}
		case batchv1.JobSuspended:
			return Result{Status: Suspended, Message: joinNonEmpty("job suspended", c.Message)}
		}
	}
	if j.Spec.Suspend != nil && *j.Spec.Suspend {
		return result(Suspended, "job suspended")
	}
	return result(Progressing, "%d active, %d succeeded, %d failed", j.Status.Active, j.Status.Succeeded, j.Status.Failed)
}

// cronJob is Argo CD's rule: suspended or not; its jobs have their own health.
func cronJob(c *batchv1.CronJob) Result {
	if c.Spec.Suspend != nil && *c.Spec.Suspend {
		return result(Suspended, "cronjob is suspended")
	}
	if c.Status.LastScheduleTime == nil {
		return result(Healthy, "not yet scheduled")
	}
	return result(Healthy, "last scheduled %s", c.Status.LastScheduleTime.UTC().Format("2006-01-02T15:04:05Z"))
}

// service is Argo CD's rule: a LoadBalancer waits for its address.
func service(s *corev1.Service) Result {
	if s.Spec.Type == corev1.ServiceTypeLoadBalancer && len(s.Status.LoadBalancer.Ingress) == 0 {
		return result(Progressing, "waiting for the load balancer's address")
	}
	return Result{Status: Healthy}
}

// ingress is Argo CD's rule: healthy once the controller published an address.
func ingress(i *networkingv1.Ingress) Result {
	if len(i.Status.LoadBalancer.Ingress) == 0 {
		return result(Progressing, "waiting for the ingress controller's address")
	}
	return Result{Status: Healthy}
}

// pvc is Argo CD's rule.
func pvc(c *corev1.PersistentVolumeClaim) Result {
	switch c.Status.Phase {
	case corev1.ClaimBound:
		return result(Healthy, "bound")
	case corev1.ClaimLost:
		return result(Degraded, "claim lost its volume")
	case corev1.ClaimPending:
		return result(Progressing, "waiting for a volume")
	}
	return result(Unknown, "phase %q", c.Status.Phase)
}

// hpa is Argo CD's rule: a failing condition is Degraded, no condition yet Progressing.
func hpa(h *autoscalingv2.HorizontalPodAutoscaler) Result {
	if len(h.Status.Conditions) == 0 {
		return result(Progressing, "waiting to autoscale")
	}
	for _, c := range h.Status.Conditions {
		failed := (c.Type == autoscalingv2.AbleToScale && c.Status == corev1.ConditionFalse) ||
			(c.Type == autoscalingv2.ScalingActive && c.Status == corev1.ConditionFalse && strings.HasPrefix(c.Reason, "Failed"))
		if failed {
			return Result{Status: Degraded, Message: joinNonEmpty(string(c.Type)+" "+c.Reason, c.Message)}
		}
	}
	return result(Healthy, "%d current replicas, %d desired", h.Status.CurrentReplicas, h.Status.DesiredReplicas)
}
