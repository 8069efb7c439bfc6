package emulator

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGetTokenAndDownload(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	u := ts.upload(t, 0, "r.txt", []byte("0123456789"))
	m := ts.ok(t, "download/get_token.cgi", map[string]any{"url": u, "single": 0})
	dl := m["url"].(string)
	assert.Regexp(t, `^`+ts.URL+`/dl/[A-Za-z0-9]{16}$`, dl)

	r := do(t, http.MethodGet, dl, nil, nil)
	require.Equal(t, 200, r.Code)
	assert.Equal(t, "0123456789", string(r.Body))
	assert.Equal(t, "bytes", r.Header.Get("Accept-Ranges"))
	assert.Equal(t, `attachment; filename=r.txt`, r.Header.Get("Content-Disposition"))
	assert.Equal(t, "text/plain", r.Header.Get("Content-Type"))

	// Range requests: 206 with Content-Range; 416 when unsatisfiable.
	for _, tc := range []struct {
		rng, body, crange string
		code              int
	}{
		{"bytes=2-5", "2345", "bytes 2-5/10", 206},
		{"bytes=7-", "789", "bytes 7-9/10", 206},
		{"bytes=-3", "789", "bytes 7-9/10", 206},
		{"bytes=20-30", "", "bytes */10", 416},
	} {
		r := do(t, http.MethodGet, dl, map[string]string{"Range": tc.rng}, nil)
		assert.Equal(t, tc.code, r.Code, tc.rng)
		assert.Equal(t, tc.crange, r.Header.Get("Content-Range"), tc.rng)
		if tc.code == 206 {
			assert.Equal(t, tc.body, string(r.Body), tc.rng)
		}
	}
	// The download host needs no API key and never looks at one.
	r = do(t, http.MethodGet, dl, map[string]string{"Authorization": "Bearer wrong"}, nil)
	assert.Equal(t, 200, r.Code)
	r = do(t, http.MethodGet, ts.URL+"/dl/nosuchtoken", nil, nil)
	assert.Equal(t, 404, r.Code)
}

func TestSingleTokenServesOneRequest(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	u := ts.upload(t, 0, "s.bin", []byte("abcdef"))
	m := ts.ok(t, "download/get_token.cgi", map[string]any{"url": u, "single": 1})
	dl := m["url"].(string)
	r := do(t, http.MethodGet, dl, map[string]string{"Range": "bytes=0-1"}, nil)
	require.Equal(t, 206, r.Code)
	r = do(t, http.MethodGet, dl, map[string]string{"Range": "bytes=2-3"}, nil)
	assert.Equal(t, http.StatusGone, r.Code, "second request on a single token")
	r = do(t, http.MethodGet, dl, nil, nil)
	assert.Equal(t, http.StatusGone, r.Code)
}

func TestTokenExpires(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := NewTestServer(t, Options{NoRateLimits: true, Now: clock.Now})
	u := ts.upload(t, 0, "e.bin", []byte("x"))
	dl := ts.ok(t, "download/get_token.cgi", map[string]any{"url": u})["url"].(string)
	clock.Advance(5*time.Minute - time.Second)
	assert.Equal(t, 200, do(t, http.MethodGet, dl, nil, nil).Code, "still valid before 5 min")
	clock.Advance(2 * time.Second)
	assert.Equal(t, http.StatusGone, do(t, http.MethodGet, dl, nil, nil).Code, "expired after 5 min")
	assert.Equal(t, DefaultTokenLifetime, 5*time.Minute)

	// TimeScale divides the lifetime.
	clock2 := newFakeClock()
	ts2 := NewTestServer(t, Options{NoRateLimits: true, Now: clock2.Now, TimeScale: 100})
	u = ts2.upload(t, 0, "e.bin", []byte("x"))
	dl = ts2.ok(t, "download/get_token.cgi", map[string]any{"url": u})["url"].(string)
	clock2.Advance(3*time.Second + time.Millisecond)
	assert.Equal(t, http.StatusGone, do(t, http.MethodGet, dl, nil, nil).Code, "5 min / 100 = 3 s")
}

func TestTokenForDeletedFile(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	u := ts.upload(t, 0, "gone.bin", []byte("x"))
	dl := ts.ok(t, "download/get_token.cgi", map[string]any{"url": u})["url"].(string)
	ts.ok(t, "file/rm.cgi", map[string]any{"files": []map[string]string{{"url": u}}})
	assert.Equal(t, 404, do(t, http.MethodGet, dl, nil, nil).Code)
	ts.koCall(t, "download/get_token.cgi", map[string]any{"url": u}, 404, "Resource not found #469")
	ts.koCall(t, "download/get_token.cgi", map[string]any{}, 400, "Parameter url must be defined #18")
}

