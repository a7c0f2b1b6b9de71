package e2e

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	discoveryclient "k8s.io/client-go/kubernetes/typed/discovery/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/e2e/framework"
	"github.com/vcp-dev/vcp/internal/promtext"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// TestSyncer runs tenants' Deployments on the super cluster through the syncer: pods
// become Running in the tenant on the super node KWOK runs them on, the super pods carry
// the tenant's isolation, scaling and deletion follow, and two tenants with the same
// namespace and object names never collide.
func TestSyncer(t *testing.T) {
	p := startProvisioning(t)
	ctx := t.Context()
	iso := tenancyv1alpha1.IsolationSpec{RuntimeClassName: "gvisor", NodePool: tenancyv1alpha1.NodePoolSpec{Name: "dedicated-a"}}
	tenants := map[string]kubernetes.Interface{}
	tenantConfigs := map[string]*rest.Config{}
	for _, name := range []string{"s1", "s2"} {
		p.create(&tenancyv1alpha1.VirtualCluster{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: tenancyv1alpha1.VirtualClusterSpec{Isolation: iso}})
	}
	keys := map[string]string{}
	for _, name := range []string{"s1", "s2"} {
		vc := p.waitPhase(name, tenancyv1alpha1.PhaseRunning, time.Minute)
		cfg, err := clientcmd.BuildConfigFromFlags("", p.kubeconfig(vc))
		if err != nil {
			t.Fatal(err)
		}
		tenants[name], keys[name], tenantConfigs[name] = kubernetes.NewForConfigOrDie(cfg), vc.TenantKey(), cfg
	}

	deploy := func(tenant kubernetes.Interface, replicas int32) {
		t.Helper()
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To(replicas),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}},
				},
			},
		}
		if _, err := tenant.AppsV1().Deployments("default").Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	running := func(tenant kubernetes.Interface, want int) []corev1.Pod {
		t.Helper()
		return waitRunning(t, tenant, "default", "app=web", want, 2*time.Minute)
	}
	superPods := func(tenant string) []corev1.Pod {
		t.Helper()
		list, err := p.cluster.SuperClient.CoreV1().Pods(naming.SuperNamespace(keys[tenant], "default")).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return list.Items
	}

	t.Run("a Deployment's pods run in the super cluster and are Running in the tenant", func(t *testing.T) {
		deploy(tenants["s1"], 2)
		pods := running(tenants["s1"], 2)
		nodes, err := p.cluster.SuperClient.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: tenancyv1alpha1.NodePoolLabel + "=dedicated-a"})
		if err != nil {
			t.Fatal(err)
		}
		inPool := map[string]bool{}
		for _, n := range nodes.Items {
			inPool[n.Name] = true
		}
		for _, pod := range pods {
			if !inPool[pod.Spec.NodeName] {
				t.Errorf("tenant pod %s is on node %q, not a node of pool dedicated-a", pod.Name, pod.Spec.NodeName)
			}
			node, err := tenants["s1"].CoreV1().Nodes().Get(ctx, pod.Spec.NodeName, metav1.GetOptions{})
			if err != nil {
				t.Errorf("the tenant has no virtual node %s for its pod %s: %v", pod.Spec.NodeName, pod.Name, err)
				continue
			}
			if node.Labels[tenancyv1alpha1.NodePoolLabel] != "dedicated-a" || len(node.Spec.Taints) != 0 || !nodeReady(node) {
				t.Errorf("virtual node %s: labels %v taints %v ready %v", node.Name, node.Labels, node.Spec.Taints, nodeReady(node))
			}
		}
		for _, sp := range superPods("s1") {
			if sp.Spec.RuntimeClassName == nil || *sp.Spec.RuntimeClassName != "gvisor" {
				t.Errorf("super pod %s runtimeClassName %v, want gvisor", sp.Name, sp.Spec.RuntimeClassName)
			}
			if sp.Spec.NodeSelector[tenancyv1alpha1.NodePoolLabel] != "dedicated-a" || sp.Labels["app"] != "web" {
				t.Errorf("super pod %s: nodeSelector %v labels %v", sp.Name, sp.Spec.NodeSelector, sp.Labels)
			}
			if id, ok := naming.IdentityOf(&sp); !ok || id.Tenant != keys["s1"] || id.Namespace != "default" {
				t.Errorf("super pod %s identity %+v", sp.Name, id)
			}
		}
	})

	t.Run("metrics report queue depth, syncs and both latencies", func(t *testing.T) {
		metrics := syncerMetrics(t, p)
		for _, name := range []string{"vcp_syncer_pod_create_latency_seconds", "vcp_syncer_pod_running_latency_seconds"} {
			count, sum := metrics[name+"_count"], metrics[name+"_sum"]
			if count < 2 {
				t.Errorf("%s_count = %v, want at least the 2 pods of web", name, count)
				continue
			}
			t.Logf("%s: %v observations, mean %.1f ms", name, count, 1000*sum/count)
		}
		if _, ok := metrics[`vcp_syncer_queue_depth{tenant="`+keys["s1"]+`"}`]; !ok {
			t.Errorf("no queue depth for tenant %s", keys["s1"])
		}
		if metrics[`vcp_syncer_syncs_total{kind="Pod",result="ok",tenant="`+keys["s1"]+`"}`] == 0 {
			t.Error("no successful Pod syncs counted for s1")
		}
	})

	t.Run("the same names in another tenant never collide", func(t *testing.T) {
		deploy(tenants["s2"], 1)
		running(tenants["s2"], 1)
		if n1, n2 := len(superPods("s1")), len(superPods("s2")); n1 != 2 || n2 != 1 {
			t.Errorf("super pods: s1 %d (want 2), s2 %d (want 1)", n1, n2)
		}
	})

	t.Run("config flows down; drift made by hand is undone", func(t *testing.T) {
		tenantCMs := tenants["s1"].CoreV1().ConfigMaps("default")
		superNS := naming.SuperNamespace(keys["s1"], "default")
		superCMs := p.cluster.SuperClient.CoreV1().ConfigMaps(superNS)
		superData := func(want string) {
			t.Helper()
			framework.Eventually(t, 30*time.Second, "super ConfigMap cfg with k="+want, func(ctx context.Context) (bool, error) {
				cm, err := superCMs.Get(ctx, "cfg", metav1.GetOptions{})
				if err != nil {
					return false, err
				}
				return cm.Data["k"] == want && naming.Owns(keys["s1"], cm), fmt.Errorf("data %v labels %v", cm.Data, cm.Labels)
			})
		}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg"}, Data: map[string]string{"k": "v1"}}
		if _, err := tenantCMs.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		superData("v1")
		cm.Data["k"] = "v2"
		if _, err := tenantCMs.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		superData("v2")
		tampered, err := superCMs.Get(ctx, "cfg", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tampered.Data["k"] = "tampered"
		if _, err := superCMs.Update(ctx, tampered, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		superData("v2")
		if err := superCMs.Delete(ctx, "cfg", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		superData("v2")

		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds"}, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"password": []byte("s3cret")}}
		if _, err := tenants["s1"].CoreV1().Secrets("default").Create(ctx, secret, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, 30*time.Second, "super Secret creds", func(ctx context.Context) (bool, error) {
			s, err := p.cluster.SuperClient.CoreV1().Secrets(superNS).Get(ctx, "creds", metav1.GetOptions{})
			return err == nil && string(s.Data["password"]) == "s3cret" && s.Type == corev1.SecretTypeOpaque, err
		})

		if err := tenantCMs.Delete(ctx, "cfg", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, 30*time.Second, "super ConfigMap cfg gone after the tenant's is deleted", func(ctx context.Context) (bool, error) {
			_, err := superCMs.Get(ctx, "cfg", metav1.GetOptions{})
			return apierrors.IsNotFound(err), err
		})

		// A super pod deleted by hand comes back; the tenant pod stays Running.
		victim := superPods("s1")[0]
		if err := p.cluster.SuperClient.CoreV1().Pods(victim.Namespace).Delete(ctx, victim.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, time.Minute, "super pod "+victim.Name+" re-created", func(ctx context.Context) (bool, error) {
			got, err := p.cluster.SuperClient.CoreV1().Pods(victim.Namespace).Get(ctx, victim.Name, metav1.GetOptions{})
			return err == nil && got.UID != victim.UID && got.Status.Phase == corev1.PodRunning, err
		})
		running(tenants["s1"], 2)
	})

	t.Run("Services get their super copy's cluster IP; selector-less Endpoints and tenants' EndpointSlices flow down", func(t *testing.T) {
		superServices := func(tenant string) func(ctx context.Context, name string) (*corev1.Service, error) {
			return func(ctx context.Context, name string) (*corev1.Service, error) {
				return p.cluster.SuperClient.CoreV1().Services(naming.SuperNamespace(keys[tenant], "default")).Get(ctx, name, metav1.GetOptions{})
			}
		}
		// agreed waits until the tenant's Service and its super copy have the same cluster IP.
		agreed := func(tenant, name string) string {
			t.Helper()
			var ip string
			framework.Eventually(t, 30*time.Second, "tenant "+tenant+" Service "+name+" with its super copy's cluster IP", func(ctx context.Context) (bool, error) {
				superSvc, err := superServices(tenant)(ctx, name)
				if err != nil {
					return false, err
				}
				tenantSvc, err := tenants[tenant].CoreV1().Services("default").Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					return false, err
				}
				ip = superSvc.Spec.ClusterIP
				return ip != "" && tenantSvc.Spec.ClusterIP == ip && naming.Owns(keys[tenant], superSvc), fmt.Errorf("tenant %s, super %s", tenantSvc.Spec.ClusterIP, ip)
			})
			return ip
		}
		web := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
		if _, err := tenants["s1"].CoreV1().Services("default").Create(ctx, web, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		webIP := agreed("s1", "web")
		// s2 asks for exactly that IP: its own API allows it, the super cluster cannot, and
		// s2's Service ends with the IP the super cluster gave its copy.
		clash := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "clash"}, Spec: corev1.ServiceSpec{ClusterIP: webIP, Ports: []corev1.ServicePort{{Port: 80}}}}
		if _, err := tenants["s2"].CoreV1().Services("default").Create(ctx, clash, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if clashIP := agreed("s2", "clash"); clashIP == webIP {
			t.Errorf("two tenants' Services share the super cluster IP %s", webIP)
		}

		// A port changed by hand in the super cluster is put back.
		superWeb, err := superServices("s1")(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		superWeb.Spec.Ports[0].Port = 8080
		if _, err := p.cluster.SuperClient.CoreV1().Services(superWeb.Namespace).Update(ctx, superWeb, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, 30*time.Second, "super Service web back on port 80", func(ctx context.Context) (bool, error) {
			got, err := superServices("s1")(ctx, "web")
			return err == nil && got.Spec.Ports[0].Port == 80 && got.Spec.ClusterIP == webIP, err
		})

		// A Service without selector: its Endpoints, kept by the tenant, are copied down.
		db := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 5432}}}}
		if _, err := tenants["s1"].CoreV1().Services("default").Create(ctx, db, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eps := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Subsets: []corev1.EndpointSubset{{ //nolint:staticcheck // what tenants write for selector-less Services
			Addresses: []corev1.EndpointAddress{{IP: "192.0.2.10"}}, Ports: []corev1.EndpointPort{{Port: 5432}}}}}
		if _, err := tenants["s1"].CoreV1().Endpoints("default").Create(ctx, eps, metav1.CreateOptions{}); err != nil { //nolint:staticcheck
			t.Fatal(err)
		}
		agreed("s1", "db")
		framework.Eventually(t, 30*time.Second, "super Endpoints db with 192.0.2.10", func(ctx context.Context) (bool, error) {
			got, err := p.cluster.SuperClient.CoreV1().Endpoints(naming.SuperNamespace(keys["s1"], "default")).Get(ctx, "db", metav1.GetOptions{}) //nolint:staticcheck
			return err == nil && len(got.Subsets) == 1 && got.Subsets[0].Addresses[0].IP == "192.0.2.10" && naming.Owns(keys["s1"], got), err
		})
		// Once db has a selector its Endpoints are each cluster's controller's: the copy goes.
		err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			got, err := tenants["s1"].CoreV1().Services("default").Get(ctx, "db", metav1.GetOptions{})
			if err != nil {
				return err
			}
			got.Spec.Selector = map[string]string{"app": "db"}
			_, err = tenants["s1"].CoreV1().Services("default").Update(ctx, got, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, 30*time.Second, "super Endpoints db no longer the tenant's copy", func(ctx context.Context) (bool, error) {
			got, err := p.cluster.SuperClient.CoreV1().Endpoints(naming.SuperNamespace(keys["s1"], "default")).Get(ctx, "db", metav1.GetOptions{}) //nolint:staticcheck
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			return err == nil && got.Annotations[naming.AnnotationUID] == "", fmt.Errorf("annotations %v (%v)", got.GetAnnotations(), err)
		})

		// An EndpointSlice the tenant keeps itself is copied down (its pod references
		// pointing at the super pods), kept in line with the tenant's, restored when
		// edited by hand, and removed once the tenant's belongs to an endpoint controller;
		// the slices the tenant's own controllers mirror from db's Endpoints are not.
		cache := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "cache"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 6379}}}}
		if _, err := tenants["s1"].CoreV1().Services("default").Create(ctx, cache, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		slice := &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: "cache-1", Labels: map[string]string{discoveryv1.LabelServiceName: "cache", discoveryv1.LabelManagedBy: "cache-operator.example.com"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"192.0.2.20"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
				TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "cache-0", UID: "6f1c2d9e-0000-4000-8000-000000000001"}}},
			Ports: []discoveryv1.EndpointPort{{Port: ptr.To[int32](6379)}},
		}
		tenantSlices := tenants["s1"].DiscoveryV1().EndpointSlices("default")
		if _, err := tenantSlices.Create(ctx, slice, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		superSlices := p.cluster.SuperClient.DiscoveryV1().EndpointSlices(naming.SuperNamespace(keys["s1"], "default"))
		superSliceWith := func(what, ip string) {
			t.Helper()
			framework.Eventually(t, 30*time.Second, "super EndpointSlice cache-1 "+what, func(ctx context.Context) (bool, error) {
				got, err := superSlices.Get(ctx, "cache-1", metav1.GetOptions{})
				if err != nil {
					return false, err
				}
				ep := got.Endpoints[0]
				return len(got.Endpoints) == 1 && ep.Addresses[0] == ip && ep.TargetRef.Namespace == got.Namespace && ep.TargetRef.UID == "" &&
						got.Labels[discoveryv1.LabelServiceName] == "cache" && got.Labels[discoveryv1.LabelManagedBy] == "syncer.tenancy.vcp.dev" && naming.Owns(keys["s1"], got),
					fmt.Errorf("endpoints %+v, labels %v", got.Endpoints, got.Labels)
			})
		}
		// edit changes slice cache-1 through c, retrying on conflict.
		edit := func(c discoveryclient.EndpointSliceInterface, change func(*discoveryv1.EndpointSlice)) {
			t.Helper()
			err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
				got, err := c.Get(ctx, "cache-1", metav1.GetOptions{})
				if err != nil {
					return err
				}
				change(got)
				_, err = c.Update(ctx, got, metav1.UpdateOptions{})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		superSliceWith("with 192.0.2.20", "192.0.2.20")
		edit(tenantSlices, func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = []string{"192.0.2.21"} })
		superSliceWith("with the tenant's new address 192.0.2.21", "192.0.2.21")
		edit(superSlices, func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = []string{"198.51.100.1"} })
		superSliceWith("with 192.0.2.21 again after an edit by hand", "192.0.2.21")
		framework.Eventually(t, 30*time.Second, "tenant db's mirrored EndpointSlice", func(ctx context.Context) (bool, error) {
			mirrored, err := tenantSlices.List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=db"})
			return err == nil && len(mirrored.Items) > 0, err
		})
		copies, err := superSlices.List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelManagedBy + "=syncer.tenancy.vcp.dev"})
		if err != nil {
			t.Fatal(err)
		}
		if len(copies.Items) != 1 {
			t.Errorf("the syncer made %d super EndpointSlices, want 1 (cache-1; not the tenant's mirrored ones)", len(copies.Items))
		}
		edit(tenantSlices, func(s *discoveryv1.EndpointSlice) {
			s.Labels[discoveryv1.LabelManagedBy] = "endpointslice-controller.k8s.io"
		})
		framework.Eventually(t, 30*time.Second, "super EndpointSlice cache-1 gone once an endpoint controller's", func(ctx context.Context) (bool, error) {
			_, err := superSlices.Get(ctx, "cache-1", metav1.GetOptions{})
			return apierrors.IsNotFound(err), err
		})

		// An Ingress in front of web is copied down as is.
		pathType := networkingv1.PathTypePrefix
		ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
			Host: "web.example.com", IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: &pathType, Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}},
			}}}},
		}}}}
		if _, err := tenants["s1"].NetworkingV1().Ingresses("default").Create(ctx, ing, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, 30*time.Second, "super Ingress web for web.example.com", func(ctx context.Context) (bool, error) {
			got, err := p.cluster.SuperClient.NetworkingV1().Ingresses(naming.SuperNamespace(keys["s1"], "default")).Get(ctx, "web", metav1.GetOptions{})
			return err == nil && len(got.Spec.Rules) == 1 && got.Spec.Rules[0].Host == "web.example.com" && naming.Owns(keys["s1"], got), err
		})

		if err := tenants["s2"].CoreV1().Services("default").Delete(ctx, "clash", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, 30*time.Second, "super Service clash gone after the tenant's", func(ctx context.Context) (bool, error) {
			_, err := superServices("s2")(ctx, "clash")
			return apierrors.IsNotFound(err), err
		})
	})

	t.Run("every super namespace carries the tenant's VPC policy, quota and limit range, kept as the spec says", func(t *testing.T) {
		superNS := naming.SuperNamespace(keys["s1"], "default")
		netpols := p.cluster.SuperClient.NetworkingV1().NetworkPolicies(superNS)
		framework.Eventually(t, 30*time.Second, "VPC policy in "+superNS, func(ctx context.Context) (bool, error) {
			np, err := netpols.Get(ctx, "vcp-vpc", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			if len(np.Spec.PolicyTypes) != 2 || len(np.Spec.Ingress) != 1 {
				return false, fmt.Errorf("policy %+v", np.Spec)
			}
			intra, err := netpols.Get(ctx, "vcp-vpc-ingress", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			return len(intra.Spec.Ingress) == 1, fmt.Errorf("intra-tenant policy %+v", intra.Spec)
		})
		// The platform admin lets s2 reach s1 and sets a quota and limits.
		vc := &tenancyv1alpha1.VirtualCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "s1"}}
		patch := []byte(`{"spec":{"isolation":{"network":{"allowedTenants":["s2"]},"resourceQuota":{"hard":{"pods":"20"}},"limitRange":{"default":{"memory":"256Mi"}}}}}`)
		if err := p.admin.Patch(ctx, vc, client.RawPatch(types.MergePatchType, patch)); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, 30*time.Second, "quota, limit range, reach label and ingress from s2 in "+superNS, func(ctx context.Context) (bool, error) {
			quota, err := p.cluster.SuperClient.CoreV1().ResourceQuotas(superNS).Get(ctx, "vcp-quota", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			limits, err := p.cluster.SuperClient.CoreV1().LimitRanges(superNS).Get(ctx, "vcp-limits", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			ns, err := p.cluster.SuperClient.CoreV1().Namespaces().Get(ctx, superNS, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			np, err := netpols.Get(ctx, "vcp-vpc-ingress", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			pods := quota.Spec.Hard[corev1.ResourcePods]
			mem := limits.Spec.Limits[0].Default[corev1.ResourceMemory]
			return pods.String() == "20" && mem.String() == "256Mi" && ns.Labels["reach.tenancy.vcp.dev/s2"] == "true" && len(np.Spec.Ingress) == 2,
				fmt.Errorf("quota pods %s, default memory %s, labels %v, %d ingress rules", pods.String(), mem.String(), ns.Labels, len(np.Spec.Ingress))
		})
		// Deleted by hand: put back.
		if err := netpols.Delete(ctx, "vcp-vpc", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, 30*time.Second, "VPC policy back in "+superNS, func(ctx context.Context) (bool, error) {
			_, err := netpols.Get(ctx, "vcp-vpc", metav1.GetOptions{})
			return err == nil, err
		})
		// Taken out of the spec: removed.
		patch = []byte(`{"spec":{"isolation":{"network":{"allowedTenants":null},"resourceQuota":null,"limitRange":null}}}`)
		if err := p.admin.Patch(ctx, vc, client.RawPatch(types.MergePatchType, patch)); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, 30*time.Second, "quota, limit range and reach label gone from "+superNS, func(ctx context.Context) (bool, error) {
			_, qErr := p.cluster.SuperClient.CoreV1().ResourceQuotas(superNS).Get(ctx, "vcp-quota", metav1.GetOptions{})
			_, lErr := p.cluster.SuperClient.CoreV1().LimitRanges(superNS).Get(ctx, "vcp-limits", metav1.GetOptions{})
			ns, err := p.cluster.SuperClient.CoreV1().Namespaces().Get(ctx, superNS, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			_, reach := ns.Labels["reach.tenancy.vcp.dev/s2"]
			return apierrors.IsNotFound(qErr) && apierrors.IsNotFound(lErr) && !reach, fmt.Errorf("quota: %v, limits: %v, labels %v", qErr, lErr, ns.Labels)
		})
	})

	t.Run("a pod's projected service-account token is a token of the tenant's account, with the tenant's CA", func(t *testing.T) {
		tokenSpec(t, p, tenants["s1"], tenantConfigs["s1"], keys["s1"])
	})

	t.Run("a tenant running its own DNS gets its pods pointed at it, searching their tenant namespace", func(t *testing.T) {
		tenantDNSSpec(t, p, tenants["s2"], keys["s2"])
	})

	t.Run("a tenant's NetworkPolicies select only its own namespaces and never replace the VPC policy", func(t *testing.T) {
		networkPolicySpec(t, p, tenants, keys)
	})

	t.Run("a tenant's NetworkPolicy restricts within the VPC: the pods it selects leave the intra-tenant VPC policy", func(t *testing.T) {
		networkPolicyMarkerSpec(t, p, tenants["s1"], keys["s1"])
	})

	t.Run("the tenant sees the RuntimeClass it is forced onto, read-only", func(t *testing.T) {
		runtimeClasses := tenants["s1"].NodeV1().RuntimeClasses()
		framework.Eventually(t, 30*time.Second, "RuntimeClass gvisor mirrored into tenant s1", func(ctx context.Context) (bool, error) {
			rc, err := runtimeClasses.Get(ctx, "gvisor", metav1.GetOptions{})
			return err == nil && rc.Annotations["tenancy.vcp.dev/mirrored"] == "true", err
		})
		// Deleted by the tenant: back within a minute (the patrol compares classes every minute).
		if err := runtimeClasses.Delete(ctx, "gvisor", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, 90*time.Second, "RuntimeClass gvisor back in tenant s1", func(ctx context.Context) (bool, error) {
			_, err := runtimeClasses.Get(ctx, "gvisor", metav1.GetOptions{})
			return err == nil, err
		})
	})

	t.Run("a claim is bound in the super cluster and in the tenant, with the volume mirrored", func(t *testing.T) {
		superPV := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-e2e"}, Spec: corev1.PersistentVolumeSpec{
			StorageClassName: "manual", AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/pv-e2e"}},
		}}
		if _, err := p.cluster.SuperClient.CoreV1().PersistentVolumes().Create(ctx, superPV, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data"}, Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: ptr.To("manual"), AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		}}
		claims := tenants["s1"].CoreV1().PersistentVolumeClaims("default")
		created, err := claims.Create(ctx, claim, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, time.Minute, "tenant claim data Bound to pv-e2e, with the volume mirrored", func(ctx context.Context) (bool, error) {
			got, err := claims.Get(ctx, "data", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			pv, err := tenants["s1"].CoreV1().PersistentVolumes().Get(ctx, "pv-e2e", metav1.GetOptions{})
			if err != nil {
				return false, fmt.Errorf("claim %s/%s; tenant volume: %w", got.Status.Phase, got.Spec.VolumeName, err)
			}
			return got.Status.Phase == corev1.ClaimBound && got.Spec.VolumeName == "pv-e2e" && pv.Spec.ClaimRef != nil && pv.Spec.ClaimRef.UID == created.UID,
				fmt.Errorf("claim %s/%s", got.Status.Phase, got.Spec.VolumeName)
		})
		if err := claims.Delete(ctx, "data", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, time.Minute, "claim, its super copy and the tenant's volume gone", func(ctx context.Context) (bool, error) {
			_, cErr := claims.Get(ctx, "data", metav1.GetOptions{})
			_, sErr := p.cluster.SuperClient.CoreV1().PersistentVolumeClaims(naming.SuperNamespace(keys["s1"], "default")).Get(ctx, "data", metav1.GetOptions{})
			_, vErr := tenants["s1"].CoreV1().PersistentVolumes().Get(ctx, "pv-e2e", metav1.GetOptions{})
			return apierrors.IsNotFound(cErr) && apierrors.IsNotFound(sErr) && apierrors.IsNotFound(vErr), fmt.Errorf("claim: %v, super claim: %v, volume: %v", cErr, sErr, vErr)
		})
	})

	t.Run("claims clone claims of their namespace, snapshots are refused, ephemeral volumes are the tenant's claims", func(t *testing.T) {
		claimSourcesSpec(t, p, tenants["s1"], keys["s1"])
	})

	t.Run("the super scheduler's events about a pod reach the tenant", func(t *testing.T) {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "nowhere"}, Spec: corev1.PodSpec{
			NodeSelector: map[string]string{"zone": "does-not-exist"},
			Containers:   []corev1.Container{{Name: "c", Image: "registry.example.com/app:1"}},
		}}
		created, err := tenants["s1"].CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, time.Minute, "a FailedScheduling event about pod nowhere in tenant s1", func(ctx context.Context) (bool, error) {
			events, err := tenants["s1"].CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=nowhere"})
			if err != nil {
				return false, err
			}
			for _, e := range events.Items {
				if e.Reason == "FailedScheduling" && e.InvolvedObject.UID == created.UID && e.InvolvedObject.Namespace == "default" {
					return true, nil
				}
			}
			return false, fmt.Errorf("%d events about it", len(events.Items))
		})
		if err := tenants["s1"].CoreV1().Pods("default").Delete(ctx, "nowhere", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a pod the tenant's policy forbids is refused at the tenant API, naming the rule", func(t *testing.T) {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "root"}, Spec: corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{Name: "sh", Image: "busybox"}}}}
		_, err := tenants["s1"].CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "spec.isolation.podSecurity.level") || !strings.Contains(err.Error(), "hostNetwork=true") {
			t.Fatalf("a hostNetwork pod under the default baseline level: got %v, want Forbidden naming spec.isolation.podSecurity.level and hostNetwork=true", err)
		}
	})

	t.Run("tenant pods stay put (the tenant's PodGC sees their nodes)", func(t *testing.T) {
		before := map[string]bool{}
		for _, pod := range running(tenants["s1"], 2) {
			before[string(pod.UID)] = true
		}
		// PodGC deletes pods bound to nodes the tenant does not have after 40 s: check for
		// 50 s that none of the pods is replaced.
		framework.Consistently(t, 50*time.Second, "tenant s1's web pods keep their UIDs", func(ctx context.Context) error {
			pods, err := tenants["s1"].CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
			if err != nil {
				return err
			}
			for _, pod := range pods.Items {
				if !before[string(pod.UID)] {
					return fmt.Errorf("pod %s was replaced (a new UID appeared)", pod.Name)
				}
			}
			return nil
		})
	})

	t.Run("the patroller removes what is left of a tenant that no longer exists", func(t *testing.T) {
		ghost := "ghost-000000"
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: naming.SuperNamespace(ghost, "default")}}
		naming.Stamp(ns, naming.Identity{Tenant: ghost, Name: "default", UID: "gone"})
		if _, err := p.cluster.SuperClient.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, time.Minute, "the ghost tenant's super namespace to be removed", func(ctx context.Context) (bool, error) {
			got, err := p.cluster.SuperClient.CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{})
			return apierrors.IsNotFound(err) || (err == nil && !got.DeletionTimestamp.IsZero()), err
		})
		// Live tenants' namespaces, in every phase, are left alone.
		for _, tenant := range []string{"s1", "s2"} {
			if _, err := p.cluster.SuperClient.CoreV1().Namespaces().Get(ctx, naming.SuperNamespace(keys[tenant], "default"), metav1.GetOptions{}); err != nil {
				t.Errorf("tenant %s's super namespace: %v", tenant, err)
			}
		}
		// A live tenant's super objects whose tenant objects are gone (a namespace, an
		// Ingress, Endpoints: as if deleted while the syncer was away) are removed too.
		leftNS := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: naming.SuperNamespace(keys["s1"], "gone-ns")}}
		naming.Stamp(leftNS, naming.Identity{Tenant: keys["s1"], Name: "gone-ns", UID: "gone"})
		if _, err := p.cluster.SuperClient.CoreV1().Namespaces().Create(ctx, leftNS, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		superNS := naming.SuperNamespace(keys["s1"], "default")
		leftIng := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "gone-ing"}, Spec: networkingv1.IngressSpec{DefaultBackend: &networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}}}
		naming.Stamp(leftIng, naming.Identity{Tenant: keys["s1"], Namespace: "default", Name: "gone-ing", UID: "gone"})
		if _, err := p.cluster.SuperClient.NetworkingV1().Ingresses(superNS).Create(ctx, leftIng, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		leftEps := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "gone-eps"}} //nolint:staticcheck // the copies of tenants' Endpoints
		naming.Stamp(leftEps, naming.Identity{Tenant: keys["s1"], Namespace: "default", Name: "gone-eps", UID: "gone"})
		if _, err := p.cluster.SuperClient.CoreV1().Endpoints(superNS).Create(ctx, leftEps, metav1.CreateOptions{}); err != nil { //nolint:staticcheck
			t.Fatal(err)
		}
		framework.Eventually(t, time.Minute, "s1's left-over super namespace, Ingress and Endpoints removed", func(ctx context.Context) (bool, error) {
			ns, nsErr := p.cluster.SuperClient.CoreV1().Namespaces().Get(ctx, leftNS.Name, metav1.GetOptions{})
			_, ingErr := p.cluster.SuperClient.NetworkingV1().Ingresses(superNS).Get(ctx, "gone-ing", metav1.GetOptions{})
			_, epsErr := p.cluster.SuperClient.CoreV1().Endpoints(superNS).Get(ctx, "gone-eps", metav1.GetOptions{}) //nolint:staticcheck
			nsGone := apierrors.IsNotFound(nsErr) || (nsErr == nil && !ns.DeletionTimestamp.IsZero())
			return nsGone && apierrors.IsNotFound(ingErr) && apierrors.IsNotFound(epsErr), fmt.Errorf("namespace %v (gone: %v), Ingress %v, Endpoints %v", nsErr, nsGone, ingErr, epsErr)
		})
	})

	t.Run("a DaemonSet gets one Running pod per node of the tenant's pool", func(t *testing.T) {
		pool, err := p.cluster.SuperClient.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: tenancyv1alpha1.NodePoolLabel + "=dedicated-a"})
		if err != nil {
			t.Fatal(err)
		}
		ds := &appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default"},
			Spec: appsv1.DaemonSetSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", Image: "busybox"}}},
				},
			},
		}
		if _, err := tenants["s1"].AppsV1().DaemonSets("default").Create(ctx, ds, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, 2*time.Minute, fmt.Sprintf("%d Running agent pods, one per node of pool dedicated-a", len(pool.Items)), func(ctx context.Context) (bool, error) {
			pods, err := tenants["s1"].CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=agent"})
			if err != nil {
				return false, err
			}
			nodes := map[string]bool{}
			for _, pod := range pods.Items {
				if pod.Status.Phase == corev1.PodRunning {
					nodes[pod.Spec.NodeName] = true
				}
			}
			return len(nodes) == len(pool.Items) && len(pods.Items) == len(pool.Items), fmt.Errorf("%d pods, Running on %v", len(pods.Items), nodes)
		})
		if err := tenants["s1"].AppsV1().DaemonSets("default").Delete(ctx, "agent", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("pausing a tenant stops its super pods; resuming brings them back", func(t *testing.T) {
		setPaused(t, p, "s2", true)
		p.waitPhase("s2", tenancyv1alpha1.PhasePaused, 30*time.Second)
		framework.Eventually(t, time.Minute, "no super pods of the paused tenant s2", func(context.Context) (bool, error) {
			return len(superPods("s2")) == 0, nil
		})
		if n := len(superPods("s1")); n != 2 {
			t.Errorf("pausing s2 changed s1's super pods: %d", n)
		}
		setPaused(t, p, "s2", false)
		p.waitPhase("s2", tenancyv1alpha1.PhaseRunning, time.Minute)
		framework.Eventually(t, time.Minute, "s2's super pod back after resume", func(context.Context) (bool, error) {
			return len(superPods("s2")) == 1, nil
		})
	})

	t.Run("a changed kubeconfig restarts the tenant's session, and syncing goes on", func(t *testing.T) {
		// As when the host renews the tenant's credentials or the tenant moves to another
		// host: the manager publishes a new kubeconfig. Here the same credentials under
		// another context name.
		vc := p.waitPhase("s2", tenancyv1alpha1.PhaseRunning, time.Minute)
		ref := vc.Status.KubeconfigSecretRef
		secrets := p.cluster.SuperClient.CoreV1().Secrets(vc.Namespace)
		restarts := `vcp_syncer_session_restarts_total{tenant="` + keys["s2"] + `"}`
		before := syncerMetrics(t, p)[restarts]
		// rename sets the kubeconfig's context name to to (from whatever it is).
		rename := func(to string) error {
			return retry.RetryOnConflict(retry.DefaultRetry, func() error {
				secret, err := secrets.Get(ctx, ref.Name, metav1.GetOptions{})
				if err != nil {
					return err
				}
				cfg, err := clientcmd.Load(secret.Data[ref.Key])
				if err != nil || cfg.CurrentContext == to {
					return err
				}
				cfg.Contexts[to] = cfg.Contexts[cfg.CurrentContext]
				delete(cfg.Contexts, cfg.CurrentContext)
				cfg.CurrentContext = to
				if secret.Data[ref.Key], err = clientcmd.Write(*cfg); err != nil {
					return err
				}
				_, err = secrets.Update(ctx, secret, metav1.UpdateOptions{})
				return err
			})
		}
		published, err := secrets.Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		original, err := clientcmd.Load(published.Data[ref.Key])
		if err != nil {
			t.Fatal(err)
		}
		// The manager publishes its kubeconfig again whenever it reconciles the tenant (it
		// did a lot just now, resuming it), possibly before the syncer read the renamed
		// one: rename again until the syncer has seen it.
		framework.Eventually(t, time.Minute, "s2's session restarted", func(context.Context) (bool, error) {
			if err := rename("renewed"); err != nil {
				return false, err
			}
			got := syncerMetrics(t, p)[restarts]
			return got > before, fmt.Errorf("%s = %v, was %v", restarts, got, before)
		})
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "after-restart", Labels: map[string]string{"app": "after-restart"}}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
		framework.Eventually(t, 30*time.Second, "tenant pod after-restart created", func(ctx context.Context) (bool, error) {
			_, err := tenants["s2"].CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
			return err == nil || apierrors.IsAlreadyExists(err), err
		})
		waitRunning(t, tenants["s2"], "default", "app=after-restart", 1, time.Minute)
		if n := len(superPods("s2")); n != 2 {
			t.Errorf("s2 has %d super pods after the restart, want 2 (web's and after-restart)", n)
		}
		if err := rename(original.CurrentContext); err != nil {
			t.Fatal(err)
		}
		if err := tenants["s2"].CoreV1().Pods("default").Delete(ctx, "after-restart", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, time.Minute, "s2's super pod after-restart gone", func(context.Context) (bool, error) {
			return len(superPods("s2")) == 1, nil
		})
	})

	t.Run("scaling and deletion follow", func(t *testing.T) {
		scale := func(n int32) {
			// The Deployment controller writes the status concurrently: retry on conflict.
			err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
				s, err := tenants["s1"].AppsV1().Deployments("default").GetScale(ctx, "web", metav1.GetOptions{})
				if err != nil {
					return err
				}
				s.Spec.Replicas = n
				_, err = tenants["s1"].AppsV1().Deployments("default").UpdateScale(ctx, "web", s, metav1.UpdateOptions{})
				return err
			})
			if err != nil {
				t.Fatalf("scale web to %d: %v", n, err)
			}
		}
		scale(3)
		running(tenants["s1"], 3)
		scale(1)
		running(tenants["s1"], 1)
		framework.Eventually(t, time.Minute, "1 super pod of s1", func(context.Context) (bool, error) {
			return len(superPods("s1")) == 1, nil
		})
		if err := tenants["s1"].AppsV1().Deployments("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, time.Minute, "no pods of web in tenant s1 or its super namespace", func(ctx context.Context) (bool, error) {
			pods, err := tenants["s1"].CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
			return err == nil && len(pods.Items) == 0 && len(superPods("s1")) == 0, err
		})
		if n := len(superPods("s2")); n != 1 {
			t.Errorf("deleting s1's Deployment changed s2's super pods: %d left", n)
		}
	})

	t.Run("a burst of pods reaches Running with no stale status writes", func(t *testing.T) {
		// Binding a tenant pod changes it. When the syncer binds a pod whose super pod is
		// Running already (the usual case in a burst: the queue is busy and KWOK is quick),
		// the status it writes next must not go at the cached, pre-binding resourceVersion:
		// that write is refused and the pod reaches Running only after another watch event
		// and sync (199 of 200 pods in make bench-deliver before this was fixed).
		const n = 40
		stale := func() float64 {
			return syncerMetrics(t, p)[`vcp_syncer_stale_status_writes_total{tenant="`+keys["s2"]+`"}`]
		}
		before := stale()
		tenant := tenants["s2"]
		if _, err := tenant.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "burst"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = tenant.CoreV1().Namespaces().Delete(context.WithoutCancel(ctx), "burst", metav1.DeleteOptions{})
		})
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("b%02d", i)},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
				_, errs[i] = tenant.CoreV1().Pods("burst").Create(ctx, pod, metav1.CreateOptions{})
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		waitRunning(t, tenant, "burst", "", n, 2*time.Minute)
		if got := stale() - before; got != 0 {
			t.Errorf("%v of %d pods' status writes were refused as stale", got, n)
		}
	})
}

