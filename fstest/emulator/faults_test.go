package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFaults(t *testing.T) {
	t.Parallel()
	rules, err := ParseFaults("upload.cgi=reset-mid:1, " +
		"file/ls.cgi=503:2,*=500@0.05,slow=200ms,/v1/folder/ls.cgi=slow(1s):3@0.5,end.pl=end-html,end.pl=end-empty:1," +
		"end.pl=end-short:2,download=reset,dir=reset-during,user/info.cgi=502")
	require.NoError(t, err)
	assert.Equal(t, []FaultRule{
		{"upload.cgi", Fault{Kind: FaultResetMidUpload, Count: 1}},
		{"file/ls.cgi", Fault{Kind: FaultHTTP503, Count: 2}},
		{"*", Fault{Kind: FaultHTTP500, Probability: 0.05}},
		{"*", Fault{Kind: FaultSlow, Delay: 200 * time.Millisecond}},
		{"folder/ls.cgi", Fault{Kind: FaultSlow, Delay: time.Second, Count: 3, Probability: 0.5}},
		{"end.pl", Fault{Kind: FaultEndHTML}},
		{"end.pl", Fault{Kind: FaultEndEmptyLinks, Count: 1}},
		{"end.pl", Fault{Kind: FaultEndShort, Count: 2}},
		{"download", Fault{Kind: FaultResetBefore}},
		{"dir", Fault{Kind: FaultResetDuring}},
		{"user/info.cgi", Fault{Kind: FaultHTTP502}},
	}, rules)
	empty, err := ParseFaults("")
	require.NoError(t, err)
	assert.Empty(t, empty)

	for _, bad := range []string{
		"file/ls.cgi",            // no action
		"nope.cgi=500",           // unknown endpoint
		"file/ls.cgi=404",        // unknown kind
		"file/ls.cgi=500:0",      // count must be positive
		"file/ls.cgi=500:x",      // count must be a number
		"file/ls.cgi=500@0",      // probability in (0,1]
		"file/ls.cgi=500@1.5",    //
		"slow=fast",              // bad duration
		"file/ls.cgi=slow(x)",    //
		"file/ls.cgi=reset-mid",  // upload.cgi only
		"file/ls.cgi=end-html",   // end.pl only
		"upload.cgi=end-empty:1", // end.pl only
		"upload.cgi=end-short",   // end.pl only
	} {
		_, err := ParseFaults(bad)
		assert.Error(t, err, bad)
	}
}

func TestFaultProbabilityIsSeeded(t *testing.T) {
	t.Parallel()
	pattern := func(seed int64) string {
		f := newFaults(seed)
		f.Add("*", Fault{Kind: FaultHTTP500, Probability: 0.3})
		var b strings.Builder
		for i := 0; i < 1000; i++ {
			if f.pick("file/ls.cgi") != nil {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	a, b, c := pattern(7), pattern(7), pattern(8)
	assert.Equal(t, a, b, "same seed, same faults")
	assert.NotEqual(t, a, c, "another seed, other faults")
	n := strings.Count(a, "x")
	assert.InDelta(t, 300, n, 60, "about 30%% strike")
}

func TestFaultHTTPErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind FaultKind
		code int
	}{{FaultHTTP500, 500}, {FaultHTTP502, 502}, {FaultHTTP503, 503}} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			t.Parallel()
			ts := NewTestServer(t, noLimits())
			ts.Faults().Add("folder/mkdir.cgi", Fault{Kind: tc.kind, Count: 2})
			for i := 0; i < 2; i++ {
				r := ts.api(t, "folder/mkdir.cgi", map[string]any{"name": "x"})
				assert.Equal(t, tc.code, r.Code)
				assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/html"))
				assert.Contains(t, string(r.Body), "nginx")
			}
			m := ts.ok(t, "folder/ls.cgi", map[string]any{})
			assert.Empty(t, m["sub_folders"], "a 5xx fault does no work")
			ts.ok(t, "folder/mkdir.cgi", map[string]any{"name": "x"})
			assert.Equal(t, 2, ts.Faults().Fired("folder/mkdir.cgi"))
			assert.Equal(t, int64(3), ts.Stats().Calls["folder/mkdir.cgi"], "faulted calls are counted")
		})
	}
}

// freshClient never reuses a connection, so net/http does not retry
// silently after a reset.
func freshClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

func postAPI(ts *TestServer, path, body string) (*http.Response, error) {
	req, _ := http.NewRequest(http.MethodPost, ts.APIURL+"/"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+ts.Key)
	req.Header.Set("Content-Type", "application/json")
	return freshClient().Do(req)
}

func TestFaultResetBefore(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	ts.Faults().Add("folder/mkdir.cgi", Fault{Kind: FaultResetBefore, Count: 1})
	resp, err := postAPI(ts, "folder/mkdir.cgi", `{"name":"x"}`)
	if err == nil {
		_ = resp.Body.Close()
	}
	require.Error(t, err, "connection reset before any answer")
	m := ts.ok(t, "folder/ls.cgi", map[string]any{})
	assert.Empty(t, m["sub_folders"], "nothing was done")
	ts.ok(t, "folder/mkdir.cgi", map[string]any{"name": "x"})
}

