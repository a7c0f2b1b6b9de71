// Package adminclient talks to a tenant-apiserver host's admin API (PUT, DELETE and GET
// /tenants/...), for the vc-manager. It carries its own copies of the wire types so that
// its users do not link the kube-apiserver libraries the host is built from.
package adminclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vcp-dev/vcp/tenant-apiserver/policy"
)

// Tenant is the body of PUT /tenants/{name} (host.TenantSpec on the wire).
type Tenant struct {
	Name         string            `json:"name"`
	UID          string            `json:"uid,omitempty"`
	KeyPrefix    string            `json:"keyPrefix,omitempty"`
	DisabledAPIs []string          `json:"disabledAPIs,omitempty"`
	ExtraSANs    []string          `json:"extraSANs,omitempty"`
	PKI          map[string][]byte `json:"pki,omitempty"`
	// Policy is shared with the host rather than copied: the policy package is pure and
	// light.
	Policy *policy.Policy `json:"policy,omitempty"`
}

// Status is a tenant's health as its host reports it (host.Status on the wire).
type Status struct {
	Name     string `json:"name"`
	Prefix   string `json:"prefix"`
	Healthy  bool   `json:"healthy"`
	Restarts int    `json:"restarts"`
	Error    string `json:"error,omitempty"`
}

// Datastore is how a tenant reaches its datastore (host.DatastoreCredentials on the
// wire): User and the certificates are set when the datastore has per-tenant users.
type Datastore struct {
	Endpoints []string `json:"endpoints"`
	Prefix    string   `json:"prefix"`
	User      string   `json:"user,omitempty"`
	CACert    []byte   `json:"caCert,omitempty"`
	Cert      []byte   `json:"cert,omitempty"`
	Key       []byte   `json:"key,omitempty"`
}

// ErrNotFound is returned when the host has no such tenant.
var ErrNotFound = errors.New("tenant not found on host")

// Client is a host's admin API.
type Client struct {
	// URL is the admin endpoint, such as http://127.0.0.1:6444.
	URL string
	// Token is the admin bearer token, if the host requires one.
	Token string
	// HTTP defaults to a client with a 2-minute timeout (adding a tenant waits until it
	// answers).
	HTTP *http.Client
}

// Put starts the tenant unless it runs already, and returns its status.
func (c *Client) Put(ctx context.Context, t Tenant) (Status, error) {
	body, err := json.Marshal(t)
	if err != nil {
		return Status{}, err
	}
	var s Status
	err = c.do(ctx, http.MethodPut, "/tenants/"+url.PathEscape(t.Name), body, &s)
	return s, err
}

// Delete stops the tenant; with deleteData its etcd keys, etcd user and PKI go too.
// A tenant the host does not know is ErrNotFound.
func (c *Client) Delete(ctx context.Context, name string, deleteData bool) error {
	path := "/tenants/" + url.PathEscape(name)
	if deleteData {
		path += "?deleteData=true"
	}
	return c.do(ctx, http.MethodDelete, path, nil, nil)
}

// Kubeconfig returns the tenant admin's kubeconfig.
func (c *Client) Kubeconfig(ctx context.Context, name string) ([]byte, error) {
	var raw rawBody
	err := c.do(ctx, http.MethodGet, "/tenants/"+url.PathEscape(name)+"/kubeconfig", nil, &raw)
	return raw, err
}

// Datastore returns the running tenant's datastore credentials.
func (c *Client) Datastore(ctx context.Context, name string) (Datastore, error) {
	var d Datastore
	err := c.do(ctx, http.MethodGet, "/tenants/"+url.PathEscape(name)+"/datastore", nil, &d)
	return d, err
}

// List returns the status of every tenant the host runs.
func (c *Client) List(ctx context.Context) ([]Status, error) {
	var out []Status
	err := c.do(ctx, http.MethodGet, "/tenants", nil, &out)
	return out, err
}

type rawBody []byte

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.URL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	httpClient := c.HTTP
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 2 * time.Minute}
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("host admin API %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("host admin API %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%w: %s", ErrNotFound, msg)
		}
		return fmt.Errorf("host admin API %s %s: %s: %s", method, path, resp.Status, msg)
	}
	switch o := out.(type) {
	case nil:
		return nil
	case *rawBody:
		*o = b
		return nil
	default:
		return json.Unmarshal(b, out)
	}
}
