package fichier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/accounting"
	"github.com/rclone/rclone/fs/fserrors"
	"github.com/rclone/rclone/fs/hash"
	"github.com/rclone/rclone/fs/object"
	fssync "github.com/rclone/rclone/fs/sync"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The emulator's upload endpoints, as its stats name them.
const (
	uploadServer = "upload/get_upload_server.cgi"
	uploadCgi    = "upload.cgi"
	endPl        = "end.pl"
)

// batchRate paces the batch tests at 4 calls a second: each batch forms
// while its first file waits a quarter of a second for the budget, ample
// time for the other goroutines to queue, so the call counts do not depend
// on the machine's load.
var batchRate = map[string]string{"api_rate": "4"}

// newBatchFs starts an emulator with opts and returns a Fs on its root,
// paced at batchRate, with the root listed (so the first batch waits for
// the budget like every later one) and the stats reset.
func newBatchFs(t *testing.T, opts emulator.Options) (*Fs, *emulator.TestServer) {
	t.Helper()
	f, srv := newTestFs(t, opts, "", batchRate)
	_, err := f.List(context.Background(), "")
	require.NoError(t, err)
	srv.ResetStats()
	return f, srv
}

// upload is one file for putAll: where it goes and what it holds.
type upload struct {
	remote, data string
}

// numbered returns n uploads called prefix000.txt and on.
func numbered(prefix string, n int) []upload {
	uploads := make([]upload, n)
	for i := range uploads {
		uploads[i] = upload{remote: fmt.Sprintf("%s%03d.txt", prefix, i), data: fmt.Sprintf("content of %s file %d", prefix, i)}
	}
	return uploads
}

// putAll uploads every file with PutUnchecked from workers goroutines
// and returns each file's object and error, in the order given.
func putAll(f fs.Fs, workers int, uploads []upload) ([]fs.Object, []error) {
	objects, errs := make([]fs.Object, len(uploads)), make([]error, len(uploads))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				u := uploads[i]
				src := object.NewStaticObjectInfo(u.remote, time.Now(), int64(len(u.data)), true, nil, nil)
				objects[i], errs[i] = f.Features().PutUnchecked(context.Background(), strings.NewReader(u.data), src)
			}
		})
	}
	for i := range uploads {
		next <- i
	}
	close(next)
	wg.Wait()
	return objects, errs
}

// requireAllStored checks that no upload failed, then requireStored.
func requireAllStored(t *testing.T, srv *emulator.TestServer, uploads []upload, objects []fs.Object, errs []error, want int) {
	t.Helper()
	for i, err := range errs {
		require.NoError(t, err, uploads[i].remote)
	}
	requireStored(t, srv, uploads, objects, errs, want)
}

// requireStored checks that each upload without an error gave an object
// holding its own data, and that the server has exactly want files.
func requireStored(t *testing.T, srv *emulator.TestServer, uploads []upload, objects []fs.Object, errs []error, want int) {
	t.Helper()
	for i, u := range uploads {
		if errs[i] != nil {
			continue
		}
		o := objects[i].(*Object)
		assert.Equal(t, u.remote, o.Remote())
		assert.Equal(t, int64(len(u.data)), o.Size())
		data, err := srv.FileData(o.url)
		require.NoError(t, err, u.remote)
		assert.Equal(t, u.data, string(data), "%s got another file's URL", u.remote)
		info, err := srv.Lookup(o.url)
		require.NoError(t, err)
		assert.Equal(t, info.Whirlpool, o.whirlpool, u.remote)
	}
	assert.Equal(t, want, srv.FileCount())
}

