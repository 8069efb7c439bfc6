package fichier

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/fs"
)

// Batched uploads.
//
// An upload costs three API calls whatever its size (get_upload_server.cgi,
// upload.cgi and end.pl), and upload.cgi takes many files in one request.
// So small files bound for one folder go out together. One dispatcher per
// Fs asks for an upload server whenever files wait; that call waits for
// the API budget, and every file arriving meanwhile joins its folder's
// queue. When the server comes, it goes to the folder with the most files
// waiting: for small files the budget, not the data, is what runs out, so
// each request should carry as many as it can. For the same reason a
// request of little data holds back a next one that would carry fewer
// files, until it is done (overlapBytes). A folder passed over maxPassedOver times goes next
// whatever its size, so none waits forever, and a lone file goes as soon
// as the budget allows, as it would unbatched; there is no timer. rclone's --transfers bounds how many Puts
// wait at once, and so the size of a batch; a Put returns only once its
// file is stored.
//
// The shape is lib/batcher's: the batcher knows no Fs; it is handed the
// function that waits for a call slot and the one that commits a batch,
// from items to their results (Fs.commitLane, upload.go). lib/batcher
// itself does not fit: it commits after the data went up (here the data
// is the batch), it batches on a timer, and it has no notion of a
// destination folder.

// Limits of one upload.cgi request: 500 files and 500 GB, less room for
// the form around the files.
const (
	maxBatchFiles = 500
	maxBatchBytes = 500e9 - 1e9
)

// overlapBytes is the size below which a request holds back a next one
// that would carry fewer files, until it is done. For such a request the
// API budget, not the link, sets the pace: the next request's three calls
// come after its own whether they overlap or not, and waiting lets every
// file rclone has in transfer, not only those left over, meet in the next
// batch (rclone's queue mixing folders leaves each only a few). A next
// batch as full goes at once: when rclone's queue hands out one folder's
// files after another, holding it back would only leave a few of them
// behind to be sent apart. A request of more data than this lets the
// next go beside it, so the link stays busy.
const overlapBytes = 16 << 20

// maxPassedOver is how many requests may go to fuller folders before a
// folder with files waiting goes next whatever its size. Without such a
// bound the folders left with a few files each keep their transfer slots
// for long, and the batches of the others shrink. It is rclone's default
// --checkers: how many folders' files rclone's queue mixes at once.
const maxPassedOver = 8

// batchItem is one file to upload.
type batchItem struct {
	ctx      context.Context // the Put's
	in       io.Reader
	name     string // as 1fichier stores it
	mimeType string
	size     int64
	options  []fs.OpenOption
}

// batchResult is what became of one batchItem: the stored file, or why
// it is not stored.
type batchResult struct {
	file *api.File
	err  error
}

// queued is a batchItem or a serverOp waiting in its lane's queue, and
// where its result goes.
type queued struct {
	seq    uint64     // arrival order, in the batcher
	item   *batchItem // an upload
	op     *serverOp  // or a server-side operation
	result batchResult
	done   chan struct{} // closed once result is set
}

// name is what no two files of one request may share: an upload's
// name (1fichier's answer tells them apart by name), a server-side
// operation's file URL.
func (q *queued) name() string {
	if q.op != nil {
		return q.op.url
	}
	return q.item.name
}

// size is the data the file adds to its request.
func (q *queued) size() int64 {
	if q.op != nil {
		return 0
	}
	return q.item.size
}

// ctx is the context of the rclone call the file belongs to.
func (q *queued) ctx() context.Context {
	if q.op != nil {
		return q.op.ctx
	}
	return q.item.ctx
}

// folderQueue is what waits for one folder.
type folderQueue struct {
	waiting    []*queued
	onWay      int  // files of the folder's request on its way (0: none); the next waits for it
	small      bool // that request carries less than overlapBytes
	passedOver int  // requests that went to fuller folders since its last one
	stalled    bool // a request of another lane ended since a file last joined: no more come
}

// batcher gathers the small uploads and the server-side operations of
// one Fs into batches, by lane: what the request does, and in which
// folder.
type batcher struct {
	slot     slotFunc   // waits for a call slot of the budget
	commit   commitFunc // sends one lane's batch
	maxSize  int64      // larger files go alone; 0 turns batching off
	maxFiles int        // files per upload request
	sizes    [laneKinds]*batchSizes

	mu          sync.Mutex
	ready       *sync.Cond               // signalled when a lane may have become ready, or none waits
	queues      map[laneKey]*folderQueue // lanes with files waiting or a request on its way
	dispatching bool                     // the dispatcher runs
	arrivals    uint64                   // files queued so far, to number them
	alone       map[aloneKey]bool        // files to send alone until they are stored
}

// slotFunc waits for a call slot of the API budget, and says why there
// is none if it fails.
type slotFunc func(ctx context.Context) error

