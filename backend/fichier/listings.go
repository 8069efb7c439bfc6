package fichier

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/fs"
)

// folderListing is what we know of one folder: its subfolders and files,
// in the API's own (encoded) names.
type folderListing struct {
	fetched time.Time
	folders []api.SubFolder
	files   []api.File
}

// clone copies the listing so the cache can change under the caller.
func (l *folderListing) clone() *folderListing {
	return &folderListing{
		fetched: l.fetched,
		folders: append([]api.SubFolder(nil), l.folders...),
		files:   append([]api.File(nil), l.files...),
	}
}

// goneMemory is how long the mark of a removal is kept: long enough for
// any listing that was in flight during the removal to be stored.
const goneMemory = 10 * time.Minute

// listingLag is how long 1fichier's listings may lag behind our own
// changes: a file uploaded (or removed) that long before a listing may
// still be missing from it (or still in it). A fresh listing keeps the
// changes of that window, so a file this machine stored is only
// forgotten when a listing made well after its upload lacks it. How
// long the real lag is, is not known; two minutes is ample for the few
// seconds users report. It must stay below goneMemory.
const listingLag = 2 * time.Minute

// decoded is this process's copy of a stored listing.
type decoded struct {
	version int64
	listing *folderListing
}

// listFetch is a listing being fetched; others asking for the same folder
// wait for it instead of calling the API again.
type listFetch struct {
	done    chan struct{}
	listing *folderListing
	err     error
}

// listCache holds the listing of every folder any process has seen, in
// the shared state. Our own uploads, copies, moves and deletes update it
// there, so a folder is listed once and kept up to date by every process
// until it is older than the cache time.
//
// A process uses a stored listing without listing the folder again when
// it has used that folder before (as any cache would), or when the
// listing is as fresh as 1fichier would let a new one be: younger than
// the listing interval, or the folder's slot is still closed. A listing
// another process made 10 s ago is as fresh as anything 1fichier would
// let us have for 20 s more. Past that, a process's first look at a
// folder fetches it, and sees what changed behind rclone's back.
type listCache struct {
	db    *stateDB
	lag   time.Duration // see listingLag
	scale *timeScale    // divides lag; nil is real time

	mu       sync.Mutex
	seen     map[int]bool     // folders this process has used a listing of
	exists   map[int]bool     // folders this process made or listed itself
	copies   map[int]*decoded // decoded stored listings, by folder
	inflight map[int]*listFetch

	sight   *sightings        // where this process saw each file
	orphans map[orphanKey]int // vanished folders' IDs, see orphansOf
}

// orphanKey names a folder by its parent and its API name.
type orphanKey struct {
	parent int
	name   string
}

func newListCache(db *stateDB) *listCache {
	return &listCache{
		db:       db,
		seen:     make(map[int]bool),
		exists:   make(map[int]bool),
		copies:   make(map[int]*decoded),
		inflight: make(map[int]*listFetch),
		sight:    newSightings(),
		orphans:  make(map[orphanKey]int),
	}
}

// fetchFn lists a folder from the API.
type fetchFn func(ctx context.Context, folderID int) (*folderListing, error)

// freshFn reports whether a listing fetched at fetched is as fresh as a
// new one could be now.
type freshFn func(fetched time.Time) bool

// get returns the listing of folderID, fetching it if no usable one is
// stored. A stored one is usable when it is no older than maxAge (a
// negative maxAge accepts any age, 0 none), and when this process used
// the folder before or fresh says so. Concurrent callers in this process
// share a single fetch. The result is a copy the caller may keep.
func (c *listCache) get(ctx context.Context, folderID int, maxAge time.Duration, fresh freshFn, fetch fetchFn) (*folderListing, error) {
	if l := c.stored(folderID); l != nil && c.usable(folderID, l, maxAge, fresh) {
		fs.Debugf(nil, "fichier: folder %d: using its stored listing of %v ago (%d files, %d folders)",
			folderID, time.Since(l.fetched).Round(time.Millisecond), len(l.files), len(l.folders))
		return l, nil
	}
	c.mu.Lock()
	if f := c.inflight[folderID]; f != nil {
		c.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if f.err != nil {
			return nil, f.err
		}
		return f.listing.clone(), nil
	}
	f := &listFetch{done: make(chan struct{})}
	c.inflight[folderID] = f
	c.mu.Unlock()

	f.listing, f.err = fetch(ctx, folderID)
	if f.err == nil {
		f.listing = c.store(folderID, f.listing)
	}

	c.mu.Lock()
	delete(c.inflight, folderID)
	c.mu.Unlock()
	close(f.done)
	if f.err != nil {
		return nil, f.err
	}
	return f.listing.clone(), nil
}

