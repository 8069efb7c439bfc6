package fichier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
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
// divides its download-URL lifetime (5 min) by it and says so in its
// X-Time-Scale answer header, and the backend must divide its own (4.5
// min, tokenLifetime) to match, or a sped-up test reuses URLs the
// emulator has long expired. The tests here show the scaled clocks
// agree, with the emulator's counters.

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
	require.Less(t, ourLife, emuLife, "the backend stops using a URL before the emulator does")
	v, f, srv, files := newScanVFS(t, n, nil)

	first := time.Now()
	scanFolder(t, v, "scan", files)
	require.Equal(t, ourLife, f.acc.tokenLife(), "the emulator's time scale reaches the download-URL clock")
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

// TestTimeScaleOfTheRealServiceIsIgnored is the control for the test
// above, and shows that no answer can speed up a remote of 1fichier
// itself: with the emulator taken for 1fichier's domain, its time scale
// header changes nothing, so the backend keeps its URLs for 4.5 real
// minutes, the third scan uses URLs the sped-up emulator expired, and
// the emulator counts a refusal for each (the backend recovers by asking
// for a new URL, so the reads still succeed). Not parallel: it points
// serviceDomain at the emulator while no other test makes an Fs.
func TestTimeScaleOfTheRealServiceIsIgnored(t *testing.T) {
	const n = 3
	emuLife := time.Duration(float64(emulator.DefaultTokenLifetime) / fichiertest.TimeScale)
	serviceDomain = "127.0.0.1"
	t.Cleanup(func() { serviceDomain = "1fichier.com" })
	v, f, srv, files := newScanVFS(t, n, nil)
	require.Contains(t, srv.APIURL, "//127.0.0.1:")

	scanFolder(t, v, "scan", files)
	done := time.Now()
	require.Equal(t, tokenLifetime, f.acc.tokenLife(), "the real service's clock")
	require.Equal(t, withMargin(userInfoPerUser), f.acc.userInfoMaxAge())
	assert.Equal(t, 1.0, storedTimeScale(f.acc.db), "nothing stored for the next process")
	time.Sleep(time.Until(done.Add(emuLife + emuLife/10)))
	scanFolder(t, v, "scan", files)
	st := srv.Stats()
	// The first refusal says "expired"; the emulator forgets expired URLs
	// whenever it gives a new one, so the others are then "unknown".
	assert.Equal(t, int64(n), st.DownloadRefusals(), "one refusal per file: %v", st.DownloadsRefused)
	assert.Positive(t, st.DownloadsRefused["expired_token"])
	assert.Equal(t, int64(2*n), st.Calls["download/get_token.cgi"], "a new URL after each refusal")
}

// userInfoBooking returns when the key's next user/info.cgi call may be
// booked, as the state keeps it.
func userInfoBooking(t *testing.T, acc *account) time.Time {
	t.Helper()
	var next time.Time
	require.NoError(t, acc.db.view(func(k *keyTx) error {
		next = k.clock(clockUserInfoUser)
		return nil
	}))
	return next
}

// TestAboutAtTimeScaleRereadsAfterTheScaledInterval: the account info is
// kept as long as 1fichier makes the next user/info.cgi call wait (5 min
// per account), scaled like the emulator's rule: About within it answers
// from the kept info, About after it calls again, and no call breaks the
// rule. The first About is the key's first call, booked at real time
// before any answer told the scale: the answer moves the booking to the
// scaled spacing.
func TestAboutAtTimeScaleRereadsAfterTheScaledInterval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ruleLife := time.Duration(float64(emulator.DefaultRates().UserInfoPerUser) / fichiertest.TimeScale)
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	require.Zero(t, srv.Stats().Total(), "About makes the key's first call")
	require.Equal(t, withMargin(userInfoPerUser), f.acc.userInfoMaxAge(), "real time before any answer")

	_, err := f.About(ctx)
	require.NoError(t, err)
	_, perUser := userInfoSpans(fichiertest.TimeScale)
	require.Equal(t, perUser, f.acc.userInfoMaxAge(), "the emulator's time scale reaches the account-info clock")
	require.Greater(t, f.acc.userInfoMaxAge(), ruleLife)
	require.Less(t, time.Until(userInfoBooking(t, f.acc)), perUser, "the real-time booking follows the scale")
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

