package fichier

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// storedClocks reads the call clock and folder 1's listing clock.
func storedClocks(t *testing.T, db *stateDB) (call, list time.Time) {
	t.Helper()
	require.NoError(t, db.view(func(k *keyTx) error {
		call, list = k.clock(clockCall), k.listClock(1)
		return nil
	}))
	return call, list
}

// A machine that never had a state starts free: nothing was used.
func TestNewStateStartsFree(t *testing.T) {
	l := newLimits(newTestState(t), 10, time.Hour, time.Minute)
	assert.True(t, l.listSlotOpen(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := l.waitUserInfo(ctx)
	assert.NoError(t, err, "the account info may be read at once")
}

// TestListingFreshness: a stored listing stands for a new one while it
// is younger than the interval or the folder's slot is closed, but not
// when a wrong clock made it: fetched in the future, or with a slot
// closed far longer than any booking could close it.
func TestListingFreshness(t *testing.T) {
	db := newTestState(t)
	l := newLimits(db, 10, time.Hour, time.Minute)
	_, _, listInterval := l.settings()
	now := time.Now()
	assert.True(t, l.listingFresh(1, now.Add(-listInterval/2)), "younger than the interval")
	assert.False(t, l.listingFresh(1, now.Add(-2*listInterval)), "older, and the slot is open")

	require.NoError(t, db.update(func(k *keyTx) error { return k.setListClock(1, now.Add(listInterval)) }))
	assert.True(t, l.listingFresh(1, now.Add(-2*listInterval)), "the slot is closed: no newer listing may be had now")

	require.NoError(t, db.update(func(k *keyTx) error { return k.setListClock(1, now.Add(time.Hour)) }))
	assert.False(t, l.listingFresh(1, now.Add(-time.Hour)), "a slot closed by a clock an hour ahead keeps no hour-old listing")
	assert.False(t, l.listingFresh(1, now.Add(time.Hour)), "a listing from the future was fetched under a wrong clock")
}

// A state file truncated to nothing is a lost state, not a new machine:
// every clock may just have been used, so every folder waits one listing
// interval and the account info one user/info interval. Listing at once
// would break 1fichier's rule if the lost state had just listed it.
func TestTruncatedStateWaitsAsIfEveryClockWasUsed(t *testing.T) {
	db := newTestState(t)
	l := newLimits(db, 10, time.Hour, time.Minute)
	require.NoError(t, second(l.waitList(context.Background(), 1)))
	require.NoError(t, os.Truncate(db.path, 0))

	next := newLimits(sameState(db), 10, time.Hour, time.Minute)
	_, err := next.bookCall()
	require.NoError(t, err)
	assert.False(t, next.listSlotOpen(1), "the folder listed before the loss waits")
	assert.False(t, next.listSlotOpen(99), "and so does any folder: the lost state may have listed it")
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = next.waitUserInfo(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the account info waits too")
}

// A clock set back (NTP stepping it, or a state written while the clock
// was an hour ahead) moves the stored clocks back with it: the waits keep
// their length and nothing waits the hour.
func TestClockSetBackMovesTheClocksBack(t *testing.T) {
	db := newTestState(t)
	l := newLimits(db, 10, time.Hour, time.Minute)
	ahead := time.Now().Add(time.Hour)
	require.NoError(t, db.update(func(k *keyTx) error {
		if err := putTime(k.tx.Bucket(bucketFile), stampWritten, ahead); err != nil {
			return err
		}
		if err := k.setClock(clockCall, ahead.Add(100*time.Millisecond)); err != nil {
			return err
		}
		return k.setListClock(1, ahead.Add(30*time.Second))
	}))
	at, err := l.bookCall()
	require.NoError(t, err)
	assert.Less(t, time.Until(at), 2*time.Second, "the next call is not an hour away")
	_, list := storedClocks(t, db)
	assert.InDelta(t, float64(30*time.Second), float64(time.Until(list)), float64(2*time.Second), "the listing clock keeps its 30 s")
}

// A stored time further ahead than any rule can make anyone wait, with
// no clock step to explain it (a state copied from another machine, a
// bug), is taken as now plus the longest wait of its rule.
func TestClocksFarAheadAreBounded(t *testing.T) {
	db := newTestState(t)
	l := newLimits(db, 10, time.Minute, time.Second)
	far := time.Now().Add(24 * time.Hour)
	require.NoError(t, db.update(func(k *keyTx) error {
		if err := k.setClock(clockCall, far); err != nil {
			return err
		}
		if err := k.setFlood(floodState{LockedUntil: far}); err != nil {
			return err
		}
		return k.setListClock(1, far)
	}))
	at, err := l.bookCall()
	require.NoError(t, err)
	_, floodWait, listInterval := l.settings()
	assert.LessOrEqual(t, time.Until(at), maxFloodWaits*floodWait+callHorizon)
	assert.False(t, l.listSlotOpen(1), "the listing waits, but not a day")
	short, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, second(l.waitList(short, 1)), context.DeadlineExceeded)
	_, list := storedClocks(t, db)
	assert.LessOrEqual(t, time.Until(list), (slotsAheadLimit+1)*listInterval, "the listing clock is bounded")
}

// A departure rule's clock further ahead than the rule can make anyone
// wait (written by a process that counted the rule at another time
// scale, or with a wrong clock) is waited for once, at most the rule's
// span: the explorer's W, an about that waited 16.5 s again and again
// until a clock 2m34s ahead had passed.
func TestDepartureRuleFarAheadIsWaitedOnce(t *testing.T) {
	db := newTestState(t)
	l := newLimits(db, 10, time.Minute, time.Second)
	r := l.listRule(1)
	require.NoError(t, db.update(func(k *keyTx) error { return r.set(k, time.Now().Add(time.Hour)) }))
	start := time.Now()
	tries := 0
	for retryAt, err := l.claimDeparture([]departRule{r}); !retryAt.IsZero(); retryAt, err = l.claimDeparture([]departRule{r}) {
		require.NoError(t, err)
		require.Less(t, tries, 5, "the far clock is waited for again and again")
		assert.LessOrEqual(t, time.Until(retryAt), r.span, "each wait is bounded by the rule's span")
		time.Sleep(time.Until(retryAt))
		tries++
	}
	assert.Less(t, time.Since(start), time.Hour/2, "the call left long before the far clock")
}

// One key reached through two spellings of one API URL has one state,
// so one budget: two remotes naming the emulator 127.0.0.1 and localhost
// would otherwise list the same folder in the same second.
func TestSpellingsOfOneAPIURLShareOneState(t *testing.T) {
	dir := t.TempDir()
	for _, same := range [][2]string{
		{"http://127.0.0.1:8765/v1", "http://localhost:8765/v1/"},
		{"http://[::1]:8765/v1", "HTTP://LOCALHOST:8765/v1"},
		{"https://api.1fichier.com/v1", "https://API.1fichier.com:443/v1/"},
	} {
		a, b := openState(dir, same[0], testKey), openState(dir, same[1], testKey)
		assert.Equal(t, a.path, b.path, "%s and %s", same[0], same[1])
		assert.Equal(t, a.key, b.key, "%s and %s", same[0], same[1])
	}
	for _, other := range [][2]string{
		{"http://127.0.0.1:8765/v1", "http://127.0.0.1:8766/v1"},
		{"https://api.1fichier.com/v1", "https://api.example.test/v1"},
	} {
		assert.NotEqual(t, openState(dir, other[0], testKey).path, openState(dir, other[1], testKey).path, "%s and %s", other[0], other[1])
	}
}

// forget without clocks keeps every rate clock: the listing slots, the
// call schedule, the flood gate and both user/info clocks (the per-user
// one too, which the account info's answer used to stand in for).
func TestForgetKeepsEveryClock(t *testing.T) {
	db := newTestState(t)
	acc := &account{db: db, limits: newLimits(db, 10, time.Hour, time.Minute), listings: newListCache(db)}
	ctx := context.Background()
	require.NoError(t, second(acc.limits.waitList(ctx, 1)))
	_, err := acc.limits.waitUserInfo(ctx)
	require.NoError(t, err)
	acc.limits.flood("Flood detected: IP Locked #374")

	require.NoError(t, acc.forgetAnswers(false))
	assert.False(t, acc.limits.listSlotOpen(1), "the listing clock stays")
	assert.Greater(t, acc.limits.lockRemaining(), 59*time.Minute, "the flood gate stays")
	var user, ip time.Time
	require.NoError(t, db.view(func(k *keyTx) error {
		user, ip = k.clock(clockUserInfoUser), k.hostClock(clockUserInfoIP)
		return nil
	}))
	assert.Greater(t, time.Until(user), 5*time.Minute, "the per-user user/info clock stays")
	assert.Greater(t, time.Until(ip), time.Minute, "the per-IP user/info clock stays")

	require.NoError(t, acc.forgetAnswers(true))
	assert.True(t, acc.limits.listSlotOpen(1), "-o clocks drops them")
	assert.LessOrEqual(t, acc.limits.lockRemaining(), time.Duration(0))
}

// A caller that wakes up long after its booked slot books again instead
// of going late onto another caller's slot.
func TestMissedSlotIsBookedAgain(t *testing.T) {
	l := newLimits(newTestState(t), 10, time.Hour, time.Minute)
	assert.False(t, l.missed(time.Now()))
	assert.True(t, l.missed(time.Now().Add(-time.Second)), "a slot a second past, at 10 calls/s, is gone")
}

// A state that cannot be written (here: its directory cannot be made)
// does not stop rclone: the process carries on with its own copy, and
// its clocks still hold within the process.
func TestUnwritableStateCarriesOnPrivately(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(notDir, nil, 0o600))
	db := openState(filepath.Join(notDir, "fichier"), "https://api.example.test/v1", testKey)
	l := newLimits(db, 10, time.Hour, 10*time.Millisecond)
	_, err := l.bookCall()
	require.NoError(t, err, "rclone goes on")
	assert.True(t, db.private)
	assert.False(t, l.listSlotOpen(1), "as careful as a lost state: other processes' listings are unknown")
	require.NoError(t, second(l.waitList(context.Background(), 1)))
	assert.False(t, l.listSlotOpen(1), "the listing clock holds in the private copy")
}

// The private copy keeps the shared file's clocks, and drops its stored
// listings, which may lack what other processes could not write.
func TestPrivateCopyKeepsClocksAndDropsListings(t *testing.T) {
	db := newTestState(t)
	l := newLimits(db, 10, time.Hour, time.Minute)
	c := newListCache(db)
	require.NoError(t, second(l.waitList(context.Background(), 1)))
	c.setEmpty(1)
	require.NotNil(t, c.stored(1))

	shared := db.path
	require.True(t, db.goPrivate(errors.New("no space left on device")))
	assert.NotEqual(t, filepath.Dir(db.path), filepath.Dir(db.seen), "the copy is elsewhere")
	assert.NoFileExists(t, shared, "the others see a lost state, and are careful")
	assert.Nil(t, c.stored(1), "stored listings are dropped")
	assert.False(t, l.listSlotOpen(1), "the clocks are kept")
	assert.False(t, db.goPrivate(errors.New("again")), "once")
}

// A panic of our own code inside a transaction is a bug, not a damaged
// file: it goes on up, and the file stays where it is.
func TestPanicInATransactionIsNotCorruption(t *testing.T) {
	db := newTestState(t)
	require.NoError(t, db.update(func(k *keyTx) error { return k.setClock(clockCall, time.Now()) }))
	assert.Panics(t, func() {
		_ = db.update(func(k *keyTx) error {
			some := []time.Time{time.Now()}
			_ = some[time.Now().Second()+1] // a bug: index out of range
			return nil
		})
	})
	assert.NoFileExists(t, db.path+".corrupt")
	var at time.Time
	require.NoError(t, db.view(func(k *keyTx) error { at = k.clock(clockCall); return nil }))
	assert.False(t, at.IsZero(), "the state is still there")
}

// One pruning pass per pruneEvery on the machine: the process that
// claims it runs it, the others skip it.
func TestPruningIsClaimedOncePerInterval(t *testing.T) {
	db := newTestState(t)
	assert.True(t, newListCache(db).claimPruning())
	assert.False(t, newListCache(sameState(db)).claimPruning(), "another process started a pass just now")
}

// An upload entry is waited for only while its process may be sending
// it: not this process's own, not a dead one's, and, where a PID cannot
// be told from a later one, not past end.pl's memory.
func TestJournalOwnerIsSendingOnlyWhileAlive(t *testing.T) {
	now := time.Now()
	assert.False(t, thisProcess.sending(now), "this process's own entries are settled, not waited for")
	parent := processID{PID: os.Getppid(), Start: processStart(os.Getppid())}
	assert.True(t, parent.sending(now), "a running process")
	assert.False(t, processID{PID: 1 << 30}.sending(now), "no such process")
	assert.False(t, processID{PID: os.Getppid()}.sending(now.Add(-3*time.Hour)), "an unverifiable PID past end.pl's memory")
	assert.False(t, processID{PID: parent.PID, Start: parent.Start + 1}.sending(now), "the PID of a process started since")
}

// second returns the error of a call that also returns a value.
func second[T any](_ T, err error) error {
	return err
}
