package fichier

import (
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
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