// commitFunc sends batch, the files of lane id, in the call slot booked at
// slotAt, and returns what became of each, in order.
type commitFunc func(ctx context.Context, slotAt time.Time, id laneKey, batch []*queued) []batchResult

// aloneKey names a file in a folder.
type aloneKey struct {
	folder int
	name   string
}

// newBatcher makes a batcher whose files up to maxSize go in requests of
// at most maxFiles files (0: as many as 1fichier takes): each request waits
// for slot, then goes out through commit.
func newBatcher(maxSize int64, maxFiles int, slot slotFunc, commit commitFunc) *batcher {
	if maxFiles <= 0 || maxFiles > maxBatchFiles {
		maxFiles = maxBatchFiles
	}
	b := &batcher{
		slot:     slot,
		commit:   commit,
		maxSize:  maxSize,
		maxFiles: maxFiles,
		queues:   make(map[laneKey]*folderQueue),
		alone:    make(map[aloneKey]bool),
	}
	for kind := range b.sizes {
		b.sizes[kind] = &batchSizes{tell: tellOnce(laneKind(kind)), kind: laneKind(kind)}
	}
	b.ready = sync.NewCond(&b.mu)
	return b
}

// accepts reports whether item may join a batch for folder id: it is
// small enough, its name is one 1fichier is known to take (a refused name
// fails the whole request), and it is not to go alone since a request
// carrying it failed.
func (b *batcher) accepts(id int, item *batchItem) bool {
	if b.maxSize <= 0 || item.size > b.maxSize || !plainName(item.name) {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.alone[aloneKey{folder: id, name: item.name}]
}

// plainName reports whether name has none of what 1fichier refuses or
// mangles: the characters \ < > " ' $ ` / ´, control characters, spaces at
// either end, and invalid UTF-8. The default encoding removes most of them,
// but not every user keeps it.
func plainName(name string) bool {
	return utf8.ValidString(name) &&
		strings.TrimSpace(name) == name &&
		!strings.ContainsAny(name, "\\<>\"'$`/´") &&
		!strings.ContainsFunc(name, unicode.IsControl)
}

// sendAlone makes each of items go alone from now on, until it is stored.
func (b *batcher) sendAlone(id int, items []*batchItem) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, item := range items {
		b.alone[aloneKey{folder: id, name: item.name}] = true
	}
}

// storedAlone records that name, sent alone, is stored: a later upload of
// that name may be batched again.
func (b *batcher) storedAlone(id int, name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.alone, aloneKey{folder: id, name: name})
}

// add queues item for folder id and returns once it is stored or has
// failed. If ctx ends while the item still waits, it leaves the queue.
func (b *batcher) add(ctx context.Context, id int, item *batchItem) (*api.File, error) {
	return b.await(ctx, laneKey{kind: laneUpload, folder: id}, &queued{item: item, done: make(chan struct{})})
}

// await queues q in lane id and returns its result once it is done. If
// ctx ends while q still waits, it leaves the queue.
func (b *batcher) await(ctx context.Context, id laneKey, q *queued) (*api.File, error) {
	b.enqueue(context.WithoutCancel(ctx), id, q)
	select {
	case <-q.done:
	case <-ctx.Done():
		if b.withdraw(id, q) {
			return nil, ctx.Err()
		}
		<-q.done
	}
	return q.result.file, q.result.err
}

// enqueue adds q to lane id's queue, starting the dispatcher if it does
// not run.
func (b *batcher) enqueue(ctx context.Context, id laneKey, q *queued) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.queues[id] == nil {
		b.queues[id] = &folderQueue{}
	}
	b.arrivals++
	q.seq = b.arrivals
	b.queues[id].waiting = append(b.queues[id].waiting, q)
	b.queues[id].stalled = false
	b.ready.Broadcast()
	if !b.dispatching {
		b.dispatching = true
		go b.dispatch(ctx)
	}
}

// withdraw takes q out of lane id's queue and reports whether it was
// still there.
func (b *batcher) withdraw(id laneKey, q *queued) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	fq := b.queues[id]
	if fq == nil {
		return false
	}
	for i, w := range fq.waiting {
		if w == q {
			fq.waiting = append(fq.waiting[:i], fq.waiting[i+1:]...)
			b.dropIdle(id, fq)
			b.ready.Broadcast()
			return true
		}
	}
	return false
}

// dropIdle forgets lane id's queue once nothing waits or is sent.
func (b *batcher) dropIdle(id laneKey, fq *folderQueue) {
	if len(fq.waiting) == 0 && fq.onWay == 0 {
		delete(b.queues, id)
	}
}

