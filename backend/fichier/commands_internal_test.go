package fichier

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
	srv := fichiertest.NewServer(t, fichiertest.Options())
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
	srv := fichiertest.NewServer(t, fichiertest.Options())
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