// forgetAccount drops the process's account of f's key, as the next
// rclone process starts without it.
func forgetAccount(f *Fs) {
	accountsMu.Lock()
	defer accountsMu.Unlock()
	delete(accounts, accountID(&f.opt))
}

// TestNextProcessUsesTheStoredTimeScale: the time scale one process
// learned is the next process's from its first call: its clocks are
// scaled before it makes any (so a back-to-back About never waits a
// real-time spacing).
func TestNextProcessUsesTheStoredTimeScale(t *testing.T) {
	t.Parallel()
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	_, err := f.About(context.Background())
	require.NoError(t, err)
	assert.Equal(t, float64(fichiertest.TimeScale), storedTimeScale(f.acc.db))

	forgetAccount(f)
	before := srv.Stats().Total()
	acc := accountFor(&f.opt)
	require.NotSame(t, f.acc, acc, "a new process's account")
	assert.Equal(t, float64(fichiertest.TimeScale), acc.scale.get())
	assert.Equal(t, time.Duration(float64(tokenLifetime)/fichiertest.TimeScale), acc.tokenLife())
	_, perUser := userInfoSpans(fichiertest.TimeScale)
	assert.Equal(t, perUser, acc.userInfoMaxAge())
	assert.Equal(t, before, srv.Stats().Total(), "no call told it")
	assert.Same(t, acc, fichiertest.NewFs(t, srv, "", nil).(*Fs).acc, "the next Fs of the key uses it")
}

func TestOnlyATestServerMaySetTheTimeScale(t *testing.T) {
	for apiURL, want := range map[string]bool{
		defaultAPIURL:                     false,
		"https://API.1fichier.com:443/v1": false,
		"https://1fichier.com/v1":         false,
		"https://api.1fichier.com./v1":    false,
		"http://127.0.0.1:8080/v1":        true,
		"https://fichier.example.test/v1": true,
		"https://not1fichier.com/v1":      true,
		"::not a URL":                     false,
	} {
		assert.Equal(t, want, honoursTimeScale(apiURL), apiURL)
	}
}

// TestTimeScaleHeaderValues: a usable factor is taken (spaces around it
// too); anything else is real time.
func TestTimeScaleHeaderValues(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  float64
	}{
		{"", 1}, {"20", 20}, {"\t2.5 ", 2.5}, {"0.5", 0.5}, {"1", 1},
		{"0", 1}, {"-3", 1}, {"fast", 1}, {"NaN", 1}, {"+Inf", 1}, {"1e10", 1},
	} {
		assert.Equal(t, tc.want, parseTimeScale(tc.value), "%q", tc.value)
	}
}

// header returns an answer's header telling scale ("" for none).
func header(scale string) http.Header {
	h := http.Header{}
	if scale != "" {
		h.Set(emulator.TimeScaleHeader, scale)
	}
	return h
}

// TestTimeScaleFollowsTheLatestAnswer: a changed value replaces the old
// one, an answer without the header is real time, and the answers of
// 1fichier itself change nothing.
func TestTimeScaleFollowsTheLatestAnswer(t *testing.T) {
	s := newTimeScale("http://127.0.0.1:1/v1", 1)
	for _, step := range []struct {
		header  string
		scale   float64
		changed bool
	}{{"20", 20, true}, {"20", 20, false}, {"100", 100, true}, {"", 1, true}, {"", 1, false}, {"1", 1, false}, {"bad", 1, false}} {
		_, changed := s.learn(header(step.header))
		assert.Equal(t, step.changed, changed, "header %q", step.header)
		assert.Equal(t, step.scale, s.get(), "header %q", step.header)
	}
	assert.Equal(t, 20.0, newTimeScale("http://127.0.0.1:1/v1", 20).get(), "the stored scale")

	service := newTimeScale(defaultAPIURL, 20)
	assert.Equal(t, 1.0, service.get(), "a stored scale is ignored for 1fichier")
	_, changed := service.learn(header("20"))
	assert.False(t, changed)
	assert.Equal(t, time.Minute, service.of(time.Minute))
	var none *timeScale
	assert.Equal(t, time.Minute, none.of(time.Minute), "nil is real time")
}

