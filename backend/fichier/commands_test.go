package fichier_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier"
	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/rclone/rclone/fs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// command runs a backend command on f.
func command(t *testing.T, f fs.Fs, name string, arg []string, opt map[string]string) (any, error) {
	t.Helper()
	return f.(fs.Commander).Command(context.Background(), name, arg, opt)
}

// mustCommand runs a backend command that must succeed.
func mustCommand(t *testing.T, f fs.Fs, name string, arg []string, opt map[string]string) any {
	t.Helper()
	out, err := command(t, f, name, arg, opt)
	require.NoError(t, err)
	// Every result must print as JSON.
	_, err = json.Marshal(out)
	require.NoError(t, err)
	return out
}

// apiCall makes one raw API call with key, as another client would.
func apiCall(t *testing.T, srv *emulator.TestServer, key, endpoint string, body any) (int, string) {
	t.Helper()
	data, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest("POST", srv.APIURL+"/"+endpoint, strings.NewReader(string(data)))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(out)
}

// get fetches u and returns its status and body.
func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// sharedPage returns the emulator's public listing of a /dir/ link.
func sharedPage(t *testing.T, srv *emulator.TestServer, link string) (int, string) {
	t.Helper()
	id := link[strings.LastIndex(link, "/dir/")+len("/dir/"):]
	return get(t, srv.URL+"/dir/"+id+"?json=1")
}

// webServer serves files for remote uploads, on loopback.
func webServer(t *testing.T, files map[string]string) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, data)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestCommandRemoteUploadWaitsForLinks(t *testing.T) {
	inZone(t)
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "incoming", nil)
	web := webServer(t, map[string]string{"/film.mkv": "moving pictures", "/song.ogg": "la la la"})

	out := mustCommand(t, f, "remote-upload", []string{web.URL + "/film.mkv", web.URL + "/song.ogg"}, map[string]string{"wait": "true"})
	job := out.(*fichier.RemoteUploadJob)
	assert.True(t, job.Done)
	requireLocalRFC3339(t, job.Requested)
	requireLocalRFC3339(t, job.Finished)
	require.Len(t, job.Results, 2)
	film := job.Results[0]
	assert.Equal(t, fichier.RemoteUploadResult{URL: web.URL + "/film.mkv", Status: "OK", Link: film.Link, Name: "film.mkv", Size: 15}, film)
	assert.Equal(t, "song.ogg", job.Results[1].Name)
	assert.EqualValues(t, 8, job.Results[1].Size)

	file, err := srv.Lookup(film.Link)
	require.NoError(t, err, "the printed link is the stored file")
	assert.Equal(t, "film.mkv", file.Name)
	data, err := srv.FileData(film.Link)
	require.NoError(t, err)
	assert.Equal(t, "moving pictures", string(data))

	// The file went into the remote's folder, and the remote sees it
	// from the listing the command made.
	listings := srv.Stats().Calls["folder/ls.cgi"]
	entries, err := f.List(context.Background(), "")
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Equal(t, "film.mkv", entries[0].Remote())
	assert.Equal(t, film.Link, entries[0].(fs.IDer).ID())
	assert.Equal(t, listings, srv.Stats().Calls["folder/ls.cgi"])
}

func TestCommandRemoteUploadFailsWhenAnyURLFails(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "", nil)
	web := webServer(t, map[string]string{"/film.mkv": "moving pictures"})

	_, err := command(t, f, "remote-upload", []string{web.URL + "/film.mkv", web.URL + "/missing.bin"}, map[string]string{"wait": "true"})
	require.Error(t, err)
	assert.Regexp(t, `remote upload \d+: 1 of 2 URL\(s\) not fetched: `+web.URL+`/missing.bin \(Download failed: HTTP 404\)$`, err.Error())
	files, err := srv.Files(srv.Key, 0)
	require.NoError(t, err)
	require.Len(t, files, 1, "the URL that worked is stored all the same")

	_, err = command(t, f, "remote-upload", []string{web.URL + "/gone.bin", web.URL + "/lost.bin"}, map[string]string{"wait": "true"})
	assert.ErrorContains(t, err, "2 of 2 URL(s) not fetched")
}

