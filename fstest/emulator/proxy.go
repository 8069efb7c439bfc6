package emulator

// This file holds the compatibility mode for unmodified clients: an HTTP
// proxy that answers for 1fichier.com itself.
//
// A client pointed at the proxy (HTTPS_PROXY=http://ADDR, curl --proxy)
// opens a CONNECT tunnel to api.1fichier.com:443, up2.1fichier.com:443 and
// so on. The proxy never dials anything: it accepts the tunnel, ends the TLS
// session itself with a leaf certificate issued on the fly by a CA that
// exists only in memory, and hands every request it reads from the tunnel to
// the emulator's handler. The client trusts that CA through a file written by
// WriteCA (rclone --ca-cert FILE, curl --cacert FILE).

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// InterceptedDomain is the domain whose host names the proxy answers for:
// the domain itself (the website) and every name below it (api, up*, a-*).
const InterceptedDomain = "1fichier.com"

// Lifetimes of the generated certificates. The CA lives in memory only, so
// its lifetime just has to outlast any run; leaves stay under the 398 days
// some TLS stacks accept at most.
const (
	proxyCALifetime   = 5 * 365 * 24 * time.Hour
	proxyLeafLifetime = 365 * 24 * time.Hour
	proxyBackdate     = time.Hour // tolerate a client clock slightly behind
)

// ProxyOptions configures a Proxy. The zero value is ready to use.
type ProxyOptions struct {
	// Log, if set, gets one line per tunnel opened or refused and per
	// plain-HTTP request refused. Requests served inside a tunnel are logged
	// by the handler itself.
	Log io.Writer

	// IdleTimeout is how long a tunnel may sit idle between two requests
	// before the proxy closes it; 0 means two minutes.
	IdleTimeout time.Duration
}

// Proxy is an HTTP proxy that serves 1fichier.com and *.1fichier.com from a
// handler instead of the network. It is itself an http.Handler: run it with
// an http.Server (or httptest.NewServer) on its own listener.
//
// It understands two kinds of proxy requests:
//   - CONNECT host:port for an intercepted host: the proxy answers 200, then
//     speaks TLS on the tunnel as that host (certificate signed by its CA)
//     and serves HTTP/1.1 requests, keep-alive included, from the handler.
//     The handler sees the original Host header and a non-nil r.TLS, as if
//     it had been reached over https directly.
//   - An absolute-URI request (GET http://api.1fichier.com/v1/...), as
//     clients send for plain http through a proxy: it is served from the
//     handler with Host set to the URI's host and r.TLS nil.
//
// Any other host is refused with 403 Forbidden; the proxy opens no outgoing
// connection, ever. A plain request for /ca.pem on the proxy's own address
// returns the CA certificate, for clients that would rather fetch it.
type Proxy struct {
	handler     http.Handler
	log         io.Writer
	idleTimeout time.Duration

	caCert  *x509.Certificate
	caKey   *ecdsa.PrivateKey
	caPEM   []byte
	leafKey *ecdsa.PrivateKey // shared by every leaf: only the names differ

	mu      sync.Mutex
	leaves  map[string]*tls.Certificate // by lower-case host name
	tunnels map[net.Conn]struct{}       // open tunnels (client connections), closed by Close
	closed  bool
}

// NewProxy returns a proxy that serves intercepted hosts from h. It
// generates a fresh CA (ECDSA P-256) for the proxy's lifetime.
func NewProxy(h http.Handler, opts ProxyOptions) (*Proxy, error) {
	if h == nil {
		return nil, errors.New("emulator: NewProxy needs a handler")
	}
	p := &Proxy{
		handler:     h,
		log:         opts.Log,
		idleTimeout: opts.IdleTimeout,
		leaves:      make(map[string]*tls.Certificate),
		tunnels:     make(map[net.Conn]struct{}),
	}
	if p.idleTimeout <= 0 {
		p.idleTimeout = 2 * time.Minute
	}
	var err error
	if p.caKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, fmt.Errorf("emulator: proxy CA key: %w", err)
	}
	if p.leafKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, fmt.Errorf("emulator: proxy leaf key: %w", err)
	}
	tmpl := &x509.Certificate{
		Subject: pkix.Name{
			Organization: []string{"fichier emulator"},
			CommonName:   "fichier emulator proxy CA",
		},
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true, // it signs leaves only
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	// Self-signed: the template is its own parent.
	if p.caCert, err = p.sign(tmpl, tmpl, proxyCALifetime, &p.caKey.PublicKey, "CA certificate"); err != nil {
		return nil, err
	}
	p.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.caCert.Raw})
	return p, nil
}

// sign issues the certificate tmpl describes for the key pub, signed
// with the CA key under parent, valid for lifetime from a little before
// now (clocks differ); what names the certificate in errors.
func (p *Proxy) sign(tmpl, parent *x509.Certificate, lifetime time.Duration, pub *ecdsa.PublicKey, what string) (*x509.Certificate, error) {
	serial, err := proxySerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl.SerialNumber = serial
	tmpl.NotBefore = now.Add(-proxyBackdate)
	tmpl.NotAfter = now.Add(lifetime)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, p.caKey)
	if err != nil {
		return nil, fmt.Errorf("emulator: proxy %s: %w", what, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("emulator: proxy %s: %w", what, err)
	}
	return cert, nil
}