// TestLearnedTimeScaleIsStoredAndMovesTheUserInfoClocks: a new scale is
// kept for the next process, and the account info's bookings counted at
// the old one move to the new spacing; the clocks already behind now
// stay.
func TestLearnedTimeScaleIsStoredAndMovesTheUserInfoClocks(t *testing.T) {
	acc := scaledAccount(t, 0)
	db := acc.db
	now := time.Now()
	ip1, user1 := userInfoSpans(1)
	ip20, user20 := userInfoSpans(20)
	past := now.Add(-time.Hour)
	require.NoError(t, db.update(func(k *keyTx) error {
		return errors.Join(k.setClock(clockUserInfoUser, now.Add(user1)), k.setHostClock(clockUserInfoIP, now.Add(ip1)),
			k.setClock(clockUserInfoUserLeft, past))
	}))

	acc.learnTimeScale(&http.Response{Header: header("20")})
	after := time.Now()
	assert.Equal(t, 20.0, storedTimeScale(sameState(db)))
	clocks := func() (user, ip, left time.Time) {
		require.NoError(t, db.view(func(k *keyTx) error {
			user, ip, left = k.clock(clockUserInfoUser), k.hostClock(clockUserInfoIP), k.clock(clockUserInfoUserLeft)
			return nil
		}))
		return user, ip, left
	}
	// One new spacing after the booking, or from the moment it moved.
	between := func(t *testing.T, from, to, got time.Time, msg string) {
		t.Helper()
		assert.False(t, got.Before(from) || got.After(to), "%s: %v not in [%v, %v]", msg, got, from, to)
	}
	user, ip, left := clocks()
	between(t, now.Add(user20), after.Add(user20), user, "the key's booking")
	between(t, now.Add(ip20), after.Add(ip20), ip, "the IP's booking")
	assert.True(t, past.Equal(left), "a clock behind now stays")

	acc.learnTimeScale(&http.Response{Header: header("")})
	assert.Equal(t, 1.0, storedTimeScale(sameState(db)), "real time again")
	user, _, _ = clocks()
	between(t, now.Add(user1), after.Add(user1), user, "back to the real spacing")
}

// scaledAccount returns an account on a fresh state of a test server,
// with stored as the scale an earlier process stored (0 for none).
func scaledAccount(t *testing.T, stored float64) *account {
	t.Helper()
	const apiURL = "http://127.0.0.1:1/v1"
	db := openState(t.TempDir(), apiURL, testKey)
	if stored != 0 {
		require.NoError(t, db.update(func(k *keyTx) error { return k.setTimeScale(stored) }))
	}
	acc := &account{db: db, limits: newLimits(db, 2, time.Minute, 30*time.Second), scale: newTimeScale(apiURL, storedTimeScale(db))}
	acc.limits.scale = acc.scale
	return acc
}

// TestOwnBookingMovesWhenAnotherProcessStoredTheScale: a process that
// started before any scale was stored books the account info at real
// time; another process stores the scale before this one's answer
// comes. The booking still moves to the server's spacing, instead of
// holding every later account info call for real-time minutes (the
// explorer's W).
func TestOwnBookingMovesWhenAnotherProcessStoredTheScale(t *testing.T) {
	acc, before := bookedAccountInfo(t)
	require.NoError(t, acc.db.update(func(k *keyTx) error { return k.setTimeScale(20) }), "another process learnt the scale")
	acc.learnTimeScale(&http.Response{Header: header("20")})
	assertOneSpacingAfter(t, acc, before, 20)
}

// TestOwnBookingMovesAtEachChangeOfScale: a process's booking moved to
// a new scale is counted at that scale, so the next change (the server
// back at real time) moves it again, from there.
func TestOwnBookingMovesAtEachChangeOfScale(t *testing.T) {
	acc, before := bookedAccountInfo(t)
	acc.learnTimeScale(&http.Response{Header: header("20")})
	acc.learnTimeScale(&http.Response{Header: header("")})
	assertOneSpacingAfter(t, acc, before, 1)
}

