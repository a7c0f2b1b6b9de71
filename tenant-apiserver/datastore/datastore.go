// Package datastore gives tenant API servers their etcd: an external etcd cluster in
// production or an embedded one (go.etcd.io/etcd/server/v3/embed) on a single machine.
// After start-up both are used the same way: an endpoint list, optional client TLS files,
// and one key prefix per tenant.
package datastore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/vcp-dev/vcp/internal/netutil"
)

// ClientConfig is how a tenant API server reaches etcd.
type ClientConfig struct {
	Endpoints                 []string
	CAFile, CertFile, KeyFile string
}

// Datastore is a running etcd the host's tenants store their objects in.
type Datastore struct {
	Client ClientConfig
	etcd   *embed.Etcd
	kv     *clientv3.Client
	auth   *Auth
}

// External connects to an etcd cluster the admin runs.
func External(ctx context.Context, cfg ClientConfig) (*Datastore, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("datastore: at least one etcd endpoint is required")
	}
	for _, e := range cfg.Endpoints {
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("datastore: etcd endpoint %q must be an http:// or https:// URL", e)
		}
	}
	kv, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	ds := &Datastore{Client: cfg, kv: kv}
	if err := ds.ping(ctx); err != nil {
		_ = kv.Close()
		return nil, err
	}
	return ds, nil
}

// EmbeddedOptions tune an embedded etcd.
type EmbeddedOptions struct {
	// Auth serves clients over TLS with client-certificate authentication and gives each
	// tenant an etcd user limited to its prefix.
	Auth bool
	// ClientPort is the loopback port etcd serves clients on; 0 picks a free one.
	ClientPort int
}

// Embedded starts an etcd server in this process, storing data in dir and serving clients
// on 127.0.0.1 only.
func Embedded(ctx context.Context, dir string) (*Datastore, error) {
	return EmbeddedWithOptions(ctx, dir, EmbeddedOptions{})
}

// EmbeddedWithOptions is Embedded with options.
func EmbeddedWithOptions(ctx context.Context, dir string, opts EmbeddedOptions) (*Datastore, error) {
	ports, err := netutil.FreePorts(2)
	if err != nil {
		return nil, err
	}
	clientPort, peerPort := ports[0], ports[1]
	if opts.ClientPort != 0 {
		clientPort = opts.ClientPort
	}
	cfg := embed.NewConfig()
	cfg.Name = "vcp-tenants"
	cfg.Dir = filepath.Join(dir, "etcd")
	cfg.Logger = "zap"
	cfg.LogLevel = "warn"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	scheme := "http"
	var clientConfig ClientConfig
	var auth *Auth
	if opts.Auth {
		ca, serverCert, serverKey, rootCert, rootKey, err := embeddedPKI(filepath.Join(dir, "etcd-pki"))
		if err != nil {
			return nil, fmt.Errorf("embedded etcd PKI: %w", err)
		}
		scheme = "https"
		caFile := filepath.Join(dir, "etcd-pki", "ca.crt")
		cfg.ClientTLSInfo = transport.TLSInfo{CertFile: serverCert, KeyFile: serverKey, TrustedCAFile: caFile, ClientCertAuth: true}
		clientConfig = ClientConfig{CAFile: caFile, CertFile: rootCert, KeyFile: rootKey}
		auth = &Auth{ClientCA: ca, ServerCAFile: caFile}
	}
	client := url.URL{Scheme: scheme, Host: "127.0.0.1:" + strconv.Itoa(clientPort)}
	peer := url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(peerPort)}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.Name + "=" + peer.String()
	cfg.QuotaBackendBytes = 8 << 30
	// Tenants' writes are small and many; compact revisions so the store does not grow.
	cfg.AutoCompactionMode = "periodic"
	cfg.AutoCompactionRetention = "5m"
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start embedded etcd in %s: %w", cfg.Dir, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd: %w", err)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	case <-time.After(time.Minute):
		e.Close()
		return nil, errors.New("embedded etcd not ready after 1m")
	}
	clientConfig.Endpoints = []string{client.String()}
	ds := &Datastore{Client: clientConfig, etcd: e, auth: auth}
	if ds.kv, err = newClient(ds.Client); err != nil {
		e.Close()
		return nil, err
	}
	if auth != nil {
		if err := enableAuth(ctx, ds.kv); err != nil {
			ds.Close()
			return nil, fmt.Errorf("enable etcd auth: %w", err)
		}
	}
	return ds, nil
}

func newClient(cfg ClientConfig) (*clientv3.Client, error) {
	c := clientv3.Config{Endpoints: cfg.Endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()}
	if cfg.CAFile != "" || cfg.CertFile != "" {
		info := transport.TLSInfo{TrustedCAFile: cfg.CAFile, CertFile: cfg.CertFile, KeyFile: cfg.KeyFile}
		tlsCfg, err := info.ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("datastore: etcd client TLS: %w", err)
		}
		c.TLS = tlsCfg
	}
	return clientv3.New(c)
}

func (ds *Datastore) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := ds.kv.Get(ctx, "health-check", clientv3.WithCountOnly()); err != nil {
		return fmt.Errorf("datastore: etcd %s does not answer: %w", strings.Join(ds.Client.Endpoints, ","), err)
	}
	return nil
}

// ValidatePrefix checks that a tenant key prefix is absolute and ends with "/", so that
// one tenant's prefix is never a prefix of another's (/a/ never matches /ab/).
func ValidatePrefix(prefix string) error {
	if !strings.HasPrefix(prefix, "/") || !strings.HasSuffix(prefix, "/") || len(prefix) < 3 || strings.Contains(prefix, "//") {
		return fmt.Errorf("etcd key prefix %q must start and end with / and name at least one path element", prefix)
	}
	return nil
}

// CountKeys returns how many keys exist under prefix.
func (ds *Datastore) CountKeys(ctx context.Context, prefix string) (int64, error) {
	if err := ValidatePrefix(prefix); err != nil {
		return 0, err
	}
	resp, err := ds.kv.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, err
	}
	return resp.Count, nil
}

// DeletePrefix deletes every key of a tenant.
func (ds *Datastore) DeletePrefix(ctx context.Context, prefix string) (int64, error) {
	if err := ValidatePrefix(prefix); err != nil {
		return 0, err
	}
	resp, err := ds.kv.Delete(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return 0, fmt.Errorf("delete keys under %s: %w", prefix, err)
	}
	return resp.Deleted, nil
}

// KV is the datastore's client, for tests and tools that inspect keys.
func (ds *Datastore) KV() *clientv3.Client { return ds.kv }

// Close disconnects and, for an embedded etcd, stops it.
func (ds *Datastore) Close() {
	if ds.kv != nil {
		_ = ds.kv.Close()
	}
	if ds.etcd != nil {
		ds.etcd.Close()
	}
}
