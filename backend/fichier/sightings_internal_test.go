package fichier

import (
	"context"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/rclone/rclone/fs/sync"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listingOf returns a listing fetched at at showing files of the URLs.
func listingOf(at time.Time, urls ...string) *folderListing {
	l := &folderListing{fetched: at}
	for _, u := range urls {
		l.files = append(l.files, api.File{URL: u})
	}
	return l
}

// TestSightingsPlace: the newest sighting of a URL decides where the
// file is, unless sightings in two folders are within the lag of each
// other.
func TestSightingsPlace(t *testing.T) {
	const lag = time.Minute
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		record func(s *sightings)
		want   string // "here", "left" (errMovedAway) or "doubt" (any other error)
	}{
		{"only here", func(s *sightings) { s.listed(1, nil, listingOf(t0, "u")) }, "here"},
		{"never seen", func(s *sightings) {}, "here"},
		{"here newer by more than the lag", func(s *sightings) {
			s.listed(2, nil, listingOf(t0, "u"))
			s.listed(1, nil, listingOf(t0.Add(2*lag), "u"))
		}, "here"},
		{"elsewhere newer by more than the lag", func(s *sightings) {
			s.listed(1, nil, listingOf(t0, "u"))
			s.listed(2, nil, listingOf(t0.Add(2*lag), "u"))
		}, "left"},
		{"only elsewhere", func(s *sightings) { s.listed(2, nil, listingOf(t0, "u")) }, "left"},
		{"within the lag", func(s *sightings) {
			s.listed(1, nil, listingOf(t0.Add(lag/2), "u"))
			s.listed(2, nil, listingOf(t0, "u"))
		}, "doubt"},
		{"a newer listing elsewhere no longer shows it", func(s *sightings) {
			s.listed(1, nil, listingOf(t0, "u"))
			s.listed(2, nil, listingOf(t0.Add(lag/2), "u"))
			s.listed(2, listingOf(t0.Add(lag/2), "u"), listingOf(t0.Add(lag), "v"))
		}, "here"},
		{"our own move took it out", func(s *sightings) {
			s.listed(1, nil, listingOf(t0, "u"))
			s.left(1, "u", t0.Add(time.Second))
			s.seen(2, "u", t0.Add(time.Second))
		}, "left"},
		{"our own move brought it here", func(s *sightings) {
			s.listed(2, nil, listingOf(t0, "u"))
			s.left(2, "u", t0.Add(time.Second))
			s.seen(1, "u", t0.Add(time.Second))
		}, "here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSightings()
			tc.record(s)
			err := s.place(1, "u", lag)
			switch tc.want {
			case "here":
				assert.NoError(t, err)
			case "left":
				assert.Equal(t, errMovedAway, err)
			default:
				require.Error(t, err)
				assert.NotErrorIs(t, err, errMovedAway)
				assert.Contains(t, err.Error(), "nothing was sent")
			}
		})
	}
}

// TestMoveAgainAfterAnUnrecordedMove is the explorer's bug I: a
// server-side move of folder a into c whose file/mv.cgi was done but
// never recorded (the process was killed before the answer; another
// client's move does the same), then the move run again by a process
// that still uses its listing of a and lists c afresh. The file shows
// in both, with one URL, and looks already moved: rclone deletes the
// source, and a removal by URL would delete the only copy, now in c.
func TestMoveAgainAfterAnUnrecordedMove(t *testing.T) {
	srv := emulator.NewTestServer(t, fichiertest.Options())
	ctx := context.Background()
	fa := fichiertest.NewFs(t, srv, "a", nil).(*Fs)
	fc := fichiertest.NewFs(t, srv, "c", nil).(*Fs)
	x := put(t, fa, "x.bin", "the only copy")
	put(t, fc, "y.bin", "already there")
	_, err := fa.List(ctx, "")
	require.NoError(t, err)
	cID, err := fc.folderOf(ctx, "", false)
	require.NoError(t, err)

	apiPost(t, srv, api.FileMv, &api.MoveFileRequest{URLs: []string{x.(*Object).url}, DestinationFolderID: cID})
	// This process has used a's listing (and keeps using it for the
	// cache time, as any cache); c it has not listed (forgotten), and
	// it lists it once 1fichier allows, past the lag of listings.
	fc.acc.listings.forgetFolder(cID)
	_, _, listInterval := fc.acc.limits.settings()
	time.Sleep(max(listInterval, fc.acc.listings.lag) + fc.acc.listings.lag/10)

	require.NoError(t, sync.MoveDir(ctx, fc, fa, false, false))

	inC, err := srv.Files(srv.Key, int64(cID))
	require.NoError(t, err)
	var names []string
	for _, file := range inC {
		names = append(names, file.Name)
	}
	assert.ElementsMatch(t, []string{"x.bin", "y.bin"}, names, "the moved file is kept, once")
	entries, err := fa.List(ctx, "")
	require.NoError(t, err)
	assert.Empty(t, entries, "a no longer shows the file")
	assert.Zero(t, calls(srv, "file/rm.cgi"), "nothing removed")
}
