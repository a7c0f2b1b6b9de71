package kubeapiserver

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/kubernetes"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericfeatures "k8s.io/apiserver/pkg/features"
	"k8s.io/apiserver/pkg/registry/generic"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/routes"
	"k8s.io/apiserver/pkg/storage"
	cacherstorage "k8s.io/apiserver/pkg/storage/cacher"
	"k8s.io/apiserver/pkg/storage/etcd3"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/storagebackend/factory"
	"k8s.io/apiserver/pkg/storage/value/encrypt/identity"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/tools/cache"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/handler3"
)

// Sharing across the tenant API servers of one process. Upstream builds two things per
// server that are the same for every tenant: the OpenAPI v3 documents of the built-in
// groups (about 18 MB with their cached JSON, built eagerly because the aggregator asks
// for every group's hash at start-up), and one etcd gRPC connection per resource (about
// 60, each with 64 KB of buffers and ~9 goroutines on each side). Both are shared here
// through hooks the libraries offer, without changing what a client sees.

var (
	openAPIV3Mu       sync.Mutex
	openAPIV3Services = map[string]*handler3.OpenAPIService{}
)

// installSharedOpenAPIV3 serves /openapi/v3 of the kube-apiserver in the chain (whose
// own installation is skipped, see newConfig) from a process-wide service keyed by the
// set of group/versions it serves: tenants that serve the same groups share one set of
// documents; a tenant that disabled some groups gets (and shares) another.
func installSharedOpenAPIV3(s *genericapiserver.GenericAPIServer, cfg *common.OpenAPIV3Config) {
	var roots []string
	for _, ws := range s.Handler.GoRestfulContainer.RegisteredWebServices() {
		roots = append(roots, ws.RootPath())
	}
	slices.Sort(roots)
	key := strings.Join(roots, ",")
	openAPIV3Mu.Lock()
	defer openAPIV3Mu.Unlock()
	if svc, ok := openAPIV3Services[key]; ok {
		if err := svc.RegisterOpenAPIV3VersionedService("/openapi/v3", s.Handler.NonGoRestfulMux); err == nil {
			s.OpenAPIV3VersionedService = svc
			return
		}
	}
	svc := routes.OpenAPI{V3Config: cfg}.InstallV3(s.Handler.GoRestfulContainer, s.Handler.NonGoRestfulMux)
	s.OpenAPIV3VersionedService = svc
	openAPIV3Services[key] = svc
}

// sharedClientStorage wraps a RESTOptionsGetter so that every resource's storage uses one
// etcd client per transport (endpoints and client certificate) instead of one each. With
// per-tenant etcd users that is one client per tenant; without, one per process.
type sharedClientStorage struct {
	generic.RESTOptionsGetter
	// made records every storage built, so that the server's end releases them all.
	made *storages
}

// storages are the destroy funcs of the storage one server built. Upstream destroys only
// the storage it installs: a resource turned off after its storage was built (such as
// storage.k8s.io/v1/volumeattachments, whose provider builds it with its status
// storage) would otherwise keep its reference to the shared etcd client forever.
type storages struct {
	mu      sync.Mutex
	destroy []factory.DestroyFunc
}

func (s *storages) add(d factory.DestroyFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.destroy = append(s.destroy, d)
}

// destroyAll destroys what is left (each destroy func runs once whoever calls it).
func (s *storages) destroyAll() {
	s.mu.Lock()
	destroy := s.destroy
	s.destroy = nil
	s.mu.Unlock()
	for _, d := range destroy {
		d()
	}
}

var undecoratedStorage = reflect.ValueOf(generic.UndecoratedStorage).Pointer()

// GetRESTOptions returns the wrapped options with the shared-client decorator in place of
// the undecorated one. A watch-cache decorator is left alone.
func (g sharedClientStorage) GetRESTOptions(resource schema.GroupResource, example runtime.Object) (generic.RESTOptions, error) {
	opts, err := g.RESTOptionsGetter.GetRESTOptions(resource, example)
	if err != nil || opts.Decorator == nil || reflect.ValueOf(opts.Decorator).Pointer() != undecoratedStorage {
		return opts, err
	}
	decorator := sharedClientDecorator
	if watchCached[resource] {
		decorator = cachedSharedClientDecorator
	}
	opts.Decorator = func(config *storagebackend.ConfigForResource, resourcePrefix string, keyFunc func(obj runtime.Object) (string, error),
		newFunc, newListFunc func() runtime.Object, getAttrs storage.AttrFunc, triggers storage.IndexerFuncs, indexers *cache.Indexers) (storage.Interface, factory.DestroyFunc, error) {
		s, destroy, err := decorator(config, resourcePrefix, keyFunc, newFunc, newListFunc, getAttrs, triggers, indexers)
		if err == nil {
			g.made.add(destroy)
		}
		return s, destroy, err
	}
	return opts, nil
}