// dispatch sends batches while files wait: it waits for a call slot of
// the budget while batches form, gives it to the lane chosen by next and
// sends that lane's batch beside the next request. The slot is the
// batch's first call: get_upload_server.cgi for uploads, the request
// itself for a server-side operation.
func (b *batcher) dispatch(ctx context.Context) {
	for b.awaitReady() {
		err := b.slot(ctx)
		at := time.Now()
		id, batch, seen := b.next()
		if len(batch) == 0 {
			continue // every waiting call was cancelled meanwhile
		}
		b.sizes[id.kind].record(ctx, seen)
		go b.send(err, at, id, batch)
	}
}

// awaitReady waits until a request may go (readiness), and reports
// false, ending the dispatcher, once no file waits.
func (b *batcher) awaitReady() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		ready, waiting := b.readiness()
		if ready {
			return true
		}
		if !waiting {
			b.dispatching = false
			return false
		}
		b.ready.Wait()
	}
}

// readiness reports whether a request may go now, and whether any file
// waits at all. A request may go to a folder with files waiting and none
// on their way, when no request of less than overlapBytes on its way
// carries more files than the fullest such folder has, or when such a
// folder stalled (finished). b.mu is held.
func (b *batcher) readiness() (ready, waiting bool) {
	fullest, held, stalled := 0, 0, false
	for _, fq := range b.queues {
		if fq.small {
			held = max(held, fq.onWay)
		}
		if len(fq.waiting) == 0 {
			continue
		}
		waiting = true
		if fq.onWay == 0 {
			fullest = max(fullest, len(fq.waiting))
			stalled = stalled || fq.stalled
		}
	}
	return fullest > 0 && (fullest >= held || stalled), waiting
}

// next chooses the folder the next request goes to, takes its batch and
// marks its files on their way. The folder passed over the longest goes if it was
// passed over maxPassedOver times, else the one with the most files
// waiting. On a tie the folder whose first file came first goes: at the
// end of one folder's files and the start of the next, the next then
// gathers more. It also says what the choice was made among.
func (b *batcher) next() (laneKey, []*queued, dispatchView) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var view dispatchView
	chosen, best := laneKey{}, (*folderQueue)(nil)
	for id, fq := range b.queues {
		view.held += len(fq.waiting) + fq.onWay
		if len(fq.waiting) == 0 || fq.onWay > 0 {
			continue
		}
		view.folders++
		if best == nil || goesBefore(fq, best) {
			chosen, best = id, fq
		}
	}
	if best == nil {
		return chosen, nil, view
	}
	for _, fq := range b.queues {
		if fq != best && len(fq.waiting) > 0 && fq.onWay == 0 {
			fq.passedOver++
		}
	}
	best.passedOver = 0
	batch := b.take(best, b.lanesFiles(chosen.kind))
	best.onWay, best.small = len(batch), bytesOf(batch) < overlapBytes
	view.files = len(batch)
	return chosen, batch, view
}

// bytesOf returns the size of the files of batch.
func bytesOf(batch []*queued) int64 {
	var n int64
	for _, q := range batch {
		n += q.size()
	}
	return n
}

// goesBefore reports whether folder queue a goes before b.
func goesBefore(a, b *folderQueue) bool {
	aDue, bDue := a.passedOver >= maxPassedOver, b.passedOver >= maxPassedOver
	switch {
	case aDue != bDue:
		return aDue
	case aDue && a.passedOver != b.passedOver:
		return a.passedOver > b.passedOver
	case !aDue && len(a.waiting) != len(b.waiting):
		return len(a.waiting) > len(b.waiting)
	}
	return a.waiting[0].seq < b.waiting[0].seq
}

// lanesFiles is how many files one request of kind carries at most.
func (b *batcher) lanesFiles(kind laneKind) int {
	if kind == laneUpload {
		return b.maxFiles
	}
	return serverBatchFiles
}

// take removes the next batch from fq, in order: at most maxFiles files
// and maxBatchBytes bytes, and never two of one name (see queued.name).
// The rest wait for the next batch.
func (b *batcher) take(fq *folderQueue, maxFiles int) []*queued {
	var batch, rest []*queued
	names := make(map[string]bool)
	var bytes int64
	for _, q := range fq.waiting {
		if len(batch) == maxFiles || names[q.name()] || bytes+q.size() > maxBatchBytes {
			rest = append(rest, q)
			continue
		}
		batch = append(batch, q)
		names[q.name()] = true
		bytes += q.size()
	}
	fq.waiting = rest
	return batch
}

// send commits batch for lane id in the call slot the dispatcher booked
// at slotAt (or gives every file slotErr, why there is none), hands each call
// its result and lets the lane be chosen again. The request is cancelled
// only when every one of its calls is.
func (b *batcher) send(slotErr error, slotAt time.Time, id laneKey, batch []*queued) {
	var results []batchResult
	if slotErr != nil {
		results = failAll(len(batch), slotErr)
	} else {
		ctx, cancel := cancelWithAll(batch)
		results = b.commit(ctx, slotAt, id, batch)
		cancel()
	}
	for i, q := range batch {
		q.result = results[i]
		close(q.done)
	}
	b.finished(id)
}

