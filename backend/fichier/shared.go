package fichier

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/lib/rest"
)

// A shared folder is read through the website's public listing
// (/dir/<id>?json=1), not the API: it works for anybody's folder, needs no
// key and shows only the folder's files, without checksums or dates.

// fetchShared lists the shared folder. A password-protected folder answers
// its HTML password form instead of JSON unless the password is POSTed.
func (f *Fs) fetchShared(ctx context.Context, _ int) (*folderListing, error) {
	var body []byte
	c := apiCall{
		path:     api.SharedFolderPage + url.PathEscape(f.opt.SharedFolder),
		opts:     rest.Opts{Method: "GET", RootURL: f.websiteURL, Parameters: url.Values{"json": {"1"}}},
		website:  true,
		response: &body,
	}
	if f.opt.FolderPassword != "" {
		c.opts = rest.Opts{Method: "POST", RootURL: f.websiteURL}
		c.form = url.Values{"json": {"1"}, "pass": {f.opt.FolderPassword}}
	}
	if err := f.call(ctx, &c); err != nil {
		if apiKind(err) == api.KindNotFound {
			return nil, fs.ErrorDirNotFound
		}
		return nil, fmt.Errorf("couldn't list shared folder %q: %w", f.opt.SharedFolder, err)
	}
	if !bytes.HasPrefix(bytes.TrimSpace(body), []byte("[")) {
		if f.opt.FolderPassword != "" {
			return nil, fmt.Errorf("shared folder %q refused folder_password: check it", f.opt.SharedFolder)
		}
		return nil, fmt.Errorf("shared folder %q is password protected: set folder_password", f.opt.SharedFolder)
	}
	var shared []api.SharedFile
	if err := json.Unmarshal(body, &shared); err != nil {
		return nil, fmt.Errorf("couldn't read shared folder %q: %w", f.opt.SharedFolder, err)
	}
	l := &folderListing{fetched: time.Now(), files: make([]api.File, len(shared))}
	date := apiTime(l.fetched)
	for i, file := range shared {
		l.files[i] = api.File{URL: file.Link, Filename: file.Filename, Size: file.Size, Date: date}
	}
	return l, nil
}

// notFresh makes a process's first look at a shared folder fetch it: the
// website has no listing rule of its own, only the call rate.
func notFresh(time.Time) bool { return false }

// listShared lists the shared folder: it has no subfolders.
func (f *Fs) listShared(ctx context.Context, dir string) (entries fs.DirEntries, err error) {
	if dir != "" {
		return nil, fs.ErrorDirNotFound
	}
	l, err := f.shared.get(ctx, 0, time.Duration(f.opt.ListCacheTime), notFresh, f.fetchShared)
	if err != nil {
		return nil, err
	}
	for i := range l.files {
		entries = append(entries, f.newObject(f.fromAPIName(l.files[i].Filename), 0, &l.files[i]))
	}
	return entries, nil
}

// findShared finds remote in the shared folder.
func (f *Fs) findShared(ctx context.Context, remote string) (*Object, error) {
	if path.Dir(remote) != "." {
		return nil, fs.ErrorObjectNotFound
	}
	l, err := f.shared.get(ctx, 0, time.Duration(f.opt.ListCacheTime), notFresh, f.fetchShared)
	if err != nil {
		return nil, err
	}
	file, ok := pickFile(l, f.toAPIName(remote))
	if !ok {
		return nil, fs.ErrorObjectNotFound
	}
	return f.newObject(remote, 0, file), nil
}
