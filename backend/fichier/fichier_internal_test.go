package fichier

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/config/obscure"
	"github.com/rclone/rclone/fs/fserrors"
	"github.com/rclone/rclone/fs/hash"
	"github.com/rclone/rclone/fs/object"
	"github.com/rclone/rclone/fs/operations"
	fssync "github.com/rclone/rclone/fs/sync"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "github.com/rclone/rclone/backend/memory"
)

// newTestFs starts an emulator (rules on, sped up) and returns it with a
// fichier Fs at root on it.
func newTestFs(t *testing.T, opts emulator.Options, root string, extra map[string]string) (*Fs, *emulator.TestServer) {
	t.Helper()
	srv := emulator.NewTestServer(t, opts)
	return fichiertest.NewFs(t, srv, root, extra).(*Fs), srv
}

// forgetAccounts drops the process-wide per-key state, as a new rclone
// process would start without it.
func forgetAccounts() {
	accountsMu.Lock()
	defer accountsMu.Unlock()
	clear(accounts)
}

// put uploads data to remote through f.Put.
func put(t *testing.T, f fs.Fs, remote, data string) fs.Object {
	t.Helper()
	src := object.NewStaticObjectInfo(remote, time.Now(), int64(len(data)), true, nil, nil)
	o, err := f.Put(context.Background(), strings.NewReader(data), src)
	require.NoError(t, err)
	return o
}

// calls returns the emulator's call count for endpoint.
func calls(srv *emulator.TestServer, endpoint string) int64 {
	return srv.Stats().Calls[endpoint]
}

func TestPutIntoFolderListsItOnce(t *testing.T) {
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	for i := range 100 {
		put(t, f, fmt.Sprintf("dir/file%03d.txt", i), fmt.Sprintf("content %d", i))
	}
	stats := srv.Stats()
	// The account root is listed once to look for "dir"; "dir" is made
	// by us, so it is known to be empty and is never listed.
	assert.Equal(t, int64(1), stats.Calls["folder/ls.cgi"], "listings")
	assert.Zero(t, stats.Calls["file/ls.cgi"])
	assert.Equal(t, int64(1), stats.Calls["folder/mkdir.cgi"])
	assert.Equal(t, int64(100), stats.Calls["upload.cgi"])
	assert.Equal(t, int64(100), stats.Calls["end.pl"])
	assert.Zero(t, stats.FloodLocks)
	files, err := srv.Files(srv.Key, -1)
	require.NoError(t, err)
	assert.Len(t, files, 100)
}

func TestPutReplacesExistingFile(t *testing.T) {
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	put(t, f, "a.txt", "first")
	o := put(t, f, "a.txt", "second version")
	files, err := srv.Files(srv.Key, -1)
	require.NoError(t, err)
	require.Len(t, files, 1, "Put of an existing name must not leave a duplicate")
	assert.Equal(t, o.(*Object).url, files[0].URL)
	data, err := srv.FileData(files[0].URL)
	require.NoError(t, err)
	assert.Equal(t, "second version", string(data))
}

// makeTree writes folders × perFolder small files into the memory remote.
func makeTree(t *testing.T, folders, perFolder int) fs.Fs {
	t.Helper()
	src, err := fs.NewFs(context.Background(), ":memory:"+t.Name())
	require.NoError(t, err)
	for d := range folders {
		for i := range perFolder {
			put(t, src, fmt.Sprintf("d%02d/f%02d.bin", d, i), fmt.Sprintf("folder %d file %d", d, i))
		}
	}
	return src
}

