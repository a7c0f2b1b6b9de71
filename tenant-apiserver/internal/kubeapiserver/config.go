package kubeapiserver

import (
	"maps"
	"sync"

	apiextensionsapiserver "k8s.io/apiextensions-apiserver/pkg/apiserver"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/util/webhook"
	aggregatorscheme "k8s.io/kube-aggregator/pkg/apiserver/scheme"
	openapicommon "k8s.io/kube-openapi/pkg/common"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	"k8s.io/kubernetes/cmd/kube-apiserver/app/options"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	"k8s.io/kubernetes/pkg/controlplane"
	controlplaneapiserver "k8s.io/kubernetes/pkg/controlplane/apiserver"
	generatedopenapi "k8s.io/kubernetes/pkg/generated/openapi"
)

// The generated OpenAPI definitions of the built-in types are the largest immutable
// structure an API server builds (about 14 MB), and every server in the process builds
// the same one. They are built once per reference style (OpenAPI v2 "#/definitions/" or
// v3 "#/components/schemas/") and shared; each caller gets its own top-level map because
// some callers replace entries in it. The schemas themselves are only ever copied on
// write by the OpenAPI builders.
var (
	definitionsMu sync.Mutex
	definitions   = map[string]map[string]openapicommon.OpenAPIDefinition{}
)

func sharedOpenAPIDefinitions(ref openapicommon.ReferenceCallback) map[string]openapicommon.OpenAPIDefinition {
	probe := ref("io.vcp.probe")
	key := probe.String()
	definitionsMu.Lock()
	defs, ok := definitions[key]
	if !ok {
		defs = generatedopenapi.GetOpenAPIDefinitions(ref)
		definitions[key] = defs
	}
	definitionsMu.Unlock()
	return maps.Clone(defs)
}

// newConfig is app.NewConfig with the shared OpenAPI definitions and without OpenAPI v2,
// which clients of a tenant (kubectl, helm, client-go) do not need: they use v3.
func newConfig(opts options.CompletedOptions, made *storages) (*app.Config, error) {
	genericConfig, versionedInformers, storageFactory, err := controlplaneapiserver.BuildGenericConfig(
		opts.CompletedOptions,
		[]*runtime.Scheme{legacyscheme.Scheme, apiextensionsapiserver.Scheme, aggregatorscheme.Scheme},
		controlplane.DefaultAPIResourceConfigSource(),
		sharedOpenAPIDefinitions,
	)
	if err != nil {
		return nil, err
	}
	// Replaced by faster equivalents (bootstrap.go); every server of the chain inherits this.
	genericConfig.DisabledPostStartHooks.Insert(replacedPostStartHooks...)
	kubeAPIs, serviceResolver, pluginInitializer, err := app.CreateKubeAPIServerConfig(opts, genericConfig, versionedInformers, storageFactory)
	if err != nil {
		return nil, err
	}
	if kubeAPIs.ControlPlane.Extra.PeerProxy == nil {
		// Without a peer proxy (no --peer-ca-file: a tenant's servers never proxy to each
		// other) nothing reads the peer endpoint lease this hook rewrites every 10 s: one
		// etcd write per tenant per 10 s for nothing.
		kubeAPIs.ControlPlane.Generic.DisabledPostStartHooks.Insert(peerEndpointReconcilerHook)
	}
	apiExtensions, err := controlplaneapiserver.CreateAPIExtensionsConfig(*kubeAPIs.ControlPlane.Generic, kubeAPIs.ControlPlane.VersionedInformers, pluginInitializer, opts.CompletedOptions, opts.MasterCount,
		serviceResolver, webhook.NewDefaultAuthenticationInfoResolverWrapper(kubeAPIs.ControlPlane.ProxyTransport, kubeAPIs.ControlPlane.Generic.EgressSelector, kubeAPIs.ControlPlane.Generic.LoopbackClientConfig, kubeAPIs.ControlPlane.Generic.TracerProvider))
	if err != nil {
		return nil, err
	}
	aggregator, err := controlplaneapiserver.CreateAggregatorConfig(*kubeAPIs.ControlPlane.Generic, opts.CompletedOptions, kubeAPIs.ControlPlane.VersionedInformers, serviceResolver, kubeAPIs.ControlPlane.ProxyTransport, kubeAPIs.ControlPlane.Extra.PeerProxy, pluginInitializer)
	if err != nil {
		return nil, err
	}
	// The kube server's OpenAPI v3 documents are served from a process-wide shared service
	// (installSharedOpenAPIV3); its OpenAPIV3Config stays, for the server-side-apply type
	// converter.
	kubeAPIs.ControlPlane.Generic.SkipOpenAPIInstallation = true
	// Every resource's storage shares one etcd client per transport; made records them all.
	kubeAPIs.ControlPlane.Generic.RESTOptionsGetter = sharedClientStorage{kubeAPIs.ControlPlane.Generic.RESTOptionsGetter, made}
	apiExtensions.GenericConfig.RESTOptionsGetter = sharedClientStorage{apiExtensions.GenericConfig.RESTOptionsGetter, made}
	apiExtensions.ExtraConfig.CRDRESTOptionsGetter = sharedClientStorage{apiExtensions.ExtraConfig.CRDRESTOptionsGetter, made}
	aggregator.GenericConfig.RESTOptionsGetter = sharedClientStorage{aggregator.GenericConfig.RESTOptionsGetter, made}
	if dropOpenAPIV2 {
		kubeAPIs.ControlPlane.Generic.OpenAPIConfig = nil
		apiExtensions.GenericConfig.OpenAPIConfig = nil
		aggregator.GenericConfig.OpenAPIConfig = nil
	}
	return &app.Config{Options: opts, KubeAPIs: kubeAPIs, ApiExtensions: apiExtensions, Aggregator: aggregator}, nil
}

// peerEndpointReconcilerHook is the post-start hook of kube's peer endpoint lease
// reconciler (the mixed-version proxy's, UnknownVersionInteroperabilityProxy).
const peerEndpointReconcilerHook = "peer-endpoint-reconciler-controller"

// dropOpenAPIV2 turns off /openapi/v2.
var dropOpenAPIV2 = true