// watchCached are the resources a tenant serves from a watch cache although the server
// runs without one (--watch-cache=false). Pods are where a cache pays: every pod write is
// watched by the tenant's controllers, the garbage collector and the syncer, and without
// a cache each watcher is its own etcd watch decoding every event again. Everything else
// changes rarely in a tenant and is not worth a per-tenant copy in memory.
var watchCached = map[schema.GroupResource]bool{{Resource: "pods"}: true}

// cachedSharedClientDecorator is sharedClientDecorator behind a watch cache, as upstream's
// StorageWithCacher puts one in front of its own storage.
func cachedSharedClientDecorator(config *storagebackend.ConfigForResource, resourcePrefix string, keyFunc func(obj runtime.Object) (string, error),
	newFunc, newListFunc func() runtime.Object, getAttrs storage.AttrFunc, triggers storage.IndexerFuncs, indexers *cache.Indexers) (storage.Interface, factory.DestroyFunc, error) {
	s, destroy, err := newSharedClientStorage(config, resourcePrefix, newFunc, newListFunc, true)
	if err != nil {
		return s, destroy, err
	}
	cacher, err := cacherstorage.NewCacherFromConfig(cacherstorage.Config{
		Storage: s, Versioner: storage.APIObjectVersioner{}, GroupResource: config.GroupResource,
		EventsHistoryWindow: config.EventsHistoryWindow, ResourcePrefix: resourcePrefix, KeyFunc: keyFunc,
		NewFunc: newFunc, NewListFunc: newListFunc, GetAttrsFunc: getAttrs, IndexerFuncs: triggers, Indexers: indexers,
		Codec: config.Codec,
	})
	if err != nil {
		destroy()
		return nil, nil, err
	}
	delegator := cacherstorage.NewCacheDelegator(cacher, s)
	var once sync.Once
	return delegator, func() {
		once.Do(func() {
			delegator.Stop()
			cacher.Stop()
			destroy()
		})
	}, nil
}

func sharedClientDecorator(config *storagebackend.ConfigForResource, resourcePrefix string, _ func(obj runtime.Object) (string, error),
	newFunc, newListFunc func() runtime.Object, _ storage.AttrFunc, _ storage.IndexerFuncs, _ *cache.Indexers) (storage.Interface, factory.DestroyFunc, error) {
	return newSharedClientStorage(config, resourcePrefix, newFunc, newListFunc, false)
}

// newSharedClientStorage is an etcd3 store on the shared client of config's transport.
// A store behind a watch cache (ownStream) watches on a gRPC stream of its own.
//
// The etcd client multiplexes every watch with the same context metadata onto one gRPC
// stream, and upstream's watches all carry the same (require-leader): with one client per
// process that is one stream for every watch of every tenant. etcd answers a progress
// request, which a watch cache sends whenever a reader waits for it to be fresh, only
// once every watch on the stream is in sync, and then sends the notification to all of
// them; each becomes a bookmark that the API server encodes and sends to the watching
// informer. With 100 tenants that was ~9,000 bookmarks a second per resource, all idle
// (O(tenants^2) work), and watch caches that rarely got their answer ("Too large
// resource version"). A stream of its own, on the same connection, confines a cache's
// progress requests to its own watch.
func newSharedClientStorage(config *storagebackend.ConfigForResource, resourcePrefix string, newFunc, newListFunc func() runtime.Object, ownStream bool) (storage.Interface, factory.DestroyFunc, error) {
	if config.CompactionInterval != 0 {
		// Compaction needs upstream's per-transport compactor: keep upstream's path.
		return generic.NewRawStorage(config, newFunc, newListFunc, resourcePrefix)
	}
	client, release, err := etcdClients.acquire(config.Transport)
	if err != nil {
		return nil, nil, err
	}
	transformer := config.Transformer
	if transformer == nil {
		transformer = identity.NewEncryptCheckTransformer()
	}
	versioner := storage.APIObjectVersioner{}
	decoder := etcd3.NewDefaultDecoder(config.Codec, versioner)
	unsafeDelete := utilfeature.DefaultFeatureGate.Enabled(genericfeatures.AllowUnsafeMalformedObjectDeletion)
	if unsafeDelete {
		transformer = etcd3.WithCorruptObjErrorHandlingTransformer(transformer)
		decoder = etcd3.WithCorruptObjErrorHandlingDecoder(decoder)
	}
	storeClient := client
	if ownStream {
		storeClient = withOwnWatchStream(client, config.Prefix+resourcePrefix)
	}
	store, err := etcd3.New(storeClient, nil, config.Codec, newFunc, newListFunc, config.Prefix, resourcePrefix, config.GroupResource, transformer, config.LeaseManagerConfig, decoder, versioner)
	if err != nil {
		release()
		return nil, nil, err
	}
	var once sync.Once
	destroy := func() {
		// Upstream calls destroy funcs more than once (subresources share storage).
		once.Do(func() {
			store.Close()
			release()
		})
	}
	var s storage.Interface = store
	if unsafeDelete {
		s = etcd3.NewStoreWithUnsafeCorruptObjectDeletion(s, config.GroupResource)
	}
	return s, destroy, nil
}