// usable reports whether the stored listing l of folderID may be used
// instead of a fetch, and marks the folder seen if so.
func (c *listCache) usable(folderID int, l *folderListing, maxAge time.Duration, fresh freshFn) bool {
	if maxAge >= 0 && time.Since(l.fetched) > maxAge {
		return false
	}
	c.mu.Lock()
	seen := c.seen[folderID]
	c.mu.Unlock()
	if maxAge >= 0 && !seen && !fresh(l.fetched) {
		return false
	}
	c.markSeen(folderID)
	return true
}

// markSeen records that this process has used a listing of folderID.
func (c *listCache) markSeen(folderID int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[folderID] = true
}

// confirm records that folderID exists: this process made or listed it.
func (c *listCache) confirm(folderID int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.exists[folderID] = true
}

// confirmed reports whether this process made or listed folderID.
func (c *listCache) confirmed(folderID int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exists[folderID]
}

// forgetInProcess drops what this process alone keeps: which folders it
// has used, and its decoded copies. It then looks at every folder afresh.
func (c *listCache) forgetInProcess() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.seen)
	clear(c.exists)
	clear(c.copies)
}

// stored returns a copy of the stored listing of folderID, or nil.
func (c *listCache) stored(folderID int) *folderListing {
	var l *folderListing
	err := c.db.view(func(k *keyTx) error {
		meta, ok := k.listingMeta(folderID)
		if !ok {
			return nil
		}
		c.mu.Lock()
		d := c.copies[folderID]
		c.mu.Unlock()
		if d == nil || d.version != meta.Version {
			d = c.decodedCopy(folderID, meta.Version, readListing(k, folderID, meta.Fetched))
		}
		l = d.listing.clone()
		return nil
	})
	if err != nil {
		logStateError(err)
		return nil
	}
	return l
}

// readListing decodes the stored entries of folderID.
func readListing(k *keyTx, folderID int, fetched time.Time) *folderListing {
	var files []storedFile
	var dirs []storedDir
	k.eachEntry(folderID,
		func(f storedFile) { files = append(files, f) },
		func(d storedDir) { dirs = append(dirs, d) })
	slices.SortStableFunc(dirs, func(a, b storedDir) int { return cmp.Compare(a.Seq, b.Seq) })
	slices.SortStableFunc(files, func(a, b storedFile) int { return cmp.Compare(a.Seq, b.Seq) })
	l := &folderListing{fetched: fetched}
	for i := range dirs {
		l.folders = append(l.folders, dirs[i].folder())
	}
	for i := range files {
		l.files = append(l.files, files[i].file())
	}
	return l
}

// store keeps a listing just fetched from the API, and returns it with
// the changes that processes made while it was in flight or shortly
// before, which it may not show yet (listingLag): entries they added are
// kept, entries they removed are dropped.
func (c *listCache) store(folderID int, l *folderListing) *folderListing {
	var merged *folderListing
	var version int64
	var orphans map[string]int
	err := c.db.update(func(k *keyTx) error {
		meta, _ := k.listingMeta(folderID)
		since := l.fetched.Add(-c.currentLag())
		files, dirs := lateChanges(k, folderID, since)
		fs.Debugf(nil, "fichier: folder %d listed: %d files, %d folders; our own changes since %s it may not show yet: %d files, %d folders",
			folderID, len(l.files), len(l.folders), since.Format(time.RFC3339Nano), len(files), len(dirs))
		orphans = orphansOf(k, folderID, l, dirs)
		if err := k.clearEntries(folderID); err != nil {
			return err
		}
		gone := k.removedSince(folderID, since)
		for i, file := range l.files {
			if _, late := files[file.URL]; !late && !gone[goneName(goneFile, file.URL)] {
				files[file.URL] = toStoredFile(file, time.Time{}, int64(i))
			}
		}
		for i, dir := range l.folders {
			if d, late := dirs[dir.ID]; late {
				d.Listed = true
				dirs[dir.ID] = d
			} else if !gone[goneName(goneFolder, strconv.Itoa(dir.ID))] {
				dirs[dir.ID] = toStoredDir(dir, time.Time{}, int64(i))
			}
		}
		if err := writeEntries(k, folderID, files, dirs); err != nil {
			return err
		}
		meta = listingMeta{Fetched: l.fetched, Version: meta.Version + 1}
		if err := k.setListingMeta(folderID, meta); err != nil {
			return err
		}
		merged, version = readListing(k, folderID, meta.Fetched), meta.Version
		return nil
	})
	c.markSeen(folderID)
	if err != nil {
		logStateError(err)
		c.sight.listed(folderID, nil, l)
		return l
	}
	c.decodedCopy(folderID, version, merged.clone())
	c.keepOrphans(folderID, orphans)
	return merged
}

