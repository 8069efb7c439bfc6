package fichier

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/hash"
	"github.com/rclone/rclone/fs/object"
	"github.com/rclone/rclone/fs/operations"
	fssync "github.com/rclone/rclone/fs/sync"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
)

// The tests here hold the backend to being right under any schedule: a
// slow state file, an API that can't be reached, a folder deleted behind
// its back, content uploaded by an earlier run, a port used again.

// holdStateFile keeps the state file's lock for d, as a process stopped
// inside a transaction or a slow disk would.
func holdStateFile(t *testing.T, path string, d time.Duration) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Minute})
	require.NoError(t, err)
	time.Sleep(d)
	require.NoError(t, db.Close())
}

// TestHeldStateLockNeverBunchesCalls makes folders from eight goroutines
// at once (CreateDir, not Mkdir, whose dircache takes one at a time)
// while the state file's lock is held again and again: callers that were
// held between their booking and their request must leave one call
// interval apart once the lock is free, so the emulator sees no broken
// rule and no flood lock. The rules run 10 times faster (not 100), so a
// bunch is many times the emulator's window apart from the pacing.
func TestHeldStateLockNeverBunchesCalls(t *testing.T) {
	const scale = 10
	opts := fichiertest.Options()
	opts.TimeScale = scale
	extra := fichiertest.RateOptions(scale)
	extra["api_rate"] = fmt.Sprint(2 * scale) // the default pace, sped up
	f, srv := newTestFs(t, opts, "", extra)
	ctx := context.Background()
	require.NoError(t, f.Mkdir(ctx, "start"))

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := f.CreateDir(ctx, rootID, fmt.Sprintf("w%d-%d", w, i))
				assert.NoError(t, err)
			}
		})
	}
	interval, _, _ := f.acc.limits.settings()
	for range 6 {
		time.Sleep(3 * interval)
		holdStateFile(t, f.acc.db.path, 10*interval)
	}
	close(stop)
	wg.Wait()

	stats := srv.Stats()
	assert.Greater(t, stats.Calls["folder/mkdir.cgi"], int64(10), "the goroutines made folders meanwhile")
	assert.Empty(t, stats.BrokenRules, "no rule broken")
	assert.Zero(t, stats.FloodLocks)
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// TestUnreachableAPIKeepsListingSlot lists a folder of an API that can't
// be reached: the error names the host, and the folder's listing slot,
// booked before each attempt, is given back each time, so no retry waits
// 30 s for a listing 1fichier never saw.
func TestUnreachableAPIKeepsListingSlot(t *testing.T) {
	addr := closedAddr(t)
	ctx, ci := fs.AddConfig(context.Background())
	ci.LowLevelRetries = 3
	m := fichiertest.Config(emulator.NewTestServer(t, fichiertest.Options()))
	m["api_url"] = "http://" + addr + "/v1"
	regInfo, err := fs.Find("fichier")
	require.NoError(t, err)
	for _, o := range regInfo.Options {
		if _, ok := m[o.Name]; !ok && o.Default != nil {
			m[o.Name] = o.String()
		}
	}
	fsys, err := regInfo.NewFs(ctx, "unreachable", "", m)
	require.NoError(t, err)
	f := fsys.(*Fs)

	_, err = f.List(ctx, "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "couldn't reach "+addr)
	assert.True(t, isUnreached(err))
	var clock time.Time
	require.NoError(t, f.acc.db.view(func(k *keyTx) error {
		clock = k.listClock(0)
		return nil
	}))
	assert.False(t, clock.After(time.Now()), "the root's listing slot is free: it was never used (clock %v)", clock)
}

// apiPost makes one API call as another client would (the website, a
// second machine), outside the backend and its state. It first waits
// two of 1fichier's one-second windows (scaled), so it is never the
// call too many.
func apiPost(t *testing.T, srv *emulator.TestServer, endpoint string, body any) {
	t.Helper()
	time.Sleep(2 * time.Second / fichiertest.TimeScale)
	data, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest("POST", srv.APIURL+endpoint, bytes.NewReader(data))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.Key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	var answer struct{ Status, Message string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&answer))
	require.Equal(t, "OK", answer.Status, answer.Message)
}

// removeFolderElsewhere deletes folder id and its files as another client
// would.
func removeFolderElsewhere(t *testing.T, srv *emulator.TestServer, id int) {
	t.Helper()
	files, err := srv.Files(srv.Key, int64(id))
	require.NoError(t, err)
	var req api.RemoveFileRequest
	for _, file := range files {
		req.Files = append(req.Files, api.RemoveFile{URL: file.URL})
	}
	if len(req.Files) > 0 {
		apiPost(t, srv, api.FileRm, &req)
	}
	apiPost(t, srv, api.FolderRm, &api.RemoveFolderRequest{FolderID: id})
}

