//go:build plan9 || js || boltmemory

package bolt

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/rclone/rclone/fs"
)

// InMemory reports whether the state lives in this process's memory
// only: here it does (plan9 and js; the tag boltmemory tests it
// elsewhere).
const InMemory = true

// The errors of this stand-in, as bbolt's.
var (
	ErrTimeout          = errors.New("timeout")
	ErrTxNotWritable    = errors.New("tx not writable")
	ErrBucketExists     = errors.New("bucket already exists")
	ErrBucketNotFound   = errors.New("bucket not found")
	ErrIncompatibleKind = errors.New("incompatible value")
	ErrNotSupported     = errors.New("the state is in memory: there is no file to copy")
)

// Options are the options of Open; only the lock timeout has a meaning
// for a file, and there is none.
type Options struct {
	Timeout  time.Duration
	NoSync   bool
	ReadOnly bool
}

// store is the state of one path: it lives as long as the process.
type store struct {
	mu   sync.RWMutex
	root *node
}

// node is a bucket's content.
type node struct {
	values map[string][]byte
	subs   map[string]*node
}

func newNode() *node { return &node{values: map[string][]byte{}, subs: map[string]*node{}} }

var (
	storesMu sync.Mutex
	stores   = map[string]*store{}
	notice   sync.Once
)

// DB is the state of one path, in memory.
type DB struct{ s *store }

// Open returns the state of path, the same for every Open of it in this
// process. The first Open says once that the state is not shared.
func Open(path string, _ os.FileMode, _ *Options) (*DB, error) {
	notice.Do(func() {
		fs.Logf(nil, "fichier: %s can't keep the shared state in a file (bbolt needs file locks and memory maps): "+
			"it is kept in this process's memory only. rclone processes can't share 1fichier's rate clocks and listings, "+
			"so each run starts careful: its first listing of each folder waits one interval of 1fichier's rules (30 s) "+
			"and its first account info 5 min", runtime.GOOS)
	})
	storesMu.Lock()
	defer storesMu.Unlock()
	s := stores[path]
	if s == nil {
		s = &store{root: newNode()}
		stores[path] = s
	}
	return &DB{s: s}, nil
}

// Close does nothing: the state stays for the next Open.
func (db *DB) Close() error { return nil }

// View runs fn in a read-only transaction.
func (db *DB) View(fn func(*Tx) error) error {
	db.s.mu.RLock()
	defer db.s.mu.RUnlock()
	return fn(&Tx{root: db.s.root})
}

// Update runs fn in a read-write transaction, undoing its changes if fn
// fails or panics.
func (db *DB) Update(fn func(*Tx) error) (err error) {
	db.s.mu.Lock()
	defer db.s.mu.Unlock()
	tx := &Tx{root: db.s.root, writable: true}
	defer func() {
		if r := recover(); r != nil {
			tx.rollback()
			panic(r)
		}
		if err != nil {
			tx.rollback()
		}
	}()
	return fn(tx)
}

// Tx is a transaction.
type Tx struct {
	root     *node
	writable bool
	undo     []func()
}

func (tx *Tx) rollback() {
	for i := len(tx.undo) - 1; i >= 0; i-- {
		tx.undo[i]()
	}
	tx.undo = nil
}

func (tx *Tx) rootBucket() *Bucket { return &Bucket{tx: tx, n: tx.root} }

// Writable reports whether the transaction may write.
func (tx *Tx) Writable() bool { return tx.writable }

// Bucket returns the top-level bucket name, or nil.
func (tx *Tx) Bucket(name []byte) *Bucket { return tx.rootBucket().Bucket(name) }

// CreateBucket makes the top-level bucket name.
func (tx *Tx) CreateBucket(name []byte) (*Bucket, error) { return tx.rootBucket().CreateBucket(name) }

// CreateBucketIfNotExists returns the top-level bucket name, made if needed.
func (tx *Tx) CreateBucketIfNotExists(name []byte) (*Bucket, error) {
	return tx.rootBucket().CreateBucketIfNotExists(name)
}

// DeleteBucket deletes the top-level bucket name.
func (tx *Tx) DeleteBucket(name []byte) error { return tx.rootBucket().DeleteBucket(name) }

// ForEach calls fn with each top-level bucket, in key order.
func (tx *Tx) ForEach(fn func(name []byte, b *Bucket) error) error {
	root := tx.rootBucket()
	return root.ForEach(func(k, v []byte) error {
		if v != nil {
			return nil
		}
		return fn(k, root.Bucket(k))
	})
}

// Size returns how many bytes the state holds: its keys, values and
// bucket names (bbolt's is the file's size).
func (tx *Tx) Size() int64 { return tx.root.size() }

// size is the bytes of n's keys, values and buckets, and all below.
func (n *node) size() int64 {
	var total int64
	for k, v := range n.values {
		total += int64(len(k) + len(v))
	}
	for k, sub := range n.subs {
		total += int64(len(k)) + sub.size()
	}
	return total
}

