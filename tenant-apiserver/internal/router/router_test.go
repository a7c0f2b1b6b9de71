package router

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vcp-dev/vcp/internal/pki"
)

// tenantServer serves "hello from <name>" over TLS with a certificate of its own CA,
// requiring a client certificate from that same CA.
type tenantServer struct {
	name     string
	ca       *pki.KeyPair
	client   *pki.KeyPair
	listener *Listener
}

func startTenant(t *testing.T, r *Router, name string) *tenantServer {
	t.Helper()
	ca, err := pki.NewCA(name+"-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	host := name + ".tenants.test"
	serving, err := ca.Sign(pki.CertRequest{CommonName: host, DNSNames: []string{host}, Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.Sign(pki.CertRequest{CommonName: "admin", Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(serving.CertPEM(), serving.KeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	l := NewListener(nil)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			fmt.Fprintf(w, "hello from %s to %s", name, req.TLS.PeerCertificates[0].Subject.CommonName)
		}),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert},
	}
	go func() { _ = srv.ServeTLS(l, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	if err := r.Add(host, l); err != nil {
		t.Fatal(err)
	}
	return &tenantServer{name: name, ca: ca, client: client, listener: l}
}

func (ts *tenantServer) httpClient(t *testing.T, serverName string, client *pki.KeyPair) *http.Client {
	cert, err := tls.X509KeyPair(client.CertPEM(), client.KeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ts.ca.Cert)
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		ServerName: serverName, RootCAs: pool, Certificates: []tls.Certificate{cert},
	}}}
}

func TestRouterRoutesBySNI(t *testing.T) {
	r := New()
	unknown := make(chan string, 10)
	r.OnUnknown = func(name string, _ net.Addr) { unknown <- name }
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.Serve(ln) }()
	t.Cleanup(func() { _ = ln.Close() })
	url := "https://" + ln.Addr().String() + "/"

	a := startTenant(t, r, "a")
	b := startTenant(t, r, "b")

	tests := []struct {
		name       string
		tenant     *tenantServer // whose CA the client trusts
		serverName string
		client     *tenantServer // whose client certificate is presented
		want       string        // body, or an error substring
		wantErr    bool
	}{
		{name: "a", tenant: a, serverName: "a.tenants.test", client: a, want: "hello from a to admin"},
		{name: "b", tenant: b, serverName: "b.tenants.test", client: b, want: "hello from b to admin"},
		{name: "case-insensitive", tenant: a, serverName: "A.Tenants.Test", client: a, want: "hello from a"},
		{name: "a's certificate at b", tenant: b, serverName: "b.tenants.test", client: a, wantErr: true},
		{name: "routed to a but trusting b", tenant: b, serverName: "a.tenants.test", client: b, wantErr: true},
		{name: "unknown tenant", tenant: a, serverName: "c.tenants.test", client: a, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.tenant.httpClient(t, tt.serverName, tt.client.client).Get(url)
			if tt.wantErr {
				if err == nil {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					t.Fatalf("request succeeded with %q, want it refused", body)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(body), tt.want) {
				t.Errorf("body %q, want %q", body, tt.want)
			}
		})
	}
	select {
	case name := <-unknown:
		if name != "c.tenants.test" {
			t.Errorf("unknown route reported as %q", name)
		}
	case <-time.After(time.Second):
		t.Error("unknown server name not reported")
	}

	// After removal the name is no longer served.
	r.Remove("a.tenants.test")
	if _, err := a.httpClient(t, "a.tenants.test", a.client).Get(url); err == nil {
		t.Error("removed tenant still served")
	}
	if err := r.Add("b.tenants.test", NewListener(nil)); err == nil {
		t.Error("adding a second route for the same name succeeded")
	}
}

func TestRouterClosesNonTLS(t *testing.T) {
	r := New()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.Serve(ln) }()
	t.Cleanup(func() { _ = ln.Close() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := conn.Read(make([]byte, 64))
	if n != 0 || err == nil {
		t.Fatalf("plain HTTP got %d bytes back (err %v), want the connection closed", n, err)
	}
}

func TestListenerInnerAndHandoff(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := NewListener(inner)
	if l.Addr().String() != inner.Addr().String() {
		t.Fatalf("Addr %s, want the inner socket's %s", l.Addr(), inner.Addr())
	}
	go func() {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err == nil {
			_ = c.Close()
		}
	}()
	conn, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
	a, b := net.Pipe()
	defer b.Close()
	go l.handoff(a)
	if conn, err = l.Accept(); err != nil || conn != a {
		t.Fatalf("Accept after handoff = %v, %v", conn, err)
	}
	_ = l.Close()
	if _, err := l.Accept(); err == nil {
		t.Fatal("Accept after Close succeeded")
	}
	if l.handoff(b) {
		t.Fatal("handoff to a closed listener succeeded")
	}
}

// FuzzPeekServerName: any bytes either fail cleanly or yield a server name together with
// every byte read (so the real server can replay the handshake).
func FuzzPeekServerName(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte{0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := net.Pipe()
		go func() {
			_, _ = client.Write(data)
			_ = client.Close()
		}()
		name, peeked, err := peekServerName(server)
		_ = server.Close()
		if err != nil {
			return
		}
		if len(peeked) == 0 || len(peeked) > len(data) || string(peeked) != string(data[:len(peeked)]) {
			t.Fatalf("name %q: peeked %d bytes that are not a prefix of the input", name, len(peeked))
		}
	})
}
