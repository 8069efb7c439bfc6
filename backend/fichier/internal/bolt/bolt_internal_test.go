package bolt

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests run against bbolt, and with -tags boltmemory against the
// in-memory stand-in of plan9 and js: the backend relies on both
// behaving the same.

func openTest(t *testing.T, path string) *DB {
	db, err := Open(path, 0o600, &Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestPutGetAcrossOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db := openTest(t, path)
	require.NoError(t, db.Update(func(tx *Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("k"))
		require.NoError(t, err)
		return b.Put([]byte("a"), []byte("1"))
	}))
	require.NoError(t, db.Close())

	db = openTest(t, path)
	require.NoError(t, db.View(func(tx *Tx) error {
		assert.False(t, tx.Writable())
		b := tx.Bucket([]byte("k"))
		require.NotNil(t, b)
		assert.Equal(t, []byte("1"), b.Get([]byte("a")))
		assert.Nil(t, b.Get([]byte("missing")))
		assert.Error(t, b.Put([]byte("b"), []byte("2")), "a read-only transaction must refuse writes")
		assert.Nil(t, tx.Bucket([]byte("other")))
		return nil
	}))
}

func TestFailedUpdateChangesNothing(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "state.db"))
	require.NoError(t, db.Update(func(tx *Tx) error {
		b, err := tx.CreateBucket([]byte("k"))
		require.NoError(t, err)
		_, err = b.CreateBucket([]byte("sub"))
		require.NoError(t, err)
		return b.Put([]byte("a"), []byte("1"))
	}))
	failed := errors.New("fail")
	err := db.Update(func(tx *Tx) error {
		b := tx.Bucket([]byte("k"))
		require.NoError(t, b.Put([]byte("a"), []byte("changed")))
		require.NoError(t, b.Put([]byte("new"), []byte("x")))
		require.NoError(t, b.DeleteBucket([]byte("sub")))
		_, err := tx.CreateBucket([]byte("k2"))
		require.NoError(t, err)
		return failed
	})
	require.ErrorIs(t, err, failed)
	require.NoError(t, db.View(func(tx *Tx) error {
		b := tx.Bucket([]byte("k"))
		assert.Equal(t, []byte("1"), b.Get([]byte("a")))
		assert.Nil(t, b.Get([]byte("new")))
		assert.NotNil(t, b.Bucket([]byte("sub")))
		assert.Nil(t, tx.Bucket([]byte("k2")))
		return nil
	}))
}

func TestOrderAndNestedBuckets(t *testing.T) {
	db := openTest(t, filepath.Join(t.TempDir(), "state.db"))
	require.NoError(t, db.Update(func(tx *Tx) error {
		b, err := tx.CreateBucket([]byte("k"))
		require.NoError(t, err)
		for _, k := range []string{"c", "a", "d"} {
			require.NoError(t, b.Put([]byte(k), []byte("v"+k)))
		}
		_, err = b.CreateBucket([]byte("b"))
		require.NoError(t, err)
		_, err = b.CreateBucket([]byte("b"))
		assert.Error(t, err, "a bucket made twice")
		assert.Error(t, b.Put([]byte("b"), []byte("x")), "a value over a bucket")
		_, err = tx.CreateBucket([]byte("j"))
		return err
	}))
	require.NoError(t, db.Update(func(tx *Tx) error {
		var tops []string
		require.NoError(t, tx.ForEach(func(name []byte, b *Bucket) error {
			require.NotNil(t, b)
			tops = append(tops, string(name))
			return nil
		}))
		assert.Equal(t, []string{"j", "k"}, tops)

		b := tx.Bucket([]byte("k"))
		var seen []string
		require.NoError(t, b.ForEach(func(k, v []byte) error {
			seen = append(seen, string(k)+"="+string(v))
			return nil
		}))
		assert.Equal(t, []string{"a=va", "b=", "c=vc", "d=vd"}, seen, "a nested bucket has a nil value")

		require.NoError(t, b.Delete([]byte("c")))
		require.NoError(t, b.Delete([]byte("missing")))
		c := b.Cursor()
		k, v := c.Seek([]byte("bb"))
		assert.Equal(t, "d", string(k), "Seek goes to the first key at or after")
		assert.Equal(t, "vd", string(v))
		k, _ = c.Next()
		assert.Nil(t, k)
		return nil
	}))
}
