package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFileLsListingQuirks(t *testing.T) {
	t.Parallel()
	clock := newFakeClock() // 2024-07-01 10:00:00 UTC = 12:00:00 in Paris (CEST)
	ts := NewTestServer(t, Options{NoRateLimits: true, Now: clock.Now})
	u := ts.upload(t, 0, "photo.jpg", []byte("jpeg data"))
	r := ts.api(t, "file/ls.cgi", map[string]any{"folder_id": 0})
	require.Equal(t, 200, r.Code)
	// The raw key must be "content-type" with a hyphen.
	assert.Contains(t, string(r.Body), `"content-type":"image/jpeg"`)
	m := r.JSON(t)
	assert.Equal(t, float64(1), m["count"])
	item := m["items"].([]any)[0].(map[string]any)
	assert.Equal(t, u, item["url"])
	assert.Regexp(t, `^https://1fichier\.com/\?[a-z0-9]{10}$`, item["url"])
	assert.Equal(t, "photo.jpg", item["filename"])
	assert.Equal(t, float64(9), item["size"], "size is a number in listings")
	assert.Equal(t, "2024-07-01 12:00:00", item["date"], "Paris summer time, no zone")
	assert.Regexp(t, `^[0-9a-f]{128}$`, item["checksum"])
	for _, k := range []string{"pass", "acl", "cdn"} {
		assert.Equal(t, float64(0), item[k], k)
	}
	// Winter: UTC+1.
	clock.Advance(183 * 24 * time.Hour)
	ts.upload(t, 0, "winter.txt", []byte("x"))
	m = ts.ok(t, "file/ls.cgi", map[string]any{"folder_id": 0})
	assert.Equal(t, "2024-12-31 11:00:00", m["items"].([]any)[1].(map[string]any)["date"])
}

func TestFileLsAllFilesAndFilters(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := NewTestServer(t, Options{NoRateLimits: true, Now: clock.Now})
	dir := ts.mkdir(t, 0, "d")
	ts.upload(t, 0, "old.txt", []byte("1"))
	clock.Advance(time.Hour)
	ts.upload(t, dir, "new.txt", []byte("2"))
	m := ts.ok(t, "file/ls.cgi", map[string]any{"folder_id": -1})
	assert.ElementsMatch(t, []string{"old.txt", "new.txt"}, names(m, "items"))
	m = ts.ok(t, "file/ls.cgi", map[string]any{"folder_id": -1, "sent_after": "2024-07-01 12:30:00"})
	assert.Equal(t, []string{"new.txt"}, names(m, "items"))
	m = ts.ok(t, "file/ls.cgi", map[string]any{"folder_id": -1, "sent_before": "2024-07-01 12:30:00"})
	assert.Equal(t, []string{"old.txt"}, names(m, "items"))
	ts.koCall(t, "file/ls.cgi", map[string]any{"sent_before": "yesterday"}, 400, "Invalid parameter sent_before #17")
	// No folder_id = root.
	m = ts.ok(t, "file/ls.cgi", map[string]any{})
	assert.Equal(t, []string{"old.txt"}, names(m, "items"))
	ts.koCall(t, "file/ls.cgi", map[string]any{"folder_id": 999}, 404, "Resource not found #469")
}

func TestListingsCappedAt5000(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, Options{NoRateLimits: true, MaxListItems: 3})
	for i := 0; i < 5; i++ {
		_, err := ts.PutFile(ts.Key, 0, fmt.Sprintf("f%d", i), []byte("x"))
		require.NoError(t, err)
		_, err = ts.Mkdir(ts.Key, 0, fmt.Sprintf("d%d", i))
		require.NoError(t, err)
	}
	m := ts.ok(t, "file/ls.cgi", map[string]any{})
	assert.Equal(t, []string{"f0", "f1", "f2"}, names(m, "items"))
	m = ts.ok(t, "folder/ls.cgi", map[string]any{"files": 1})
	assert.Len(t, m["items"], 3)
	assert.Len(t, m["sub_folders"], 3)
	assert.Equal(t, DefaultMaxListItems, 5000)
}

