package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/vcp-dev/vcp/e2e/framework"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// tenantDNSSpec: a tenant that runs its own DNS (a kube-system/kube-dns Service, as
// CoreDNS is installed) gets its pods pointed at it, searching their tenant namespace;
// pods that ask for the node's DNS get the super cluster's (VPC mode); without the
// Service, pods keep the super cluster's DNS.
func tenantDNSSpec(t *testing.T, p *provisioning, tenant kubernetes.Interface, key string) {
	ctx := t.Context()
	superPods := p.cluster.SuperClient.CoreV1().Pods(naming.SuperNamespace(key, "shop"))
	if _, err := tenant.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dnsSvc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Labels: map[string]string{"k8s-app": "kube-dns"}}, Spec: corev1.ServiceSpec{
		Selector: map[string]string{"k8s-app": "kube-dns"},
		Ports: []corev1.ServicePort{
			{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
			{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
		},
	}}
	if _, err := tenant.CoreV1().Services("kube-system").Create(ctx, dnsSvc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	superDNS := p.cluster.SuperClient.CoreV1().Services(naming.SuperNamespace(key, "kube-system"))
	var dnsIP string
	framework.Eventually(t, 30*time.Second, "tenant kube-dns Service with its super copy's cluster IP", func(ctx context.Context) (bool, error) {
		superSvc, err := superDNS.Get(ctx, "kube-dns", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		tenantSvc, err := tenant.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		dnsIP = superSvc.Spec.ClusterIP
		return dnsIP != "" && tenantSvc.Spec.ClusterIP == dnsIP, fmt.Errorf("tenant %s, super %s", tenantSvc.Spec.ClusterIP, dnsIP)
	})

	createPod := func(name string, policy corev1.DNSPolicy, config *corev1.PodDNSConfig) *corev1.Pod {
		t.Helper()
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{
			DNSPolicy: policy, DNSConfig: config, Containers: []corev1.Container{{Name: "c", Image: "nginx"}},
		}}
		if _, err := tenant.CoreV1().Pods("shop").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		var superPod *corev1.Pod
		framework.Eventually(t, time.Minute, "super pod "+name, func(ctx context.Context) (bool, error) {
			var err error
			superPod, err = superPods.Get(ctx, name, metav1.GetOptions{})
			return err == nil, err
		})
		return superPod
	}
	options := func(c *corev1.PodDNSConfig) map[string]string {
		out := map[string]string{}
		for _, o := range c.Options {
			out[o.Name] = ptr.Deref(o.Value, "")
		}
		return out
	}

	// ClusterFirst (the default) with a search and an option of the pod's own.
	client := createPod("client", "", &corev1.PodDNSConfig{Searches: []string{"corp.example"}, Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: ptr.To("2")}}})
	wantSearches := []string{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"}
	if c := client.Spec.DNSConfig; client.Spec.DNSPolicy != corev1.DNSNone || c == nil || !slices.Equal(c.Nameservers, []string{dnsIP}) ||
		!slices.Equal(c.Searches, wantSearches) || options(c)["ndots"] != "2" {
		t.Errorf("super pod client: dnsPolicy %q, dnsConfig %+v; want None, nameservers [%s], searches %v, ndots 2", client.Spec.DNSPolicy, c, dnsIP, wantSearches)
	}
	// The node's DNS, asked for (as a DNS server itself does), is the super cluster's in
	// VPC mode (the nodes' resolvers are out of the VPC's reach), never the tenant's.
	if host := createPod("host-dns", corev1.DNSDefault, nil); host.Spec.DNSPolicy != corev1.DNSClusterFirst || host.Spec.DNSConfig != nil {
		t.Errorf("super pod host-dns: dnsPolicy %q, dnsConfig %+v; want ClusterFirst (the super cluster's DNS) and no dnsConfig", host.Spec.DNSPolicy, host.Spec.DNSConfig)
	}
	// The tenant's pod is as the tenant wrote it, and runs.
	waitRunning(t, tenant, "shop", "", 2, 2*time.Minute)
	if tenantPod, err := tenant.CoreV1().Pods("shop").Get(ctx, "client", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	} else if tenantPod.Spec.DNSPolicy != corev1.DNSClusterFirst {
		t.Errorf("tenant pod client: dnsPolicy %q, want ClusterFirst as written", tenantPod.Spec.DNSPolicy)
	}

	// Without its DNS Service the tenant's new pods get the super cluster's DNS again.
	if err := tenant.CoreV1().Services("kube-system").Delete(ctx, "kube-dns", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "super kube-dns copy gone", func(ctx context.Context) (bool, error) {
		_, err := superDNS.Get(ctx, "kube-dns", metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	})
	// The syncer's cache may see the deletion a moment after the API does: a pod made
	// in that moment still gets the tenant's DNS, so look for one that does not.
	framework.Eventually(t, 30*time.Second, "a new pod with the super cluster's DNS", func(ctx context.Context) (bool, error) {
		name := fmt.Sprintf("after-%d", time.Now().UnixNano())
		after := createPod(name, corev1.DNSClusterFirst, nil)
		return after.Spec.DNSPolicy == corev1.DNSClusterFirst && after.Spec.DNSConfig == nil, fmt.Errorf("dnsPolicy %q, dnsConfig %+v", after.Spec.DNSPolicy, after.Spec.DNSConfig)
	})
	if err := tenant.CoreV1().Namespaces().Delete(ctx, "shop", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}