// TestPutIntoFolderDeletedElsewhere: a process knows a folder from its
// parent's listing (the remote's root "raw" from the account's root, or
// "dir" under the remote), the folder is deleted behind the state's
// back, and once that listing is older than 1fichier's listing interval
// (and than the lag a fresh listing may have behind our own changes) the
// process uploads into it. The file must land in a folder of that name,
// made again, never in the account's root, which is where 1fichier puts
// an upload into an unknown folder. (Within a listing interval of a
// listing that showed the folder nobody could know better: the backend
// trusts it.)
func TestPutIntoFolderDeletedElsewhere(t *testing.T) {
	for _, tc := range []struct{ root, dir string }{{"raw", ""}, {"", "dir"}} {
		t.Run(tc.root+tc.dir, func(t *testing.T) {
			srv := emulator.NewTestServer(t, fichiertest.Options())
			ctx := context.Background()
			remote := path.Join(tc.dir, "c.txt")
			put(t, fichiertest.NewFs(t, srv, tc.root, nil), path.Join(tc.dir, "first.txt"), "made by another process")
			forgetAccounts()

			f := fichiertest.NewFs(t, srv, tc.root, nil).(*Fs)
			old, err := f.folderOf(ctx, tc.dir, false) // from the parent's listing
			require.NoError(t, err)
			removeFolderElsewhere(t, srv, old)
			_, _, listInterval := f.acc.limits.settings()
			time.Sleep(max(listInterval, f.acc.listings.currentLag()))

			put(t, f, remote, "second")
			assert.Equal(t, "c.txt", onlyFileMadeAgain(t, srv, f, tc.dir, old).Name)
		})
	}
}

// TestPutIntoKnownFolderCostsNoCheck uploads twice into a folder this
// process made, then from a new process while another's listing of it
// is too recent for 1fichier to allow a new one: neither checks the
// folder with a listing of its own.
func TestPutIntoKnownFolderCostsNoCheck(t *testing.T) {
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	put(t, f, "dir/a.txt", "a")
	put(t, f, "dir/b.txt", "b")
	id, err := f.folderOf(context.Background(), "dir", false)
	require.NoError(t, err)
	_, err = f.listing(context.Background(), id, 0) // a fresh listing, closing the folder's slot
	require.NoError(t, err)
	listed := calls(srv, "folder/ls.cgi")

	forgetAccounts()
	again := fichiertest.NewFs(t, srv, "", nil)
	put(t, again, "dir/c.txt", "c")
	assert.Equal(t, listed, calls(srv, "folder/ls.cgi"), "no listing to check the folder")
}

// whirlpoolOf returns the Whirlpool sum of data.
func whirlpoolOf(t *testing.T, data string) string {
	t.Helper()
	sums, err := hash.StreamTypes(strings.NewReader(data), hash.NewHashSet(hash.Whirlpool))
	require.NoError(t, err)
	return sums[hash.Whirlpool]
}

// TestUpdateWithStoredContentSendsNothing updates a file with the content
// it has, as a mount's write-back does after the journal recorded the
// upload of an earlier run: nothing is uploaded or deleted, and the
// object keeps its file.
func TestUpdateWithStoredContentSendsNothing(t *testing.T) {
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	const data = "content already on 1fichier"
	o := put(t, f, "a.txt", data).(*Object)
	uploads, removals := calls(srv, "upload.cgi"), calls(srv, "file/rm.cgi")
	url := o.url

	src := object.NewStaticObjectInfo("a.txt", time.Now(), int64(len(data)), true,
		map[hash.Type]string{hash.Whirlpool: whirlpoolOf(t, data)}, nil)
	require.NoError(t, o.Update(context.Background(), strings.NewReader(data), src))
	assert.Equal(t, uploads, calls(srv, "upload.cgi"), "nothing uploaded")
	assert.Equal(t, removals, calls(srv, "file/rm.cgi"), "nothing deleted")
	assert.Equal(t, url, o.url)
	assert.Equal(t, 1, srv.FileCount())

	changed := "other content, same size......"[:len(data)]
	src = object.NewStaticObjectInfo("a.txt", time.Now(), int64(len(changed)), true,
		map[hash.Type]string{hash.Whirlpool: whirlpoolOf(t, changed)}, nil)
	require.NoError(t, o.Update(context.Background(), strings.NewReader(changed), src))
	assert.Equal(t, uploads+1, calls(srv, "upload.cgi"), "new content of the same size is sent")
	assert.Equal(t, 1, srv.FileCount())
}

// TestServerOnReusedPortStartsClean lists a folder of one test server,
// stops it, and starts another on the same port: the second server's
// remote must see its own (empty) account, not the first one's files
// that the test binary's state still holds.
func TestServerOnReusedPortStartsClean(t *testing.T) {
	first := emulator.NewTestServer(t, fichiertest.Options())
	put(t, fichiertest.NewFs(t, first, "", nil), "old.txt", "of the first server")
	first.Stop()

	second := emulator.NewTestServerOn(t, strings.TrimPrefix(first.URL, "http://"), fichiertest.Options())
	entries, err := fichiertest.NewFs(t, second, "", nil).List(context.Background(), "")
	require.NoError(t, err)
	assert.Empty(t, entries, "the second server's account is empty")
}

// TestForgottenSessionResolvesFromFreshListing leaves the journal entry
// of a dead process whose upload 1fichier stored, with end.pl no longer
// knowing the session, and a stored listing of the folder from before
// the upload: the next Put of that file must find it in a fresh listing
// and send nothing, so no second copy is made.
func TestForgottenSessionResolvesFromFreshListing(t *testing.T) {
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	ctx := context.Background()
	put(t, f, "other.txt", "listed before the upload")
	_, err := f.listing(ctx, 0, 0)
	require.NoError(t, err)

	const data = "stored by a killed rclone"
	dead := processID{PID: 1<<22 - 3}
	require.False(t, dead.alive())
	entry := journalEntry{Folder: 0, Node: srv.URL, Files: []journalFile{{Name: "a.txt", Size: int64(len(data))}}, Sent: time.Now(), Owner: dead}
	require.NoError(t, f.acc.db.update(func(k *keyTx) error { return k.putJournal("deadxid001", &entry) }))
	_, err = srv.PutFile(srv.Key, 0, "a.txt", []byte(data))
	require.NoError(t, err)
	uploads := calls(srv, "upload.cgi")

	forgetAccounts()
	again := fichiertest.NewFs(t, srv, "", nil)
	src := object.NewStaticObjectInfo("a.txt", time.Now(), int64(len(data)), true,
		map[hash.Type]string{hash.Whirlpool: whirlpoolOf(t, data)}, nil)
	_, err = again.Put(ctx, strings.NewReader(data), src)
	require.NoError(t, err)
	assert.Equal(t, uploads, calls(srv, "upload.cgi"), "nothing sent again")
	assert.Equal(t, 2, srv.FileCount(), "other.txt and one a.txt")
}

