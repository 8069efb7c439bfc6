package emulator

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPersistenceAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := Options{NoRateLimits: true, DataDir: dir, Accounts: []Account{{Key: "k", Email: "me@example.com", Offer: OfferPremium}}}

	ts := NewTestServer(t, opts)
	folder := ts.mkdir(t, 0, "kept")
	u := ts.upload(t, folder, "kept.txt", []byte("survives"))
	copyURL := ts.ok(t, "file/cp.cgi", map[string]any{"urls": []string{u}})["urls"].([]any)[0].(map[string]any)["to_url"].(string)
	share := ts.ok(t, "folder/share.cgi", map[string]any{"folder_id": folder, "share": 1, "pass": "sharepass"})["url"].(string)
	ts.ok(t, "user/info.cgi", map[string]any{"page_limit": 42})
	require.NoError(t, ts.Close())
	assert.FileExists(t, filepath.Join(dir, "meta.json"))

	// A fresh server on the same directory.
	ts2 := NewTestServer(t, opts)
	m := ts2.ok(t, "folder/ls.cgi", map[string]any{"folder_id": 0})
	assert.Equal(t, []string{"kept"}, names(m, "sub_folders"))
	m = ts2.ok(t, "file/ls.cgi", map[string]any{"folder_id": folder})
	assert.Equal(t, []string{"kept.txt"}, names(m, "items"))
	assert.Equal(t, u, m["items"].([]any)[0].(map[string]any)["url"], "same URL after restart")
	dl := ts2.ok(t, "download/get_token.cgi", map[string]any{"url": u})["url"].(string)
	assert.Equal(t, "survives", string(do(t, http.MethodGet, dl, nil, nil).Body))
	data, err := ts2.FileData(copyURL)
	require.NoError(t, err)
	assert.Equal(t, "survives", string(data))
	ls := ts2.ok(t, "folder/ls.cgi", map[string]any{"folder_id": folder})
	assert.Equal(t, share, ls["shared"])
	assert.Equal(t, float64(42), ts2.ok(t, "user/info.cgi", nil)["page_limit"])
	// New ids do not collide with old ones.
	u2 := ts2.upload(t, folder, "new.txt", []byte("new"))
	assert.NotEqual(t, u, u2)

	// Removing a file removes its content on disk once no copy uses it.
	ts2.ok(t, "file/rm.cgi", map[string]any{"files": []map[string]string{{"url": u}, {"url": copyURL}, {"url": u2}}})
	blobs, err := os.ReadDir(filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	assert.Empty(t, blobs)
}

func TestPersistenceIsImmediate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opts := Options{NoRateLimits: true, DataDir: dir, Accounts: []Account{{Key: "k", Offer: OfferPremium}}}
	s1, err := New(opts)
	require.NoError(t, err)
	_, err = s1.PutFile("k", 0, "a.txt", []byte("a"))
	require.NoError(t, err)
	// Without Close (a crash): the metadata is already on disk.
	s2, err := New(opts)
	require.NoError(t, err)
	defer func() { _ = s2.Close() }()
	files, err := s2.Files("k", 0)
	require.NoError(t, err)
	require.Len(t, files, 1)
	assert.Equal(t, "a.txt", files[0].Name)
	_ = s1.Close()
}

func TestMemoryStoreIsNotShared(t *testing.T) {
	t.Parallel()
	a := NewTestServer(t, noLimits())
	b := NewTestServer(t, noLimits())
	_, err := a.PutFile(a.Key, 0, "x", []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, 1, a.FileCount())
	assert.Equal(t, 0, b.FileCount())
}

func TestBadDataDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "meta.json"), []byte("{not json"), 0o644))
	_, err := New(Options{DataDir: dir, Accounts: []Account{{Key: "k", Offer: OfferPremium}}})
	assert.Error(t, err)
}
