package fichier

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/fs"
)

// The journal of the calls besides uploads that make something.
//
// file/cp.cgi (Copy and the import command), folder/mkdir.cgi and
// remote/request.cgi each make something 1fichier keeps even when it
// already has one like it (duplicate names are allowed; whether
// duplicate folder names are is not known). So, like an upload, each is
// written to the shared journal before it is sent, and sent with
// retryUnsent: a lost answer is never retried blind. Whoever finds an
// entry nobody is sending (the same process after a lost answer, the
// next process after a kill) looks for what the call made before
// anything is sent again: a fresh listing of the folder for a copy or a
// folder, remote/ls.cgi and remote/info.cgi for a remote upload.

// The calls an op entry can be about (journalEntry.Op).
const (
	opCopy   = "cp"     // file/cp.cgi into the entry's folder
	opMkdir  = "mkdir"  // folder/mkdir.cgi in the entry's folder, Files[0].Name
	opRemote = "remote" // remote/request.cgi of the Files' From URLs
	// opMove is file/mv.cgi of the Files' From URLs into the entry's
	// folder, opMoveOut the same call for a folder they leave: safe to
	// repeat, so their entries only make the next user of the folder
	// list it afresh, until the listing shows the move made or is made
	// as long after it as listings may lag.
	opMove    = "mv"
	opMoveOut = "mv-out"
	// opReplace is an Update: a new upload of Files[0].Name that replaces
	// the file at Files[0].From, which is removed once the new one is
	// stored.
	opReplace = "replace"
	// opSupersede is a server-side copy or move onto Files[0].Name: the
	// Files' From are the files of that name the folder held before,
	// removed once another file of that name and size is there. The new
	// file is told by its URL, not its date: a moved file keeps its date.
	opSupersede = "supersede"
)

// opEntry names a journalled call: its key and when it was sent.
type opEntry struct {
	xid  string
	sent time.Time
}

// beginOp records a call of kind op about files in folder before it is
// sent, and claims it.
func (j *journal) beginOp(op string, folder int, files []journalFile) *opEntry {
	var random [6]byte
	_, _ = rand.Read(random[:])
	xid := op + "-" + hex.EncodeToString(random[:])
	j.claim(xid)
	e := journalEntry{Op: op, Folder: folder, Files: files, Sent: time.Now(), Owner: thisProcess}
	err := j.db.update(func(k *keyTx) error { return k.putJournal(xid, &e) })
	logStateError(err)
	return &opEntry{xid: xid, sent: e.Sent}
}

// resolveEntry resolves the unfinished call of entry xid.
func (f *Fs) resolveEntry(ctx context.Context, xid string, e journalEntry) error {
	if e.Op == "" {
		return f.resolveUpload(ctx, xid, e)
	}
	return f.acc.journal.resolveOnce(ctx, xid, func() error { return f.resolveOp(ctx, xid, e) })
}

// resolveOp is resolveEntry for a call other than an upload, claimed.
func (f *Fs) resolveOp(ctx context.Context, xid string, e journalEntry) error {
	if e.Op == opRemote {
		// A remote upload's files come into the folder whenever 1fichier
		// fetches them, sent again or not: a listing needs nothing of
		// the entry. It stays for a remote-upload of the same URLs
		// (earlierRemote), until 1fichier would have forgotten the job
		// (sessionMemory, the longest it is said to keep anything of a
		// request; how long it lists remote jobs is not documented).
		if time.Since(e.Sent) < sessionMemory {
			return nil
		}
	} else if l, err := f.settledListing(ctx, &e); err != nil {
		return fmt.Errorf("couldn't check an earlier call into folder %d: %w", e.Folder, err)
	} else if e.Op == opReplace || e.Op == opSupersede {
		if err := f.settleReplace(ctx, e, l); err != nil {
			return err
		}
	}
	f.acc.journal.record(e.Folder, xid, nil, true)
	return nil
}