// TestLateListingPushesTheNextOne books a folder's listing in one
// process and lets its request leave late (a stall after the booking);
// another process's listing of the folder, booked one interval after
// the first booking, must not leave before one interval after the first
// request really left. The same holds for user/info.cgi.
func TestLateListingPushesTheNextOne(t *testing.T) {
	db, first, other := twoProcesses(t, 1000)
	ctx := context.Background()

	require.NoError(t, second(first.waitList(ctx, 1)))
	require.NoError(t, first.depart(ctx, []departRule{first.listRule(1)}))
	var left time.Time
	require.NoError(t, db.view(func(k *keyTx) error {
		left = k.clock(clockDeparted)
		return nil
	}))
	_, _, listInterval := first.settings()

	retryAt, err := other.claimDeparture([]departRule{other.listRule(1)})
	require.NoError(t, err)
	assert.Equal(t, left.Add(listInterval).UnixNano(), retryAt.UnixNano(), "the folder's next listing leaves one interval after the last left")
	retryAt, err = other.claimDeparture([]departRule{other.listRule(2)})
	require.NoError(t, err)
	assert.True(t, retryAt.Before(left.Add(time.Second)), "another folder waits only for the call interval")

	require.NoError(t, first.depart(ctx, first.userInfoRules()))
	retryAt, err = other.claimDeparture(other.userInfoRules())
	require.NoError(t, err)
	perIP, _ := other.userInfoIntervals()
	assert.False(t, retryAt.Before(time.Now().Add(perIP-time.Second)), "user/info.cgi waits for its rule, from the departure")
}

// TestFolderRenameWithLostAnswer renames a folder whose folder/mv.cgi
// answer is lost after 1fichier renamed it: the retry is refused ("No
// folder has been renamed", the name is already the new one), which is
// success, and the folder is found under its new name.
func TestFolderRenameWithLostAnswer(t *testing.T) {
	opts := fichiertest.Options()
	opts.Faults = "folder/mv.cgi=reset-after:1"
	f, srv := newTestFs(t, opts, "", nil)
	ctx := context.Background()
	put(t, f, "a/x.txt", "x")
	require.NoError(t, f.DirMove(ctx, f, "a", "b"))
	assert.Equal(t, int64(2), calls(srv, "folder/mv.cgi"), "the lost answer and its retry")
	entries, err := f.List(ctx, "")
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "b", entries[0].Remote())
	files, err := f.List(ctx, "b")
	require.NoError(t, err)
	assert.Len(t, files, 1)
}

// TestReplaceKilledBeforeRemovalIsFinished leaves what a process killed
// in an Update between its upload and the removal of the old version
// leaves: both versions stored and the replacement's journal entry. The
// next process to list the folder removes the old version, so the file
// is stored once, with the new content.
func TestReplaceKilledBeforeRemovalIsFinished(t *testing.T) {
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	old := put(t, f, "a.txt", "old content").(*Object)
	const data = "the new content"
	dead := processID{PID: 1<<22 - 5}
	stored := []journalFile{{Name: "a.txt", Size: int64(len(data)), From: old.url}}
	entry := journalEntry{Op: opReplace, Folder: 0, Files: stored, Sent: time.Now(), Owner: dead}
	require.NoError(t, f.acc.db.update(func(k *keyTx) error { return k.putJournal("replace-dead01", &entry) }))
	_, err := srv.PutFile(srv.Key, 0, "a.txt", []byte(data))
	require.NoError(t, err)

	forgetAccounts()
	again := fichiertest.NewFs(t, srv, "", nil)
	entries, err := again.List(context.Background(), "")
	require.NoError(t, err)
	require.Len(t, entries, 1)
	files, err := srv.Files(srv.Key, 0)
	require.NoError(t, err)
	require.Len(t, files, 1, "one a.txt")
	assert.Equal(t, int64(len(data)), files[0].Size)
	assert.NotEqual(t, old.url, files[0].URL)
}

// leaveKilledCopy writes the journal entry that a process killed in a
// server-side copy of from (under its own name) into folder leaves.
func leaveKilledCopy(t *testing.T, f *Fs, folder int, from *Object) {
	t.Helper()
	dead := processID{PID: 1<<22 - 5}
	copied := []journalFile{{Name: path.Base(from.remote), Size: from.size, From: from.url}}
	entry := journalEntry{Op: opCopy, Folder: folder, Files: copied, Sent: time.Now(), Owner: dead}
	require.NoError(t, f.acc.db.update(func(k *keyTx) error { return k.putJournal("cp-killed", &entry) }))
}

// copyInNewProcess copies f.bin from the remote root src to dst server
// side, as a new process, and returns what folder dstID then holds.
func copyInNewProcess(t *testing.T, srv *emulator.TestServer, src, dst string, dstID int) []emulator.FileInfo {
	t.Helper()
	ctx := context.Background()
	forgetAccounts()
	o, err := fichiertest.NewFs(t, srv, src, nil).NewObject(ctx, "f.bin")
	require.NoError(t, err)
	_, err = fichiertest.NewFs(t, srv, dst, nil).(*Fs).Copy(ctx, o, "f.bin")
	require.NoError(t, err)
	files, err := srv.Files(srv.Key, int64(dstID))
	require.NoError(t, err)
	return files
}

