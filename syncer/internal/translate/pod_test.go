package translate

import (
	"reflect"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/syncer/naming"
)

func tenantPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web-1", Namespace: "shop", UID: types.UID("uid-1"), ResourceVersion: "42",
			Labels:          map[string]string{"app": "web"},
			Annotations:     map[string]string{"note": "x"},
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web", UID: "rs"}},
			Finalizers:      []string{"tenant/finalizer"},
		},
		Spec: corev1.PodSpec{
			NodeName:           "virtual-node-1",
			ServiceAccountName: "builder",
			Priority:           ptr.To[int32](100),
			NodeSelector:       map[string]string{"disk": "ssd", tenancyv1alpha1.NodePoolLabel: "other"},
			Tolerations:        []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists}},
			Containers:         []corev1.Container{{Name: "app", Image: "nginx"}},
			ImagePullSecrets:   []corev1.LocalObjectReference{{Name: "regcred"}},
			// What the tenant's ServiceAccount admission mounts.
			Volumes: []corev1.Volume{{Name: "kube-api-access-abc", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](3607)}},
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
				{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
			}}}}},
		},
	}
}

func TestSuperPod(t *testing.T) {
	iso := Isolation{RuntimeClassName: "gvisor", NodePool: "dedicated-a", NodeSelector: map[string]string{"zone": "z1"},
		Tolerations: []corev1.Toleration{{Key: "gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}}
	in := tenantPod()
	before := in.DeepCopy()
	got := SuperPod("shop-a1b2c3", in, iso, nil)

	if got.Namespace != naming.SuperNamespace("shop-a1b2c3", "shop") || got.Name != "web-1" {
		t.Errorf("placed at %s/%s", got.Namespace, got.Name)
	}
	if id, ok := naming.IdentityOf(got); !ok || id != (naming.Identity{Tenant: "shop-a1b2c3", Namespace: "shop", Name: "web-1", UID: "uid-1"}) {
		t.Errorf("identity %+v, %v", id, ok)
	}
	if got.Labels["app"] != "web" || got.Annotations["note"] != "x" {
		t.Error("the tenant's labels and annotations are not kept (network policies select on them)")
	}
	if len(got.OwnerReferences) != 0 || len(got.Finalizers) != 0 || got.ResourceVersion != "" || got.UID != "" {
		t.Errorf("tenant-only metadata leaked: owners %v finalizers %v rv %q uid %q", got.OwnerReferences, got.Finalizers, got.ResourceVersion, got.UID)
	}
	s := got.Spec
	if s.NodeName != "" || s.Priority != nil {
		t.Errorf("nodeName %q, priority %v: want both cleared", s.NodeName, s.Priority)
	}
	if s.RuntimeClassName == nil || *s.RuntimeClassName != "gvisor" {
		t.Errorf("runtimeClassName %v, want gvisor forced", s.RuntimeClassName)
	}
	wantSel := map[string]string{"disk": "ssd", "zone": "z1", tenancyv1alpha1.NodePoolLabel: "dedicated-a"}
	if len(s.NodeSelector) != len(wantSel) {
		t.Errorf("nodeSelector %v, want %v", s.NodeSelector, wantSel)
	}
	for k, v := range wantSel {
		if s.NodeSelector[k] != v {
			t.Errorf("nodeSelector[%s] = %q, want %q (the platform's pool wins)", k, s.NodeSelector[k], v)
		}
	}
	if len(s.Tolerations) != 3 {
		t.Errorf("tolerations %v: want the tenant's, the platform's and the pool's", s.Tolerations)
	}
	if s.ServiceAccountName != "" || s.AutomountServiceAccountToken == nil || *s.AutomountServiceAccountToken {
		t.Errorf("service account %q automount %v: the super pod must not run as or mount a super account", s.ServiceAccountName, s.AutomountServiceAccountToken)
	}
	src := s.Volumes[0].Projected.Sources
	wantToken := []corev1.KeyToPath{{Key: "token", Path: "token"}}
	if len(src) != 3 || src[0].Secret == nil || src[0].Secret.Name != "vcp-token-builder" || !reflect.DeepEqual(src[0].Secret.Items, wantToken) {
		t.Errorf("the token projection not rewritten to the tenant token Secret: %+v", src)
	}
	if len(src) < 3 || src[2].DownwardAPI == nil || src[2].DownwardAPI.Items[0].FieldRef.FieldPath != "metadata.labels['tenancy.vcp.dev/namespace']" || got.Labels[naming.LabelNamespace] != "shop" {
		t.Errorf("the namespace file must read the super pod's label of the tenant namespace: %+v, labels %v", src, got.Labels)
	}
	if len(src) < 2 || src[1].ConfigMap == nil || src[1].ConfigMap.Name != "vcp-root-ca.crt" || src[1].ConfigMap.Items[0].Key != "ca.crt" {
		t.Errorf("the CA projection must name the copy of the tenant's CA, vcp-root-ca.crt: %+v", src)
	}
	if len(s.ImagePullSecrets) != 1 || s.ImagePullSecrets[0].Name != "regcred" {
		t.Errorf("image pull secrets %v: the tenant's (its service account's, put there by admission) must stay", s.ImagePullSecrets)
	}
	if in.Spec.NodeName != before.Spec.NodeName || in.Spec.Volumes[0].Projected.Sources[0].ServiceAccountToken == nil || in.Labels[naming.LabelTenant] != "" {
		t.Error("SuperPod changed the tenant pod it was given")
	}
}

func TestSuperPodWithoutIsolation(t *testing.T) {
	in := tenantPod()
	in.Spec.ServiceAccountName = ""
	got := SuperPod("t-000000", in, Isolation{}, nil)
	if got.Spec.RuntimeClassName != nil {
		t.Error("a runtime class appeared without isolation")
	}
	if got.Spec.NodeSelector[tenancyv1alpha1.NodePoolLabel] != "other" || len(got.Spec.Tolerations) != 1 {
		t.Errorf("without a pool the tenant's selector and tolerations stay: %v %v", got.Spec.NodeSelector, got.Spec.Tolerations)
	}
	if got.Spec.Volumes[0].Projected.Sources[0].Secret.Name != "vcp-token-default" {
		t.Error("a pod without a service account name uses the default account's token")
	}
	// The pool's toleration is not added twice when the tenant already has it.
	in.Spec.Tolerations = []corev1.Toleration{{Key: tenancyv1alpha1.NodePoolLabel, Operator: corev1.TolerationOpEqual, Value: "p", Effect: corev1.TaintEffectNoSchedule}}
	if got := SuperPod("t-000000", in, Isolation{NodePool: "p"}, nil); len(got.Spec.Tolerations) != 1 {
		t.Errorf("tolerations %v: want the pool's once", got.Spec.Tolerations)
	}
}

// TestSuperPodTenantReferences checks every way a pod can ask about its namespace, its
// service account or the API's CA: each gets the tenant's answer, not the super
// cluster's.
func TestSuperPodTenantReferences(t *testing.T) {
	fieldRef := func(path string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}
	}
	env := []corev1.EnvVar{
		{Name: "NS", ValueFrom: fieldRef("metadata.namespace")},
		{Name: "SA", ValueFrom: fieldRef("spec.serviceAccountName")},
		{Name: "POD", ValueFrom: fieldRef("metadata.name")},
		{Name: "UID", ValueFrom: fieldRef("metadata.uid")},
		{Name: "CA", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Key: "ca.crt"}}},
		{Name: "OTHER", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "k"}}},
	}
	envFrom := []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}}}
	in := tenantPod()
	in.Spec.InitContainers = []corev1.Container{{Name: "init", Env: env, EnvFrom: envFrom}}
	in.Spec.Containers[0].Env, in.Spec.Containers[0].EnvFrom = env, envFrom
	in.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Env: env}}}
	in.Spec.Volumes = append(in.Spec.Volumes,
		corev1.Volume{Name: "ca", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}}},
		// Without a token in the volume, the pod's name stays, its namespace and UID
		// read the super pod's identity.
		corev1.Volume{Name: "info", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{
				{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
				{Path: "uid", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.uid"}},
			}}},
		}}}},
		// Two tokens in one volume, next to a downward API file that is not the namespace.
		corev1.Volume{Name: "tokens", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "a"}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{
				{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
				{Path: "ns", Mode: ptr.To[int32](0o400), FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}},
			}}},
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "b"}},
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "vault", Audience: "vault"}},
			// Short-lived: its own token; as long as the usual one or longer: the usual.
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "short", ExpirationSeconds: ptr.To[int64](600)}},
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "long", ExpirationSeconds: ptr.To[int64](7200)}},
		}}}},
		corev1.Volume{Name: "plain", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
			{Path: "ns", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}},
			{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
		}}}},
	)
	got := SuperPod("t-000000", in, Isolation{}, nil).Spec

	wantEnv := []corev1.EnvVar{
		{Name: "NS", Value: "shop"},
		{Name: "SA", Value: "builder"},
		{Name: "POD", ValueFrom: fieldRef("metadata.name")},
		{Name: "UID", Value: "uid-1"},
		{Name: "CA", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "vcp-root-ca.crt"}, Key: "ca.crt"}}},
		env[5],
	}
	for _, c := range []struct {
		name    string
		env     []corev1.EnvVar
		envFrom []corev1.EnvFromSource
	}{{"init", got.InitContainers[0].Env, got.InitContainers[0].EnvFrom}, {"app", got.Containers[0].Env, got.Containers[0].EnvFrom}, {"debug", got.EphemeralContainers[0].Env, nil}} {
		if !reflect.DeepEqual(c.env, wantEnv) {
			t.Errorf("container %s env:\n got %+v\nwant %+v", c.name, c.env, wantEnv)
		}
		if c.envFrom != nil && c.envFrom[0].ConfigMapRef.Name != "vcp-root-ca.crt" {
			t.Errorf("container %s envFrom %+v: want the CA copy", c.name, c.envFrom)
		}
	}
	if in.Spec.Containers[0].Env[0].ValueFrom == nil {
		t.Error("SuperPod changed the tenant pod's env")
	}
	if got.Volumes[1].ConfigMap.Name != "vcp-root-ca.crt" {
		t.Errorf("a ConfigMap volume of the tenant's CA names %q, want vcp-root-ca.crt", got.Volumes[1].ConfigMap.Name)
	}
	wantInfo := []corev1.DownwardAPIVolumeFile{
		{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
		{Path: "uid", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['tenancy.vcp.dev/uid']"}},
	}
	if info := got.Volumes[2].Projected.Sources; len(info) != 1 || info[0].DownwardAPI == nil || !reflect.DeepEqual(info[0].DownwardAPI.Items, wantInfo) {
		t.Errorf("a projected volume without a token:\n got %+v\nwant %+v", info, wantInfo)
	}
	wantPlain := []corev1.DownwardAPIVolumeFile{
		{Path: "ns", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['tenancy.vcp.dev/namespace']"}},
		{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
	}
	if plain := got.Volumes[4].DownwardAPI; plain == nil || !reflect.DeepEqual(plain.Items, wantPlain) {
		t.Errorf("a downward API volume:\n got %+v\nwant %+v", plain, wantPlain)
	}
	tokens := got.Volumes[3].Projected.Sources
	wantTokens := []corev1.VolumeProjection{
		{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "vcp-token-builder"}, Items: []corev1.KeyToPath{
			{Key: "token", Path: "a"}, {Key: "token", Path: "b"}, {Key: TokenKey("vault"), Path: "vault"},
			{Key: TokenKey("\x00600"), Path: "short"}, {Key: "token", Path: "long"},
		}}},
		{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{
			{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
			{Path: "ns", Mode: ptr.To[int32](0o400), FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['tenancy.vcp.dev/namespace']"}},
		}}},
	}
	if !reflect.DeepEqual(tokens, wantTokens) {
		t.Errorf("volume with two tokens:\n got %+v\nwant %+v", tokens, wantTokens)
	}
	if got := TokenRequests(in); !reflect.DeepEqual(got, []string{"", "\x00600", "vault"}) {
		t.Errorf("TokenRequests = %q, want the API's own, the API's own for 600 s and vault", got)
	}
	if sa, ok := TokenServiceAccount(in); !ok || sa != "builder" {
		t.Errorf("TokenServiceAccount = %q, %v; want builder", sa, ok)
	}
	in.Spec.Volumes, in.Spec.ServiceAccountName = nil, ""
	if sa, ok := TokenServiceAccount(in); ok {
		t.Errorf("a pod without a token volume needs the token of %q", sa)
	}
}

func TestSuperPodReachesTenantAPI(t *testing.T) {
	api := TenantAPI{Host: "a.tenants.vcp.local", IP: "10.96.0.20", Port: "6443"}
	apiEnv := []corev1.EnvVar{{Name: EnvServiceHost, Value: api.Host}, {Name: EnvServicePort, Value: "6443"}, {Name: EnvServicePortHTTPS, Value: "6443"}}
	own := corev1.EnvVar{Name: "URL", Value: "https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)"}
	alias := corev1.HostAlias{IP: "10.0.0.9", Hostnames: []string{"db.example"}}
	inCluster := []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	tenantAlias := corev1.HostAlias{IP: "10.96.0.20", Hostnames: append([]string{"a.tenants.vcp.local"}, inCluster...)}
	for _, tc := range []struct {
		name        string
		api         TenantAPI
		env         []corev1.EnvVar
		aliases     []corev1.HostAlias
		wantEnv     []corev1.EnvVar
		wantAliases []corev1.HostAlias
		domain      string
	}{
		{name: "no address known: the pod is left as it is", env: []corev1.EnvVar{own}, wantEnv: []corev1.EnvVar{own}},
		{name: "half an address: left as it is", api: TenantAPI{Host: api.Host, Port: api.Port}, env: []corev1.EnvVar{own}, wantEnv: []corev1.EnvVar{own}},
		{name: "the tenant API first, so references see it", api: api, env: []corev1.EnvVar{own},
			wantEnv:     append(slices.Clone(apiEnv), own),
			wantAliases: []corev1.HostAlias{tenantAlias}},
		{name: "an address for a name: the environment only", api: TenantAPI{Host: "10.96.0.20", IP: "10.96.0.20", Port: "6443"},
			wantEnv:     []corev1.EnvVar{{Name: EnvServiceHost, Value: "10.96.0.20"}, apiEnv[1], apiEnv[2]},
			wantAliases: []corev1.HostAlias{{IP: "10.96.0.20", Hostnames: inCluster}}},
		{name: "another cluster domain", api: api, domain: "corp.internal",
			wantEnv:     apiEnv,
			wantAliases: []corev1.HostAlias{{IP: "10.96.0.20", Hostnames: []string{"a.tenants.vcp.local", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.corp.internal"}}}},
		{name: "the container's own value wins; the pod's aliases stay", api: api,
			env:         []corev1.EnvVar{own, {Name: EnvServiceHost, Value: "my-proxy"}},
			aliases:     []corev1.HostAlias{alias},
			wantEnv:     []corev1.EnvVar{apiEnv[1], apiEnv[2], own, {Name: EnvServiceHost, Value: "my-proxy"}},
			wantAliases: []corev1.HostAlias{alias, tenantAlias}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tenantPod()
			in.Spec.HostAliases = slices.Clone(tc.aliases)
			in.Spec.InitContainers = []corev1.Container{{Name: "init", Env: slices.Clone(tc.env)}}
			in.Spec.Containers[0].Env = slices.Clone(tc.env)
			in.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Env: slices.Clone(tc.env)}}}
			before := in.DeepCopy()
			got := SuperPod("a-000000", in, Isolation{API: tc.api, ClusterDomain: tc.domain}, nil).Spec
			for name, env := range map[string][]corev1.EnvVar{"init": got.InitContainers[0].Env, "app": got.Containers[0].Env, "debug": got.EphemeralContainers[0].Env} {
				if !reflect.DeepEqual(env, tc.wantEnv) {
					t.Errorf("container %s env:\n got %+v\nwant %+v", name, env, tc.wantEnv)
				}
			}
			if !reflect.DeepEqual(got.HostAliases, tc.wantAliases) {
				t.Errorf("host aliases:\n got %+v\nwant %+v", got.HostAliases, tc.wantAliases)
			}
			if !reflect.DeepEqual(in, before) {
				t.Error("SuperPod changed the tenant pod")
			}
		})
	}
}

func TestIsolationFor(t *testing.T) {
	vc := &tenancyv1alpha1.VirtualCluster{Spec: tenancyv1alpha1.VirtualClusterSpec{Isolation: tenancyv1alpha1.IsolationSpec{
		RuntimeClassName: "kata",
		NodePool:         tenancyv1alpha1.NodePoolSpec{Name: "p", NodeSelector: map[string]tenancyv1alpha1.LabelValue{"z": "1"}},
	}}}
	iso := IsolationFor(vc)
	if iso.RuntimeClassName != "kata" || iso.NodePool != "p" || iso.NodeSelector["z"] != "1" {
		t.Errorf("IsolationFor = %+v", iso)
	}
}

func TestTokenSecretName(t *testing.T) {
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a'
	}
	if n := TokenSecretName(string(long)); len(n) > 253 {
		t.Errorf("TokenSecretName of a 300-character name is %d characters", len(n))
	}
	if a, b := TokenSecretName(string(long)), TokenSecretName(string(long[:299])+"b"); a == b {
		t.Errorf("two long service account names share the token Secret %q", a)
	}
	if n := TokenSecretName("default"); n != "vcp-token-default" {
		t.Errorf("TokenSecretName(default) = %q", n)
	}
}

// TestSuperPodEphemeralVolumes: a generic ephemeral volume becomes the claim the tenant's
// ephemeral volume controller made for it; other volumes stay.
func TestSuperPodEphemeralVolumes(t *testing.T) {
	in := tenantPod()
	in.Spec.Volumes = []corev1.Volume{
		{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}}}}}},
	}
	before := in.DeepCopy()
	got := SuperPod("a-000000", in, Isolation{}, nil).Spec.Volumes
	want := []corev1.Volume{
		{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "scratch", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: in.Name + "-scratch"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("volumes:\n got %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(in, before) {
		t.Error("SuperPod changed the tenant pod")
	}
}
