package fichier

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rclone/rclone/fs"
	"golang.org/x/time/rate"
)

// After repeated flood locks the wait doubles up to maxFloodWaits times
// flood_wait (an hour with the default 5 minutes), and the call rate is
// halved down to 1/minRateDivisor of api_rate.
const (
	maxFloodWaits  = 12
	minRateDivisor = 8
)

// limits is the API budget of one account. Every Fs using the same key
// shares one, so two remotes, a mount and a copy in the same process
// never add their rates together.
//
// 1fichier counts calls per key and per IP, answers "Flood detected" when
// a rule is broken and then refuses every call for a while. rclone's
// pacer only spaces calls of one Fs and retries one caller at a time, so
// the rules live here instead:
//
//   - a token bucket spacing every API call (calls per second),
//   - a gate that, once a flood answer is seen, holds every caller until
//     the lock should be over, doubling the wait on repeated locks,
//   - a per-folder clock so the same folder is never listed twice within
//     the listing interval.
//
// 1fichier's clocks do not restart with rclone: "rclone copy" followed by
// "rclone check" lists the same folders seconds apart, and its first
// calls follow the last ones of the copy. So the per-folder clocks, the
// end of a flood lock and the time of the last call are also kept in a
// small file in rclone's cache directory, read and written on every
// listing, lock and call, and the next process waits its turn too. Two processes running at the
// same moment may still race on that file; it narrows, not closes, that
// window.
type limits struct {
	bucket       *rate.Limiter
	minRate      rate.Limit // the bucket's rate is never lowered below this
	floodWait    time.Duration
	listInterval time.Duration

	mu          sync.Mutex
	lockedUntil time.Time         // no API call before this
	lastWait    time.Duration     // length of the last lock we waited for
	lastFlood   time.Time         // when the last lock started
	nextList    map[int]time.Time // earliest next listing, by folder ID
	lastCall    time.Time         // when the last API call left
	statePath   string            // where the clocks are kept between processes; "" = nowhere

	// startAfter holds the first call of this process back until a
	// second after the last call of the previous one, so the two never
	// share a second of 1fichier's calls-per-second window. Set once.
	startAfter time.Time
}

// sharedLimits is what limits keeps on disk.
type sharedLimits struct {
	NextList    map[int]time.Time `json:"next_list"`
	LockedUntil time.Time         `json:"locked_until"`
	LastCall    time.Time         `json:"last_call"`
}

// callWindow is the span 1fichier counts calls per second over.
const callWindow = time.Second

// newLimits makes the budget for callsPerSecond API calls a second,
// waiting floodWait after a flood lock and listInterval between two
// listings of the same folder, sharing its clocks with other processes
// through statePath if it is set.
func newLimits(callsPerSecond float64, floodWait, listInterval time.Duration, statePath string) *limits {
	l := &limits{
		bucket:    rate.NewLimiter(rate.Limit(callsPerSecond), 1),
		minRate:   rate.Limit(callsPerSecond / minRateDivisor),
		floodWait: floodWait,
		// The server sees our calls later than we send them, and not
		// always by the same delay: keep a 10% margin.
		listInterval: listInterval + listInterval/10,
		nextList:     make(map[int]time.Time),
		statePath:    statePath,
	}
	l.mu.Lock()
	l.load()
	l.startAfter = l.lastCall.Add(callWindow)
	l.mu.Unlock()
	return l
}

// load merges the clocks other processes left on disk. l.mu must be held.
func (l *limits) load() {
	if l.statePath == "" {
		return
	}
	data, err := os.ReadFile(l.statePath)
	if err != nil {
		return
	}
	var disk sharedLimits
	if err := json.Unmarshal(data, &disk); err != nil {
		fs.Debugf(nil, "fichier: ignoring unreadable %s: %v", l.statePath, err)
		return
	}
	for id, next := range disk.NextList {
		if next.After(l.nextList[id]) {
			l.nextList[id] = next
		}
	}
	if disk.LockedUntil.After(l.lockedUntil) {
		l.lockedUntil = disk.LockedUntil
	}
	if disk.LastCall.After(l.lastCall) {
		l.lastCall = disk.LastCall
	}
}