// settleReplace finishes an Update (opReplace), or a server-side copy
// or move onto a taken name (opSupersede), whose process died between
// its call and the removal of what it replaces: when the folder's fresh
// listing l holds the new file, the old ones are removed, as the process
// would have; otherwise nothing was replaced and they stay.
func (f *Fs) settleReplace(ctx context.Context, e journalEntry, l *folderListing) error {
	if !e.replacementIn(l) {
		return nil
	}
	want := e.Files[0]
	stored := listedURLs(l)
	for _, old := range e.Files {
		if !stored[old.From] {
			continue
		}
		fs.Infof(f, "an earlier replacement of %q was made but its old version not removed: removing %s", want.Name, old.From)
		if err := f.removeFile(ctx, e.Folder, old.From); err != nil {
			return fmt.Errorf("couldn't remove the old version of %q that an earlier replacement left: %w", want.Name, err)
		}
	}
	return nil
}

// replacementIn reports whether listing l holds the new file of a
// replacement entry: for an Update, a file of its name and size stored
// since the entry was written, not the old one; for a server-side copy
// or move, a file of its name and size that is none of the old ones.
func (e *journalEntry) replacementIn(l *folderListing) bool {
	want := e.Files[0]
	if e.Op == opSupersede {
		_, ok := newInListing(l, want.Name, want.Size, fromSet(e.Files))
		return ok
	}
	_, ok := madeSince(l, want.Name, want.Size, map[string]bool{want.From: true}, e.Sent)
	return ok
}

// fromSet returns the From URLs of files as a set.
func fromSet(files []journalFile) map[string]bool {
	set := make(map[string]bool, len(files))
	for _, file := range files {
		set[file.From] = true
	}
	return set
}

// listedURLs returns the URLs of l's files as a set.
func listedURLs(l *folderListing) map[string]bool {
	urls := make(map[string]bool, len(l.files))
	for _, file := range l.files {
		urls[file.URL] = true
	}
	return urls
}

