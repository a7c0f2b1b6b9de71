package localcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/config/crd"
	"github.com/vcp-dev/vcp/internal/netutil"
)

// The local platform's fixed names.
const (
	// SystemNamespace holds the platform's own objects (leader-election Lease, host token).
	SystemNamespace = "vcp-system"
	// LocalHostName is the TenantHost the local tenant-apiserver registers as.
	LocalHostName = "local"
	// hostTokenSecret holds the local host's admin token for the vc-manager.
	hostTokenSecret = "tenant-host-admin"
)

// Platform says where the local platform's own components listen.
type Platform struct {
	// HostURL is the tenant-apiserver host's tenant port (tenants are served under it).
	HostURL string `json:"hostURL,omitempty"`
	// HostAdminURL is the tenant-apiserver host's admin API.
	HostAdminURL string `json:"hostAdminURL"`
	// HostDataDir holds the host's tenants and its embedded etcd.
	HostDataDir string `json:"hostDataDir"`
	// HostEtcdURL is the host's embedded etcd (TLS; client certificates in
	// <HostDataDir>/etcd-pki: root.crt/root.key is etcd's root user).
	HostEtcdURL string `json:"hostEtcdURL"`
}

// StartPlatform starts vcp's components on a running local super cluster: it installs
// the CRDs, then a tenant-apiserver host (embedded etcd with one etcd user per tenant)
// that registers itself as TenantHost "local", the vc-manager and the syncer. Both are recorded like
// the cluster's own processes, so Stop (and `make down`) stops them too.
func (c *Cluster) StartPlatform(ctx context.Context) error {
	restCfg, err := c.RESTConfig()
	if err != nil {
		return err
	}
	if err := InstallCRDs(ctx, restCfg); err != nil {
		return err
	}
	superClient, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return err
	}
	tokenFile := filepath.Join(c.Dir, "pki", "tenant-host-admin.token")
	token, err := ensureToken(tokenFile)
	if err != nil {
		return err
	}
	if err := ensureSystemObjects(ctx, superClient, token); err != nil {
		return err
	}
	ports, err := netutil.FreePorts(3)
	if err != nil {
		return err
	}
	hostPort, adminPort, etcdPort := ports[0], ports[1], ports[2]
	c.Platform = &Platform{
		HostURL:      "https://127.0.0.1:" + strconv.Itoa(hostPort),
		HostAdminURL: "http://127.0.0.1:" + strconv.Itoa(adminPort),
		HostDataDir:  filepath.Join(c.Dir, "tenant-apiserver"),
		HostEtcdURL:  "https://127.0.0.1:" + strconv.Itoa(etcdPort),
	}
	host, err := c.start("tenant-apiserver", "tenant-apiserver", []string{
		"--data-dir=" + c.Platform.HostDataDir,
		"--listen-address=127.0.0.1:" + strconv.Itoa(hostPort),
		"--admin-address=127.0.0.1:" + strconv.Itoa(adminPort),
		"--admin-token-file=" + tokenFile,
		"--embedded-etcd-auth",
		"--embedded-etcd-port=" + strconv.Itoa(etcdPort),
		"--register-kubeconfig=" + c.Kubeconfig,
		"--host-name=" + LocalHostName,
		"--admin-token-secret=" + SystemNamespace + "/" + hostTokenSecret + "/token",
		"--capacity=100",
	}, []int{hostPort, adminPort, etcdPort})
	if err != nil {
		return err
	}
	tenancy, err := tenancyClient(restCfg)
	if err != nil {
		return err
	}
	errs := make(chan error, 3)
	go func() {
		_, err := c.StartSyncer(ctx)
		errs <- err
	}()
	go func() {
		errs <- c.waitFor(ctx, host, func(ctx context.Context) error {
			if err := httpGetOK(ctx, nil, c.Platform.HostAdminURL+"/healthz", "ok"); err != nil {
				return err
			}
			th := &tenancyv1alpha1.TenantHost{}
			if err := tenancy.Get(ctx, client.ObjectKey{Name: LocalHostName}, th); err != nil {
				return fmt.Errorf("TenantHost %s: %w", LocalHostName, err)
			}
			return nil
		})
	}()
	go func() {
		_, err := c.StartManager(ctx, "vc-manager")
		errs <- err
	}()
	return errors.Join(<-errs, <-errs, <-errs, c.save())
}

