package translate

import (
	"cmp"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/internal/clusterdomain"
	"github.com/vcp-dev/vcp/syncer/naming"
)

// fuzzPod builds a tenant pod from fuzzed parts: a token of audience in a projected volume
// (next to the CA and the namespace file, as the ServiceAccount admission mounts it) when
// token is set, a plain downward API volume, env from every field SuperPod rewrites, and
// the container's own envName=envValue.
func fuzzPod(ns, name, uid, sa, audience, envName, envValue, node string, token bool, seconds int64) *corev1.Pod {
	fieldEnv := func(path string) corev1.EnvVar {
		return corev1.EnvVar{Name: "F_" + strings.ToUpper(strings.ReplaceAll(path, ".", "_")), ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}}
	}
	env := []corev1.EnvVar{fieldEnv("metadata.namespace"), fieldEnv("metadata.uid"), fieldEnv("metadata.name"), fieldEnv("spec.serviceAccountName"), {Name: envName, Value: envValue}}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid), Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{
			NodeName: node, ServiceAccountName: sa,
			InitContainers: []corev1.Container{{Name: "init", Env: env}},
			Containers:     []corev1.Container{{Name: "c", Env: env, EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}}}}},
			Volumes: []corev1.Volume{{Name: "info", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
				{Path: "ns", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}},
				{Path: "uid", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.uid"}},
			}}}}},
		},
	}
	if token {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: "kube-api-access", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", Audience: audience, ExpirationSeconds: expiration(seconds)}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}}},
		}}}})
	}
	return pod
}

var tokenKeyRE = regexp.MustCompile(`^token(-[0-9a-f]{16})?$`)

// FuzzSuperPod checks what every super pod must be, whatever the tenant pod: the input
// untouched; placed and stamped as the tenant pod's; the isolation forced; no super
// service account, token or CA; nothing that reads the super pod's own namespace or UID;
// and every container pointed at the tenant API.
func FuzzSuperPod(f *testing.F) {
	f.Add("shop", "web-1", "uid-1", "builder", "", "URL", "https://$(KUBERNETES_SERVICE_HOST)", "node-1", true, "gvisor", "pool-a", int64(3607))
	f.Add("default", "p", "u", "", "vault", "KUBERNETES_SERVICE_HOST", "proxy", "", true, "", "", int64(600))
	f.Add("kube-system", "x", "u2", "default", "https://sts.example.com", "A", "", "", false, "kata", "", int64(0))
	f.Fuzz(func(t *testing.T, ns, name, uid, sa, audience, envName, envValue, node string, token bool, runtimeClass, pool string, seconds int64) {
		in := fuzzPod(ns, name, uid, sa, audience, envName, envValue, node, token, seconds)
		before := in.DeepCopy()
		api := TenantAPI{Host: "t.tenants.vcp.local", IP: "10.96.0.20", Port: "6443"}
		got := SuperPod("t-000000", in, Isolation{RuntimeClassName: runtimeClass, NodePool: pool, API: api}, nil)

		if !reflect.DeepEqual(in, before) {
			t.Fatal("SuperPod changed the tenant pod")
		}
		if got.Namespace != naming.SuperNamespace("t-000000", ns) || got.Name != name {
			t.Fatalf("placed at %s/%s", got.Namespace, got.Name)
		}
		if id, ok := naming.IdentityOf(got); !ok && name != "" || ok && id != (naming.Identity{Tenant: "t-000000", Namespace: ns, Name: name, UID: uid}) {
			t.Fatalf("identity %+v, %v", id, ok)
		}
		spec := got.Spec
		if spec.NodeName != "" || spec.ServiceAccountName != "" || spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			t.Fatalf("node %q, account %q, automount %v", spec.NodeName, spec.ServiceAccountName, spec.AutomountServiceAccountToken)
		}
		if runtimeClass != "" && (spec.RuntimeClassName == nil || *spec.RuntimeClassName != runtimeClass) {
			t.Fatalf("runtime class %v, want %q forced", spec.RuntimeClassName, runtimeClass)
		}
		if pool != "" && spec.NodeSelector[tenancyv1alpha1.NodePoolLabel] != pool {
			t.Fatalf("node selector %v, want pool %q", spec.NodeSelector, pool)
		}
		readsSuper := func(path string) bool { return path == "metadata.namespace" || path == "metadata.uid" }
		for _, v := range spec.Volumes {
			if v.DownwardAPI != nil {
				for _, item := range v.DownwardAPI.Items {
					if readsSuper(item.FieldRef.FieldPath) {
						t.Fatalf("volume %s file %s reads the super pod's %s", v.Name, item.Path, item.FieldRef.FieldPath)
					}
				}
			}
			if v.Projected == nil {
				continue
			}
			for _, src := range v.Projected.Sources {
				switch {
				case src.ServiceAccountToken != nil:
					t.Fatalf("volume %s projects a super service-account token", v.Name)
				case src.ConfigMap != nil && src.ConfigMap.Name == "kube-root-ca.crt":
					t.Fatalf("volume %s projects the super cluster's CA", v.Name)
				case src.DownwardAPI != nil:
					for _, item := range src.DownwardAPI.Items {
						if readsSuper(item.FieldRef.FieldPath) {
							t.Fatalf("volume %s file %s reads the super pod's %s", v.Name, item.Path, item.FieldRef.FieldPath)
						}
					}
				case src.Secret != nil:
					for _, item := range src.Secret.Items {
						// A short-lived token (below TokenShortLived) has a key of its own,
						// any other the audience's.
						want := TokenKey(audience)
						if seconds > 0 && seconds < TokenShortLived {
							want = TokenKey(audience + "\x00" + strconv.FormatInt(seconds, 10))
						}
						if src.Secret.Name != TokenSecretName(cmp.Or(sa, "default")) || !tokenKeyRE.MatchString(item.Key) || item.Key != want {
							t.Fatalf("token projection %s key %s, want %s key %s", src.Secret.Name, item.Key, TokenSecretName(cmp.Or(sa, "default")), want)
						}
					}
				}
			}
		}
		if !reflect.DeepEqual(spec.HostAliases, []corev1.HostAlias{{IP: api.IP, Hostnames: append([]string{api.Host}, clusterdomain.InClusterNames("")...)}}) {
			t.Fatalf("host aliases %+v", spec.HostAliases)
		}
		for _, c := range append(spec.InitContainers, spec.Containers...) {
			hosts := 0
			for _, e := range c.Env {
				if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && readsSuper(e.ValueFrom.FieldRef.FieldPath) {
					t.Fatalf("container %s env %s reads the super pod's %s", c.Name, e.Name, e.ValueFrom.FieldRef.FieldPath)
				}
				if e.Name == EnvServiceHost {
					hosts++
				}
			}
			if hosts != 1 || c.Env[0].Name != EnvServiceHost && envName != EnvServiceHost {
				t.Fatalf("container %s env %+v: want KUBERNETES_SERVICE_HOST once, first unless the container sets it", c.Name, c.Env)
			}
			for _, from := range c.EnvFrom {
				if from.ConfigMapRef != nil && from.ConfigMapRef.Name == "kube-root-ca.crt" {
					t.Fatalf("container %s takes env from the super cluster's CA", c.Name)
				}
			}
		}
	})
}

// expiration is a projection's expirationSeconds: unset for 0 and below.
func expiration(seconds int64) *int64 {
	if seconds <= 0 {
		return nil
	}
	return &seconds
}
