package fichier

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/rclone/rclone/fs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testKey = "0123456789abcdefghijKLMNOPQRSTUV"

// newTestState returns the state of testKey in a directory of its own.
func newTestState(t *testing.T) *stateDB {
	t.Helper()
	return openState(t.TempDir(), "https://api.example.test/v1", testKey)
}

// sameState returns another handle on the file of db, as a second
// process would open it.
func sameState(db *stateDB) *stateDB {
	return &stateDB{path: db.path, seen: db.seen, scale: db.scale, key: db.key}
}

func TestFloodWaitHonoursCancel(t *testing.T) {
	l := newLimits(newTestState(t), 100, time.Hour, time.Second)
	l.flood("Flood detected: IP Locked #374")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, l.wait(ctx), context.Canceled)
}

func TestFloodWaitEscalates(t *testing.T) {
	db := newTestState(t)
	l := newLimits(db, 100, time.Minute, time.Second)
	first := l.flood("Flood detected: IP Locked #374")
	assert.Equal(t, time.Minute, first)
	state, err := l.floodState()
	require.NoError(t, err)
	assert.Equal(t, 2, state.Slowdown, "a lock also spaces calls twice as far apart")
	// An answer from a call already in flight does not extend the lock.
	assert.LessOrEqual(t, l.flood("Flood detected: IP Locked #374"), time.Minute)
	// A new lock right after this one ends doubles the wait.
	require.NoError(t, db.update(func(k *keyTx) error {
		state.LockedUntil = time.Now()
		return putJSON(k.bucket(bucketClocks), clockFlood, &state)
	}))
	assert.Equal(t, 2*time.Minute, l.flood("Flood detected: User Locked #223"))
	state, err = l.floodState()
	require.NoError(t, err)
	assert.Equal(t, 4, state.Slowdown)
}

// A later rclone process, or one running beside, must respect the
// listing clocks, the flood lock and the call schedule of the other:
// 1fichier's rules do not restart with rclone.
func TestLimitsAreSharedBetweenProcesses(t *testing.T) {
	_, first, next := twoProcesses(t, 10)
	ctx := context.Background()

	require.NoError(t, second(first.waitList(ctx, 42)))
	assert.False(t, next.listSlotOpen(42), "folder 42 was just listed by the other process")
	assert.True(t, next.listSlotOpen(7), "other folders are free")
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, second(next.waitList(short, 42)), context.DeadlineExceeded)

	// One schedule of calls: the two processes' calls are a call
	// interval (and departSlack) apart, whoever books.
	a, err := first.bookCall()
	require.NoError(t, err)
	b, err := next.bookCall()
	require.NoError(t, err)
	c, err := first.bookCall()
	require.NoError(t, err)
	step := 100*time.Millisecond + departSlack(100*time.Millisecond)
	assert.Equal(t, step, b.Sub(a))
	assert.Equal(t, step, c.Sub(b))

	first.flood("Flood detected: IP Locked #374")
	assert.Greater(t, next.lockRemaining(), 59*time.Minute, "the flood lock holds the other process too")
	at, err := next.bookCall()
	require.NoError(t, err)
	assert.Greater(t, time.Until(at), 59*time.Minute, "no call is booked inside the lock")
}

func TestRemotesOfOneKeyTakeTheMostCarefulLimits(t *testing.T) {
	l := newLimits(newTestState(t), 2, time.Minute, 30*time.Second)
	changed := l.tighten(3, time.Hour, 10*time.Second)
	assert.Equal(t, []string{"flood_wait 1h0m0s"}, changed)
	changed = l.tighten(1, time.Minute, time.Minute)
	assert.Equal(t, []string{"api_rate 1", "list_interval 1m0s"}, changed)
	interval, floodWait, listInterval := l.settings()
	assert.Equal(t, time.Second, interval)
	assert.Equal(t, time.Hour, floodWait)
	assert.Equal(t, withMargin(time.Minute), listInterval)
	assert.Empty(t, l.tighten(2, time.Minute, 30*time.Second), "less careful settings change nothing")
}