func TestBatchHundredFilesInFourRequests(t *testing.T) {
	f, srv := newBatchFs(t, fichiertest.Options())
	require.NoError(t, f.Mkdir(context.Background(), "dir"))
	uploads := numbered("dir/file", 100)
	objects, errs := putAll(f, 32, uploads)
	requireAllStored(t, srv, uploads, objects, errs, 100)
	stats := srv.Stats()
	// 32 Puts at once: batches of 32, 32, 32 and 4.
	for _, endpoint := range []string{uploadServer, uploadCgi, endPl} {
		assert.LessOrEqual(t, stats.Calls[endpoint], int64(4), endpoint)
	}
	assert.Zero(t, stats.Calls["folder/ls.cgi"], "the new folder is known to be empty")
	assert.Zero(t, stats.FloodLocks)
}

func TestBatchLoneFileMakesThreeCalls(t *testing.T) {
	f, srv := newBatchFs(t, fichiertest.Options())
	uploads := numbered("lone", 1)
	objects, errs := putAll(f, 1, uploads)
	require.NoError(t, errs[0])
	requireStored(t, srv, uploads, objects, errs, 1)
	stats := srv.Stats()
	assert.Equal(t, int64(1), stats.Calls[uploadServer])
	assert.Equal(t, int64(1), stats.Calls[uploadCgi])
	assert.Equal(t, int64(1), stats.Calls[endPl])
	assert.Equal(t, int64(3), stats.Total())
}

func TestBatchOff(t *testing.T) {
	f, srv := newTestFs(t, fichiertest.Options(), "", map[string]string{"api_rate": "4", "batch_max_size": "0"})
	uploads := numbered("file", 5)
	objects, errs := putAll(f, 5, uploads)
	requireAllStored(t, srv, uploads, objects, errs, 5)
	assert.Equal(t, int64(5), calls(srv, uploadCgi), "batch_max_size = 0: one request per file")
}

func TestBatchBiggerFilesGoAlone(t *testing.T) {
	f, srv := newTestFs(t, fichiertest.Options(), "", map[string]string{"api_rate": "4", "batch_max_size": "20B"})
	// Listed first, so the small files meet while their upload server
	// waits for the budget, as in newBatchFs.
	_, err := f.List(context.Background(), "")
	require.NoError(t, err)
	uploads := []upload{
		{"small1.txt", "short"}, {"small2.txt", "short too"},
		{"big1.txt", "more than twenty bytes"}, {"big2.txt", "also more than twenty bytes"},
	}
	objects, errs := putAll(f, 4, uploads)
	requireAllStored(t, srv, uploads, objects, errs, 4)
	assert.Equal(t, int64(3), calls(srv, uploadCgi), "the two small files together, the big ones alone")
}

func TestBatchAtMost500FilesPerRequest(t *testing.T) {
	f, srv := newBatchFs(t, fichiertest.Options())
	uploads := numbered("f", 501)
	objects, errs := putAll(f, 501, uploads)
	for _, err := range errs {
		require.NoError(t, err, "the emulator refuses a request of more than 500 files")
	}
	requireStored(t, srv, uploads, objects, errs, 501)
	assert.GreaterOrEqual(t, calls(srv, uploadCgi), int64(2))
	assert.LessOrEqual(t, calls(srv, uploadCgi), int64(3))
}

func TestBatchNeverCarriesOneNameTwice(t *testing.T) {
	f, srv := newBatchFs(t, fichiertest.Options())
	uploads := []upload{{"a.txt", "first a"}, {"a.txt", "second a"}, {"b.txt", "only b"}}
	objects, errs := putAll(f, 3, uploads)
	requireAllStored(t, srv, uploads, objects, errs, 3)
	assert.Equal(t, int64(2), calls(srv, uploadCgi), "one a.txt and b.txt, then the other a.txt")
}

