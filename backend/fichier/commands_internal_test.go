package fichier

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cachedPassFlag returns the "has a password" flag of name in the root's
// cached listing.
func cachedPassFlag(t *testing.T, f *Fs, name string) api.Int {
	t.Helper()
	l, err := f.listing(context.Background(), 0, -1)
	require.NoError(t, err)
	file, ok := pickFile(l, name)
	require.True(t, ok, "%s in the listing", name)
	return file.Pass
}

func TestPasswordCommandKeepsListingFlagAsServerShowsIt(t *testing.T) {
	ctx := context.Background()
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	put(t, f, "secret.pdf", "data")

	_, err := f.Command(ctx, "password", []string{"secret.pdf"}, map[string]string{"set": "hunter22"})
	require.NoError(t, err)
	assert.Equal(t, api.Int(1), cachedPassFlag(t, f, "secret.pdf"), "a 0/1 flag, not the password's length")

	// A fresh process lists the same flag from the server.
	forgetAccounts()
	fresh := fichiertest.NewFs(t, srv, "", nil).(*Fs)
	assert.Equal(t, api.Int(1), cachedPassFlag(t, fresh, "secret.pdf"), "the server's listing")

	_, err = fresh.Command(ctx, "password", []string{"secret.pdf"}, map[string]string{"clear": "true"})
	require.NoError(t, err)
	assert.Equal(t, api.Int(0), cachedPassFlag(t, fresh, "secret.pdf"))
}

// progressLines returns a context whose commands also send their NOTICE
// progress lines to the returned function's result.
func progressLines() (context.Context, func() []string) {
	var mu sync.Mutex
	var lines []string
	ctx := context.WithValue(context.Background(), progressKey{}, func(line string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, line)
	})
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), lines...)
	}
}

func TestImport250LinksTakesThreeCopyCallsAndOneListing(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	dir, err := srv.Mkdir(srv.Key, 0, "bulk")
	require.NoError(t, err)
	links, err := srv.SeedPublic(250)
	require.NoError(t, err)
	list := "# links from the forum\n\n"
	for i, link := range links {
		if i%2 == 1 {
			link = strings.TrimPrefix(link, "https://") + "&af=77"
		}
		list += link + "\n"
	}
	from := filepath.Join(t.TempDir(), "links.txt")
	require.NoError(t, os.WriteFile(from, []byte(list), 0o600))
	f := fichiertest.NewFs(t, srv, "bulk", nil).(*Fs)
	before := srv.Stats()

	ctx, progress := progressLines()
	out, err := f.Command(ctx, "import", nil, map[string]string{"from": from})
	require.NoError(t, err)
	lines := out.([]string)
	require.Len(t, lines, 250)
	assert.Equal(t, links[0]+`: stored "public-001.bin" (51 B)`, lines[0])
	assert.Contains(t, lines[249], `: stored "public-250.bin"`)
	assert.Equal(t, []string{
		"import: 100/250 links sent to 1fichier, 100 copied",
		"import: 200/250 links sent to 1fichier, 200 copied",
		"import: 250/250 links sent to 1fichier, 250 copied",
	}, progress())

	after := srv.Stats()
	// 100 links per file/cp.cgi call and one listing of "bulk" to name
	// the copies; nothing else ("bulk" was found when f was made).
	assert.EqualValues(t, 3, after.Calls["file/cp.cgi"]-before.Calls["file/cp.cgi"])
	assert.EqualValues(t, 1, after.Calls["folder/ls.cgi"]-before.Calls["folder/ls.cgi"])
	assert.EqualValues(t, 4, after.Total()-before.Total())
	assert.Zero(t, after.FloodLocks)
	files, err := srv.Files(srv.Key, dir)
	require.NoError(t, err)
	assert.Len(t, files, 250)
}

func TestImportSplitsARefusedCallToFindTheBadLink(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	links, err := srv.SeedPublic(4)
	require.NoError(t, err)
	require.NoError(t, srv.SetAccess(links[0], emulator.FileAccess{Password: "hunter22"}))
	require.NoError(t, srv.SetAccess(links[3], emulator.FileAccess{Private: true}))
	_, err = srv.PutFile(srv.Key, 0, "mine.txt", []byte("own"))
	require.NoError(t, err)
	f := fichiertest.NewFs(t, srv, "", nil).(*Fs)

	// A password after a link, and a link given twice.
	list := fmt.Sprintf("%s\thunter22\n%s\n%s\n%s\n%s\n", links[0], links[1], links[2], links[3], links[1])
	from := filepath.Join(t.TempDir(), "links.txt")
	require.NoError(t, os.WriteFile(from, []byte(list), 0o600))
	ctx, _ := progressLines()
	_, err = f.Command(ctx, "import", nil, map[string]string{"from": from})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1 of 5 links not imported: "+links[3])
	// Links 1-3 (no password): refused; 1 alone copied; 2-3 refused; 2
	// alone copied, 3 alone refused. Then link 0 with its password.
	assert.EqualValues(t, 6, calls(srv, "file/cp.cgi"))
	files, err := srv.Files(srv.Key, 0)
	require.NoError(t, err)
	var names []string
	for _, file := range files {
		names = append(names, file.Name)
	}
	assert.ElementsMatch(t, []string{"mine.txt", "public-001.bin", "public-002.bin", "public-003.bin"}, names)
}