// TestCopyKilledBeforeRemovalIsFinished: a server-side copy onto a file
// of the same name was made, and the process died before it removed the
// file the copy replaces (the explorer's seed 2, a copy killed at its
// second call). Run again, the copy finds its file made and sends
// nothing, and removes what it replaces, as the first run would have:
// one file of the name is left, the new one.
func TestCopyKilledBeforeRemovalIsFinished(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	ctx := context.Background()
	const data = "the new content"
	from := put(t, fichiertest.NewFs(t, srv, "b", nil), "f.bin", data).(*Object)
	fc := fichiertest.NewFs(t, srv, "c", nil).(*Fs)
	put(t, fc, "f.bin", "old")
	cID, err := fc.folderOf(ctx, "", false)
	require.NoError(t, err)
	time.Sleep(time.Second) // 1fichier's dates count seconds: the copy is the newer file
	// What the killed process left: its journal entry, and the copy made.
	leaveKilledCopy(t, fc, cID, from)
	_, err = srv.PutFile(srv.Key, int64(cID), "f.bin", []byte(data))
	require.NoError(t, err)

	files := copyInNewProcess(t, srv, "b", "c", cID)
	require.Len(t, files, 1, "one f.bin")
	assert.Equal(t, int64(len(data)), files[0].Size)
	assert.Zero(t, calls(srv, "file/cp.cgi"), "the copy is not made again")
}

// folderWithFile starts a test server and, through an Fs at the
// account's root, stores dir/a.txt: it returns both and dir's ID.
func folderWithFile(t *testing.T) (*emulator.TestServer, *Fs, int) {
	t.Helper()
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "", nil).(*Fs)
	put(t, f, "dir/a.txt", "stored before")
	id, err := f.folderOf(context.Background(), "dir", false)
	require.NoError(t, err)
	return srv, f, id
}

// TestUploadsIntoFolderDeletedMeanwhileAreMovedBack: a folder this
// process made and uses is deleted by another client; this process's
// next upload into it goes, as 1fichier does with an unknown folder, to
// the account's root. The next process about to store into the folder
// finds it gone, makes it again and moves that file into it: the root
// is left empty, and the folder holds both files.
func TestUploadsIntoFolderDeletedMeanwhileAreMovedBack(t *testing.T) {
	ctx := context.Background()
	srv, f, old := folderWithFile(t)
	removeFolderElsewhere(t, srv, old)
	put(t, f, "dir/b.txt", "after the deletion")
	root, err := srv.Files(srv.Key, 0)
	require.NoError(t, err)
	require.Len(t, root, 1, "1fichier put the upload into the root")
	_, _, listInterval := f.acc.limits.settings()
	time.Sleep(max(listInterval, f.acc.listings.currentLag()))

	again := putInNextProcess(t, srv, "dir/c.txt")
	made, err := again.folderOf(ctx, "dir", false)
	require.NoError(t, err)
	files, err := srv.Files(srv.Key, int64(made))
	require.NoError(t, err)
	var names []string
	for _, file := range files {
		names = append(names, file.Name)
	}
	assert.ElementsMatch(t, []string{"b.txt", "c.txt"}, names)
}

// TestFolderMadeAgainTakesBackWhatWentToTheRoot: a folder and its
// subfolder are deleted by another client just after this process
// listed them; it lists the account's root, then goes on uploading into
// both, and 1fichier puts the files in the root. The next process at once (the explorer's
// seed 12) finds the folder gone from its parent's listing and makes it,
// then its subfolder, again: the files go back where they were asked,
// although the stored root listing, fresh as 1fichier allows, was
// fetched before they landed in it.
func TestFolderMadeAgainTakesBackWhatWentToTheRoot(t *testing.T) {
	ctx := context.Background()
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "", nil).(*Fs)
	put(t, f, "w/b/x.txt", "before")
	put(t, f, "w/b/d/y.txt", "before too")
	b, err := f.folderOf(ctx, "w/b", false)
	require.NoError(t, err)
	d, err := f.folderOf(ctx, "w/b/d", false)
	require.NoError(t, err)
	_, _, listInterval := f.acc.limits.settings()
	time.Sleep(listInterval) // w's stored listing is no proof that b is there any more
	for _, id := range []int{b, d} {
		_, err = f.cachedListing(ctx, id, 0)
		require.NoError(t, err)
	}
	listed := time.Now()
	removeFolderElsewhere(t, srv, d)
	removeFolderElsewhere(t, srv, b)
	time.Sleep(listInterval / 2)
	_, err = f.cachedListing(ctx, 0, 0)
	require.NoError(t, err)
	put(t, f, "w/b/d/f34.txt", "went astray too")
	put(t, f, "w/b/f28.txt", "went astray")
	root, err := srv.Files(srv.Key, 0)
	require.NoError(t, err)
	require.Len(t, root, 2, "1fichier put both uploads into the root")

	// The next process comes once the listings of b and d no longer
	// prove anything, and the root's, fetched later, still would.
	time.Sleep(time.Until(listed.Add(listInterval)))
	again := putInNextProcess(t, srv, "w/b/d/z.txt")
	assert.ElementsMatch(t, []string{"f28.txt", "d"}, namesAt(t, again, "w/b"))
	assert.ElementsMatch(t, []string{"f34.txt", "z.txt"}, namesAt(t, again, "w/b/d"))
}

