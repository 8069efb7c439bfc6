package fichier

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"path"
	"sort"
	"testing"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/filter"
	"github.com/rclone/rclone/fs/operations"
	fssync "github.com/rclone/rclone/fs/sync"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The emulator's server-side endpoints, as its stats name them.
const (
	cpCgi     = "file/cp.cgi"
	mvCgi     = "file/mv.cgi"
	rmCgi     = "file/rm.cgi"
	renameCgi = "file/rename.cgi"
)

// seedFolder makes folder name in the root holding n files called
// file000.txt and on, without API calls, and returns its ID.
func seedFolder(t *testing.T, srv *emulator.TestServer, name string, n int) int64 {
	t.Helper()
	id, err := srv.Mkdir(srv.Key, 0, name)
	require.NoError(t, err)
	for i := range n {
		_, err := srv.PutFile(srv.Key, id, fmt.Sprintf("file%03d.txt", i), fmt.Appendf(nil, "content of file %d", i))
		require.NoError(t, err)
	}
	return id
}

// namesIn returns the names of the files in folder id, sorted.
func namesIn(t *testing.T, srv *emulator.TestServer, id int64) []string {
	t.Helper()
	files, err := srv.Files(srv.Key, id)
	require.NoError(t, err)
	names := make([]string, len(files))
	for i, file := range files {
		names[i] = file.Name
	}
	sort.Strings(names)
	return names
}

// seededNames returns the names seedFolder gives n files.
func seededNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("file%03d.txt", i)
	}
	return names
}

// serverSideFs starts an emulator whose folder "a" holds n files and
// returns a Fs on the root, paced at batchRate, with the root and "a"
// listed and the stats reset: what follows counts only the operations.
func serverSideFs(t *testing.T, opts emulator.Options, n int) (*Fs, *emulator.TestServer, int64) {
	t.Helper()
	srv := emulator.NewTestServer(t, opts)
	a := seedFolder(t, srv, "a", n)
	config := map[string]string{"list_interval": "600ms"} // twice the emulator's: a listing's call may wait for the budget
	maps.Copy(config, batchRate)
	f := fichiertest.NewFs(t, srv, "", config).(*Fs)
	for _, dir := range []string{"", "a"} {
		_, err := f.List(context.Background(), dir)
		require.NoError(t, err)
	}
	srv.ResetStats()
	return f, srv, a
}

// withFlags returns a sync context whose --transfers and --checkers are
// as given.
func withFlags(t *testing.T, transfers, checkers int) context.Context {
	ctx, ci := fs.AddConfig(syncContext(t))
	ci.Transfers, ci.Checkers = transfers, checkers
	return ctx
}

// rootFolder returns the emulator's ID of folder name in the root.
func rootFolder(t *testing.T, f *Fs, name string) int64 {
	t.Helper()
	id, err := f.folderOf(context.Background(), name, false)
	require.NoError(t, err)
	return int64(id)
}

func TestServerSideCopyBatches(t *testing.T) {
	for _, tc := range []struct {
		transfers int
		most      int64
	}{{4, 55}, {32, 10}} {
		t.Run(fmt.Sprint("transfers ", tc.transfers), func(t *testing.T) {
			f, srv, a := serverSideFs(t, fichiertest.Options(), 200)
			ctx := withFlags(t, tc.transfers, 8)
			src, dst := fichiertest.NewFs(t, srv, "a", batchRate), fichiertest.NewFs(t, srv, "b", batchRate)
			require.NoError(t, fssync.CopyDir(ctx, dst, src, false))
			assert.Equal(t, seededNames(200), namesIn(t, srv, rootFolder(t, f, "b")), "every file copied once")
			assert.Equal(t, seededNames(200), namesIn(t, srv, a), "the sources stay")
			stats := srv.Stats()
			assert.LessOrEqual(t, stats.Calls[cpCgi], tc.most)
			assert.GreaterOrEqual(t, stats.Calls[cpCgi], int64(2), "at most 100 files a call")
			assert.Zero(t, stats.Calls[uploadCgi], "nothing goes through this machine")
			assert.Zero(t, stats.FloodLocks)
			t.Logf("%d file/cp.cgi calls, %d calls in all", stats.Calls[cpCgi], stats.Total())
		})
	}
}

