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

// rehome moves into folder id (dir, made again) the files that our own
// changes had put into the folder dir was before, which the account's
// root now shows: uploads that went on after the old folder was
// deleted. Files deleted with the old folder are gone, and those the
// root does not show are left alone: they are not known to be anywhere.
func (f *Fs) rehome(ctx context.Context, dir string, id int, ours []api.File) error {
	if len(ours) == 0 {
		return nil
	}
	// A root listing as fresh as 1fichier would let a new one be will do.
	_, _, listInterval := f.acc.limits.settings()
	root, err := f.cachedListing(ctx, 0, listInterval)
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