// waitRunning waits until namespace ns of a tenant holds exactly want pods matching
// selector, all Running, bound to a node and not being deleted, and returns them.
func waitRunning(t *testing.T, tenant kubernetes.Interface, ns, selector string, want int, timeout time.Duration) []corev1.Pod {
	t.Helper()
	var pods *corev1.PodList
	start := time.Now()
	framework.Eventually(t, timeout, fmt.Sprintf("%d Running pods (%q) in the tenant's namespace %s", want, selector, ns), func(ctx context.Context) (bool, error) {
		var err error
		pods, err = tenant.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, err
		}
		n := 0
		for _, pod := range pods.Items {
			if pod.Status.Phase == corev1.PodRunning && pod.Spec.NodeName != "" && pod.DeletionTimestamp.IsZero() {
				n++
			}
		}
		return n == want && len(pods.Items) == want, fmt.Errorf("%d pods, %d Running and bound", len(pods.Items), n)
	})
	t.Logf("%d pods Running in the tenant's namespace %s after %s", want, ns, time.Since(start).Round(time.Millisecond))
	return pods.Items
}

// syncerMetrics scrapes the local syncer's /metrics.
func syncerMetrics(t *testing.T, p *provisioning) map[string]float64 {
	t.Helper()
	for _, proc := range p.cluster.Processes {
		if proc.Name == "syncer" {
			return scrape(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", proc.Ports[0]))
		}
	}
	t.Fatal("no syncer process")
	return nil
}

func nodeReady(node *corev1.Node) bool {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// scrape reads a Prometheus text endpoint into series → value (labels as printed).
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	out, err := promtext.Scrape(url)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// jwtClaims are the claims of a JWT the token spec reads.
type jwtClaims struct {
	Aud []string `json:"aud"`
	Iat int64    `json:"iat"`
	Exp int64    `json:"exp"`
}

// claimsOf reads the claims of a JWT (the tenant API's to verify).
func claimsOf(token string) (jwtClaims, error) {
	var claims jwtClaims
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return claims, fmt.Errorf("not a JWT: %d parts", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return claims, err
	}
	return claims, json.Unmarshal(payload, &claims)
}

// inClusterConfig is what rest.InClusterConfig makes in container of pod, given the
// token and CA the pod mounts: the server from KUBERNETES_SERVICE_HOST/PORT, its name
// resolved only by the pod's host aliases (a name, so TLS sends it as the server name).
func inClusterConfig(t *testing.T, pod *corev1.Pod, container, token string, ca []byte) *rest.Config {
	t.Helper()
	env := map[string]string{}
	for _, c := range pod.Spec.Containers {
		if c.Name == container {
			for _, e := range c.Env {
				env[e.Name] = e.Value
			}
		}
	}
	host, port := env["KUBERNETES_SERVICE_HOST"], env["KUBERNETES_SERVICE_PORT"]
	if host == "" || port == "" {
		t.Fatalf("super pod %s/%s container %s has no KUBERNETES_SERVICE_HOST/PORT of its own (it would reach the super API): env %v", pod.Namespace, pod.Name, container, env)
	}
	hosts := map[string]string{}
	for _, alias := range pod.Spec.HostAliases {
		for _, name := range alias.Hostnames {
			hosts[name] = alias.IP
		}
	}
	dialer := &net.Dialer{}
	return &rest.Config{
		Host:            "https://" + net.JoinHostPort(host, port),
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: ca},
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			name, port, err := net.SplitHostPort(address)
			if err != nil {
				return nil, err
			}
			ip, ok := hosts[name]
			if !ok && net.ParseIP(name) == nil {
				return nil, fmt.Errorf("%s does not resolve in the pod: host aliases %v", name, pod.Spec.HostAliases)
			}
			return dialer.DialContext(ctx, network, net.JoinHostPort(cmp.Or(ip, name), port))
		},
	}
}