func TestNoopResyncListsEachFolderOnce(t *testing.T) {
	ctx := context.Background()
	srv := emulator.NewTestServer(t, fichiertest.Options())
	src := makeTree(t, 5, 4)
	// Slots longer than the copy takes at 100x, so that the next
	// process comes within them.
	slow := map[string]string{"list_interval": "2s"}
	dst := fichiertest.NewFs(t, srv, "backup", slow)
	require.NoError(t, fssync.Sync(ctx, dst, src, false))
	require.Equal(t, 20, srv.FileCount())

	// A new process right after: every listing is younger than a slot,
	// so it takes the listings the first one stored.
	forgetAccounts()
	srv.ResetStats()
	dst = fichiertest.NewFs(t, srv, "backup", slow)
	require.NoError(t, fssync.Sync(ctx, dst, src, false))
	stats := srv.Stats()
	assert.Zero(t, stats.Total(), "a no-op sync within the listing slots makes no call")

	// A new process once the slots are open again lists each folder
	// fresh, once: the account root (to find "backup"), "backup" and its
	// 5 folders.
	time.Sleep(withMargin(2 * time.Second))
	forgetAccounts()
	srv.ResetStats()
	dst = fichiertest.NewFs(t, srv, "backup", slow)
	require.NoError(t, fssync.Sync(ctx, dst, src, false))
	stats = srv.Stats()
	assert.Equal(t, int64(7), stats.Calls["folder/ls.cgi"])
	assert.Zero(t, stats.Calls["file/ls.cgi"])
	assert.Zero(t, stats.Calls["upload.cgi"])
	assert.Equal(t, int64(7), stats.Total(), "a no-op sync only lists")
	assert.Zero(t, stats.FloodLocks)
}

// listSlot is how long after a listing the tests' folder slot reopens:
// the sped-up list_interval with the backend's margin, and some more.
func listSlot() time.Duration {
	return withMargin(30*time.Second/fichiertest.TimeScale) + 50*time.Millisecond
}

func TestTwoRemotesShareOneListing(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	_, err := srv.Mkdir(srv.Key, 0, "one")
	require.NoError(t, err)
	_, err = srv.Mkdir(srv.Key, 0, "two")
	require.NoError(t, err)
	fichiertest.NewFs(t, srv, "one", nil)
	fichiertest.NewFs(t, srv, "two", nil)
	assert.Equal(t, int64(1), calls(srv, "folder/ls.cgi"), "both remotes find their root from one listing of the account root")
}

func TestNewObjectUsesTheListing(t *testing.T) {
	ctx := context.Background()
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	for i := range 10 {
		_, err := srv.PutFile(srv.Key, 0, fmt.Sprintf("f%d", i), []byte("x"))
		require.NoError(t, err)
	}
	for i := range 10 {
		_, err := f.NewObject(ctx, fmt.Sprintf("f%d", i))
		require.NoError(t, err)
	}
	_, err := f.NewObject(ctx, "missing")
	assert.ErrorIs(t, err, fs.ErrorObjectNotFound)
	assert.Equal(t, int64(1), calls(srv, "folder/ls.cgi"))
}

func TestRangedReadsShareOneToken(t *testing.T) {
	ctx := context.Background()
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	data := bytes.Repeat([]byte("0123456789"), 10000)
	_, err := srv.PutFile(srv.Key, 0, "big.bin", data)
	require.NoError(t, err)
	o, err := f.NewObject(ctx, "big.bin")
	require.NoError(t, err)
	for i := range 20 {
		start := int64(i * 1000)
		rc, err := o.Open(ctx, &fs.RangeOption{Start: start, End: start + 99})
		require.NoError(t, err)
		got, err := io.ReadAll(rc)
		require.NoError(t, rc.Close())
		require.NoError(t, err)
		require.Equal(t, data[start:start+100], got)
	}
	assert.Equal(t, int64(1), calls(srv, "download/get_token.cgi"))
	assert.Equal(t, int64(20), calls(srv, "download"))
}

func TestConcurrentOpensShareOneToken(t *testing.T) {
	ctx := context.Background()
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	_, err := srv.PutFile(srv.Key, 0, "a.bin", bytes.Repeat([]byte("x"), 4000))
	require.NoError(t, err)
	o, err := f.NewObject(ctx, "a.bin")
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			rc, err := o.Open(ctx, &fs.RangeOption{Start: int64(i * 1000), End: int64(i*1000 + 999)})
			if assert.NoError(t, err) {
				_, err = io.Copy(io.Discard, rc)
				assert.NoError(t, err)
				assert.NoError(t, rc.Close())
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(1), calls(srv, "download/get_token.cgi"), "four streams, one token")
}

