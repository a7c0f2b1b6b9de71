package policy

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestNormalizeImage(t *testing.T) {
	for image, want := range map[string]string{
		"nginx":                               "docker.io/library/nginx",
		"nginx:1.27":                          "docker.io/library/nginx",
		"nginx@sha256:abc":                    "docker.io/library/nginx",
		"team/app:v1":                         "docker.io/team/app",
		"docker.io/nginx":                     "docker.io/library/nginx",
		"index.docker.io/team/app":            "docker.io/team/app",
		"registry.example.com/team/app:v1":    "registry.example.com/team/app",
		"registry.example.com:5000/app:v1":    "registry.example.com:5000/app",
		"localhost/app":                       "localhost/app",
		"localhost:5000/app@sha256:abc":       "localhost:5000/app",
		"ghcr.io/org/sub/app:1.0@sha256:1234": "ghcr.io/org/sub/app",
	} {
		if got := NormalizeImage(image); got != want {
			t.Errorf("NormalizeImage(%q) = %q, want %q", image, got, want)
		}
	}
}

func FuzzNormalizeImage(f *testing.F) {
	for _, s := range []string{"nginx", "a/b:c", "r.io:1/x@sha256:0", "", ":", "/", "@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, image string) {
		repo := NormalizeImage(image)
		if again := NormalizeImage(repo); again != repo {
			t.Fatalf("not idempotent: %q → %q → %q", image, repo, again)
		}
		if strings.Contains(repo, "@") {
			t.Fatalf("%q kept a digest: %q", image, repo)
		}
	})
}

func pod(mutate func(*corev1.PodSpec)) (*metav1.ObjectMeta, *corev1.PodSpec) {
	spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/team/app:v1"}}}
	mutate(spec)
	return &metav1.ObjectMeta{Name: "p"}, spec
}

