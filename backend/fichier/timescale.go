package fichier

import (
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rclone/rclone/fs"
)

// A test server may run 1fichier's rules faster than real time, so that
// tests of the five-minute clocks take seconds. It says by how much in
// this header of every answer; 1fichier never sends it. The backend then
// divides the clocks it knows without an option (a download URL's life,
// the account info's spacing, how long listings lag behind uploads and
// how long the upload result page takes) by the same factor. Only an
// api_url outside 1fichier's domain is listened to: no answer can ever
// make a remote of the real service call it faster than its rules allow.
const timeScaleHeader = "X-Time-Scale"

// maxTimeScale bounds a told scale: beyond it every clock is shorter
// than a call takes, which is no test of anything.
const maxTimeScale = 1e9

// serviceDomain is 1fichier's domain: an api_url in it is the real
// service, whose answers never change a clock. Tests point it at their
// own server to check that.
var serviceDomain = "1fichier.com"

// honoursTimeScale reports whether the answers of apiURL may speed up the
// backend's clocks: only those of a server outside 1fichier's domain.
func honoursTimeScale(apiURL string) bool {
	u, err := url.Parse(apiURL)
	if err != nil {
		return false
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	return host != "" && host != serviceDomain && !strings.HasSuffix(host, "."+serviceDomain)
}

// parseTimeScale reads the header's value. No header means real time,
// and so does a value that is no usable factor: the strict reading,
// slower than the server allows but never faster.
func parseTimeScale(v string) float64 {
	if v == "" {
		return 1
	}
	scale, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || !(scale > 0) || scale > maxTimeScale {
		fs.Debugf(nil, "fichier: ignoring the test server's %s %q: not a factor from 0 to %g", timeScaleHeader, v, float64(maxTimeScale))
		return 1
	}
	return scale
}

// timeScale is how many times faster than real time the server of an
// account runs 1fichier's clocks: 1 until the server says otherwise. A
// nil *timeScale is real time.
type timeScale struct {
	honoured bool          // the server may set it (honoursTimeScale)
	bits     atomic.Uint64 // math.Float64bits of the scale; 0 is 1
}

// newTimeScale returns the scale of the server at apiURL, starting at
// stored: the scale an earlier answer told, 1 for none.
func newTimeScale(apiURL string, stored float64) *timeScale {
	s := &timeScale{honoured: honoursTimeScale(apiURL)}
	if s.honoured && stored > 0 && stored != 1 {
		s.bits.Store(math.Float64bits(stored))
	}
	return s
}

// get returns the scale.
func (s *timeScale) get() float64 {
	if s == nil {
		return 1
	}
	if b := s.bits.Load(); b != 0 {
		return math.Float64frombits(b)
	}
	return 1
}

// of returns d divided by the scale: one of 1fichier's clocks as the
// server runs it.
func (s *timeScale) of(d time.Duration) time.Duration {
	return time.Duration(float64(d) / s.get())
}

// learn takes the scale the answer header h tells, and returns the scale
// it replaced and whether it changed; the answers of 1fichier itself
// change nothing.
func (s *timeScale) learn(h http.Header) (old float64, changed bool) {
	if !s.honoured {
		return 1, false
	}
	scale := parseTimeScale(h.Get(timeScaleHeader))
	nb := math.Float64bits(scale)
	if scale == 1 {
		nb = 0
	}
	ob := s.bits.Swap(nb)
	if ob == nb {
		return 0, false
	}
	if ob == 0 {
		return 1, true
	}
	return math.Float64frombits(ob), true
}

// learnTimeScale takes the time scale of one of the server's answers and,
// when it changed, keeps it in the shared state for the next process of
// the key, with the account info's clocks moved to follow it: a booking
// made before the first answer of a process is counted at real time.
// The clocks are counted at the stored scale, or at this process's when
// it booked the account info itself: another process may have stored
// the new scale between this one's start and its booking, and this
// booking still needs moving (rescaledClock leaves one already moved).
func (a *account) learnTimeScale(resp *http.Response) {
	if resp == nil {
		return
	}
	old, changed := a.scale.learn(resp.Header)
	if !changed {
		return
	}
	scale := a.scale.get()
	fs.Debugf(nil, "fichier: the test server runs 1fichier's clocks %g times faster (it ran them %g times faster)", scale, old)
	booked := a.limits.rebookUserInfo(scale)
	a.db.keepScale(scale)
	err := a.db.update(func(k *keyTx) error {
		from := k.timeScale()
		if from != scale {
			if err := k.setTimeScale(scale); err != nil {
				return err
			}
		}
		if booked != 0 {
			from = booked
		}
		if from == scale {
			return nil
		}
		return rescaleUserInfoClocks(k, from, scale, time.Now())
	})
	logStateError(err)
}

// storedTimeScale returns the time scale the state keeps for the server
// of db, or its file beside the state (keepScale) when the state has
// none; 1 for none.
func storedTimeScale(db *stateDB) float64 {
	scale, ok := 1.0, false
	err := db.view(func(k *keyTx) error {
		scale, ok = k.toldTimeScale()
		return nil
	})
	if err != nil || !ok {
		return db.keptScale()
	}
	return scale
}

// The time scale is also kept in a small file of its own beside the
// state (one per key, like the state's buckets): a state lost, or set
// aside after a full disk (goPrivate), would otherwise leave the next
// process counting the test server's clocks at real time until its first
// answer, and a lost state's first account info would wait 5 minutes
// where the server means seconds. Against 1fichier the scale is 1 and
// the file is never written.

// keepScale writes scale to db's scale file; a failure costs only that.
func (s *stateDB) keepScale(scale float64) {
	if scale == 1 {
		_ = os.Remove(s.scale)
		return
	}
	if err := os.WriteFile(s.scale, []byte(strconv.FormatFloat(scale, 'g', -1, 64)), 0o600); err != nil {
		fs.Debugf(nil, "fichier: couldn't keep the test server's time scale beside the state: %v", err)
	}
}

// keptScale returns the scale db's scale file holds, 1 for none.
func (s *stateDB) keptScale() float64 {
	data, err := os.ReadFile(s.scale)
	if err != nil {
		return 1
	}
	return parseTimeScale(string(data))
}
