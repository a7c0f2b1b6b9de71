package router

import (
	"net"
	"sync"
)

// Listener is a tenant's listener: it yields connections the router hands off and, when
// it wraps one, connections accepted from a socket of its own (the tenant server's
// loopback clients dial that socket directly).
type Listener struct {
	inner net.Listener
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// NewListener returns a listener fed by the router and, if inner is not nil, by inner.
// Addr reports inner's address, so a server's loopback clients dial inner.
func NewListener(inner net.Listener) *Listener {
	l := &Listener{inner: inner, conns: make(chan net.Conn), done: make(chan struct{})}
	if inner != nil {
		go l.acceptInner()
	}
	return l
}

func (l *Listener) acceptInner() {
	for {
		conn, err := l.inner.Accept()
		if err != nil {
			// Only a closed listener ends the loop; anything else is retried by the
			// caller's Accept seeing no connection.
			select {
			case <-l.done:
				return
			default:
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			_ = l.Close()
			return
		}
		if !l.handoff(conn) {
			_ = conn.Close()
			return
		}
	}
}

// handoff gives conn to Accept; false when the listener is closed.
func (l *Listener) handoff(conn net.Conn) bool {
	select {
	case l.conns <- conn:
		return true
	case <-l.done:
		return false
	}
}

// Accept waits for the next connection.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case conn := <-l.conns:
		return conn, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops the listener and its inner socket.
func (l *Listener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		if l.inner != nil {
			err = l.inner.Close()
		}
	})
	return err
}

// Addr is the inner socket's address, or a placeholder without one.
func (l *Listener) Addr() net.Addr {
	if l.inner != nil {
		return l.inner.Addr()
	}
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}
}
