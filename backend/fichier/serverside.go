package fichier

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/fserrors"
)

// Server-side operations in batches.
//
// file/cp.cgi, file/mv.cgi, file/rename.cgi and file/rm.cgi each take a
// list of files (spec §3.3-§3.6), so copies, moves, renames and removals
// queue in the batcher beside the uploads (batch.go), one lane per kind
// and folder: the destination folder of a copy or move, the folder of a
// rename or removal. The dispatcher gives each call slot to the fullest
// lane; a lone file goes as soon as the budget allows, with no timer.
// Each rclone call returns only once its own file is done, with its own
// result.
//
// What is known of the endpoints and what is not:
//   - cp.cgi and mv.cgi take "urls", a list, and one destination folder;
//     their "rename" only works with exactly one URL [para SW, RB]. A copy
//     or move that also renames therefore goes alone.
//   - rename.cgi takes a list of {url, filename}, a name per file [RB,
//     SW, rclone's struct], so renames within a folder batch. Should the
//     service take only one entry per call after all, a refused batch is
//     split down to single files (below), which still works.
//   - rm.cgi takes a list of {url} [RB, SW, rclone, PHP, PY]; this
//     backend's Purge has long sent 100 per call.
//   - No limit per call is documented: 100 is what Purge sends.
//   - Whether a call with one bad URL refuses every URL (the emulator's
//     reading) or does the others is not known. Both are handled: a KO
//     for a batch splits it in halves, tried again, down to the file
//     that carries the reason; an OK whose answer leaves a file out is
//     checked for that file (a copy in a fresh listing, a move in the
//     destination's listing).
//   - cp.cgi answers from_url/to_url pairs [obs rclone]; mv.cgi keeps a
//     file's URL as far as anyone has seen, but its answer's "urls" are
//     believed when there is one per file.
//
// Copies make files, and 1fichier keeps duplicate names, so a copy is
// journalled like an upload (journal.go) and never sent again blind: see
// copyOps. Moves, renames and removals are safe to repeat: a file
// already moved, renamed or gone counts as done.

// serverBatchFiles is the most files one server-side call carries.
const serverBatchFiles = removeBatch

// laneKind is what the requests of a batcher lane do.
type laneKind int

// The kinds of lanes.
const (
	laneUpload laneKind = iota // upload.cgi (and its two other calls)
	laneCopy                   // file/cp.cgi into the folder
	laneMove                   // file/mv.cgi into the folder
	laneRename                 // file/rename.cgi within the folder
	laneRemove                 // file/rm.cgi of files in the folder
	laneKinds                  // how many kinds there are
)

// doing describes the files of a kind going out, for the NOTICE.
func (k laneKind) doing() string {
	return [laneKinds]string{"small files are going up", "server-side copies are going", "server-side moves are going",
		"renames are going", "removals are going"}[k]
}

// request names a kind's request, for the NOTICE.
func (k laneKind) request() string {
	return [laneKinds]string{"upload request (3 API calls each)", "file/cp.cgi call", "file/mv.cgi call",
		"file/rename.cgi call", "file/rm.cgi call"}[k]
}

// laneKey names a lane: a kind of request, in one folder.
type laneKey struct {
	kind   laneKind
	folder int
}

// serverOp is one file of a server-side operation.
type serverOp struct {
	ctx  context.Context // the rclone call's
	url  string          // the file's URL (a copy's source)
	from int             // the folder the file is in
	name string          // the API name it gets (copy, move, rename)
	file api.File        // the file as a listing entry
}

// opOf makes the serverOp giving o the API name name.
func opOf(ctx context.Context, o *Object, name string) *serverOp {
	return &serverOp{ctx: ctx, url: o.url, from: o.folderID, name: name, file: o.apiFile(o.apiName())}
}

// renames reports whether the operation changes the file's name.
func (op *serverOp) renames() bool { return op.name != op.file.Filename }

// serverOp sends op in lane id: through the batcher, or alone when
// batching is off or the call can carry only this file (a copy or move
// that also renames).
func (f *Fs) serverOp(ctx context.Context, id laneKey, op *serverOp) (*api.File, error) {
	if id.kind != laneCopy {
		// A removal of a file that left is done; a move cannot find it.
		switch left, err := f.leftFolder(op); {
		case err != nil:
			return nil, err
		case left && id.kind == laneRemove:
			return nil, nil
		case left:
			return nil, fmt.Errorf("%w: %w", fs.ErrorObjectNotFound, errMovedAway)
		}
	}
	alone := op.renames() && (id.kind == laneCopy || id.kind == laneMove)
	if f.batcher.maxSize <= 0 || alone {
		r := f.serverOps(ctx, id, []*serverOp{op}, time.Time{})[0]
		return r.file, r.err
	}
	return f.batcher.await(ctx, id, &queued{op: op, done: make(chan struct{})})
}

