package emulator

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRemoteUploadFetchesAndShowsProgress(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/abc.txt":
			assert.Equal(t, "yes", r.Header.Get("X-Custom"), "headers are passed on")
			_, _ = w.Write([]byte("abc"))
		case "/slow.bin":
			<-release
			w.Header().Set("Content-Disposition", `attachment; filename="named.bin"`)
			_, _ = w.Write([]byte("slow"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer src.Close()
	ts := NewTestServer(t, noLimits())
	dir := ts.mkdir(t, 0, "remote")
	m := ts.ok(t, "remote/request.cgi", map[string]any{
		"urls":      []string{src.URL + "/abc.txt", src.URL + "/slow.bin", src.URL + "/missing"},
		"folder_id": dir,
		"headers":   map[string]string{"X-Custom": "yes"},
	})
	id := m["id"]
	assert.IsType(t, float64(0), id, "job id is an integer")
	assert.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`, m["date"])

	// While the second URL hangs: not executed, one result so far.
	require.Eventually(t, func() bool {
		info := ts.ok(t, "remote/info.cgi", map[string]any{"id": id})
		return len(info["result"].([]any)) == 1
	}, 10e9, 10e6)
	ls := ts.ok(t, "remote/ls.cgi", nil)
	job := ls["data"].([]any)[0].(map[string]any)
	assert.Equal(t, id, job["id"])
	assert.Equal(t, "", job["execution_date"], "still running")

	close(release)
	ts.remoteWG.Wait()
	info := ts.ok(t, "remote/info.cgi", map[string]any{"id": id})
	assert.NotEqual(t, "", info["execution_date"])
	assert.Len(t, info["links"], 3)
	res := info["result"].([]any)
	require.Len(t, res, 3)
	r0, r1, r2 := res[0].(map[string]any), res[1].(map[string]any), res[2].(map[string]any)
	assert.Equal(t, "OK", r0["status"])
	assert.Regexp(t, `^https://1fichier\.com/\?[a-z0-9]{10}$`, r0["download_link"])
	assert.Equal(t, "OK", r1["status"])
	assert.Equal(t, "KO", r2["status"])
	assert.Contains(t, r2["message"], "404")

	files, err := ts.Files(ts.Key, dir)
	require.NoError(t, err)
	require.Len(t, files, 2)
	assert.Equal(t, "abc.txt", files[0].Name)
	assert.Equal(t, whirlpoolABC, files[0].Whirlpool)
	assert.Equal(t, "named.bin", files[1].Name)

	ts.koCall(t, "remote/info.cgi", map[string]any{"id": 1}, 404, "Resource not found #469")
	ts.koCall(t, "remote/request.cgi", map[string]any{"urls": []string{}}, 400, "Parameter urls must be defined #18")
	ts.koCall(t, "remote/request.cgi", map[string]any{"urls": []string{"ftp://x/y"}}, 400, "Invalid parameter urls #17")
}

func TestRemoteUploadLoopbackOnly(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	// TEST-NET-1: never reached, refused before dialling.
	m := ts.ok(t, "remote/request.cgi", map[string]any{"urls": []string{"http://192.0.2.1/file.bin"}})
	ts.remoteWG.Wait()
	info := ts.ok(t, "remote/info.cgi", map[string]any{"id": m["id"]})
	r := info["result"].([]any)[0].(map[string]any)
	assert.Equal(t, "KO", r["status"])
	assert.Equal(t, "Host not allowed", r["message"])
	assert.Equal(t, 0, ts.FileCount())
}

func TestRemoteUploadIsolatedPerUser(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	require.NoError(t, ts.AddAccount(Account{Key: "other", Offer: OfferPremium}))
	m := ts.ok(t, "remote/request.cgi", map[string]any{"urls": []string{"http://192.0.2.1/x"}})
	ts.remoteWG.Wait()
	r := ts.apiKey(t, "other", "remote/info.cgi", map[string]any{"id": m["id"]})
	assert.Equal(t, 404, r.Code)
	r = ts.apiKey(t, "other", "remote/ls.cgi", nil)
	assert.JSONEq(t, `{"status":"OK","data":[]}`, string(r.Body))
}