func TestServerSideMoveWithFilterBatches(t *testing.T) {
	f, srv, a := serverSideFs(t, fichiertest.Options(), 200)
	_, err := srv.PutFile(srv.Key, a, "stays.bin", []byte("not a .txt"))
	require.NoError(t, err)
	ctx := withFlags(t, 4, 8)
	fi, err := filter.NewFilter(nil)
	require.NoError(t, err)
	require.NoError(t, fi.Add(true, "*.txt"))
	require.NoError(t, fi.Add(false, "*"))
	ctx = filter.ReplaceConfig(ctx, fi)
	src, dst := fichiertest.NewFs(t, srv, "a", batchRate), fichiertest.NewFs(t, srv, "b", batchRate)
	srv.ResetStats()
	require.NoError(t, fssync.MoveDir(ctx, dst, src, false, false))
	assert.Equal(t, seededNames(200), namesIn(t, srv, rootFolder(t, f, "b")), "every file moved once")
	assert.Equal(t, []string{"stays.bin"}, namesIn(t, srv, a), "no source lost, the filtered one stays")
	stats := srv.Stats()
	assert.LessOrEqual(t, stats.Calls[mvCgi], int64(55))
	assert.Zero(t, stats.Calls[cpCgi])
	assert.Zero(t, stats.FloodLocks)
	t.Logf("%d file/mv.cgi calls, %d calls in all", stats.Calls[mvCgi], stats.Total())
}

func TestServerSideDeleteBatches(t *testing.T) {
	_, srv, a := serverSideFs(t, fichiertest.Options(), 200)
	ctx := withFlags(t, 4, 8)
	sub := fichiertest.NewFs(t, srv, "a", batchRate)
	srv.ResetStats()
	require.NoError(t, operations.Delete(ctx, sub))
	assert.Empty(t, namesIn(t, srv, a))
	stats := srv.Stats()
	assert.LessOrEqual(t, stats.Calls[rmCgi], int64(30))
	assert.Zero(t, stats.FloodLocks)
	t.Logf("%d file/rm.cgi calls, %d calls in all", stats.Calls[rmCgi], stats.Total())
}

// A lone copy, move, rename or removal is one call, as unbatched.
func TestServerSideLoneFileIsOneCall(t *testing.T) {
	f, srv, _ := serverSideFs(t, fichiertest.Options(), 3)
	ctx := context.Background()
	require.NoError(t, f.Mkdir(ctx, "b"))
	_, err := f.List(ctx, "b")
	require.NoError(t, err)
	object := func(remote string) fs.Object {
		o, err := f.NewObject(ctx, remote)
		require.NoError(t, err)
		return o
	}
	for _, tc := range []struct {
		endpoint string
		do       func() error
	}{
		{cpCgi, func() error { _, err := f.Copy(ctx, object("a/file000.txt"), "b/file000.txt"); return err }},
		{mvCgi, func() error { _, err := f.Move(ctx, object("a/file001.txt"), "b/file001.txt"); return err }},
		{renameCgi, func() error { _, err := f.Move(ctx, object("a/file002.txt"), "a/renamed.txt"); return err }},
		{rmCgi, func() error { return object("b/file000.txt").Remove(ctx) }},
	} {
		srv.ResetStats()
		require.NoError(t, tc.do(), tc.endpoint)
		assert.Equal(t, int64(1), srv.Stats().Total(), "%s: one call and nothing else", tc.endpoint)
		assert.Equal(t, int64(1), calls(srv, tc.endpoint))
	}
	assert.Equal(t, []string{"file001.txt"}, namesIn(t, srv, rootFolder(t, f, "b")))
	assert.Equal(t, []string{"file000.txt", "renamed.txt"}, namesIn(t, srv, rootFolder(t, f, "a")))
	entries, err := f.List(ctx, "a")
	require.NoError(t, err)
	require.Len(t, entries, 2, "the listing follows our own changes")
	assert.Equal(t, "a/renamed.txt", entries[1].Remote())
}