// leftFolder checks, before op removes, moves or renames its file by
// URL, that the file is still in the folder it was listed in
// (sightings.place). It reports whether the file has left that folder
// (which it then forgets: the folder no longer shows it), or an error
// when where the file is now cannot be told.
func (f *Fs) leftFolder(op *serverOp) (bool, error) {
	err := f.acc.listings.place(op.from, op.url)
	if errors.Is(err, errMovedAway) {
		f.acc.listings.removeFile(op.from, op.url)
		return true, nil
	}
	return false, err
}

// serverOps sends ops, files of lane id, in one call (in the slot the
// dispatcher booked at slotAt, unless zero) and returns what became
// of each.
func (f *Fs) serverOps(ctx context.Context, id laneKey, ops []*serverOp, slotAt time.Time) []batchResult {
	switch id.kind {
	case laneCopy:
		return f.copyOps(ctx, id.folder, ops, slotAt, 0)
	case laneMove:
		return f.moveOps(ctx, id.folder, ops, slotAt)
	case laneRename:
		return f.renameOps(ctx, id.folder, ops, slotAt)
	}
	return f.removeOps(ctx, id.folder, ops, slotAt)
}

// refusedWhole reports whether err is 1fichier refusing a call (a KO
// that no retry helps), which for a call of several files may be about
// one of them only.
func refusedWhole(err error) bool {
	var apiErr *api.Error
	var lost *lostAnswer
	return errors.As(err, &apiErr) && !errors.As(err, &lost) && !fserrors.IsFatalError(err) &&
		apiErr.Kind() != api.KindFlood && apiErr.Kind() != api.KindLocation
}

// split sends each half of ops again with send and returns their results
// in order: after a refusal of a call of several files, the halves that
// hold no bad file succeed, and the bad file ends alone with its reason.
func split(ops []*serverOp, send func(ops []*serverOp) []batchResult) []batchResult {
	half := len(ops) / 2
	return append(send(ops[:half]), send(ops[half:])...)
}

// failOps gives each op err, saying what failed.
func failOps(ops []*serverOp, doing string, err error) []batchResult {
	if apiKind(err) == api.KindNotFound {
		err = fmt.Errorf("%w: %w", fs.ErrorObjectNotFound, err)
	}
	results := make([]batchResult, len(ops))
	for i, op := range ops {
		name := op.file.Filename
		if name == "" {
			name = op.url
		}
		results[i].err = fmt.Errorf("couldn't %s %q: %w", doing, name, err)
	}
	return results
}

// moveOps moves ops into folder id with one file/mv.cgi call (with a
// rename when there is one file to rename). A move is safe to repeat,
// so the pacer retries it as it retries any call: a file already in
// place counts as moved.
func (f *Fs) moveOps(ctx context.Context, id int, ops []*serverOp, slotAt time.Time) (results []batchResult) {
	var err error
	req := api.MoveFileRequest{DestinationFolderID: id}
	for _, op := range ops {
		req.URLs = append(req.URLs, op.url)
	}
	if len(ops) == 1 && ops[0].renames() {
		req.Rename = ops[0].name
	}
	var resp api.MoveFileResponse
	entries := f.journalMove(id, ops)
	defer f.endMove(entries, &err)
	err = f.call(ctx, &apiCall{path: api.FileMv, request: &req, response: &resp, slotAt: slotAt})
	resend := func(part []*serverOp) []batchResult { return f.moveOps(ctx, id, part, time.Time{}) }
	switch {
	case err == nil, apiKind(err) == api.KindNothingDone:
		// NothingDone: a rename to the name the file has, which we only
		// send when it differs: a repeat of a move that was done.
	case len(ops) > 1 && refusedWhole(err):
		return split(ops, resend)
	case apiKind(err) == api.KindNotFound:
		return f.findMoved(ctx, id, ops[0], err)
	default:
		return failOps(ops, "move", err)
	}
	results = make([]batchResult, len(ops))
	for i, op := range ops {
		file := op.file
		file.Filename = op.name
		// A move keeps the URL as far as is known: believe the answer
		// when it gives one URL per file.
		if len(resp.URLs) == len(ops) && resp.URLs[i] != "" {
			file.URL = resp.URLs[i]
		}
		f.acc.listings.removeFile(op.from, op.url)
		f.acc.listings.addFile(id, file)
		results[i].file = &file
	}
	return results
}

