package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/vcp-dev/vcp/e2e/framework"
	"github.com/vcp-dev/vcp/hack/localcluster"
)

// TestSuperCluster starts the local super cluster with two node pools and proves that it
// behaves like a real cluster: pods are scheduled onto the requested pool's KWOK nodes
// and reported Running, Jobs complete, pods are deleted for real, the sandbox
// RuntimeClasses exist, both authenticators work, and a stop leaves nothing behind.
func TestSuperCluster(t *testing.T) {
	pools := []localcluster.NodePool{
		{Name: "shared", Nodes: 2},
		{Name: "dedicated-a", Nodes: 2, Dedicated: true, Labels: map[string]string{"topology.kubernetes.io/zone": "zone-a"}},
	}
	cluster := framework.StartCluster(t, localcluster.Config{NodePools: pools})
	superClient := cluster.SuperClient
	ctx := t.Context()

	t.Run("node pools", func(t *testing.T) {
		for _, pool := range pools {
			nodes, err := superClient.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: localcluster.NodePoolLabel + "=" + pool.Name})
			if err != nil {
				t.Fatal(err)
			}
			if len(nodes.Items) != pool.Nodes {
				t.Fatalf("pool %s has %d nodes, want %d", pool.Name, len(nodes.Items), pool.Nodes)
			}
			for _, n := range nodes.Items {
				if !localcluster.NodeReady(&n) {
					t.Errorf("node %s is not Ready", n.Name)
				}
				tainted := false
				for _, taint := range n.Spec.Taints {
					tainted = tainted || taint == localcluster.PoolTaint(pool.Name)
				}
				if tainted != pool.Dedicated {
					t.Errorf("node %s: pool taint present = %v, want %v", n.Name, tainted, pool.Dedicated)
				}
				for k, v := range pool.Labels {
					if n.Labels[k] != v {
						t.Errorf("node %s: label %s = %q, want %q", n.Name, k, n.Labels[k], v)
					}
				}
			}
		}
	})

	t.Run("runtime classes", func(t *testing.T) {
		for name, handler := range map[string]string{"gvisor": "runsc", "kata": "kata"} {
			rc, err := superClient.NodeV1().RuntimeClasses().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatalf("RuntimeClass %s: %v", name, err)
			}
			if rc.Handler != handler {
				t.Errorf("RuntimeClass %s handler = %q, want %q", name, rc.Handler, handler)
			}
		}
	})

	t.Run("deployment lands Running on the requested pool", func(t *testing.T) {
		dedicated := deployment("on-dedicated", 3, map[string]string{localcluster.NodePoolLabel: "dedicated-a"},
			[]corev1.Toleration{{Key: localcluster.NodePoolLabel, Operator: corev1.TolerationOpEqual, Value: "dedicated-a", Effect: corev1.TaintEffectNoSchedule}})
		dedicated.Spec.Template.Spec.RuntimeClassName = ptr.To("gvisor")
		// Without the toleration, pods must stay off the dedicated pool's tainted nodes.
		anywhere := deployment("anywhere", 4, nil, nil)
		for _, d := range []*appsv1.Deployment{dedicated, anywhere} {
			if _, err := superClient.AppsV1().Deployments("default").Create(ctx, d, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		expectRunningOnPool(t, superClient, "on-dedicated", 3, "dedicated-a")
		expectRunningOnPool(t, superClient, "anywhere", 4, "shared")
	})

	t.Run("pods are deleted for real", func(t *testing.T) {
		scale, err := superClient.AppsV1().Deployments("default").GetScale(ctx, "anywhere", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		scale.Spec.Replicas = 0
		if _, err := superClient.AppsV1().Deployments("default").UpdateScale(ctx, "anywhere", scale, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, time.Minute, "pods of deployment anywhere to be gone", func(ctx context.Context) (bool, error) {
			pods, err := superClient.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=anywhere"})
			if err != nil {
				return false, err
			}
			return len(pods.Items) == 0, fmt.Errorf("%d pods left", len(pods.Items))
		})
	})

	t.Run("jobs complete", func(t *testing.T) {
		job := &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: "once"},
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers:    []corev1.Container{{Name: "main", Image: "busybox"}},
			}}},
		}
		if _, err := superClient.BatchV1().Jobs("default").Create(ctx, job, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, time.Minute, "job once to succeed", func(ctx context.Context) (bool, error) {
			got, err := superClient.BatchV1().Jobs("default").Get(ctx, "once", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			return got.Status.Succeeded == 1, fmt.Errorf("job status %+v", got.Status)
		})
	})

	t.Run("token authentication", func(t *testing.T) {
		token, err := os.ReadFile(cluster.AdminTokenFile)
		if err != nil {
			t.Fatal(err)
		}
		expectUser(t, cluster.Config, string(token), "vcp-admin-token")

		// Service-account tokens are issued by the API server and verified by it.
		var sa *corev1.ServiceAccount
		framework.Eventually(t, 30*time.Second, "the default ServiceAccount (made by kube-controller-manager)", func(ctx context.Context) (bool, error) {
			sa, err = superClient.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
			return err == nil, err
		})
		tr, err := superClient.CoreV1().ServiceAccounts("default").CreateToken(ctx, sa.Name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		expectUser(t, cluster.Config, tr.Status.Token, "system:serviceaccount:default:default")
		expectUser(t, cluster.Config, "not-a-token", "")
	})

	t.Run("stop leaves no process and no port behind", func(t *testing.T) {
		stopCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := cluster.Stop(stopCtx); err != nil {
			t.Fatal(err)
		}
		for _, p := range cluster.Processes {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", p.PID)); err == nil && p.Alive() {
				t.Errorf("%s (pid %d) still runs", p.Name, p.PID)
			}
		}
		if busy := localcluster.PortsInUse(cluster.Ports()); len(busy) > 0 {
			t.Errorf("ports still in use after stop: %v", busy)
		}
	})
}

