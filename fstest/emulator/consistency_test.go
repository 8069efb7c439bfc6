package emulator

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListingDelay(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := NewTestServer(t, Options{NoRateLimits: true, Now: clock.Now, ListingDelay: 10 * time.Second})
	dir := ts.mkdir(t, 0, "d")
	share, err := ts.ShareFolder(ts.Key, dir, "")
	require.NoError(t, err)
	u := ts.upload(t, dir, "late.txt", []byte("x"))

	listed := func() (nFile, nFolder, nDir int) {
		m := ts.ok(t, "file/ls.cgi", map[string]any{"folder_id": dir})
		f := ts.ok(t, "folder/ls.cgi", map[string]any{"folder_id": dir, "files": 1})
		r := do(t, http.MethodGet, ts.URL+"/dir/"+strings.TrimPrefix(share, "https://1fichier.com/dir/")+"?json=1", nil, nil)
		return len(m["items"].([]any)), len(f["items"].([]any)), strings.Count(string(r.Body), "late.txt")
	}
	a, b, c := listed()
	assert.Equal(t, [3]int{0, 0, 0}, [3]int{a, b, c}, "hidden right after the upload")
	// Direct access by URL works at once.
	ts.ok(t, "file/info.cgi", map[string]any{"url": u})
	ts.ok(t, "download/get_token.cgi", map[string]any{"url": u})

	clock.Advance(10 * time.Second)
	a, b, c = listed()
	assert.Equal(t, [3]int{1, 1, 1}, [3]int{a, b, c}, "listed after the delay")
}

func TestListingDelayIsScaled(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := NewTestServer(t, Options{NoRateLimits: true, Now: clock.Now, ListingDelay: 10 * time.Second, TimeScale: 100})
	ts.upload(t, 0, "f", []byte("x"))
	assert.Empty(t, ts.ok(t, "file/ls.cgi", map[string]any{})["items"])
	clock.Advance(100 * time.Millisecond)
	assert.Len(t, ts.ok(t, "file/ls.cgi", map[string]any{})["items"], 1)
}

func TestNewTestServerDefaults(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, Options{})
	assert.True(t, strings.HasPrefix(ts.Key, "test-key-"), ts.Key)
	assert.NotEqual(t, ts.Key, NewTestServer(t, Options{}).Key, "each server has a key of its own")
	assert.Equal(t, ts.URL+"/v1", ts.APIURL)
	assert.True(t, strings.HasPrefix(ts.URL, "http://127.0.0.1:"))
	resp, err := ts.Client().Get(ts.URL + "/debug/stats")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
}