func TestUserInfoSlotIsGivenBackForABadKey(t *testing.T) {
	l := newLimits(newTestState(t), 10, time.Hour, time.Minute)
	release, err := l.waitUserInfo(context.Background())
	require.NoError(t, err)
	release()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = l.waitUserInfo(ctx)
	require.NoError(t, err, "a released slot is free at once")
	_, err = l.waitUserInfo(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a used slot closes user/info for a minute")
}

func TestCorruptStateFileIsReplaced(t *testing.T) {
	db := newTestState(t)
	l := newLimits(db, 10, time.Hour, time.Minute)
	require.NoError(t, second(l.waitList(context.Background(), 1)))
	for _, junk := range [][]byte{[]byte("not a database"), bytes.Repeat([]byte{0xff}, 64<<10)} {
		_ = os.Remove(db.path + ".corrupt")
		require.NoError(t, os.WriteFile(db.path, junk, 0o600))
		_, err := l.bookCall()
		require.NoError(t, err, "a damaged file is replaced, not an error")
		assert.False(t, l.listSlotOpen(1), "the clocks went with the damaged file: the folder waits one interval")
		assert.False(t, l.listSlotOpen(2), "so does every other folder")
		assert.FileExists(t, db.path+".corrupt", "the damaged file is kept aside")
	}
}

func TestTornStateFileIsReplaced(t *testing.T) {
	db := newTestState(t)
	c := newListCache(db)
	for i := range 100 {
		c.setEmpty(i)
	}
	data, err := os.ReadFile(db.path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(db.path, data[:len(data)/3], 0o600))
	c2 := newListCache(sameState(db))
	assert.Nil(t, c2.stored(5), "nothing is read from a torn file")
	c2.setEmpty(5)
	assert.NotNil(t, c2.stored(5), "and the new file works")
}

func TestStateFilesArePrivateAndHoldNoKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fichier")
	db := openState(dir, "https://api.example.test/v1", testKey)
	acc := &account{db: db, limits: newLimits(db, 10, time.Hour, time.Minute), listings: newListCache(db)}
	acc.setUserInfo(&api.UserInfo{Email: "you@example.com"})
	acc.setToken("https://1fichier.com/?abc", "https://dl.example/tok", time.Now().Add(time.Minute))
	acc.listings.setEmpty(3)

	assert.NotContains(t, db.path, testKey)
	data, err := os.ReadFile(db.path)
	require.NoError(t, err)
	assert.NotContains(t, string(data), testKey)
	if runtime.GOOS != "windows" {
		info, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), info.Mode().Perm())
		info, err = os.Stat(db.path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	}
}

// Two processes changing one folder both keep their changes, even when
// one of them stores a listing fetched before the other's change.
func TestConcurrentChangesToOneFolderAreKept(t *testing.T) {
	db := newTestState(t)
	a, b := newListCache(db), newListCache(sameState(db))
	old := api.File{URL: "https://1fichier.com/?old", Filename: "old.txt"}
	a.store(9, &folderListing{fetched: time.Now(), files: []api.File{old}})

	// a fetches the folder; while the answer is on its way, b uploads a
	// file and deletes another, and a then stores what it fetched.
	fetchedAt := time.Now()
	time.Sleep(time.Millisecond)
	b.addFile(9, api.File{URL: "https://1fichier.com/?new", Filename: "new.txt"})
	b.removeFile(9, old.URL)
	a.addFile(9, api.File{URL: "https://1fichier.com/?mine", Filename: "mine.txt"})
	merged := a.store(9, &folderListing{fetched: fetchedAt, files: []api.File{old}})

	assert.Equal(t, []string{"new.txt", "mine.txt"}, fileNames(merged), "b's upload is kept and its delete holds")
	assert.Equal(t, fileNames(merged), fileNames(b.stored(9)), "both processes see the same listing")
}

func TestListingKeepsUploadOrder(t *testing.T) {
	c := newListCache(newTestState(t))
	c.store(1, &folderListing{fetched: time.Now(), files: []api.File{{URL: "u3", Filename: "c"}, {URL: "u1", Filename: "a"}}})
	c.addFile(1, api.File{URL: "u0", Filename: "b"})
	c.addFile(1, api.File{URL: "u2", Filename: "b"})
	assert.Equal(t, []string{"c", "a", "b", "b"}, fileNames(c.stored(1)))
	assert.Equal(t, "u2", c.stored(1).files[3].URL, "the later upload stays last")
}

func fileNames(l *folderListing) []string {
	var names []string
	for _, f := range l.files {
		names = append(names, f.Filename)
	}
	return names
}

