package fichier

import (
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTimesShownInLocalRFC3339: 1fichier's Paris dates and our own times
// are shown as RFC 3339 in local time, the wizard's "until" among them.
func TestTimesShownInLocalRFC3339(t *testing.T) {
	loc, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	old := time.Local
	time.Local = loc
	t.Cleanup(func() { time.Local = old })

	assert.Equal(t, "2026-12-31T18:00:00-05:00", showAPITime("2027-01-01 00:00:00"), "midnight in Paris")
	assert.Equal(t, "not a date", showAPITime("not a date"), "shown as sent")
	assert.Equal(t, "", showTime(time.Time{}))
	assert.Equal(t, "2026-07-01T06:00:00-04:00", showTime(time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)))

	said := describeAccount(&api.UserInfo{Email: "a@example.com", Offer: 1, SubscriptionEnd: "2027-01-01 00:00:00"})
	assert.Contains(t, said, "until 2026-12-31T18:00:00-05:00.")
}