// movedEntry is the journal entry of a file/mv.cgi call for one of the
// folders it changes.
type movedEntry struct {
	folder int
	entry  *opEntry
}

// journalMove records a file/mv.cgi of ops into folder id before it is
// sent, for the destination and for each folder the files leave: should
// this process die with the move made, whoever uses one of these
// folders next lists it afresh (resolveEntry) rather than trust a stored
// listing from before the move, whose files a removal by URL would then
// take from their new folder. A move is safe to repeat, so the entries
// only ask for fresh listings.
func (f *Fs) journalMove(id int, ops []*serverOp) []movedEntry {
	files := make([]journalFile, len(ops))
	folders := map[int]bool{id: true}
	for i, op := range ops {
		files[i] = journalFile{Name: op.name, Size: int64(op.file.Size), From: op.url}
		folders[op.from] = true
	}
	entries := []movedEntry{{id, f.acc.journal.beginOp(opMove, id, files)}}
	delete(folders, id)
	for folder := range folders {
		entries = append(entries, movedEntry{folder, f.acc.journal.beginOp(opMoveOut, folder, files)})
	}
	return entries
}

// endMove drops the entries of a move once 1fichier answered it (the
// listings then hold what it did), and keeps them when its outcome is
// unknown (*errp is not an answer): they ask for fresh listings.
func (f *Fs) endMove(entries []movedEntry, errp *error) {
	answered := *errp == nil || apiKind(*errp) != api.KindOther
	for _, e := range entries {
		if answered {
			f.acc.journal.record(e.folder, e.entry.xid, nil, true)
		}
		f.acc.journal.release(e.entry.xid)
	}
}

// findMoved looks for op's file in folder id after mv.cgi said it does
// not know the file: a repeat of a move that was done, should a move
// change the URL after all. A file of its name and size there is it.
func (f *Fs) findMoved(ctx context.Context, id int, op *serverOp, cause error) []batchResult {
	l, err := f.listing(ctx, id, 0)
	if err == nil {
		for _, file := range l.files {
			if file.Filename == op.name && file.Size == op.file.Size {
				f.acc.listings.removeFile(op.from, op.url)
				return []batchResult{{file: &file}}
			}
		}
	}
	return []batchResult{{err: fmt.Errorf("couldn't move %q: %w", op.file.Filename, fs.ErrorObjectNotFound)}}
}

// renameOps renames ops, files of folder id, with one file/rename.cgi
// call, which takes a name per file. Safe to repeat: "No file has been
// renamed" means each already has its name.
func (f *Fs) renameOps(ctx context.Context, id int, ops []*serverOp, slotAt time.Time) []batchResult {
	req := api.RenameFileRequest{URLs: make([]api.RenameFile, len(ops))}
	for i, op := range ops {
		req.URLs[i] = api.RenameFile{URL: op.url, Filename: op.name}
	}
	var resp api.RenameFileResponse
	err := f.call(ctx, &apiCall{path: api.FileRename, request: &req, response: &resp, slotAt: slotAt})
	switch {
	case err == nil, apiKind(err) == api.KindNothingDone:
	case len(ops) > 1 && refusedWhole(err):
		return split(ops, func(part []*serverOp) []batchResult { return f.renameOps(ctx, id, part, time.Time{}) })
	default:
		return failOps(ops, "rename", err)
	}
	results := make([]batchResult, len(ops))
	for i, op := range ops {
		file := op.file
		file.Filename = op.name
		f.acc.listings.removeFile(id, op.url)
		f.acc.listings.addFile(id, file)
		results[i].file = &file
	}
	return results
}

// removeOps deletes ops, files of folder id, with one file/rm.cgi call.
// Safe to repeat: a file already gone counts as removed.
func (f *Fs) removeOps(ctx context.Context, id int, ops []*serverOp, slotAt time.Time) []batchResult {
	return f.removeOpsOnce(ctx, id, ops, slotAt, false)
}

