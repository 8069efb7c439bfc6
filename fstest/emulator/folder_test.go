package emulator

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFolderLsRootQuirks(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	id := ts.mkdir(t, 0, "backup")
	assert.GreaterOrEqual(t, id, int64(1000000))
	r := ts.api(t, "folder/ls.cgi", map[string]any{"folder_id": 0})
	require.Equal(t, 200, r.Code)
	m := r.JSON(t)
	assert.Equal(t, float64(0), m["folder_id"], "folder_id at the top")
	assert.Equal(t, "Root", m["name"])
	assert.Contains(t, m, "size")
	assert.Nil(t, m["size"], "size is null for the root")
	assert.NotContains(t, m, "items", "no items without files:1")
	sub := m["sub_folders"].([]any)[0].(map[string]any)
	assert.Equal(t, float64(id), sub["id"], "id in sub_folders")
	assert.NotContains(t, sub, "folder_id")
	assert.Equal(t, "backup", sub["name"])
	assert.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`, sub["create_date"])
	// No folder_id at all = root.
	m = ts.ok(t, "folder/ls.cgi", map[string]any{})
	assert.Equal(t, "Root", m["name"])
}

func TestFolderLsFilesOne(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	dir := ts.mkdir(t, 0, "d")
	ts.upload(t, dir, "a.txt", []byte("12345"))
	ts.upload(t, dir, "b.txt", []byte("123"))
	m := ts.ok(t, "folder/ls.cgi", map[string]any{"folder_id": dir})
	assert.NotContains(t, m, "items")
	assert.Equal(t, float64(2), m["files"], "files is a count")
	assert.Equal(t, float64(8), m["size"])
	assert.Equal(t, "d", m["name"])
	r := ts.api(t, "folder/ls.cgi", map[string]any{"folder_id": dir, "files": 1})
	assert.Contains(t, string(r.Body), `"content-type":"text/plain"`)
	m = r.JSON(t)
	assert.Equal(t, []string{"a.txt", "b.txt"}, names(m, "items"))
	ts.koCall(t, "folder/ls.cgi", map[string]any{"folder_id": 12345}, 404, "Resource not found #469")
}

func TestFolderOfAnotherUserIsNotFound(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	require.NoError(t, ts.AddAccount(Account{Key: "other", Offer: OfferPremium}))
	dir := ts.mkdir(t, 0, "mine")
	r := ts.apiKey(t, "other", "folder/ls.cgi", map[string]any{"folder_id": dir})
	assert.Equal(t, 404, r.Code)
	r = ts.apiKey(t, "other", "folder/rm.cgi", map[string]any{"folder_id": dir})
	assert.Equal(t, 404, r.Code)
}

func TestFolderMkdir(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	m := ts.ok(t, "folder/mkdir.cgi", map[string]any{"name": "new"})
	assert.Equal(t, "new", m["name"])
	assert.Greater(t, m["folder_id"], float64(0))
	// A sibling with the same name is refused (stricter reading).
	ts.koCall(t, "folder/mkdir.cgi", map[string]any{"name": "new"}, 400, "Folder already exists #453")
	// Same name under another parent is fine.
	ts.ok(t, "folder/mkdir.cgi", map[string]any{"name": "new", "folder_id": m["folder_id"]})
	ts.koCall(t, "folder/mkdir.cgi", map[string]any{"name": strings.Repeat("x", 251)}, 400, "Invalid name: too long (250 characters max) #29")
	ts.ok(t, "folder/mkdir.cgi", map[string]any{"name": strings.Repeat("x", 250)})
	ts.koCall(t, "folder/mkdir.cgi", map[string]any{"name": "a<b"}, 400, "Invalid name: forbidden character #26")
	ts.koCall(t, "folder/mkdir.cgi", map[string]any{}, 400, "Parameter name must be defined #18")
	ts.koCall(t, "folder/mkdir.cgi", map[string]any{"name": "x", "folder_id": 77}, 404, "Resource not found #469")
}

func TestFolderRmRefusesNonEmpty(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	withFile := ts.mkdir(t, 0, "withfile")
	u := ts.upload(t, withFile, "f", []byte("x"))
	withDir := ts.mkdir(t, 0, "withdir")
	ts.mkdir(t, withDir, "child")
	for _, id := range []int64{withFile, withDir} {
		r := ts.api(t, "folder/rm.cgi", map[string]any{"folder_id": id})
		assert.Equal(t, 400, r.Code)
		assert.JSONEq(t, `{"status":"KO"}`, string(r.Body), "bare KO, no message (observed)")
	}
	ts.ok(t, "file/rm.cgi", map[string]any{"files": []map[string]string{{"url": u}}})
	m := ts.ok(t, "folder/rm.cgi", map[string]any{"folder_id": withFile})
	assert.Equal(t, "OK", m["status"])
	ts.koCall(t, "folder/rm.cgi", map[string]any{"folder_id": withFile}, 404, "Resource not found #469")
	ts.koCall(t, "folder/rm.cgi", map[string]any{"folder_id": 0}, 400, "The root folder cannot be removed #451")
}

func TestFolderRmCountsFilesHiddenByListingDelay(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := NewTestServer(t, Options{NoRateLimits: true, Now: clock.Now, ListingDelay: 10 * 1e9})
	dir := ts.mkdir(t, 0, "d")
	ts.upload(t, dir, "f", []byte("x"))
	m := ts.ok(t, "folder/ls.cgi", map[string]any{"folder_id": dir, "files": 1})
	assert.Equal(t, float64(0), m["files"], "not listed yet")
	r := ts.api(t, "folder/rm.cgi", map[string]any{"folder_id": dir})
	assert.Equal(t, 400, r.Code, "but the folder is not empty")
}

func TestFolderMv(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	a := ts.mkdir(t, 0, "a")
	b := ts.mkdir(t, 0, "b")
	child := ts.mkdir(t, a, "child")

	// rename ignores the destination (SW's reading, the stricter one).
	m := ts.ok(t, "folder/mv.cgi", map[string]any{"folder_id": child, "destination_folder_id": b, "rename": "renamed"})
	assert.Equal(t, "child", m["old_name"])
	assert.Equal(t, "renamed", m["new_name"])
	ls := ts.ok(t, "folder/ls.cgi", map[string]any{"folder_id": a})
	assert.Equal(t, []string{"renamed"}, names(ls, "sub_folders"), "still under a")
	ls = ts.ok(t, "folder/ls.cgi", map[string]any{"folder_id": b})
	assert.Empty(t, ls["sub_folders"])

	ts.koCall(t, "folder/mv.cgi", map[string]any{"folder_id": child, "rename": "renamed"}, 400, "No folder has been renamed #313")

	// A plain move.
	m = ts.ok(t, "folder/mv.cgi", map[string]any{"folder_id": child, "destination_folder_id": b})
	assert.Equal(t, "renamed", m["new_name"])
	ls = ts.ok(t, "folder/ls.cgi", map[string]any{"folder_id": b})
	assert.Equal(t, []string{"renamed"}, names(ls, "sub_folders"))

	// No destination = root (rclone omits a 0 destination).
	ts.ok(t, "folder/mv.cgi", map[string]any{"folder_id": child})
	ls = ts.ok(t, "folder/ls.cgi", map[string]any{"folder_id": 0})
	assert.ElementsMatch(t, []string{"a", "b", "renamed"}, names(ls, "sub_folders"))

	// Not into itself or a descendant; no name clash.
	sub := ts.mkdir(t, a, "sub")
	ts.koCall(t, "folder/mv.cgi", map[string]any{"folder_id": a, "destination_folder_id": sub}, 400, "Cannot move a folder into itself #454")
	ts.koCall(t, "folder/mv.cgi", map[string]any{"folder_id": a, "destination_folder_id": a}, 400, "Cannot move a folder into itself #454")
	ts.mkdir(t, b, "sub")
	ts.koCall(t, "folder/mv.cgi", map[string]any{"folder_id": sub, "destination_folder_id": b}, 400, "Folder already exists #453")
	ts.koCall(t, "folder/mv.cgi", map[string]any{"folder_id": 0, "destination_folder_id": b}, 400, "The root folder cannot be moved #452")
}

func TestFolderShareAndGroupware(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	require.NoError(t, ts.AddAccount(Account{Key: "friend", Email: "friend@example.com", Offer: OfferPremium}))
	dir := ts.mkdir(t, 0, "shared")
	ts.upload(t, dir, "s.txt", []byte("shared!"))
	ts.koCall(t, "folder/share.cgi", map[string]any{"folder_id": dir, "share": 1, "pass": "12345"}, 400, "Password must be at least 6 characters #331")
	m := ts.ok(t, "folder/share.cgi", map[string]any{"folder_id": dir, "share": 1})
	assert.Regexp(t, `^https://1fichier\.com/dir/[A-Za-z0-9]{8}$`, m["url"])
	ls := ts.ok(t, "folder/ls.cgi", map[string]any{"folder_id": dir})
	assert.Equal(t, m["url"], ls["shared"])
	m = ts.ok(t, "folder/share.cgi", map[string]any{"folder_id": dir, "share": 0})
	assert.NotContains(t, m, "url", "url only with share=1")

	// Groupware: the friend can list with sharing_user once shared.
	r := ts.apiKey(t, "friend", "file/ls.cgi", map[string]any{"folder_id": dir, "sharing_user": "test@example.com"})
	assert.Equal(t, 403, r.Code)
	ts.ok(t, "folder/share.cgi", map[string]any{"folder_id": dir, "shares": []map[string]any{{"email": "friend@example.com", "rw": 0, "hide_links": 0}}})
	r = ts.apiKey(t, "friend", "file/ls.cgi", map[string]any{"folder_id": dir, "sharing_user": "test@example.com"})
	require.Equal(t, 200, r.Code, "%s", r.Body)
	assert.Equal(t, []string{"s.txt"}, names(r.JSON(t), "items"))
	// Read-only: no mkdir there.
	r = ts.apiKey(t, "friend", "folder/mkdir.cgi", map[string]any{"folder_id": dir, "name": "x", "sharing_user": "test@example.com"})
	assert.Equal(t, 403, r.Code)
}
