// Package controllers runs, for one tenant, the upstream controllers a Kubernetes user
// expects (namespaces, garbage collection, service accounts and tokens, workloads,
// EndpointSlices, quota...) inside the host process, using the kube-controller-manager
// packages against the tenant's loopback client. There is no scheduler and no node
// controller: the super cluster schedules, and the syncer provides virtual nodes.
package controllers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apiserver/pkg/server/healthz"
	clientset "k8s.io/client-go/kubernetes"
	clientgokubescheme "k8s.io/client-go/kubernetes/scheme"
	v1core "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/keyutil"
	"k8s.io/controller-manager/pkg/clientbuilder"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
	kcmconfig "k8s.io/kubernetes/cmd/kube-controller-manager/app/config"
	kcmoptions "k8s.io/kubernetes/cmd/kube-controller-manager/app/options"
	"k8s.io/kubernetes/cmd/kube-controller-manager/names"
	serviceaccountcontroller "k8s.io/kubernetes/pkg/controller/serviceaccount"
	"k8s.io/kubernetes/pkg/serviceaccount"
)

// Enabled are the controllers every tenant runs.
var Enabled = []string{
	names.NamespaceController,
	names.GarbageCollectorController,
	names.ServiceAccountController,
	names.RootCACertificatePublisherController,
	names.ClusterRoleAggregationController,
	names.DeploymentController,
	names.ReplicaSetController,
	names.ReplicationControllerController,
	names.StatefulSetController,
	names.DaemonSetController,
	names.JobController,
	names.CronJobController,
	names.TTLAfterFinishedController,
	names.EndpointsController,
	names.EndpointSliceController,
	names.EndpointSliceMirroringController,
	names.ResourceQuotaController,
	names.PodGarbageCollectorController,
	names.DisruptionController,
	names.PersistentVolumeClaimProtectionController,
}

// Config is what a tenant's controllers need.
type Config struct {
	// Loopback is a privileged client configuration of the tenant's API server.
	Loopback *rest.Config
	// ServiceAccountKeyFile signs legacy service-account token Secrets.
	ServiceAccountKeyFile string
	// RootCAFile is published as kube-root-ca.crt in every namespace.
	RootCAFile string
}

