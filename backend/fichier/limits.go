package fichier

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rclone/rclone/fs"
)

// After repeated flood locks the wait doubles up to maxFloodWaits times
// flood_wait (an hour with the default 5 minutes), and the calls are
// spaced up to maxSlowdown times further apart than api_rate says, until
// no lock has been seen for slowdownMemory.
const (
	maxFloodWaits  = 12
	maxSlowdown    = 8
	slowdownMemory = time.Hour
)

// userInfoPerIP is 1fichier's spacing of user/info.cgi calls from one IP,
// whatever the key. The per-user rule (5 minutes) needs no clock of its
// own: the answer is kept for that long and served from the state.
const userInfoPerIP = time.Minute

// Clock names in a key's clocks bucket, and in the host bucket.
var (
	clockCall       = []byte("next_call")    // earliest time of the next API call
	clockFlood      = []byte("flood")        // floodState
	clockUserInfoIP = []byte("user_info_ip") // host: earliest next user/info.cgi
)

// limits is the API budget of one account, shared by every Fs of the key
// in this process and, through the state file, by every rclone process
// on the machine. 1fichier counts calls per key and per IP, answers
// "Flood detected" when a rule is broken and then refuses every call for
// a while. rclone's pacer only spaces calls of one Fs and retries one
// caller at a time, so the rules live here instead:
//
//   - one schedule of API calls: each call books the next free slot, one
//     call interval (1/api_rate) after the one before, whichever process
//     booked it;
//   - a gate that, once a flood answer is seen, holds every caller of
//     every process until the lock should be over, doubling the wait on
//     repeated locks and spacing calls further apart for a while;
//   - a per-folder clock so the same folder is never listed twice within
//     the listing interval, by any process;
//   - a per-IP clock for user/info.cgi.
type limits struct {
	db *stateDB

	mu           sync.Mutex
	interval     time.Duration // between two calls, 1/api_rate
	floodWait    time.Duration
	listInterval time.Duration // with its margin
}

// floodState is the flood gate as the state file keeps it.
type floodState struct {
	LockedUntil time.Time     `json:"locked_until"` // no API call before this
	LastWait    time.Duration `json:"last_wait"`    // length of the last lock we waited for
	LastFlood   time.Time     `json:"last_flood"`   // when the last lock started
	Slowdown    int           `json:"slowdown"`     // the call interval is multiplied by this
}

// slowdown returns the factor calls are spaced by at now.
func (s *floodState) slowdown(now time.Time) time.Duration {
	if s.Slowdown < 1 || now.Sub(s.LastFlood) > slowdownMemory {
		return 1
	}
	return time.Duration(s.Slowdown)
}

// newLimits makes the budget for callsPerSecond API calls a second,
// waiting floodWait after a flood lock and listInterval between two
// listings of the same folder, kept in db.
func newLimits(db *stateDB, callsPerSecond float64, floodWait, listInterval time.Duration) *limits {
	return &limits{
		db:        db,
		interval:  callInterval(callsPerSecond),
		floodWait: floodWait,
		// The server sees our calls later than we send them, and not
		// always by the same delay: keep a 10% margin.
		listInterval: withMargin(listInterval),
	}
}

// callInterval is the time between two calls at callsPerSecond.
func callInterval(callsPerSecond float64) time.Duration {
	return time.Duration(float64(time.Second) / callsPerSecond)
}

// withMargin adds 10% to a clock of the service.
func withMargin(d time.Duration) time.Duration {
	return d + d/10
}

// tighten applies another remote's settings for the same key: the most
// careful of each wins, as two remotes of one key share one budget. It
// returns what changed, for a NOTICE.
func (l *limits) tighten(callsPerSecond float64, floodWait, listInterval time.Duration) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var changed []string
	if iv := callInterval(callsPerSecond); iv > l.interval {
		l.interval = iv
		changed = append(changed, fmt.Sprintf("api_rate %g", callsPerSecond))
	}
	if floodWait > l.floodWait {
		l.floodWait = floodWait
		changed = append(changed, fmt.Sprintf("flood_wait %v", floodWait))
	}
	if li := withMargin(listInterval); li > l.listInterval {
		l.listInterval = li
		changed = append(changed, fmt.Sprintf("list_interval %v", listInterval))
	}
	return changed
}