// StartSyncer starts the syncer (patrolling every 5 s, so a local platform cleans up
// quickly) and waits until it answers its health probe.
func (c *Cluster) StartSyncer(ctx context.Context) (*Process, error) {
	return c.startController(ctx, "syncer", "syncer", "--patrol-interval=5s", "--kubeconfig-recheck=5s", "--profiling")
}

// StartManager starts a vc-manager recorded under name (several may run: they elect a
// leader) and waits until it answers its health probe.
func (c *Cluster) StartManager(ctx context.Context, name string) (*Process, error) {
	return c.startController(ctx, name, "vc-manager")
}

// startController starts one of vcp's super-cluster controllers (they share their flags,
// internal/ctrlapp) on free ports and waits until it answers its health probe.
func (c *Cluster) startController(ctx context.Context, name, binary string, extraArgs ...string) (*Process, error) {
	ports, err := netutil.FreePorts(2)
	if err != nil {
		return nil, err
	}
	health := "http://127.0.0.1:" + strconv.Itoa(ports[1]) + "/readyz"
	p, err := c.start(name, binary, append([]string{
		"--kubeconfig=" + c.Kubeconfig,
		"--leader-election-namespace=" + SystemNamespace,
		"--metrics-bind-address=127.0.0.1:" + strconv.Itoa(ports[0]),
		"--health-probe-bind-address=127.0.0.1:" + strconv.Itoa(ports[1]),
	}, extraArgs...), ports)
	if err != nil {
		return nil, err
	}
	return p, c.waitFor(ctx, p, func(ctx context.Context) error { return httpGetOK(ctx, nil, health, "ok") })
}

// Kill ends the process recorded under name at once (SIGKILL, as a crash would) and
// forgets it.
func (c *Cluster) Kill(name string) error {
	c.mu.Lock()
	var victim *Process
	for i, p := range c.Processes {
		if p.Name == name {
			victim = p
			c.Processes = append(c.Processes[:i:i], c.Processes[i+1:]...)
			break
		}
	}
	c.mu.Unlock()
	if victim == nil {
		return fmt.Errorf("no process %s is recorded", name)
	}
	if victim.Alive() {
		if err := syscall.Kill(-victim.PID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("kill %s (pid %d): %w", name, victim.PID, err)
		}
	}
	if err := wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return !victim.Alive(), nil
	}); err != nil {
		return fmt.Errorf("%s (pid %d) still runs after SIGKILL", name, victim.PID)
	}
	return c.save()
}

// InstallCRDs applies vcp's CRDs (the ones the Helm chart ships) and waits until they are
// established.
func InstallCRDs(ctx context.Context, restCfg *rest.Config) error {
	return installCRDs(ctx, restCfg)
}

func ensureToken(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
		return string(b), nil
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	token := hex.EncodeToString(buf)
	return token, os.WriteFile(path, []byte(token), 0o600)
}

func ensureSystemObjects(ctx context.Context, superClient kubernetes.Interface, token string) error {
	_, err := superClient.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: SystemNamespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", SystemNamespace, err)
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: hostTokenSecret, Namespace: SystemNamespace},
		Data:       map[string][]byte{"token": []byte(token)},
	}
	_, err = superClient.CoreV1().Secrets(SystemNamespace).Create(ctx, secret, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		_, err = superClient.CoreV1().Secrets(SystemNamespace).Update(ctx, secret, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("host admin token Secret: %w", err)
	}
	return nil
}

// tenancyClient is a controller-runtime client that knows the tenancy API.
func tenancyClient(restCfg *rest.Config) (client.Client, error) {
	scheme := runtime.NewScheme()
	if err := tenancyv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	return client.New(restCfg, client.Options{Scheme: scheme})
}