func TestCommandRemoteUploadRefusesNameInFolder(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "", nil)
	_, err := srv.PutFile(srv.Key, 0, "film.mkv", []byte("old"))
	require.NoError(t, err)
	web := webServer(t, map[string]string{"/film.mkv": "moving pictures", "/other.bin": "x"})

	_, err = command(t, f, "remote-upload", []string{web.URL + "/other.bin", web.URL + "/film.mkv"}, map[string]string{"wait": "true"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `nothing asked: the folder already has "film.mkv" (from `+web.URL+"/film.mkv)")
	assert.Zero(t, srv.Stats().Calls["remote/request.cgi"], "refused before asking")
}

func TestCommandRemoteUploadWithoutWaitAndStatus(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "", nil)
	web := webServer(t, map[string]string{"/a.txt": "a"})

	job := mustCommand(t, f, "remote-upload", []string{web.URL + "/a.txt"}, nil).(*fichier.RemoteUploadJob)
	require.NotZero(t, job.ID)
	assert.Empty(t, job.Results, "no waiting, no results")

	jobs := mustCommand(t, f, "remote-status", nil, nil).([]fichier.RemoteUploadJob)
	require.Len(t, jobs, 1)
	assert.Equal(t, job.ID, jobs[0].ID)
	assert.NotEmpty(t, jobs[0].Requested)

	one := mustCommand(t, f, "remote-status", []string{strconv.FormatInt(job.ID, 10)}, nil).(*fichier.RemoteUploadJob)
	assert.Equal(t, job.ID, one.ID)
	require.Len(t, one.Results, 1, "a URL shows whether fetched or not")
	assert.Equal(t, web.URL+"/a.txt", one.Results[0].URL)
	assert.Contains(t, []string{"OK", "running"}, one.Results[0].Status)

	_, err := command(t, f, "remote-status", []string{"nope"}, nil)
	assert.ErrorContains(t, err, "not a job ID")
	_, err = command(t, f, "remote-upload", []string{"ftp://example.com/x"}, nil)
	assert.ErrorContains(t, err, "not an http(s) URL")
}

// requireLocalRFC3339 checks that s is a time as every command shows
// one: RFC 3339, to the second, with the offset of the local zone then.
func requireLocalRFC3339(t *testing.T, s string) {
	t.Helper()
	parsed, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err, "not RFC 3339: %q", s)
	assert.Equal(t, parsed.In(time.Local).Format(time.RFC3339), s, "in local time")
}

// inZone runs the test in a local zone other than Paris and UTC, so that
// a time shown in either is caught.
func inZone(t *testing.T) {
	loc, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	old := time.Local
	time.Local = loc
	t.Cleanup(func() { time.Local = old })
}

// TestCommandsShowLocalTimes: the account's subscription end, a scan's
// cache date and a token's expiry are shown one way, RFC 3339 in local
// time.
func TestCommandsShowLocalTimes(t *testing.T) {
	inZone(t)
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "", nil)
	_, err := srv.PutFile(srv.Key, 0, "setup.exe", []byte("MZ"))
	require.NoError(t, err)

	acc := mustCommand(t, f, "account", nil, nil).(*fichier.AccountInfo)
	requireLocalRFC3339(t, acc.SubscriptionEnd)
	mustCommand(t, f, "scan", []string{"setup.exe"}, nil)
	res := mustCommand(t, f, "scan", []string{"setup.exe"}, nil).(*fichier.ScanResult)
	requireLocalRFC3339(t, res.Cached)
	tok := mustCommand(t, f, "token", []string{"setup.exe"}, nil).(*fichier.DownloadToken)
	data, err := json.Marshal(tok)
	require.NoError(t, err)
	var shown struct{ Expires string }
	require.NoError(t, json.Unmarshal(data, &shown))
	requireLocalRFC3339(t, shown.Expires)
}