// A file 1fichier refuses fails alone; the rest of its batch succeeds.
func TestServerSideRefusedFileFailsAlone(t *testing.T) {
	f, srv, a := serverSideFs(t, fichiertest.Options(), 10)
	ctx := withFlags(t, 10, 8)
	objects := make([]fs.Object, 10)
	for i := range objects {
		o, err := f.NewObject(ctx, fmt.Sprintf("a/file%03d.txt", i))
		require.NoError(t, err)
		objects[i] = o
	}
	// One source vanishes behind the backend's back.
	gone := api.RemoveFileRequest{Files: []api.RemoveFile{{URL: objects[3].(*Object).url}}}
	require.NoError(t, f.call(ctx, &apiCall{path: api.FileRm, request: &gone, response: &api.RemoveFileResponse{}}))
	require.NoError(t, f.Mkdir(ctx, "b"))
	srv.ResetStats()
	errs := make([]error, len(objects))
	done := make(chan int)
	for i, o := range objects {
		go func() {
			_, errs[i] = f.Copy(ctx, o, "b/"+path.Base(o.Remote()))
			done <- i
		}()
	}
	for range objects {
		<-done
	}
	for i, err := range errs {
		if i == 3 {
			assert.ErrorIs(t, err, fs.ErrorObjectNotFound, "cp.cgi's not found reaches rclone")
			continue
		}
		require.NoError(t, err, i)
	}
	assert.Len(t, namesIn(t, srv, rootFolder(t, f, "b")), 9)
	assert.Len(t, namesIn(t, srv, a), 9)
}

// lose makes the emulator do the next call to endpoint but lose its
// answer (the connection reset once the work is done).
func lose(srv *emulator.TestServer, endpoint string) {
	srv.Faults().Add(endpoint, emulator.Fault{Kind: emulator.FaultResetAfter, Count: 1})
}

// A copy whose answer is lost is found made in a fresh listing and not
// sent again: no duplicate.
func TestServerSideCopyLostAnswerLeavesNoDuplicate(t *testing.T) {
	f, srv, _ := serverSideFs(t, fichiertest.Options(), 20)
	ctx := withFlags(t, 20, 8)
	src, dst := fichiertest.NewFs(t, srv, "a", batchRate), fichiertest.NewFs(t, srv, "b", batchRate)
	require.NoError(t, dst.Mkdir(ctx, ""))
	srv.ResetStats()
	lose(srv, cpCgi)
	require.NoError(t, fssync.CopyDir(ctx, dst, src, false))
	assert.Equal(t, 1, srv.Faults().Fired(cpCgi))
	assert.Equal(t, seededNames(20), namesIn(t, srv, rootFolder(t, f, "b")), "every file once")
	assert.Equal(t, int64(1), calls(srv, cpCgi), "the copies are found, not made again")
	assert.Equal(t, int64(1), calls(srv, "folder/ls.cgi"), "one listing finds them")
	entries, err := dst.List(ctx, "")
	require.NoError(t, err)
	assert.Len(t, entries, 20, "the listing holds each copy once")
}

// A copy whose answer is lost and that was not made after all (the
// emulator's reset-before is the same fault seen from the client: no
// answer) is sent again once the listing shows it is not there.
func TestServerSideCopyLostBeforeWorkIsSentAgain(t *testing.T) {
	f, srv, _ := serverSideFs(t, fichiertest.Options(), 1)
	ctx := context.Background()
	require.NoError(t, f.Mkdir(ctx, "b"))
	o, err := f.NewObject(ctx, "a/file000.txt")
	require.NoError(t, err)
	srv.ResetStats()
	srv.Faults().Add(cpCgi, emulator.Fault{Kind: emulator.FaultHTTP502, Count: 1})
	_, err = f.Copy(ctx, o, "b/file000.txt")
	require.NoError(t, err)
	assert.Equal(t, []string{"file000.txt"}, namesIn(t, srv, rootFolder(t, f, "b")))
	assert.Equal(t, int64(2), calls(srv, cpCgi), "not there after the 502: sent again")
	assert.Zero(t, srv.Stats().FloodLocks, "%v", srv.Stats().BrokenRules)
}

