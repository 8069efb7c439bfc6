package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSharedFolderJSON(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	dir := ts.mkdir(t, 0, "pub")
	u := ts.upload(t, dir, "pub.txt", []byte("12345"))
	ts.mkdir(t, dir, "subdir-not-listed")
	share, err := ts.ShareFolder(ts.Key, dir, "")
	require.NoError(t, err)
	id := strings.TrimPrefix(share, "https://1fichier.com/dir/")

	// rclone's request: GET ?json=1 with a form content type, no key needed.
	r := do(t, http.MethodGet, ts.URL+"/dir/"+id+"?json=1", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, nil)
	require.Equal(t, 200, r.Code)
	assert.Equal(t, "application/json; charset=utf-8", r.Header.Get("Content-Type"))
	assert.True(t, strings.HasPrefix(string(r.Body), "["), "a JSON array")
	var list []map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &list))
	assert.Equal(t, []map[string]any{{"filename": "pub.txt", "link": u, "size": float64(5), "password": float64(0), "acl": float64(0)}}, list)

	// Without json=1: the HTML page.
	r = do(t, http.MethodGet, ts.URL+"/dir/"+id, nil, nil)
	assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/html"))
	assert.Contains(t, string(r.Body), "pub.txt")
	// Unknown folder: 404.
	assert.Equal(t, 404, do(t, http.MethodGet, ts.URL+"/dir/NoSuchId?json=1", nil, nil).Code)
	assert.Equal(t, int64(3), ts.Stats().Calls["dir"])
}

func TestSharedFolderPassword(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	dir := ts.mkdir(t, 0, "private")
	ts.upload(t, dir, "p.txt", []byte("x"))
	m := ts.ok(t, "folder/share.cgi", map[string]any{"folder_id": dir, "share": 1, "pass": "opensesame"})
	id := strings.TrimPrefix(m["url"].(string), "https://1fichier.com/dir/")
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

	// Without the password even ?json=1 gives the HTML form.
	r := do(t, http.MethodGet, ts.URL+"/dir/"+id+"?json=1", nil, nil)
	require.Equal(t, 200, r.Code)
	assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/html"))
	assert.Contains(t, string(r.Body), `name="pass"`)
	assert.False(t, strings.HasPrefix(string(r.Body), "["))

	// Wrong password: the form again, with a message.
	r = do(t, http.MethodPost, ts.URL+"/dir/"+id, form, strings.NewReader("json=1&pass=wrong"))
	assert.Contains(t, string(r.Body), "Invalid password")
	assert.Contains(t, string(r.Body), `name="pass"`)

	// rclone's form: POST json=1&pass=<urlencoded>.
	r = do(t, http.MethodPost, ts.URL+"/dir/"+id, form, strings.NewReader("json=1&pass="+url.QueryEscape("opensesame")))
	require.Equal(t, 200, r.Code)
	assert.True(t, strings.HasPrefix(string(r.Body), "["), "%s", r.Body)
	assert.Contains(t, string(r.Body), "p.txt")
	// JDownloader's form: POST pass=... to the ?json=1 URL.
	r = do(t, http.MethodPost, ts.URL+"/dir/"+id+"?json=1", form, strings.NewReader("pass=opensesame"))
	assert.True(t, strings.HasPrefix(string(r.Body), "["), "%s", r.Body)
	// The password in the query string does not count.
	r = do(t, http.MethodGet, ts.URL+"/dir/"+id+"?json=1&pass=opensesame", nil, nil)
	assert.Contains(t, string(r.Body), `name="pass"`)
}