// Run runs the tenant's controllers until ctx ends. Worker counts are kept small: an idle
// tenant should cost little, and a busy one is limited by its API server anyway.
func Run(ctx context.Context, cfg Config) error {
	logger := klog.FromContext(ctx)
	s, err := kcmoptions.NewKubeControllerManagerOptions()
	if err != nil {
		return err
	}
	s.SecureServing.BindPort = 0
	s.Generic.Controllers = Enabled
	s.Generic.LeaderElection.LeaderElect = false
	s.KubeCloudShared.UseServiceAccountCredentials = false
	s.SAController.ServiceAccountKeyFile = cfg.ServiceAccountKeyFile
	s.SAController.RootCAFile = cfg.RootCAFile
	s.Generic.ClientConnection.QPS = 50
	s.Generic.ClientConnection.Burst = 100
	s.DeploymentController.ConcurrentDeploymentSyncs = 2
	s.ReplicaSetController.ConcurrentRSSyncs = 2
	s.ReplicationController.ConcurrentRCSyncs = 1
	s.StatefulSetController.ConcurrentStatefulSetSyncs = 2
	s.DaemonSetController.ConcurrentDaemonSetSyncs = 1
	s.JobController.ConcurrentJobSyncs = 2
	s.CronJobController.ConcurrentCronJobSyncs = 1
	s.TTLAfterFinishedController.ConcurrentTTLSyncs = 1
	s.EndpointController.ConcurrentEndpointSyncs = 2
	s.EndpointSliceController.ConcurrentServiceEndpointSyncs = 2
	s.EndpointSliceMirroringController.MirroringConcurrentServiceEndpointSyncs = 1
	s.ResourceQuotaController.ConcurrentResourceQuotaSyncs = 1
	s.NamespaceController.ConcurrentNamespaceSyncs = 2
	s.GarbageCollectorController.ConcurrentGCSyncs = 4
	s.SAController.ConcurrentSATokenSyncs = 1
	s.ControllerShutdownTimeout = 10 * time.Second

	loopback := rest.CopyConfig(cfg.Loopback)
	loopback.QPS, loopback.Burst = s.Generic.ClientConnection.QPS, int(s.Generic.ClientConnection.Burst)
	client, err := clientset.NewForConfig(rest.AddUserAgent(loopback, "tenant-controllers"))
	if err != nil {
		return err
	}
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	c := &kcmconfig.Config{
		Client:                    client,
		Kubeconfig:                loopback,
		EventBroadcaster:          broadcaster,
		EventRecorder:             broadcaster.NewRecorder(clientgokubescheme.Scheme, v1.EventSource{Component: "tenant-controllers"}),
		ControllerShutdownTimeout: s.ControllerShutdownTimeout,
		ComponentGlobalsRegistry:  s.ComponentGlobalsRegistry,
	}
	if err := s.ApplyTo(c, app.KnownControllers(), app.ControllersDisabledByDefault(), app.ControllerAliases()); err != nil {
		return fmt.Errorf("controller options: %w", err)
	}
	completed := c.Complete()
	broadcaster.StartRecordingToSink(&v1core.EventSinkImpl{Interface: client.CoreV1().Events("")})
	defer broadcaster.Shutdown()

	builder := clientbuilder.SimpleControllerClientBuilder{ClientConfig: loopback}
	controllerCtx, err := app.CreateControllerContext(ctx, completed, builder, builder)
	if err != nil {
		return fmt.Errorf("controller context: %w", err)
	}
	descriptors := app.NewControllerDescriptors()
	// The token controller needs a root client the upstream descriptor only gets inside
	// kube-controller-manager's Run; it is started below instead.
	delete(descriptors, names.ServiceAccountTokenController)
	tokens, err := tokensController(ctx, controllerCtx, client, cfg)
	if err != nil {
		return err
	}
	controllers, err := app.BuildControllers(ctx, controllerCtx, descriptors, nil, noHealthChecks{})
	if err != nil {
		return err
	}
	controllerCtx.InformerFactory.Start(ctx.Done())
	defer controllerCtx.InformerFactory.Shutdown()
	controllerCtx.ObjectOrMetadataInformerFactory.Start(ctx.Done())
	close(controllerCtx.InformersStarted)
	go tokens.Run(ctx, 1)
	logger.V(2).Info("tenant controllers started", "count", len(controllers))
	if !app.RunControllers(ctx, controllerCtx, controllers, 0, s.ControllerShutdownTimeout) {
		return errors.New("controllers did not stop within the shutdown timeout")
	}
	return nil
}

func tokensController(ctx context.Context, controllerCtx app.ControllerContext, client clientset.Interface, cfg Config) (*serviceaccountcontroller.TokensController, error) {
	key, err := keyutil.PrivateKeyFromFile(cfg.ServiceAccountKeyFile)
	if err != nil {
		return nil, fmt.Errorf("service-account key: %w", err)
	}
	rootCA, err := os.ReadFile(cfg.RootCAFile)
	if err != nil {
		return nil, fmt.Errorf("root CA: %w", err)
	}
	generator, err := serviceaccount.JWTTokenGenerator(serviceaccount.LegacyIssuer, key)
	if err != nil {
		return nil, err
	}
	return serviceaccountcontroller.NewTokensController(klog.FromContext(ctx),
		controllerCtx.InformerFactory.Core().V1().ServiceAccounts(),
		controllerCtx.InformerFactory.Core().V1().Secrets(),
		client,
		serviceaccountcontroller.TokensControllerOptions{TokenGenerator: generator, RootCA: rootCA})
}

// noHealthChecks drops the controllers' health checks: the host reports tenant health.
type noHealthChecks struct{}

func (noHealthChecks) AddHealthChecker(...healthz.HealthChecker) {}