// A folder whose mkdir.cgi answer is lost is found in a fresh listing
// of its parent, not made twice.
func TestMkdirLostAnswerLeavesNoDuplicate(t *testing.T) {
	f, srv, _ := serverSideFs(t, fichiertest.Options(), 0)
	lose(srv, "folder/mkdir.cgi")
	require.NoError(t, f.Mkdir(context.Background(), "made/once"))
	assert.Equal(t, int64(2), calls(srv, "folder/mkdir.cgi"), "made, then once inside it")
	id := rootFolder(t, f, "made")
	sub, err := f.folderOf(context.Background(), "made/once", false)
	require.NoError(t, err)
	assert.NotZero(t, id)
	assert.NotZero(t, sub)
	entries, err := f.List(context.Background(), "")
	require.NoError(t, err)
	assert.Len(t, entries, 2, "a and made, each once")
}

// A remote upload whose request.cgi answer is lost is found among
// 1fichier's jobs and not asked for again: 1fichier fetches the URL once.
func TestRemoteUploadLostAnswerAsksOnce(t *testing.T) {
	f, srv, _ := serverSideFs(t, fichiertest.Options(), 0)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("moving pictures"))
	}))
	t.Cleanup(web.Close)
	lose(srv, "remote/request.cgi")
	out, err := f.Command(context.Background(), "remote-upload", []string{web.URL + "/film.mkv"}, map[string]string{"wait": "true"})
	require.NoError(t, err)
	job := out.(*RemoteUploadJob)
	assert.True(t, job.Done)
	assert.Equal(t, int64(1), calls(srv, "remote/request.cgi"), "asked once")
	assert.Equal(t, int64(1), calls(srv, "remote/ls.cgi"), "the job is looked for")
	assert.Equal(t, []string{"film.mkv"}, namesIn(t, srv, 0), "fetched once")
}

// A remote upload asked for again (a re-run after the first rclone was
// killed once 1fichier answered) reuses the job the journal kept, with
// no call; -o again asks anew.
func TestRemoteUploadAskedAgainReusesTheJob(t *testing.T) {
	f, srv, _ := serverSideFs(t, fichiertest.Options(), 0)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/film.mkv" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("moving pictures"))
	}))
	t.Cleanup(web.Close)
	ctx := context.Background()
	urls := []string{web.URL + "/film.mkv"}
	first, err := f.Command(ctx, "remote-upload", urls, nil)
	require.NoError(t, err)
	again, err := f.Command(ctx, "remote-upload", urls, nil)
	require.NoError(t, err)
	assert.Equal(t, first.(*RemoteUploadJob).ID, again.(*RemoteUploadJob).ID, "the same job")
	assert.Equal(t, int64(1), calls(srv, "remote/request.cgi"), "asked once")
	assert.Zero(t, calls(srv, "remote/ls.cgi"), "the job was known")
	status, err := f.Command(ctx, "status", nil, map[string]string{"json": "true"})
	require.NoError(t, err)
	assert.Empty(t, status.(*Status).Pending, "a known job is not pending")

	missing := []string{web.URL + "/missing.bin"}
	wait := map[string]string{"wait": "true"}
	_, err = f.Command(ctx, "remote-upload", missing, wait)
	require.ErrorContains(t, err, "1 of 1 URL(s) not fetched")
	_, err = f.Command(ctx, "remote-upload", missing, wait)
	require.ErrorContains(t, err, "1 of 1 URL(s) not fetched")
	assert.Equal(t, int64(2), calls(srv, "remote/request.cgi"), "the failed job is reported again, not asked anew")
	_, err = f.Command(ctx, "remote-upload", missing, map[string]string{"wait": "true", "again": "true"})
	require.ErrorContains(t, err, "1 of 1 URL(s) not fetched")
	assert.Equal(t, int64(3), calls(srv, "remote/request.cgi"), "-o again asks anew")
	assert.Equal(t, []string{"film.mkv"}, namesIn(t, srv, 0))
}