// settledListing fetches a fresh listing of the entry's folder once its
// call has had uploadSettleTime to show in it: the listing, stored for
// every process, then holds what the call made. A listing may lag
// behind changes by up to the listing lag (listingLag), so when it does
// not show all the call would have made, only one fetched that long
// after the call tells what was not made. It returns the last listing.
func (f *Fs) settledListing(ctx context.Context, e *journalEntry) (*folderListing, error) {
	var l *folderListing
	for _, until := range f.lookTimes(e.Sent) {
		switch {
		case l != nil && e.shownIn(l):
			return l, nil
		case l != nil && !l.fetched.Before(until):
			continue // the last listing was made late enough for this look
		}
		if err := sleep(ctx, time.Until(until)); err != nil {
			return nil, err
		}
		var err error
		if l, err = f.cachedListing(ctx, e.Folder, 0); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// lookTimes returns when to look for what a call sent at sent made: at
// once, once it has had uploadSettleTime to show, and once a listing
// that lags as much as listings may (listingLag) would show it; from
// now at the latest, should the clock have been set back since.
func (f *Fs) lookTimes(sent time.Time) []time.Time {
	sent = notLaterThanNow(sent)
	return []time.Time{{}, sent.Add(f.acc.scale.of(uploadSettleTime)), sent.Add(f.acc.listings.currentLag())}
}

// notLaterThanNow returns t, or now if t is later: a time recorded
// before the clock was set back would otherwise be waited for as long.
func notLaterThanNow(t time.Time) time.Time {
	if now := time.Now(); t.After(now) {
		return now
	}
	return t
}

// shownIn reports whether listing l shows all that the entry's call
// would have made: a copy's files (by name and size, made since the
// call), a replacement's new file (replacementIn), a folder (by name), a
// move's files (by URL: in the folder they went to, not in those they
// left).
func (e *journalEntry) shownIn(l *folderListing) bool {
	switch e.Op {
	case opMkdir:
		return slices.ContainsFunc(l.folders, func(d api.SubFolder) bool { return d.Name == e.Files[0].Name })
	case opReplace, opSupersede:
		return e.replacementIn(l)
	case opMove, opMoveOut:
		urls := listedURLs(l)
		into := e.Op == opMove
		return !slices.ContainsFunc(e.Files, func(want journalFile) bool { return urls[want.From] != into })
	}
	for _, want := range e.Files {
		if _, ok := madeSince(l, want.Name, want.Size, nil, e.Sent); !ok {
			return false
		}
	}
	return true
}

// fromURLs returns the From URLs of files.
func fromURLs(files []journalFile) []string {
	urls := make([]string, len(files))
	for i, file := range files {
		urls[i] = file.From
	}
	return urls
}

// makeFolder creates folder name in parent with folder/mkdir.cgi,
// exactly once: journalled first, and when the answer is lost, a fresh
// listing of the parent says whether the folder was made before it is
// asked for again.
func (f *Fs) makeFolder(ctx context.Context, req *api.MakeFolderRequest) (int, error) {
	for attempt := 0; ; attempt++ {
		entry := f.acc.journal.beginOp(opMkdir, req.FolderID, []journalFile{{Name: req.Name}})
		var resp api.MakeFolderResponse
		err := f.call(ctx, &apiCall{path: api.FolderMkdir, request: req, response: &resp, retry: retryUnsent})
		if !isLost(err) {
			f.acc.journal.record(req.FolderID, entry.xid, nil, true)
			f.acc.journal.release(entry.xid)
			return resp.FolderID, err
		}
		id, found, lookErr := f.findFolder(ctx, req, entry.sent)
		if lookErr == nil {
			f.acc.journal.record(req.FolderID, entry.xid, nil, true)
		}
		f.acc.journal.release(entry.xid)
		switch {
		case lookErr != nil:
			return 0, fmt.Errorf("%w; nor could it be checked: %w", err, lookErr)
		case found:
			fs.Infof(f, "folder %q was made although the answer was lost: using it", req.Name)
			return id, nil
		case attempt+1 == copyAttempts:
			return 0, err
		}
	}
}

// isLost reports whether err is a lost answer.
func isLost(err error) bool {
	_, ok := err.(*lostAnswer)
	return ok
}

// findFolder looks for the folder req asked for in a fresh listing of its
// parent, first at once, then once a call sent at sent has had time to
// show.
func (f *Fs) findFolder(ctx context.Context, req *api.MakeFolderRequest, sent time.Time) (id int, found bool, err error) {
	for look := 0; look < 2; look++ {
		if look == 1 {
			if err := sleep(ctx, time.Until(sent.Add(f.acc.scale.of(uploadSettleTime)))); err != nil {
				return 0, false, err
			}
		}
		l, err := f.cachedListing(ctx, req.FolderID, 0)
		if err != nil {
			return 0, false, err
		}
		for _, folder := range l.folders {
			if sameName(folder.Name, req.Name) {
				return folder.ID, true, nil
			}
		}
	}
	return 0, false, nil
}

// requestRemote asks 1fichier to fetch urls into folder with
// remote/request.cgi, exactly once: journalled first, and when the answer
// is lost, the jobs 1fichier has are looked through for it before it is
// asked for again. The entry stays with the job once it is known, so
// that a re-run reuses it (earlierRemote, as for an earlier rclone's
// request of the same URLs that died unresolved).
func (f *Fs) requestRemote(ctx context.Context, req *api.RemoteUploadRequest) (int64, error) {
	files := make([]journalFile, len(req.URLs))
	for i, u := range req.URLs {
		files[i] = journalFile{Name: remoteName(u), From: u}
	}
	for attempt := 0; ; attempt++ {
		entry := f.acc.journal.beginOp(opRemote, req.FolderID, files)
		var resp api.RemoteUploadResponse
		err := f.call(ctx, &apiCall{path: api.RemoteRequest, request: req, response: &resp, retry: retryUnsent})
		jobID, lookErr := int64(0), error(nil)
		switch {
		case err == nil:
			jobID = int64(resp.ID)
		case isLost(err):
			jobID, lookErr = f.findRemoteJob(ctx, req.FolderID, entry.sent, req.URLs)
		}
		e := journalEntry{Op: opRemote, Folder: req.FolderID, Files: files, Sent: entry.sent, Owner: thisProcess}
		f.acc.journal.settleRemote(entry.xid, e, jobID, lookErr)
		f.acc.journal.release(entry.xid)
		switch {
		case lookErr != nil:
			return 0, fmt.Errorf("%w; nor could it be checked: %w", err, lookErr)
		case !isLost(err):
			return jobID, err
		case jobID != 0:
			fs.Infof(f, "remote upload %d was filed although the answer was lost: using it", jobID)
			return jobID, nil
		case attempt+1 == copyAttempts:
			return 0, err
		}
	}
}

// settleRemote records what became of remote upload entry xid (e): when
// its job is known, the entry stays with it until 1fichier would have
// forgotten the job (resolveOp drops it then); when it is known that
// 1fichier filed none, the entry goes; when that could not be found out
// (lookErr), it stays as it is for the next one to look.
func (j *journal) settleRemote(xid string, e journalEntry, job int64, lookErr error) {
	switch {
	case job != 0:
		e.Job = job
		logStateError(j.db.update(func(k *keyTx) error { return k.putJournal(xid, &e) }))
	case lookErr == nil:
		j.record(e.Folder, xid, nil, true)
	}
}

// earlierRemote returns the job of an earlier remote upload of req's
// very URLs into req's folder, known or looked for when its rclone died
// before it knew; 0 when there is none.
func (f *Fs) earlierRemote(ctx context.Context, req *api.RemoteUploadRequest) (int64, error) {
	for xid, e := range f.acc.journal.pending(req.FolderID) {
		if e.Op != opRemote || !slices.Equal(fromURLs(e.Files), req.URLs) {
			continue
		}
		if e.Job != 0 {
			notice(ctx, f, "remote upload %d asked for these URLs into this folder at %s: using it (-o again asks anew)", e.Job, e.Sent.Local().Format(time.RFC3339))
			return e.Job, nil
		}
		if e.Owner.sending(e.Sent) || !f.acc.journal.claim(xid) {
			continue
		}
		id, err := f.findRemoteJob(ctx, e.Folder, e.Sent, req.URLs)
		f.acc.journal.settleRemote(xid, e, id, err)
		f.acc.journal.release(xid)
		if id != 0 || err != nil {
			return id, err
		}
	}
	return 0, nil
}

// findRemoteJob looks through 1fichier's remote uploads for one of urls
// asked for since sent: remote/ls.cgi lists the jobs with their request
// dates, remote/info.cgi gives each one's URLs. It returns the job's ID,
// or 0 when there is none.
func (f *Fs) findRemoteJob(ctx context.Context, folder int, sent time.Time, urls []string) (int64, error) {
	var list api.RemoteListResponse
	if err := f.call(ctx, &apiCall{path: api.RemoteLs, request: struct{}{}, response: &list}); err != nil {
		return 0, fmt.Errorf("couldn't look for an earlier remote upload into folder %d: %w", folder, err)
	}
	since := sent.Add(-time.Minute) // dates have a second's precision, in Paris time
	for _, job := range list.Data {
		if job.RequestDate.Parse(parisTime).Before(since) {
			continue
		}
		var info api.RemoteInfoResponse
		err := f.call(ctx, &apiCall{path: api.RemoteInfo, request: &api.RemoteInfoRequest{ID: int64(job.ID)}, response: &info})
		if err != nil {
			return 0, fmt.Errorf("couldn't look for an earlier remote upload into folder %d: %w", folder, err)
		}
		if slices.Equal(info.Links, urls) {
			return int64(job.ID), nil
		}
	}
	return 0, nil
}
