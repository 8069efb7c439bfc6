package fichier

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestResolveOnceWaitsForTheResolutionInProgress: a goroutine that
// finds an entry another goroutine of the process is resolving waits
// for that to end, so it never looks at the folder before what the
// entry stored is recorded (the explorer's seed 3: concurrent Puts after
// a kill, one resolving the killed upload, another uploading its file
// again meanwhile).
func TestResolveOnceWaitsForTheResolutionInProgress(t *testing.T) {
	j := newJournal(nil)
	ctx := context.Background()
	started, finish := make(chan struct{}), make(chan struct{})
	var recorded atomic.Bool
	first := make(chan error)
	go func() {
		first <- j.resolveOnce(ctx, "xid", func() error {
			close(started)
			<-finish
			recorded.Store(true)
			return nil
		})
	}()
	<-started
	// A caller that may not wait gives up: it would have waited.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	err := j.resolveOnce(cancelled, "xid", func() error {
		t.Error("resolved twice")
		return nil
	})
	assert.ErrorIs(t, err, context.Canceled, "a resolution in progress is waited for")
	close(finish)
	require.NoError(t, <-first)
	assert.True(t, recorded.Load())

	// Once resolved, the entry may be claimed again (found still there).
	mine, other := j.claimResolve("xid")
	assert.NotNil(t, mine)
	assert.Nil(t, other)
	j.endResolve("xid")
}

// TestResolveOnceHandsOnTheFailure: a resolution that fails (1fichier
// unreachable) fails those who waited for it too. Taken for a success,
// a Put would read the folder without what the entry stored and send
// the file again (the explorer's seed 13: a move killed in its upload,
// run again while the API restarted, stored three files twice).
func TestResolveOnceHandsOnTheFailure(t *testing.T) {
	j := newJournal(nil)
	ctx := context.Background()
	started, finish := make(chan struct{}), make(chan struct{})
	unreachable := errors.New("couldn't reach the API")
	first := make(chan error)
	go func() {
		first <- j.resolveOnce(ctx, "xid", func() error {
			close(started)
			<-finish
			return unreachable
		})
	}()
	<-started
	mine, other := j.claimResolve("xid")
	require.Nil(t, mine, "resolved twice at once")
	require.NotNil(t, other, "the resolution in progress is waited for")
	close(finish)
	assert.ErrorIs(t, <-first, unreachable)
	<-other.done
	assert.ErrorIs(t, other.err, unreachable, "the waiter learns that nothing was recorded")
}

// TestResolveOnceLeavesEntriesBeingSent: an entry this process is
// sending is neither resolved nor waited for.
func TestResolveOnceLeavesEntriesBeingSent(t *testing.T) {
	j := newJournal(nil)
	require.True(t, j.claim("xid"))
	err := j.resolveOnce(context.Background(), "xid", func() error {
		t.Error("resolved an entry being sent")
		return nil
	})
	assert.NoError(t, err)
}

// TestNotLaterThanNow: a journal entry's time from before the clock was
// set back is not waited for.
func TestNotLaterThanNow(t *testing.T) {
	past := time.Now().Add(-time.Minute)
	assert.Equal(t, past, notLaterThanNow(past))
	future := time.Now().Add(time.Hour)
	assert.False(t, notLaterThanNow(future).After(time.Now()))
}
