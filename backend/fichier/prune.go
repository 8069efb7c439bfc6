package fichier

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/internal/bolt"
)

// Pruning keeps the state small however long it is used: listings older
// than the cache time, entries of folders with no listing, old removal
// marks, past listing clocks and expired download URLs go.
//
// It never holds the state's lock for long, whatever the state's size:
// a pass runs in the background, at most once per pruneEvery on the
// whole machine, in transactions that each look at pruneStep entries at
// most. A process that ends before its pass is done leaves the rest for
// the next pass. Starting a process costs nothing more with a million
// files stored than with none.
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
		b := k.tx.Bucket(bucketFile)
		now := time.Now()
		if claimed = now.Sub(getTime(b, stampPruned)) >= pruneEvery; !claimed {
			return nil
		}
		return putTime(b, stampPruned, now)
	})
	logStateError(err)
	return claimed
}

// prune runs one whole pruning pass, step by step.
func (c *listCache) prune(maxAge time.Duration) {
	now := time.Now()
	cutoff, goneCutoff := now.Add(-maxAge), now.Add(-goneMemory)
	stages := []struct {
		bucket []byte
		step   int
		drop   func(k *keyTx, key, v []byte) (bool, error)
	}{
		{bucketMeta, pruneListingStep, func(k *keyTx, key, v []byte) (bool, error) {
			var meta listingMeta
			if json.Unmarshal(v, &meta) == nil && !meta.Fetched.Before(cutoff) {
				return false, nil
			}
			return true, k.clearEntries(keyID(key))
		}},
		{bucketFiles, pruneStep, func(k *keyTx, key, v []byte) (bool, error) {
			var f storedFile
			return json.Unmarshal(v, &f) != nil || orphan(k, key, f.Added, goneCutoff), nil
		}},
		{bucketDirs, pruneStep, func(k *keyTx, key, v []byte) (bool, error) {
			var d storedDir
			return json.Unmarshal(v, &d) != nil || orphan(k, key, d.Added, goneCutoff), nil
		}},
		{bucketGone, pruneStep, func(_ *keyTx, _, v []byte) (bool, error) {
			return decodeTime(v).Before(goneCutoff), nil
		}},
		{bucketListClock, pruneStep, func(_ *keyTx, _, v []byte) (bool, error) {
			return now.After(decodeTime(v)), nil
		}},
		{bucketTokens, pruneStep, func(_ *keyTx, _, v []byte) (bool, error) {
			var t downloadToken
			return json.Unmarshal(v, &t) != nil || now.After(t.Expires), nil
		}},
	}
	for _, stage := range stages {
		if err := c.pruneBucket(stage.bucket, stage.step, stage.drop); err != nil {
			logStateError(err)
			return
		}
	}
}

// orphan reports whether the entry at key, added at added, belongs to a
// folder with no stored listing and is older than cutoff.
func orphan(k *keyTx, key []byte, added, cutoff time.Time) bool {
	if len(key) < 8 || !added.Before(cutoff) {
		return false
	}
	_, listed := k.listingMeta(keyID(key))
	return !listed
}

// pruneBucket deletes the entries of a key's bucket that drop says to,
// looking at step entries per transaction.
func (c *listCache) pruneBucket(name []byte, step int, drop func(k *keyTx, key, v []byte) (bool, error)) error {
	var from []byte
	for {
		var next []byte
		err := c.db.update(func(k *keyTx) error {
			var err error
			next, err = pruneFrom(k, k.bucket(name), from, step, drop)
			return err
		})
		if err != nil || next == nil {
			return err
		}
		from = next
	}
}

// pruneFrom deletes what drop says to of the step entries of b from the
// key from on, and returns the key to go on from, or nil at the end.
// Keys are gathered first and deleted after: a cursor that deletes as it
// goes skips entries.
func pruneFrom(k *keyTx, b *bolt.Bucket, from []byte, step int, drop func(k *keyTx, key, v []byte) (bool, error)) (next []byte, err error) {
	var old [][]byte
	cur := b.Cursor()
	key, v := cur.Seek(from)
	for n := 0; key != nil && n < step; key, v = cur.Next() {
		n++
		if v == nil {
			continue
		}
		gone, err := drop(k, key, v)
		if err != nil {
			return nil, err
		}
		if gone {
			old = append(old, bytes.Clone(key))
		}
	}
	if key != nil {
		next = bytes.Clone(key)
	}
	return next, deleteAll(b, old)
}
