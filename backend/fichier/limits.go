package fichier

import (
	"context"
	"sync"
	"time"

	"github.com/rclone/rclone/fs"
	"golang.org/x/time/rate"
)

// maxFloodWait caps the escalating wait after repeated flood locks.
const maxFloodWait = time.Hour

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
type limits struct {
	bucket       *rate.Limiter
	floodWait    time.Duration
	listInterval time.Duration

	mu          sync.Mutex
	lockedUntil time.Time         // no API call before this
	lastWait    time.Duration     // length of the last lock we waited for
	lastFlood   time.Time         // when the last lock started
	nextList    map[int]time.Time // earliest next listing, by folder ID
}

// newLimits makes the budget for callsPerSecond API calls a second,
// waiting floodWait after a flood lock and listInterval between two
// listings of the same folder.
func newLimits(callsPerSecond float64, floodWait, listInterval time.Duration) *limits {
	return &limits{
		bucket:    rate.NewLimiter(rate.Limit(callsPerSecond), 1),
		floodWait: floodWait,
		// The server sees our calls later than we send them, and not
		// always by the same delay: keep a 10% margin.
		listInterval: listInterval + listInterval/10,
		nextList:     make(map[int]time.Time),
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
// the token bucket has a token.
func (l *limits) wait(ctx context.Context) error {
	for {
		if err := sleep(ctx, l.lockRemaining()); err != nil {
			return err
		}
		if err := l.bucket.Wait(ctx); err != nil {
			return err
		}
		// A lock may have started while we waited for a token.
		if l.lockRemaining() <= 0 {
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
	// than we waited, or we are still too fast: wait twice as long.
	if !l.lastFlood.IsZero() && now.Sub(l.lastFlood) < 3*l.lastWait {
		wait = min(2*l.lastWait, max(maxFloodWait, l.floodWait))
	}
	l.lastWait = wait
	l.lastFlood = now
	l.lockedUntil = now.Add(wait)
	fs.Logf(nil, "1fichier: %s: pausing every API call for %v (lowering api_rate helps if this repeats)", reason, wait)
	return wait
}

// waitList blocks until folderID may be listed again, and books the slot.
// Concurrent callers for one folder get successive slots.
func (l *limits) waitList(ctx context.Context, folderID int) error {
	l.mu.Lock()
	now := time.Now()
	at := now
	if next := l.nextList[folderID]; next.After(at) {
		at = next
	}
	l.nextList[folderID] = at.Add(l.listInterval)
	l.mu.Unlock()
	return sleep(ctx, at.Sub(now))
}
