// Package router lets one TCP port serve many tenant API servers. It reads the TLS
// ClientHello of each connection without terminating TLS, picks the tenant from the
// server name (SNI), and hands the untouched connection to that tenant's listener, where
// the tenant's own API server does the handshake with its own certificates and client CA.
// No bytes are proxied: after the handoff the tenant server owns the socket.
package router

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// helloTimeout bounds how long a client may take to send its ClientHello.
const helloTimeout = 10 * time.Second

// maxHelloBytes bounds what is buffered while peeking; a ClientHello is a few hundred bytes
// (a record is at most 16 KiB plus header).
const maxHelloBytes = 16*1024 + 5

// Router dispatches connections by SNI server name to tenant listeners.
type Router struct {
	mu     sync.RWMutex
	routes map[string]*Listener

	// OnUnknown is told about connections whose server name has no route; may be nil.
	OnUnknown func(serverName string, remote net.Addr)
}

// New returns an empty router.
func New() *Router {
	return &Router{routes: map[string]*Listener{}}
}

// Add routes connections for serverName (case-insensitive) to l.
func (r *Router) Add(serverName string, l *Listener) error {
	serverName = strings.ToLower(serverName)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.routes[serverName]; ok {
		return fmt.Errorf("server name %q is already routed", serverName)
	}
	r.routes[serverName] = l
	return nil
}

// Remove drops the route for serverName.
func (r *Router) Remove(serverName string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.routes, strings.ToLower(serverName))
}

// Serve accepts connections from ln until it is closed, routing each one.
func (r *Router) Serve(ln net.Listener) error {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return err
		}
		go r.route(conn)
	}
}

func (r *Router) route(conn net.Conn) {
	_ = conn.SetReadDeadline(time.Now().Add(helloTimeout))
	serverName, peeked, err := peekServerName(conn)
	_ = conn.SetReadDeadline(time.Time{})
	if err != nil {
		_ = conn.Close()
		return
	}
	r.mu.RLock()
	l := r.routes[strings.ToLower(serverName)]
	r.mu.RUnlock()
	if l == nil {
		if r.OnUnknown != nil {
			r.OnUnknown(serverName, conn.RemoteAddr())
		}
		_ = conn.Close()
		return
	}
	if !l.handoff(&prefixConn{Conn: conn, prefix: peeked}) {
		_ = conn.Close()
	}
}

// errHelloRead stops the handshake once the ClientHello has been seen.
var errHelloRead = errors.New("client hello read")

// peekServerName reads the ClientHello from conn and returns its server name and every
// byte read, to be replayed to the real TLS server.
func peekServerName(conn net.Conn) (string, []byte, error) {
	var buf bytes.Buffer
	var serverName string
	var seen bool
	tee := io.TeeReader(io.LimitReader(conn, maxHelloBytes), &buf)
	err := tls.Server(readOnlyConn{r: tee}, &tls.Config{
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			serverName, seen = hello.ServerName, true
			return nil, errHelloRead
		},
	}).HandshakeContext(context.Background())
	if !seen {
		return "", nil, fmt.Errorf("no TLS ClientHello: %w", err)
	}
	return serverName, buf.Bytes(), nil
}

// readOnlyConn feeds a TLS server the peeked bytes and swallows whatever it writes (an
// alert after errHelloRead), so that nothing reaches the client.
type readOnlyConn struct {
	net.Conn
	r io.Reader
}

func (c readOnlyConn) Read(p []byte) (int, error)         { return c.r.Read(p) }
func (c readOnlyConn) Write(p []byte) (int, error)        { return len(p), nil }
func (c readOnlyConn) Close() error                       { return nil }
func (c readOnlyConn) LocalAddr() net.Addr                { return nil }
func (c readOnlyConn) RemoteAddr() net.Addr               { return nil }
func (c readOnlyConn) SetDeadline(t time.Time) error      { return nil }
func (c readOnlyConn) SetReadDeadline(t time.Time) error  { return nil }
func (c readOnlyConn) SetWriteDeadline(t time.Time) error { return nil }

// prefixConn replays the peeked bytes before reading on from the socket.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