// CACertPEM returns the proxy's CA certificate, PEM encoded: the one
// certificate a client must trust to talk to the proxy.
func (p *Proxy) CACertPEM() []byte {
	return append([]byte(nil), p.caPEM...)
}

// WriteCA writes the CA certificate (PEM, no key) to path, readable by all,
// replacing any file there.
func (p *Proxy) WriteCA(path string) error {
	if err := os.WriteFile(path, p.caPEM, 0o644); err != nil {
		return fmt.Errorf("emulator: writing proxy CA: %w", err)
	}
	// Whatever the umask or an older file's mode: it is a public certificate.
	if err := os.Chmod(path, 0o644); err != nil {
		return fmt.Errorf("emulator: writing proxy CA: %w", err)
	}
	return nil
}

// Close closes every open tunnel. Stop the http.Server running the proxy
// first (its Shutdown does not know about hijacked tunnels); requests that
// arrive after Close are refused with 503.
func (p *Proxy) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for c := range p.tunnels {
		_ = c.Close()
	}
	return nil
}

// ServeHTTP answers one proxy request: a CONNECT, an absolute-URI request,
// or /ca.pem on the proxy itself.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodConnect:
		p.serveConnect(w, r)
	case r.URL.IsAbs() || r.URL.Host != "":
		p.servePlain(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/ca.pem":
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(p.caPEM)
	default:
		http.Error(w, "this is the 1fichier emulator's proxy: send CONNECT or absolute-URI requests, or GET /ca.pem", http.StatusBadRequest)
	}
}

// serveConnect opens a TLS tunnel that plays the requested host.
func (p *Proxy) serveConnect(w http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host // a CONNECT without a port: take the name as is
	}
	if !IsInterceptedHost(host) {
		p.logf("proxy: refused CONNECT %s", r.Host)
		http.Error(w, fmt.Sprintf("the emulator's proxy only serves %s and *.%s, not "+
			"%q", InterceptedDomain, InterceptedDomain, r.Host), http.StatusForbidden)
		return
	}
	if p.isClosed() {
		http.Error(w, "proxy is closed", http.StatusServiceUnavailable)
		return
	}
	raw, conn, ok := p.takeOver(w, r)
	if !ok {
		return
	}
	defer p.untrack(raw)
	p.logf("proxy: tunnel to %s", r.Host)
	tlsConn := tls.Server(conn, p.tlsConfig(strings.ToLower(strings.TrimSuffix(host, "."))))
	p.serveTunnel(raw, tlsConn)
}

// takeOver hijacks a CONNECT request's connection, tracks it and
// answers 200. It returns the client's TCP connection and the one to run
// TLS on; ok is false when the connection is gone.
func (p *Proxy) takeOver(w http.ResponseWriter, r *http.Request) (raw, conn net.Conn, ok bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "proxy: connection cannot be taken over", http.StatusInternalServerError)
		return nil, nil, false
	}
	raw, rw, err := hj.Hijack()
	if err != nil {
		p.logf("proxy: hijack for %s: %v", r.Host, err)
		return nil, nil, false
	}
	if !p.track(raw) {
		_ = raw.Close()
		return nil, nil, false
	}
	if _, err := io.WriteString(raw, "HTTP/1.1 200 Connection Established\r\n\r\n"); err != nil {
		_ = raw.Close()
		p.untrack(raw)
		return nil, nil, false
	}
	// TLS runs straight on the client's TCP connection, so a handler that
	// unwraps it (tls.Conn.NetConn) can reset it as it would without the
	// proxy. Only a client that sent its ClientHello before reading the
	// CONNECT answer needs a wrapper, for the bytes the server had already
	// buffered.
	conn = raw
	if n := rw.Reader.Buffered(); n > 0 {
		conn = &proxyPrefixedConn{Conn: raw, r: io.MultiReader(io.LimitReader(rw.Reader, int64(n)), raw)}
	}
	return raw, conn, true
}

// serveTunnel serves the API over one tunnel with a one-connection
// http.Server: it gives keep-alive, r.TLS (it runs the handshake itself
// for a *tls.Conn), chunked bodies and timeouts for free. It returns
// once the tunnel is closed, or once a handler has hijacked it (fault
// injection does, to cut connections); the hijacker then owns the
// connection and closes it itself.
func (p *Proxy) serveTunnel(raw net.Conn, tlsConn *tls.Conn) {
	ln := newProxyConnListener(tlsConn, raw.LocalAddr())
	var hijacked atomic.Bool
	srv := &http.Server{
		Handler:           p.handler,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       p.idleTimeout,
		ErrorLog:          log.New(io.Discard, "", 0),
		ConnState: func(_ net.Conn, s http.ConnState) {
			switch s {
			case http.StateHijacked:
				hijacked.Store(true)
				ln.done()
			case http.StateClosed:
				ln.done()
			}
		},
	}
	if p.log != nil {
		srv.ErrorLog = log.New(p.log, "proxy: ", 0)
	}
	_ = srv.Serve(ln)
	if !hijacked.Load() {
		_ = raw.Close()
	}
}