// finished lets lane id, whose request is done, be chosen again. The
// files waiting in other lanes then stall: the calls of that request
// returned, and rclone handed their transfers the next files, so a lane
// that gained none has all it will get for now. A stalled lane may go
// beside a fuller request: holding it back would only keep its
// transfers from the next batches (the last file of a folder, held
// while the next folder's batches went a file short each).
func (b *batcher) finished(id laneKey) {
	b.mu.Lock()
	defer b.mu.Unlock()
	fq := b.queues[id]
	fq.onWay, fq.small = 0, false
	for other, q := range b.queues {
		if other != id && len(q.waiting) > 0 && q.onWay == 0 {
			q.stalled = true
		}
	}
	b.dropIdle(id, fq)
	b.ready.Broadcast()
}

// failAll gives each of n results err.
func failAll(n int, err error) []batchResult {
	results := make([]batchResult, n)
	for i := range results {
		results[i].err = err
	}
	return results
}

// cancelWithAll returns a context that ends when the contexts of all
// of batch have ended, and its cancel function.
func cancelWithAll(batch []*queued) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(batch[0].ctx()))
	var left atomic.Int64
	left.Store(int64(len(batch)))
	stops := make([]func() bool, len(batch))
	for i, q := range batch {
		stops[i] = context.AfterFunc(q.ctx(), func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// When batches stay small for a reason only the user can change, one
// NOTICE a run says which flag would help. Each run of
// adviceAfterRequests batched requests is judged: the NOTICE is due when
// they carried fewer than
// smallBatch files on average while --transfers is low and the batcher
// held most of the transfers, or less than a third of the files the
// batcher held because those came from several folders at once.
const (
	adviceAfterRequests = 20
	smallBatch          = 8
)

// batchAdviceTold is set for a kind of request once its NOTICE was
// given in this process.
var batchAdviceTold [laneKinds]atomic.Bool

// dispatchView is what the dispatcher saw when it chose a folder: the
// files it sent, the folders it chose among, and the files held in the
// batcher (waiting, or on their way).
type dispatchView struct {
	files, folders, held int
}

// batchSizes sums the dispatcher's views of the current run of
// requests of one kind, to give the NOTICE through tell.
type batchSizes struct {
	tell func(advice string)
	kind laneKind

	mu                             sync.Mutex
	requests, files, folders, held int
}

// record adds one request's view, and gives the NOTICE when it is due.
func (s *batchSizes) record(ctx context.Context, view dispatchView) {
	s.mu.Lock()
	s.requests++
	s.files += view.files
	s.folders += view.folders
	s.held += view.held
	advice := ""
	if s.requests == adviceAfterRequests {
		ci := fs.GetConfig(ctx)
		advice = s.advice(ci.Transfers, ci.Checkers)
		// The next requests are judged afresh: a copy's queue changes as it goes.
		s.requests, s.files, s.folders, s.held = 0, 0, 0, 0
	}
	s.mu.Unlock()
	if advice != "" {
		s.tell(advice)
	}
}

// tellOnce returns what gives advice on requests of kind at NOTICE, if
// none was given on them in this process yet.
func tellOnce(kind laneKind) func(advice string) {
	return func(advice string) {
		if !batchAdviceTold[kind].Swap(true) {
			fs.Logf(nil, "fichier: %s", advice)
		}
	}
}

// advice says why batches are small and what would help, or "" when they
// are not, or rclone's flags would not help (the files come slowly).
// Removals come from rclone's --checkers, everything else from its
// --transfers.
func (s *batchSizes) advice(transfers, checkers int) string {
	n := float64(s.requests)
	perRequest, folders, held := float64(s.files)/n, float64(s.folders)/n, float64(s.held)/n
	flag, parallel := "--transfers", transfers
	if s.kind == laneRemove {
		flag, parallel = "--checkers", checkers
	}
	busy := held >= float64(parallel)/2
	head := fmt.Sprintf("%s %.1f per %s", s.kind.doing(), perRequest, s.kind.request())
	switch {
	case parallel < 32 && busy && perRequest < smallBatch:
		return fmt.Sprintf("%s because rclone sends at most %s %d files at once; %s 32 would let up to 32 share a request", head, flag, parallel, flag)
	case folders >= 2 && busy && perRequest < held/3:
		return fmt.Sprintf("%s because they arrive from %.0f folders at once "+
			"(rclone's queue mixes folders once it holds --max-backlog files); "+
			"--order-by name keeps each folder's files together", head, folders)
	}
	return ""
}