// A batch whose answer is lost is found stored from end.pl, 1fichier's
// record of the upload, and not sent again: with current listings, and
// with listings that never show new files, as 1fichier's lag behind.
func TestBatchLostAnswerLeavesNoDuplicate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		lost     string
		lag      time.Duration
		endCalls int64
	}{
		{"upload.cgi answer", uploadCgi, 0, 1},
		{"upload.cgi answer, lagging listings", uploadCgi, time.Hour, 1},
		{"end.pl answer, lagging listings", endPl, time.Hour, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := fichiertest.Options()
			opts.ListingDelay = tc.lag
			f, srv := newBatchFs(t, opts)
			srv.Faults().Add(tc.lost, emulator.Fault{Kind: emulator.FaultResetAfter, Count: 1})
			uploads := numbered("file", 20)
			objects, errs := putAll(f, 20, uploads)
			requireAllStored(t, srv, uploads, objects, errs, 20)
			assert.Equal(t, int64(1), calls(srv, uploadCgi), "the stored files are found, not uploaded again")
			assert.Equal(t, tc.endCalls, calls(srv, endPl), "end.pl is asked although the answer was lost")
			assert.Zero(t, calls(srv, "folder/ls.cgi"), "no listing is needed")
		})
	}
}

// syncContext returns a context with its own transfer stats, so the
// errors a test provokes do not stop later syncs from deleting.
func syncContext(t *testing.T) context.Context {
	return accounting.WithStatsGroup(context.Background(), t.Name())
}

func TestBatchCutRequestIsRetriedWhole(t *testing.T) {
	ctx := syncContext(t)
	srv := emulator.NewTestServer(t, fichiertest.Options())
	src := makeTree(t, 1, 8)
	dst := fichiertest.NewFs(t, srv, "", batchRate)
	// The first request is cut halfway: nothing of it is stored.
	srv.Faults().Add(uploadCgi, emulator.Fault{Kind: emulator.FaultResetMidUpload, Count: 1})
	require.NoError(t, fssync.CopyDir(ctx, dst, src, false))
	assert.Equal(t, 8, srv.FileCount(), "every file stored once")
	assert.Equal(t, 1, srv.Faults().Fired(uploadCgi))
}

func TestBatchEndPlMissingOneLink(t *testing.T) {
	f, srv := newBatchFs(t, fichiertest.Options())
	srv.Faults().Add(endPl, emulator.Fault{Kind: emulator.FaultEndShort, Count: 1})
	uploads := numbered("file", 10)
	objects, errs := putAll(f, 10, uploads)
	requireAllStored(t, srv, uploads, objects, errs, 10)
	assert.Equal(t, int64(1), calls(srv, uploadCgi), "the file left out is found stored, not uploaded again")
	assert.Equal(t, int64(1), calls(srv, endPl))
	assert.Equal(t, int64(1), calls(srv, "folder/ls.cgi"))
	// The listing cache holds each file once.
	entries, err := f.List(context.Background(), "")
	require.NoError(t, err)
	assert.Len(t, entries, 10)
}

func TestBatchFileNeitherLinkedNorListedIsRetried(t *testing.T) {
	f, _ := newBatchFs(t, fichiertest.Options())
	item := &batchItem{name: "ghost.txt", size: 5}
	results := make([]batchResult, 1)
	f.findUploaded(context.Background(), 0, []*batchItem{item}, results, nil, fmt.Errorf("end.pl left it out"))
	assert.Nil(t, results[0].file, "never reported stored")
	require.Error(t, results[0].err)
	assert.True(t, fserrors.IsRetryError(results[0].err))
}