// removeOpsOnce is removeOps; listed says a fresh listing already
// sorted out which of ops were gone.
func (f *Fs) removeOpsOnce(ctx context.Context, id int, ops []*serverOp, slotAt time.Time, listed bool) []batchResult {
	req := api.RemoveFileRequest{Files: make([]api.RemoveFile, len(ops))}
	for i, op := range ops {
		req.Files[i].URL = op.url
	}
	var resp api.RemoveFileResponse
	err := f.call(ctx, &apiCall{path: api.FileRm, request: &req, response: &resp, slotAt: slotAt})
	switch {
	case err == nil, len(ops) == 1 && apiKind(err) == api.KindNotFound:
	case len(ops) > 1 && apiKind(err) == api.KindNotFound && !listed:
		// Some are gone already, most likely all (a repeat of a call
		// whose answer was lost): a fresh listing says which are left.
		return f.removeLeft(ctx, id, ops)
	case len(ops) > 1 && refusedWhole(err):
		return split(ops, func(part []*serverOp) []batchResult { return f.removeOpsOnce(ctx, id, part, time.Time{}, listed) })
	default:
		return failOps(ops, "delete", err)
	}
	for _, op := range ops {
		f.acc.listings.removeFile(id, op.url)
	}
	return make([]batchResult, len(ops))
}

// removeLeft removes those of ops that a fresh listing of folder id
// still shows; the others are gone already.
func (f *Fs) removeLeft(ctx context.Context, id int, ops []*serverOp) []batchResult {
	l, err := f.cachedListing(ctx, id, 0)
	if err != nil {
		return failOps(ops, "delete", err)
	}
	there := make(map[string]bool, len(l.files))
	for _, file := range l.files {
		there[file.URL] = true
	}
	var left []*serverOp
	var at []int
	for i, op := range ops {
		if there[op.url] {
			left, at = append(left, op), append(at, i)
		}
	}
	results := make([]batchResult, len(ops))
	if len(left) > 0 {
		for j, r := range f.removeOpsOnce(ctx, id, left, time.Time{}, true) {
			results[at[j]] = r
		}
	}
	return results
}

// copyAttempts bounds how often copyOps sends a copy that a lost answer
// left unknown and a fresh listing showed not made.
const copyAttempts = 3

// copyOps copies ops into folder id with one file/cp.cgi call (with a
// rename when there is one file to rename), exactly once.
//
// The call is journalled first (what it is to make, in which folder,
// when), like an upload, and sent with retryUnsent: never again blind.
// When its answer is lost, or leaves a copy out, a fresh listing of the
// folder says which copies were made (findCopies), and only the others
// go again. Should this process die meanwhile, whoever lists the folder
// next resolves the entry the same way (resolveOp).
func (f *Fs) copyOps(ctx context.Context, id int, ops []*serverOp, slotAt time.Time, attempt int) []batchResult {
	known := f.acc.listings.urls(id)
	req := api.CopyFileRequest{FolderID: id}
	files := make([]journalFile, len(ops))
	for i, op := range ops {
		req.URLs = append(req.URLs, op.url)
		files[i] = journalFile{Name: op.name, Size: int64(op.file.Size), From: op.url}
	}
	if len(ops) == 1 && ops[0].renames() {
		req.Rename = ops[0].name
	}
	entry := f.acc.journal.beginOp(opCopy, id, files)
	defer f.acc.journal.release(entry.xid)
	var resp api.CopyFileResponse
	err := f.call(ctx, &apiCall{path: api.FileCp, request: &req, response: &resp, retry: retryUnsent, slotAt: slotAt})
	var lost *lostAnswer
	if err != nil && !errors.As(err, &lost) {
		f.acc.journal.record(id, entry.xid, nil, true) // refused: nothing was made
		if len(ops) > 1 && refusedWhole(err) {
			return split(ops, func(part []*serverOp) []batchResult { return f.copyOps(ctx, id, part, time.Time{}, attempt) })
		}
		return failOps(ops, "copy", err)
	}
	results := make([]batchResult, len(ops))
	copied := copiedByURL(resp.URLs)
	for i, op := range ops {
		if to := copied[op.url]; to != "" {
			results[i].file = op.copyAt(to)
		}
	}
	if missing := unfinished(results); len(missing) > 0 {
		if err == nil {
			err = fmt.Errorf("file/cp.cgi's answer listed %d of the %d files copied", len(ops)-len(missing), len(ops))
		}
		f.findCopies(ctx, id, entry, ops, results, known, err)
	}
	f.settleCopies(id, entry.xid, results)
	return f.copyAgain(ctx, id, ops, results, attempt)
}