// orphansOf returns, by name, the IDs of the subfolders of folderID
// that its fresh listing l no longer shows (deleted or moved by
// something else; late holds those our own changes added, which l may
// not show yet). Their stored listings stay: what our own changes stored
// into them is looked for should this process make one again (rehome).
func orphansOf(k *keyTx, folderID int, l *folderListing, late map[int]storedDir) map[string]int {
	shown := make(map[int]bool, len(l.folders))
	for _, dir := range l.folders {
		shown[dir.ID] = true
	}
	orphans := make(map[string]int)
	k.eachEntry(folderID, func(storedFile) {}, func(d storedDir) {
		if _, ok := late[d.ID]; !ok && !shown[d.ID] {
			orphans[d.Name] = d.ID
		}
	})
	return orphans
}

// keepOrphans remembers the vanished subfolders of parent (orphansOf,
// or those of a folder made again) for rehome, should this process make
// one of them again.
func (c *listCache) keepOrphans(parent int, orphans map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, id := range orphans {
		c.orphans[orphanKey{parent, name}] = id
	}
}

// takeOrphan returns and forgets the ID of the vanished folder name of
// parent (keepOrphans), if any.
func (c *listCache) takeOrphan(parent int, name string) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.orphans[orphanKey{parent, name}]
	delete(c.orphans, orphanKey{parent, name})
	return id, ok
}

// decodedCopy keeps l, version of the stored listing of folderID, as
// this process's copy, and notes where it shows each file.
func (c *listCache) decodedCopy(folderID int, version int64, l *folderListing) *decoded {
	d := &decoded{version: version, listing: l}
	c.mu.Lock()
	before := c.copies[folderID]
	c.copies[folderID] = d
	c.mu.Unlock()
	var had *folderListing
	if before != nil {
		had = before.listing
	}
	c.sight.listed(folderID, had, l)
	return d
}

// place says whether the file fileURL is still in folderID as far as
// this process saw (sightings.place).
func (c *listCache) place(folderID int, fileURL string) error {
	return c.sight.place(folderID, fileURL, c.currentLag())
}

// currentLag is lag as the server runs it (see timeScale).
func (c *listCache) currentLag() time.Duration {
	return c.scale.of(c.lag)
}

// lateChanges returns the entries of folderID that our own changes added
// at or after since.
func lateChanges(k *keyTx, folderID int, since time.Time) (map[string]storedFile, map[int]storedDir) {
	files, dirs := make(map[string]storedFile), make(map[int]storedDir)
	k.eachEntry(folderID,
		func(f storedFile) {
			if !f.Added.Before(since) {
				files[f.URL] = f
			}
		},
		func(d storedDir) {
			if !d.Added.Before(since) {
				dirs[d.ID] = d
			}
		})
	return files, dirs
}

// writeEntries stores the entries of folderID.
func writeEntries(k *keyTx, folderID int, files map[string]storedFile, dirs map[int]storedDir) error {
	for _, f := range files {
		if err := k.putFileEntry(folderID, &f); err != nil {
			return err
		}
	}
	for _, d := range dirs {
		if err := k.putDirEntry(folderID, &d); err != nil {
			return err
		}
	}
	return nil
}

