package emulator

import (
	"crypto/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestServer is an emulator running on a loopback port for Go tests.
type TestServer struct {
	*Server
	URL    string // "http://127.0.0.1:PORT"
	APIURL string // URL + "/v1"
	Key    string // first account's key

	http      *httptest.Server
	closeOnce sync.Once
}

// NewTestKey returns a key no other test server has. The backend keeps
// its clocks, listings and journal per API URL and key, so a server on a
// port an earlier test's server had, with that server's key, would
// inherit its state: each server gets a key of its own.
func NewTestKey() string {
	return "test-key-" + rand.Text()
}

// NewTestServer starts an emulator on a loopback port; it is closed by
// t.Cleanup. With no accounts in opts, it gets one premium account with
// a key of its own (NewTestKey).
func NewTestServer(t testing.TB, opts Options) *TestServer {
	t.Helper()
	return NewTestServerOn(t, "127.0.0.1:0", opts)
}

// NewTestServerOn is NewTestServer listening on addr, for a test that
// starts a server where an earlier one listened.
func NewTestServerOn(t testing.TB, addr string, opts Options) *TestServer {
	t.Helper()
	if len(opts.Accounts) == 0 {
		opts.Accounts = []Account{{Key: NewTestKey(), Email: "test@example.com", Offer: OfferPremium}}
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("emulator: %v", err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("emulator: %v", err)
	}
	hs := &httptest.Server{Listener: l, Config: s.NewHTTPServer()}
	hs.Start()
	ts := &TestServer{Server: s, URL: hs.URL, APIURL: hs.URL + "/v1", Key: opts.Accounts[0].Key, http: hs}
	t.Cleanup(ts.Stop)
	return ts
}

// Stop stops the server; a second Stop does nothing.
func (ts *TestServer) Stop() {
	ts.closeOnce.Do(func() {
		ts.http.Close()
		_ = ts.Server.Close()
	})
}

// Client returns an HTTP client configured for the test server.
func (ts *TestServer) Client() *http.Client { return ts.http.Client() }
