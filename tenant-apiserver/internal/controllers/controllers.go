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
	"slices"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	quotageneric "k8s.io/apiserver/pkg/quota/v1/generic"
	"k8s.io/apiserver/pkg/server/healthz"
	cacheddiscovery "k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/informers"
	clientset "k8s.io/client-go/kubernetes"
	clientgokubescheme "k8s.io/client-go/kubernetes/scheme"
	v1core "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/keyutil"
	controllersmetrics "k8s.io/component-base/metrics/prometheus/controllers"
	genericcontrollermanager "k8s.io/controller-manager/app"
	"k8s.io/controller-manager/pkg/clientbuilder"
	"k8s.io/controller-manager/pkg/informerfactory"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
	kcmconfig "k8s.io/kubernetes/cmd/kube-controller-manager/app/config"
	kcmoptions "k8s.io/kubernetes/cmd/kube-controller-manager/app/options"
	"k8s.io/kubernetes/cmd/kube-controller-manager/names"
	"k8s.io/kubernetes/pkg/controller"
	"k8s.io/kubernetes/pkg/controller/garbagecollector"
	resourcequotacontroller "k8s.io/kubernetes/pkg/controller/resourcequota"
	serviceaccountcontroller "k8s.io/kubernetes/pkg/controller/serviceaccount"
	quotacore "k8s.io/kubernetes/pkg/quota/v1/evaluator/core"
	quotainstall "k8s.io/kubernetes/pkg/quota/v1/install"
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
	names.EphemeralVolumeController,
}

// Config is what a tenant's controllers need.
type Config struct {
	// Tenant names the tenant; its informers' metrics carry it.
	Tenant string
	// Loopback is a privileged client configuration of the tenant's API server.
	Loopback *rest.Config
	// ServiceAccountKeyFile signs legacy service-account token Secrets.
	ServiceAccountKeyFile string
	// RootCAFile is published as kube-root-ca.crt in every namespace.
	RootCAFile string
	// Informers, if set, is the informer factory of the tenant's API server, shared so
	// that what both watch is watched once. It must live as long as the controllers (the
	// server and its controllers stop together) and is not shut down by Run.
	Informers informers.SharedInformerFactory
	// Started, if set, is called once every controller is built and running, or Run has
	// failed before that. Controllers cancelled while they are being built can leave
	// goroutines behind, so a stopper should wait for it.
	Started func()
}