// TestUpdateIntoFolderDeletedElsewhere: the folder of a file about to
// be replaced was deleted by another client since this process last
// listed it (the explorer's seed 11: "Copied (replaced existing)", and
// the new version in the account's root). The folder is made again and
// the content stored there as a new file.
func TestUpdateIntoFolderDeletedElsewhere(t *testing.T) {
	ctx := context.Background()
	srv, f, old := folderWithFile(t)
	o, err := f.NewObject(ctx, "dir/a.txt")
	require.NoError(t, err)
	_, _, listInterval := f.acc.limits.settings()
	time.Sleep(listInterval) // the stored listing proves nothing any more
	removeFolderElsewhere(t, srv, old)
	f.acc.listings.forgetInProcess() // as in a process that did not make the folder

	const data = "the new version"
	src := object.NewStaticObjectInfo("a.txt", time.Now(), int64(len(data)), true, nil, nil)
	require.NoError(t, o.Update(ctx, strings.NewReader(data), src))
	file := onlyFileMadeAgain(t, srv, f, "dir", old)
	assert.Equal(t, "a.txt", file.Name)
	assert.Equal(t, int64(len(data)), file.Size)
	assert.Equal(t, file.URL, o.(*Object).url, "the object is the new file")
}

// onlyFileMadeAgain checks that the account's root is empty and that dir
// of f, once folder old, was made again with one file, which it returns.
func onlyFileMadeAgain(t *testing.T, srv *emulator.TestServer, f *Fs, dir string, old int) emulator.FileInfo {
	t.Helper()
	root, err := srv.Files(srv.Key, 0)
	require.NoError(t, err)
	assert.Empty(t, root, "nothing in the account's root")
	again, err := f.folderOf(context.Background(), dir, false)
	require.NoError(t, err)
	require.NotEqual(t, old, again, "the folder was made again")
	files, err := srv.Files(srv.Key, int64(again))
	require.NoError(t, err)
	require.Len(t, files, 1)
	return files[0]
}

// TestListingSinceFetchesWhenTheStoredOneIsOlder: rehome looks for
// files in a listing fetched after they were stored; a stored listing
// from before, however fresh, is not used.
func TestListingSinceFetchesWhenTheStoredOneIsOlder(t *testing.T) {
	ctx := context.Background()
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	l, err := f.cachedListing(ctx, 0, 0)
	require.NoError(t, err)
	listings := calls(srv, "folder/ls.cgi")

	same, err := f.listingSince(ctx, 0, l.fetched.Add(-time.Millisecond))
	require.NoError(t, err)
	assert.Equal(t, l.fetched, same.fetched, "the stored listing is newer")
	assert.Equal(t, listings, calls(srv, "folder/ls.cgi"))

	stored := time.Now()
	newer, err := f.listingSince(ctx, 0, stored)
	require.NoError(t, err)
	assert.True(t, newer.fetched.After(stored), "fetched after the time asked")
	assert.Equal(t, listings+1, calls(srv, "folder/ls.cgi"))
}

// putInNextProcess stores remote through a new process of srv's key,
// checks that the account's root is left empty, and returns the Fs.
func putInNextProcess(t *testing.T, srv *emulator.TestServer, remote string) *Fs {
	t.Helper()
	forgetAccounts()
	again := fichiertest.NewFs(t, srv, "", nil).(*Fs)
	put(t, again, remote, "the next command")
	root, err := srv.Files(srv.Key, 0)
	require.NoError(t, err)
	assert.Empty(t, root, "nothing left in the account's root")
	return again
}

// namesAt returns the names of the files and folders in dir of f, as
// the server has them.
func namesAt(t *testing.T, f *Fs, dir string) []string {
	t.Helper()
	entries, err := f.List(context.Background(), dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, path.Base(e.Remote()))
	}
	return names
}

// TestMoveWithUnknownOutcomeListsAfresh: a server-side move whose
// file/mv.cgi answers are all lost (1fichier made the move each time)
// fails, as a move killed before its answer would end. The folders it
// touched are listed afresh before their next use (its journal
// entries): a delete of the destination then deletes the moved file
// too, where a listing from before the move would miss it (the
// explorer's seed 2: `move b a` killed, then `delete a` left a file).
func TestMoveWithUnknownOutcomeListsAfresh(t *testing.T) {
	opts := fichiertest.Options()
	opts.Faults = "file/mv.cgi=reset-after:50"
	srv := emulator.NewTestServer(t, opts)
	ctx, ci := fs.AddConfig(context.Background())
	ci.LowLevelRetries = 2
	_, fa, x := moveSetup(t, srv, "b", "a")

	_, err := fa.Move(ctx, x, "x.bin")
	require.Error(t, err, "every answer lost")
	require.NoError(t, operations.Delete(ctx, fa))

	aID, err := fa.folderOf(ctx, "", false)
	require.NoError(t, err)
	files, err := srv.Files(srv.Key, int64(aID))
	require.NoError(t, err)
	assert.Empty(t, files, "the moved file is deleted with the others")
}

// updateSendsNothing updates o with data, asserts that no upload was
// sent, and returns the files of the account's root.
func updateSendsNothing(t *testing.T, srv *emulator.TestServer, o *Object, data string) []emulator.FileInfo {
	t.Helper()
	uploads := calls(srv, "upload.cgi")
	src := object.NewStaticObjectInfo(path.Base(o.remote), time.Now(), int64(len(data)), true,
		map[hash.Type]string{hash.Whirlpool: whirlpoolOf(t, data)}, nil)
	require.NoError(t, o.Update(context.Background(), strings.NewReader(data), src))
	assert.Equal(t, uploads, calls(srv, "upload.cgi"), "nothing sent")
	files, err := srv.Files(srv.Key, 0)
	require.NoError(t, err)
	return files
}