// Moves and removals are safe to repeat: a lost answer is retried, and
// a file already moved or gone counts as done.
func TestServerSideMoveAndRemoveLostAnswers(t *testing.T) {
	f, srv, a := serverSideFs(t, fichiertest.Options(), 8)
	ctx := withFlags(t, 8, 8)
	src, dst := fichiertest.NewFs(t, srv, "a", batchRate), fichiertest.NewFs(t, srv, "b", batchRate)
	fi, err := filter.NewFilter(nil)
	require.NoError(t, err)
	require.NoError(t, fi.Add(true, "*.txt"))
	ctx = filter.ReplaceConfig(ctx, fi)
	lose(srv, mvCgi)
	require.NoError(t, fssync.MoveDir(ctx, dst, src, false, false))
	b := rootFolder(t, f, "b")
	assert.Equal(t, seededNames(8), namesIn(t, srv, b))
	assert.Empty(t, namesIn(t, srv, a))

	lose(srv, rmCgi)
	require.NoError(t, operations.Delete(ctx, dst))
	assert.Empty(t, namesIn(t, srv, b))
	assert.Equal(t, 1, srv.Faults().Fired(rmCgi))
}

// An import whose file/cp.cgi answer is lost looks the links up and
// finds their copies in the folder, instead of copying them again.
func TestImportLostAnswerLeavesNoDuplicate(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	dir, err := srv.Mkdir(srv.Key, 0, "bulk")
	require.NoError(t, err)
	links, err := srv.SeedPublic(5)
	require.NoError(t, err)
	f := fichiertest.NewFs(t, srv, "bulk", map[string]string{"list_interval": "600ms"}).(*Fs)
	lose(srv, cpCgi)
	out, err := f.Command(context.Background(), "import", links, nil)
	require.NoError(t, err)
	lines := out.([]string)
	require.Len(t, lines, 5)
	assert.Equal(t, links[0]+`: stored "public-001.bin" (51 B)`, lines[0])
	assert.Equal(t, int64(1), calls(srv, cpCgi), "not copied again")
	assert.Equal(t, int64(5), calls(srv, "file/info.cgi"), "each link looked up once")
	names := namesIn(t, srv, dir)
	assert.Equal(t, []string{"public-001.bin", "public-002.bin", "public-003.bin", "public-004.bin", "public-005.bin"}, names)
}

// A purge whose file/rm.cgi answer is lost is retried and finds the
// files gone: done, not an error, and one listing says so rather than a
// call per file.
func TestPurgeLostAnswerIsDone(t *testing.T) {
	f, srv, _ := serverSideFs(t, fichiertest.Options(), 150)
	lose(srv, rmCgi)
	require.NoError(t, f.Purge(context.Background(), "a"))
	assert.Zero(t, srv.FileCount())
	assert.Equal(t, 1, srv.Faults().Fired(rmCgi))
	assert.Equal(t, int64(3), calls(srv, rmCgi), "100 lost, the same 100 again (all gone: a listing says so), then 50")
}

// A copy whose file is at the destination already, with the same size
// and checksum (a retry after a copy made but not confirmed, or a run
// after a kill), sends nothing.
func TestServerSideCopyOfAFileThereSendsNothing(t *testing.T) {
	f, srv, _ := serverSideFs(t, fichiertest.Options(), 1)
	ctx := context.Background()
	o, err := f.NewObject(ctx, "a/file000.txt")
	require.NoError(t, err)
	_, err = f.Copy(ctx, o, "b/file000.txt")
	require.NoError(t, err)
	srv.ResetStats()
	again, err := f.Copy(ctx, o, "b/file000.txt")
	require.NoError(t, err)
	assert.Zero(t, srv.Stats().Total(), "no call")
	assert.Equal(t, "b/file000.txt", again.Remote())
	assert.Equal(t, []string{"file000.txt"}, namesIn(t, srv, rootFolder(t, f, "b")))
}