func TestCommandAccountIsCached(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "", nil)
	_, err := srv.PutFile(srv.Key, 0, "a.bin", []byte("12345"))
	require.NoError(t, err)

	acc := mustCommand(t, f, "account", nil, nil).(*fichier.AccountInfo)
	assert.Equal(t, "test@example.com", acc.Email)
	assert.Equal(t, "Premium", acc.Offer)
	assert.NotEmpty(t, acc.SubscriptionEnd)
	assert.EqualValues(t, 5, acc.ColdStorageUsed)
	assert.EqualValues(t, emulator.DefaultColdQuota, acc.ColdStorageAvailable)

	mustCommand(t, f, "account", nil, nil)
	assert.EqualValues(t, 1, srv.Stats().Calls["user/info.cgi"], "user/info.cgi is rate limited: ask once")
}

func TestCommandPasswordOnFile(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "", nil)
	link, err := srv.PutFile(srv.Key, 0, "secret.pdf", []byte("pdf"))
	require.NoError(t, err)

	p := mustCommand(t, f, "password", []string{"secret.pdf"}, map[string]string{"set": "hunter22"}).(*fichier.Protection)
	assert.Equal(t, link, p.URL)
	assert.True(t, p.Password)
	file, err := srv.Lookup(link)
	require.NoError(t, err)
	assert.Equal(t, "hunter22", file.Password)

	mustCommand(t, f, "password", []string{"secret.pdf"}, map[string]string{"clear": "true"})
	file, err = srv.Lookup(link)
	require.NoError(t, err)
	assert.Empty(t, file.Password)

	before := srv.Stats().Calls["file/chattr.cgi"]
	_, err = command(t, f, "password", []string{"secret.pdf"}, map[string]string{"set": "short"})
	assert.ErrorContains(t, err, "at least 6 characters")
	_, err = command(t, f, "password", []string{"secret.pdf"}, map[string]string{"set": "hunter22", "clear": "true"})
	assert.Error(t, err)
	_, err = command(t, f, "password", []string{"nothing-here"}, map[string]string{"clear": "true"})
	assert.ErrorContains(t, err, "no file or folder")
	assert.Equal(t, before, srv.Stats().Calls["file/chattr.cgi"], "refused before any call")
}

func TestCommandPasswordOnFolderProtectsItsShare(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "", nil)
	id, err := srv.Mkdir(srv.Key, 0, "private")
	require.NoError(t, err)
	_, err = srv.PutFile(srv.Key, id, "a.txt", []byte("a"))
	require.NoError(t, err)

	// Clearing the password of a folder that is not shared must not share it.
	p := mustCommand(t, f, "password", []string{"private"}, map[string]string{"clear": "true"}).(*fichier.Protection)
	assert.False(t, p.Shared)
	assert.Zero(t, srv.Stats().Calls["folder/share.cgi"])

	p = mustCommand(t, f, "password", []string{"private"}, map[string]string{"set": "hunter22"}).(*fichier.Protection)
	assert.True(t, p.Shared)
	assert.True(t, p.Password)
	require.Contains(t, p.URL, "/dir/")
	code, body := sharedPage(t, srv, p.URL)
	assert.Equal(t, http.StatusOK, code)
	assert.False(t, strings.HasPrefix(body, "["), "a protected share answers its password form, not the listing")

	p = mustCommand(t, f, "password", []string{"private"}, map[string]string{"clear": "true"}).(*fichier.Protection)
	assert.True(t, p.Shared)
	assert.False(t, p.Password)
	_, body = sharedPage(t, srv, p.URL)
	assert.Contains(t, body, `"filename":"a.txt"`)
}

