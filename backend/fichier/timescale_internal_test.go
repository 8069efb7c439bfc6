package fichier

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"testing"
	"time"

	"github.com/rclone/rclone/vfs"
	"github.com/rclone/rclone/vfs/vfscommon"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
)

// The tests run 1fichier's clocks TimeScale times faster: the emulator
// divides its download-URL lifetime (5 min) by it, and the backend's
// time_scale must divide its own (4.5 min, tokenLifetime) to match, or a
// sped-up test reuses URLs the emulator has long expired. The tests here
// show the scaled clocks agree, with the emulator's counters.

// scanFolder reads every file of dir through v as a mount does (list,
// open, read to the end, close) and checks each against want.
func scanFolder(t *testing.T, v *vfs.VFS, dir string, want map[string]string) {
	t.Helper()
	entries, err := v.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, len(want))
	for _, e := range entries {
		h, err := v.OpenFile(path.Join(dir, e.Name()), os.O_RDONLY, 0)
		require.NoError(t, err)
		got, err := io.ReadAll(h)
		require.NoError(t, err)
		require.NoError(t, h.Close())
		assert.Equal(t, want[e.Name()], string(got), e.Name())
	}
}

// newScanVFS returns srv's Fs seen as rclone mount sees it with no cache,
// and a folder of n small files in it.
func newScanVFS(t *testing.T, n int, extra map[string]string) (*vfs.VFS, *Fs, *emulator.TestServer, map[string]string) {
	t.Helper()
	f, srv := newTestFs(t, fichiertest.Options(), "", extra)
	dir, err := srv.Mkdir(srv.Key, 0, "scan")
	require.NoError(t, err)
	files := make(map[string]string, n)
	for i := range n {
		name := fmt.Sprintf("f%02d.txt", i)
		files[name] = fmt.Sprintf("content of file %d", i)
		_, err := srv.PutFile(srv.Key, dir, name, []byte(files[name]))
		require.NoError(t, err)
	}
	opt := vfscommon.Opt
	opt.CacheMode = vfscommon.CacheModeOff
	v := vfs.New(context.Background(), f, &opt)
	t.Cleanup(v.Shutdown)
	return v, f, srv, files
}

// TestScanAfterURLLifetimeRenewsEveryURL scans a folder as a mount does,
// again at once, then again once the emulator has expired every URL of
// the first scan: the second scan reuses each file's URL, the third
// renews each before use, and the download host refuses nothing.
func TestScanAfterURLLifetimeRenewsEveryURL(t *testing.T) {
	t.Parallel()
	const n = 5
	emuLife := time.Duration(float64(emulator.DefaultTokenLifetime) / fichiertest.TimeScale)
	ourLife := time.Duration(float64(tokenLifetime) / fichiertest.TimeScale)
	v, f, srv, files := newScanVFS(t, n, nil)
	require.Equal(t, ourLife, f.acc.tokenLife, "time_scale reaches the download-URL clock")
	require.Less(t, ourLife, emuLife, "the backend stops using a URL before the emulator does")

	first := time.Now()
	scanFolder(t, v, "scan", files)
	assert.Equal(t, int64(n), calls(srv, "download/get_token.cgi"), "one URL per file")
	scanFolder(t, v, "scan", files)
	firstDone := time.Now()
	require.Less(t, firstDone.Sub(first), ourLife, "the second scan ended within the URLs' lifetime (a very slow machine?)")
	assert.Equal(t, int64(n), calls(srv, "download/get_token.cgi"), "a URL is reused within its lifetime")

	// Every URL of the first scan was fetched before firstDone.
	time.Sleep(time.Until(firstDone.Add(emuLife + emuLife/10)))
	scanFolder(t, v, "scan", files)
	st := srv.Stats()
	assert.Equal(t, int64(2*n), st.Calls["download/get_token.cgi"], "each URL renewed once, before use")
	assert.Equal(t, int64(3*n), st.Calls["download"], "one download per file and scan")
	assert.Zero(t, st.DownloadRefusals(), "refused downloads: %v", st.DownloadsRefused)
	assert.Zero(t, st.FloodLocks)
}

// TestScanWithUnscaledURLClockMeetsRefusals is the control for the test
// above: with time_scale left at 1 the backend keeps its URLs for 4.5 real
// minutes, so the third scan uses URLs the sped-up emulator expired, and
// the emulator counts a refusal for each (the backend recovers by asking
// for a new URL, so the reads still succeed).
func TestScanWithUnscaledURLClockMeetsRefusals(t *testing.T) {
	t.Parallel()
	const n = 3
	emuLife := time.Duration(float64(emulator.DefaultTokenLifetime) / fichiertest.TimeScale)
	v, f, srv, files := newScanVFS(t, n, map[string]string{"time_scale": "1"})
	require.Equal(t, tokenLifetime, f.acc.tokenLife)

	scanFolder(t, v, "scan", files)
	done := time.Now()
	time.Sleep(time.Until(done.Add(emuLife + emuLife/10)))
	scanFolder(t, v, "scan", files)
	st := srv.Stats()
	// The first refusal says "expired"; the emulator forgets expired URLs
	// whenever it gives a new one, so the others are then "unknown".
	assert.Equal(t, int64(n), st.DownloadRefusals(), "one refusal per file: %v", st.DownloadsRefused)
	assert.Positive(t, st.DownloadsRefused["expired_token"])
	assert.Equal(t, int64(2*n), st.Calls["download/get_token.cgi"], "a new URL after each refusal")
}

// TestAboutAtTimeScaleRereadsAfterTheScaledInterval: the account info is
// kept as long as 1fichier makes the next user/info.cgi call wait (5 min
// per account), scaled like the emulator's rule: About within it answers
// from the kept info, About after it calls again, and no call breaks the
// rule.
func TestAboutAtTimeScaleRereadsAfterTheScaledInterval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ruleLife := time.Duration(float64(emulator.DefaultRates().UserInfoPerUser) / fichiertest.TimeScale)
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	require.Equal(t, withMargin(scaled(userInfoPerUser, fichiertest.TimeScale)), f.acc.userInfoMaxAge(), "time_scale reaches the account-info clock")
	require.Greater(t, f.acc.userInfoMaxAge(), ruleLife)

	_, err := f.About(ctx)
	require.NoError(t, err)
	start := time.Now()
	_, err = f.About(ctx)
	require.NoError(t, err)
	require.Less(t, time.Since(start), ruleLife)
	assert.Equal(t, int64(1), calls(srv, "user/info.cgi"), "the second About answers from the kept info")

	time.Sleep(time.Until(start.Add(f.acc.userInfoMaxAge() + ruleLife/10)))
	_, err = f.About(ctx)
	require.NoError(t, err)
	st := srv.Stats()
	assert.Equal(t, int64(2), st.Calls["user/info.cgi"], "read again once the kept info is older than the rule")
	assert.Empty(t, st.BrokenRules)
	assert.Zero(t, st.FloodLocks)
}