// Run runs the tenant's controllers until ctx ends. Worker counts are kept small: an idle
// tenant should cost little, and a busy one is limited by its API server anyway.
func Run(ctx context.Context, cfg Config) error {
	logger := klog.FromContext(ctx)
	started := sync.OnceFunc(func() {
		if cfg.Started != nil {
			cfg.Started()
		}
	})
	defer started()
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
	s.DeploymentController.ConcurrentDeploymentSyncs = 5
	s.ReplicaSetController.ConcurrentRSSyncs = 5
	s.ReplicationController.ConcurrentRCSyncs = 1
	s.StatefulSetController.ConcurrentStatefulSetSyncs = 2
	s.DaemonSetController.ConcurrentDaemonSetSyncs = 1
	s.JobController.ConcurrentJobSyncs = 2
	s.CronJobController.ConcurrentCronJobSyncs = 1
	s.TTLAfterFinishedController.ConcurrentTTLSyncs = 1
	s.EndpointController.ConcurrentEndpointSyncs = 2
	s.EndpointSliceController.ConcurrentServiceEndpointSyncs = 5
	s.EndpointSliceMirroringController.MirroringConcurrentServiceEndpointSyncs = 1
	s.ResourceQuotaController.ConcurrentResourceQuotaSyncs = 1
	s.NamespaceController.ConcurrentNamespaceSyncs = 2
	s.GarbageCollectorController.ConcurrentGCSyncs = 4
	s.SAController.ConcurrentSATokenSyncs = 1
	s.EphemeralVolumeController.ConcurrentEphemeralVolumeSyncs = 1
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
	controllerCtx, release, err := controllerContext(ctx, cfg.Tenant, cfg.Informers, completed, builder)
	if err != nil {
		return fmt.Errorf("controller context: %w", err)
	}
	defer release()
	descriptors := app.NewControllerDescriptors()
	// The token controller needs a root client the upstream descriptor only gets inside
	// kube-controller-manager's Run; it is started below instead.
	delete(descriptors, names.ServiceAccountTokenController)
	tokens, err := tokensController(ctx, controllerCtx, client, cfg)
	if err != nil {
		return err
	}
	// Upstream's ResourceQuota controller always evaluates ResourceClaims (its quota
	// configuration, unlike admission's, ignores which APIs are served), and so watches
	// DeviceClasses and ResourceClaims, which tenants do not serve; it is built below with
	// the evaluators of the APIs the tenant serves.
	delete(descriptors, names.ResourceQuotaController)
	quota, err := resourceQuotaController(ctx, controllerCtx, builder)
	if err != nil {
		return err
	}
	controllers, err := app.BuildControllers(ctx, controllerCtx, descriptors, nil, noHealthChecks{})
	if err != nil {
		return err
	}
	controllerCtx.InformerFactory.Start(ctx.Done())
	if cfg.Informers == nil {
		defer controllerCtx.InformerFactory.Shutdown()
	}
	controllerCtx.ObjectOrMetadataInformerFactory.Start(ctx.Done())
	close(controllerCtx.InformersStarted)
	go tokens.Run(ctx, 1)
	go quota.Run(ctx, int(completed.ComponentConfig.ResourceQuotaController.ConcurrentResourceQuotaSyncs))
	go quota.Sync(ctx, quotaDiscovery(builder), 30*time.Second)
	logger.V(2).Info("tenant controllers started", "count", len(controllers))
	started()
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

// quotaDiscovery is how the ResourceQuota controller finds the resources whose usage
// it replenishes: the namespaced resources the tenant serves.
func quotaDiscovery(builder clientbuilder.ControllerClientBuilder) resourcequotacontroller.NamespacedResourcesFunc {
	return func() ([]*metav1.APIResourceList, error) {
		discovery, err := builder.DiscoveryClient("resourcequota-controller")
		if err != nil {
			return nil, err
		}
		return discovery.ServerPreferredNamespacedResources()
	}
}

// resourceQuotaController is upstream's ResourceQuota controller as
// kube-controller-manager builds it, except that its evaluators are those of the
// resources the tenant serves (as quota admission's are).
func resourceQuotaController(ctx context.Context, controllerCtx app.ControllerContext, builder clientbuilder.ControllerClientBuilder) (*resourcequotacontroller.Controller, error) {
	client, err := builder.Client("resourcequota-controller")
	if err != nil {
		return nil, err
	}
	discovery, err := builder.DiscoveryClient("resourcequota-controller")
	if err != nil {
		return nil, err
	}
	// served asks the tenant's discovery; only a group/version the server does not know
	// counts as not served (any other error keeps upstream's evaluator).
	served := func(gvr schema.GroupVersionResource) bool {
		resources, err := discovery.ServerResourcesForGroupVersion(gvr.GroupVersion().String())
		if err != nil {
			return !apierrors.IsNotFound(err)
		}
		return slices.ContainsFunc(resources.APIResources, func(r metav1.APIResource) bool { return r.Name == gvr.Resource })
	}
	listerFuncForResource := quotageneric.ListerFuncForResourceFunc(controllerCtx.InformerFactory.ForResource)
	evaluators, err := quotacore.NewEvaluators(listerFuncForResource, controllerCtx.InformerFactory, served)
	if err != nil {
		return nil, err
	}
	config := quotageneric.NewConfiguration(evaluators, quotainstall.DefaultIgnoredResources())
	return resourcequotacontroller.NewController(ctx, &resourcequotacontroller.ControllerOptions{
		QuotaClient:               client.CoreV1(),
		ResourceQuotaInformer:     controllerCtx.InformerFactory.Core().V1().ResourceQuotas(),
		ResyncPeriod:              controller.StaticResyncPeriodFunc(controllerCtx.ComponentConfig.ResourceQuotaController.ResourceQuotaSyncPeriod.Duration),
		InformerFactory:           controllerCtx.ObjectOrMetadataInformerFactory,
		ReplenishmentResyncPeriod: controllerCtx.ResyncPeriod,
		DiscoveryFunc:             quotaDiscovery(builder),
		IgnoredResourcesFunc:      config.IgnoredResources,
		InformersStarted:          controllerCtx.InformersStarted,
		Registry:                  quotageneric.NewRegistry(config.Evaluators()),
		UpdateFilter:              quotainstall.DefaultUpdateFilter(),
	})
}

// noHealthChecks drops the controllers' health checks: the host reports tenant health.
type noHealthChecks struct{}

func (noHealthChecks) AddHealthChecker(...healthz.HealthChecker) {}

// controllerContext does what app.CreateControllerContext does, except that the typed
// informer factory is the API server's own (shared) when given, else one named after the
// tenant: upstream names it "kube-controller-manager", a name client-go lets only one
// live factory per process hold. release frees the name.
func controllerContext(ctx context.Context, tenant string, shared informers.SharedInformerFactory, s *kcmconfig.CompletedConfig, builder clientbuilder.ControllerClientBuilder) (app.ControllerContext, func(), error) {
	// Managed fields are never read by controllers; dropping them saves memory.
	trim := func(obj interface{}) (interface{}, error) {
		if accessor, err := meta.Accessor(obj); err == nil && accessor.GetManagedFields() != nil {
			accessor.SetManagedFields(nil)
		}
		return obj, nil
	}
	versionedClient, err := builder.Client("shared-informers")
	if err != nil {
		return app.ControllerContext{}, nil, err
	}
	release := func() {}
	fail := func(err error) (app.ControllerContext, func(), error) {
		release()
		return app.ControllerContext{}, nil, err
	}
	sharedInformers := shared
	if sharedInformers == nil {
		informerName, err := cache.NewInformerName("tenant-controllers-" + tenant)
		if err != nil {
			return app.ControllerContext{}, nil, err
		}
		release = informerName.Release
		sharedInformers = informers.NewSharedInformerFactoryWithOptions(versionedClient, app.ResyncPeriod(s)(),
			informers.WithTransform(trim), informers.WithInformerName(informerName))
	}
	metadataConfig, err := builder.Config("metadata-informers")
	if err != nil {
		return fail(err)
	}
	metadataClient, err := metadata.NewForConfig(metadataConfig)
	if err != nil {
		return fail(err)
	}
	metadataInformers := metadatainformer.NewSharedInformerFactoryWithOptions(metadataClient, app.ResyncPeriod(s)(), metadatainformer.WithTransform(trim))
	if err := genericcontrollermanager.WaitForAPIServer(versionedClient, 10*time.Second); err != nil {
		return fail(err)
	}
	discoveryClient, err := builder.DiscoveryClient("controller-discovery")
	if err != nil {
		return fail(err)
	}
	restMapper := restmapper.NewDeferredDiscoveryRESTMapper(cacheddiscovery.NewMemCacheClient(discoveryClient))
	go wait.Until(restMapper.Reset, 30*time.Second, ctx.Done())

	controllerCtx := app.ControllerContext{
		ClientBuilder:                   builder,
		InformerFactory:                 sharedInformers,
		ObjectOrMetadataInformerFactory: informerfactory.NewInformerFactory(sharedInformers, metadataInformers),
		ComponentConfig:                 s.ComponentConfig,
		RESTMapper:                      restMapper,
		InformersStarted:                make(chan struct{}),
		ResyncPeriod:                    app.ResyncPeriod(s),
		ControllerManagerMetrics:        controllersmetrics.NewControllerManagerMetrics("kube-controller-manager"),
	}
	gc := controllerCtx.ComponentConfig.GarbageCollectorController
	if gc.EnableGarbageCollector && controllerCtx.IsControllerEnabled(app.NewControllerDescriptors()[names.GarbageCollectorController]) {
		ignored := make(map[schema.GroupResource]struct{})
		for _, r := range gc.GCIgnoredResources {
			ignored[schema.GroupResource{Group: r.Group, Resource: r.Resource}] = struct{}{}
		}
		controllerCtx.GraphBuilder = garbagecollector.NewDependencyGraphBuilder(ctx, metadataClient, controllerCtx.RESTMapper,
			ignored, controllerCtx.ObjectOrMetadataInformerFactory, controllerCtx.InformersStarted)
	}
	controllersmetrics.Register()
	return controllerCtx, release, nil
}