func TestGetTokenCDNNeedsCredits(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	u := ts.upload(t, 0, "c.bin", []byte("x"))
	ts.koCall(t, "download/get_token.cgi", map[string]any{"url": u, "cdn": 1}, 403, "Not enough CDN credits #911")
	ts2 := NewTestServer(t, Options{NoRateLimits: true, Accounts: []Account{{Key: "k", Offer: OfferPremium, CDNCredits: 5e9}}})
	u = ts2.upload(t, 0, "c.bin", []byte("x"))
	ts2.ok(t, "download/get_token.cgi", map[string]any{"url": u, "cdn": 1})
}

func TestDownloadHostNames(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, Options{NoRateLimits: true})
	u := ts.upload(t, 0, "h.bin", []byte("x"))
	// Behind the proxy: a real-looking download host over https.
	req := httptest.NewRequest(http.MethodPost, "https://api.1fichier.com/v1/download/get_token.cgi",
		strings.NewReader(`{"url":"`+u+`","single":1}`))
	req.Header.Set("Authorization", "Bearer "+ts.Key)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	ts.ServeHTTP(rec, req)
	require.Equal(t, 200, rec.Code, rec.Body.String())
	assert.Regexp(t, `"url":"https://a-4\.1fichier\.com/dl/[A-Za-z0-9]{16}"`, rec.Body.String())

	// ForeignDownloadHost: another host, for key-hygiene tests.
	ts2 := NewTestServer(t, Options{NoRateLimits: true, ForeignDownloadHost: "127.0.0.2:9999"})
	u = ts2.upload(t, 0, "h.bin", []byte("x"))
	m := ts2.ok(t, "download/get_token.cgi", map[string]any{"url": u})
	assert.Regexp(t, `^http://127\.0\.0\.2:9999/dl/`, m["url"])
}

func TestInlineDownload(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	u := ts.upload(t, 0, "page.html", []byte("<p>hi</p>"))
	dl := ts.ok(t, "download/get_token.cgi", map[string]any{"url": u, "inline": 1})["url"].(string)
	r := do(t, http.MethodGet, dl, nil, nil)
	assert.Equal(t, "inline; filename=page.html", r.Header.Get("Content-Disposition"))
	assert.Equal(t, "text/html", r.Header.Get("Content-Type"))
}

func TestDownloadRefusalsAreCounted(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := NewTestServer(t, Options{NoRateLimits: true, Now: clock.Now})
	u := ts.upload(t, 0, "r.bin", []byte("x"))
	token := func(single int) string {
		return ts.ok(t, "download/get_token.cgi", map[string]any{"url": u, "single": single})["url"].(string)
	}
	fine, used, expiring := token(0), token(1), token(0)
	assert.Equal(t, 200, do(t, http.MethodGet, fine, nil, nil).Code)
	assert.Equal(t, 200, do(t, http.MethodGet, fine, nil, nil).Code)
	assert.Zero(t, ts.Stats().DownloadRefusals(), "answered downloads are not refusals")
	assert.NotNil(t, ts.Stats().DownloadsRefused)

	assert.Equal(t, 200, do(t, http.MethodGet, used, nil, nil).Code)
	assert.Equal(t, http.StatusGone, do(t, http.MethodGet, used, nil, nil).Code)
	assert.Equal(t, 404, do(t, http.MethodGet, ts.URL+"/dl/nosuchtoken", nil, nil).Code)
	clock.Advance(DefaultTokenLifetime + time.Second)
	assert.Equal(t, http.StatusGone, do(t, http.MethodGet, expiring, nil, nil).Code)
	gone := token(0)
	ts.ok(t, "file/rm.cgi", map[string]any{"files": []map[string]string{{"url": u}}})
	assert.Equal(t, 404, do(t, http.MethodGet, gone, nil, nil).Code)

	st := ts.Stats()
	assert.Equal(t, map[string]int64{"used_token": 1, "unknown_token": 1, "expired_token": 1, "file_not_found": 1}, st.DownloadsRefused)
	assert.Equal(t, int64(4), st.DownloadRefusals())
	assert.Equal(t, int64(7), st.Calls["download"], "refusals are downloads too")
	r := do(t, http.MethodGet, ts.URL+"/debug/stats", nil, nil)
	assert.Contains(t, r.JSON(t), "downloads_refused")
	ts.ResetStats()
	assert.Empty(t, ts.Stats().DownloadsRefused)
}