// TestUpdateOfOldVersionBesideTheNewOne: a folder holds two files of one
// name, the old version and the new one an interrupted sync stored
// (the explorer's seed 5). rclone takes the first for the destination
// and updates it with the new content: nothing is sent, and the old
// version goes, so the name is stored once, with the new content.
func TestUpdateOfOldVersionBesideTheNewOne(t *testing.T) {
	f, srv := newTestFs(t, fichiertest.Options(), "", nil)
	ctx := context.Background()
	old := put(t, f, "a.bin", "old").(*Object)
	const data = "the new content"
	_, err := srv.PutFile(srv.Key, 0, "a.bin", []byte(data))
	require.NoError(t, err)
	_, _, listInterval := f.acc.limits.settings()
	time.Sleep(max(listInterval, f.acc.listings.currentLag()))
	forgetAccounts()
	again := fichiertest.NewFs(t, srv, "", nil).(*Fs)
	_, err = again.List(ctx, "")
	require.NoError(t, err)
	first := again.newObject("a.bin", 0, &api.File{URL: old.url, Filename: "a.bin", Size: api.Int(3), Checksum: old.whirlpool})
	files := updateSendsNothing(t, srv, first, data)
	require.Len(t, files, 1)
	assert.Equal(t, int64(len(data)), files[0].Size)
	assert.Equal(t, files[0].URL, first.url)
}

// TestReplaceSettledAfterTheUploadThatCarriedIt: a process killed in an
// Update leaves two entries, the upload's and the replacement's. The
// replacement is settled after the upload, whatever their order in the
// state, so it sees the new version the upload stored and removes the
// old one (seed 5: settled first, it found no new version and dropped).
func TestReplaceSettledAfterTheUploadThatCarriedIt(t *testing.T) {
	entries := map[string]journalEntry{
		"replace-1": {Op: opReplace, Sent: time.Unix(10, 0)},
		"upload-2":  {Sent: time.Unix(20, 0)},
		"cp-3":      {Op: opCopy, Sent: time.Unix(5, 0)},
		"upload-1":  {Sent: time.Unix(15, 0)},
	}
	assert.Equal(t, []string{"upload-1", "upload-2", "cp-3", "replace-1"}, resolveOrder(entries))
}

// TestCopyKilledUnderLaggingListingsIsNotMadeAgain: a server-side copy
// was made by a process killed before its answer, and listings lag a
// minute behind changes (the reading where new files show late). The
// next copy of the file waits, before copying again, until a listing
// made as long after the killed call as listings may lag: it finds the
// copy there and makes none (seed 6: two copies of each file).
func TestCopyKilledUnderLaggingListingsIsNotMadeAgain(t *testing.T) {
	opts := fichiertest.Options()
	opts.ListingDelay = time.Minute
	srv := emulator.NewTestServer(t, opts)
	ctx := context.Background()
	from := put(t, fichiertest.NewFs(t, srv, "b", nil), "f.bin", "copied once").(*Object)
	fa := fichiertest.NewFs(t, srv, "a", nil).(*Fs)
	require.NoError(t, fa.Mkdir(ctx, ""))
	aID, err := fa.folderOf(ctx, "", false)
	require.NoError(t, err)
	leaveKilledCopy(t, fa, aID, from)
	apiPost(t, srv, api.FileCp, &api.CopyFileRequest{URLs: []string{from.url}, FolderID: aID})

	files := copyInNewProcess(t, srv, "b", "a", aID)
	assert.Len(t, files, 1, "one copy")
	assert.Equal(t, int64(1), calls(srv, "file/cp.cgi"), "only the killed process's copy")
}

// uploadElsewhere uploads files (name to content) into folder dir in one
// request through the API, as another client (or a killed rclone) would:
// outside the backend and its state, so listings show them only after
// the emulator's delay. It asks end.pl nothing, and returns the
// session's node and ID.
func uploadElsewhere(t *testing.T, srv *emulator.TestServer, dir int, files map[string]string) (node, xid string) {
	t.Helper()
	time.Sleep(2 * time.Second / fichiertest.TimeScale) // as apiPost: never the call too many
	req, err := http.NewRequest("GET", srv.APIURL+"/upload/get_upload_server.cgi", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.Key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	var server api.UploadServerResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&server))
	require.NoError(t, resp.Body.Close())

	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	require.NoError(t, mw.WriteField("did", strconv.Itoa(dir)))
	for name, data := range files {
		part, err := mw.CreateFormFile("file[]", name)
		require.NoError(t, err)
		_, err = part.Write([]byte(data))
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	node = "http://" + server.URL
	time.Sleep(2 * time.Second / fichiertest.TimeScale)
	req, err = http.NewRequest("POST", node+"/upload.cgi?id="+server.ID, &form)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.Key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	client := *srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err = client.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.NoError(t, resp.Body.Close())
	return node, server.ID
}

