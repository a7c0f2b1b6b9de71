package health

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func obj(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	// Decode as client-go does: integers are int64.
	j, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(j); err != nil {
		t.Fatal(err)
	}
	return u
}

var now = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func TestEvaluate(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      Status
		msg       string // a substring of the message
	}{
		{"deployment available", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, generation: 2}, spec: {replicas: 2},
			status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2}}`, Healthy, "2 of 2"},
		{"deployment generation not observed", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, generation: 3}, spec: {replicas: 2},
			status: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2}}`, Progressing, "observed"},
		{"deployment replicas defaults to one", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, generation: 1}, spec: {},
			status: {observedGeneration: 1}}`, Progressing, "0 of 1 replicas updated"},
		{"deployment old replicas", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, generation: 1}, spec: {replicas: 2},
			status: {observedGeneration: 1, replicas: 3, updatedReplicas: 2, readyReplicas: 3, availableReplicas: 3}}`, Progressing, "1 old replicas"},
		{"deployment updated not ready (kstatus)", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, generation: 1}, spec: {replicas: 2},
			status: {observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1}}`, Progressing, "1 of 2 replicas ready"},
		{"deployment ready not available", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, generation: 1}, spec: {replicas: 2},
			status: {observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 1}}`, Progressing, "1 of 2 replicas available"},
		{"deployment available condition false", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, generation: 1}, spec: {replicas: 0},
			status: {observedGeneration: 1, conditions: [{type: Available, status: "False", message: MinimumReplicasUnavailable}]}}`, Progressing, "MinimumReplicasUnavailable"},
		{"deployment deadline exceeded", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, generation: 1}, spec: {replicas: 1},
			status: {observedGeneration: 1, conditions: [{type: Progressing, status: "False", reason: ProgressDeadlineExceeded}]}}`, Degraded, "progress deadline"},
		{"deployment paused", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web}, spec: {paused: true}}`, Suspended, "paused"},
		{"statefulset ready", `{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: db, generation: 1}, spec: {replicas: 1},
			status: {observedGeneration: 1, readyReplicas: 1, currentRevision: db-1, updateRevision: db-1}}`, Healthy, "revision db-1"},
		{"statefulset not observed", `{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: db, generation: 1}, spec: {replicas: 1}, status: {}}`, Progressing, "observed"},
		{"statefulset rolling", `{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: db, generation: 2}, spec: {replicas: 1},
			status: {observedGeneration: 2, readyReplicas: 1, currentRevision: db-1, updateRevision: db-2}}`, Progressing, "revision db-2"},
		{"statefulset partition", `{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: db, generation: 2}, spec: {replicas: 3, updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 2}}},
			status: {observedGeneration: 2, readyReplicas: 3, updatedReplicas: 1, currentRevision: db-1, updateRevision: db-2}}`, Healthy, "partitioned"},
		{"daemonset available", `{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: agent, generation: 1},
			status: {observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3}}`, Healthy, "3 of 3"},
		{"daemonset updating", `{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: agent, generation: 1},
			status: {observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 2, numberAvailable: 3}}`, Progressing, "2 of 3 pods updated"},
		{"daemonset unavailable", `{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: agent, generation: 1},
			status: {observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 1}}`, Progressing, "1 of 3 updated pods"},
		{"replicaset failure", `{apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: web-1},
			status: {conditions: [{type: ReplicaFailure, status: "True", message: "quota exceeded"}]}}`, Degraded, "quota exceeded"},
		{"replicaset available", `{apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: web-1}, spec: {replicas: 2}, status: {availableReplicas: 2}}`, Healthy, ""},
		{"replicaset progressing", `{apiVersion: apps/v1, kind: ReplicaSet, metadata: {name: web-1}, spec: {replicas: 2}, status: {availableReplicas: 1}}`, Progressing, "1 of 2"},
		{"pod ready", `{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {restartPolicy: Always},
			status: {phase: Running, conditions: [{type: Ready, status: "True"}]}}`, Healthy, ""},
		{"pod image pull backoff", `{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {restartPolicy: Always},
			status: {phase: Pending, containerStatuses: [{name: web, state: {waiting: {reason: ImagePullBackOff, message: "not found"}}}]}}`, Degraded, "web: ImagePullBackOff, not found"},
		{"job pod image pull backoff is not Degraded (Argo: hooks)", `{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {restartPolicy: Never},
			status: {phase: Pending, containerStatuses: [{name: web, state: {waiting: {reason: ImagePullBackOff}}}]}}`, Progressing, "pending"},
		{"pod running not ready after a restart", `{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {restartPolicy: Always},
			status: {phase: Running, conditions: [{type: Ready, status: "False"}], containerStatuses: [{name: web, lastState: {terminated: {reason: Error}}}]}}`, Degraded, "terminated: Error"},
		{"pod running not ready", `{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {restartPolicy: Always}, status: {phase: Running}}`, Progressing, "not ready"},
		{"pod failed", `{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {restartPolicy: Never},
			status: {phase: Failed, containerStatuses: [{name: job, state: {terminated: {exitCode: 2, reason: Error}}}]}}`, Degraded, "exited 2"},
		{"pod succeeded", `{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {restartPolicy: Never}, status: {phase: Succeeded}}`, Healthy, ""},
		{"job complete", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, status: {conditions: [{type: Complete, status: "True"}]}}`, Healthy, "complete"},
		{"job failed", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, status: {conditions: [{type: Failed, status: "True", reason: BackoffLimitExceeded}]}}`, Degraded, "BackoffLimitExceeded"},
		{"job running", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, status: {active: 1}}`, Progressing, "1 active"},
		{"job suspended", `{apiVersion: batch/v1, kind: Job, metadata: {name: j}, spec: {suspend: true}}`, Suspended, ""},
		{"cronjob suspended", `{apiVersion: batch/v1, kind: CronJob, metadata: {name: c}, spec: {suspend: true}}`, Suspended, ""},
		{"cronjob", `{apiVersion: batch/v1, kind: CronJob, metadata: {name: c}, spec: {schedule: "* * * * *"}}`, Healthy, "not yet scheduled"},
		{"service clusterip", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {type: ClusterIP}}`, Healthy, ""},
		{"service load balancer pending", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {type: LoadBalancer}}`, Progressing, "load balancer"},
		{"service load balancer ready", `{apiVersion: v1, kind: Service, metadata: {name: s}, spec: {type: LoadBalancer}, status: {loadBalancer: {ingress: [{ip: 10.0.0.1}]}}}`, Healthy, ""},
		{"ingress pending", `{apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: i}}`, Progressing, "ingress controller"},
		{"ingress ready", `{apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: i}, status: {loadBalancer: {ingress: [{hostname: lb}]}}}`, Healthy, ""},
		{"pvc bound", `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: c}, status: {phase: Bound}}`, Healthy, ""},
		{"pvc pending", `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: c}, status: {phase: Pending}}`, Progressing, ""},
		{"pvc lost", `{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: c}, status: {phase: Lost}}`, Degraded, ""},
		{"hpa waiting", `{apiVersion: autoscaling/v2, kind: HorizontalPodAutoscaler, metadata: {name: h}}`, Progressing, "autoscale"},
		{"hpa failing metrics", `{apiVersion: autoscaling/v2, kind: HorizontalPodAutoscaler, metadata: {name: h},
			status: {conditions: [{type: AbleToScale, status: "True"}, {type: ScalingActive, status: "False", reason: FailedGetResourceMetric, message: "no metrics"}]}}`, Degraded, "FailedGetResourceMetric"},
		{"hpa active", `{apiVersion: autoscaling/v2, kind: HorizontalPodAutoscaler, metadata: {name: h},
			status: {currentReplicas: 2, desiredReplicas: 2, conditions: [{type: AbleToScale, status: "True"}, {type: ScalingActive, status: "True"}]}}`, Healthy, ""},
		{"crd established", `{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: a.b}, status: {conditions: [{type: Established, status: "True"}]}}`, Healthy, ""},
		{"crd not established", `{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: a.b}}`, Progressing, ""},
		{"configmap exists", `{apiVersion: v1, kind: ConfigMap, metadata: {name: c}}`, Healthy, ""},
		{"being deleted", `{apiVersion: v1, kind: ConfigMap, metadata: {name: c, deletionTimestamp: "2026-01-01T00:00:00Z"}}`, Progressing, "deleted"},
		{"unreadable", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web}, spec: {replicas: "two"}}`, Unknown, "cannot read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate(obj(t, tc.doc), nil, Options{Now: now})
			if got.Status != tc.want || !strings.Contains(got.Message, tc.msg) {
				t.Errorf("got %s %q, want %s containing %q", got.Status, got.Message, tc.want, tc.msg)
			}
		})
	}
	if got := Evaluate(nil, nil, Options{}); got.Status != Missing {
		t.Errorf("nil object: %s, want Missing", got.Status)
	}
}

func failingPod(name string, ready time.Time, mutate func(*corev1.PodStatus)) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(ready.Add(-time.Minute))},
		Status: corev1.PodStatus{
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: metav1.NewTime(ready)}},
		},
	}
	mutate(&p.Status)
	return p
}

func waiting(reason string) func(*corev1.PodStatus) {
	return func(s *corev1.PodStatus) {
		s.ContainerStatuses = []corev1.ContainerStatus{{Name: "web", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "details"}}}}
	}
}

func TestFailFast(t *testing.T) {
	progressing := `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, generation: 1}, spec: {replicas: 1}, status: {observedGeneration: 1, replicas: 1, updatedReplicas: 1}}`
	healthy := `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, generation: 1}, spec: {replicas: 1},
		status: {observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1}}`
	old := now.Add(-20 * time.Second)
	for _, tc := range []struct {
		name  string
		doc   string
		pod   corev1.Pod
		grace time.Duration
		want  Status
		msg   string
	}{
		{"image pull backoff", progressing, failingPod("web-1", old, waiting("ImagePullBackOff")), DefaultFailFastGrace, Degraded, "pod web-1: ImagePullBackOff, container web, details"},
		{"err image pull", progressing, failingPod("web-1", old, waiting("ErrImagePull")), 0, Degraded, "pod web-1: ErrImagePull"},
		{"crash loop", progressing, failingPod("web-2", old, waiting("CrashLoopBackOff")), DefaultFailFastGrace, Degraded, "pod web-2: CrashLoopBackOff"},
		{"within the grace", progressing, failingPod("web-1", now.Add(-5*time.Second), waiting("ImagePullBackOff")), DefaultFailFastGrace, Progressing, "replicas ready"},
		{"zero grace", progressing, failingPod("web-1", now, waiting("CrashLoopBackOff")), 0, Degraded, "web-1"},
		{"container creating is no failure", progressing, failingPod("web-1", old, waiting("ContainerCreating")), 0, Progressing, ""},
		{"oom killed", progressing, failingPod("web-3", old, func(s *corev1.PodStatus) {
			s.ContainerStatuses = []corev1.ContainerStatus{{Name: "web", RestartCount: 2, LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled"}}}}
		}), 0, Degraded, "pod web-3: OOMKilled, container web (restarted 2 times)"},
		{"unschedulable", progressing, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-4"}, Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: "0/3 nodes are available", LastTransitionTime: metav1.NewTime(old),
		}}}}, DefaultFailFastGrace, Degraded, "pod web-4: Unschedulable, 0/3 nodes are available"},
		{"not before the controller observed the generation", `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, generation: 2}, spec: {replicas: 1},
			status: {observedGeneration: 1, replicas: 1, updatedReplicas: 1}}`, failingPod("web-1", old, waiting("CrashLoopBackOff")), 0, Progressing, "observed"},
		{"a healthy workload ignores its pods", healthy, failingPod("web-1", old, waiting("CrashLoopBackOff")), 0, Healthy, ""},
		{"a deleted pod is ignored", progressing, func() corev1.Pod {
			p := failingPod("web-1", old, waiting("CrashLoopBackOff"))
			p.DeletionTimestamp = &metav1.Time{Time: now}
			return p
		}(), 0, Progressing, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate(obj(t, tc.doc), []corev1.Pod{tc.pod}, Options{Now: now, FailFastGrace: tc.grace})
			if got.Status != tc.want || !strings.Contains(got.Message, tc.msg) {
				t.Errorf("got %s %q, want %s containing %q", got.Status, got.Message, tc.want, tc.msg)
			}
		})
	}
}

func TestCurrentPods(t *testing.T) {
	dep := obj(t, `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web, uid: d1, annotations: {deployment.kubernetes.io/revision: "2"}}}`)
	rs := func(name, rev, hash string) appsv1.ReplicaSet {
		return appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{revisionAnnotation: rev},
			Labels: map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: hash}, OwnerReferences: []metav1.OwnerReference{{UID: "d1"}}}}
	}
	pod := func(name, hash string) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: hash}}}
	}
	pods := []corev1.Pod{pod("old", "aaa"), pod("new", "bbb")}
	got := CurrentPods(dep, []appsv1.ReplicaSet{rs("web-aaa", "1", "aaa"), rs("web-bbb", "2", "bbb")}, pods)
	if len(got) != 1 || got[0].Name != "new" {
		t.Errorf("current pods of the deployment: %v, want [new]", names(got))
	}
	if got := CurrentPods(dep, []appsv1.ReplicaSet{rs("web-aaa", "1", "aaa")}, pods); len(got) != 0 {
		t.Errorf("without the new ReplicaSet: %v, want none", names(got))
	}
	sts := obj(t, `{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: db}, status: {updateRevision: db-2}}`)
	spods := []corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Name: "db-0", Labels: map[string]string{appsv1.ControllerRevisionHashLabelKey: "db-2"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "db-1", Labels: map[string]string{appsv1.ControllerRevisionHashLabelKey: "db-1"}}},
	}
	if got := CurrentPods(sts, nil, spods); len(got) != 1 || got[0].Name != "db-0" {
		t.Errorf("current pods of the statefulset: %v, want [db-0]", names(got))
	}
}

func names(pods []corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestWorse(t *testing.T) {
	if !Worse(Degraded, Progressing) || !Worse(Progressing, Healthy) || Worse(Healthy, Suspended) {
		t.Error("severity order broken")
	}
}