func TestBatchRefusedNameFailsAlone(t *testing.T) {
	// An encoding that lets $ through, which 1fichier refuses.
	extra := map[string]string{"encoding": "Slash,Dot"}
	for k, v := range batchRate {
		extra[k] = v
	}
	f, srv := newTestFs(t, fichiertest.Options(), "", extra)
	_, err := f.List(context.Background(), "")
	require.NoError(t, err)
	srv.ResetStats()
	uploads := append(numbered("good", 5), upload{remote: "bad$name.txt", data: "refused"})
	objects, errs := putAll(f, len(uploads), uploads)
	for i, err := range errs[:5] {
		require.NoError(t, err, uploads[i].remote)
	}
	require.Error(t, errs[5])
	assert.Contains(t, errs[5].Error(), "bad$name.txt")
	assert.Contains(t, errs[5].Error(), "Invalid name: forbidden character", "the upload node's HTML page gives its reason")
	requireStored(t, srv, uploads, objects, errs, 5)
	assert.Equal(t, int64(2), calls(srv, uploadCgi), "the good files together, the bad one alone")

	// A refused name is final: the same process does not send it again.
	_, err = f.Put(context.Background(), strings.NewReader("refused"), object.NewStaticObjectInfo("bad$name.txt", time.Now(), 7, true, nil, nil))
	require.Error(t, err)
	assert.True(t, fserrors.IsNoRetryError(err), "rclone must not retry it: %v", err)
	assert.Equal(t, int64(2), calls(srv, uploadCgi), "nothing sent for the second try")
}

func TestBatchRefusedRequestIsRetriedFileByFile(t *testing.T) {
	ctx := syncContext(t)
	opts := fichiertest.Options()
	// Room for two of the 20-byte files, not for a batch of four.
	opts.Accounts = []emulator.Account{{Key: emulator.NewTestKey(), Offer: emulator.OfferPremium, ColdQuota: 50}}
	srv := emulator.NewTestServer(t, opts)
	src, err := fs.NewFs(ctx, ":memory:"+t.Name())
	require.NoError(t, err)
	for i := range 4 {
		put(t, src, fmt.Sprintf("f%d.bin", i), fmt.Sprintf("twenty bytes, no. %02d", i))
	}
	dst := fichiertest.NewFs(t, srv, "", batchRate)
	ci := fs.GetConfig(ctx)
	require.Equal(t, 4, ci.Transfers)
	err = fssync.CopyDir(ctx, dst, src, false)
	require.Error(t, err, "the files beyond the quota fail")
	assert.Equal(t, 2, srv.FileCount(), "after the batch is refused, each file is tried alone: two fit")
}

// failingSource is a source that fails after its first bytes.
type failingSource struct{}

func (failingSource) Read(p []byte) (int, error) {
	return 0, errors.New("input/output error reading the source")
}