// copyAgain sends again the copies a fresh listing showed were not made
// (their result has no file and no error), or fails them once
// copyAttempts calls were made.
func (f *Fs) copyAgain(ctx context.Context, id int, ops []*serverOp, results []batchResult, attempt int) []batchResult {
	missing := unfinished(results)
	if len(missing) == 0 {
		return results
	}
	again := make([]*serverOp, len(missing))
	for j, i := range missing {
		again[j] = ops[i]
	}
	var retried []batchResult
	if attempt+1 < copyAttempts {
		retried = f.copyOps(ctx, id, again, time.Time{}, attempt+1)
	} else {
		retried = failOps(again, "copy", errors.New("1fichier's answers were lost and the copy is not in the folder"))
	}
	for j, i := range missing {
		results[i] = retried[j]
	}
	return results
}

// copiedByURL maps each source URL of cp.cgi's answer to its copy's URL.
func copiedByURL(urls []api.CopiedURL) map[string]string {
	m := make(map[string]string, len(urls))
	for _, c := range urls {
		if c.FromURL != "" && c.ToURL != "" {
			m[c.FromURL] = c.ToURL
		}
	}
	return m
}

// unfinished returns the indexes of the results with neither a file nor
// an error.
func unfinished(results []batchResult) []int {
	var idx []int
	for i, r := range results {
		if r.file == nil && r.err == nil {
			idx = append(idx, i)
		}
	}
	return idx
}

// copyAt is op's copy, at URL to.
func (op *serverOp) copyAt(to string) *api.File {
	file := op.file
	file.URL = to
	file.Filename = op.name
	file.Date = apiTime(time.Now())
	return &file
}

// findCopies looks in fresh listings of folder id for the copies of ops
// that have no result yet (the answer was lost, or left them out): a
// file of the copy's name and size that the folder did not have before
// (known) and that is no older than the call is taken as it. As a
// listing may lag behind a change, a copy not seen is looked for again
// once the entry is uploadSettleTime old. A copy still not seen keeps no
// result (copyOps sends it again); one that cannot be looked for fails.
func (f *Fs) findCopies(ctx context.Context, id int, entry *opEntry, ops []*serverOp, results []batchResult, known map[string]bool, cause error) {
	fs.Debugf(f, "server-side copy of %d file(s) ended badly (%v): checking which were made", len(ops), cause)
	taken := maps.Clone(known) // a file found for one copy is no other's
	if taken == nil {
		taken = make(map[string]bool)
	}
	for _, until := range f.lookTimes(entry.sent) {
		if err := sleep(ctx, time.Until(until)); err != nil {
			break
		}
		l, err := f.cachedListing(ctx, id, 0)
		if err != nil {
			for _, i := range unfinished(results) {
				results[i].err = unknownOutcome{fmt.Errorf("couldn't copy %q, nor find out whether it was copied: %w", ops[i].file.Filename, err)}
			}
			return
		}
		for _, i := range unfinished(results) {
			if file, ok := madeSince(l, ops[i].name, int64(ops[i].file.Size), taken, entry.sent); ok {
				fs.Infof(f, "copy of %q was made although its answer was lost: using it", ops[i].file.Filename)
				results[i].file = file
				taken[file.URL] = true
			}
		}
		if len(unfinished(results)) == 0 {
			return
		}
	}
}

// unknownOutcome is the error of a call that may have done its work:
// what it would have made may be there.
type unknownOutcome struct{ error }

// Unwrap returns the error within.
func (e unknownOutcome) Unwrap() error { return e.error }

// madeSince returns the newest file of l called name, of this size, not
// among known and no older than sent (listing dates have a second's
// precision, in Paris time: a minute's margin).
func madeSince(l *folderListing, name string, size int64, known map[string]bool, sent time.Time) (*api.File, bool) {
	since := sent.Add(-time.Minute)
	fresh := &folderListing{}
	for _, file := range l.files {
		if int64(file.Size) == size && !known[file.URL] && !file.Date.Parse(parisTime).Before(since) {
			fresh.files = append(fresh.files, file)
		}
	}
	return pickFile(fresh, name)
}

// settleCopies records the copies a call made and drops its journal
// entry, unless a copy could not be looked for: the entry then stays for
// whoever lists the folder next. The copies not made go again in an
// entry of their own.
func (f *Fs) settleCopies(id int, xid string, results []batchResult) {
	var files []api.File
	done := true
	for _, r := range results {
		switch {
		case r.file != nil:
			files = append(files, *r.file)
		case r.err != nil:
			done = false
		}
	}
	f.acc.journal.record(id, xid, files, done)
}
