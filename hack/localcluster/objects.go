package localcluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// RuntimeClasses are the sandbox runtimes every local super cluster offers, by name and
// handler. KWOK does not run containers, so the handlers are never invoked; the objects
// exist so that tenants can be bound to them exactly as in production.
var RuntimeClasses = map[string]string{
	"gvisor": "runsc",
	"kata":   "kata",
}

// PoolTaint is the taint of a dedicated node pool.
func PoolTaint(pool string) corev1.Taint {
	return corev1.Taint{Key: NodePoolLabel, Value: pool, Effect: corev1.TaintEffectNoSchedule}
}

// poolNodes returns the Node objects of a pool.
func poolNodes(p NodePool) []*corev1.Node {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(p.CPU),
		corev1.ResourceMemory: resource.MustParse(p.Memory),
		corev1.ResourcePods:   resource.MustParse(p.Pods),
	}
	taints := append([]corev1.Taint(nil), p.Taints...)
	if p.Dedicated {
		taints = append(taints, PoolTaint(p.Name))
	}
	nodes := make([]*corev1.Node, 0, p.Nodes)
	for i := range p.Nodes {
		name := nodeName(p.Name, i)
		labels := map[string]string{
			NodePoolLabel:            p.Name,
			"kubernetes.io/hostname": name,
			"kubernetes.io/os":       "linux",
			"kubernetes.io/arch":     "amd64",
			"type":                   "kwok",
		}
		for k, v := range p.Labels {
			labels[k] = v
		}
		nodes = append(nodes, &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Labels:      labels,
				Annotations: map[string]string{KwokNodeAnnotation: KwokNodeAnnotationValue, "node.alpha.kubernetes.io/ttl": "0"},
			},
			Spec:   corev1.NodeSpec{Taints: taints},
			Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
		})
	}
	return nodes
}

// bootstrapObjects creates the nodes of every pool and the sandbox RuntimeClasses. It is
// idempotent: objects left from an earlier run of the same state directory are kept.
func bootstrapObjects(ctx context.Context, superClient kubernetes.Interface, pools []NodePool) error {
	// KWOK keeps the kubelet version a node is created with; report the cluster's own.
	version, err := superClient.Discovery().ServerVersion()
	if err != nil {
		return fmt.Errorf("read the API server version: %w", err)
	}
	for name, handler := range RuntimeClasses {
		rc := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"vcp.dev/sandbox": "true"}}, Handler: handler}
		if _, err := superClient.NodeV1().RuntimeClasses().Create(ctx, rc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create RuntimeClass %s: %w", name, err)
		}
	}
	for _, p := range pools {
		for _, node := range poolNodes(p) {
			node.Status.NodeInfo.KubeletVersion = version.GitVersion
			if _, err := superClient.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("create node %s: %w", node.Name, err)
			}
		}
	}
	return nil
}

// waitNodesReady waits until KWOK reports every node of every pool Ready.
func (c *Cluster) waitNodesReady(ctx context.Context, superClient kubernetes.Interface, pools []NodePool) error {
	want := 0
	for _, p := range pools {
		want += p.Nodes
	}
	var notReady []string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, c.cfg.readyTimeout(), true, func(ctx context.Context) (bool, error) {
		notReady = notReady[:0]
		for _, p := range pools {
			for i := range p.Nodes {
				name := nodeName(p.Name, i)
				node, err := superClient.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
				if err != nil || !NodeReady(node) {
					notReady = append(notReady, name)
				}
			}
		}
		return len(notReady) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("%d of %d KWOK nodes not Ready (%s): %w; see %s", len(notReady), want, strings.Join(notReady, ", "), err, c.Dir+"/logs/kwok.log")
	}
	return nil
}

// NodeReady reports whether a node's Ready condition is True.
func NodeReady(node *corev1.Node) bool {
	for _, cond := range node.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// httpGetOK GETs url and succeeds on a 200 whose body contains want.
func httpGetOK(ctx context.Context, client *http.Client, url, want string) error {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// caHTTPClient trusts only the cluster CA.
func caHTTPClient(caFile string) (*http.Client, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificates in %s", caFile)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}, nil
}
