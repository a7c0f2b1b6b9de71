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
