package fichier

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/fserrors"
)

// The upload journal.
//
// 1fichier keeps every file it is sent, even under a name it already
// has, so an upload sent twice is a duplicate. The journal records each
// upload request in the shared state before its first byte goes out: the
// folder, the files' names and sizes, the upload node and its session ID
// (xid), and the process sending it. 1fichier keeps a session's end.pl
// result for about two hours, so whoever finds an entry nobody is
// sending (the same process after a lost answer, the next process after
// a kill, a restarted mount) asks end.pl for it first, records what was
// stored, and only then does the folder's listing, and so rclone, decide
// what still has to go. Nothing is uploaded again while an entry that
// may hold it is unresolved.

// uploadSettleTime is how long after an upload end.pl may still list no
// file for it although it stored them (it has been seen answering so
// for a few seconds): an entry younger than this is asked again.
const uploadSettleTime = 30 * time.Second

// journal is this process's side of the shared journal: the entries its
// own requests are sending or resolving, which nobody else may resolve.
type journal struct {
	db *stateDB

	mu        sync.Mutex
	busy      map[string]bool        // xid -> being sent or resolved here
	resolving map[string]*resolution // xid -> its resolution here
}

// resolution is one goroutine's resolution of a journal entry, which
// the others wait for.
type resolution struct {
	done chan struct{} // closed once it ended
	err  error         // how it ended, set before done is closed
}

func newJournal(db *stateDB) *journal {
	return &journal{db: db, busy: make(map[string]bool), resolving: make(map[string]*resolution)}
}

// claim marks xid as handled by this process, and reports whether it
// was free.
func (j *journal) claim(xid string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.busy[xid] {
		return false
	}
	j.busy[xid] = true
	return true
}

// release ends a claim.
func (j *journal) release(xid string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.busy, xid)
}

// claimResolve claims xid for resolving it here, and returns the
// resolution to fill in (mine). When another goroutine of this process
// is resolving it already, it returns that resolution to wait for
// (other); when this process is sending it, neither.
func (j *journal) claimResolve(xid string) (mine, other *resolution) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if r, ok := j.resolving[xid]; ok {
		return nil, r
	}
	if j.busy[xid] {
		return nil, nil
	}
	j.busy[xid] = true
	mine = &resolution{done: make(chan struct{})}
	j.resolving[xid] = mine
	return mine, nil
}

// endResolve ends a claimResolve.
func (j *journal) endResolve(xid string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	close(j.resolving[xid].done)
	delete(j.resolving, xid)
	delete(j.busy, xid)
}