// namingServer serves data at /get?f=NAME, naming the file NAME in its
// Content-Disposition header, as download pages do; other paths are 404.
func namingServer(t *testing.T, data string) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("f")
		if r.URL.Path != "/get" || name == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		_, _ = io.WriteString(w, data)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// zoned matches a date of a progress line: RFC 3339, so with its zone
// (the local one: Z on a machine in UTC).
const zoned = `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)`

func TestRemoteUploadWaitLogsProgressAndWarnsOfDuplicate(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "", nil).(*Fs)
	_, err := srv.PutFile(srv.Key, 0, "report.pdf", []byte("old report"))
	require.NoError(t, err)
	web := namingServer(t, "new report")
	// The URL ends in "get": only the server's header says report.pdf.
	good, bad := web.URL+"/get?f=report.pdf", web.URL+"/nothing"

	ctx, progress := progressLines()
	out, err := f.Command(ctx, "remote-upload", []string{good, bad}, map[string]string{"wait": ""})
	require.Error(t, err)
	assert.Nil(t, out)
	assert.Regexp(t, `1 of 2 URL\(s\) not fetched: `+regexp.QuoteMeta(bad)+` \(Download failed: HTTP 404\)`, err.Error())

	var lines []string
	for _, line := range progress() {
		// Only when the folder was listed less than its listing interval ago.
		if !strings.Contains(line, "listing the folder to see what was stored") {
			lines = append(lines, line)
		}
	}
	want := []string{
		`^remote upload (\d+): asked 1fichier to fetch 2 URL\(s\); waiting for it`,
		`^remote upload \d+: asked at ` + zoned + `$`,
		`^remote upload \d+: 1/2: fetched ` + regexp.QuoteMeta(good) + ` as https://1fichier\.com/\?[a-z0-9]{10}$`,
		`^remote upload \d+: 2/2: couldn't fetch ` + regexp.QuoteMeta(bad) + `: Download failed: HTTP 404$`,
		`^remote upload \d+: finished at ` + zoned + `$`,
		`^remote upload \d+: stored "report.pdf" \(10 B\) from ` + regexp.QuoteMeta(good) + `$`,
		`^remote upload \d+: WARNING: the folder now has 2 files called "report.pdf"`,
	}
	require.Len(t, lines, len(want), "%q", lines)
	for i, re := range want {
		assert.Regexp(t, re, lines[i])
	}
	assert.EqualValues(t, 1, calls(srv, "remote/request.cgi"))
}

func TestParseFileLinkTakesPastedForms(t *testing.T) {
	for _, tc := range []struct{ in, link string }{
		{"https://1fichier.com/?abc123def4", "https://1fichier.com/?abc123def4"},
		{"  http://www.1fichier.com/?abc123def4&af=3141  ", "https://1fichier.com/?abc123def4"},
		{"1fichier.com/?abc123def4", "https://1fichier.com/?abc123def4"},
		{"https://1fichier.com?abc123def4", "https://1fichier.com/?abc123def4"},
		{"https://WWW.Alterupload.com/?fzrlqa5ogmx4dzbcpga6&e=1", "https://alterupload.com/?fzrlqa5ogmx4dzbcpga6"},
		{"https://abc123def4.1fichier.com/", "https://1fichier.com/?abc123def4"},
		{"https://1fichier.com/dir/AbCdEfGh", ""},
		{"https://example.com/?abc123def4", ""},
		{"https://1fichier.com/?abc", ""},
		{"https://a-4.1fichier.com/p1058755667", ""},
		{"ftp://1fichier.com/?abc123def4", ""},
		{"file.bin", ""},
	} {
		link, _, ok := parseFileLink(tc.in)
		assert.Equal(t, tc.link != "", ok, tc.in)
		assert.Equal(t, tc.link, link, tc.in)
	}
}
