package emulator

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestServer is an emulator running on a loopback port for Go tests.
type TestServer struct {
	*Server
	URL    string // "http://127.0.0.1:PORT"
	APIURL string // URL + "/v1"
	Key    string // first account's key

	http *httptest.Server
}

// NewTestServer starts an emulator on a loopback port; it is closed by
// t.Cleanup. With no accounts in opts, it gets one premium account with
// key "test-key".
func NewTestServer(t testing.TB, opts Options) *TestServer {
	t.Helper()
	if len(opts.Accounts) == 0 {
		opts.Accounts = []Account{{Key: "test-key", Email: "test@example.com", Offer: OfferPremium}}
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("emulator: %v", err)
	}
	hs := httptest.NewUnstartedServer(s)
	hs.Config = s.NewHTTPServer()
	hs.Start()
	t.Cleanup(func() {
		hs.Close()
		_ = s.Close()
	})
	return &TestServer{Server: s, URL: hs.URL, APIURL: hs.URL + "/v1", Key: opts.Accounts[0].Key, http: hs}
}

// Client returns an HTTP client configured for the test server.
func (ts *TestServer) Client() *http.Client { return ts.http.Client() }