// tlsConfig returns the TLS settings for a tunnel opened to connectHost.
// The certificate follows the client's SNI when it sends one, and must then
// still name an intercepted host.
func (p *Proxy) tlsConfig(connectHost string) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// HTTP/1.1 only: the tunnel is served by a plain http.Server.
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
			if name == "" {
				name = connectHost
			}
			if !IsInterceptedHost(name) {
				return nil, fmt.Errorf("emulator proxy: no certificate for %q", hello.ServerName)
			}
			return p.leafFor(name)
		},
	}
}

// leafFor returns the cached leaf certificate for host, issuing it first if
// needed.
func (p *Proxy) leafFor(host string) (*tls.Certificate, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.leaves[host]; ok {
		return c, nil
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: host},
		DNSNames:              []string{host},
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	leaf, err := p.sign(tmpl, p.caCert, proxyLeafLifetime, &p.leafKey.PublicKey, "certificate for "+host)
	if err != nil {
		return nil, err
	}
	c := &tls.Certificate{
		Certificate: [][]byte{leaf.Raw, p.caCert.Raw},
		PrivateKey:  p.leafKey,
		Leaf:        leaf,
	}
	p.leaves[host] = c
	return c, nil
}

// servePlain serves an absolute-URI proxy request for an intercepted host
// without TLS.
func (p *Proxy) servePlain(w http.ResponseWriter, r *http.Request) {
	host := r.URL.Hostname()
	if !IsInterceptedHost(host) {
		p.logf("proxy: refused %s %s", r.Method, r.URL.Redacted())
		http.Error(w, fmt.Sprintf("the emulator's proxy only serves %s and *.%s, not "+
			"%q", InterceptedDomain, InterceptedDomain, r.URL.Host), http.StatusForbidden)
		return
	}
	if r.URL.Scheme != "" && r.URL.Scheme != "http" {
		http.Error(w, "proxy: only http:// URIs can be sent in the clear; use CONNECT for https", http.StatusBadRequest)
		return
	}
	// Make it look like a request sent straight to the host: origin-form
	// URL, the URI's authority as Host, no proxy-only headers.
	r2 := r.Clone(r.Context())
	r2.Host = r.URL.Host
	r2.URL.Scheme = ""
	r2.URL.Host = ""
	r2.RequestURI = r2.URL.RequestURI()
	r2.Header.Del("Proxy-Connection")
	r2.Header.Del("Proxy-Authorization")
	p.handler.ServeHTTP(w, r2)
}

// IsInterceptedHost reports whether the proxy answers for host (a name
// without port): 1fichier.com or any name below it, in any letter case.
func IsInterceptedHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == InterceptedDomain || strings.HasSuffix(host, "."+InterceptedDomain)
}

func (p *Proxy) logf(format string, args ...any) {
	if p.log != nil {
		_, _ = fmt.Fprintf(p.log, format+"\n", args...)
	}
}

func (p *Proxy) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// track records an open tunnel; it reports false once the proxy is closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.tunnels[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.tunnels, c)
}

// proxySerial returns a random 128-bit certificate serial number.
func proxySerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("emulator: certificate serial: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil // never zero
}

// proxyPrefixedConn is a connection whose first bytes come from a buffer
// the HTTP server had already filled.
type proxyPrefixedConn struct {
	net.Conn
	r io.Reader
}

func (c *proxyPrefixedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// proxyConnListener is a net.Listener that yields one connection, then
// blocks until that connection is finished and reports itself closed, so an
// http.Server can serve a single, already accepted connection.
type proxyConnListener struct {
	addr     net.Addr
	mu       sync.Mutex
	conn     net.Conn // nil once handed out
	finished chan struct{}
	once     sync.Once
}

func newProxyConnListener(c net.Conn, addr net.Addr) *proxyConnListener {
	return &proxyConnListener{addr: addr, conn: c, finished: make(chan struct{})}
}

// Accept returns the connection the first time, then waits for it to end.
func (l *proxyConnListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	c := l.conn
	l.conn = nil
	l.mu.Unlock()
	if c != nil {
		return c, nil
	}
	<-l.finished
	return nil, net.ErrClosed
}

// done marks the connection finished; Accept then reports the listener
// closed and Serve returns.
func (l *proxyConnListener) done() { l.once.Do(func() { close(l.finished) }) }

// Close ends the listener as done does; http.Server calls it on shutdown.
func (l *proxyConnListener) Close() error {
	l.done()
	return nil
}

// Addr is the proxy's own address, the local end of the tunnel.
func (l *proxyConnListener) Addr() net.Addr { return l.addr }

// Compile-time check that the proxy is a handler.
var _ http.Handler = (*Proxy)(nil)
