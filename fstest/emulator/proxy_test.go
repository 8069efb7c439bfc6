package emulator_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
)

// proxySeen is what the stub handler saw of one request.
type proxySeen struct {
	Method, Host, Path, Query, Auth string
	TLS                             bool
	SNI                             string
	Body                            string
	ContentLength                   int64
	ProxyHeader                     bool
}

// proxyStub is an http.Handler standing in for the emulator: it records
// every request and answers a small JSON document naming what it saw.
type proxyStub struct {
	mu   sync.Mutex
	seen []proxySeen
}

func (s *proxyStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := proxySeen{
		Method:        r.Method,
		Host:          r.Host,
		Path:          r.URL.Path,
		Query:         r.URL.RawQuery,
		Auth:          r.Header.Get("Authorization"),
		TLS:           r.TLS != nil,
		Body:          string(body),
		ContentLength: r.ContentLength,
		ProxyHeader:   r.Header.Get("Proxy-Connection") != "",
	}
	if r.TLS != nil {
		rec.SNI = r.TLS.ServerName
	}
	s.mu.Lock()
	s.seen = append(s.seen, rec)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"status":"OK","host":%q,"path":%q}`, r.Host, r.URL.Path)
}

func (s *proxyStub) requests() []proxySeen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]proxySeen(nil), s.seen...)
}

// startProxy runs a proxy in front of h on a loopback listener.
func startProxy(t *testing.T, h http.Handler, opts emulator.ProxyOptions) (*emulator.Proxy, *httptest.Server) {
	t.Helper()
	p, err := emulator.NewProxy(h, opts)
	require.NoError(t, err)
	srv := httptest.NewServer(p)
	t.Cleanup(func() {
		srv.Close()
		require.NoError(t, p.Close())
	})
	return p, srv
}

// proxyClient returns an HTTP client that goes through the proxy at
// proxyURL and trusts only the proxy's CA.
func proxyClient(t *testing.T, p *emulator.Proxy, proxyURL string) *http.Client {
	t.Helper()
	u, err := url.Parse(proxyURL)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(p.CACertPEM()))
	tr := &http.Transport{
		Proxy:               http.ProxyURL(u),
		TLSClientConfig:     &tls.Config{RootCAs: pool},
		TLSHandshakeTimeout: 10 * time.Second,
		// Offer h2 as rclone and curl do: the proxy must still settle on
		// HTTP/1.1, which is all the tunnel speaks.
		ForceAttemptHTTP2: true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport: tr,
		Timeout:   20 * time.Second,
		// Upload nodes answer 302; the tests look at it themselves.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// rawConnect sends a CONNECT for target to the proxy on a fresh connection
// and returns the connection with the proxy's response.
func rawConnect(t *testing.T, proxyAddr, target string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", proxyAddr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second)))
	_, err = fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	require.NoError(t, err)
	return conn, br, resp
}

// tlsThrough opens a tunnel to host:443 and runs a TLS handshake over it
// with the given server name, trusting roots.
func tlsThrough(t *testing.T, proxyAddr, host, serverName string, roots *x509.CertPool) (*tls.Conn, error) {
	t.Helper()
	conn, br, resp := rawConnect(t, proxyAddr, host+":443")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Zero(t, br.Buffered(), "nothing may follow the CONNECT answer before the handshake")
	tc := tls.Client(conn, &tls.Config{ServerName: serverName, RootCAs: roots})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return tc, tc.HandshakeContext(ctx)
}

func TestProxyServesEveryOneFichierRoleOverTLS(t *testing.T) {
	t.Parallel()
	stub := &proxyStub{}
	p, srv := startProxy(t, stub, emulator.ProxyOptions{})
	client := proxyClient(t, p, srv.URL)

	// API call, shaped like the API document's curl examples.
	req, err := http.NewRequest(http.MethodPost, "https://api.1fichier.com/v1/user/info.cgi", strings.NewReader(`{}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer secret-key")
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"status":"OK","host":"api.1fichier.com","path":"/v1/user/info.cgi"}`, string(body))
	require.NotNil(t, resp.TLS)
	assert.Equal(t, "api.1fichier.com", resp.TLS.PeerCertificates[0].DNSNames[0])
	assert.Equal(t, "http/1.1", resp.TLS.NegotiatedProtocol)

	// Upload node: a multipart POST with a Content-Length.
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, err := mw.CreateFormFile("file[]", "hello.txt")
	require.NoError(t, err)
	_, err = fw.Write([]byte("hello, proxy"))
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	mpLen := int64(mp.Len())
	req, err = http.NewRequest(http.MethodPost, "https://up2.1fichier.com/upload.cgi?id=abc123", &mp)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err = client.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// Download host and website.
	for _, u := range []string{"https://a-4.1fichier.com/dl/tok123", "https://1fichier.com/dir/AbCdEfGh?json=1"} {
		resp, err = client.Get(u)
		require.NoError(t, err, u)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, http.StatusOK, resp.StatusCode, u)
	}

	seen := stub.requests()
	require.Len(t, seen, 4)

	assert.Equal(t, proxySeen{
		Method: http.MethodPost, Host: "api.1fichier.com", Path: "/v1/user/info.cgi",
		Auth: "Bearer secret-key", TLS: true, SNI: "api.1fichier.com", Body: `{}`, ContentLength: 2,
	}, seen[0])

	assert.Equal(t, "up2.1fichier.com", seen[1].Host)
	assert.Equal(t, "/upload.cgi", seen[1].Path)
	assert.Equal(t, "id=abc123", seen[1].Query)
	assert.True(t, seen[1].TLS)
	assert.Equal(t, "up2.1fichier.com", seen[1].SNI)
	assert.Equal(t, mpLen, seen[1].ContentLength, "the upload's Content-Length reaches the handler")
	assert.Contains(t, seen[1].Body, "hello, proxy")

	assert.Equal(t, "a-4.1fichier.com", seen[2].Host)
	assert.Equal(t, "/dl/tok123", seen[2].Path)
	assert.True(t, seen[2].TLS)

	assert.Equal(t, "1fichier.com", seen[3].Host)
	assert.Equal(t, "/dir/AbCdEfGh", seen[3].Path)
	assert.Equal(t, "json=1", seen[3].Query)
	assert.True(t, seen[3].TLS)
}

func TestProxyKeepsTunnelAliveAcrossRequests(t *testing.T) {
	t.Parallel()
	stub := &proxyStub{}
	var logBuf proxyLockedBuffer
	p, srv := startProxy(t, stub, emulator.ProxyOptions{Log: &logBuf})
	client := proxyClient(t, p, srv.URL)

	var reused []bool
	for i := range 3 {
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = append(reused, info.Reused) }}
		ctx := httptrace.WithClientTrace(context.Background(), trace)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://api.1fichier.com/v1/folder/ls.cgi",
			strings.NewReader(fmt.Sprintf(`{"folder_id":%d}`, i)))
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	assert.Equal(t, []bool{false, true, true}, reused, "requests after the first reuse the tunnel")
	assert.Len(t, stub.requests(), 3)
	assert.Equal(t, 1, strings.Count(logBuf.String(), "proxy: tunnel to api.1fichier.com:443"), logBuf.String())
}

func TestProxyRefusesOtherHosts(t *testing.T) {
	t.Parallel()
	stub := &proxyStub{}
	var logBuf proxyLockedBuffer
	p, srv := startProxy(t, stub, emulator.ProxyOptions{Log: &logBuf})
	proxyAddr := strings.TrimPrefix(srv.URL, "http://")

	for _, target := range []string{
		"example.com:443",
		"evil1fichier.com:443",             // suffix without a dot boundary
		"api.1fichier.com.example.com:443", // the domain as a prefix only
		"127.0.0.1:443",
		"[::1]:443",
		"1fichier.org:443",
	} {
		t.Run(target, func(t *testing.T) {
			_, _, resp := rawConnect(t, proxyAddr, target)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, http.StatusForbidden, resp.StatusCode)
			assert.Contains(t, string(body), "only serves 1fichier.com")
		})
	}

	// Through a real client too: the CONNECT refusal surfaces as an error.
	client := proxyClient(t, p, srv.URL)
	_, err := client.Get("https://example.com/")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Forbidden")

	// Plain-HTTP proxy requests for other hosts are refused as well.
	resp, err := client.Get("http://example.com/v1/user/info.cgi")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	assert.Empty(t, stub.requests(), "a refused request never reaches the handler")
	assert.Contains(t, logBuf.String(), "proxy: refused CONNECT example.com:443")
}

func TestProxyRefusesHandshakeForForeignServerName(t *testing.T) {
	t.Parallel()
	p, srv := startProxy(t, &proxyStub{}, emulator.ProxyOptions{})
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(p.CACertPEM()))
	proxyAddr := strings.TrimPrefix(srv.URL, "http://")

	// The tunnel is opened for an intercepted host, but the ClientHello
	// asks for another name: no certificate is issued for it.
	_, err := tlsThrough(t, proxyAddr, "api.1fichier.com", "example.com", pool)
	require.Error(t, err)
}

func TestProxyServesPlainHTTPRequests(t *testing.T) {
	t.Parallel()
	stub := &proxyStub{}
	p, srv := startProxy(t, stub, emulator.ProxyOptions{})
	client := proxyClient(t, p, srv.URL)

	req, err := http.NewRequest(http.MethodPost, "http://api.1fichier.com/v1/file/ls.cgi?x=1", strings.NewReader(`{"folder_id":0}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer k")
	resp, err := client.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"status":"OK","host":"api.1fichier.com","path":"/v1/file/ls.cgi"}`, string(body))

	seen := stub.requests()
	require.Len(t, seen, 1)
	assert.Equal(t, "api.1fichier.com", seen[0].Host)
	assert.Equal(t, "/v1/file/ls.cgi", seen[0].Path)
	assert.Equal(t, "x=1", seen[0].Query)
	assert.False(t, seen[0].TLS, "a clear-text request is not dressed up as TLS")
	assert.Equal(t, `{"folder_id":0}`, seen[0].Body)
	assert.False(t, seen[0].ProxyHeader)
}

func TestProxyCAFileVerifiesLeaves(t *testing.T) {
	t.Parallel()
	p, srv := startProxy(t, &proxyStub{}, emulator.ProxyOptions{})
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, p.WriteCA(caFile))

	data, err := os.ReadFile(caFile)
	require.NoError(t, err)
	assert.Equal(t, p.CACertPEM(), data)
	info, err := os.Stat(caFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), info.Mode().Perm())

	block, rest := pem.Decode(data)
	require.NotNil(t, block)
	assert.Equal(t, "CERTIFICATE", block.Type)
	assert.Empty(t, bytes.TrimSpace(rest), "the file holds the CA certificate only, no key")
	ca, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.True(t, ca.IsCA)
	assert.True(t, ca.BasicConstraintsValid)
	assert.NotZero(t, ca.KeyUsage&x509.KeyUsageCertSign)
	caKey, ok := ca.PublicKey.(*ecdsa.PublicKey)
	require.True(t, ok, "CA key is ECDSA")
	assert.Equal(t, elliptic.P256(), caKey.Curve)
	assert.True(t, ca.NotAfter.After(time.Now().Add(365*24*time.Hour)))

	// Trust only the file's contents, as rclone --ca-cert and curl --cacert do.
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(data))
	proxyAddr := strings.TrimPrefix(srv.URL, "http://")

	leaves := map[string]*x509.Certificate{}
	for _, host := range []string{"api.1fichier.com", "up2.1fichier.com", "a-4.1fichier.com", "1fichier.com", "API.1Fichier.COM"} {
		tc, err := tlsThrough(t, proxyAddr, host, host, pool)
		require.NoError(t, err, host)
		leaf := tc.ConnectionState().PeerCertificates[0]
		_, err = leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: host, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		require.NoError(t, err, host)
		require.NoError(t, leaf.CheckSignatureFrom(ca))
		leafKey, ok := leaf.PublicKey.(*ecdsa.PublicKey)
		require.True(t, ok)
		assert.Equal(t, elliptic.P256(), leafKey.Curve)
		assert.False(t, leaf.IsCA)
		leaves[host] = leaf
		require.NoError(t, tc.Close())
	}
	// A leaf names its own host only.
	_, err = leaves["api.1fichier.com"].Verify(x509.VerifyOptions{Roots: pool, DNSName: "up2.1fichier.com"})
	assert.Error(t, err)

	// Leaves are cached per host: a second tunnel gets the same certificate.
	tc, err := tlsThrough(t, proxyAddr, "api.1fichier.com", "api.1fichier.com", pool)
	require.NoError(t, err)
	assert.Equal(t, leaves["api.1fichier.com"].Raw, tc.ConnectionState().PeerCertificates[0].Raw)
	assert.Equal(t, leaves["api.1fichier.com"].Raw, leaves["API.1Fichier.COM"].Raw, "host names are case-insensitive")
	assert.NotEqual(t, leaves["api.1fichier.com"].Raw, leaves["up2.1fichier.com"].Raw)
	require.NoError(t, tc.Close())

	// Two proxies never share a CA.
	p2, err := emulator.NewProxy(&proxyStub{}, emulator.ProxyOptions{})
	require.NoError(t, err)
	assert.NotEqual(t, p.CACertPEM(), p2.CACertPEM())
}

func TestProxyServesCAOnItsOwnAddress(t *testing.T) {
	t.Parallel()
	p, srv := startProxy(t, &proxyStub{}, emulator.ProxyOptions{})
	resp, err := http.Get(srv.URL + "/ca.pem")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, p.CACertPEM(), body)

	resp, err = http.Get(srv.URL + "/v1/user/info.cgi")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "a direct request is not a proxy request")
}

func TestProxyCloseEndsOpenTunnels(t *testing.T) {
	t.Parallel()
	p, srv := startProxy(t, &proxyStub{}, emulator.ProxyOptions{})
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(p.CACertPEM()))
	proxyAddr := strings.TrimPrefix(srv.URL, "http://")

	tc, err := tlsThrough(t, proxyAddr, "api.1fichier.com", "api.1fichier.com", pool)
	require.NoError(t, err)
	require.NoError(t, p.Close())

	// The tunnel is closed from the proxy's side: the client reads EOF (or
	// a reset) well before its deadline.
	require.NoError(t, tc.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = tc.Read(make([]byte, 1))
	require.Error(t, err)
	var ne net.Error
	assert.False(t, errors.As(err, &ne) && ne.Timeout(), "tunnel should be closed, not timed out: %v", err)

	// New tunnels are not accepted any more.
	_, _, resp := rawConnect(t, proxyAddr, "api.1fichier.com:443")
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

func TestProxyLeavesHijackedTunnelToHandler(t *testing.T) {
	t.Parallel()
	// Fault injection cuts answers short by hijacking the connection; the
	// proxy must neither close it under the handler nor add anything.
	cut := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, bw, err := http.NewResponseController(w).Hijack()
		if !assert.NoError(t, err) {
			return
		}
		defer func() { _ = conn.Close() }()
		_, _ = bw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
		_ = bw.Flush()
		// A pause between header and body gives a premature close by the
		// proxy every chance to show.
		time.Sleep(50 * time.Millisecond)
		_, _ = bw.WriteString("partial")
		_ = bw.Flush()
	})
	p, srv := startProxy(t, cut, emulator.ProxyOptions{})
	client := proxyClient(t, p, srv.URL)

	resp, err := client.Get("https://api.1fichier.com/v1/file/ls.cgi")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "partial", string(body))
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestProxyPassesConnectionResetToClient(t *testing.T) {
	t.Parallel()
	// A reset fault unwraps the TLS connection to reach the TCP socket and
	// closes that with SO_LINGER 0 (closing the tls.Conn would send a
	// close_notify first, which the client reads as a clean EOF); through
	// the proxy the client must see the same TCP reset as without it.
	reset := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if !assert.NoError(t, err) {
			return
		}
		defer func() { _ = conn.Close() }()
		tc, ok := conn.(*tls.Conn)
		if !assert.True(t, ok, "hijacked tunnel is a *tls.Conn") {
			return
		}
		nc, ok := tc.NetConn().(*net.TCPConn)
		if !assert.True(t, ok, "under it, the client's own TCP connection") {
			return
		}
		assert.NoError(t, nc.SetLinger(0))
		assert.NoError(t, nc.Close())
	})
	p, srv := startProxy(t, reset, emulator.ProxyOptions{})
	client := proxyClient(t, p, srv.URL)

	_, err := client.Get("https://api.1fichier.com/v1/file/ls.cgi")
	require.Error(t, err)
	assert.ErrorIs(t, err, syscall.ECONNRESET)
}

func TestProxyWorksWithCurl(t *testing.T) {
	t.Parallel()
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	stub := &proxyStub{}
	p, srv := startProxy(t, stub, emulator.ProxyOptions{})
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, p.WriteCA(caFile))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The API document's curl example, plus --proxy and --cacert.
	cmd := exec.CommandContext(ctx, curl, "-sS", "--fail",
		"--proxy", srv.URL, "--cacert", caFile,
		"-H", "Authorization: Bearer curl-key", "-H", "Content-Type: application/json",
		"-d", "{}", "https://api.1fichier.com/v1/user/info.cgi")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()} // no *_proxy or curlrc from outside
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.JSONEq(t, `{"status":"OK","host":"api.1fichier.com","path":"/v1/user/info.cgi"}`, string(out))

	seen := stub.requests()
	require.Len(t, seen, 1)
	assert.Equal(t, "Bearer curl-key", seen[0].Auth)
	assert.True(t, seen[0].TLS)
	assert.Equal(t, "{}", seen[0].Body)
}

// newProxiedEmulator starts the real emulator behind a proxy and returns
// it with a client that reaches it through the proxy.
func newProxiedEmulator(t *testing.T, acct emulator.Account) (*emulator.Server, *http.Client) {
	t.Helper()
	srv, err := emulator.New(emulator.Options{Accounts: []emulator.Account{acct}, NoRateLimits: true})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, srv.Close()) })
	p, ps := startProxy(t, srv, emulator.ProxyOptions{})
	return srv, proxyClient(t, p, ps.URL)
}

// proxyJSON sends a request through client and decodes a JSON answer.
func proxyJSON(t *testing.T, client *http.Client, method, u string, hdr map[string]string, body io.Reader) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var v map[string]any
	require.NoError(t, json.Unmarshal(raw, &v), "%s %s answered %s", method, u, raw)
	return resp.StatusCode, v
}

func TestProxyFrontsRealEmulatorUserInfo(t *testing.T) {
	t.Parallel()
	const key = "proxied-key-0123456789"
	_, client := newProxiedEmulator(t, emulator.Account{Key: key, Email: "proxied@example.com", Offer: emulator.OfferPremium})

	// The API document's curl example, unchanged but for the proxy.
	code, v := proxyJSON(t, client, http.MethodPost, "https://api.1fichier.com/v1/user/info.cgi",
		map[string]string{"Authorization": "Bearer " + key, "Content-Type": "application/json"}, strings.NewReader(`{}`))
	assert.Equal(t, http.StatusOK, code, v)
	assert.Equal(t, "OK", v["status"], v)
	assert.Equal(t, "proxied@example.com", v["email"])

	code, v = proxyJSON(t, client, http.MethodPost, "https://api.1fichier.com/v1/user/info.cgi",
		map[string]string{"Authorization": "Bearer wrong-key", "Content-Type": "application/json"}, strings.NewReader(`{}`))
	assert.NotEqual(t, http.StatusOK, code)
	assert.Equal(t, "KO", v["status"])
	assert.Contains(t, v["message"], "#93")
}

func TestProxyFrontsRealEmulatorUploadAndDownload(t *testing.T) {
	t.Parallel()
	const key = "proxied-upload-key-0123"
	srv, client := newProxiedEmulator(t, emulator.Account{Key: key, Offer: emulator.OfferPremium})
	auth := map[string]string{"Authorization": "Bearer " + key, "Content-Type": "application/json"}

	// Every host below is one the emulator handed out, as with the real
	// service: the client never needs to know about the emulator.
	code, v := proxyJSON(t, client, http.MethodGet, "https://api.1fichier.com/v1/upload/get_upload_server.cgi", auth, nil)
	require.Equal(t, http.StatusOK, code, v)
	node, id := fmt.Sprint(v["url"]), fmt.Sprint(v["id"])
	require.Regexp(t, `^up[0-9]*\.1fichier\.com$`, node)

	content := []byte("through the proxy and back")
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	require.NoError(t, mw.WriteField("did", "0"))
	fw, err := mw.CreateFormFile("file[]", "proxied.txt")
	require.NoError(t, err)
	_, err = fw.Write(content)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, "https://"+node+"/upload.cgi?id="+id, &mp)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := client.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.Equal(t, "/end.pl?xid="+id, resp.Header.Get("Location"))

	code, v = proxyJSON(t, client, http.MethodGet, "https://"+node+"/end.pl?xid="+id,
		map[string]string{"Authorization": "Bearer " + key, "JSON": "1"}, nil)
	require.Equal(t, http.StatusOK, code, v)
	links, ok := v["links"].([]any)
	require.True(t, ok, "links in %v", v)
	require.Len(t, links, 1)
	fileURL := fmt.Sprint(links[0].(map[string]any)["download"])
	require.Regexp(t, `^https://1fichier\.com/\?[a-z0-9]{10}$`, fileURL)

	code, v = proxyJSON(t, client, http.MethodPost, "https://api.1fichier.com/v1/download/get_token.cgi", auth,
		strings.NewReader(fmt.Sprintf(`{"url":%q}`, fileURL)))
	require.Equal(t, http.StatusOK, code, v)
	dl := fmt.Sprint(v["url"])
	require.Regexp(t, `^https://a-[0-9]+\.1fichier\.com/dl/`, dl)

	resp, err = client.Get(dl)
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, content, got)

	st := srv.Stats()
	assert.Equal(t, int64(1), st.Calls["upload.cgi"])
	assert.Equal(t, int64(1), st.Calls["end.pl"])
	assert.Equal(t, int64(1), st.Calls["download"])
}

func TestProxyNeedsHandler(t *testing.T) {
	t.Parallel()
	_, err := emulator.NewProxy(nil, emulator.ProxyOptions{})
	assert.Error(t, err)
}

func TestIsInterceptedHost(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"1fichier.com":          true,
		"api.1fichier.com":      true,
		"up2.1fichier.com":      true,
		"a-4.1fichier.com":      true,
		"API.1FICHIER.COM":      true,
		"api.1fichier.com.":     true,
		"x.y.1fichier.com":      true,
		"":                      false,
		"example.com":           false,
		"evil1fichier.com":      false,
		"1fichier.com.evil.com": false,
		"1fichier.co":           false,
		"127.0.0.1":             false,
	} {
		assert.Equal(t, want, emulator.IsInterceptedHost(host), host)
	}
}

// proxyLockedBuffer is a bytes.Buffer safe for concurrent writers.
type proxyLockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *proxyLockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *proxyLockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
