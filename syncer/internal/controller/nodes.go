package controller

import (
	"context"
	"errors"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
)

// AnnotationVirtualNode marks a tenant Node the syncer made to mirror a super node.
const AnnotationVirtualNode = "tenancy.vcp.dev/virtual-node"

// virtualNode is the tenant's view of a super node its pods run on: same name, labels,
// capacity, addresses and Ready condition. The super node's taints stay in the super
// cluster, where the platform adds the tolerations; in the tenant they would only keep
// the tenant's DaemonSets off the node.
func virtualNode(superNode *corev1.Node) *corev1.Node {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        superNode.Name,
			Labels:      maps.Clone(superNode.Labels),
			Annotations: map[string]string{AnnotationVirtualNode: "true"},
		},
		Status: corev1.NodeStatus{
			Capacity:    superNode.Status.Capacity.DeepCopy(),
			Allocatable: superNode.Status.Allocatable.DeepCopy(),
			Addresses:   append([]corev1.NodeAddress(nil), superNode.Status.Addresses...),
			NodeInfo:    superNode.Status.NodeInfo,
		},
	}
	for _, c := range superNode.Status.Conditions {
		if c.Type == corev1.NodeReady {
			node.Status.Conditions = append(node.Status.Conditions, c)
		}
	}
	return node
}

// ensureVirtualNode makes the tenant see the super node its pod was put on: without a
// Node of that name, the tenant's PodGC would delete the pod as an orphan.
func (s *Syncer) ensureVirtualNode(ctx context.Context, sess *session, name string) error {
	if sess.hasNode(name) {
		return nil
	}
	superNode, err := s.superNodes.Get(name)
	if err != nil {
		return fmt.Errorf("super node %s: %w", name, err)
	}
	want := virtualNode(superNode)
	created, err := sess.client.CoreV1().Nodes().Create(ctx, want, metav1.CreateOptions{})
	switch {
	case apierrors.IsAlreadyExists(err):
		return nil
	case err != nil:
		return fmt.Errorf("virtual node %s in tenant %s: %w", name, sess.key, err)
	}
	// Status is a subresource: set it after the Node exists.
	created.Status = want.Status
	updated, err := sess.client.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("virtual node %s status in tenant %s: %w", name, sess.key, err)
	}
	// The tenant API server taints a new Node not-ready (TaintNodesByCondition); a node
	// lifecycle controller would lift it once the node is Ready, and tenants run none.
	if len(updated.Spec.Taints) > 0 {
		updated.Spec.Taints = nil
		if _, err := sess.client.CoreV1().Nodes().Update(ctx, updated, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("virtual node %s taints in tenant %s: %w", name, sess.key, err)
		}
	}
	return nil
}

// syncPool gives the tenant a virtual node for every super node of its pool, so that its
// DaemonSets run a pod on each (the tenant's DaemonSet controller targets tenant Nodes).
// Tenants without a pool see only the nodes their pods run on.
func (s *Syncer) syncPool(ctx context.Context, sess *session) error {
	pool := sess.currentIsolation().NodePool
	if pool == "" {
		return nil
	}
	nodes, err := s.superNodes.List(labels.SelectorFromSet(labels.Set{tenancyv1alpha1.NodePoolLabel: pool}))
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range nodes {
		errs = append(errs, s.ensureVirtualNode(ctx, sess, n.Name))
	}
	return errors.Join(errs...)
}