// TestForgottenSessionUnderLaggingListings: as
// TestForgottenSessionResolvesFromFreshListing, with listings that lag
// a minute behind uploads (the explorer's seed 5, an upload whose
// answer an emulator restart lost). A listing made at once does not
// show the file yet: the next Put looks again in a listing made as long
// after the upload as listings may lag, finds the file, and sends
// nothing.
func TestForgottenSessionUnderLaggingListings(t *testing.T) {
	opts := fichiertest.Options()
	opts.ListingDelay = time.Minute
	f, srv := newTestFs(t, opts, "", nil)
	// The upload is sent as the folder is listed: the next listing
	// comes a listing interval later, past uploadSettleTime (scaled) but
	// within the lag, and does not show the file yet.
	l, err := f.listing(context.Background(), 0, 0)
	require.NoError(t, err)
	const data = "stored by a killed rclone"
	dead := processID{PID: 1<<22 - 3}
	files := []journalFile{{Name: "a.txt", Size: int64(len(data))}}
	entry := journalEntry{Folder: 0, Node: srv.URL, Files: files, Sent: l.fetched, Owner: dead}
	require.NoError(t, f.acc.db.update(func(k *keyTx) error { return k.putJournal("deadxid002", &entry) }))
	uploadElsewhere(t, srv, 0, map[string]string{"a.txt": data})
	uploads := calls(srv, "upload.cgi")

	forgetAccounts()
	again := fichiertest.NewFs(t, srv, "", nil)
	src := object.NewStaticObjectInfo("a.txt", time.Now(), int64(len(data)), true,
		map[hash.Type]string{hash.Whirlpool: whirlpoolOf(t, data)}, nil)
	_, err = again.Put(context.Background(), strings.NewReader(data), src)
	require.NoError(t, err)
	assert.Equal(t, uploads, calls(srv, "upload.cgi"), "nothing sent again")
	assert.Equal(t, 1, srv.FileCount(), "one a.txt")
}

// moveSetup makes the remote roots from and to, each with a file
// (from's x.bin is to move), and lists from: it returns an Fs of each
// and x.bin.
func moveSetup(t *testing.T, srv *emulator.TestServer, from, to string) (src, dst *Fs, x fs.Object) {
	t.Helper()
	src = fichiertest.NewFs(t, srv, from, nil).(*Fs)
	dst = fichiertest.NewFs(t, srv, to, nil).(*Fs)
	x = put(t, src, "x.bin", "the file to move")
	put(t, dst, "y.bin", "already there")
	_, err := src.List(context.Background(), "")
	require.NoError(t, err)
	return src, dst, x
}

// TestMoveAgainAfterAnUnrecordedMove is the explorer's bug I: a
// server-side move of folder a into c whose file/mv.cgi was done but
// never recorded (the process was killed before the answer; another
// client's move does the same), then the move run again by a process
// that still uses its listing of a and lists c afresh. The file shows
// in both, with one URL, and looks already moved: rclone deletes the
// source, and a removal by URL would delete the only copy, now in c.
func TestMoveAgainAfterAnUnrecordedMove(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	ctx := context.Background()
	fa, fc, x := moveSetup(t, srv, "a", "c")
	cID, err := fc.folderOf(ctx, "", false)
	require.NoError(t, err)

	apiPost(t, srv, api.FileMv, &api.MoveFileRequest{URLs: []string{x.(*Object).url}, DestinationFolderID: cID})
	// This process has used a's listing (and keeps using it for the
	// cache time, as any cache); c it has not listed (forgotten), and
	// it lists it once 1fichier allows, past the lag of listings.
	fc.acc.listings.forgetFolder(cID)
	_, _, listInterval := fc.acc.limits.settings()
	time.Sleep(max(listInterval, fc.acc.listings.currentLag()) + fc.acc.listings.currentLag()/10)

	require.NoError(t, fssync.MoveDir(ctx, fc, fa, false, false))

	inC, err := srv.Files(srv.Key, int64(cID))
	require.NoError(t, err)
	var names []string
	for _, file := range inC {
		names = append(names, file.Name)
	}
	assert.ElementsMatch(t, []string{"x.bin", "y.bin"}, names, "the moved file is kept, once")
	entries, err := fa.List(ctx, "")
	require.NoError(t, err)
	assert.Empty(t, entries, "a no longer shows the file")
	// Where a move changes the URL (the emulator's other reading), the
	// stale entry's removal finds no file and takes nothing: what counts
	// is what c holds.
}

// TestEndPlCutShortResolvesFromListing: a killed process's upload of two
// files stored both, and end.pl, asked by the next process, lists one
// (it has been seen cut short). The other is looked for in the folder's
// listing rather than taken as not stored: the next Put of it sends
// nothing (the explorer's seed 12: it was uploaded a second time).
func TestEndPlCutShortResolvesFromListing(t *testing.T) {
	opts := fichiertest.Options()
	opts.Faults = "end.pl=end-short:1"
	f, srv := newTestFs(t, opts, "", nil)
	// A listing from just before the upload: as fresh as 1fichier lets a
	// new one be, the next process takes it.
	_, err := f.listing(context.Background(), 0, 0)
	require.NoError(t, err)
	files := map[string]string{"one.bin": "the first file", "two.bin": "the second file"}
	node, xid := uploadElsewhere(t, srv, 0, files)
	dead := processID{PID: 1<<22 - 3}
	entry := journalEntry{Folder: 0, Node: node, Sent: time.Now(), Owner: dead,
		Files: []journalFile{{Name: "one.bin", Size: 14}, {Name: "two.bin", Size: 15}}}
	require.NoError(t, f.acc.db.update(func(k *keyTx) error { return k.putJournal(xid, &entry) }))
	uploads := calls(srv, "upload.cgi")

	forgetAccounts()
	again := fichiertest.NewFs(t, srv, "", nil)
	for name, data := range files {
		src := object.NewStaticObjectInfo(name, time.Now(), int64(len(data)), true,
			map[hash.Type]string{hash.Whirlpool: whirlpoolOf(t, data)}, nil)
		_, err := again.Put(context.Background(), strings.NewReader(data), src)
		require.NoError(t, err)
	}
	assert.Equal(t, uploads, calls(srv, "upload.cgi"), "nothing sent again")
	assert.Equal(t, 2, srv.FileCount())
}