func TestDuplicateFileNamesAllowed(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	a := ts.upload(t, 0, "same.txt", []byte("one"))
	b := ts.upload(t, 0, "same.txt", []byte("two"))
	assert.NotEqual(t, a, b)
	m := ts.ok(t, "file/ls.cgi", map[string]any{})
	assert.Equal(t, []string{"same.txt", "same.txt"}, names(m, "items"))
	// Case-sensitive names.
	ts.upload(t, 0, "SAME.txt", []byte("three"))
	m = ts.ok(t, "file/ls.cgi", map[string]any{})
	assert.Len(t, m["items"], 3)
}

func TestFileInfo(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	dir := ts.mkdir(t, 0, "A")
	sub := ts.mkdir(t, dir, "B")
	u := ts.upload(t, sub, "doc.pdf", []byte("%PDF"))
	r := ts.api(t, "file/info.cgi", map[string]any{"url": u})
	require.Equal(t, 200, r.Code)
	m := r.JSON(t)
	assert.NotContains(t, m, "status", "no status key on success")
	assert.Contains(t, m, "content_type", "underscore in file/info.cgi")
	assert.NotContains(t, m, "content-type")
	assert.Equal(t, "application/pdf", m["content_type"])
	assert.Equal(t, "A/B", m["path"])
	assert.Equal(t, float64(sub), m["folder_id"])
	assert.Equal(t, map[string]any{"ip": []any{}, "country": []any{}, "email": []any{}, "premium": float64(0)}, m["acl"], "acl is an object here")
	// URL variants: www., http, extra parameters.
	id := strings.TrimPrefix(u, "https://1fichier.com/?")
	for _, v := range []string{"https://www.1fichier.com/?" + id, "http://1fichier.com/?" + id, u + "&af=12345"} {
		r := ts.api(t, "file/info.cgi", map[string]any{"url": v})
		assert.Equal(t, 200, r.Code, v)
	}
	// Unknown file: 404 + Resource not found #469 (observed, JD).
	ts.koCall(t, "file/info.cgi", map[string]any{"url": "https://1fichier.com/?zzzzzzzzzz"}, 404, "Resource not found #469")
	ts.koCall(t, "file/info.cgi", map[string]any{"url": "https://example.com/?" + id}, 404, "Resource not found #469")
	// Groupware form: folder_id + exact filename.
	r = ts.api(t, "file/info.cgi", map[string]any{"folder_id": sub, "filename": "doc.pdf"})
	assert.Equal(t, 200, r.Code)
	ts.koCall(t, "file/info.cgi", map[string]any{"folder_id": sub, "filename": "DOC.pdf"}, 404, "")
}

func TestFilePasswordMessages(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	require.NoError(t, ts.AddAccount(Account{Key: "other", Offer: OfferPremium}))
	u := ts.upload(t, 0, "secret.bin", []byte("s3cret"))
	ts.ok(t, "file/chattr.cgi", map[string]any{"urls": []string{u}, "pass": "hunter22"})
	for _, tc := range []struct {
		pass string
		code int
		msg  string
	}{
		{"", 403, "Password not provided. Resource not allowed #631"},
		{"wrong!", 403, "Invalid password. Resource not allowed #631"},
		{"hunter22", 200, ""},
	} {
		for _, ep := range []string{"file/info.cgi", "download/get_token.cgi"} {
			r := ts.apiKey(t, "other", ep, map[string]any{"url": u, "pass": tc.pass})
			require.Equal(t, tc.code, r.Code, "%s pass %q: %s", ep, tc.pass, r.Body)
			if tc.msg != "" {
				assert.Equal(t, tc.msg, r.JSON(t)["message"])
			}
		}
	}
	// The owner needs no password.
	ts.ok(t, "download/get_token.cgi", map[string]any{"url": u})
	m := ts.ok(t, "file/ls.cgi", map[string]any{})
	assert.Equal(t, float64(1), m["items"].([]any)[0].(map[string]any)["pass"])
}