// save writes the clocks that still matter for other processes. l.mu
// must be held.
func (l *limits) save() {
	if l.statePath == "" {
		return
	}
	now := time.Now()
	disk := sharedLimits{NextList: make(map[int]time.Time), LockedUntil: l.lockedUntil, LastCall: l.lastCall}
	for id, next := range l.nextList {
		if next.After(now) {
			disk.NextList[id] = next
		}
	}
	data, err := json.Marshal(disk)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(l.statePath), 0o700)
	}
	if err == nil {
		tmp := l.statePath + ".tmp"
		if err = os.WriteFile(tmp, data, 0o600); err == nil {
			err = os.Rename(tmp, l.statePath)
		}
	}
	if err != nil {
		fs.Debugf(nil, "fichier: couldn't save the rate clocks to %s: %v", l.statePath, err)
	}
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

// lockRemaining returns how long the flood gate stays closed.
func (l *limits) lockRemaining() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Until(l.lockedUntil)
}

// wait blocks until one API call may be made: the flood gate is open and
// the token bucket has a token. It records the call for the next process.
func (l *limits) wait(ctx context.Context) error {
	if err := sleep(ctx, time.Until(l.startAfter)); err != nil {
		return err
	}
	for {
		if err := sleep(ctx, l.lockRemaining()); err != nil {
			return err
		}
		if err := l.bucket.Wait(ctx); err != nil {
			return err
		}
		// A lock may have started while we waited for a token.
		if l.lockRemaining() <= 0 {
			l.mu.Lock()
			l.lastCall = time.Now()
			l.save()
			l.mu.Unlock()
			return nil
		}
	}
}

// flood closes the gate after a flood answer and returns how long every
// caller will wait. Answers from calls that were already in flight when
// the gate closed do not extend or escalate the lock.
func (l *limits) flood(reason string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Before(l.lockedUntil) {
		return l.lockedUntil.Sub(now)
	}
	wait := l.floodWait
	// A new lock soon after the last one ended means the lock was longer
	// than we waited, or we are still too fast: wait twice as long. The
	// cap scales with flood_wait, so a sped-up test server (or a user who
	// knows the locks are short) does not wait a full hour.
	if !l.lastFlood.IsZero() && now.Sub(l.lastFlood) < 3*l.lastWait {
		wait = min(2*l.lastWait, maxFloodWaits*l.floodWait)
	}
	// Waiting alone does not help if we go back to the pace that got us
	// locked (another client on the key, answers bunched by a slow
	// network): every lock also halves our rate, for the rest of the
	// process, down to a floor.
	l.bucket.SetLimit(max(l.bucket.Limit()/2, l.minRate))
	l.lastWait = wait
	l.lastFlood = now
	l.lockedUntil = now.Add(wait)
	l.save()
	fs.Logf(nil, "1fichier: %s: pausing every API call for %v, then slowing to %.3g calls/s", reason, wait, float64(l.bucket.Limit()))
	return wait
}

// waitList blocks until folderID may be listed again, and books the slot.
// Concurrent callers for one folder get successive slots.
func (l *limits) waitList(ctx context.Context, folderID int) error {
	l.mu.Lock()
	l.load()
	now := time.Now()
	at := now
	if next := l.nextList[folderID]; next.After(at) {
		at = next
	}
	l.nextList[folderID] = at.Add(l.listInterval)
	l.save()
	l.mu.Unlock()
	if wait := at.Sub(now); wait > time.Second {
		fs.Infof(nil, "fichier: waiting %v to list folder %d again (1fichier allows one listing of a folder per %v)", wait.Round(time.Second), folderID, l.listInterval)
	}
	return sleep(ctx, at.Sub(now))
}