// change applies one of our own changes to the stored listing of
// folderID, for every process. Entries are written even for a folder
// with no stored listing: a listing of it may be in flight in another
// process, and store keeps what changed since it was fetched.
func (c *listCache) change(folderID int, fn func(k *keyTx, now time.Time) error) {
	err := c.db.update(func(k *keyTx) error {
		if err := fn(k, time.Now()); err != nil {
			return err
		}
		return bumpVersion(k, folderID)
	})
	logStateError(err)
}

// bumpVersion marks the stored listing of folderID as changed.
func bumpVersion(k *keyTx, folderID int) error {
	meta, ok := k.listingMeta(folderID)
	if !ok {
		return nil
	}
	meta.Version++
	return k.setListingMeta(folderID, meta)
}

// mark records a removal from folderID, and drops the mark of an earlier
// one of the same entry on an addition.
func mark(k *keyTx, folderID int, kind byte, name string, removed bool, now time.Time) error {
	if !removed {
		now = time.Time{}
	}
	return k.setRemoved(folderID, goneName(kind, name), now)
}

// setEmpty records that folderID was just made and is empty.
func (c *listCache) setEmpty(folderID int) {
	err := c.db.update(func(k *keyTx) error {
		if err := k.clearEntries(folderID); err != nil {
			return err
		}
		meta, _ := k.listingMeta(folderID)
		return k.setListingMeta(folderID, listingMeta{Fetched: time.Now(), Version: meta.Version + 1})
	})
	logStateError(err)
	c.markSeen(folderID)
}

// addFile records a file that we uploaded, copied or moved into folderID.
func (c *listCache) addFile(folderID int, file api.File) {
	c.sight.seen(folderID, file.URL, time.Now())
	c.change(folderID, func(k *keyTx, now time.Time) error {
		return putFile(k, folderID, file, now)
	})
}

// removeFile records that the file with URL fileURL left folderID.
func (c *listCache) removeFile(folderID int, fileURL string) {
	c.sight.left(folderID, fileURL, time.Now())
	c.change(folderID, func(k *keyTx, now time.Time) error {
		return deleteFile(k, folderID, fileURL, now)
	})
}

// putFile stores a file our own change put into folderID.
func putFile(k *keyTx, folderID int, file api.File, now time.Time) error {
	if err := mark(k, folderID, goneFile, file.URL, false, now); err != nil {
		return err
	}
	stored := toStoredFile(file, now, now.UnixNano())
	return k.putFileEntry(folderID, &stored)
}

// deleteFile drops a file our own change took out of folderID.
func deleteFile(k *keyTx, folderID int, fileURL string, now time.Time) error {
	if err := mark(k, folderID, goneFile, fileURL, true, now); err != nil {
		return err
	}
	return k.deleteFileEntry(folderID, fileURL)
}

// addFolder records a subfolder made or moved into parentID.
func (c *listCache) addFolder(parentID int, folder api.SubFolder) {
	c.change(parentID, func(k *keyTx, now time.Time) error {
		if err := mark(k, parentID, goneFolder, strconv.Itoa(folder.ID), false, now); err != nil {
			return err
		}
		stored := toStoredDir(folder, now, now.UnixNano())
		return k.putDirEntry(parentID, &stored)
	})
}

// removeFolder records that folderID left parentID, and forgets folderID's
// own listing when it was deleted.
func (c *listCache) removeFolder(parentID, folderID int, deleted bool) {
	c.change(parentID, func(k *keyTx, now time.Time) error {
		if err := mark(k, parentID, goneFolder, strconv.Itoa(folderID), true, now); err != nil {
			return err
		}
		return k.deleteDirEntry(parentID, folderID)
	})
	if deleted {
		c.forgetFolder(folderID)
	}
}