func TestFaultResetDuring(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	ts.Faults().Add("folder/mkdir.cgi", Fault{Kind: FaultResetDuring, Count: 1})
	resp, err := postAPI(ts, "folder/mkdir.cgi", `{"name":"x"}`)
	require.NoError(t, err, "the status line and headers arrive")
	assert.Equal(t, 200, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Error(t, err, "the body is cut")
	assert.Less(t, len(b), int(resp.ContentLength))
	// The work was done even though the answer was lost.
	m := ts.ok(t, "folder/ls.cgi", map[string]any{})
	assert.Equal(t, []string{"x"}, names(m, "sub_folders"))
}

func TestFaultResetAfter(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	ts.Faults().Add("folder/mkdir.cgi", Fault{Kind: FaultResetAfter, Count: 1})
	_, err := postAPI(ts, "folder/mkdir.cgi", `{"name":"x"}`)
	require.Error(t, err, "no answer at all")
	// The work was done although no answer came back.
	m := ts.ok(t, "folder/ls.cgi", map[string]any{})
	assert.Equal(t, []string{"x"}, names(m, "sub_folders"))
	rules, err := ParseFaults("upload.cgi=reset-after:1")
	require.NoError(t, err)
	assert.Equal(t, FaultResetAfter, rules[0].Kind)
}

func TestFaultResetDuringDownload(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	u, err := ts.PutFile(ts.Key, 0, "big.bin", bytes.Repeat([]byte("z"), 100000))
	require.NoError(t, err)
	dl := ts.ok(t, "download/get_token.cgi", map[string]any{"url": u})["url"].(string)
	ts.Faults().Add("download", Fault{Kind: FaultResetDuring, Count: 1})
	resp, err := freshClient().Get(dl)
	require.NoError(t, err)
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Error(t, err)
	assert.Less(t, len(b), 100000)
	r := do(t, http.MethodGet, dl, nil, nil)
	assert.Equal(t, 100000, len(r.Body), "next request is whole")
}

func TestFaultResetMidUpload(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, Options{NoRateLimits: true, Faults: "upload.cgi=reset-mid:1"})
	host, id := ts.startUpload(t)
	ct, body := multipartBody(t, "f.bin", bytes.Repeat([]byte("u"), 1<<20), nil)
	req, _ := http.NewRequest(http.MethodPost, "http://"+host+"/upload.cgi?id="+id, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+ts.Key)
	req.Header.Set("Content-Type", ct)
	resp, err := freshClient().Do(req)
	if err == nil {
		_ = resp.Body.Close()
	}
	require.Error(t, err, "upload cut by the server")
	assert.Equal(t, 0, ts.FileCount(), "nothing stored")
	ts.upload(t, 0, "f.bin", []byte("ok"))
	assert.Equal(t, 1, ts.FileCount())
}

func TestFaultEndPL(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	ts.Faults().Add("end.pl", Fault{Kind: FaultEndHTML, Count: 1})
	ts.Faults().Add("end.pl", Fault{Kind: FaultEndEmptyLinks, Count: 1})
	host, id := ts.startUpload(t)
	ct, body := multipartBody(t, "f.bin", []byte("data"), nil)
	r := do(t, http.MethodPost, "http://"+host+"/upload.cgi?id="+id,
		map[string]string{"Authorization": "Bearer " + ts.Key, "Content-Type": ct}, bytes.NewReader(body))
	require.Equal(t, 302, r.Code)
	end := func() rawResp {
		return do(t, http.MethodGet, "http://"+host+"/end.pl?xid="+id, map[string]string{"JSON": "1"}, nil)
	}
	r = end()
	assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/html"), "HTML despite JSON: 1")
	assert.Error(t, json.Unmarshal(r.Body, new(any)))
	r = end()
	assert.JSONEq(t, `{"incoming":0,"links":[]}`, string(r.Body))
	r = end()
	var res uploadResult
	require.NoError(t, json.Unmarshal(r.Body, &res))
	assert.Len(t, res.Links, 1)
	assert.Equal(t, 1, ts.FileCount(), "the upload itself was stored")
}