func TestFileACL(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	require.NoError(t, ts.AddAccount(Account{Key: "other", Email: "other@example.com", Offer: OfferPremium}))
	require.NoError(t, ts.AddAccount(Account{Key: "third", Offer: OfferPremium}))
	u := ts.upload(t, 0, "acl.bin", []byte("x"))
	ts.ok(t, "file/chattr.cgi", map[string]any{"urls": []string{u}, "acl": map[string]any{"email": []string{"other@example.com"}}})
	assert.Equal(t, 200, ts.apiKey(t, "other", "download/get_token.cgi", map[string]any{"url": u}).Code)
	r := ts.apiKey(t, "third", "download/get_token.cgi", map[string]any{"url": u})
	assert.Equal(t, 403, r.Code)
	assert.Equal(t, "Resource not allowed #631", r.JSON(t)["message"])
	m := ts.ok(t, "file/ls.cgi", map[string]any{})
	assert.Equal(t, float64(1), m["items"].([]any)[0].(map[string]any)["acl"], "acl is 0/1 in listings")
	// An empty object removes the ACL.
	ts.ok(t, "file/chattr.cgi", map[string]any{"urls": []string{u}, "acl": map[string]any{}})
	assert.Equal(t, 200, ts.apiKey(t, "third", "download/get_token.cgi", map[string]any{"url": u}).Code)
}

func TestFileRm(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	require.NoError(t, ts.AddAccount(Account{Key: "other", Offer: OfferPremium}))
	a := ts.upload(t, 0, "a", []byte("a"))
	b := ts.upload(t, 0, "b", []byte("b"))
	// Another user's file cannot be removed.
	r := ts.apiKey(t, "other", "file/rm.cgi", map[string]any{"files": []map[string]string{{"url": a}}})
	assert.Equal(t, 403, r.Code)
	// One bad URL refuses the whole call.
	ts.koCall(t, "file/rm.cgi", map[string]any{"files": []map[string]string{{"url": a}, {"url": "https://1fichier.com/?zzzzzzzzzz"}}},
		404, "Resource not found #469")
	_, err := ts.Lookup(a)
	require.NoError(t, err, "nothing removed")
	m := ts.ok(t, "file/rm.cgi", map[string]any{"files": []map[string]string{{"url": a}, {"url": b}}})
	assert.Equal(t, float64(2), m["removed"])
	assert.Equal(t, []any{a, b}, m["urls"])
	assert.Equal(t, 0, ts.FileCount())
	ts.koCall(t, "file/rm.cgi", map[string]any{"files": []map[string]string{{"url": a}}}, 404, "Resource not found #469")
	ts.koCall(t, "file/rm.cgi", map[string]any{}, 400, "Parameter files must be defined #18")
}

