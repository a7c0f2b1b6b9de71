package kubeapiserver

import (
	"context"
	"testing"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestBootstrapHookOfAStoppingServerIsNoFailure: a server stopped before its bootstrap
// finished returns nil from the hook (upstream would klog.Fatal on an error, and the
// host would count that against whichever tenant is starting); a bootstrap that runs out
// of time on a running server is still an error.
func TestBootstrapHookOfAStoppingServerIsNoFailure(t *testing.T) {
	never := func(context.Context, kubernetes.Interface) bool { return false }
	cfg := &rest.Config{Host: "http://127.0.0.1:1"}

	stopped, cancel := context.WithCancel(t.Context())
	cancel()
	if err := pollBootstrap(genericapiserver.PostStartHookContext{LoopbackClientConfig: cfg, Context: stopped}, "test", never); err != nil {
		t.Errorf("stopping server: %v, want nil", err)
	}

	saved := bootstrapTimeout
	bootstrapTimeout = 0
	t.Cleanup(func() { bootstrapTimeout = saved })
	if err := pollBootstrap(genericapiserver.PostStartHookContext{LoopbackClientConfig: cfg, Context: t.Context()}, "test", never); err == nil {
		t.Error("running server, bootstrap never done: nil error")
	}
}
