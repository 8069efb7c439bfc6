package fichier

import (
	"time"
)

// Pruning keeps the state small however long it is used: listings older
// than the cache time, entries of folders with no listing, old removal
// marks, past listing clocks and expired download URLs go.
//
// It never holds the state's lock for long, whatever the state's size:
// a pass runs in the background, at most once per pruneEvery on the
// whole machine, in transactions that each look at pruneStep entries at
// most (stateDB.prune). A process that ends before its pass is done
// leaves the rest for the next pass. Starting a process costs nothing
// more with a million files stored than with none.
const (
	pruneEvery = 10 * time.Minute
	pruneStep  = 10000
	// pruneListingStep is the most listings one transaction drops:
	// each may hold 5000 files.
	pruneListingStep = 20
)

// startPruning starts a pruning pass in the background, a moment after
// the process starts (its first calls go first), unless another process
// (or this one) started one less than pruneEvery ago.
func (c *listCache) startPruning(maxAge time.Duration) {
	time.AfterFunc(pruneDelay, func() {
		if c.claimPruning() {
			c.prune(maxAge)
		}
	})
}

// pruneDelay is how long after a process starts its pruning may begin.
const pruneDelay = time.Second

// claimPruning reports whether this process may start a pruning pass,
// and stamps the start for the others.
func (c *listCache) claimPruning() bool {
	claimed := false
	err := c.db.update(func(k *keyTx) error {
		var err error
		claimed, err = k.claimPruning(time.Now(), pruneEvery)
		return err
	})
	logStateError(err)
	return claimed
}

// prune runs one whole pruning pass, step by step: listings older than
// maxAge go, and removal marks and entries of folders with no listing
// older than goneMemory.
func (c *listCache) prune(maxAge time.Duration) {
	now := time.Now()
	logStateError(c.db.prune(pruneRule{
		listedBefore: now.Add(-maxAge),
		goneBefore:   now.Add(-goneMemory),
		now:          now,
		step:         pruneStep,
		listingStep:  pruneListingStep,
	}))
}
