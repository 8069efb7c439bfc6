package fichier

import (
	"testing"
	"time"
	_ "time/tzdata" // the zone database, in the tests only: the reference parisTime must match

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The switches of 2026, in UTC and in Paris wall time.
func TestParisTimeAtTheSwitches(t *testing.T) {
	for _, c := range []struct{ utc, paris string }{
		{"2026-01-15 12:00:00", "2026-01-15 13:00:00 CET"},
		{"2026-03-29 00:59:59", "2026-03-29 01:59:59 CET"},
		{"2026-03-29 01:00:00", "2026-03-29 03:00:00 CEST"},
		{"2026-07-14 12:00:00", "2026-07-14 14:00:00 CEST"},
		{"2026-10-25 00:59:59", "2026-10-25 02:59:59 CEST"},
		{"2026-10-25 01:00:00", "2026-10-25 02:00:00 CET"},
	} {
		at, err := time.Parse(time.DateTime, c.utc)
		require.NoError(t, err)
		assert.Equal(t, c.paris, at.In(parisTime).Format("2006-01-02 15:04:05 MST"), c.utc)
	}
}

// parisTime agrees with the zone database's Europe/Paris, every quarter
// of an hour across both switches of each year from 2000 to 2045, in
// both directions: an instant to wall time, and a wall time (also one
// that does not exist or happens twice) to an instant.
func TestParisTimeMatchesTheZoneDatabase(t *testing.T) {
	ref, err := time.LoadLocation("Europe/Paris")
	require.NoError(t, err)
	for year := 2000; year <= 2045; year++ {
		for _, month := range []time.Month{time.March, time.October} {
			last := lastSunday(year, month)
			from := time.Date(year, month, last-1, 0, 0, 0, 0, time.UTC)
			for at := from; at.Before(from.AddDate(0, 0, 3)); at = at.Add(15 * time.Minute) {
				want := at.In(ref)
				got := at.In(parisTime)
				require.Equal(t, want.Format(time.RFC3339+" MST"), got.Format(time.RFC3339+" MST"), "instant %v", at)
				wall := at.Format(time.DateTime)
				inRef, err := time.ParseInLocation(time.DateTime, wall, ref)
				require.NoError(t, err)
				inParis, err := time.ParseInLocation(time.DateTime, wall, parisTime)
				require.NoError(t, err)
				require.True(t, inRef.Equal(inParis), "wall time %s: %v, want %v", wall, inParis, inRef)
			}
		}
	}
}

func lastSunday(year int, month time.Month) int {
	d := time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC) // the month's last day
	return d.Day() - int(d.Weekday())
}

// A date written for the API reads back as the same instant, but in the
// hour that October's switch repeats: the API's dates do not say which.
func TestAPITimeRoundTrip(t *testing.T) {
	for _, s := range []string{"2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z", "2026-10-24T23:30:00Z", "2026-10-25T02:30:00Z"} {
		at, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		assert.True(t, apiTime(at).Parse(parisTime).Equal(at), s)
	}
}