func TestFileMv(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	dir := ts.mkdir(t, 0, "dest")
	u := ts.upload(t, 0, "a.txt", []byte("aaa"))
	u2 := ts.upload(t, 0, "b.txt", []byte("bbb"))

	// destination_folder_id must be defined.
	ts.koCall(t, "file/mv.cgi", map[string]any{"urls": []string{u}}, 400, "Parameter destination_folder_id must be defined #18")
	// rename only with exactly one URL.
	ts.koCall(t, "file/mv.cgi", map[string]any{"urls": []string{u, u2}, "destination_folder_id": dir, "rename": "x"},
		400, "Rename only works with one file #319")
	// A move-with-rename to the same name is refused (rclone #7856).
	ts.koCall(t, "file/mv.cgi", map[string]any{"urls": []string{u}, "destination_folder_id": dir, "rename": "a.txt"},
		400, "No file has been renamed #312")
	ts.koCall(t, "file/mv.cgi", map[string]any{"urls": []string{u}, "destination_folder_id": 4242}, 404, "Resource not found #469")

	m := ts.ok(t, "file/mv.cgi", map[string]any{"urls": []string{u}, "destination_folder_id": dir, "rename": "renamed.txt"})
	assert.Equal(t, float64(1), m["moved"])
	assert.Equal(t, "renamed.txt", m["filename"])
	assert.Equal(t, []any{u}, m["urls"], "the answer lists the moved file's URL")
	fi, err := ts.Lookup(u)
	require.NoError(t, err)
	assert.Equal(t, dir, fi.FolderID)
	assert.Equal(t, "renamed.txt", fi.Name)
	// Moving without rename keeps the name.
	m = ts.ok(t, "file/mv.cgi", map[string]any{"urls": []string{u2}, "destination_folder_id": dir})
	assert.NotContains(t, m, "filename")
	ls := ts.ok(t, "file/ls.cgi", map[string]any{"folder_id": dir})
	assert.ElementsMatch(t, []string{"renamed.txt", "b.txt"}, names(ls, "items"))
}

// The C# SDK's MoveFilesTest, run against the live service, does this:
// move a file, then read it by the URL it had before the move.
func TestFileMvKeepsURLSoOldURLStillReads(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	dir := ts.mkdir(t, 0, "dest")
	u := ts.upload(t, 0, "a.txt", []byte("aaa"))
	m := ts.ok(t, "file/mv.cgi", map[string]any{"urls": []string{u}, "destination_folder_id": dir})
	assert.Equal(t, float64(1), m["moved"])
	assert.Equal(t, []any{u}, m["urls"])
	info := ts.ok(t, "file/info.cgi", map[string]any{"url": u})
	assert.Equal(t, "a.txt", info["filename"])
	assert.Equal(t, float64(dir), info["folder_id"])
	data, err := ts.FileData(u)
	require.NoError(t, err)
	assert.Equal(t, "aaa", string(data))
}

func TestFileMvChangesURLWithMoveChangesURL(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, Options{NoRateLimits: true, MoveChangesURL: true})
	dir := ts.mkdir(t, 0, "dest")
	u := ts.upload(t, 0, "a.txt", []byte("aaa"))
	m := ts.ok(t, "file/mv.cgi", map[string]any{"urls": []string{u}, "destination_folder_id": dir})
	newURL := m["urls"].([]any)[0].(string)
	assert.NotEqual(t, u, newURL)
	assert.Regexp(t, `^https://1fichier\.com/\?[a-z0-9]{10}$`, newURL)
	ts.koCall(t, "file/info.cgi", map[string]any{"url": u}, http.StatusNotFound, "Resource not found #469")
	fi, err := ts.Lookup(newURL)
	require.NoError(t, err)
	assert.Equal(t, dir, fi.FolderID)
}

func TestFileCp(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	require.NoError(t, ts.AddAccount(Account{Key: "other", Offer: OfferPremium}))
	dir := ts.mkdir(t, 0, "copies")
	u := ts.upload(t, 0, "src.bin", []byte("payload"))
	m := ts.ok(t, "file/cp.cgi", map[string]any{"urls": []string{u}, "folder_id": dir, "rename": "copy.bin"})
	assert.Equal(t, float64(1), m["copied"])
	assert.Equal(t, "copy.bin", m["filename"])
	pair := m["urls"].([]any)[0].(map[string]any)
	assert.Equal(t, u, pair["from_url"])
	assert.NotEqual(t, u, pair["to_url"], "a copy has a new URL")
	data, err := ts.FileData(pair["to_url"].(string))
	require.NoError(t, err)
	assert.Equal(t, "payload", string(data))
	// The source is untouched, and removing it keeps the copy's content.
	ts.ok(t, "file/rm.cgi", map[string]any{"files": []map[string]string{{"url": u}}})
	data, err = ts.FileData(pair["to_url"].(string))
	require.NoError(t, err)
	assert.Equal(t, "payload", string(data))
	// Another user may copy a readable file into their own account.
	m = ts.ok(t, "file/cp.cgi", map[string]any{"urls": []any{pair["to_url"]}})
	require.Equal(t, float64(1), m["copied"])
	r := ts.apiKey(t, "other", "file/cp.cgi", map[string]any{"urls": []any{pair["to_url"]}})
	require.Equal(t, 200, r.Code, "%s", r.Body)
	ts.koCall(t, "file/cp.cgi", map[string]any{"urls": []string{u, u}, "rename": "x"}, 400, "Rename only works with one file #319")
}