func TestPod(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		name   string
		policy *Policy
		mutate func(*corev1.PodSpec)
		// want are substrings of the error; none means allowed.
		want []string
	}{
		{"nil policy allows all", nil, func(s *corev1.PodSpec) { s.HostNetwork = true }, nil},
		{"privileged level allows hostNetwork", &Policy{PodSecurity: "privileged"}, func(s *corev1.PodSpec) { s.HostNetwork = true }, nil},
		{"baseline allows a plain pod", &Policy{PodSecurity: "baseline"}, func(*corev1.PodSpec) {}, nil},
		{"baseline refuses hostNetwork", &Policy{PodSecurity: "baseline"}, func(s *corev1.PodSpec) { s.HostNetwork = true },
			[]string{"spec.isolation.podSecurity.level", "hostNetwork=true", `"baseline"`}},
		{"baseline refuses hostPID", &Policy{PodSecurity: "baseline"}, func(s *corev1.PodSpec) { s.HostPID = true }, []string{"hostPID=true"}},
		{"baseline refuses privileged", &Policy{PodSecurity: "baseline"}, func(s *corev1.PodSpec) {
			s.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: &yes}
		}, []string{"privileged"}},
		{"baseline refuses hostPath", &Policy{PodSecurity: "baseline"}, func(s *corev1.PodSpec) {
			s.Volumes = []corev1.Volume{{Name: "root", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}}
		}, []string{"hostPath volumes", "root"}},
		{"baseline refuses added capabilities", &Policy{PodSecurity: "baseline"}, func(s *corev1.PodSpec) {
			s.Containers[0].SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN"}}}
		}, []string{"SYS_ADMIN"}},
		{"restricted refuses running as root by default", &Policy{PodSecurity: "restricted"}, func(*corev1.PodSpec) {}, []string{"runAsNonRoot"}},
		{"registry allowed", &Policy{Registries: []string{"registry.example.com/team"}}, func(*corev1.PodSpec) {}, nil},
		{"registry prefix is per path segment", &Policy{Registries: []string{"registry.example.com/te"}}, func(*corev1.PodSpec) {},
			[]string{"spec.containers[0].image", "spec.isolation.allowed.registries"}},
		{"short names are docker.io/library", &Policy{Registries: []string{"docker.io/library"}}, func(s *corev1.PodSpec) {
			s.Containers[0].Image = "nginx:1.27"
			s.InitContainers = []corev1.Container{{Name: "init", Image: "evil.io/x"}}
		}, []string{"spec.initContainers[0].image", `"evil.io/x"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			meta, spec := pod(tc.mutate)
			errs := tc.policy.Pod(field.NewPath(""), meta, spec)
			if len(tc.want) == 0 {
				if len(errs) > 0 {
					t.Fatalf("refused: %v", errs.ToAggregate())
				}
				return
			}
			if len(errs) == 0 {
				t.Fatalf("allowed; want an error with %q", tc.want)
			}
			msg := errs.ToAggregate().Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestServiceClaimIngress(t *testing.T) {
	p := &Policy{ServiceTypes: []string{"ClusterIP"}, StorageClasses: []string{"fast"}, IngressClasses: []string{"nginx"}}
	svc := func(typ corev1.ServiceType) *corev1.Service {
		return &corev1.Service{Spec: corev1.ServiceSpec{Type: typ}}
	}
	if errs := p.Service(svc("")); len(errs) > 0 {
		t.Errorf("a Service without type is ClusterIP: %v", errs)
	}
	if errs := p.Service(svc(corev1.ServiceTypeNodePort)); len(errs) != 1 || !strings.Contains(errs[0].Error(), "spec.type") || !strings.Contains(errs[0].Error(), "NodePort") {
		t.Errorf("NodePort: %v", errs)
	}
	class := func(s string) *string { return &s }
	if errs := p.PersistentVolumeClaim(&corev1.PersistentVolumeClaim{}); len(errs) > 0 {
		t.Errorf("a claim without class gets the default: %v", errs)
	}
	if errs := p.PersistentVolumeClaim(&corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: class("slow")}}); len(errs) != 1 || !strings.Contains(errs[0].Error(), `"slow"`) {
		t.Errorf("class slow: %v", errs)
	}
	if errs := p.Ingress(&networkingv1.Ingress{Spec: networkingv1.IngressSpec{IngressClassName: class("nginx")}}); len(errs) > 0 {
		t.Errorf("class nginx: %v", errs)
	}
	if errs := p.Ingress(&networkingv1.Ingress{Spec: networkingv1.IngressSpec{IngressClassName: class("public")}}); len(errs) != 1 || !strings.Contains(errs[0].Error(), "spec.ingressClassName") {
		t.Errorf("class public: %v", errs)
	}
	if err := (&Policy{PodSecurity: "lax"}).Validate(); err == nil || !strings.Contains(err.Error(), "policy.podSecurity") {
		t.Errorf("Validate of a bad level: %v", err)
	}
	if err := (&Policy{ServiceTypes: []string{"Headless"}}).Validate(); err == nil || !strings.Contains(err.Error(), "policy.serviceTypes[0]") {
		t.Errorf("Validate of a bad type: %v", err)
	}
}

func TestClaimDataSources(t *testing.T) {
	str := func(s string) *string { return &s }
	snapshots := str("snapshot.storage.k8s.io")
	clone := &corev1.TypedLocalObjectReference{Kind: "PersistentVolumeClaim", Name: "data"}
	snapshot := &corev1.TypedLocalObjectReference{APIGroup: snapshots, Kind: "VolumeSnapshot", Name: "nightly"}
	for _, tc := range []struct {
		name string
		spec corev1.PersistentVolumeClaimSpec
		want []string // substrings of the errors, in order; none: allowed
	}{
		{name: "no data source"},
		{name: "a clone of a claim of the same namespace", spec: corev1.PersistentVolumeClaimSpec{DataSource: clone,
			DataSourceRef: &corev1.TypedObjectReference{Kind: "PersistentVolumeClaim", Name: "data"}}},
		{name: "a clone with the core group spelt out", spec: corev1.PersistentVolumeClaimSpec{DataSource: &corev1.TypedLocalObjectReference{APIGroup: str(""), Kind: "PersistentVolumeClaim", Name: "data"}}},
		{name: "a snapshot, both fields set by the API server: named once, at dataSource", spec: corev1.PersistentVolumeClaimSpec{DataSource: snapshot,
			DataSourceRef: &corev1.TypedObjectReference{APIGroup: snapshots, Kind: "VolumeSnapshot", Name: "nightly"}},
			want: []string{`spec.dataSource: Forbidden: data source VolumeSnapshot.snapshot.storage.k8s.io "nightly" cannot be used in a vcp tenant`}},
		{name: "a populator's object in dataSourceRef only", spec: corev1.PersistentVolumeClaimSpec{
			DataSourceRef: &corev1.TypedObjectReference{APIGroup: str("hello.example.com"), Kind: "Hello", Name: "h"}},
			want: []string{`spec.dataSourceRef: Forbidden: data source Hello.hello.example.com "h"`}},
		{name: "a kind named like a claim in another group", spec: corev1.PersistentVolumeClaimSpec{
			DataSource: &corev1.TypedLocalObjectReference{APIGroup: str("example.com"), Kind: "PersistentVolumeClaim", Name: "x"}},
			want: []string{`spec.dataSource: Forbidden: data source PersistentVolumeClaim.example.com "x"`}},
		{name: "a claim of another namespace", spec: corev1.PersistentVolumeClaimSpec{
			DataSourceRef: &corev1.TypedObjectReference{Kind: "PersistentVolumeClaim", Name: "data", Namespace: str("other")}},
			want: []string{`spec.dataSourceRef.namespace: Forbidden: a data source in another namespace ("other")`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for who, p := range map[string]*Policy{"the zero policy": {}, "a policy with classes": {StorageClasses: []string{"fast"}}} {
				errs := p.PersistentVolumeClaim(&corev1.PersistentVolumeClaim{Spec: tc.spec})
				if len(errs) != len(tc.want) {
					t.Fatalf("%s: errors %v, want %d", who, errs, len(tc.want))
				}
				for i, want := range tc.want {
					if !strings.Contains(errs[i].Error(), want) {
						t.Errorf("%s: error %q, want it to contain %q", who, errs[i].Error(), want)
					}
				}
			}
		})
	}
}

// TestPodEphemeralVolumeClaims: the claim template of a generic ephemeral volume is held
// to the rules of claims, at the pod, naming the volume.
func TestPodEphemeralVolumeClaims(t *testing.T) {
	str := func(s string) *string { return &s }
	pod := func(class *string, source *corev1.TypedLocalObjectReference) *corev1.PodSpec {
		return &corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}, Volumes: []corev1.Volume{
			{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{
				Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: class, DataSource: source}}}}},
		}}
	}
	p := &Policy{StorageClasses: []string{"fast"}}
	if errs := p.PodClaimTemplates(nil, pod(str("fast"), &corev1.TypedLocalObjectReference{Kind: "PersistentVolumeClaim", Name: "seed"})); len(errs) > 0 {
		t.Errorf("an allowed class cloning a claim: %v", errs)
	}
	bad := pod(str("slow"), &corev1.TypedLocalObjectReference{APIGroup: str("snapshot.storage.k8s.io"), Kind: "VolumeSnapshot", Name: "s"})
	if errs := p.Pod(nil, &metav1.ObjectMeta{}, bad); len(errs) > 0 {
		t.Errorf("Pod (which updates go through too) judged the claim templates: %v", errs)
	}
	errs := p.PodClaimTemplates(nil, bad)
	want := []string{
		`spec.volumes[1].ephemeral.volumeClaimTemplate.spec.dataSource: Forbidden: data source VolumeSnapshot.snapshot.storage.k8s.io "s"`,
		`spec.volumes[1].ephemeral.volumeClaimTemplate.spec.storageClassName: Forbidden: storage class "slow" is not allowed`,
	}
	if len(errs) != len(want) {
		t.Fatalf("errors %v, want %d", errs, len(want))
	}
	for i := range want {
		if !strings.Contains(errs[i].Error(), want[i]) {
			t.Errorf("error %q, want it to contain %q", errs[i].Error(), want[i])
		}
	}
}
