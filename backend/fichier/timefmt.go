package fichier

import (
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
)

// Every time a command prints or logs for the user is shown one way:
// RFC 3339 in the machine's local time, to the second, which carries the
// zone as an offset ("2026-12-06T11:23:13+01:00"), reads the same in JSON
// and in text, and sorts as text. 1fichier's own dates (Paris wall time,
// no zone) are converted.

// showTime shows t, or "" for the zero time.
func showTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Truncate(time.Second).Format(time.RFC3339)
}

// showAPITime shows a date of the API (Paris time); one that does not
// parse is shown as 1fichier sent it.
func showAPITime(t api.Time) string {
	parsed := t.Parse(parisTime)
	if parsed.IsZero() {
		return string(t)
	}
	return showTime(parsed)
}