// One source that fails mid-read among 31 fails alone: its neighbours'
// retries (as rclone's low-level retries make them, with their sources
// opened again) go without it and succeed.
func TestBatchBadSourceFailsAlone(t *testing.T) {
	f, srv := newBatchFs(t, fichiertest.Options())
	uploads := numbered("good", 30)
	bad := 17
	uploads = append(uploads[:bad], append([]upload{{remote: "bad.txt", data: "never read whole"}}, uploads[bad:]...)...)
	errs := make([]error, len(uploads))
	var wg sync.WaitGroup
	for i, u := range uploads {
		wg.Go(func() {
			for try := 0; try < 3; try++ {
				var in io.Reader = strings.NewReader(u.data)
				if i == bad {
					in = io.MultiReader(strings.NewReader(u.data[:3]), failingSource{})
				}
				src := object.NewStaticObjectInfo(u.remote, time.Now(), int64(len(u.data)), true, nil, nil)
				_, errs[i] = f.Features().PutUnchecked(context.Background(), in, src)
				if !fserrors.ShouldRetry(errs[i]) {
					return
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i == bad {
			require.Error(t, err)
			assert.Contains(t, err.Error(), "input/output error reading the source")
			continue
		}
		require.NoError(t, err, uploads[i].remote)
	}
	assert.Equal(t, 30, srv.FileCount(), "every good file, once")
}

// An upload another running process is sending is not settled by us: a
// listing goes on without waiting for it, an upload of another name too,
// and only an upload of a name it carries waits for it to end.
func TestUploadOfAnotherProcessHoldsOnlyItsNames(t *testing.T) {
	f, srv := newBatchFs(t, fichiertest.Options())
	ctx := context.Background()
	other := processID{PID: os.Getppid(), Start: processStart(os.Getppid())}
	entry := journalEntry{Folder: 0, Node: srv.URL, Files: []journalFile{{Name: "busy.txt", Size: 4}}, Sent: time.Now(), Owner: other}
	require.NoError(t, f.acc.db.update(func(k *keyTx) error { return k.putJournal("otherxid01", &entry) }))

	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := f.List(short, "")
	require.NoError(t, err, "a listing does not wait")
	put(t, f, "free.txt", "free")

	waiting, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel2()
	src := object.NewStaticObjectInfo("busy.txt", time.Now(), 4, true, nil, nil)
	_, err = f.Put(waiting, strings.NewReader("busy"), src)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the same name waits for the other upload")
	assert.Equal(t, int64(1), calls(srv, endPl), "free.txt's end.pl only: the other process's session is not asked for")

	f.acc.journal.record(0, "otherxid01", nil, true) // the other process is done
	put(t, f, "busy.txt", "busy")
	assert.Equal(t, 2, srv.FileCount())
}

// The upload server goes to the folder with the most files waiting: a
// lone file of one folder that started the wait goes after the five of
// another folder that arrived meanwhile, and neither is split.
func TestBatchServerGoesToFullestFolder(t *testing.T) {
	f, srv := newBatchFs(t, fichiertest.Options())
	ctx := context.Background()
	require.NoError(t, f.Mkdir(ctx, "lone"))
	require.NoError(t, f.Mkdir(ctx, "full"))
	srv.ResetStats()

	var mu sync.Mutex
	var order []string
	put := func(u upload) {
		_, errs := putAll(f, 1, []upload{u})
		assert.NoError(t, errs[0], u.remote)
		mu.Lock()
		order = append(order, path.Dir(u.remote))
		mu.Unlock()
	}
	var wg sync.WaitGroup
	wg.Go(func() { put(upload{remote: "lone/only.txt", data: "alone"}) })
	require.Eventually(t, func() bool { return queuedFiles(f.batcher) == 1 },
		time.Second, time.Millisecond, "the lone file starts the wait for an upload server")
	for _, u := range numbered("full/file", 5) {
		wg.Go(func() { put(u) })
	}
	wg.Wait()

	assert.Equal(t, []string{"full", "full", "full", "full", "full", "lone"}, order)
	for _, endpoint := range []string{uploadServer, uploadCgi, endPl} {
		assert.Equal(t, int64(2), calls(srv, endpoint), endpoint)
	}
	assert.Equal(t, int64(6), srv.Stats().Total())
	assert.Equal(t, 6, srv.FileCount())
}

// queuedFiles returns how many files wait in b's queues.
func queuedFiles(b *batcher) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, fq := range b.queues {
		n += len(fq.waiting)
	}
	return n
}

// up names the upload lane of folder id.
func up(id int) laneKey { return laneKey{kind: laneUpload, folder: id} }

// queueOf makes a folder queue with n files waiting.
func queueOf(n int) *folderQueue {
	fq := &folderQueue{}
	for i := range n {
		fq.waiting = append(fq.waiting, &queued{item: &batchItem{name: fmt.Sprintf("f%d", i), size: 1}})
	}
	return fq
}

// A folder passed over maxPassedOver times goes next, however many files
// wait elsewhere; until then the fullest goes, and on a tie the one
// passed over the longest.
func TestBatchNoFolderWaitsForever(t *testing.T) {
	b := newBatcher(1, 0, nil, nil)
	b.queues[up(1)] = queueOf(1)
	for round := range maxPassedOver {
		b.queues[up(2)] = queueOf(10)
		id, batch, view := b.next()
		require.Equal(t, up(2), id, "round %d: the fuller folder goes", round)
		assert.Len(t, batch, 10)
		assert.Equal(t, dispatchView{files: 10, folders: 2, held: 11}, view)
		b.queues[up(2)].onWay = 0
	}
	b.queues[up(2)] = queueOf(10)
	id, batch, _ := b.next()
	assert.Equal(t, up(1), id, "passed over %d times, the lone file goes", maxPassedOver)
	assert.Len(t, batch, 1)

	b = newBatcher(1, 0, nil, nil)
	b.queues[up(1)], b.queues[up(2)] = queueOf(3), queueOf(3)
	for i, q := range b.queues[up(1)].waiting {
		q.seq = uint64(10 + i)
	}
	for i, q := range b.queues[up(2)].waiting {
		q.seq = uint64(5 + i)
	}
	id, _, _ = b.next()
	assert.Equal(t, up(2), id, "a tie goes to the folder whose first file came first")
	assert.Equal(t, 1, b.queues[up(1)].passedOver)
}

// batch_size caps the files of one request.
func TestBatchSizeCapsRequest(t *testing.T) {
	b := newBatcher(1, 4, nil, nil)
	b.queues[up(7)] = queueOf(10)
	_, batch, _ := b.next()
	assert.Len(t, batch, 4)
	assert.Len(t, b.queues[up(7)].waiting, 6)
}

func TestBatchAdvice(t *testing.T) {
	for _, tc := range []struct {
		name      string
		transfers int
		view      dispatchView
		want      string
	}{
		{"few transfers", 4, dispatchView{files: 2, folders: 2, held: 4}, "--transfers 32"},
		{"folders interleaved", 64, dispatchView{files: 12, folders: 8, held: 60}, "--order-by name"},
		{"full batches", 64, dispatchView{files: 30, folders: 3, held: 64}, ""},
		{"files come slowly", 64, dispatchView{files: 2, folders: 2, held: 4}, ""},
		{"one folder, few transfers, full", 4, dispatchView{files: 4, folders: 1, held: 4}, "--transfers 32"},
		{"one folder, many transfers", 64, dispatchView{files: 7, folders: 1, held: 60}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s batchSizes
			for range adviceAfterRequests {
				s.requests++
				s.files += tc.view.files
				s.folders += tc.view.folders
				s.held += tc.view.held
			}
			got := s.advice(tc.transfers, 8)
			if tc.want == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, tc.want)
		})
	}
}

func TestBatchOptions(t *testing.T) {
	for _, tc := range []struct {
		mode    string
		size    int
		wantErr string
		maxSize fs.SizeSuffix
	}{
		{mode: "sync", maxSize: 1024},
		{mode: "", maxSize: 1024},
		{mode: "off", maxSize: 0},
		{mode: "async", wantErr: "batch_mode async is not offered"},
		{mode: "fast", wantErr: `batch_mode must be sync or off, not "fast"`},
		{mode: "sync", size: 501, wantErr: "batch_size must be from 0"},
		{mode: "sync", size: -1, wantErr: "batch_size must be from 0"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			opt := &Options{BatchMode: tc.mode, BatchSize: tc.size, BatchMaxSize: 1024}
			err := checkBatchOptions(opt)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.maxSize, opt.BatchMaxSize)
		})
	}
}