func TestCommandShareAndUnshare(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "", nil)
	id, err := srv.Mkdir(srv.Key, 0, "photos")
	require.NoError(t, err)
	_, err = srv.PutFile(srv.Key, id, "cat.jpg", []byte("meow"))
	require.NoError(t, err)

	p := mustCommand(t, f, "share", []string{"photos"}, nil).(*fichier.Protection)
	assert.True(t, p.Shared)
	assert.Regexp(t, `^https://1fichier\.com/dir/[A-Za-z0-9]{8}$`, p.URL)
	code, body := sharedPage(t, srv, p.URL)
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"filename":"cat.jpg"`)

	p2 := mustCommand(t, f, "share", []string{"photos"}, map[string]string{"password": "hunter22"}).(*fichier.Protection)
	assert.Equal(t, p.URL, p2.URL, "the link stays the same")
	assert.True(t, p2.Password)
	_, body = sharedPage(t, srv, p.URL)
	assert.False(t, strings.HasPrefix(body, "["))

	mustCommand(t, f, "share", []string{"photos"}, map[string]string{"unshare": "true"})
	code, _ = sharedPage(t, srv, p.URL)
	assert.Equal(t, http.StatusNotFound, code)

	_, err = command(t, f, "share", []string{"photos"}, map[string]string{"unshare": "true", "password": "hunter22"})
	assert.Error(t, err)
	_, err = command(t, f, "share", []string{"nope"}, nil)
	assert.ErrorIs(t, err, fs.ErrorDirNotFound)
}

func TestCommandACLRestrictsDownloads(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	const otherKey = "acl-other-key"
	require.NoError(t, srv.AddAccount(emulator.Account{Key: otherKey, Offer: emulator.OfferPremium, Email: "other@example.com"}))
	f := fichiertest.NewFs(t, srv, "", nil)
	link, err := srv.PutFile(srv.Key, 0, "doc.txt", []byte("doc"))
	require.NoError(t, err)
	otherGetsToken := func() int {
		code, _ := apiCall(t, srv, otherKey, "download/get_token.cgi", api.GetTokenRequest{URL: link})
		return code
	}
	require.Equal(t, http.StatusOK, otherGetsToken())

	opt := map[string]string{"email": "friend@example.com, boss@example.com", "premium": "1"}
	out := mustCommand(t, f, "acl", []string{"doc.txt"}, opt).(*fichier.FileACL)
	assert.Equal(t, []string{"friend@example.com", "boss@example.com"}, out.ACL.Email)
	assert.Equal(t, 1, out.ACL.Premium)
	assert.Equal(t, http.StatusForbidden, otherGetsToken(), "other@example.com is not on the list")

	mustCommand(t, f, "acl", []string{"doc.txt"}, map[string]string{"email": "other@example.com"})
	assert.Equal(t, http.StatusOK, otherGetsToken())

	mustCommand(t, f, "acl", []string{"doc.txt"}, map[string]string{"country": "fr"})
	assert.Equal(t, http.StatusForbidden, otherGetsToken())

	mustCommand(t, f, "acl", []string{"doc.txt"}, map[string]string{"clear": "true"})
	assert.Equal(t, http.StatusOK, otherGetsToken())

	for _, opt := range []map[string]string{nil, {"clear": "true", "ip": "10.0.0.1"}, {"colour": "blue"}} {
		_, err := command(t, f, "acl", []string{"doc.txt"}, opt)
		assert.Error(t, err, "options %v", opt)
	}
}

func TestCommandScan(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "", nil)
	_, err := srv.PutFile(srv.Key, 0, "setup.exe", []byte("MZ"))
	require.NoError(t, err)

	res := mustCommand(t, f, "scan", []string{"setup.exe"}, nil).(*fichier.ScanResult)
	assert.Equal(t, "OK", res.Status)
	assert.Equal(t, "No virus found", res.Message)
	assert.Empty(t, res.Cached)
	res = mustCommand(t, f, "scan", []string{"setup.exe"}, nil).(*fichier.ScanResult)
	assert.NotEmpty(t, res.Cached, "1fichier keeps results for 6 hours and says so")

	_, err = command(t, f, "scan", []string{"missing.exe"}, nil)
	assert.ErrorIs(t, err, fs.ErrorObjectNotFound)
}

func TestCommandTokenGivesWorkingURL(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "", nil)
	_, err := srv.PutFile(srv.Key, 0, "song.ogg", []byte("la la la"))
	require.NoError(t, err)

	tok := mustCommand(t, f, "token", []string{"song.ogg"}, nil).(*fichier.DownloadToken)
	assert.True(t, tok.Expires.After(time.Now()))
	code, body := get(t, tok.URL)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "la la la", body, "the URL works without the API key")
}

func TestCommandArgumentsAndUnknownCommand(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "", nil)

	_, err := command(t, f, "frobnicate", nil, nil)
	assert.ErrorIs(t, err, fs.ErrorCommandNotFound)

	ri, err := fs.Find("fichier")
	require.NoError(t, err)
	require.NotEmpty(t, ri.CommandHelp)
	for _, help := range ri.CommandHelp {
		assert.NotEmpty(t, help.Short, help.Name)
		assert.NotEmpty(t, help.Long, help.Name)
		_, err := command(t, f, help.Name, []string{"a", "b", "c"}, nil)
		assert.NotErrorIs(t, err, fs.ErrorCommandNotFound, "%s is documented but not handled", help.Name)
	}
	for _, name := range []string{"password", "acl", "scan", "token"} {
		_, err := command(t, f, name, nil, map[string]string{"clear": "true"})
		assert.ErrorContains(t, err, "needs exactly one", name)
		assert.ErrorContains(t, err, "remote:dir/file.txt, or as remote:dir file.txt", name)
	}
	for _, name := range []string{"acl", "scan", "token"} {
		_, err := command(t, f, name, []string{"dir/missing.txt"}, map[string]string{"clear": "true"})
		assert.ErrorContains(t, err, `no file "dir/missing.txt"`, name)
		assert.ErrorContains(t, err, "remote:dir/file.txt, or as remote:dir file.txt", name)
	}
}

// TestCommandLineMovesFileIntoArgument: "rclone backend scan
// remote:dir/file.txt" runs as "scan remote:dir file.txt"; other
// commands, other backends, and commands given an argument are left as
// they are.
func TestCommandLineMovesFileIntoArgument(t *testing.T) {
	t.Setenv("RCLONE_CONFIG_FE_TYPE", "fichier")
	t.Setenv("RCLONE_CONFIG_LOC_TYPE", "local")
	for _, tc := range []struct{ in, want []string }{
		{[]string{"scan", "fe:dir/file.txt"}, []string{"scan", "fe:dir/", "file.txt"}},
		{[]string{"password", "fe:file.txt"}, []string{"password", "fe:", "file.txt"}},
		{[]string{"acl", "fe:a/b/c.bin"}, []string{"acl", "fe:a/b/", "c.bin"}},
		{[]string{"token", ":fichier,api_key=x:dir/f.iso"}, []string{"token", ":fichier,api_key=x:dir/", "f.iso"}},
		{[]string{"token", "fe:dir", "file.txt"}, []string{"token", "fe:dir", "file.txt"}},
		{[]string{"token", "fe:", "https://1fichier.com/?abc123def4"}, []string{"token", "fe:", "https://1fichier.com/?abc123def4"}},
		{[]string{"scan", "fe:"}, []string{"scan", "fe:"}},
		{[]string{"share", "fe:photos"}, []string{"share", "fe:photos"}},
		{[]string{"scan", "loc:dir/file.txt"}, []string{"scan", "loc:dir/file.txt"}},
		{[]string{"scan", "nosuchremote:dir/file.txt"}, []string{"scan", "nosuchremote:dir/file.txt"}},
	} {
		assert.Equal(t, tc.want, fichier.CommandLine(tc.in), "%q", tc.in)
	}
}

func TestCommandsRefuseSharedFolderRemote(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	id, err := srv.Mkdir(srv.Key, 0, "pub")
	require.NoError(t, err)
	link, err := srv.ShareFolder(srv.Key, id, "")
	require.NoError(t, err)
	f := fichiertest.NewFs(t, srv, "", map[string]string{"api_key": "", "shared_folder": link})
	_, err = command(t, f, "account", nil, nil)
	assert.ErrorContains(t, err, "shared_folder")
}

// sharerKey is the key of another user, whose files the tests import.
const sharerKey = "sharer-key"

// sharedFile stores a file of another user (sharer@example.com) with the
// given access rules and returns its link.
func sharedFile(t *testing.T, srv *emulator.TestServer, name, data string, access emulator.FileAccess) string {
	t.Helper()
	if _, err := srv.Files(sharerKey, 0); err != nil {
		require.NoError(t, srv.AddAccount(emulator.Account{Key: sharerKey, Email: "sharer@example.com", Offer: emulator.OfferPremium}))
	}
	link, err := srv.PutFile(sharerKey, 0, name, []byte(data))
	require.NoError(t, err)
	require.NoError(t, srv.SetAccess(link, access))
	return link
}

// importFs returns a Fs on a new folder "imports" and the folder's id.
func importFs(t *testing.T, srv *emulator.TestServer) (fs.Fs, int64) {
	t.Helper()
	id, err := srv.Mkdir(srv.Key, 0, "imports")
	require.NoError(t, err)
	return fichiertest.NewFs(t, srv, "imports", nil), id
}

// folderFiles returns the names and contents of key's files in folder id.
func folderFiles(t *testing.T, srv *emulator.TestServer, id int64) map[string]string {
	t.Helper()
	files, err := srv.Files(srv.Key, id)
	require.NoError(t, err)
	out := map[string]string{}
	for _, file := range files {
		data, err := srv.FileData(file.URL)
		require.NoError(t, err)
		_, dup := out[file.Name]
		require.False(t, dup, "%s is in the folder twice", file.Name)
		out[file.Name] = string(data)
	}
	return out
}

func TestImportCopiesPublicFilesAndCachesThem(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f, dir := importFs(t, srv)
	film := sharedFile(t, srv, "film.mkv", "moving pictures", emulator.FileAccess{})
	song := sharedFile(t, srv, "song.ogg", "la la la", emulator.FileAccess{})
	id := strings.TrimPrefix(song, "https://1fichier.com/?")
	// As links are pasted: no scheme, www., an affiliate tag.
	pasted := []string{strings.TrimPrefix(film, "https://") + "&af=3141", "http://www.1fichier.com/?" + id}

	out := mustCommand(t, f, "import", pasted, nil).([]string)
	assert.Equal(t, []string{
		pasted[0] + `: stored "film.mkv" (15 B)`,
		pasted[1] + `: stored "song.ogg" (8 B)`,
	}, out)
	assert.Equal(t, map[string]string{"film.mkv": "moving pictures", "song.ogg": "la la la"}, folderFiles(t, srv, dir))
	stats := srv.Stats()
	assert.EqualValues(t, 1, stats.Calls["file/cp.cgi"], "both links in one call")
	assert.EqualValues(t, 2, stats.Calls["folder/ls.cgi"], "the root to find imports, imports to name the copies")

	// The copies are in the shared listing: no new listing to see them.
	entries, err := f.List(context.Background(), "")
	require.NoError(t, err)
	require.Len(t, entries, 2)
	o, err := f.NewObject(context.Background(), "film.mkv")
	require.NoError(t, err)
	assert.EqualValues(t, 15, o.Size())
	assert.Equal(t, stats.Total(), srv.Stats().Total(), "listing and finding the copies made no call")

	// The sources still belong to their owner.
	src, err := srv.Lookup(film)
	require.NoError(t, err)
	assert.Equal(t, "sharer@example.com", src.Owner)
}

func TestImportPasswordProtectedFile(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f, dir := importFs(t, srv)
	link := sharedFile(t, srv, "secret.pdf", "classified", emulator.FileAccess{Password: "hunter22"})

	_, err := command(t, f, "import", []string{link}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1 of 1 links not imported: "+link)
	_, err = command(t, f, "import", []string{link}, map[string]string{"password": "wrong-one"})
	require.Error(t, err)
	assert.Empty(t, folderFiles(t, srv, dir))

	out := mustCommand(t, f, "import", []string{link}, map[string]string{"password": "hunter22"}).([]string)
	assert.Equal(t, []string{link + `: stored "secret.pdf" (10 B)`}, out)
	assert.Equal(t, map[string]string{"secret.pdf": "classified"}, folderFiles(t, srv, dir))
}

func TestImportPrivateFileFailsClearly(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f, dir := importFs(t, srv)
	private := sharedFile(t, srv, "diary.txt", "dear diary", emulator.FileAccess{Private: true})
	public := sharedFile(t, srv, "notice.txt", "hello all", emulator.FileAccess{})

	_, err := command(t, f, "import", []string{private, public, "https://example.com/?abcdef"}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "2 of 3 links not imported: "+private+", https://example.com/?abcdef")
	assert.Equal(t, map[string]string{"notice.txt": "hello all"}, folderFiles(t, srv, dir), "the readable one is imported")
	// One call for both links, refused for the private one; then each alone.
	assert.EqualValues(t, 3, srv.Stats().Calls["file/cp.cgi"])
}

func TestImportNameAlreadyInFolder(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f, dir := importFs(t, srv)
	mine, err := srv.PutFile(srv.Key, dir, "a.txt", []byte("same"))
	require.NoError(t, err)
	same := sharedFile(t, srv, "a.txt", "same", emulator.FileAccess{})
	other := sharedFile(t, srv, "a.txt", "different", emulator.FileAccess{})

	out := mustCommand(t, f, "import", []string{same}, nil).([]string)
	assert.Equal(t, []string{same + `: skipped: "a.txt" is already in the folder, with the same checksum`}, out)
	_, err = command(t, f, "import", []string{other}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), other)

	files, err := srv.Files(srv.Key, dir)
	require.NoError(t, err)
	require.Len(t, files, 1, "no duplicate is kept")
	assert.Equal(t, mine, files[0].URL, "the file that was there stays")
	assert.EqualValues(t, 2, srv.Stats().Calls["file/rm.cgi"], "each run removed its copy")
	entries, err := f.List(context.Background(), "")
	require.NoError(t, err)
	require.Len(t, entries, 1, "the cached listing has no removed copy")
	assert.Equal(t, mine, entries[0].(fs.IDer).ID())
}

func TestImportArguments(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f, _ := importFs(t, srv)
	_, err := command(t, f, "import", nil, nil)
	assert.ErrorContains(t, err, "at least one")
	_, err = command(t, f, "import", nil, map[string]string{"from": t.TempDir() + "/missing.txt"})
	assert.ErrorContains(t, err, "couldn't read the list")
	_, err = command(t, f, "import", []string{"https://1fichier.com/dir/AbCdEfGh"}, nil)
	assert.ErrorContains(t, err, "1 of 1 links not imported")
	assert.Zero(t, srv.Stats().Calls["file/cp.cgi"], "nothing to copy, no call")
}

func TestCommandTokenForSomeoneElsesLink(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "", nil)
	public := sharedFile(t, srv, "talk.mp3", "words words", emulator.FileAccess{})
	protected := sharedFile(t, srv, "paid.mp3", "premium words", emulator.FileAccess{Password: "hunter22"})
	private := sharedFile(t, srv, "mine.mp3", "private words", emulator.FileAccess{Private: true})

	tok := mustCommand(t, f, "token", []string{strings.TrimPrefix(public, "https://") + "&af=9"}, nil).(*fichier.DownloadToken)
	assert.Equal(t, public, tok.File, "the link as the API takes it")
	code, body := get(t, tok.URL)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "words words", body)

	_, err := command(t, f, "token", []string{protected}, nil)
	assert.ErrorContains(t, err, "-o password=")
	assert.ErrorContains(t, err, "Password not provided")
	tok = mustCommand(t, f, "token", []string{protected}, map[string]string{"password": "hunter22"}).(*fichier.DownloadToken)
	_, body = get(t, tok.URL)
	assert.Equal(t, "premium words", body)

	_, err = command(t, f, "token", []string{private}, nil)
	assert.ErrorContains(t, err, "Resource not allowed")
	assert.EqualValues(t, 4, srv.Stats().Calls["download/get_token.cgi"], "one call each, no listing")
	assert.Zero(t, srv.Stats().Calls["folder/ls.cgi"])
}

func TestImportOfCopiesNotListedYetRelistsNextTime(t *testing.T) {
	opts := fichiertest.Options()
	opts.ListingDelay = 10 * time.Hour // sped up: 6 minutes
	srv := emulator.NewTestServer(t, opts)
	f, _ := importFs(t, srv)
	link := sharedFile(t, srv, "late.bin", "eventually", emulator.FileAccess{})

	out := mustCommand(t, f, "import", []string{link}, nil).([]string)
	require.Len(t, out, 1)
	assert.Regexp(t, `^`+regexp.QuoteMeta(link)+`: copied as https://1fichier\.com/\?[a-z0-9]{10} `+
		`\(not in the folder's listing yet: its name was not checked\)$`, out[0])
	listings := srv.Stats().Calls["folder/ls.cgi"]
	_, err := f.List(context.Background(), "")
	require.NoError(t, err)
	assert.Equal(t, listings+1, srv.Stats().Calls["folder/ls.cgi"], "the listing without the copy was not kept")
}
