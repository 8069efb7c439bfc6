package fichier

import (
	"context"
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
	claimed, wait := j.claimResolve("xid")
	assert.True(t, claimed)
	assert.Nil(t, wait)
	j.endResolve("xid")
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