// Each run of requests is judged on its own: a copy whose batches were
// full at first and shrink once rclone's queue mixes folders gets the
// advice then.
func TestBatchAdviceJudgesEachRun(t *testing.T) {
	var told []string
	s := batchSizes{tell: func(advice string) { told = append(told, advice) }}
	ctx, ci := fs.AddConfig(context.Background())
	ci.Transfers = 64
	for range adviceAfterRequests {
		s.record(ctx, dispatchView{files: 30, folders: 3, held: 64})
	}
	assert.Empty(t, told, "full batches")
	for range adviceAfterRequests {
		s.record(ctx, dispatchView{files: 12, folders: 8, held: 60})
	}
	require.Len(t, told, 1)
	assert.Contains(t, told[0], "12.0 per upload request")
	assert.Contains(t, told[0], "--order-by name")
}

// A request of less than overlapBytes holds back a next one that would
// carry fewer files, whichever folder it is for, until it is done; a
// next batch as full goes beside it, and so does any beside a request of
// more data.
func TestBatchSmallRequestHoldsAScantierNext(t *testing.T) {
	b := newBatcher(overlapBytes, 0, nil, nil)
	b.queues[up(1)], b.queues[up(2)] = queueOf(3), queueOf(5)
	id, _, _ := b.next()
	require.Equal(t, up(2), id)
	ready, waiting := b.readiness()
	assert.False(t, ready, "3 files wait while 5 are on their way")
	assert.True(t, waiting)

	b.queues[up(1)].waiting = append(b.queues[up(1)].waiting, queueOf(2).waiting...)
	ready, _ = b.readiness()
	assert.True(t, ready, "5 files go beside 5")

	b.queues[up(1)].waiting = b.queues[up(1)].waiting[:1]
	b.queues[up(2)].onWay, b.queues[up(2)].small = 0, false
	ready, _ = b.readiness()
	assert.True(t, ready, "once the request is done, even one file goes")

	b = newBatcher(overlapBytes, 0, nil, nil)
	b.queues[up(2)] = &folderQueue{}
	for i := range 2 {
		b.queues[up(2)].waiting = append(b.queues[up(2)].waiting, &queued{item: &batchItem{name: fmt.Sprint(i), size: overlapBytes / 2}})
	}
	_, batch, _ := b.next()
	require.Len(t, batch, 2)
	b.queues[up(1)] = queueOf(1)
	ready, _ = b.readiness()
	assert.True(t, ready, "a request of overlapBytes lets the next go beside it")
}