func TestRefusedTokenIsRenewed(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{now: time.Now()}
	opts := fichiertest.Options()
	opts.Now = clock.Now
	f, srv := newTestFs(t, opts, "", nil)
	_, err := srv.PutFile(srv.Key, 0, "a.bin", []byte("hello"))
	require.NoError(t, err)
	o, err := f.NewObject(ctx, "a.bin")
	require.NoError(t, err)
	read := func() string {
		rc, err := o.Open(ctx)
		require.NoError(t, err)
		defer func() { _ = rc.Close() }()
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		return string(b)
	}
	assert.Equal(t, "hello", read())
	// The server's token expires while ours still looks valid.
	clock.advance(time.Hour)
	assert.Equal(t, "hello", read())
	assert.Equal(t, int64(2), calls(srv, "download/get_token.cgi"))
	assert.Equal(t, int64(3), calls(srv, "download"), "one refused download, then one with the new token")
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// floodKey breaks the calls-per-second rule with raw calls so the
// emulator locks srv's key.
func floodKey(t *testing.T, srv *emulator.TestServer) {
	t.Helper()
	for range 50 {
		req, err := http.NewRequest("POST", srv.APIURL+"/folder/ls.cgi", strings.NewReader(`{"folder_id":0}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+srv.Key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusForbidden {
			return
		}
	}
	t.Fatal("could not make the emulator lock the key")
}

func TestFloodLockStopsAllCallers(t *testing.T) {
	ctx := context.Background()
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	var dirs []string
	for i := range 4 {
		name := fmt.Sprintf("d%d", i)
		_, err := srv.Mkdir(srv.Key, 0, name)
		require.NoError(t, err)
		dirs = append(dirs, name)
	}
	floodKey(t, srv)
	srv.ResetStats()

	// The first caller meets the lock and closes the gate...
	errs := make(chan error, len(dirs)+1)
	go func() { _, err := f.List(ctx, ""); errs <- err }()
	require.Eventually(t, func() bool { return f.acc.limits.lockRemaining() > 0 }, 10*time.Second, time.Millisecond)
	// ...so callers arriving during the lock wait instead of calling.
	for _, dir := range dirs {
		go func() { _, err := f.List(ctx, dir); errs <- err }()
	}
	for range len(dirs) + 1 {
		require.NoError(t, <-errs)
	}
	stats := srv.Stats()
	assert.Equal(t, int64(1), stats.CallsDuringLock, "only the call that found the lock")
	assert.Equal(t, int64(1), stats.FloodRejected)
	assert.Zero(t, stats.FloodLocks, "the lock was already on; no new one")
}

func TestFatalErrorsAreNotRetried(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  string
		want string
	}{
		{"unknown key", "not-a-known-key", "No such user"},
		{"free account", "free-account-key", "Premium and Access"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := fichiertest.Options()
			opts.Accounts = []emulator.Account{
				{Key: "premium-key", Offer: emulator.OfferPremium},
				{Key: "free-account-key", Offer: emulator.OfferFree},
			}
			srv := emulator.NewTestServer(t, opts)
			f := fichiertest.NewFs(t, srv, "", map[string]string{"api_key": tc.key})
			_, err := f.List(context.Background(), "")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, fserrors.IsFatalError(err), "a bad key stops the run")
			assert.NotContains(t, err.Error(), tc.key, "the key is not in the error")
			assert.Equal(t, int64(1), srv.Stats().Total(), "no retry")
		})
	}
}

// end.pl answering its HTML page instead of JSON, as it has been seen
// doing, is read from its table: no second end.pl, no listing.
func TestEndPlHTMLIsRead(t *testing.T) {
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	srv.Faults().Add("end.pl", emulator.Fault{Kind: emulator.FaultEndHTML, Count: 1})
	o := put(t, f, "a.txt", "hello")
	assert.Equal(t, int64(1), calls(srv, "end.pl"), "the page is read, not asked again")
	assert.Equal(t, int64(1), calls(srv, "folder/ls.cgi"), "the root, listed once for Put: not again to find the upload")
	assert.Equal(t, int64(1), calls(srv, "upload.cgi"))
	assert.Equal(t, int64(5), o.Size())
	data, err := srv.FileData(o.(*Object).url)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(data))
}

func TestLostUploadAnswerLeavesNoDuplicate(t *testing.T) {
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	// The upload is stored, but its answer is lost.
	srv.Faults().Add("upload.cgi", emulator.Fault{Kind: emulator.FaultResetAfter, Count: 1})
	put(t, f, "a.txt", "hello")
	files, err := srv.Files(srv.Key, 0)
	require.NoError(t, err)
	assert.Len(t, files, 1)
	assert.Equal(t, int64(1), calls(srv, "upload.cgi"), "the stored file is found, not uploaded again")
}

func TestUploadRefusesOversizeWithoutCalls(t *testing.T) {
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	_, err := f.upload(context.Background(), strings.NewReader(""), "huge.bin", 0, maxFileSize+1)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "300 GB")
	assert.True(t, fserrors.IsNoRetryError(err))
	assert.Zero(t, srv.Stats().Total())
}

func TestSourceEndingEarlyStoresNothing(t *testing.T) {
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	src := object.NewStaticObjectInfo("short.bin", time.Now(), 1000, true, nil, nil)
	_, err := f.Put(context.Background(), strings.NewReader("only 20 bytes here.."), src)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "short of its size")
	assert.Zero(t, srv.FileCount())
}

func TestUserInfoIsCached(t *testing.T) {
	ctx := context.Background()
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	_, err := f.About(ctx)
	require.NoError(t, err)
	info, err := f.UserInfo(ctx)
	require.NoError(t, err)
	assert.Equal(t, "Premium", info["Offer"])
	assert.Equal(t, int64(1), calls(srv, "user/info.cgi"))
}

func TestMoveUsesRenameOnlyWhenTheNameChanges(t *testing.T) {
	ctx := context.Background()
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	o := put(t, f, "a.txt", "hello")
	require.NoError(t, f.Mkdir(ctx, "sub"))

	o, err := f.Move(ctx, o, "b.txt") // same folder, new name
	require.NoError(t, err)
	o, err = f.Move(ctx, o, "sub/b.txt") // other folder, same name
	require.NoError(t, err)
	_, err = f.Move(ctx, o, "c.txt") // other folder and name
	require.NoError(t, err)
	assert.Equal(t, int64(1), calls(srv, "file/rename.cgi"))
	assert.Equal(t, int64(2), calls(srv, "file/mv.cgi"))
	files, err := srv.Files(srv.Key, 0)
	require.NoError(t, err)
	require.Len(t, files, 1)
	assert.Equal(t, "c.txt", files[0].Name)
}

func TestDirMoveRenamesAndMovesSeparately(t *testing.T) {
	ctx := context.Background()
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	put(t, f, "a/file.txt", "x")
	require.NoError(t, f.Mkdir(ctx, "b"))
	srv.ResetStats()
	require.NoError(t, f.DirMove(ctx, f, "a", "b/c"))
	assert.Equal(t, int64(2), calls(srv, "folder/mv.cgi"), "one move, one rename")
	_, err := f.NewObject(ctx, "b/c/file.txt")
	assert.NoError(t, err)
}

func TestPurgeBatchesDeletes(t *testing.T) {
	ctx := context.Background()
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	dir, err := srv.Mkdir(srv.Key, 0, "dir")
	require.NoError(t, err)
	for i := range 250 {
		_, err := srv.PutFile(srv.Key, dir, fmt.Sprintf("f%03d", i), []byte("x"))
		require.NoError(t, err)
	}
	require.NoError(t, f.Purge(ctx, "dir"))
	assert.Equal(t, int64(3), calls(srv, "file/rm.cgi"), "250 files in batches of 100")
	assert.Equal(t, int64(1), calls(srv, "folder/rm.cgi"))
	assert.Zero(t, srv.FileCount())
}

func TestMergeDirsForDedupe(t *testing.T) {
	ctx := context.Background()
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	// 1fichier may hold two folders of one name; dedupe merges them.
	a, err := srv.Mkdir(srv.Key, 0, "x")
	require.NoError(t, err)
	b, err := srv.Mkdir(srv.Key, 0, "y")
	require.NoError(t, err)
	_, err = srv.PutFile(srv.Key, a, "one", []byte("1"))
	require.NoError(t, err)
	_, err = srv.PutFile(srv.Key, b, "two", []byte("2"))
	require.NoError(t, err)
	entries, err := f.List(ctx, "")
	require.NoError(t, err)
	var dirs []fs.Directory
	for _, e := range entries {
		if d, ok := e.(fs.Directory); ok {
			dirs = append(dirs, d)
		}
	}
	require.Len(t, dirs, 2)
	require.NoError(t, f.MergeDirs(ctx, dirs))
	f.DirCacheFlush()
	entries, err = f.List(ctx, dirs[0].Remote())
	require.NoError(t, err)
	assert.Len(t, entries, 2)
	_, err = f.List(ctx, dirs[1].Remote())
	assert.ErrorIs(t, err, fs.ErrorDirNotFound)
}

func TestPublicLinkOfFolderSharesIt(t *testing.T) {
	ctx := context.Background()
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	o := put(t, f, "dir/a.txt", "x")
	link, err := f.PublicLink(ctx, "dir/a.txt", 0, false)
	require.NoError(t, err)
	assert.Equal(t, o.(*Object).url, link)
	link, err = f.PublicLink(ctx, "dir", 0, false)
	require.NoError(t, err)
	assert.Contains(t, link, "/dir/")
	// Anybody can list the folder through the website's public page.
	shared := fichiertest.NewFs(t, srv, "", map[string]string{"shared_folder": link})
	entries, err := shared.List(ctx, "")
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "a.txt", entries[0].Remote())

	_, err = f.PublicLink(ctx, "dir", 0, true)
	require.NoError(t, err)
	assert.Equal(t, int64(2), calls(srv, "folder/share.cgi"))
	// The link no longer works.
	shared = fichiertest.NewFs(t, srv, "", map[string]string{"shared_folder": link})
	_, err = shared.List(ctx, "")
	assert.ErrorIs(t, err, fs.ErrorDirNotFound, "an unshared folder's public page")
}

func TestCopyOntoExistingNameReplacesIt(t *testing.T) {
	ctx := context.Background()
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	src := put(t, f, "a.txt", "new")
	put(t, f, "b.txt", "the old b.txt")
	_, err := operations.Copy(ctx, f, nil, "b.txt", src)
	require.NoError(t, err)
	files, err := srv.Files(srv.Key, 0)
	require.NoError(t, err)
	require.Len(t, files, 2, "a.txt and one b.txt")
	var b []emulator.FileInfo
	for _, file := range files {
		if file.Name == "b.txt" {
			b = append(b, file)
		}
	}
	require.Len(t, b, 1, "one b.txt")
	assert.Equal(t, int64(len("new")), b[0].Size, "the copy survived")
	data, err := srv.FileData(b[0].URL)
	require.NoError(t, err)
	assert.Equal(t, "new", string(data), "the copy survived")
}

func TestSharedFolderIsReadOnlyListingAndDownload(t *testing.T) {
	ctx := context.Background()
	srv := emulator.NewTestServer(t, fichiertest.Options())
	link := sharedFolder(t, srv)

	// Without the password the public page is a form, not a listing.
	f := fichiertest.NewFs(t, srv, "", map[string]string{"shared_folder": link})
	_, err := f.List(ctx, "")
	assert.ErrorContains(t, err, "folder_password")

	f = fichiertest.NewFs(t, srv, "", map[string]string{"shared_folder": link, "folder_password": obscure.MustObscure("secret99")})
	entries, err := f.List(ctx, "")
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "a.txt", entries[0].Remote())
	o, err := f.NewObject(ctx, "a.txt")
	require.NoError(t, err)
	rc, err := o.Open(ctx)
	require.NoError(t, err)
	data, err := io.ReadAll(rc)
	require.NoError(t, rc.Close())
	require.NoError(t, err)
	assert.Equal(t, "shared data", string(data))

	assert.ErrorIs(t, f.Mkdir(ctx, "x"), errReadOnly)
	assert.ErrorIs(t, f.Rmdir(ctx, ""), errReadOnly)
	assert.ErrorIs(t, o.Remove(ctx), errReadOnly)
	_, err = f.Put(ctx, strings.NewReader("x"), object.NewStaticObjectInfo("b.txt", time.Now(), 1, true, nil, nil))
	assert.ErrorIs(t, err, errReadOnly)
	assert.Equal(t, 1, srv.FileCount())
}

// A Put of content the file already has (same size and Whirlpool) sends
// nothing: rclone may decide to upload from a listing taken before an
// earlier upload of the same file was recorded.
func TestPutOfTheSameContentSendsNothing(t *testing.T) {
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	ctx := context.Background()
	first := put(t, f, "same.txt", "same content")
	sum, err := first.Hash(ctx, hash.Whirlpool)
	require.NoError(t, err)
	src := object.NewStaticObjectInfo("same.txt", time.Now(), int64(len("same content")), true, map[hash.Type]string{hash.Whirlpool: sum}, nil)
	o, err := f.Put(ctx, strings.NewReader("same content"), src)
	require.NoError(t, err)
	assert.Equal(t, first.(*Object).url, o.(*Object).url)
	assert.Equal(t, int64(1), calls(srv, "upload.cgi"))
	assert.Equal(t, 1, srv.FileCount())
}
