package fichier

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
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

// 1fichier's spacing of user/info.cgi calls: once a minute from one IP,
// whatever the key, and once per 5 minutes per user.
const (
	userInfoPerIP   = time.Minute
	userInfoPerUser = 5 * time.Minute
)

// Bounds on the stored clocks. A stored time further ahead than any rule
// can make a caller wait comes from a clock that was wrong when it was
// written (or a state copied from another machine); it is taken as now
// plus the bound, so no command can hang on it. A call slot can be
// booked at most callHorizon after the end of a flood lock (that many
// callers queued), and a listing or user/info slot a few intervals
// ahead (that many processes waiting for one folder).
const (
	callHorizon     = 10 * time.Minute
	slotsAheadLimit = 10
)

// noticeWait is the longest wait a caller sits through without saying
// why at NOTICE level: past it, the first wait of each rule is
// explained, later ones at INFO.
const noticeWait = 5 * time.Second

// limits is the API budget of one account, shared by every Fs of the key
// in this process and, through the state file, by every rclone process
// on the machine. 1fichier counts calls per key and per IP, answers
// "Flood detected" when a rule is broken and then refuses every call for
// a while. rclone's pacer only spaces calls of one Fs and retries one
// caller at a time, so the rules live here instead:
//
//   - one schedule of API calls: each call books the next free slot, one
//     call interval (1/api_rate) after the one before, whichever process
//     booked it; a slot the caller slept past (the process was stopped,
//     the machine slept) is booked again, never used late;
//   - one record of when the key's last call left: a request leaves only
//     once its connection is ready and the last one left a call interval
//     ago (depart), so a caller stalled after its booking delays the
//     calls after it and never bunches them;
//   - a gate that, once a flood answer is seen, holds every caller of
//     every process until the lock should be over, doubling the wait on
//     repeated locks and spacing calls further apart for a while;
//   - a per-folder clock so the same folder is never listed twice within
//     the listing interval, by any process;
//   - a per-IP and a per-key clock for user/info.cgi.
type limits struct {
	db *stateDB

	mu           sync.Mutex
	interval     time.Duration // between two calls, 1/api_rate
	floodWait    time.Duration
	listInterval time.Duration // with its margin
	scale        *timeScale    // of the user/info spacing; nil is real time
	told         map[string]bool
	// bookedScale holds math.Float64bits of the time scale this
	// process's latest user/info booking was counted at; 0 for none.
	bookedScale atomic.Uint64
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
		told:         make(map[string]bool),
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

// userInfoIntervals returns the spacing of user/info.cgi per IP and per
// user, with their margins, at the server's time scale.
func (l *limits) userInfoIntervals() (perIP, perUser time.Duration) {
	return userInfoSpans(l.scale.get())
}

// rebookUserInfo returns the time scale this process's latest user/info
// booking was counted at, 0 when it made none, and counts that booking
// at scale from then on: the caller moves it (learnTimeScale), so a
// later change of scale moves it from there.
func (l *limits) rebookUserInfo(scale float64) float64 {
	for {
		old := l.bookedScale.Load()
		if old == 0 || l.bookedScale.CompareAndSwap(old, math.Float64bits(scale)) {
			return math.Float64frombits(old)
		}
	}
}

// userInfoSpans returns the spacing of user/info.cgi per IP and per user,
// with their margins, at a time scale.
func userInfoSpans(scale float64) (perIP, perUser time.Duration) {
	return withMargin(time.Duration(float64(userInfoPerIP) / scale)), withMargin(time.Duration(float64(userInfoPerUser) / scale))
}

// rescaleUserInfoClocks moves the user/info clocks still ahead of now,
// counted at the time scale from, to the scale to (see rescaledClock).
func rescaleUserInfoClocks(k *keyTx, from, to float64, now time.Time) error {
	oldIP, oldUser := userInfoSpans(from)
	newIP, newUser := userInfoSpans(to)
	for _, c := range []struct {
		name      []byte
		host      bool
		old, span time.Duration
	}{
		{clockUserInfoIP, true, oldIP, newIP}, {clockUserInfoIPLeft, true, oldIP, newIP},
		{clockUserInfoUser, false, oldUser, newUser}, {clockUserInfoUserLeft, false, oldUser, newUser},
	} {
		var t time.Time
		if c.host {
			t = k.hostClock(c.name)
		} else {
			t = k.clock(c.name)
		}
		if !t.After(now) {
			continue
		}
		if err := k.setEitherClock(c.name, c.host, rescaledClock(t, now, c.old, c.span)); err != nil {
			return err
		}
	}
	return nil
}

// rescaledClock moves t, one spacing old after a booking or departure, to
// one spacing span after it. A clock is never brought nearer than span
// from now, in case it was counted at the new spacing already (the IP's
// clocks are shared with the server's other keys).
func rescaledClock(t, now time.Time, old, span time.Duration) time.Time {
	moved := t.Add(span - old)
	if span >= old {
		return moved
	}
	floor := now.Add(span)
	if t.Before(floor) {
		floor = t
	}
	return latest(moved, floor)
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

// announce says why a caller waits d: at NOTICE the first time a wait of
// this rule is long enough to be noticed, at INFO after that, so a user
// never stares at a silent command and a long copy does not repeat it.
func (l *limits) announce(rule string, d time.Duration, format string, args ...any) {
	if d <= time.Second {
		return
	}
	msg := fmt.Sprintf(format, args...) + fmt.Sprintf(", until %s (rclone backend status remote: shows the clocks)", showTime(time.Now().Add(d)))
	l.mu.Lock()
	first := d > noticeWait && !l.told[rule]
	if first {
		l.told[rule] = true
	}
	l.mu.Unlock()
	if first {
		fs.Logf(nil, "fichier: %s", msg)
		return
	}
	fs.Infof(nil, "fichier: %s", msg)
}

// bounded returns the stored time t of rule, or now plus limit when t is
// further ahead than that (see callHorizon), with a NOTICE.
func (l *limits) bounded(rule string, t, now time.Time, limit time.Duration) time.Time {
	if t.Sub(now) <= limit {
		return t
	}
	fs.Logf(nil, "fichier: the shared state's %s clock is %v ahead, more than 1fichier's rules can make anyone wait (%v): "+
		"it was written with a wrong clock; waiting %v at most", rule, t.Sub(now).Round(time.Second), limit, limit)
	return now.Add(limit)
}

// floodState returns the flood gate's state.
func (l *limits) floodState() (state floodState, err error) {
	err = l.db.view(func(k *keyTx) error {
		state = k.flood()
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
// call slot of the key and sleeps until it. The booking only orders the
// callers of every process fairly; what keeps the calls apart is depart,
// when the request's connection is ready.
//
// A booking is a promise for a moment, not a ticket: a caller that wakes
// up well after its slot (the process was stopped with Ctrl-Z, the
// machine slept) books again, since the slots after its own went to
// other callers meanwhile.
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
		l.announce("calls", wait, "waiting %v for the next API call slot (1fichier locks accounts that call too fast)", wait.Round(time.Second))
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		if l.missed(at) {
			fs.Debugf(nil, "fichier: woke %v after the booked API call slot: booking again", time.Since(at).Round(time.Millisecond))
			continue
		}
		// A lock that started meanwhile would hold the request at depart
		// with its connection open: book again, after the lock.
		if l.lockRemaining() <= 0 {
			return nil
		}
	}
}

// missed reports whether the slot booked for at has passed by more than
// a call interval: the call would then overlap the slot of the caller
// booked after it.
func (l *limits) missed(at time.Time) bool {
	interval, _, _ := l.settings()
	return time.Since(at) > interval
}

// bookCall books the next free call slot and returns its time.
func (l *limits) bookCall() (at time.Time, err error) {
	interval, floodWait, _ := l.settings()
	err = l.db.update(func(k *keyTx) error {
		state := k.flood()
		now := time.Now()
		locked := l.bounded("flood lock", state.LockedUntil, now, maxFloodWaits*floodWait)
		next := l.bounded("API call", k.clock(clockCall), now, latest(now, locked).Sub(now)+callHorizon)
		at = latest(now, next, locked)
		// The same spacing as departures (claimDeparture), so that a
		// caller that wakes at its slot finds its departure free.
		return k.setClock(clockCall, at.Add(interval*state.slowdown(now)+departSlack(interval)))
	})
	if err != nil {
		return at, fmt.Errorf("couldn't book an API call: %w", err)
	}
	return at, nil
}

// departRule is a rate rule of a call's own that depart keeps along with
// the call interval: the request leaves only once the last request under
// the rule, from any process, left interval ago. A folder's listings and
// user/info.cgi have one: their bookings (waitList, waitUserInfo) order
// the callers, and this counts the rule from when the requests really
// left, however late that was.
type departRule struct {
	next func(k *keyTx) time.Time          // the earliest next departure
	set  func(k *keyTx, t time.Time) error // sets it
	span time.Duration                     // the rule's interval, with its margin
}

// listRule is the departure rule of folderID's listings.
func (l *limits) listRule(folderID int) departRule {
	_, _, listInterval := l.settings()
	return departRule{
		next: func(k *keyTx) time.Time { return k.listDeparture(folderID) },
		set:  func(k *keyTx, t time.Time) error { return k.setListDeparture(folderID, t) },
		span: listInterval,
	}
}

// userInfoRules are the departure rules of user/info.cgi: per IP and per
// key.
func (l *limits) userInfoRules() []departRule {
	perIP, perUser := l.userInfoIntervals()
	return []departRule{{
		next: func(k *keyTx) time.Time { return k.hostClock(clockUserInfoIPLeft) },
		set:  func(k *keyTx, t time.Time) error { return k.setHostClock(clockUserInfoIPLeft, t) },
		span: perIP,
	}, {
		next: func(k *keyTx) time.Time { return k.clock(clockUserInfoUserLeft) },
		set:  func(k *keyTx, t time.Time) error { return k.setClock(clockUserInfoUserLeft, t) },
		span: perUser,
	}}
}

// depart blocks until a request whose connection is ready may leave, and
// records that it leaves now. It runs as late as the process can see,
// once the connection to 1fichier is made and just before the request's
// first byte is written, so whatever stalled the caller since its
// booking (the scheduler of a loaded machine, the garbage collector, a
// stopped process, a slow state file) delays the calls after it instead
// of sending them together: no call of the key leaves, from any
// process, less than a call interval (times the slowdown) after the one
// before, nor while the flood gate is closed, nor before rules allow.
func (l *limits) depart(ctx context.Context, rules []departRule) error {
	for {
		retryAt, err := l.claimDeparture(rules)
		if err != nil || retryAt.IsZero() {
			return err
		}
		if err := sleep(ctx, time.Until(retryAt)); err != nil {
			return err
		}
	}
}

// claimDeparture records a departure now if the gate is open and the
// last departure is far enough behind, in one transaction; otherwise it
// returns when to try again.
//
// A request leaves a little after its departure is recorded: the
// transaction's end and the first byte's write come after its clock was
// read. Departures are therefore kept a call interval (times the
// slowdown) plus departSlack apart, and a transaction that ends more
// than departSlack after its clock was read (its process was
// descheduled, writing the state was slow) does not send: it tries
// again one interval later. So no two requests of the key leave less
// than a call interval apart, from any process, which keeps api_rate 2
// clear of 1fichier's 3 calls a second.
func (l *limits) claimDeparture(rules []departRule) (retryAt time.Time, err error) {
	interval, floodWait, _ := l.settings()
	slack := departSlack(interval)
	var departed time.Time
	var gap time.Duration
	before := make([]time.Time, len(rules))
	err = l.db.update(func(k *keyTx) error {
		state := k.flood()
		now := time.Now()
		gap = interval*state.slowdown(now) + slack
		if locked := l.bounded("flood lock", state.LockedUntil, now, maxFloodWaits*floodWait); now.Before(locked) {
			retryAt = locked
			return nil
		}
		next := l.bounded("departure", k.clock(clockDeparted).Add(gap), now, gap)
		for i, r := range rules {
			bound, err := l.boundRule(k, r, now)
			if err != nil {
				return err
			}
			before[i] = bound
			next = latest(next, bound)
		}
		if now.Before(next) {
			retryAt = next
			return nil
		}
		departed = now
		return recordDeparture(k, now, rules)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("couldn't record an API call: %w", err)
	}
	if departed.IsZero() {
		return retryAt, nil
	}
	if late := time.Since(departed); late > slack {
		fs.Debugf(nil, "fichier: recording the API call took %v: holding it back one interval", late.Round(time.Millisecond))
		l.undoRules(departed, rules, before)
		return departed.Add(gap), nil
	}
	return time.Time{}, nil
}

// boundRule returns the next departure rule r allows, bounded by its
// span from now (bounded); a clock further ahead, written with a wrong
// clock, is set to the bound, so the bound holds for every later call
// too instead of being waited again and again until the clock passes.
func (l *limits) boundRule(k *keyTx, r departRule, now time.Time) (time.Time, error) {
	stored := r.next(k)
	next := l.bounded("departure", stored, now, r.span)
	if next.Before(stored) {
		return next, r.set(k, next)
	}
	return next, nil
}

// recordDeparture records a request leaving at now: the key's last
// departure, and the next departure each rule allows.
func recordDeparture(k *keyTx, now time.Time, rules []departRule) error {
	for _, r := range rules {
		if err := r.set(k, now.Add(r.span)); err != nil {
			return err
		}
	}
	return k.setClock(clockDeparted, now)
}

// undoRules gives back the rules' clocks that a departure recorded at
// departed set, for a request that did not leave then, unless another
// departure set them since. The key's departure clock stays: it only
// makes the next call wait.
func (l *limits) undoRules(departed time.Time, rules []departRule, before []time.Time) {
	if len(rules) == 0 {
		return
	}
	err := l.db.update(func(k *keyTx) error {
		for i, r := range rules {
			if !r.next(k).Equal(departed.Add(r.span)) {
				continue
			}
			if err := r.set(k, before[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		fs.Debugf(nil, "fichier: %v", err)
	}
}

// departSlack is how long after its recorded departure a request may
// still leave: a tenth of the call interval.
func departSlack(interval time.Duration) time.Duration {
	return interval / 10
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
		state := k.flood()
		now := time.Now()
		if now.Before(state.LockedUntil) {
			wait = state.LockedUntil.Sub(now)
			return nil
		}
		state.escalate(now, floodWait)
		wait, slowdown = state.LastWait, state.Slowdown
		return k.setFlood(state)
	})
	if err != nil {
		// The gate could not be shared: still wait, alone.
		fs.Logf(nil, "fichier: %v", err)
		wait = floodWait
	}
	if slowdown > 0 {
		fs.Logf(nil, "1fichier: %s: pausing every API call for %v (until %s), "+
			"then spacing calls %dx further apart for the next %v", reason, wait, showTime(time.Now().Add(wait)), slowdown, slowdownMemory)
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
// After a lost state every folder waits one interval from the loss: it
// may have been listed just before. The returned release gives the slot
// back, for a listing that never reached 1fichier.
func (l *limits) waitList(ctx context.Context, folderID int) (release func(), err error) {
	_, _, listInterval := l.settings()
	var at, before time.Time
	err = l.db.update(func(k *keyTx) error {
		now := time.Now()
		before = k.listClock(folderID)
		next := l.bounded("folder listing", before, now, slotsAheadLimit*listInterval)
		at = latest(now, next, k.lostAt().Add(listInterval))
		return k.setListClock(folderID, at.Add(listInterval))
	})
	if err != nil {
		return nil, fmt.Errorf("couldn't book a listing of folder %d: %w", folderID, err)
	}
	release = func() { l.giveBackList(folderID, at.Add(listInterval), before) }
	wait := time.Until(at)
	l.announce("listing", wait, "waiting %v to list folder %d (1fichier allows one listing of a folder per %v)",
		wait.Round(time.Second), folderID, listInterval)
	return release, sleep(ctx, wait)
}

// giveBackList undoes the booking of folderID's listing slot that set its
// clock to booked, unless another caller booked after it.
func (l *limits) giveBackList(folderID int, booked, before time.Time) {
	err := l.db.update(func(k *keyTx) error {
		if !k.listClock(folderID).Equal(booked) {
			return nil
		}
		return k.setListClock(folderID, latest(before, time.Now()))
	})
	if err != nil {
		fs.Debugf(nil, "fichier: %v", err)
	}
}

// listSlotOpen reports whether folderID may be listed now. Another
// process may take the slot before we book it; the listing then waits
// for the next one, which is slower but safe.
func (l *limits) listSlotOpen(folderID int) bool {
	_, _, listInterval := l.settings()
	var next time.Time
	err := l.db.view(func(k *keyTx) error {
		next = latest(k.listClock(folderID), k.lostAt().Add(listInterval))
		return nil
	})
	return err == nil && !time.Now().Before(next)
}

// listingFresh says whether a listing of folderID fetched at a time is as
// fresh as 1fichier would let a new one be: younger than the listing
// interval, or the folder's slot is still closed. A listing from the
// future, or older than a slot can rightly be booked ahead
// (slotsAheadLimit intervals), was kept or booked under a wrong clock: a
// clock set back, which followClockStep can only estimate from the
// state's last write. It is never fresh, so such a step cannot make a
// listing of an hour ago stand for a new one.
func (l *limits) listingFresh(folderID int, fetched time.Time) bool {
	_, _, listInterval := l.settings()
	age := time.Since(fetched)
	switch {
	case age < -clockStepTolerance || age >= slotsAheadLimit*listInterval:
		return false
	case age < listInterval:
		return true
	}
	return !l.listSlotOpen(folderID)
}

// waitUserInfo blocks until user/info.cgi may be called, from this IP
// and for this key, and books the call. The returned release gives the
// slot back, for a call that 1fichier refused before counting it (a bad
// key has no user to count against), so a corrected key is checked at
// once.
func (l *limits) waitUserInfo(ctx context.Context) (release func(), err error) {
	scale := l.scale.get()
	perIP, perUser := userInfoSpans(scale)
	var at, beforeIP, beforeUser, leftIP, leftUser time.Time
	err = l.db.update(func(k *keyTx) error {
		now := time.Now()
		beforeIP, beforeUser = k.hostClock(clockUserInfoIP), k.clock(clockUserInfoUser)
		leftIP, leftUser = k.hostClock(clockUserInfoIPLeft), k.clock(clockUserInfoUserLeft)
		lost := k.lostAt()
		at = latest(now,
			l.bounded("account info (per IP)", beforeIP, now, slotsAheadLimit*perIP),
			l.bounded("account info", beforeUser, now, slotsAheadLimit*perUser),
			lost.Add(perIP), lost.Add(perUser))
		if err := k.setHostClock(clockUserInfoIP, at.Add(perIP)); err != nil {
			return err
		}
		l.bookedScale.Store(math.Float64bits(scale))
		return k.setClock(clockUserInfoUser, at.Add(perUser))
	})
	if err != nil {
		return nil, fmt.Errorf("couldn't book an account info call: %w", err)
	}
	wait := time.Until(at)
	l.announce("user info", wait, "waiting %v to read the account info "+
		"(1fichier allows it once per %v per account and once per %v per IP)", wait.Round(time.Second), userInfoPerUser, userInfoPerIP)
	release = func() {
		err := l.db.update(func(k *keyTx) error {
			if !k.clock(clockUserInfoUser).Equal(at.Add(perUser)) {
				return nil // booked again since
			}
			// The departure clocks go back too: they were set when this
			// call left, after the booking.
			for _, c := range []struct {
				name   []byte
				host   bool
				before time.Time
			}{
				{clockUserInfoIP, true, beforeIP}, {clockUserInfoUser, false, beforeUser},
				{clockUserInfoIPLeft, true, leftIP}, {clockUserInfoUserLeft, false, leftUser},
			} {
				if err := k.setEitherClock(c.name, c.host, c.before); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			fs.Debugf(nil, "fichier: %v", err)
		}
	}
	return release, sleep(ctx, wait)
}