// A folder's last file, held back beside a fuller request, stalls once
// any request ends without it gaining a file: it then goes beside the
// next one instead of keeping its transfer from the next batches.
func TestBatchStalledFolderGoesBesideAFullerRequest(t *testing.T) {
	b := newBatcher(overlapBytes, 0, nil, nil)
	b.queues[up(1)], b.queues[up(2)] = queueOf(1), queueOf(3)
	id, _, _ := b.next()
	require.Equal(t, up(2), id)
	ready, _ := b.readiness()
	assert.False(t, ready, "1 file waits while 3 are on their way")

	b.queues[up(2)].waiting = queueOf(3).waiting // the 3 transfers came back with more of folder 2
	b.finished(up(2))
	id, batch, _ := b.next()
	require.Equal(t, up(2), id, "the fuller folder still goes first")
	assert.Len(t, batch, 3)
	ready, _ = b.readiness()
	assert.True(t, ready, "folder 1 gained nothing while a request ended: it goes beside")
	id, batch, _ = b.next()
	assert.Equal(t, up(1), id)
	assert.Len(t, batch, 1)

	b.queues[up(1)].onWay = 0
	b.dispatching = true // no dispatcher: this batcher has no Fs
	b.enqueue(context.Background(), up(1), &queued{item: &batchItem{name: "new", size: 1}, done: make(chan struct{})})
	assert.False(t, b.queues[up(1)].stalled, "a file joining makes the folder gather again")
}

// Server-side batches get the NOTICE in their own words, and removals,
// which come from rclone's checkers, point at --checkers.
func TestBatchAdviceServerSide(t *testing.T) {
	small := dispatchView{files: 2, folders: 1, held: 4}
	for _, tc := range []struct {
		kind       laneKind
		want, flag string
	}{
		{laneCopy, "server-side copies are going 2.0 per file/cp.cgi call", "--transfers 4 files"},
		{laneMove, "file/mv.cgi call", "--transfers 32 would"},
		{laneRename, "file/rename.cgi call", "--transfers 32 would"},
		{laneRemove, "removals are going 2.0 per file/rm.cgi call", "--checkers 8 files at once; --checkers 32"},
	} {
		s := batchSizes{kind: tc.kind}
		for range adviceAfterRequests {
			s.requests++
			s.files += small.files
			s.folders += small.folders
			s.held += small.held
		}
		got := s.advice(4, 8)
		assert.Contains(t, got, tc.want)
		assert.Contains(t, got, tc.flag)
	}
}