// TestFailedListingConfirmsNoFolder: a process found a folder gone (its
// listing answered "not found") and died before it forgot the folder.
// The folder's listing slot is closed by that attempt, and the stored
// listing is still there, older: the next process must not take the
// folder for listed recently, and its upload goes into the folder made
// again, not into the account's root (the explorer's seed 6).
func TestFailedListingConfirmsNoFolder(t *testing.T) {
	ctx := context.Background()
	srv, f, old := folderWithFile(t)
	_, _, listInterval := f.acc.limits.settings()
	time.Sleep(listInterval)
	removeFolderElsewhere(t, srv, old)
	_, err := f.fetchListing(ctx, old)
	require.ErrorIs(t, err, fs.ErrorDirNotFound, "the dying process's listing")

	forgetAccounts()
	put(t, fichiertest.NewFs(t, srv, "", nil), "dir/b.txt", "after")
	root, err := srv.Files(srv.Key, 0)
	require.NoError(t, err)
	assert.Empty(t, root, "nothing in the account's root")
}

// TestUpdateRetriedAfterLostAnswerSendsNothing: an Update's upload was
// stored but its answer lost (an emulator restart: end.pl no longer
// knows the session), under listings that lag a minute. rclone tries
// the Update again on the same old object: the journal's entry is
// settled first, the new version found, and nothing is sent (the
// explorer's seed 5: the content was stored twice).
func TestUpdateRetriedAfterLostAnswerSendsNothing(t *testing.T) {
	opts := fichiertest.Options()
	opts.ListingDelay = time.Minute
	f, srv := newTestFs(t, opts, "", nil)
	old := put(t, f, "a.bin", "old").(*Object)
	const data = "the new version"
	entry := journalEntry{Folder: 0, Node: srv.URL, Sent: time.Now(), Owner: thisProcess,
		Files: []journalFile{{Name: "a.bin", Size: int64(len(data))}}}
	require.NoError(t, f.acc.db.update(func(k *keyTx) error { return k.putJournal("lostxid001", &entry) }))
	uploadElsewhere(t, srv, 0, map[string]string{"a.bin": data})
	files := updateSendsNothing(t, srv, old, data)
	require.Len(t, files, 1, "the new version alone")
	assert.Equal(t, int64(len(data)), files[0].Size)
}

// TestServerSideReplacementLeftUnfinishedIsFinished: a server-side copy
// or move onto a name the destination holds, whose removal of the file
// it replaces did not happen (here the removal fails; in the explorer's
// seed 6 a copy was killed after its file/cp.cgi). The next process to
// list the destination removes the old file: rclone, which takes two
// files of a name for a duplicate and copies nothing, finds it once,
// with the new content.
func TestServerSideReplacementLeftUnfinishedIsFinished(t *testing.T) {
	for _, move := range []bool{false, true} {
		t.Run(fmt.Sprintf("move=%v", move), func(t *testing.T) {
			opts := fichiertest.Options()
			opts.Faults = "file/rm.cgi=500:50"
			srv := emulator.NewTestServer(t, opts)
			ctx := context.Background()
			const data = "the new content"
			from := put(t, fichiertest.NewFs(t, srv, "b", nil), "f.bin", data)
			fc := fichiertest.NewFs(t, srv, "c", nil).(*Fs)
			put(t, fc, "f.bin", "old")
			cID, err := fc.folderOf(ctx, "", false)
			require.NoError(t, err)
			if move {
				_, err = fc.Move(ctx, from, "f.bin")
			} else {
				_, err = fc.Copy(ctx, from, "f.bin")
			}
			require.ErrorContains(t, err, "couldn't remove the file replaced")
			srv.Faults().Clear()

			forgetAccounts()
			entries, err := fichiertest.NewFs(t, srv, "c", nil).List(context.Background(), "")
			require.NoError(t, err)
			require.Len(t, entries, 1)
			files, err := srv.Files(srv.Key, int64(cID))
			require.NoError(t, err)
			require.Len(t, files, 1, "one f.bin")
			assert.Equal(t, int64(len(data)), files[0].Size)
		})
	}
}

// TestServerSideReplacementNeverMadeKeepsTheOldFile: a process died
// after it journalled a server-side copy onto a taken name and before
// the copy was made. The next process to list the folder finds no new
// file of the name and size (the old one, of the same size as the copy
// would be, is not taken for it), so the old file, the only one, stays.
func TestServerSideReplacementNeverMadeKeepsTheOldFile(t *testing.T) {
	f, srv := newTestFs(t, fichiertest.Options(), "c", nil)
	old := put(t, f, "f.bin", "the old content").(*Object)
	dead := processID{PID: 1<<22 - 5}
	replaced := []journalFile{{Name: "f.bin", Size: int64(len("the new content")), From: old.url}}
	entry := journalEntry{Op: opSupersede, Folder: old.folderID, Files: replaced, Sent: time.Now(), Owner: dead}
	require.NoError(t, f.acc.db.update(func(k *keyTx) error { return k.putJournal("supersede-dead1", &entry) }))

	forgetAccounts()
	entries, err := fichiertest.NewFs(t, srv, "c", nil).List(context.Background(), "")
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, old.url, entries[0].(*Object).url, "the old file stays")
	assert.Zero(t, calls(srv, "file/rm.cgi"))
	files, err := srv.Files(srv.Key, int64(old.folderID))
	require.NoError(t, err)
	assert.Len(t, files, 1)
}
