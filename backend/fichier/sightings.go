package fichier

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// A file's URL names the file, not its place: a move keeps it, and
// file/rm.cgi and file/mv.cgi take a URL, not a folder. A listing that
// still shows a file in a folder it has left (a stored listing that a
// killed process or another client left behind, or a listing that
// lags) therefore names the file wherever it is now, and removing or
// moving "a/x" by that URL would remove or move the file in its new
// folder: a server-side move run again after a kill deleted its source
// this way, which was by then the only copy.
//
// sightings remembers, per URL, which folders this process's listings
// (and its own changes) showed the file in, and when. Before a file is
// removed, moved or renamed from a folder, the newest sighting decides:
// seen in another folder since, the file has left (a removal is done;
// a move cannot find it); seen in two folders within the time listings
// may lag behind each other, nobody can say where it is, and nothing is
// sent.

// sighting is one folder a file was seen in, and when.
type sighting struct {
	folder int
	at     time.Time
}

// sightings holds the sightings of every file URL this process has
// listed or changed.
type sightings struct {
	mu   sync.Mutex
	byID map[string][]sighting
}

func newSightings() *sightings {
	return &sightings{byID: make(map[string][]sighting)}
}

// listed records a listing of folderID fetched at at: each file it shows
// was there then, and each file that before (the previous listing of
// the folder this process decoded, or nil) showed and it does not was
// not.
func (s *sightings) listed(folderID int, before, after *folderListing) {
	s.mu.Lock()
	defer s.mu.Unlock()
	shown := make(map[string]bool, len(after.files))
	for _, file := range after.files {
		shown[file.URL] = true
		s.seenLocked(file.URL, sighting{folder: folderID, at: after.fetched})
	}
	if before == nil {
		return
	}
	for _, file := range before.files {
		if !shown[file.URL] {
			s.goneLocked(file.URL, folderID, after.fetched)
		}
	}
}

// seen records that fileURL was in folderID at now (one of our own
// changes put it there).
func (s *sightings) seen(folderID int, fileURL string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seenLocked(fileURL, sighting{folder: folderID, at: now})
}

// left records that fileURL left folderID at now (one of our own
// changes took it out).
func (s *sightings) left(folderID int, fileURL string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.goneLocked(fileURL, folderID, now)
}

// seenLocked keeps the newer of the folder's sightings.
func (s *sightings) seenLocked(fileURL string, seen sighting) {
	list := s.byID[fileURL]
	for i := range list {
		if list[i].folder == seen.folder {
			if seen.at.After(list[i].at) {
				list[i].at = seen.at
			}
			return
		}
	}
	s.byID[fileURL] = append(list, seen)
}

// goneLocked drops the sighting of fileURL in folderID unless it is
// newer than at.
func (s *sightings) goneLocked(fileURL string, folderID int, at time.Time) {
	list := s.byID[fileURL]
	for i := range list {
		if list[i].folder == folderID && !list[i].at.After(at) {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(s.byID, fileURL)
		return
	}
	s.byID[fileURL] = list
}

// errMovedAway says a file has left the folder it was listed in.
var errMovedAway = errors.New("the file has left this folder (moved by another process or client): " +
	"its URL shows in a newer listing of another folder")

// place says whether fileURL is still in folderID as far as this process
// knows: nil when it is (or nothing says otherwise), errMovedAway when a
// sighting in another folder is newer than the last one in folderID by
// more than lag (how far listings may lag, listingLag), and an error
// naming the doubt when sightings in two folders are within lag of each
// other.
func (s *sightings) place(folderID int, fileURL string, lag time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var here, there time.Time
	for _, seen := range s.byID[fileURL] {
		switch {
		case seen.folder == folderID:
			here = seen.at
		case seen.at.After(there):
			there = seen.at
		}
	}
	switch {
	case there.IsZero() || here.Sub(there) > lag:
		return nil
	case here.IsZero() || there.Sub(here) > lag:
		return errMovedAway
	}
	return fmt.Errorf("the same file shows in the listings of two folders made %v apart, and 1fichier's "+
		"listings may lag by up to %v, so which folder holds it now is not known: nothing was sent; "+
		"run the command again in %v", there.Sub(here).Abs().Round(time.Millisecond), lag, lag)
}