// bookedAccountInfo returns an account, at real time as far as it
// knows, that booked an account info call just after the time returned.
func bookedAccountInfo(t *testing.T) (*account, time.Time) {
	acc := scaledAccount(t, 0)
	before := time.Now()
	release, err := acc.limits.waitUserInfo(context.Background())
	require.NoError(t, err)
	require.NotNil(t, release)
	return acc, before
}

// assertOneSpacingAfter checks that acc's account info clock is one
// per-user spacing at scale after a booking made between before and now.
func assertOneSpacingAfter(t *testing.T, acc *account, before time.Time, scale float64) {
	t.Helper()
	after := time.Now()
	_, spacing := userInfoSpans(scale)
	var user time.Time
	require.NoError(t, acc.db.view(func(k *keyTx) error {
		user = k.clock(clockUserInfoUser)
		return nil
	}))
	assert.False(t, user.Before(before.Add(spacing)) || user.After(after.Add(spacing)),
		"one spacing at scale %g after the booking (%v to %v): %v", scale, before.Add(spacing), after.Add(spacing), user)
}

// TestTimeScaleOutlivesALostState: the scale is kept beside the state
// too, so a process after a lost state (deleted, or removed by a process
// that went private on a full disk; the explorer's seed 8) counts the
// test server's clocks at its scale before its first answer, instead of
// waiting a lost state's 5 minutes of account info at real time. Each
// key has its own, and real time leaves none.
func TestTimeScaleOutlivesALostState(t *testing.T) {
	acc := scaledAccount(t, 0)
	acc.learnTimeScale(&http.Response{Header: header("20")})
	require.NoError(t, os.Remove(acc.db.path), "the state is lost")
	assert.Equal(t, 20.0, storedTimeScale(sameState(acc.db)))
	other := openState(filepath.Dir(acc.db.path), "http://127.0.0.1:1/v1", "another key")
	assert.Equal(t, 1.0, storedTimeScale(other), "another key's server may be another one on the same port")

	acc.learnTimeScale(&http.Response{Header: header("")})
	require.NoError(t, os.Remove(acc.db.path))
	assert.Equal(t, 1.0, storedTimeScale(sameState(acc.db)), "real time again")
}

func TestRescaledClockNeverComesNearerThanTheNewSpacing(t *testing.T) {
	now := time.Now()
	// Counted at the old spacing: one new spacing after its booking.
	assert.Equal(t, now.Add(10*time.Second), rescaledClock(now.Add(time.Minute), now, time.Minute, 10*time.Second))
	// Booked earlier: still one new spacing from now, as it can't be told
	// from a clock counted at the new spacing.
	booked := now.Add(-5 * time.Second)
	assert.Equal(t, now.Add(10*time.Second), rescaledClock(booked.Add(time.Minute), now, time.Minute, 10*time.Second))
	// Counted at the new spacing already (another key of the server's):
	// kept.
	assert.Equal(t, now.Add(8*time.Second), rescaledClock(now.Add(8*time.Second), now, time.Minute, 10*time.Second))
	// Slowed down: one new spacing after its booking.
	assert.Equal(t, now.Add(time.Minute), rescaledClock(now.Add(10*time.Second), now, 10*time.Second, time.Minute))
}

// TestConfigWithTheOldTimeScaleOptionStillWorks: time_scale was an
// option; a config that still sets it makes a working remote (rclone
// ignores keys a backend does not declare), and the value is unused.
func TestConfigWithTheOldTimeScaleOptionStillWorks(t *testing.T) {
	t.Parallel()
	f, srv := newTestFs(t, fichiertest.Options(), "", map[string]string{"time_scale": "7"})
	_, err := f.About(context.Background())
	require.NoError(t, err)
	assert.Equal(t, float64(fichiertest.TimeScale), f.acc.scale.get(), "the emulator's scale, not the config's")
	assert.Equal(t, int64(1), calls(srv, "user/info.cgi"))
}