// resolveOnce runs resolve for entry xid unless this process sends it,
// and, when another goroutine is resolving it already, waits for that
// to end instead and returns how it ended: a Put must not look at the
// folder before what the entry stored is recorded, nor take a failed
// resolution for one that recorded it.
func (j *journal) resolveOnce(ctx context.Context, xid string, resolve func() error) error {
	mine, other := j.claimResolve(xid)
	switch {
	case mine != nil:
		defer j.endResolve(xid)
		mine.err = resolve()
		return mine.err
	case other != nil:
		select {
		case <-other.done:
			return other.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// begin records an upload of files into folder through node before it
// is sent, and claims it.
func (j *journal) begin(folder int, node *uploadNode, files []journalFile) {
	j.claim(node.id)
	e := journalEntry{Folder: folder, Node: node.root, Files: files, Sent: time.Now(), Owner: thisProcess}
	err := j.db.update(func(k *keyTx) error { return k.putJournal(node.id, &e) })
	logStateError(err)
}

// record stores the files an upload stored in folder's listing and,
// when done, drops its entry, in one transaction: the entry goes only
// once what it held is known to every process.
func (j *journal) record(folder int, xid string, files []api.File, done bool) {
	err := j.db.update(func(k *keyTx) error {
		now := time.Now()
		for _, file := range files {
			if err := putFile(k, folder, file, now); err != nil {
				return err
			}
		}
		if done {
			if err := k.deleteJournal(folder, xid); err != nil {
				return err
			}
		}
		return bumpVersion(k, folder)
	})
	logStateError(err)
}

// pending returns the entries of folder that this process is not
// sending itself (those it is resolving are in: resolveOnce waits for
// them).
func (j *journal) pending(folder int) map[string]journalEntry {
	var entries map[string]journalEntry
	err := j.db.view(func(k *keyTx) error {
		entries = k.journalOf(folder)
		return nil
	})
	logStateError(err)
	j.mu.Lock()
	defer j.mu.Unlock()
	for xid := range entries {
		if _, resolving := j.resolving[xid]; j.busy[xid] && !resolving {
			delete(entries, xid)
		}
	}
	return entries
}

// settleUploads resolves the unfinished uploads into folder that no
// running process is sending, so the folder's listing holds every file
// 1fichier stored. With a name, it also waits for the uploads another
// process is sending that carry that name: the file may be on its way
// already. A listing (no name) does not wait for them: their process
// records what they stored itself.
func (f *Fs) settleUploads(ctx context.Context, folder int, name string) error {
	for {
		waiting := false
		pending := f.acc.journal.pending(folder)
		for _, xid := range resolveOrder(pending) {
			e := pending[xid]
			if e.inFlight() {
				waiting = waiting || (name != "" && e.holds(name))
				continue
			}
			if err := f.resolveEntry(ctx, xid, e); err != nil {
				return err
			}
		}
		if !waiting {
			return nil
		}
		fs.Debugf(f, "waiting for another rclone's upload of %q into folder %d to end", name, folder)
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
}

// resolveOrder returns the keys of entries in the order to resolve them:
// uploads first, as an interrupted Update's entry (opReplace) can only
// tell whether its new version was stored once the upload that carried
// it has recorded what it stored; then by when they were sent.
func resolveOrder(entries map[string]journalEntry) []string {
	xids := slices.Collect(maps.Keys(entries))
	slices.SortFunc(xids, func(a, b string) int {
		ea, eb := entries[a], entries[b]
		if opA, opB := ea.Op != "", eb.Op != ""; opA != opB {
			if opA {
				return 1
			}
			return -1
		}
		return ea.Sent.Compare(eb.Sent)
	})
	return xids
}

// holds reports whether the entry's upload carries a file called name.
func (e *journalEntry) holds(name string) bool {
	for _, file := range e.Files {
		if file.Name == name {
			return true
		}
	}
	return false
}

// inFlight reports whether another process may still be sending the
// call of e: a remote upload whose job is known is sent.
func (e *journalEntry) inFlight() bool {
	return e.Job == 0 && e.Owner.sending(e.Sent)
}

// resolveUpload finds out what the upload of entry xid stored, records
// it and drops the entry: from end.pl while 1fichier keeps the session,
// else from a fresh listing of the folder.
func (f *Fs) resolveUpload(ctx context.Context, xid string, e journalEntry) error {
	return f.acc.journal.resolveOnce(ctx, xid, func() error { return f.resolveUploadNow(ctx, xid, e) })
}

// resolveUploadNow is resolveUpload, claimed.
func (f *Fs) resolveUploadNow(ctx context.Context, xid string, e journalEntry) error {
	node := &uploadNode{root: e.Node, id: xid}
	for {
		links, err := f.endAnswer(ctx, node)
		switch {
		case sessionForgotten(err):
			return f.resolveFromListing(ctx, xid, e)
		case err != nil:
			return fserrors.RetryError(fmt.Errorf("couldn't find out what an earlier upload into folder %d stored (session %s), "+
				"so nothing is sent again yet: %w", e.Folder, xid, err))
		case len(links) > 0 || time.Since(e.Sent) > f.acc.scale.of(uploadSettleTime):
			files := linkedFiles(links, e.Files)
			if len(files) > 0 {
				fs.Infof(f, "an earlier upload (session %s) stored %d file(s) its rclone did not record: recording them", xid, len(files))
			}
			if len(files) < len(e.Files) {
				// end.pl has been seen listing fewer files than were
				// stored: the others are looked for in the folder.
				f.acc.journal.record(e.Folder, xid, files, false)
				return f.resolveFromListing(ctx, xid, e)
			}
			f.acc.journal.record(e.Folder, xid, files, true)
			return nil
		}
		if err := sleep(ctx, time.Until(notLaterThanNow(e.Sent).Add(f.acc.scale.of(uploadSettleTime)))); err != nil {
			return err
		}
	}
}

// resolveFromListing resolves an entry end.pl no longer knows from a
// fresh listing of its folder: each of its files there, of its size and
// stored since it was sent, is taken as its result. The listing is
// always fetched anew (maxAge 0), waiting for the folder's slot if need
// be: a stored one, however young, may predate the upload, and reading
// a file as missing from it would send it a second time. For the same
// reason a file it lacks is looked for again in a listing made as long
// after the upload as listings may lag (settledListing). How long
// end.pl remembers is uncertain (2 hours says the API documentation, "some
// minutes" says its own result page), so this path is the usual one
// after a kill, not a rare one.
func (f *Fs) resolveFromListing(ctx context.Context, xid string, e journalEntry) error {
	l, err := f.settledListing(ctx, &e)
	if err != nil {
		return fmt.Errorf("couldn't check an earlier upload into folder %d: %w", e.Folder, err)
	}
	since := e.Sent.Add(-time.Minute) // listing dates have a second's precision, in Paris time
	var files []api.File
	for _, want := range e.Files {
		for _, file := range l.files {
			if file.Filename == want.Name && int64(file.Size) == want.Size && !file.Date.Parse(parisTime).Before(since) {
				files = append(files, file)
				break
			}
		}
	}
	f.acc.journal.record(e.Folder, xid, files, true)
	return nil
}

// linkedFiles returns the listing entries of end.pl's links that belong
// to the upload of want, matched by name.
func linkedFiles(links []api.UploadedLink, want []journalFile) []api.File {
	names := make(map[string]bool, len(want))
	for _, w := range want {
		names[w.Name] = true
	}
	var files []api.File
	for _, link := range links {
		if link.Download != "" && names[link.Filename] {
			files = append(files, *uploadedFile(link, link.Filename))
		}
	}
	return files
}

// thisProcess is this rclone.
var thisProcess = processID{PID: os.Getpid(), Start: processStart(os.Getpid())}

// sessionMemory is the longest 1fichier is said to keep an upload
// session's end.pl result (the API documentation; its result page says
// minutes), after which a PID is no longer trusted to be the sender.
const sessionMemory = 2 * time.Hour

// sending reports whether another process may still be sending the
// upload it started at sent. Where the system does not tell when a
// process started, a PID used again by another program would look alive
// for ever, so past end.pl's memory such an entry is taken as abandoned.
func (p processID) sending(sent time.Time) bool {
	if p == thisProcess || !p.alive() {
		return false
	}
	return p.Start != 0 || time.Since(sent) < sessionMemory
}

// alive reports whether the process still runs.
func (p processID) alive() bool {
	return processRunning(p.PID) && (p.Start == 0 || processStart(p.PID) == p.Start)
}