// WriteTo fails: there is no file to copy.
func (tx *Tx) WriteTo(io.Writer) (int64, error) { return 0, ErrNotSupported }

// Bucket is a bucket seen from one transaction.
type Bucket struct {
	tx *Tx
	n  *node
	// FillPercent is bbolt's page fill; it means nothing here.
	FillPercent float64
}

func (b *Bucket) canWrite() error {
	if !b.tx.writable {
		return ErrTxNotWritable
	}
	return nil
}

// Get returns the value of key, or nil (also for a nested bucket).
func (b *Bucket) Get(key []byte) []byte { return b.n.values[string(key)] }

// Put sets the value of key.
func (b *Bucket) Put(key, value []byte) error {
	if err := b.canWrite(); err != nil {
		return err
	}
	k := string(key)
	if _, ok := b.n.subs[k]; ok {
		return ErrIncompatibleKind
	}
	old, had := b.n.values[k]
	b.tx.undo = append(b.tx.undo, func() { b.restore(k, old, had) })
	b.n.values[k] = bytes.Clone(value)
	return nil
}

// Delete removes key; a missing key is no error.
func (b *Bucket) Delete(key []byte) error {
	if err := b.canWrite(); err != nil {
		return err
	}
	k := string(key)
	if _, ok := b.n.subs[k]; ok {
		return ErrIncompatibleKind
	}
	if old, had := b.n.values[k]; had {
		b.tx.undo = append(b.tx.undo, func() { b.restore(k, old, true) })
		delete(b.n.values, k)
	}
	return nil
}

func (b *Bucket) restore(k string, v []byte, had bool) {
	if had {
		b.n.values[k] = v
	} else {
		delete(b.n.values, k)
	}
}

// Bucket returns the nested bucket name, or nil.
func (b *Bucket) Bucket(name []byte) *Bucket {
	if n := b.n.subs[string(name)]; n != nil {
		return &Bucket{tx: b.tx, n: n}
	}
	return nil
}

// CreateBucket makes the nested bucket name.
func (b *Bucket) CreateBucket(name []byte) (*Bucket, error) {
	if err := b.canWrite(); err != nil {
		return nil, err
	}
	k := string(name)
	if _, ok := b.n.subs[k]; ok {
		return nil, ErrBucketExists
	}
	if _, ok := b.n.values[k]; ok {
		return nil, ErrIncompatibleKind
	}
	b.n.subs[k] = newNode()
	b.tx.undo = append(b.tx.undo, func() { delete(b.n.subs, k) })
	return b.Bucket(name), nil
}

// CreateBucketIfNotExists returns the nested bucket name, made if needed.
func (b *Bucket) CreateBucketIfNotExists(name []byte) (*Bucket, error) {
	if nb := b.Bucket(name); nb != nil {
		return nb, nil
	}
	return b.CreateBucket(name)
}

// DeleteBucket deletes the nested bucket name and all it holds.
func (b *Bucket) DeleteBucket(name []byte) error {
	if err := b.canWrite(); err != nil {
		return err
	}
	k := string(name)
	old := b.n.subs[k]
	if old == nil {
		return ErrBucketNotFound
	}
	delete(b.n.subs, k)
	b.tx.undo = append(b.tx.undo, func() { b.n.subs[k] = old })
	return nil
}

// ForEach calls fn with each key and value in key order; a nested
// bucket's value is nil.
func (b *Bucket) ForEach(fn func(k, v []byte) error) error {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// Cursor returns a cursor on the bucket's keys as they are now.
func (b *Bucket) Cursor() *Cursor {
	keys := make([]string, 0, len(b.n.values)+len(b.n.subs))
	for k := range b.n.values {
		keys = append(keys, k)
	}
	for k := range b.n.subs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return &Cursor{b: b, keys: keys}
}

// Cursor walks the keys a bucket had when it was made; keys deleted
// since are skipped.
type Cursor struct {
	b    *Bucket
	keys []string
	i    int
}

// First moves to the first key.
func (c *Cursor) First() (key, value []byte) {
	c.i = 0
	return c.here()
}

// Seek moves to the first key at or after seek.
func (c *Cursor) Seek(seek []byte) (key, value []byte) {
	c.i, _ = slices.BinarySearch(c.keys, string(seek))
	return c.here()
}

// Next moves to the next key.
func (c *Cursor) Next() (key, value []byte) {
	c.i++
	return c.here()
}

// here returns the key at i, or the next one still there; nil at the end.
func (c *Cursor) here() (key, value []byte) {
	for ; c.i < len(c.keys); c.i++ {
		k := c.keys[c.i]
		if v, ok := c.b.n.values[k]; ok {
			return []byte(k), v
		}
		if _, ok := c.b.n.subs[k]; ok {
			return []byte(k), nil
		}
	}
	return nil, nil
}