func TestFileRename(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	u := ts.upload(t, 0, "old.txt", []byte("x"))
	ts.koCall(t, "file/rename.cgi", map[string]any{"urls": []map[string]string{{"url": u, "filename": "old.txt"}}}, 400, "No file has been renamed #312")
	m := ts.ok(t, "file/rename.cgi", map[string]any{"urls": []map[string]string{{"url": u, "filename": "new.txt"}}, "pretty": 1})
	assert.Equal(t, float64(1), m["renamed"])
	assert.Equal(t, []any{map[string]any{"url": u, "old_filename": "old.txt", "new_filename": "new.txt"}}, m["urls"])
	fi, err := ts.Lookup(u)
	require.NoError(t, err)
	assert.Equal(t, "new.txt", fi.Name, "rename keeps the URL")
	// Forbidden characters are refused, not mangled.
	for _, bad := range []string{"a<b", `a"b`, "a'b", "a$b", "a`b", `a\b`, "a/b", " lead", "trail "} {
		r := ts.api(t, "file/rename.cgi", map[string]any{"urls": []map[string]string{{"url": u, "filename": bad}}})
		assert.Equal(t, 400, r.Code, "%q", bad)
	}
}

func TestFileChattr(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	u := ts.upload(t, 0, "c.txt", []byte("x"))
	ts.koCall(t, "file/chattr.cgi", map[string]any{"urls": []string{u}, "pass": "short"}, 400, "Password must be at least 6 characters #331")
	m := ts.ok(t, "file/chattr.cgi", map[string]any{"urls": []string{u}, "description": "hello", "inline": 1, "cdn": 1, "filename": "d.txt"})
	assert.Equal(t, float64(1), m["updated"])
	info := ts.ok(t, "file/info.cgi", map[string]any{"url": u})
	assert.Equal(t, "hello", info["description"])
	assert.Equal(t, float64(1), info["inline"])
	assert.Equal(t, float64(1), info["cdn"])
	assert.Equal(t, "d.txt", info["filename"])
	// Empty pass removes the password.
	ts.ok(t, "file/chattr.cgi", map[string]any{"urls": []string{u}, "pass": "longenough"})
	fi, _ := ts.Lookup(u)
	assert.Equal(t, "longenough", fi.Password)
	ts.ok(t, "file/chattr.cgi", map[string]any{"urls": []string{u}, "pass": ""})
	fi, _ = ts.Lookup(u)
	assert.Equal(t, "", fi.Password)
}

func TestFileScan(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	ts := NewTestServer(t, Options{NoRateLimits: true, Now: clock.Now})
	u := ts.upload(t, 0, "s.exe", []byte("MZ"))
	m := ts.ok(t, "file/scan.cgi", map[string]any{"url": u})
	assert.NotContains(t, m, "date")
	clock.Advance(time.Hour)
	m = ts.ok(t, "file/scan.cgi", map[string]any{"url": u})
	assert.Equal(t, "2024-07-01 12:00:00", m["date"], "cached result carries its date")
	clock.Advance(6 * time.Hour)
	m = ts.ok(t, "file/scan.cgi", map[string]any{"url": u})
	assert.NotContains(t, m, "date")
	ts.koCall(t, "file/scan.cgi", map[string]any{"url": "https://1fichier.com/?nosuchfile"}, http.StatusNotFound, "Resource not found #469")
}