func deployment(name string, replicas int32, nodeSelector map[string]string, tolerations []corev1.Toleration) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector: nodeSelector,
					Tolerations:  tolerations,
					Containers:   []corev1.Container{{Name: "web", Image: "nginx"}},
				},
			},
		},
	}
}

// expectRunningOnPool waits until the deployment's pods are all Running and checks that
// every one is on a node of pool.
func expectRunningOnPool(t *testing.T, superClient kubernetes.Interface, app string, want int, pool string) {
	t.Helper()
	var pods *corev1.PodList
	framework.Eventually(t, 2*time.Minute, fmt.Sprintf("%d Running pods of %s", want, app), func(ctx context.Context) (bool, error) {
		var err error
		pods, err = superClient.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
		if err != nil {
			return false, err
		}
		running := 0
		var phases []string
		for _, p := range pods.Items {
			phases = append(phases, p.Name+"="+string(p.Status.Phase))
			if p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" {
				running++
			}
		}
		return running == want && len(pods.Items) == want, fmt.Errorf("pods: %s", strings.Join(phases, ", "))
	})
	for _, p := range pods.Items {
		node, err := superClient.CoreV1().Nodes().Get(t.Context(), p.Spec.NodeName, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("pod %s: node %q: %v", p.Name, p.Spec.NodeName, err)
		}
		if got := node.Labels[localcluster.NodePoolLabel]; got != pool {
			t.Errorf("pod %s runs on node %s of pool %q, want pool %q", p.Name, node.Name, got, pool)
		}
	}
}

// expectUser checks who the API server takes a bearer token for; want "" means the token
// must be refused.
func expectUser(t *testing.T, base *rest.Config, token, want string) {
	t.Helper()
	cfg := rest.AnonymousClientConfig(base)
	cfg.BearerToken = token
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	review, err := client.AuthenticationV1().SelfSubjectReviews().Create(t.Context(), &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if want == "" {
		if err == nil || !strings.Contains(err.Error(), "Unauthorized") {
			t.Errorf("bad token: err = %v, want Unauthorized", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("token for %s refused: %v", want, err)
	}
	if got := review.Status.UserInfo.Username; got != want {
		t.Errorf("token authenticates as %q, want %q", got, want)
	}
}