// The batcher needs no Fs: handed a slot wait and a commit, it sends
// the files that gathered while the slot was awaited as one batch, in
// the slot it got, and gives each caller its own result.
func TestBatcherCommitsThroughItsFunctions(t *testing.T) {
	slotAsked, slotGiven := make(chan struct{}), make(chan struct{})
	slot := func(ctx context.Context) error {
		close(slotAsked)
		<-slotGiven
		return nil
	}
	var mu sync.Mutex
	var batches [][]string
	commit := func(_ context.Context, slotAt time.Time, id laneKey, batch []*queued) []batchResult {
		assert.False(t, slotAt.IsZero(), "the batch goes in the slot the dispatcher got")
		assert.Equal(t, up(7), id)
		names := make([]string, len(batch))
		results := make([]batchResult, len(batch))
		for i, q := range batch {
			names[i] = q.item.name
			results[i].file = &api.File{Filename: "stored " + q.item.name}
		}
		mu.Lock()
		batches = append(batches, names)
		mu.Unlock()
		return results
	}
	b := newBatcher(1<<20, 0, slot, commit)
	stored := make([]string, 3)
	var wg sync.WaitGroup
	for i := range stored {
		wg.Go(func() {
			file, err := b.add(t.Context(), 7, &batchItem{ctx: t.Context(), name: fmt.Sprintf("f%d", i), size: 1})
			assert.NoError(t, err)
			if file != nil {
				stored[i] = file.Filename
			}
		})
	}
	<-slotAsked
	require.Eventually(t, func() bool { return queuedFiles(b) == 3 }, 10*time.Second, time.Millisecond)
	close(slotGiven)
	wg.Wait()
	assert.Equal(t, []string{"stored f0", "stored f1", "stored f2"}, stored)
	require.Len(t, batches, 1, "the files that waited for the slot go in one request")
	assert.ElementsMatch(t, []string{"f0", "f1", "f2"}, batches[0])
}

// TestPutAfterAnotherProcessStoredTheFile: another running rclone is
// uploading the very file a Put is asked for, into a folder whose stored
// listing predates it. The Put waits for that upload to be recorded and
// then finds the file: the same content is not sent a second time.
func TestPutAfterAnotherProcessStoredTheFile(t *testing.T) {
	f, srv := newBatchFs(t, fichiertest.Options())
	ctx := context.Background()
	_, err := f.List(ctx, "")
	require.NoError(t, err)
	const data = "busy"
	other := processID{PID: os.Getppid(), Start: processStart(os.Getppid())}
	entry := journalEntry{Folder: 0, Node: srv.URL, Files: []journalFile{{Name: "busy.txt", Size: 4}}, Sent: time.Now(), Owner: other}
	require.NoError(t, f.acc.db.update(func(k *keyTx) error { return k.putJournal("otherxid02", &entry) }))
	u, err := srv.PutFile(srv.Key, 0, "busy.txt", []byte(data))
	require.NoError(t, err)
	stored, err := srv.Lookup(u)
	require.NoError(t, err)
	go func() {
		time.Sleep(300 * time.Millisecond) // the other process ends its upload
		file := api.File{URL: u, Filename: stored.Name, Size: api.Int(stored.Size), Checksum: stored.Whirlpool, Date: apiTime(time.Now())}
		f.acc.journal.record(0, "otherxid02", []api.File{file}, true)
	}()

	uploads := calls(srv, "upload.cgi")
	src := object.NewStaticObjectInfo("busy.txt", time.Now(), 4, true, map[hash.Type]string{hash.Whirlpool: whirlpoolOf(t, data)}, nil)
	_, err = f.Put(ctx, strings.NewReader(data), src)
	require.NoError(t, err)
	assert.Equal(t, uploads, calls(srv, "upload.cgi"), "nothing sent")
	assert.Equal(t, 1, srv.FileCount(), "busy.txt once")
}