func TestFaultEndShort(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	ts.Faults().Add("end.pl", Fault{Kind: FaultEndShort, Count: 1})
	host, id := ts.startUpload(t)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, name := range []string{"a.bin", "b.bin"} {
		fw, err := mw.CreateFormFile("file[]", name)
		require.NoError(t, err)
		_, err = fw.Write([]byte("data of " + name))
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	r := do(t, http.MethodPost, "http://"+host+"/upload.cgi?id="+id,
		map[string]string{"Authorization": "Bearer " + ts.Key, "Content-Type": mw.FormDataContentType()}, &buf)
	require.Equal(t, 302, r.Code)
	names := func() []string {
		r := do(t, http.MethodGet, "http://"+host+"/end.pl?xid="+id, map[string]string{"JSON": "1"}, nil)
		var res uploadResult
		require.NoError(t, json.Unmarshal(r.Body, &res))
		var names []string
		for _, l := range res.Links {
			names = append(names, l.Filename)
		}
		return names
	}
	assert.Equal(t, []string{"a.bin"}, names(), "the last link left out")
	assert.Equal(t, []string{"a.bin", "b.bin"}, names(), "then the full report")
	assert.Equal(t, 2, ts.FileCount(), "both files were stored")
}

func TestFaultSlow(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, Options{NoRateLimits: true, Faults: "slow=150ms"})
	start := time.Now()
	ts.ok(t, "folder/ls.cgi", map[string]any{})
	assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	// Slow combines with another fault.
	ts.Faults().Clear()
	ts.Faults().Add("folder/ls.cgi", Fault{Kind: FaultSlow, Delay: 100 * time.Millisecond, Count: 1})
	ts.Faults().Add("folder/ls.cgi", Fault{Kind: FaultHTTP503, Count: 1})
	start = time.Now()
	r := ts.api(t, "folder/ls.cgi", map[string]any{})
	assert.Equal(t, 503, r.Code)
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
}

func TestFaultWildcardAndSpecific(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, Options{NoRateLimits: true, Faults: "user/info.cgi=502:1"})
	assert.Equal(t, 200, ts.api(t, "folder/ls.cgi", map[string]any{}).Code, "other endpoints unaffected")
	assert.Equal(t, 502, ts.api(t, "user/info.cgi", nil).Code)
	assert.Equal(t, 200, ts.api(t, "user/info.cgi", nil).Code)
	ts.Faults().Add("*", Fault{Kind: FaultHTTP500, Count: 2})
	assert.Equal(t, 500, ts.api(t, "folder/ls.cgi", map[string]any{}).Code)
	assert.Equal(t, 500, do(t, http.MethodGet, ts.URL+"/dir/whatever?json=1", nil, nil).Code)
	assert.Equal(t, 200, ts.api(t, "folder/ls.cgi", map[string]any{}).Code)
	// /debug/stats is never faulted.
	ts.Faults().Add("*", Fault{Kind: FaultHTTP500})
	assert.Equal(t, 200, do(t, http.MethodGet, ts.URL+"/debug/stats", nil, nil).Code)
}

// A slow answer must not move a call in the rate rules: the call counts
// when it arrives. Two calls 200 ms apart under a one-call-per-100-ms
// rule are fine even when the first is held 250 ms, which brings it to
// the rules 50 ms after the second.
func TestSlowAnswerCountsAtArrival(t *testing.T) {
	t.Parallel()
	rates := DefaultRates()
	rates.CallsPerSecond = 1
	ts := NewTestServer(t, Options{Rates: &rates, TimeScale: 10})
	ts.Faults().Add("user/info.cgi", Fault{Kind: FaultSlow, Delay: 250 * time.Millisecond, Count: 1})
	first := make(chan int, 1)
	go func() {
		resp, err := postAPI(ts, "user/info.cgi", `{}`)
		if err != nil {
			first <- 0
			return
		}
		_ = resp.Body.Close()
		first <- resp.StatusCode
	}()
	time.Sleep(200 * time.Millisecond) // spacing the calls, not an assertion
	resp, err := postAPI(ts, "folder/mkdir.cgi", `{"name":"x"}`)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, 200, <-first)
	assert.Zero(t, ts.Stats().FloodLocks)
}

// FaultsHelp, the --faults help, names every fault kind with what it
// does, and every endpoint and example it shows is one ParseFaults takes.
func TestFaultsHelp(t *testing.T) {
	t.Parallel()
	help := FaultsHelp()
	for k, name := range faultNames {
		require.NotEmpty(t, faultHelp[k], "no help for fault kind %s", name)
		if k == FaultSlow {
			name = "slow(D)"
		}
		assert.Regexp(t, `(?m)^  `+regexp.QuoteMeta(name)+` +`+regexp.QuoteMeta(faultHelp[k])+`$`, help)
	}
	assert.NotContains(t, help, "ParseFaults")
	_, endpoints, ok := strings.Cut(help, "page):\n")
	require.True(t, ok)
	names := strings.Fields(endpoints)
	assert.Len(t, names, len(apiRoutes)+4)
	for _, e := range names {
		_, err := ParseFaults(e + "=500")
		assert.NoError(t, err, "the help lists endpoint %q", e)
	}
	example := regexp.MustCompile(`Example: (\S+)`).FindStringSubmatch(help)
	require.NotNil(t, example)
	rules, err := ParseFaults(example[1])
	require.NoError(t, err)
	assert.Len(t, rules, 4)
}