// tokenSpec: a tenant pod that mounts its service account's token (as every pod does by
// default) gets a super pod mounting the token Secret the syncer keeps, whose token the
// tenant API (and not the super API) accepts as that account, next to the tenant's CA;
// the Secret is restored when deleted or edited by hand, removed when its account or the
// last pod using it goes, and a token Secret of no account is removed.
func tokenSpec(t *testing.T, p *provisioning, tenant kubernetes.Interface, tenantConfig *rest.Config, key string) {
	ctx := t.Context()
	superNS := naming.SuperNamespace(key, "default")
	superSecrets := p.cluster.SuperClient.CoreV1().Secrets(superNS)
	regcred := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "regcred"}, Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)}}
	if _, err := tenant.CoreV1().Secrets("default").Create(ctx, regcred, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"builder", "runner"} {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}, ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}}}
		if _, err := tenant.CoreV1().ServiceAccounts("default").Create(ctx, sa, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{ServiceAccountName: name, Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
		// The tenant's ServiceAccount admission may not have seen the account yet.
		framework.Eventually(t, 30*time.Second, "tenant pod "+name+" created", func(ctx context.Context) (bool, error) {
			_, err := tenant.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
			return err == nil, err
		})
	}

	// The super pod mounts the token Secret and the copy of the tenant's CA, and keeps the
	// image pull secret the tenant's admission took from the account.
	var superPod *corev1.Pod
	framework.Eventually(t, time.Minute, "super pod builder", func(ctx context.Context) (bool, error) {
		var err error
		superPod, err = p.cluster.SuperClient.CoreV1().Pods(superNS).Get(ctx, "builder", metav1.GetOptions{})
		return err == nil, err
	})
	sources := map[string]bool{}
	for _, v := range superPod.Spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, src := range v.Projected.Sources {
			switch {
			case src.ServiceAccountToken != nil:
				t.Errorf("super pod volume %s still projects a super service-account token", v.Name)
			case src.Secret != nil:
				sources["secret "+src.Secret.Name] = true
			case src.ConfigMap != nil:
				sources["configmap "+src.ConfigMap.Name] = true
			case src.DownwardAPI != nil:
				for _, item := range src.DownwardAPI.Items {
					if item.FieldRef != nil {
						sources["downward "+item.FieldRef.FieldPath] = true
					}
				}
			}
		}
	}
	if !sources["secret vcp-token-builder"] || !sources["configmap vcp-root-ca.crt"] || sources["configmap kube-root-ca.crt"] {
		t.Errorf("super pod projects %v; want secret vcp-token-builder and configmap vcp-root-ca.crt", sources)
	}
	// The namespace file next to the token reads the label holding the tenant namespace
	// (the super API accepted the path: the pod exists).
	if !sources["downward metadata.labels['tenancy.vcp.dev/namespace']"] || sources["downward metadata.namespace"] || superPod.Labels["tenancy.vcp.dev/namespace"] != "default" {
		t.Errorf("super pod projects %v with labels %v; want the namespace file from the label tenancy.vcp.dev/namespace=default", sources, superPod.Labels)
	}
	if len(superPod.Spec.ImagePullSecrets) != 1 || superPod.Spec.ImagePullSecrets[0].Name != "regcred" {
		t.Errorf("super pod image pull secrets %v, want the account's regcred", superPod.Spec.ImagePullSecrets)
	}
	if superPod.Spec.ServiceAccountName == "builder" || superPod.Spec.AutomountServiceAccountToken == nil || *superPod.Spec.AutomountServiceAccountToken {
		t.Errorf("super pod runs as %q with automount %v: it must mount no super token", superPod.Spec.ServiceAccountName, superPod.Spec.AutomountServiceAccountToken)
	}
	framework.Eventually(t, 30*time.Second, "super Secret regcred", func(ctx context.Context) (bool, error) {
		_, err := superSecrets.Get(ctx, "regcred", metav1.GetOptions{})
		return err == nil, err
	})

	// whoAmI returns who the tenant API and the super API take the token for.
	whoAmI := func(ctx context.Context, cfg *rest.Config, token string) (string, error) {
		anon := rest.AnonymousClientConfig(cfg)
		anon.BearerToken = token
		review, err := kubernetes.NewForConfigOrDie(anon).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			return "", err
		}
		return review.Status.UserInfo.Username, nil
	}
	// validToken waits for the token Secret of account sa to hold a token the tenant API
	// accepts as sa (other than not), and returns it.
	validToken := func(sa, not string) string {
		t.Helper()
		var token string
		framework.Eventually(t, 30*time.Second, "super Secret vcp-token-"+sa+" with a token the tenant API accepts as "+sa, func(ctx context.Context) (bool, error) {
			secret, err := superSecrets.Get(ctx, "vcp-token-"+sa, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			token = string(secret.Data["token"])
			if token == "" || token == not || string(secret.Data["namespace"]) != "default" || !naming.Owns(key, secret) {
				return false, fmt.Errorf("namespace %q, labels %v, token empty or unchanged", secret.Data["namespace"], secret.Labels)
			}
			user, err := whoAmI(ctx, tenantConfig, token)
			if err != nil {
				return false, err
			}
			return user == "system:serviceaccount:default:"+sa, fmt.Errorf("the tenant API takes the token for %q", user)
		})
		return token
	}
	token := validToken("builder", "")
	if user, err := whoAmI(ctx, p.cluster.Config, token); !apierrors.IsUnauthorized(err) {
		t.Errorf("the super API answered the tenant token with %q, %v; want Unauthorized", user, err)
	}

	// The CA the pod mounts is the tenant API's, not the super cluster's.
	tenantCA, err := tenant.CoreV1().ConfigMaps("default").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "super ConfigMap vcp-root-ca.crt with the tenant's CA", func(ctx context.Context) (bool, error) {
		copied, err := p.cluster.SuperClient.CoreV1().ConfigMaps(superNS).Get(ctx, "vcp-root-ca.crt", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return copied.Data["ca.crt"] != "" && copied.Data["ca.crt"] == tenantCA.Data["ca.crt"], fmt.Errorf("ca.crt differs from the tenant's")
	})
	superCA, err := p.cluster.SuperClient.CoreV1().ConfigMaps(superNS).Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if superCA.Data["ca.crt"] == tenantCA.Data["ca.crt"] || superCA.Labels[naming.LabelTenant] != "" {
		t.Error("the super cluster's own kube-root-ca.crt was overwritten by the tenant's")
	}

	// The pod's in-cluster client (rest.InClusterConfig: the environment's address, the
	// mounted token and CA) reaches the tenant API as the pod's account: the address is
	// the tenant's, resolved by the pod's host aliases only.
	inCluster := inClusterConfig(t, superPod, "c", token, []byte(tenantCA.Data["ca.crt"]))
	if user, err := whoAmI(ctx, inCluster, token); err != nil || user != "system:serviceaccount:default:builder" {
		t.Errorf("the pod's in-cluster client at %s is taken for %q, %v; want system:serviceaccount:default:builder", inCluster.Host, user, err)
	}
	// So does one of https://kubernetes.default.svc (the name a client without the
	// environment uses), resolved by the pod's host aliases: the host serves that name
	// for all its tenants, with a certificate of the in-cluster CA the tenant's ca.crt
	// carries, and hands the request to the tenant that issued its token.
	_, port, err := net.SplitHostPort(strings.TrimPrefix(inCluster.Host, "https://"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kubernetes.default.svc", "kubernetes.default.svc.cluster.local"} {
		byName := rest.CopyConfig(inCluster)
		byName.Host = "https://" + net.JoinHostPort(name, port)
		if user, err := whoAmI(ctx, byName, token); err != nil || user != "system:serviceaccount:default:builder" {
			t.Errorf("the pod's client of %s is taken for %q, %v; want system:serviceaccount:default:builder", byName.Host, user, err)
		}
	}

	// A pod asking for a token of another audience (say, for Vault) gets one, minted by
	// the tenant API for that audience, under a key of its own next to the API's, and a
	// short-lived one (10 minutes) for that audience one that lives exactly that long,
	// under another; the keys go once no pod asks for them.
	vaultSum, shortSum := sha256.Sum256([]byte("vault")), sha256.Sum256([]byte("vault\x00600"))
	vaultKey, shortKey := "token-"+hex.EncodeToString(vaultSum[:8]), "token-"+hex.EncodeToString(shortSum[:8])
	vaultPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "vault-reader"}, Spec: corev1.PodSpec{ServiceAccountName: "builder",
		Containers: []corev1.Container{{Name: "c", Image: "nginx", VolumeMounts: []corev1.VolumeMount{{Name: "vault", MountPath: "/var/run/vault"}}}},
		Volumes: []corev1.Volume{{Name: "vault", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", Audience: "vault"}},
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "short", Audience: "vault", ExpirationSeconds: ptr.To[int64](600)}}}}}}}}}
	if _, err := tenant.CoreV1().Pods("default").Create(ctx, vaultPod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, time.Minute, "super Secret vcp-token-builder with tokens for audience vault under "+vaultKey+" (1 h) and "+shortKey+" (600 s)", func(ctx context.Context) (bool, error) {
		secret, err := superSecrets.Get(ctx, "vcp-token-builder", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		vault, err := claimsOf(string(secret.Data[vaultKey]))
		if err != nil {
			return false, fmt.Errorf("%s: %w", vaultKey, err)
		}
		short, err := claimsOf(string(secret.Data[shortKey]))
		if err != nil {
			return false, fmt.Errorf("%s: %w", shortKey, err)
		}
		return slices.Equal(vault.Aud, []string{"vault"}) && vault.Exp-vault.Iat == 3600 &&
				slices.Equal(short.Aud, []string{"vault"}) && short.Exp-short.Iat == 600 && len(secret.Data["token"]) > 0,
			fmt.Errorf("%s: %+v; %s: %+v", vaultKey, vault, shortKey, short)
	})
	framework.Eventually(t, time.Minute, "super pod vault-reader mounting "+vaultKey, func(ctx context.Context) (bool, error) {
		got, err := p.cluster.SuperClient.CoreV1().Pods(superNS).Get(ctx, "vault-reader", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, v := range got.Spec.Volumes {
			if v.Name == "vault" && v.Projected != nil && v.Projected.Sources[0].Secret != nil {
				items := v.Projected.Sources[0].Secret.Items
				return len(items) == 2 && items[0].Key == vaultKey && items[0].Path == "token" && items[1].Key == shortKey && items[1].Path == "short", fmt.Errorf("items %+v", items)
			}
		}
		return false, fmt.Errorf("no projected Secret volume vault: %+v", got.Spec.Volumes)
	})
	if err := tenant.CoreV1().Pods("default").Delete(ctx, "vault-reader", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, time.Minute, "super Secret vcp-token-builder without the vault token once no pod asks for it", func(ctx context.Context) (bool, error) {
		secret, err := superSecrets.Get(ctx, "vcp-token-builder", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		_, has := secret.Data[vaultKey]
		_, hasShort := secret.Data[shortKey]
		return !has && !hasShort && len(secret.Data["token"]) > 0, nil
	})
	token = validToken("builder", "")

	// Edited by hand, then deleted by hand: a valid token is back each time.
	tampered, err := superSecrets.Get(ctx, "vcp-token-builder", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tampered.Data["token"] = []byte("tampered")
	if _, err := superSecrets.Update(ctx, tampered, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	token = validToken("builder", "tampered")
	if err := superSecrets.Delete(ctx, "vcp-token-builder", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	token = validToken("builder", token)
	// Made immutable by hand (which no update can undo): replaced.
	frozen, err := superSecrets.Get(ctx, "vcp-token-builder", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	frozen.Immutable = ptr.To(true)
	if _, err := superSecrets.Update(ctx, frozen, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	validToken("builder", token)

	// A token Secret of an account that does not exist is removed.
	ghost := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "vcp-token-ghost", Labels: map[string]string{"tenancy.vcp.dev/service-account-token": "true"}}, Data: map[string][]byte{"token": []byte("x")}}
	naming.Stamp(ghost, naming.Identity{Tenant: key, Namespace: "default", Name: "ghost", UID: "none"})
	if _, err := superSecrets.Create(ctx, ghost, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	gone := func(name, why string) {
		t.Helper()
		framework.Eventually(t, 30*time.Second, "super Secret "+name+" removed: "+why, func(ctx context.Context) (bool, error) {
			_, err := superSecrets.Get(ctx, name, metav1.GetOptions{})
			return apierrors.IsNotFound(err), err
		})
	}
	gone("vcp-token-ghost", "no such account")

	// The account goes: its token Secret goes (the pod stays). The last pod of an account
	// goes: its token Secret goes.
	validToken("runner", "")
	if err := tenant.CoreV1().ServiceAccounts("default").Delete(ctx, "builder", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	gone("vcp-token-builder", "its account was deleted")
	if err := tenant.CoreV1().Pods("default").Delete(ctx, "runner", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	gone("vcp-token-runner", "no pod mounts it")
	if err := tenant.CoreV1().Pods("default").Delete(ctx, "builder", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, time.Minute, "pods builder and runner gone from the tenant and the super cluster", func(ctx context.Context) (bool, error) {
		for _, name := range []string{"builder", "runner"} {
			if _, err := tenant.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				return false, fmt.Errorf("tenant pod %s: %v", name, err)
			}
			if _, err := p.cluster.SuperClient.CoreV1().Pods(superNS).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				return false, fmt.Errorf("super pod %s: %v", name, err)
			}
		}
		return true, nil
	})
}

// networkPolicySpec: a tenant NetworkPolicy is copied down renamed, so that one named
// vcp-vpc leaves the platform's VPC policy alone, with its namespace selectors translated
// to the tenant namespaces' mirrored labels and ANDed with the tenant's own: evaluated on
// the live super namespaces, it selects s1's namespace labelled team=blue and not s2's of
// the same name and labels. Hand edits are undone; deleting it in the tenant deletes it.
func networkPolicySpec(t *testing.T, p *provisioning, tenants map[string]kubernetes.Interface, keys map[string]string) {
	ctx := t.Context()
	superNamespaces := p.cluster.SuperClient.CoreV1().Namespaces()
	// Tenant namespace labels are mirrored onto super namespaces under these keys.
	mirrored, mirroredName := "ns.tenancy.vcp.dev/team", "kubernetes.io.ns.tenancy.vcp.dev/metadata.name"
	for _, tenant := range []string{"s1", "s2"} {
		patch := []byte(`{"metadata":{"labels":{"team":"blue"}}}`)
		if _, err := tenants[tenant].CoreV1().Namespaces().Patch(ctx, "default", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		framework.Eventually(t, 30*time.Second, "tenant "+tenant+"'s namespace labels mirrored onto its super namespace", func(ctx context.Context) (bool, error) {
			ns, err := superNamespaces.Get(ctx, naming.SuperNamespace(keys[tenant], "default"), metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			return ns.Labels[mirrored] == "blue" && ns.Labels[mirroredName] == "default", fmt.Errorf("labels %v", ns.Labels)
		})
	}
	superNS := naming.SuperNamespace(keys["s1"], "default")
	netpols := p.cluster.SuperClient.NetworkingV1().NetworkPolicies(superNS)
	vpcBefore, err := netpols.Get(ctx, "vcp-vpc", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "vcp-vpc"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{
				{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "blue"}}},
				{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"role": "fe"}}},
				{IPBlock: &networkingv1.IPBlock{CIDR: "192.0.2.0/24"}},
			}}},
		},
	}
	if _, err := tenants["s1"].NetworkingV1().NetworkPolicies("default").Create(ctx, np, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	superName := naming.SuperNetworkPolicyName("vcp-vpc")
	// translated waits for the super copy to be the translation of np.
	translated := func(why string) *networkingv1.NetworkPolicy {
		t.Helper()
		var got *networkingv1.NetworkPolicy
		framework.Eventually(t, 30*time.Second, "super NetworkPolicy "+superName+" translated ("+why+")", func(ctx context.Context) (bool, error) {
			var err error
			if got, err = netpols.Get(ctx, superName, metav1.GetOptions{}); err != nil {
				return false, err
			}
			if len(got.Spec.Ingress) != 1 || len(got.Spec.Ingress[0].From) != 3 {
				return false, fmt.Errorf("ingress %+v", got.Spec.Ingress)
			}
			from := got.Spec.Ingress[0].From
			sel := from[0].NamespaceSelector
			ok := sel != nil && sel.MatchLabels[naming.LabelTenant] == keys["s1"] && sel.MatchLabels[mirrored] == "blue" &&
				from[1].NamespaceSelector == nil && from[1].PodSelector.MatchLabels["role"] == "fe" &&
				from[2].IPBlock != nil && from[2].IPBlock.CIDR == "192.0.2.0/24" && got.Spec.PodSelector.MatchLabels["app"] == "web"
			return ok, fmt.Errorf("ingress %+v", from)
		})
		return got
	}
	got := translated("created")
	selector, err := metav1.LabelSelectorAsSelector(got.Spec.Ingress[0].From[0].NamespaceSelector)
	if err != nil {
		t.Fatal(err)
	}
	for tenant, want := range map[string]bool{"s1": true, "s2": false} {
		ns, err := superNamespaces.Get(ctx, naming.SuperNamespace(keys[tenant], "default"), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if matched := selector.Matches(labels.Set(ns.Labels)); matched != want {
			t.Errorf("s1's team=blue selector on %s's super namespace (tenant labels team=blue too): matched %v, want %v", tenant, matched, want)
		}
	}
	vpcAfter, err := netpols.Get(ctx, "vcp-vpc", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if vpcAfter.UID != vpcBefore.UID || !apiequality.Semantic.DeepEqual(vpcAfter.Spec, vpcBefore.Spec) {
		t.Error("a tenant policy named vcp-vpc changed the platform's VPC policy")
	}

	// Edited by hand: undone. Deleted by hand: back.
	got.Spec.Ingress[0].From[0].NamespaceSelector = &metav1.LabelSelector{}
	if _, err := netpols.Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	translated("edited by hand")
	if err := netpols.Delete(ctx, superName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	translated("deleted by hand")

	if err := tenants["s1"].NetworkingV1().NetworkPolicies("default").Delete(ctx, "vcp-vpc", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "super NetworkPolicy "+superName+" gone after the tenant's", func(ctx context.Context) (bool, error) {
		_, err := netpols.Get(ctx, superName, metav1.GetOptions{})
		return apierrors.IsNotFound(err), err
	})
	if _, err := netpols.Get(ctx, "vcp-vpc", metav1.GetOptions{}); err != nil {
		t.Errorf("the platform's VPC policy: %v", err)
	}
}

// networkPolicyMarkerSpec: a tenant pod app=web is left to the tenant's own policies once
// one selects it for ingress. Its super pod gets the ingress marker, the intra-tenant VPC
// policy (vcp-vpc-ingress) no longer selects it while the base policy (vcp-vpc) still
// does and admits the platform namespace; the tenant never sees the marker; a change of
// the tenant pod's labels reaches the super pod; deleting the policy takes the marker
// away. Selectors are evaluated on the live objects (there is no CNI to send traffic).
func networkPolicyMarkerSpec(t *testing.T, p *provisioning, tenant kubernetes.Interface, key string) {
	ctx := t.Context()
	const ingressMarker, egressMarker = "tenancy.vcp.dev/np-ingress", "tenancy.vcp.dev/np-egress"
	superNS := naming.SuperNamespace(key, "default")
	superPods := p.cluster.SuperClient.CoreV1().Pods(superNS)
	netpols := p.cluster.SuperClient.NetworkingV1().NetworkPolicies(superNS)
	selects := func(ctx context.Context, policy string, podLabels map[string]string) (bool, error) {
		np, err := netpols.Get(ctx, policy, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		selector, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		if err != nil {
			return false, err
		}
		return selector.Matches(labels.Set(podLabels)), nil
	}
	// superPodIs waits for the super pod np-web to carry the ingress marker (or not) and
	// vcp-vpc-ingress to select it exactly when it does not.
	superPodIs := func(marked bool, why string) *corev1.Pod {
		t.Helper()
		var superPod *corev1.Pod
		framework.Eventually(t, 30*time.Second, fmt.Sprintf("super pod np-web marked %v and left out of vcp-vpc-ingress %v (%s)", marked, marked, why), func(ctx context.Context) (bool, error) {
			var err error
			if superPod, err = superPods.Get(ctx, "np-web", metav1.GetOptions{}); err != nil {
				return false, err
			}
			_, hasMarker := superPod.Labels[ingressMarker]
			intra, err := selects(ctx, "vcp-vpc-ingress", superPod.Labels)
			if err != nil {
				return false, err
			}
			return hasMarker == marked && intra == !marked, fmt.Errorf("labels %v, selected by vcp-vpc-ingress: %v", superPod.Labels, intra)
		})
		return superPod
	}

	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "np-web", Labels: map[string]string{"app": "web"}}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "web", Image: "nginx"}},
	}}
	if _, err := tenant.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	superPodIs(false, "no tenant policy")

	deny := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "deny-ingress"}, Spec: networkingv1.NetworkPolicySpec{
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
	}}
	if _, err := tenant.NetworkingV1().NetworkPolicies("default").Create(ctx, deny, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	superPod := superPodIs(true, "default-deny-ingress created")
	if _, marked := superPod.Labels[egressMarker]; marked {
		t.Errorf("an ingress-only policy marked the pod for egress: %v", superPod.Labels)
	}
	for policy, want := range map[string]bool{"vcp-vpc": true, "vcp-vpc-egress": true, naming.SuperNetworkPolicyName("deny-ingress"): true} {
		if got, err := selects(ctx, policy, superPod.Labels); err != nil || got != want {
			t.Errorf("%s selects the marked super pod: %v (%v), want %v", policy, got, err, want)
		}
	}
	base, err := netpols.Get(ctx, "vcp-vpc", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ownNS, err := p.cluster.SuperClient.CoreV1().Namespaces().Get(ctx, superNS, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// What the base policy alone admits, evaluated on namespace labels: the platform
	// namespace (the syncer's --platform-namespace, vcp-system), never the tenant's own.
	admits := func(nsLabels map[string]string) bool {
		for _, rule := range base.Spec.Ingress {
			for _, peer := range rule.From {
				if sel, err := metav1.LabelSelectorAsSelector(peer.NamespaceSelector); err == nil && peer.PodSelector == nil && sel.Matches(labels.Set(nsLabels)) {
					return true
				}
			}
		}
		return false
	}
	if !admits(map[string]string{corev1.LabelMetadataName: "vcp-system"}) {
		t.Errorf("vcp-vpc no longer admits the platform namespace: %+v", base.Spec.Ingress)
	}
	if admits(ownNS.Labels) {
		t.Errorf("vcp-vpc admits the tenant's own namespace %v: a tenant deny-all policy would not hold", ownNS.Labels)
	}
	tenantPod, err := tenant.CoreV1().Pods("default").Get(ctx, "np-web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k := range tenantPod.Labels {
		if strings.HasPrefix(k, "tenancy.vcp.dev/") {
			t.Errorf("the tenant sees the platform's label %s on its pod: %v", k, tenantPod.Labels)
		}
	}

	// The tenant relabels its pod: the super pod follows, keeping its marker.
	patch := []byte(`{"metadata":{"labels":{"tier":"frontend"}}}`)
	if _, err := tenant.CoreV1().Pods("default").Patch(ctx, "np-web", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 30*time.Second, "super pod np-web relabelled tier=frontend, still marked", func(ctx context.Context) (bool, error) {
		superPod, err := superPods.Get(ctx, "np-web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return superPod.Labels["tier"] == "frontend" && superPod.Labels[ingressMarker] != "", fmt.Errorf("labels %v", superPod.Labels)
	})

	if err := tenant.NetworkingV1().NetworkPolicies("default").Delete(ctx, "deny-ingress", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	superPodIs(false, "default-deny-ingress deleted")
	if err := tenant.CoreV1().Pods("default").Delete(ctx, "np-web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}
