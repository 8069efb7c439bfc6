package fichier

import (
	"context"
	"fmt"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/fs"
)

// Files stored in a folder deleted meanwhile.
//
// 1fichier takes an upload into a folder that no longer exists as an
// upload into the account's root, without a word (upload.cgi's did),
// and end.pl does not say which folder a file went to. So a folder
// deleted by something else while this machine uploads into it sends
// the uploads that follow to the root, and nothing short of one more
// call per upload would tell (file/info.cgi, which 1fichier is known to
// answer with IP locks when called often). The backend finds out the
// next time a process is about to store something into the folder
// (ensureFolder), and puts such files where they were asked.

// strays is what our own changes had stored into a folder found deleted
// by something else (straysOf), for rehome.
type strays struct {
	files      []api.File
	newest     time.Time      // when the latest of files was recorded
	subfolders map[string]int // by name: the folder's own, deleted with it
}

// straysOf settles the unfinished uploads into folder old (dir), found
// deleted, and returns what our own changes had stored into it. It is
// read before old is forgotten.
func (f *Fs) straysOf(ctx context.Context, dir string, old int) strays {
	if err := f.settleUploads(ctx, old, ""); err != nil {
		fs.Logf(f, "couldn't find out what unfinished uploads into %q stored before it was deleted: %v", dir, err)
	}
	left := strays{subfolders: make(map[string]int)}
	left.files, left.newest = f.acc.listings.ownAdditions(old)
	if l := f.acc.listings.stored(old); l != nil {
		for _, d := range l.folders {
			left.subfolders[d.Name] = d.ID
		}
	}
	return left
}

// rehome moves into folder id (dir, made again) the files that our own
// changes had put into the folder dir was before (left), which the
// account's root now shows: uploads that went on after that folder was
// deleted. The subfolders it had are remembered, so that making one of
// them again in id does the same for it. Files deleted with the old
// folder are gone, and those the root does not show are left alone:
// they are not known to be anywhere.
func (f *Fs) rehome(ctx context.Context, dir string, left strays, id int) error {
	f.acc.listings.keepOrphans(id, left.subfolders)
	ours := left.files
	if len(ours) == 0 {
		return nil
	}
	root, err := f.listingSince(ctx, 0, notLaterThanNow(left.newest))
	if err != nil {
		return fmt.Errorf("couldn't look for files stored while %q was deleted: %w", dir, err)
	}
	inRoot := make(map[string]bool, len(root.files))
	for _, file := range root.files {
		inRoot[file.URL] = true
	}
	var ops []*serverOp
	for _, file := range ours {
		if inRoot[file.URL] {
			ops = append(ops, &serverOp{ctx: ctx, url: file.URL, from: 0, name: file.Filename, file: file})
		}
	}
	if len(ops) == 0 {
		return nil
	}
	fs.Logf(f, "%d file(s) stored into %q while something else deleted it were put in the account's root by 1fichier: "+
		"moving them into %q", len(ops), dir, dir)
	return inBatches(ops, func(batch []*serverOp) error {
		for _, r := range f.moveOps(ctx, id, batch, time.Time{}) {
			if r.err != nil {
				return fmt.Errorf("couldn't move into %q the files 1fichier put in the root: %w", dir, r.err)
			}
		}
		return nil
	})
}

// listingSince returns the stored listing of folder id when it was
// fetched after t, else a new one: a listing from before a file was
// stored cannot show it.
func (f *Fs) listingSince(ctx context.Context, id int, t time.Time) (*folderListing, error) {
	if l := f.acc.listings.stored(id); l != nil && l.fetched.After(t) {
		return l, nil
	}
	return f.cachedListing(ctx, id, 0)
}
