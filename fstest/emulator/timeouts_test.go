package emulator

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stalledConns is how many connections each stall test opens: enough to
// show the server does not wait on any of them, few enough for a shared
// machine.
const stalledConns = 40

// shortTimeouts are Options with every connection timeout short, so
// stall tests finish quickly.
func shortTimeouts() Options {
	return Options{
		NoRateLimits:      true,
		ReadHeaderTimeout: 300 * time.Millisecond,
		BodyIdleTimeout:   300 * time.Millisecond,
		IdleTimeout:       300 * time.Millisecond,
	}
}

// openStalled opens n loopback connections to ts, writes prefix on each
// and then sends nothing more.
func openStalled(t *testing.T, ts *TestServer, n int, prefix string) []net.Conn {
	t.Helper()
	addr := strings.TrimPrefix(ts.URL, "http://")
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	for range n {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		conns = append(conns, c)
		_, err = io.WriteString(c, prefix)
		require.NoError(t, err)
	}
	return conns
}

// readUntilClosed reads c until the server closes it and returns what it
// sent. The guard only stops a test that would hang: far longer than any
// timeout in shortTimeouts, it is no measure of speed.
func readUntilClosed(c net.Conn) ([]byte, error) {
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return b, fmt.Errorf("the server left the connection open: %w", err)
	}
	// EOF (ReadAll's nil) or a reset: closed either way.
	return b, nil
}

// requireAllClosed checks, concurrently, that the server closes every
// connection, and returns what each received.
func requireAllClosed(t *testing.T, conns []net.Conn) [][]byte {
	t.Helper()
	got := make([][]byte, len(conns))
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() { got[i], errs[i] = readUntilClosed(c) })
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "connection %d", i)
	}
	return got
}

func TestStalledConnectionsAreClosedByTheServer(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, shortTimeouts())
	_, xid := ts.startUpload(t)
	ct, upload := multipartBody(t, "big.bin", bytes.Repeat([]byte("x"), 1<<16), nil)
	api := func(path, body string, length int) string {
		return fmt.Sprintf("POST /v1/%s HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer %s\r\nContent-Type: "+
			"application/json\r\nContent-Length: %d\r\n\r\n%s",
			path, ts.Key, length, body)
	}
	for _, tc := range []struct {
		name   string
		prefix string
		want   string // start of the answer, "" = none
	}{
		{"nothing sent", "", ""},
		{"headers cut short", "POST /v1/folder/ls.cgi HTTP/1.1\r\nHost: h\r\nAuthoriz", "HTTP/1.1 400 "}, // net/http's answer to a partial header
		{"API body stalls", api("folder/ls.cgi", `{"folder`, 100), "HTTP/1.1 408 "},
		{"API body stalls after a refusal", "POST /v1/folder/ls.cgi HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n{", "HTTP/1.1 401 "},
		{"upload body stalls", fmt.Sprintf("POST /upload.cgi?id=%s HTTP/1.1\r\nHost: h\r\nAuthorization: "+
			"Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s",
			xid, ts.Key, ct, len(upload), upload[:len(upload)/2]), "HTTP/1.1 408 "},
		{"idle keep-alive connection", api("folder/ls.cgi", `{}`, 2), "HTTP/1.1 200 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conns := openStalled(t, ts, stalledConns, tc.prefix)
			for i, got := range requireAllClosed(t, conns) {
				if tc.want == "" {
					assert.Empty(t, got, "connection %d", i)
				} else {
					assert.True(t, strings.HasPrefix(string(got), tc.want), "connection %d got %q", i, got)
				}
			}
		})
	}
	assert.Equal(t, 0, ts.FileCount(), "a stalled upload stores nothing")
}

// slowReader gives its data in small pieces with a pause before each.
type slowReader struct {
	data  []byte
	piece int
	pause time.Duration
}

func (r *slowReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.pause)
	n := copy(p[:min(len(p), r.piece)], r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestSlowButMovingUploadIsNotCut(t *testing.T) {
	t.Parallel()
	opts := shortTimeouts()
	opts.BodyIdleTimeout = time.Second
	ts := NewTestServer(t, opts)
	host, id := ts.startUpload(t)
	data := bytes.Repeat([]byte("slow"), 256)
	ct, body := multipartBody(t, "slow.bin", data, nil)
	// About 2.5 s in all, far longer than the idle timeout, but never
	// more than a tenth of it without a byte.
	src := &slowReader{data: body, piece: len(body)/25 + 1, pause: 100 * time.Millisecond}
	req, err := http.NewRequest(http.MethodPost, "http://"+host+"/upload.cgi?id="+id, src)
	require.NoError(t, err)
	req.ContentLength = int64(len(body))
	req.Header.Set("Authorization", "Bearer "+ts.Key)
	req.Header.Set("Content-Type", ct)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	files, err := ts.Files(ts.Key, 0)
	require.NoError(t, err)
	require.Len(t, files, 1)
	assert.Equal(t, int64(len(data)), files[0].Size)
}

func TestKeepAliveConnectionServesRequestsAfterABody(t *testing.T) {
	t.Parallel()
	// The body deadline must not outlive its request: the next request on
	// the same connection, sent after more than the idle time, works.
	opts := shortTimeouts()
	opts.IdleTimeout = 5 * time.Second
	ts := NewTestServer(t, opts)
	c := openStalled(t, ts, 1, "")[0]
	br := bufio.NewReader(c)
	for i := range 2 {
		_, err := fmt.Fprintf(c, "POST /v1/folder/ls.cgi HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer "+
			"%s\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", ts.Key)
		require.NoError(t, err)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err, "request %d", i)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "request %d", i)
		time.Sleep(2 * opts.BodyIdleTimeout)
	}
}

func TestTimeoutDefaults(t *testing.T) {
	t.Parallel()
	s, err := New(Options{Accounts: []Account{{Key: "k", Offer: OfferPremium}}})
	require.NoError(t, err)
	hs := s.NewHTTPServer()
	assert.Equal(t, DefaultReadHeaderTimeout, hs.ReadHeaderTimeout)
	assert.Equal(t, DefaultIdleTimeout, hs.IdleTimeout)
	assert.Equal(t, DefaultBodyIdleTimeout, s.bodyIdleTimeout())
	assert.Same(t, s, hs.Handler.(*Server))

	s, err = New(Options{Accounts: []Account{{Key: "k", Offer: OfferPremium}}, ReadHeaderTimeout: -1, BodyIdleTimeout: -1, IdleTimeout: time.Second})
	require.NoError(t, err)
	hs = s.NewHTTPServer()
	assert.Zero(t, hs.ReadHeaderTimeout, "negative turns it off")
	assert.Zero(t, s.bodyIdleTimeout())
	assert.Equal(t, time.Second, hs.IdleTimeout)
}
