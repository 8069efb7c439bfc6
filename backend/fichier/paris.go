package fichier

import (
	"encoding/binary"
	"time"
)

// parisTime is the zone of every date the API sends: 1fichier's clocks
// are Paris wall time. It is built from France's rule since 1996 (CET,
// UTC+1, and CEST, UTC+2, from the last Sunday of March at 01:00 UTC to
// the last Sunday of October at 01:00 UTC) rather than loaded from the
// zone database, which hosts without one (Windows without a Go install,
// minimal containers) lack, and which embedded (time/tzdata) would add
// about 450 KB to every rclone binary for one zone.
var parisTime = parisLocation()

// parisRule is the rule as a POSIX TZ string, which the time package
// applies to every instant after a zone's last transition.
const parisRule = "CET-1CEST,M3.5.0,M10.5.0/3"

// parisLocation returns a zone that has no transitions of its own and
// parisRule as its rule, written as the smallest zone file (TZif version
// 2: the 32-bit and the 64-bit parts, each with one zone type, CET, and
// then the rule).
func parisLocation() *time.Location {
	part := func(b []byte) []byte {
		b = append(b, "TZif2"...)
		b = append(b, make([]byte, 15)...)
		// Counts: UT/local and standard/wall indicators, leap seconds,
		// transitions, zone types, abbreviation bytes.
		for _, n := range []uint32{0, 0, 0, 0, 1, 4} {
			b = binary.BigEndian.AppendUint32(b, n)
		}
		b = binary.BigEndian.AppendUint32(b, 3600) // CET's offset, in seconds east of UTC
		b = append(b, 0, 0)                        // not daylight saving; abbreviation at 0
		return append(b, "CET\x00"...)
	}
	data := part(part(nil))
	data = append(data, "\n"+parisRule+"\n"...)
	loc, err := time.LoadLocationFromTZData("Europe/Paris", data)
	if err != nil {
		panic("fichier: the Paris time zone: " + err.Error())
	}
	return loc
}