func TestPruneDropsExpiredEntries(t *testing.T) {
	db := newTestState(t)
	c := newListCache(db)
	c.store(1, &folderListing{fetched: time.Now().Add(-time.Hour), files: []api.File{{URL: "u1"}}})
	c.store(2, &folderListing{fetched: time.Now(), files: []api.File{{URL: "u2"}}})
	acc := &account{db: db, listings: c}
	acc.setToken("u2", "https://dl/expired", time.Now().Add(-time.Second))
	c.prune(10 * time.Minute)
	assert.Nil(t, newListCache(db).stored(1), "a listing older than the cache time is gone")
	assert.NotNil(t, newListCache(db).stored(2))
	_, ok := acc.token("u2")
	assert.False(t, ok)
	require.NoError(t, db.view(func(k *keyTx) error {
		assert.NoError(t, k.bucket(bucketTokens).ForEach(func(key, _ []byte) error {
			return fmt.Errorf("an expired download URL is left: %s", key)
		}))
		return nil
	}))
}

// TestDroppedListingsKeepOurRecentChanges: a stored listing dropped by
// pruning (older than the cache time), by a private copy of the state
// (a full disk: the listings may lack what other processes could not
// write) or to be fetched again (relist: a remote upload or imported
// links stored files we do not know) goes, but not the files our own
// changes put into the folder lately: the next listing may not show
// them yet (listings lag), and a process that then found the folder
// without them would upload them again. The explorer's AA (seed 20): a
// clock set back made a folder's listing look an hour old just after
// two files were uploaded into it, the pruning pass that followed
// dropped them, and a sync stored them twice. A folder that no longer
// exists (forgetFolder) keeps nothing.
func TestDroppedListingsKeepOurRecentChanges(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fetched time.Duration // how long before now the listing was fetched
		drop    func(t *testing.T, c *listCache)
		kept    bool
	}{
		{"pruned", time.Hour, func(t *testing.T, c *listCache) { c.prune(10 * time.Minute) }, true},
		{"private copy", 0, func(t *testing.T, c *listCache) {
			require.NoError(t, c.db.update(func(k *keyTx) error {
				return dropAllListings(k.tx, time.Now().Add(-goneMemory))
			}))
		}, true},
		{"relist", 0, func(t *testing.T, c *listCache) { c.relist(1) }, true},
		{"folder gone", 0, func(t *testing.T, c *listCache) { c.forgetFolder(1) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := newTestState(t)
			c := newListCache(db)
			c.store(1, &folderListing{fetched: time.Now().Add(-tc.fetched), files: []api.File{{URL: "listed", Filename: "a"}}})
			c.addFile(1, api.File{URL: "new", Filename: "b"})
			tc.drop(t, c)

			next := newListCache(sameState(db))
			assert.Nil(t, next.stored(1), "the listing is gone")
			next.lag = time.Minute
			lagging := next.store(1, &folderListing{fetched: time.Now()})
			if !tc.kept {
				assert.Empty(t, lagging.files)
				return
			}
			require.Len(t, lagging.files, 1, "the listing does not show the upload yet: our record of it does")
			assert.Equal(t, "new", lagging.files[0].URL)
		})
	}
}

// The state of a large account stays small: 10,000 folders, each with
// its listing clock and a subfolder, and with files or without.
func TestStateForTenThousandFoldersIsSmall(t *testing.T) {
	for _, tc := range []struct {
		files int
		limit int64
	}{{0, 4 << 20}, {2, 12 << 20}} {
		size := stateSize(t, 10000, tc.files)
		t.Logf("state for 10,000 folders with %d files each: %.1f MB in use", tc.files, float64(size)/1e6)
		assert.Less(t, size, tc.limit)
	}
}

