// Package fleet turns an Application's targets into the clusters vcapp delivers to, and
// runs a delivery on them in the order of the Application's rollout.
//
// A target is a context of the user's kubeconfig, or VirtualClusters of a vcp super
// cluster selected by name or labels: their tenant kubeconfigs are read from the
// Secrets their status names, with the caller's own super-cluster credentials (vcapp
// has no credentials of its own). Selecting nothing, or failing to list, is an error
// before anything is touched: a typo in a selector must never look like "deploy to no
// cluster" (or, for delete, "delete everywhere it no longer matches").
package fleet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/vcp-dev/vcp/api/tenancy/v1alpha1"
	"github.com/vcp-dev/vcp/appdelivery/model"
)

// Target is one cluster to deliver to.
type Target struct {
	// Name is the target's name, and /<VirtualCluster> for one of several clusters a
	// VirtualCluster selector matched.
	Name string
	// Spec is the Application's target that selected the cluster (nil for a cluster
	// given on the command line).
	Spec *model.Target
	// Config reaches the cluster.
	Config *rest.Config
}

// Resolver finds the clusters of targets.
type Resolver struct {
	// Kubeconfig is the user's kubeconfig file ("": the default loading rules, KUBECONFIG
	// and ~/.kube/config); context targets name its contexts.
	Kubeconfig string
	// SuperKubeconfig reaches the super cluster for VirtualCluster targets ("":
	// Kubeconfig's current context).
	SuperKubeconfig string
	// SuperContext is the context of SuperKubeconfig to use ("": its current one).
	SuperContext string
}

// KubeconfigConfig returns the rest.Config of context (the current one when empty) of
// kubeconfig (the default loading rules when empty).
func KubeconfigConfig(kubeconfig, context string) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, "", err
	}
	name := context
	if name == "" {
		name = raw.CurrentContext
	}
	if _, ok := raw.Contexts[name]; !ok {
		return nil, "", fmt.Errorf("kubeconfig has no context %q", name)
	}
	cfg, err := cc.ClientConfig()
	return cfg, name, err
}

// Resolve returns the clusters targets select, in the order of targets (and of the
// VirtualClusters' names within one). It fails, selecting nothing, when a target
// selects no cluster, a listing fails or a selected VirtualCluster is not Running.
func (r *Resolver) Resolve(ctx context.Context, targets []model.Target) ([]Target, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("the application has no targets")
	}
	var super client.Client
	var out []Target
	for i := range targets {
		t := &targets[i]
		if t.Context != "" {
			cfg, _, err := KubeconfigConfig(r.Kubeconfig, t.Context)
			if err != nil {
				return nil, fmt.Errorf("target %s: %w", t.Name, err)
			}
			out = append(out, Target{Name: t.Name, Spec: t, Config: cfg})
			continue
		}
		if t.VirtualCluster == nil {
			return nil, fmt.Errorf("target %s: neither context nor virtualCluster", t.Name)
		}
		if super == nil {
			var err error
			if super, err = r.superClient(); err != nil {
				return nil, fmt.Errorf("target %s: super cluster: %w", t.Name, err)
			}
		}
		found, err := r.virtualClusters(ctx, super, t)
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", t.Name, err)
		}
		out = append(out, found...)
	}
	return out, nil
}

func (r *Resolver) superClient() (client.Client, error) {
	kubeconfig := r.SuperKubeconfig
	if kubeconfig == "" {
		kubeconfig = r.Kubeconfig
	}
	cfg, _, err := KubeconfigConfig(kubeconfig, r.SuperContext)
	if err != nil {
		return nil, err
	}
	// A fleet's kubeconfig Secrets are read at once; client-go's default 5 QPS would
	// queue them for seconds.
	cfg.QPS, cfg.Burst = 100, 200
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := tenancyv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: scheme})
}