func installCRDs(ctx context.Context, restCfg *rest.Config) error {
	crds, err := crd.CRDs()
	if err != nil {
		return err
	}
	cs, err := apiextensionsclient.NewForConfig(restCfg)
	if err != nil {
		return err
	}
	for _, want := range crds {
		got, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, want.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, err = cs.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, want, metav1.CreateOptions{})
		case err == nil:
			want.ResourceVersion = got.ResourceVersion
			_, err = cs.ApiextensionsV1().CustomResourceDefinitions().Update(ctx, want, metav1.UpdateOptions{})
		}
		if err != nil {
			return fmt.Errorf("install CRD %s: %w", want.Name, err)
		}
	}
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		for _, want := range crds {
			got, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, want.Name, metav1.GetOptions{})
			if err != nil || !established(got) {
				return false, nil
			}
		}
		return true, nil
	})
}

func established(c *apiextensionsv1.CustomResourceDefinition) bool {
	for _, cond := range c.Status.Conditions {
		if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
			return true
		}
	}
	return false
}

// EnsureTenant creates the VirtualCluster namespace/name unless it exists, waits until it
// is Ready at its host's current endpoint and writes its admin kubeconfig, naming that
// endpoint, to <Dir>/<name>.kubeconfig, whose path it returns. It fails with the Ready
// condition's message when the tenant does not get there. A VirtualCluster kept from an
// earlier run is Ready from the start, at the address its host had then (the host gets
// new ports each run): it counts once the vc-manager has moved it and its kubeconfig to
// the host's address of this run.
func (c *Cluster) EnsureTenant(ctx context.Context, namespace, name string) (string, error) {
	if c.Platform == nil || c.Platform.HostURL == "" {
		return "", errors.New("the platform is not started here (StartPlatform): no host address to wait for")
	}
	restCfg, err := c.RESTConfig()
	if err != nil {
		return "", err
	}
	tenancy, err := tenancyClient(restCfg)
	if err != nil {
		return "", err
	}
	vc := &tenancyv1alpha1.VirtualCluster{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	if err := tenancy.Create(ctx, vc); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("create VirtualCluster %s/%s: %w", namespace, name, err)
	}
	var last string
	var kubeconfig []byte
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, c.cfg.readyTimeout(), true, func(ctx context.Context) (bool, error) {
		if err := tenancy.Get(ctx, client.ObjectKeyFromObject(vc), vc); err != nil {
			last = err.Error()
			return false, nil
		}
		ready := meta.FindStatusCondition(vc.Status.Conditions, tenancyv1alpha1.ConditionReady)
		if ready == nil || ready.Status != metav1.ConditionTrue || vc.Status.KubeconfigSecretRef == nil {
			if ready != nil {
				last = ready.Reason + ": " + ready.Message
			}
			return false, nil
		}
		// The host's address of this run (the TenantHost object may still hold the last
		// run's until the host has registered again).
		hostURL := c.Platform.HostURL
		if !strings.HasPrefix(vc.Status.Endpoint, hostURL+"/") {
			last = fmt.Sprintf("endpoint %q is not yet on its host's %s", vc.Status.Endpoint, hostURL)
			return false, nil
		}
		secret := &corev1.Secret{}
		ref := vc.Status.KubeconfigSecretRef
		if err := tenancy.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, secret); err != nil {
			last = fmt.Sprintf("kubeconfig Secret %s: %v", ref.Name, err)
			return false, nil
		}
		cfg, err := clientcmd.RESTConfigFromKubeConfig(secret.Data[ref.Key])
		if err != nil || cfg.Host != vc.Status.Endpoint {
			last = fmt.Sprintf("kubeconfig Secret %s does not name endpoint %s yet", ref.Name, vc.Status.Endpoint)
			return false, nil
		}
		kubeconfig = secret.Data[ref.Key]
		return true, nil
	})
	if err != nil {
		return "", fmt.Errorf("tenant %s/%s is not Ready (%s): %w", namespace, name, last, err)
	}
	path := filepath.Join(c.Dir, name+".kubeconfig")
	return path, os.WriteFile(path, kubeconfig, 0o600)
}
