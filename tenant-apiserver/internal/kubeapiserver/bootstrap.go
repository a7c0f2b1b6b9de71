package kubeapiserver

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/component-helpers/auth/rbac/reconciliation"
	"k8s.io/klog/v2"
	schedulingapiv1 "k8s.io/kubernetes/pkg/apis/scheduling/v1"
	rbacrest "k8s.io/kubernetes/pkg/registry/rbac/rest"
	schedulingrest "k8s.io/kubernetes/pkg/registry/scheduling/rest"
	"k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac/bootstrappolicy"
)

// Two of upstream's post-start hooks, the RBAC bootstrap policy and the system priority
// classes, start with wait.Poll, which sleeps its one-second interval before the first
// attempt: every tenant was a second later ready than it needs to be (its /readyz waits
// for both), about half of the time from "add tenant" to a working kubeconfig. The host
// turns them off (Config.DisabledPostStartHooks) and runs these instead: the same objects,
// reconciled the same way, first attempt at once, retried every second for 30 seconds.
//
// Left out: upstream's migrations for clusters older than Kubernetes 1.9 (copying
// pre-aggregation roles, splitting old bindings); no tenant has such objects.
const (
	rbacBootstrapHook     = "vcp/rbac-bootstrap-roles"
	priorityClassesHook   = "vcp/bootstrap-system-priority-classes"
	bootstrapPollInterval = time.Second
)

// bootstrapTimeout bounds a bootstrap hook on a running server (a variable for tests).
var bootstrapTimeout = 30 * time.Second

// replacedPostStartHooks are upstream's hooks that bootstrapHooks replace.
var replacedPostStartHooks = []string{rbacrest.PostStartHookName, schedulingrest.PostStartHookName}

// addBootstrapHooks adds the replacement hooks to the outermost server of the chain
// (hooks of delegates are copied when the outer server is built, so they must go there).
func addBootstrapHooks(s *genericapiserver.GenericAPIServer) error {
	if err := s.AddPostStartHook(rbacBootstrapHook, func(ctx genericapiserver.PostStartHookContext) error {
		return pollBootstrap(ctx, "RBAC bootstrap policy", ensureRBACPolicy)
	}); err != nil {
		return err
	}
	return s.AddPostStartHook(priorityClassesHook, func(ctx genericapiserver.PostStartHookContext) error {
		return pollBootstrap(ctx, "system priority classes", ensureSystemPriorityClasses)
	})
}

// pollBootstrap runs ensure with a loopback client until it reports done, at once and
// then every bootstrapPollInterval, for at most bootstrapTimeout.
func pollBootstrap(hookCtx genericapiserver.PostStartHookContext, what string, ensure func(context.Context, kubernetes.Interface) bool) error {
	client, err := kubernetes.NewForConfig(hookCtx.LoopbackClientConfig)
	if err != nil {
		return err
	}
	err = wait.PollUntilContextTimeout(hookCtx, bootstrapPollInterval, bootstrapTimeout, true, func(ctx context.Context) (bool, error) {
		return ensure(ctx, client), nil
	})
	if hookCtx.Err() != nil {
		// The server is stopping (a start given up, a tenant removed): it needs no
		// bootstrap, and an error here would make upstream klog.Fatal, which the host
		// takes for a failed start of whichever tenant is starting at that moment.
		return nil
	}
	if err != nil {
		return fmt.Errorf("unable to initialize %s: %w", what, err)
	}
	return nil
}

func isConflictOrServiceUnavailable(err error) bool {
	return apierrors.IsConflict(err) || apierrors.IsServiceUnavailable(err)
}

// ensureRBACPolicy creates or reconciles upstream's bootstrap cluster roles, cluster role
// bindings, and namespaced roles and bindings, as kube-apiserver's rbac/bootstrap-roles
// hook does. An object that fails is logged and tried again in the next round.
func ensureRBACPolicy(ctx context.Context, client kubernetes.Interface) bool {
	logger := klog.FromContext(ctx)
	rbac := client.RbacV1()
	// Make sure storage answers before reconciling.
	if _, err := rbac.ClusterRoles().List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		logger.Error(err, "Unable to list cluster roles; retrying")
		return false
	}
	ok := true
	reconcile := func(kind, name string, run func() error) {
		if err := retry.OnError(retry.DefaultBackoff, isConflictOrServiceUnavailable, run); err != nil {
			logger.Error(err, "Unable to reconcile bootstrap RBAC object", "kind", kind, "name", name)
			ok = false
		}
	}
	for _, role := range append(bootstrappolicy.ClusterRoles(), bootstrappolicy.ControllerRoles()...) {
		reconcile("ClusterRole", role.Name, func() error {
			opts := reconciliation.ReconcileRoleOptions{
				Role:    reconciliation.ClusterRoleRuleOwner{ClusterRole: &role},
				Client:  reconciliation.ClusterRoleModifier{Client: rbac.ClusterRoles()},
				Confirm: true,
			}
			_, err := opts.Run()
			return err
		})
	}
	for _, binding := range append(bootstrappolicy.ClusterRoleBindings(), bootstrappolicy.ControllerRoleBindings()...) {
		reconcile("ClusterRoleBinding", binding.Name, func() error {
			opts := reconciliation.ReconcileRoleBindingOptions{
				RoleBinding: reconciliation.ClusterRoleBindingAdapter{ClusterRoleBinding: &binding},
				Client:      reconciliation.ClusterRoleBindingClientAdapter{Client: rbac.ClusterRoleBindings()},
				Confirm:     true,
			}
			_, err := opts.Run()
			return err
		})
	}
	for namespace, roles := range bootstrappolicy.NamespaceRoles() {
		for _, role := range roles {
			reconcile("Role", namespace+"/"+role.Name, func() error {
				opts := reconciliation.ReconcileRoleOptions{
					Role:    reconciliation.RoleRuleOwner{Role: &role},
					Client:  reconciliation.RoleModifier{Client: rbac, NamespaceClient: client.CoreV1().Namespaces()},
					Confirm: true,
				}
				_, err := opts.Run()
				return err
			})
		}
	}
	for namespace, bindings := range bootstrappolicy.NamespaceRoleBindings() {
		for _, binding := range bindings {
			reconcile("RoleBinding", namespace+"/"+binding.Name, func() error {
				opts := reconciliation.ReconcileRoleBindingOptions{
					RoleBinding: reconciliation.RoleBindingAdapter{RoleBinding: &binding},
					Client:      reconciliation.RoleBindingClientAdapter{Client: rbac, NamespaceClient: client.CoreV1().Namespaces()},
					Confirm:     true,
				}
				_, err := opts.Run()
				return err
			})
		}
	}
	return ok
}

// ensureSystemPriorityClasses creates the system priority classes that do not exist, as
// kube-apiserver's scheduling/bootstrap-system-priority-classes hook does.
func ensureSystemPriorityClasses(ctx context.Context, client kubernetes.Interface) bool {
	logger := klog.FromContext(ctx)
	classes := client.SchedulingV1().PriorityClasses()
	for _, pc := range schedulingapiv1.SystemPriorityClasses() {
		_, err := classes.Get(ctx, pc.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, err = classes.Create(ctx, pc, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				err = nil
			}
		}
		if err != nil {
			logger.Error(err, "Unable to ensure system PriorityClass; retrying", "name", pc.Name)
			return false
		}
	}
	return true
}