// settings returns the call interval, flood wait and listing interval.
func (l *limits) settings() (interval, floodWait, listInterval time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.interval, l.floodWait, l.listInterval
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// floodState returns the flood gate's state.
func (l *limits) floodState() (state floodState, err error) {
	err = l.db.view(func(k *keyTx) error {
		getJSON(k.bucket(bucketClocks), clockFlood, &state)
		return nil
	})
	return state, err
}

// lockRemaining returns how long the flood gate stays closed.
func (l *limits) lockRemaining() time.Duration {
	state, err := l.floodState()
	if err != nil {
		fs.Debugf(nil, "fichier: %v", err)
		return 0
	}
	return time.Until(state.LockedUntil)
}

// wait blocks until one API call may be made: it books the next free
// call slot of the key and sleeps until it, then checks that no flood
// lock started meanwhile (else it books again, after the lock). A slot
// that is free at once needs no second look: the booking saw the gate.
func (l *limits) wait(ctx context.Context) error {
	for {
		at, err := l.bookCall()
		if err != nil {
			return err
		}
		wait := time.Until(at)
		if wait <= 0 {
			return ctx.Err()
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		state, err := l.floodState()
		if err != nil {
			return err
		}
		if !time.Now().Before(state.LockedUntil) {
			return nil
		}
	}
}

// bookCall books the next free call slot and returns its time.
func (l *limits) bookCall() (at time.Time, err error) {
	interval, _, _ := l.settings()
	err = l.db.update(func(k *keyTx) error {
		b := k.bucket(bucketClocks)
		var state floodState
		getJSON(b, clockFlood, &state)
		now := time.Now()
		at = latest(now, getTime(b, clockCall), state.LockedUntil)
		return putTime(b, clockCall, at.Add(interval*state.slowdown(now)))
	})
	if err != nil {
		return at, fmt.Errorf("couldn't book an API call: %w", err)
	}
	return at, nil
}

// latest returns the latest of times.
func latest(times ...time.Time) time.Time {
	var t time.Time
	for _, u := range times {
		if u.After(t) {
			t = u
		}
	}
	return t
}

// flood closes the gate after a flood answer and returns how long every
// caller will wait. Answers from calls that were already in flight when
// the gate closed do not extend or escalate the lock.
func (l *limits) flood(reason string) time.Duration {
	_, floodWait, _ := l.settings()
	var wait time.Duration
	var slowdown int
	err := l.db.update(func(k *keyTx) error {
		b := k.bucket(bucketClocks)
		var state floodState
		getJSON(b, clockFlood, &state)
		now := time.Now()
		if now.Before(state.LockedUntil) {
			wait = state.LockedUntil.Sub(now)
			return nil
		}
		state.escalate(now, floodWait)
		wait, slowdown = state.LastWait, state.Slowdown
		return putJSON(b, clockFlood, &state)
	})
	if err != nil {
		// The gate could not be shared: still wait, alone.
		fs.Logf(nil, "fichier: %v", err)
		wait = floodWait
	}
	if slowdown > 0 {
		fs.Logf(nil, "1fichier: %s: pausing every API call for %v, then spacing calls %dx further apart for the next %v", reason, wait, slowdown, slowdownMemory)
	}
	return wait
}

// escalate starts a lock at now.
func (s *floodState) escalate(now time.Time, floodWait time.Duration) {
	wait := floodWait
	// A new lock soon after the last one ended means the lock was longer
	// than we waited, or we are still too fast: wait twice as long. The
	// cap scales with flood_wait, so a sped-up test server (or a user who
	// knows the locks are short) does not wait a full hour.
	if !s.LastFlood.IsZero() && now.Sub(s.LastFlood) < 3*s.LastWait {
		wait = min(2*s.LastWait, maxFloodWaits*floodWait)
	}
	// Waiting alone does not help if we go back to the pace that got us
	// locked (another client on the key, answers bunched by a slow
	// network): every lock also doubles the spacing of calls, up to a
	// cap, until no lock has been seen for slowdownMemory.
	s.Slowdown = int(min(2*s.slowdown(now), maxSlowdown))
	s.LastWait = wait
	s.LastFlood = now
	s.LockedUntil = now.Add(wait)
}

// waitList blocks until folderID may be listed again, and books the slot.
// Concurrent callers for one folder, in any process, get successive slots.
func (l *limits) waitList(ctx context.Context, folderID int) error {
	_, _, listInterval := l.settings()
	var at time.Time
	err := l.db.update(func(k *keyTx) error {
		b := k.bucket(bucketListClock)
		at = latest(time.Now(), getTime(b, idKey(folderID)))
		return putTime(b, idKey(folderID), at.Add(listInterval))
	})
	if err != nil {
		return fmt.Errorf("couldn't book a listing of folder %d: %w", folderID, err)
	}
	if wait := time.Until(at); wait > time.Second {
		fs.Infof(nil, "fichier: waiting %v to list folder %d again (1fichier allows one listing of a folder per %v)", wait.Round(time.Second), folderID, listInterval)
	}
	return sleep(ctx, time.Until(at))
}

// listSlotOpen reports whether folderID may be listed now. Another
// process may take the slot before we book it; the listing then waits
// for the next one, which is slower but safe.
func (l *limits) listSlotOpen(folderID int) bool {
	var next time.Time
	err := l.db.view(func(k *keyTx) error {
		next = getTime(k.bucket(bucketListClock), idKey(folderID))
		return nil
	})
	return err == nil && !time.Now().Before(next)
}

// waitUserInfo blocks until user/info.cgi may be called from this IP,
// and books the call. The returned release gives the slot back, for a
// call that 1fichier refused before counting it (a bad key has no user
// to count against), so a corrected key is checked at once.
func (l *limits) waitUserInfo(ctx context.Context) (release func(), err error) {
	var at, before time.Time
	err = l.db.update(func(k *keyTx) error {
		b := k.hostBucket()
		before = getTime(b, clockUserInfoIP)
		at = latest(time.Now(), before)
		return putTime(b, clockUserInfoIP, at.Add(withMargin(userInfoPerIP)))
	})
	if err != nil {
		return nil, fmt.Errorf("couldn't book an account info call: %w", err)
	}
	if wait := time.Until(at); wait > time.Second {
		fs.Infof(nil, "fichier: waiting %v to read the account info (1fichier allows it once a minute per IP)", wait.Round(time.Second))
	}
	release = func() {
		err := l.db.update(func(k *keyTx) error {
			b := k.hostBucket()
			if !getTime(b, clockUserInfoIP).Equal(at.Add(withMargin(userInfoPerIP))) {
				return nil // booked again since
			}
			return putTime(b, clockUserInfoIP, before)
		})
		if err != nil {
			fs.Debugf(nil, "fichier: %v", err)
		}
	}
	return release, sleep(ctx, time.Until(at))
}