// virtualClusters returns the clusters of a VirtualCluster target.
func (r *Resolver) virtualClusters(ctx context.Context, super client.Client, t *model.Target) ([]Target, error) {
	sel := t.VirtualCluster
	ns := sel.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	var vcs []tenancyv1alpha1.VirtualCluster
	if sel.Name != "" {
		vc := tenancyv1alpha1.VirtualCluster{}
		if err := super.Get(ctx, client.ObjectKey{Namespace: ns, Name: sel.Name}, &vc); err != nil {
			return nil, fmt.Errorf("VirtualCluster %s/%s: %w", ns, sel.Name, err)
		}
		vcs = append(vcs, vc)
	} else {
		ls, err := metav1.LabelSelectorAsSelector(sel.Selector)
		if err != nil {
			return nil, fmt.Errorf("virtualCluster.selector: %w", err)
		}
		list := &tenancyv1alpha1.VirtualClusterList{}
		if err := super.List(ctx, list, client.InNamespace(ns), client.MatchingLabelsSelector{Selector: ls}); err != nil {
			return nil, fmt.Errorf("list VirtualClusters in %s: %w", ns, err)
		}
		if len(list.Items) == 0 {
			return nil, fmt.Errorf("no VirtualCluster in namespace %s matches %s", ns, ls)
		}
		vcs = list.Items
		sort.Slice(vcs, func(i, j int) bool { return vcs[i].Name < vcs[j].Name })
	}
	for i := range vcs {
		if vc := &vcs[i]; vc.Status.Phase != tenancyv1alpha1.PhaseRunning || vc.Status.KubeconfigSecretRef == nil {
			return nil, fmt.Errorf("VirtualCluster %s/%s is %s, not Running", ns, vc.Name, orUnknown(string(vc.Status.Phase)))
		}
	}
	// The kubeconfig Secrets, all at once: a fleet has many.
	out := make([]Target, len(vcs))
	errs := make([]error, len(vcs))
	var wg sync.WaitGroup
	for i := range vcs {
		wg.Go(func() {
			vc := &vcs[i]
			ref := vc.Status.KubeconfigSecretRef
			s := &corev1.Secret{}
			if err := super.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, s); err != nil {
				errs[i] = fmt.Errorf("kubeconfig of VirtualCluster %s/%s: %w", ns, vc.Name, err)
				return
			}
			cfg, err := clientcmd.RESTConfigFromKubeConfig(s.Data[ref.Key])
			if err != nil {
				errs[i] = fmt.Errorf("kubeconfig of VirtualCluster %s/%s (Secret %s key %s): %w", ns, vc.Name, ref.Name, ref.Key, err)
				return
			}
			name := t.Name
			if sel.Name == "" {
				name = t.Name + "/" + vc.Name
			}
			out[i] = Target{Name: name, Spec: t, Config: cfg}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "not yet provisioned"
	}
	return s
}

// Outcome is what happened on one target.
type Outcome struct {
	Target Target
	// OK is false when the target failed (an error, or unhealthy).
	OK  bool
	Err error
	// Skipped is true when an earlier failure stopped the rollout before this target.
	Skipped bool
}

// Run calls deliver for every target, stage after stage of rollout (targets no stage
// names form a last stage), at most rollout.Parallelism at once (at least 1, and
// parallelism when rollout is nil). With stopOnFailure (the default) no target starts
// after one failed. Outcomes are in the order of targets.
func Run(ctx context.Context, targets []Target, rollout *model.Rollout, parallelism int, deliver func(context.Context, Target) (bool, error)) []Outcome {
	stopOnFailure := true
	var stages []model.Stage
	if rollout != nil {
		stages = rollout.Stages
		if rollout.Parallelism > 0 {
			parallelism = int(rollout.Parallelism)
		}
		if rollout.StopOnFailure != nil {
			stopOnFailure = *rollout.StopOnFailure
		}
	}
	if parallelism < 1 {
		parallelism = 1
	}
	// Group target indexes by stage.
	var groups [][]int
	placed := make([]bool, len(targets))
	for _, st := range stages {
		var g []int
		for i, t := range targets {
			if !placed[i] && t.Spec != nil && slices.Contains(st.Targets, t.Spec.Name) {
				g, placed[i] = append(g, i), true
			}
		}
		groups = append(groups, g)
	}
	var last []int
	for i := range targets {
		if !placed[i] {
			last = append(last, i)
		}
	}
	groups = append(groups, last)

	out := make([]Outcome, len(targets))
	for i := range targets {
		out[i] = Outcome{Target: targets[i], Skipped: true}
	}
	var mu sync.Mutex
	failed := false
	for _, g := range groups {
		sem := make(chan struct{}, parallelism)
		var wg sync.WaitGroup
		for _, i := range g {
			sem <- struct{}{}
			mu.Lock()
			stop := failed && stopOnFailure
			mu.Unlock()
			if stop || ctx.Err() != nil {
				<-sem
				break
			}
			wg.Go(func() {
				defer func() { <-sem }()
				ok, err := deliver(ctx, targets[i])
				mu.Lock()
				out[i] = Outcome{Target: targets[i], OK: ok && err == nil, Err: err}
				if !out[i].OK {
					failed = true
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		if failed && stopOnFailure {
			break
		}
	}
	return out
}