// watchStreamKey is the gRPC metadata key that gives a store's watches a stream of their
// own (the etcd client keys streams by a context's outgoing metadata).
const watchStreamKey = "vcp-watch-stream"

// withOwnWatchStream returns a view of client that shares its connection, KV, leases and
// the rest, but whose watches and progress requests carry stream in their metadata, so
// that they run on a gRPC watch stream of their own.
func withOwnWatchStream(client *kubernetes.Client, stream string) *kubernetes.Client {
	// The view's own context is never cancelled and nothing reads it: the shared parts
	// live as long as the shared client.
	view := clientv3.NewCtxClient(context.Background())
	view.Cluster, view.KV, view.Lease, view.Auth, view.Maintenance = client.Cluster, client.KV, client.Lease, client.Auth, client.Maintenance
	view.Watcher = ownStreamWatcher{Watcher: client.Watcher, stream: stream}
	return &kubernetes.Client{Client: view, Kubernetes: client.Kubernetes}
}

type ownStreamWatcher struct {
	clientv3.Watcher
	stream string
}

func (w ownStreamWatcher) Watch(ctx context.Context, key string, opts ...clientv3.OpOption) clientv3.WatchChan {
	return w.Watcher.Watch(metadata.AppendToOutgoingContext(ctx, watchStreamKey, w.stream), key, opts...)
}

func (w ownStreamWatcher) RequestProgress(ctx context.Context) error {
	return w.Watcher.RequestProgress(metadata.AppendToOutgoingContext(ctx, watchStreamKey, w.stream))
}

// Close does nothing: the watcher is the shared client's, closed with it.
func (w ownStreamWatcher) Close() error { return nil }

// clientPool hands out reference-counted etcd clients, one per transport configuration.
type clientPool struct {
	mu      sync.Mutex
	clients map[string]*pooledClient
}

type pooledClient struct {
	client *kubernetes.Client
	refs   int
}

var etcdClients = &clientPool{clients: map[string]*pooledClient{}}

func transportKey(c storagebackend.TransportConfig) string {
	return strings.Join(c.ServerList, ",") + "|" + c.CertFile + "|" + c.KeyFile + "|" + c.TrustedCAFile
}

// acquire returns the client for c and a func that gives it back; the last one given
// back closes the client.
func (p *clientPool) acquire(c storagebackend.TransportConfig) (*kubernetes.Client, func(), error) {
	key := transportKey(c)
	p.mu.Lock()
	defer p.mu.Unlock()
	pc, ok := p.clients[key]
	if !ok {
		client, err := newEtcdClient(c)
		if err != nil {
			return nil, nil, err
		}
		pc = &pooledClient{client: client}
		p.clients[key] = pc
	}
	pc.refs++
	var once sync.Once
	return pc.client, func() {
		once.Do(func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			pc.refs--
			if pc.refs == 0 {
				delete(p.clients, key)
				_ = pc.client.Close()
			}
		})
	}, nil
}

// size is how many distinct clients are open (for tests).
func (p *clientPool) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.clients)
}

// newEtcdClient makes a client the way upstream's storage factory does (keepalives, TLS),
// minus egress selection and tracing, which tenants do not configure.
func newEtcdClient(c storagebackend.TransportConfig) (*kubernetes.Client, error) {
	cfg := clientv3.Config{
		DialTimeout:          20 * time.Second,
		DialKeepAliveTime:    30 * time.Second,
		DialKeepAliveTimeout: 10 * time.Second,
		DialOptions:          []grpc.DialOption{grpc.WithBlock()},
		Endpoints:            c.ServerList,
		Logger:               zap.NewNop(),
	}
	if c.CertFile != "" || c.KeyFile != "" || c.TrustedCAFile != "" {
		tlsCfg, err := (transport.TLSInfo{CertFile: c.CertFile, KeyFile: c.KeyFile, TrustedCAFile: c.TrustedCAFile}).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("etcd client TLS: %w", err)
		}
		cfg.TLS = tlsCfg
	}
	client, err := kubernetes.New(cfg)
	if err != nil {
		return nil, err
	}
	client.KV = etcd3.NewETCDLatencyTracker(client.KV)
	return client, nil
}