// stateSize stores folders listings of files files each and returns the
// bytes the state file uses.
func stateSize(t *testing.T, folders, files int) (size int64) {
	db := newTestState(t)
	require.NoError(t, db.update(func(k *keyTx) error {
		for id := range folders {
			stored := map[string]storedFile{}
			for j := range files {
				u := fmt.Sprintf("https://1fichier.com/?%010d", id*files+j)
				stored[u] = toStoredFile(api.File{URL: u, Filename: fmt.Sprintf("file%d.bin", j), Size: 1234, Date: "2026-11-29 10:00:00",
					Checksum: strings.Repeat("ab", 64), ContentType: "application/octet-stream"}, time.Time{}, int64(j))
			}
			dirs := map[int]storedDir{id + 100000: toStoredDir(api.SubFolder{ID: id + 100000, Name: "sub", CreateDate: "2026-11-29 10:00:00"}, time.Time{}, 0)}
			if err := writeEntries(k, id, stored, dirs); err != nil {
				return err
			}
			if err := putJSON(k.bucket(bucketMeta), idKey(id), &listingMeta{Fetched: time.Now()}); err != nil {
				return err
			}
			if err := putTime(k.bucket(bucketListClock), idKey(id), time.Now()); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, db.view(func(k *keyTx) error {
		size = k.tx.Size()
		return nil
	}))
	return size
}

// A command run right after another takes the listings it stored
// instead of waiting for the folders' slots, and sees its changes; once
// a slot reopens, the folder is fetched fresh and shows what changed
// behind rclone's back.
func TestNextProcessReusesListingsUntilTheSlotReopens(t *testing.T) {
	ctx := context.Background()
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "dir", nil)
	require.NoError(t, f.Mkdir(ctx, ""))
	put(t, f, "a.txt", "first")

	forgetAccounts()
	srv.ResetStats()
	f = fichiertest.NewFs(t, srv, "dir", nil)
	entries, err := f.List(ctx, "")
	require.NoError(t, err)
	assert.Len(t, entries, 1, "the other process's upload is in the stored listing")
	assert.Zero(t, srv.Stats().Total(), "no listing inside the slots")

	// A file added straight on the server is not seen until the slot
	// reopens, and then it is.
	dir := folderOf(t, f, "")
	_, err = srv.PutFile(srv.Key, int64(dir), "b.txt", []byte("behind rclone's back"))
	require.NoError(t, err)
	time.Sleep(listSlot())
	forgetAccounts()
	f = fichiertest.NewFs(t, srv, "dir", nil)
	entries, err = f.List(ctx, "")
	require.NoError(t, err)
	assert.Len(t, entries, 2)
	assert.Zero(t, srv.Stats().FloodLocks)
}

func TestListCacheTimeZeroAlwaysLists(t *testing.T) {
	ctx := context.Background()
	srv := emulator.NewTestServer(t, fichiertest.Options())
	extra := map[string]string{"list_cache_time": "0"}
	f := fichiertest.NewFs(t, srv, "", extra)
	_, err := f.List(ctx, "")
	require.NoError(t, err)
	forgetAccounts()
	f = fichiertest.NewFs(t, srv, "", extra)
	_, err = f.List(ctx, "")
	require.NoError(t, err)
	stats := srv.Stats()
	assert.Equal(t, int64(2), stats.Calls["folder/ls.cgi"], "the second process lists the root afresh, waiting for its slot")
	assert.Zero(t, stats.FloodLocks)
}

func TestAboutIsSharedBetweenProcesses(t *testing.T) {
	ctx := context.Background()
	srv := emulator.NewTestServer(t, fichiertest.Options())
	for range 3 {
		forgetAccounts()
		f := fichiertest.NewFs(t, srv, "", nil)
		_, err := f.Features().About(ctx)
		require.NoError(t, err)
	}
	stats := srv.Stats()
	assert.Equal(t, int64(1), stats.Calls["user/info.cgi"])
	assert.Zero(t, stats.FloodLocks)
}

func TestForgetCommandDropsStoredListings(t *testing.T) {
	ctx := context.Background()
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "", nil)
	_, err := f.List(ctx, "")
	require.NoError(t, err)
	_, err = f.Features().About(ctx)
	require.NoError(t, err)
	out, err := f.Features().Command(ctx, "forget", nil, nil)
	require.NoError(t, err)
	assert.Contains(t, out, "forgot listings")

	acc := f.(*Fs).acc
	assert.Nil(t, acc.listings.stored(0))
	_, ok := acc.cachedUserInfo(time.Hour)
	assert.False(t, ok)
	assert.False(t, acc.limits.listSlotOpen(0), "the listing clocks are kept")

	_, err = f.Features().Command(ctx, "forget", nil, map[string]string{"clocks": ""})
	require.NoError(t, err)
	assert.True(t, acc.limits.listSlotOpen(0), "-o clocks drops the clocks too")
}

// folderOf returns the API folder ID of dir in f.
func folderOf(t *testing.T, f fs.Fs, dir string) int {
	t.Helper()
	id, err := f.(*Fs).folderOf(context.Background(), dir, false)
	require.NoError(t, err)
	return id
}

// BenchmarkBookCall measures what one API call's bookkeeping costs: a
// write transaction on the shared state file.
func BenchmarkBookCall(b *testing.B) {
	db := openState(b.TempDir(), "https://api.example.test/v1", testKey)
	l := newLimits(db, 1e9, time.Minute, time.Second)
	for b.Loop() {
		if _, err := l.bookCall(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStoredListing measures reading a stored listing of 1,000
// files that this process has already decoded.
func BenchmarkStoredListing(b *testing.B) {
	c := newListCache(openState(b.TempDir(), "https://api.example.test/v1", testKey))
	l := &folderListing{fetched: time.Now()}
	for i := range 1000 {
		l.files = append(l.files, api.File{URL: fmt.Sprintf("u%d", i), Filename: fmt.Sprintf("f%d", i)})
	}
	c.store(1, l)
	for b.Loop() {
		if c.stored(1) == nil {
			b.Fatal("no listing")
		}
	}
}

// Two processes making one folder at once: the one whose mkdir 1fichier
// refuses ("Folder already exists") takes the other's folder instead of
// failing the copy.
func TestMkdirOfAFolderMadeMeanwhileAdoptsIt(t *testing.T) {
	ctx := context.Background()
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "", nil)
	_, err := f.List(ctx, "")
	require.NoError(t, err)
	// Made by the other process after this one's listing was stored.
	id, err := srv.Mkdir(srv.Key, 0, "busy")
	require.NoError(t, err)
	require.NoError(t, f.Mkdir(ctx, "busy"))
	assert.Equal(t, int(id), folderOf(t, f, "busy"))
	put(t, f, "busy/a.txt", "into the adopted folder")
	stats := srv.Stats()
	assert.Equal(t, int64(1), stats.Calls["folder/mkdir.cgi"])
	assert.Zero(t, stats.FloodLocks)
}

func TestUpdateStoresWhatChanged(t *testing.T) {
	c := newListCache(newTestState(t))
	c.store(1, &folderListing{fetched: time.Now(),
		files: []api.File{{URL: "u1", Filename: "a"}, {URL: "u2", Filename: "b"}, {URL: "u3", Filename: "c"}}})
	c.update(1, func(l *folderListing) {
		l.files[0].Pass = 1
		l.files = l.files[:2]
	})
	l := newListCache(c.db).stored(1)
	require.NotNil(t, l)
	require.Len(t, l.files, 2, "c was removed")
	byURL := map[string]api.File{}
	for _, f := range l.files {
		byURL[f.URL] = f
	}
	assert.EqualValues(t, 1, byURL["u1"].Pass, "a's change is stored")
	assert.EqualValues(t, 0, byURL["u2"].Pass)
	c.update(1, func(l *folderListing) { l.files = nil })
	assert.Empty(t, newListCache(c.db).stored(1).files, "a purge empties the listing")
}

func TestFileChangesListsOnlyWhatDiffers(t *testing.T) {
	before := []api.File{{URL: "u1", Filename: "a"}, {URL: "u2", Filename: "b"}, {URL: "u3", Filename: "c"}}
	after := []api.File{{URL: "u1", Filename: "a"}, {URL: "u2", Filename: "b", Pass: 1}, {URL: "u4", Filename: "d"}}
	changed, gone := fileChanges(before, after)
	assert.Equal(t, []api.File{after[1], after[2]}, changed, "b changed, d is new, a is untouched")
	assert.Equal(t, []string{"u3"}, gone)
	changed, gone = fileChanges(before, before)
	assert.Empty(t, changed)
	assert.Empty(t, gone)
}

// largeState writes a state of n stored files, in folders of 5000 with
// their listings, as a large account leaves behind.
func largeState(b *testing.B, n int) *stateDB {
	b.Helper()
	db := openState(b.TempDir(), "https://api.example.test/v1", testKey)
	const perFolder = 5000
	for start := 0; start < n; start += 50000 {
		require.NoError(b, db.update(func(k *keyTx) error {
			for i := start; i < min(start+50000, n); i++ {
				folder := i / perFolder
				f := toStoredFile(api.File{URL: fmt.Sprintf("https://1fichier.com/?f%07d", i), Filename: fmt.Sprintf("file%07d.bin", i),
					Size: 1000, Checksum: strings.Repeat("ab", 64)}, time.Time{}, int64(i))
				if err := putJSON(k.bucket(bucketFiles), fileKey(folder, f.URL), &f); err != nil {
					return err
				}
				if i%perFolder == 0 {
					if err := putJSON(k.bucket(bucketMeta), idKey(folder), &listingMeta{Fetched: time.Now(), Version: 1}); err != nil {
						return err
					}
				}
			}
			return nil
		}))
	}
	return db
}

// BenchmarkProcessStart measures what a new rclone process pays for the
// shared state before its first API call, with an empty state and with
// a million stored files: opening the account (which starts pruning in
// the background a second later), reading a stored listing and booking
// the first call.
func BenchmarkProcessStart(b *testing.B) {
	for _, n := range []int{0, 1000000} {
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			db := largeState(b, n)
			for b.Loop() {
				other := sameState(db)
				c := newListCache(other)
				c.startPruning(defaultListCacheTime)
				_ = c.stored(1)
				if _, err := newLimits(other, 1e9, time.Minute, time.Second).bookCall(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPrunePass measures a whole pruning pass over a million stored
// files, which process start used to run under the lock.
func BenchmarkPrunePass(b *testing.B) {
	db := largeState(b, 1000000)
	c := newListCache(db)
	for b.Loop() {
		c.prune(defaultListCacheTime)
	}
}

// TestOwnSinceTellsOurEntriesByTheirKey: an entry is ours when it
// carries the "a" key of a recent time; a listed file whose name spells
// that key is not.
func TestOwnSinceTellsOurEntriesByTheirKey(t *testing.T) {
	now := time.Now()
	encode := func(f storedFile) []byte {
		v, err := json.Marshal(f)
		require.NoError(t, err)
		return v
	}
	listed := encode(toStoredFile(api.File{URL: "u", Filename: `x"a":"` + now.Format(time.RFC3339Nano)}, time.Time{}, 0))
	assert.False(t, ownSince(listed, now.Add(-time.Hour)), "a listed file, whatever its name")
	ours := encode(toStoredFile(api.File{URL: "u", Filename: "b"}, now, 0))
	assert.True(t, ownSince(ours, now.Add(-time.Minute)))
	assert.False(t, ownSince(ours, now.Add(time.Minute)), "added before since")
}

// BenchmarkPruneOldListings measures the pruning step that holds the
// state's lock longest: one transaction dropping pruneListingStep
// listings of 5,000 files each, all older than the cache time, whose
// entries it reads to keep what our own changes added lately.
func BenchmarkPruneOldListings(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		db := largeState(b, pruneListingStep*5000)
		require.NoError(b, db.update(func(k *keyTx) error {
			for folder := range pruneListingStep {
				if err := k.setListingMeta(folder, listingMeta{Fetched: time.Now().Add(-time.Hour)}); err != nil {
					return err
				}
			}
			return nil
		}))
		b.StartTimer()
		rule := pruneRule{listedBefore: time.Now().Add(-defaultListCacheTime), goneBefore: time.Now().Add(-goneMemory)}
		require.NoError(b, db.pruneBucket(bucketMeta, pruneListingStep, rule.oldListing))
		b.StopTimer()
		require.Nil(b, newListCache(db).stored(0), "the listings went")
		b.StartTimer()
	}
}

// A fresh listing that lacks a file this machine uploaded moments before
// keeps it (1fichier's listings lag behind uploads); a listing made well
// after the upload decides.
func TestListingKeepsOurRecentUploads(t *testing.T) {
	c := newListCache(newTestState(t))
	c.lag = time.Minute
	c.store(1, &folderListing{fetched: time.Now()})
	c.addFile(1, api.File{URL: "u-new", Filename: "new.bin"})
	l := c.store(1, &folderListing{fetched: time.Now()})
	require.Len(t, l.files, 1, "the upload is kept although the listing lacks it")
	l = c.store(1, &folderListing{fetched: time.Now().Add(2 * time.Minute)})
	assert.Empty(t, l.files, "a listing made past the lag decides")
}

// twoProcesses returns a state and the budgets of two processes sharing
// it, at callsPerSecond, an hour's flood wait and a minute between
// listings.
func twoProcesses(t *testing.T, callsPerSecond float64) (db *stateDB, first, next *limits) {
	t.Helper()
	db = newTestState(t)
	return db, newLimits(db, callsPerSecond, time.Hour, time.Minute), newLimits(sameState(db), callsPerSecond, time.Hour, time.Minute)
}