// update runs fn on the stored listing of folderID, if there is one, and
// stores what it added, changed and removed, in one transaction.
func (c *listCache) update(folderID int, fn func(l *folderListing)) {
	before := c.stored(folderID)
	if before == nil {
		return
	}
	after := before.clone()
	fn(after)
	changed, gone := fileChanges(before.files, after.files)
	// The transaction may run twice (on a new state file after a corrupt
	// one), so it only reads what was worked out before it.
	c.change(folderID, func(k *keyTx, now time.Time) error {
		for _, file := range changed {
			if err := putFile(k, folderID, file, now); err != nil {
				return err
			}
		}
		for _, fileURL := range gone {
			if err := deleteFile(k, folderID, fileURL, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// fileChanges returns the files of after that are new or differ from
// before, and the URLs of the files of before that after no longer has.
func fileChanges(before, after []api.File) (changed []api.File, gone []string) {
	had := make(map[string]api.File, len(before))
	for _, file := range before {
		had[file.URL] = file
	}
	for _, file := range after {
		if old, ok := had[file.URL]; !ok || old != file {
			changed = append(changed, file)
		}
		delete(had, file.URL)
	}
	for _, file := range before {
		if _, ok := had[file.URL]; ok {
			gone = append(gone, file.URL)
		}
	}
	return changed, gone
}

// forgetFolder drops the stored listing of folderID, a folder that no
// longer exists, for every process, with all our own changes put in it.
func (c *listCache) forgetFolder(folderID int) {
	c.dropListing(folderID, false)
}

// relist drops the stored listing of folderID, which lacks what
// 1fichier stored there by itself (a remote upload, imported links), for
// every process, so the next use fetches it again. What our own changes
// added in the last goneMemory stays: that listing may not show it yet
// (listingLag), and the next copy would upload it again.
func (c *listCache) relist(folderID int) {
	c.dropListing(folderID, true)
}

// dropListing drops the stored listing of folderID, and its entries but,
// with keepOurs, what our own changes added lately.
func (c *listCache) dropListing(folderID int, keepOurs bool) {
	err := c.db.update(func(k *keyTx) error {
		var err error
		if keepOurs {
			err = k.clearListedEntries(folderID, time.Now().Add(-goneMemory))
		} else {
			err = k.clearEntries(folderID)
		}
		if err != nil {
			return err
		}
		return k.deleteListingMeta(folderID)
	})
	logStateError(err)
	c.mu.Lock()
	delete(c.seen, folderID)
	delete(c.exists, folderID)
	delete(c.copies, folderID)
	c.mu.Unlock()
}

// forgetListings drops every stored listing of the key, for every
// process.
func (c *listCache) forgetListings() {
	err := c.db.update(func(k *keyTx) error { return k.dropListings() })
	logStateError(err)
	c.forgetInProcess()
}

// listedIn reports whether the stored listing of parent shows folder
// child as 1fichier listed it, or as our own change put it there less
// than within ago (as recent as a listing could be). A subfolder our
// change put there earlier, which no fetched listing has shown since
// (it is kept while listings may lag behind it), may have been deleted
// meanwhile, and the listing would not tell.
func (c *listCache) listedIn(parent, child int, within time.Duration) bool {
	listed := false
	err := c.db.view(func(k *keyTx) error {
		k.eachEntry(parent, func(storedFile) {}, func(d storedDir) {
			listed = listed || (d.ID == child && (d.Added.IsZero() || d.Listed || time.Since(d.Added) < within))
		})
		return nil
	})
	logStateError(err)
	return listed
}

// ownAdditions returns the files that our own changes put into folderID
// since its stored listing was fetched (uploads, copies and moves a
// fresh listing has not shown yet), as far as the state knows, and when
// the latest of them was recorded.
func (c *listCache) ownAdditions(folderID int) (files []api.File, newest time.Time) {
	err := c.db.view(func(k *keyTx) error {
		k.eachEntry(folderID,
			func(f storedFile) {
				if !f.Added.IsZero() {
					files = append(files, f.file())
					newest = latest(newest, f.Added)
				}
			},
			func(storedDir) {})
		return nil
	})
	logStateError(err)
	return files, newest
}

// urls returns the set of file URLs in the stored listing of folderID, or
// nil if there is none.
func (c *listCache) urls(folderID int) map[string]bool {
	l := c.stored(folderID)
	if l == nil {
		return nil
	}
	set := make(map[string]bool, len(l.files))
	for _, file := range l.files {
		set[file.URL] = true
	}
	return set
}

// newInListing returns the newest file of l called name, of this size,
// that was not among known.
func newInListing(l *folderListing, name string, size int64, known map[string]bool) (*api.File, bool) {
	fresh := &folderListing{}
	for _, file := range l.files {
		if int64(file.Size) == size && !known[file.URL] {
			fresh.files = append(fresh.files, file)
		}
	}
	return pickFile(fresh, name)
}
