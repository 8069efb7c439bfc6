package fichier

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	iofs "io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone-fichier/rclone-fichier/backend/fichier/internal/bolt"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/config"
)

// The account state shared by every rclone process on the machine.
//
// 1fichier's rules are per key and per IP, not per process: a listing
// made by "rclone copy" closes the folder's 30 s slot for the "rclone
// check" that follows, and two processes at 2 calls/s each make 4 calls/s
// together. So the call budget, the flood gate, every clock the service
// imposes, and the answers those clocks make scarce (listings, account
// info, download URLs) live in one bbolt database per API host, in
// rclone's cache directory, with one bucket per key.
//
// bbolt takes an OS file lock (flock, or LockFileEx on Windows) for as
// long as the database is open, so each transaction opens the file, does
// its work and closes it again: the lock is held for microseconds, and the
// OS drops it when a process dies, even by SIGKILL. bbolt writes only the
// pages a transaction changes and never leaves a torn file behind (its
// meta pages carry checksums), and a file it cannot read is moved aside
// with a NOTICE and started again. The file holds no key: it is named by
// a hash of the API URL, its buckets by a hash of URL and key.

// This file is the one storage layer: the schema (buckets, keys and the
// encodings of stored values) and typed operations on it (keyTx's
// methods, below); prune.go keeps it small. Callers elsewhere ask
// questions ("book the next call", "store this listing") and never touch
// a bucket. rclone's lib/kv has that shape but not this lifecycle: it
// keeps its database open, and so its exclusive file lock, for a second
// after each use, which would make every other process wait on each
// call's bookkeeping, and it has no recovery from a damaged or lost file.

// stateLockTimeout bounds the wait for another process's transaction.
// Transactions take microseconds, so reaching it means that process is
// stuck (stopped in a debugger, say); the call then fails instead of
// hanging.
const stateLockTimeout = 10 * time.Second

// The schema. The file has one bucket per key (named "key:" and a hash
// of the API URL and key), the host bucket for the clocks of the IP, and
// the file bucket for what concerns the file itself. Times are stored as
// 8-byte big-endian Unix nanoseconds, structured values as JSON.
var (
	// Inside a key's bucket.
	bucketClocks    = []byte("clocks")    // named clocks (below)
	bucketListClock = []byte("listclock") // folder ID -> earliest next listing
	bucketMeta      = []byte("meta")      // folder ID -> listingMeta
	bucketFiles     = []byte("files")     // folder ID + file URL -> storedFile
	bucketDirs      = []byte("dirs")      // folder ID + subfolder ID -> storedDir
	bucketGone      = []byte("gone")      // folder ID + kind + name -> removal time
	bucketTokens    = []byte("tokens")    // file URL -> downloadToken
	bucketAnswers   = []byte("answers")   // named answers: user info
	bucketJournal   = []byte("journal")   // folder ID + upload session ID -> journalEntry
	bucketServer    = []byte("server")    // what the server told of itself (below)

	// Top level.
	bucketHost = []byte("host") // clocks of the IP, whatever the key
	bucketFile = []byte("file") // stamps of the file (below)
)

// Clock names in a key's clocks bucket, and in the host bucket.
var (
	clockCall     = []byte("next_call") // earliest time of the next API call
	clockDeparted = []byte("departed")  // when the key's last API call left
	// The earliest next departure of a user/info.cgi call, per key and
	// (host bucket) per IP: the rule counted from when the last one left.
	clockUserInfoUserLeft = []byte("user_info_user_left")
	clockUserInfoIPLeft   = []byte("user_info_ip_left")
	clockFlood            = []byte("flood")          // floodState
	clockUserInfoUser     = []byte("user_info_user") // earliest next user/info.cgi of the key
	clockUserInfoIP       = []byte("user_info_ip")   // host: earliest next user/info.cgi
)

// Stamps in the file bucket.
var (
	stampWritten = []byte("written") // the wall clock at the latest write
	stampLost    = []byte("lost")    // when a state that existed was found lost
	stampPruned  = []byte("pruned")  // when the last pruning pass started
)

// answerUserInfo is the key of the user/info answer in the answers bucket.
var answerUserInfo = []byte("user_info")

// serverTimeScale is the key of a test server's time scale (timescale.go)
// in the server bucket.
var serverTimeScale = []byte("time_scale")

// toStoredFile and toStoredDir make entries of the API's items.
func toStoredFile(f api.File, added time.Time, seq int64) storedFile {
	sum, err := hex.DecodeString(f.Checksum)
	if err != nil || f.Checksum == "" {
		sum = []byte(f.Checksum) // not hex: keep it as it came
	}
	return storedFile{URL: f.URL, Name: f.Filename, Size: int64(f.Size), Date: f.Date, Checksum: sum,
		Type: f.MimeType(), Pass: int64(f.Pass), ownChange: ownChange{added}, Seq: seq}
}

func toStoredDir(d api.SubFolder, added time.Time, seq int64) storedDir {
	return storedDir{ID: d.ID, Name: d.Name, CreateDate: d.CreateDate, Pass: int64(d.Pass), ownChange: ownChange{added}, Seq: seq}
}

// file and folder are the API items of stored entries.
func (f *storedFile) file() api.File {
	sum := hex.EncodeToString(f.Checksum)
	if len(f.Checksum) != whirlpoolSize {
		sum = string(f.Checksum)
	}
	return api.File{URL: f.URL, Filename: f.Name, Size: api.Int(f.Size), Date: f.Date, Checksum: sum, ContentType: f.Type, Pass: api.Int(f.Pass)}
}

func (d *storedDir) folder() api.SubFolder {
	return api.SubFolder{ID: d.ID, Name: d.Name, CreateDate: d.CreateDate, Pass: api.Int(d.Pass)}
}

// whirlpoolSize is the size of a Whirlpool digest in bytes.
const whirlpoolSize = 64

// Kinds of removal marks: a file (by URL) or a subfolder (by ID).
const (
	goneFile   = 'f'
	goneFolder = 'd'
)

// goneName is the key of a removal mark, after the folder ID.
func goneName(kind byte, name string) string {
	return string(kind) + name
}

// stateDB is the shared state of one API key on this machine.
type stateDB struct {
	path  string // the database file, shared by every key of the API host
	seen  string // the marker that it existed (see seenPath)
	scale string // the key's test server time scale, kept beside it too (keepScale)
	key   []byte // this key's bucket

	private bool     // path is this process's own copy (see goPrivate)
	keep    *os.File // holds a memory-backed private copy open

	// mu serialises this process's transactions: bbolt's file lock is
	// per open file, so two opens from one process would wait for each
	// other until the timeout.
	mu sync.Mutex
}

// stateDir is where the shared state lives: rclone's cache directory,
// which --cache-dir and RCLONE_CACHE_DIR move.
func stateDir() string {
	return filepath.Join(config.GetCacheDir(), "fichier")
}

// openState returns the shared state of key at apiURL, in dir. Every
// spelling of one API URL (see canonicalURL) gets the same state: the
// rules belong to the key and the service, not to how a remote names it.
func openState(dir, apiURL, key string) *stateDB {
	apiURL = canonicalURL(apiURL)
	host := sha256.Sum256([]byte(apiURL))
	id := sha256.Sum256([]byte(apiURL + "\x00" + key))
	path := filepath.Join(dir, hex.EncodeToString(host[:16])+".db")
	return &stateDB{
		path:  path,
		seen:  path + ".seen",
		scale: filepath.Join(dir, hex.EncodeToString(id[:16])+".scale"),
		key:   []byte("key:" + hex.EncodeToString(id[:16])),
	}
}

// canonicalURL returns apiURL as one spelling of the service it reaches:
// scheme and host in lower case, no default port, no trailing slash, and
// every loopback name (localhost, 127.0.0.0/8, ::1) as one, since a test
// server on this machine answers to all of them. Two remotes that name
// one server differently must share one budget, or they break its rules
// together; two that share a budget needlessly are only slower.
func canonicalURL(apiURL string) string {
	u, err := url.Parse(strings.TrimRight(apiURL, "/"))
	if err != nil || u.Host == "" {
		return apiURL
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if isLoopback(host) {
		host = "loopback"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/")
}

// update runs fn in a read-write transaction on the key's buckets.
func (s *stateDB) update(fn func(k *keyTx) error) error {
	return s.run(true, fn)
}

// view runs fn in a read-only transaction on the key's buckets. The
// buckets may be nil in it: keyTx's getters treat that as empty.
func (s *stateDB) view(fn func(k *keyTx) error) error {
	return s.run(false, fn)
}

// run opens the database, runs fn in a transaction and closes it again.
// A database that cannot be read is moved aside and the work is done
// once more on a new one, which then starts as a lost state (see
// stampLost).
func (s *stateDB) run(write bool, fn func(k *keyTx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.runOnce(write, fn)
	var bad *corruptStateError
	if errors.As(err, &bad) {
		fs.Logf(nil, "fichier: the shared state file %s is unreadable (%v): starting a new one; its rate "+
			"clocks and cached listings are lost, so every folder's first listing and the account info "+
			"wait one interval of 1fichier's rules", s.path, bad.err)
		if err := setAside(s.path); err != nil {
			return fmt.Errorf("couldn't replace the unreadable shared state file %s: %w", s.path, err)
		}
		err = s.runOnce(write, fn)
	}
	if unwritable(err) && s.goPrivate(err) {
		err = s.runOnce(write, fn)
	}
	return err
}

// unwritable reports whether err says the state file cannot be made or
// written: a full disk, a read-only file system or directory, a quota,
// no permission, or a state directory that cannot be made.
func unwritable(err error) bool {
	for _, errno := range unwritableErrnos {
		if errors.Is(err, errno) {
			return true
		}
	}
	return errors.Is(err, iofs.ErrPermission)
}

// goPrivate carries on, after the shared file could not be written, with
// a copy of it that only this process uses, and says so once. rclone
// must not stop, nor upload again, because a cache could not be written;
// but what this process learns is then lost to the others, and theirs to
// it. The copy keeps the clocks and the journal, and drops the stored
// listings: they may lack what other processes could not write, and an
// upload trusting them could store a file twice. What our own changes
// added lately stays, as the next listings may not show it yet. It
// starts as careful as
// a lost state (each folder's first listing and the account info wait
// one interval), since the others' calls are unknown to it, and removes
// the shared file, so the others are careful too. It reports whether it
// switched.
func (s *stateDB) goPrivate(cause error) bool {
	if s.private {
		return false
	}
	file, path, err := privateStateFile()
	if err != nil {
		fs.Errorf(nil, "fichier: couldn't write the shared state %s (%v), nor make a private copy: %v", s.path, cause, err)
		return false
	}
	shared := s.path
	_, statErr := os.Stat(shared)
	copyErr := copyState(shared, file)
	s.path, s.private, s.keep = path, true, file
	if statErr == nil {
		// Other processes may still write small changes into the file
		// (its free pages), which would make them trust clocks this one
		// no longer updates: removed, it is a lost state to them, and
		// they are careful. A file that cannot be removed cannot be
		// written by them either.
		_ = os.Remove(shared)
	}
	err = s.runOnce(true, func(k *keyTx) error {
		if copyErr == nil {
			if err := dropAllListings(k.tx, time.Now().Add(-goneMemory)); err != nil {
				return err
			}
		}
		// Whatever other processes do from now on, this one cannot see,
		// nor they its clocks: as careful as after a lost state.
		return putTime(k.tx.Bucket(bucketFile), stampLost, time.Now())
	})
	if err != nil {
		fs.Errorf(nil, "fichier: couldn't prepare the private copy of the shared state: %v", err)
	}
	fs.Logf(nil, "fichier: couldn't write the shared state %s (%v): carrying on with this process's own "+
		"copy. rclone processes can't share listings and clocks meanwhile, so each lists folders afresh "+
		"and waits one interval of 1fichier's rules before its first listing of each folder (30 s) and "+
		"its first account info (5 min); nothing is uploaded twice because of it. Free some space "+
		"on (or give write access to) rclone's cache directory, or move it with --cache-dir", shared, cause)
	return true
}

// copyState writes the state file at path into file.
func copyState(path string, file *os.File) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: stateLockTimeout, ReadOnly: true})
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	return db.View(func(tx *bolt.Tx) error {
		_, err := tx.WriteTo(file)
		return err
	})
}

// dropAllListings deletes every key's stored listings but what our own
// changes added at or after since (keyTx.dropListingsBut).
func dropAllListings(tx *bolt.Tx, since time.Time) error {
	return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		if !hasPrefix(name, []byte("key:")) {
			return nil
		}
		return (&keyTx{tx: tx, b: b}).dropListingsBut(since)
	})
}

// damaged reports whether a panic inside a transaction comes from a
// damaged file: a fault reading its memory map (a truncated file), or
// bbolt's own checks of its pages. A bug of ours (a nil pointer or map,
// an index out of range) is a runtime error of another kind, and goes
// on up: only real damage sets a file aside.
func damaged(r any) bool {
	var rerr runtime.Error
	if err, ok := r.(error); ok && errors.As(err, &rerr) {
		fault, ok := rerr.(interface{ Addr() uintptr })
		// Below the first page is a nil pointer, not the map.
		return ok && fault.Addr() >= 4096
	}
	return true
}

// corruptStateError is a state file bbolt could not read.
type corruptStateError struct{ err error }

func (e *corruptStateError) Error() string { return "corrupt shared state: " + e.err.Error() }

// runOnce is one attempt of run. bbolt panics on some damaged pages, and
// reading a page past the end of a truncated file faults; both are turned
// into a corruptStateError too.
func (s *stateDB) runOnce(write bool, fn func(k *keyTx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	var db *bolt.DB
	defer func() {
		r := recover()
		if db != nil {
			if cerr := db.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("couldn't close the shared state file: %w", cerr)
			}
		}
		if r == nil {
			return
		}
		if !damaged(r) {
			panic(r)
		}
		err = &corruptStateError{err: fmt.Errorf("%v", r)}
	}()
	if db, err = s.open(); err != nil {
		return err
	}
	if !write {
		return db.View(func(tx *bolt.Tx) error { return fn(&keyTx{tx: tx, b: tx.Bucket(s.key)}) })
	}
	return db.Update(func(tx *bolt.Tx) error {
		if err := s.stampFile(tx, time.Now()); err != nil {
			return err
		}
		b, err := tx.CreateBucketIfNotExists(s.key)
		if err != nil {
			return err
		}
		return fn(&keyTx{tx: tx, b: b})
	})
}

// stampFile keeps the file bucket's stamps in a write transaction. A new
// file (no file bucket yet) where a state was known to exist (its
// marker, see seenPath) was lost: truncated, replaced after it was found
// corrupt, or deleted alone. It is stamped lost, and the limits then wait
// as if every clock had just been used. The written stamp catches a
// clock set back since the last write (see followClockStep).
func (s *stateDB) stampFile(tx *bolt.Tx, now time.Time) error {
	b := tx.Bucket(bucketFile)
	if b == nil {
		var err error
		if b, err = tx.CreateBucket(bucketFile); err != nil {
			return err
		}
		// In memory (plan9, js), every run starts as a lost state:
		// bolt.Open said so once.
		if bolt.InMemory || s.seenBefore() {
			if !bolt.InMemory {
				fs.Logf(nil, "fichier: the shared state %s was lost since the last run: every folder's first listing and "+
					"the account info wait one interval of 1fichier's rules, as they may just have been used", s.path)
			}
			if err := putTime(b, stampLost, now); err != nil {
				return err
			}
		}
		s.markSeen()
	}
	return followClockStep(tx, b, now)
}

// seenPath is the marker that a state file has existed at path: bbolt
// takes an empty (truncated) file for a new one, so the file alone
// cannot tell a lost state from a machine that never had one.
func (s *stateDB) seenPath() string { return s.seen }

// seenBefore reports whether the marker exists.
func (s *stateDB) seenBefore() bool {
	_, err := os.Stat(s.seenPath())
	return err == nil
}

// markSeen makes the marker. A failure only costs the careful start
// after a later loss.
func (s *stateDB) markSeen() {
	if err := os.WriteFile(s.seenPath(), nil, 0o600); err != nil {
		fs.Debugf(nil, "fichier: couldn't mark the shared state as made: %v", err)
	}
}

// clockStepTolerance is how far the last write's stamp may be ahead of
// now before the clock is taken as set back: every process of the
// machine reads the same clock, so only the order of their writes can
// put a stamp slightly ahead.
const clockStepTolerance = time.Second

// followClockStep moves every stored time back by as much as the clock
// was set back since the last write (NTP stepping it, or a state written
// while it was ahead), so the waits they define keep their length
// instead of growing by the step; then it stamps the write.
func followClockStep(tx *bolt.Tx, file *bolt.Bucket, now time.Time) error {
	written := getTime(file, stampWritten)
	if step := written.Sub(now); step > clockStepTolerance {
		fs.Logf(nil, "fichier: the clock was set back by %v since the shared state was last written: "+
			"moving its rate clocks back as much, so no wait lasts longer than 1fichier's rules say", step.Round(time.Second))
		if err := shiftTimes(tx, -step); err != nil {
			return err
		}
	} else if now.Sub(written) < clockStepTolerance/2 {
		// Fresh enough to tell a step of the tolerance: the write of a
		// page per transaction is saved.
		return nil
	}
	return putTime(file, stampWritten, now)
}

// shiftTimes adds d to every time stored in the file.
func shiftTimes(tx *bolt.Tx, d time.Duration) error {
	if err := shiftEach(tx.Bucket(bucketHost), shiftTime(d)); err != nil {
		return err
	}
	if err := shiftEach(tx.Bucket(bucketFile), shiftTime(d)); err != nil {
		return err
	}
	return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		if !hasPrefix(name, []byte("key:")) {
			return nil
		}
		shifts := []struct {
			bucket []byte
			shift  func(k, v []byte) []byte
		}{
			{bucketClocks, func(k, v []byte) []byte {
				if string(k) == string(clockFlood) {
					return shiftJSON(v, func(s *floodState) { s.LockedUntil, s.LastFlood = s.LockedUntil.Add(d), s.LastFlood.Add(d) })
				}
				return shiftTime(d)(k, v)
			}},
			{bucketListClock, shiftTime(d)},
			{bucketGone, shiftTime(d)},
			{bucketMeta, func(_, v []byte) []byte { return shiftJSON(v, func(m *listingMeta) { m.Fetched = m.Fetched.Add(d) }) }},
			{bucketTokens, func(_, v []byte) []byte { return shiftJSON(v, func(t *downloadToken) { t.Expires = t.Expires.Add(d) }) }},
			{bucketAnswers, func(_, v []byte) []byte { return shiftJSON(v, func(u *storedUserInfo) { u.At = u.At.Add(d) }) }},
			{bucketFiles, func(_, v []byte) []byte { return shiftJSON(v, func(f *storedFile) { f.Added = shiftSet(f.Added, d) }) }},
			{bucketDirs, func(_, v []byte) []byte { return shiftJSON(v, func(f *storedDir) { f.Added = shiftSet(f.Added, d) }) }},
			{bucketJournal, func(_, v []byte) []byte { return shiftJSON(v, func(e *journalEntry) { e.Sent = e.Sent.Add(d) }) }},
		}
		for _, s := range shifts {
			if err := shiftEach(b.Bucket(s.bucket), s.shift); err != nil {
				return err
			}
		}
		return nil
	})
}

// shiftEach replaces every value of b by what shift makes of it; nil
// keeps the value.
func shiftEach(b *bolt.Bucket, shift func(k, v []byte) []byte) error {
	if b == nil {
		return nil
	}
	var keys, values [][]byte
	err := b.ForEach(func(k, v []byte) error {
		if v == nil {
			return nil // a nested bucket
		}
		if nv := shift(k, v); nv != nil {
			keys, values = append(keys, bytes.Clone(k)), append(values, nv)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := range keys {
		if err := b.Put(keys[i], values[i]); err != nil {
			return err
		}
	}
	return nil
}

// shiftTime shifts a value stored by putTime.
func shiftTime(d time.Duration) func(k, v []byte) []byte {
	return func(_, v []byte) []byte {
		if len(v) != 8 {
			return nil
		}
		return encodeTime(decodeTime(v).Add(d))
	}
}

// shiftJSON decodes v as a T, shifts it and encodes it again.
func shiftJSON[T any](v []byte, shift func(*T)) []byte {
	var t T
	if json.Unmarshal(v, &t) != nil {
		return nil
	}
	shift(&t)
	out, err := json.Marshal(&t)
	if err != nil {
		return nil
	}
	return out
}

// shiftSet shifts t unless it is unset.
func shiftSet(t time.Time, d time.Duration) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Add(d)
}

// open opens the database file, making its private directory first.
func (s *stateDB) open() (*bolt.DB, error) {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("couldn't make the shared state directory: %w", err)
	}
	db, err := bolt.Open(s.path, 0o600, &bolt.Options{
		Timeout: stateLockTimeout,
		// The state is a cache of clocks and answers: a power cut may
		// lose the last writes, which the corrupt-file path covers.
		// Skipping fsync keeps a call's bookkeeping in microseconds.
		// The free list stays on disk: without it every open would scan
		// the whole file.
		NoSync: true,
	})
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, bolt.ErrTimeout):
		return nil, fmt.Errorf("another rclone process has held the shared state file %s for over %v: %w", s.path, stateLockTimeout, err)
	case unwritable(err), errors.Is(err, iofs.ErrNotExist):
		return nil, fmt.Errorf("couldn't open the shared state file: %w", err)
	default:
		return nil, &corruptStateError{err: err}
	}
}

// setAside moves an unreadable state file out of the way, keeping it
// for inspection.
func setAside(path string) error {
	if err := os.Rename(path, path+".corrupt"); err == nil || errors.Is(err, iofs.ErrNotExist) {
		return nil
	}
	return os.Remove(path)
}

// keyTx is one transaction on a key's buckets.
type keyTx struct {
	tx *bolt.Tx
	b  *bolt.Bucket // nil in a read-only transaction before the first write
}

// bucket returns the named sub-bucket, making it in a write transaction.
// It is nil in a read-only transaction when it does not exist yet.
func (k *keyTx) bucket(name []byte) *bolt.Bucket {
	if k.b == nil {
		return nil
	}
	b := k.b.Bucket(name)
	if !k.tx.Writable() {
		return b
	}
	if b == nil {
		var err error
		if b, err = k.b.CreateBucket(name); err != nil {
			panic(fmt.Sprintf("fichier: can't create state bucket %q: %v", name, err))
		}
	}
	// Listings are written in key order, folder by folder: fuller pages
	// keep the file small.
	b.FillPercent = 0.9
	return b
}

// hostBucket returns the bucket of the IP's clocks, whatever the key.
func (k *keyTx) hostBucket() *bolt.Bucket {
	if b := k.tx.Bucket(bucketHost); b != nil || !k.tx.Writable() {
		return b
	}
	b, err := k.tx.CreateBucket(bucketHost)
	if err != nil {
		panic(fmt.Sprintf("fichier: can't create state bucket %q: %v", bucketHost, err))
	}
	return b
}

// clock returns the key's clock name, or the zero time.
func (k *keyTx) clock(name []byte) time.Time {
	return getTime(k.bucket(bucketClocks), name)
}

// setClock stores the key's clock name.
func (k *keyTx) setClock(name []byte, t time.Time) error {
	return putTime(k.bucket(bucketClocks), name, t)
}

// hostClock returns the IP's clock name, or the zero time.
func (k *keyTx) hostClock(name []byte) time.Time {
	return getTime(k.hostBucket(), name)
}

// setHostClock stores the IP's clock name.
func (k *keyTx) setHostClock(name []byte, t time.Time) error {
	return putTime(k.hostBucket(), name, t)
}

// setEitherClock stores the IP's clock name when host is set, else the
// key's.
func (k *keyTx) setEitherClock(name []byte, host bool, t time.Time) error {
	if host {
		return k.setHostClock(name, t)
	}
	return k.setClock(name, t)
}

// timeScale returns the time scale the server told, 1 for none.
func (k *keyTx) timeScale() float64 {
	scale, _ := k.toldTimeScale()
	return scale
}

// toldTimeScale returns the time scale the server told and whether it
// told one (1 for none).
func (k *keyTx) toldTimeScale() (float64, bool) {
	var scale float64
	if getJSON(k.bucket(bucketServer), serverTimeScale, &scale) && scale > 0 {
		return scale, true
	}
	return 1, false
}

// setTimeScale stores the time scale the server told.
func (k *keyTx) setTimeScale(scale float64) error {
	return putJSON(k.bucket(bucketServer), serverTimeScale, scale)
}

// flood returns the flood gate's state.
func (k *keyTx) flood() (state floodState) {
	getJSON(k.bucket(bucketClocks), clockFlood, &state)
	return state
}

// setFlood stores the flood gate's state.
func (k *keyTx) setFlood(state floodState) error {
	return putJSON(k.bucket(bucketClocks), clockFlood, &state)
}

// listClock returns the earliest time of folderID's next listing.
func (k *keyTx) listClock(folderID int) time.Time {
	return getTime(k.bucket(bucketListClock), idKey(folderID))
}

// setListClock books folderID's next listing for t.
func (k *keyTx) setListClock(folderID int, t time.Time) error {
	return putTime(k.bucket(bucketListClock), idKey(folderID), t)
}

// listDeparture returns the earliest time a listing of folderID may
// leave, counted from when the last one left. It is kept beside the
// folder's booking clock, under its own key, and pruned once past.
func (k *keyTx) listDeparture(folderID int) time.Time {
	return getTime(k.bucket(bucketListClock), departureKey(folderID))
}

// setListDeparture sets the earliest time a listing of folderID may leave.
func (k *keyTx) setListDeparture(folderID int, t time.Time) error {
	return putTime(k.bucket(bucketListClock), departureKey(folderID), t)
}

// departureKey is folderID's key for its listing departures.
func departureKey(folderID int) []byte {
	return append([]byte("d"), idKey(folderID)...)
}

// lostAt returns when the state was found lost, or the zero time.
func (k *keyTx) lostAt() time.Time {
	return getTime(k.tx.Bucket(bucketFile), stampLost)
}

// putJournal records the upload request of session xid.
func (k *keyTx) putJournal(xid string, e *journalEntry) error {
	return putJSON(k.bucket(bucketJournal), append(idKey(e.Folder), xid...), e)
}

// deleteJournal drops the journal entry of session xid in folder.
func (k *keyTx) deleteJournal(folder int, xid string) error {
	return k.bucket(bucketJournal).Delete(append(idKey(folder), xid...))
}

// journalOf returns the journal entries of folder, by session ID.
func (k *keyTx) journalOf(folder int) map[string]journalEntry {
	entries := make(map[string]journalEntry)
	eachPrefix(k.bucket(bucketJournal), idKey(folder), func(xid, v []byte) {
		var e journalEntry
		if json.Unmarshal(v, &e) == nil {
			entries[string(xid)] = e
		}
	})
	return entries
}

// getJSON decodes the value at key of b into v, and reports whether
// there was one. A value that does not decode counts as absent.
func getJSON(b *bolt.Bucket, key []byte, v any) bool {
	if b == nil {
		return false
	}
	data := b.Get(key)
	return data != nil && json.Unmarshal(data, v) == nil
}

// putJSON stores v at key of b.
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// getTime returns the time stored at key of b, or the zero time.
func getTime(b *bolt.Bucket, key []byte) time.Time {
	if b == nil {
		return time.Time{}
	}
	return decodeTime(b.Get(key))
}

// decodeTime decodes a time stored by putTime, or returns the zero time.
func decodeTime(v []byte) time.Time {
	if len(v) != 8 {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(v)))
}

// putTime stores t at key of b.
func putTime(b *bolt.Bucket, key []byte, t time.Time) error {
	return b.Put(key, encodeTime(t))
}

// encodeTime is the stored form of t.
func encodeTime(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano()))
}

// fileKey and dirKey are the keys of a listing's entries.
func fileKey(folderID int, fileURL string) []byte {
	return append(idKey(folderID), fileURL...)
}

func dirKey(folderID, subID int) []byte {
	return append(idKey(folderID), idKey(subID)...)
}

// idKey is a folder ID as a key that sorts and prefixes well.
func idKey(id int) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(int64(id)))
}

// keyID is the folder ID at the start of a key made by idKey.
func keyID(key []byte) int {
	if len(key) < 8 {
		return 0
	}
	return int(int64(binary.BigEndian.Uint64(key)))
}

// deletePrefix deletes every key of b that starts with prefix.
func deletePrefix(b *bolt.Bucket, prefix []byte) error {
	var keys [][]byte
	eachPrefix(b, prefix, func(rest, _ []byte) {
		keys = append(keys, append(append([]byte(nil), prefix...), rest...))
	})
	return deleteAll(b, keys)
}

// deleteAll deletes keys from b. Keys are gathered first and deleted
// after: a cursor that deletes as it goes skips items.
func deleteAll(b *bolt.Bucket, keys [][]byte) error {
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// eachPrefix calls fn for every key of b starting with prefix, with the
// rest of the key after the prefix.
func eachPrefix(b *bolt.Bucket, prefix []byte, fn func(rest, value []byte)) {
	if b == nil {
		return
	}
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
		fn(k[len(prefix):], v)
	}
}

// hasPrefix reports whether b starts with prefix.
func hasPrefix(b, prefix []byte) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == string(prefix)
}

// privateTempFile makes a private state copy's file in the temporary
// directory, where memory-backed files are not to be had.
func privateTempFile() (*os.File, string, error) {
	file, err := os.CreateTemp("", "fichier-state-*.db")
	if err != nil {
		return nil, "", err
	}
	return file, file.Name(), nil
}

// Typed operations on a key's stored answers. Callers ask these
// questions; none of them touches a bucket or an encoding itself.

// token returns the stored download URL of fileURL.
func (k *keyTx) token(fileURL string) (t downloadToken, ok bool) {
	return t, getJSON(k.bucket(bucketTokens), []byte(fileURL), &t)
}

// setToken stores a download URL of fileURL.
func (k *keyTx) setToken(fileURL string, t downloadToken) error {
	return putJSON(k.bucket(bucketTokens), []byte(fileURL), &t)
}

// deleteToken drops the download URL of fileURL.
func (k *keyTx) deleteToken(fileURL string) error {
	return k.bucket(bucketTokens).Delete([]byte(fileURL))
}

// userInfo returns the stored user/info answer.
func (k *keyTx) userInfo() (u storedUserInfo, ok bool) {
	return u, getJSON(k.bucket(bucketAnswers), answerUserInfo, &u)
}

// setUserInfo stores the user/info answer.
func (k *keyTx) setUserInfo(u storedUserInfo) error {
	return putJSON(k.bucket(bucketAnswers), answerUserInfo, &u)
}

// listingMeta returns the header of folderID's stored listing.
func (k *keyTx) listingMeta(folderID int) (m listingMeta, ok bool) {
	return m, getJSON(k.bucket(bucketMeta), idKey(folderID), &m)
}

// setListingMeta stores the header of folderID's listing.
func (k *keyTx) setListingMeta(folderID int, m listingMeta) error {
	return putJSON(k.bucket(bucketMeta), idKey(folderID), &m)
}

// deleteListingMeta drops the header of folderID's listing: it has no
// stored listing then, whatever entries are left.
func (k *keyTx) deleteListingMeta(folderID int) error {
	return k.bucket(bucketMeta).Delete(idKey(folderID))
}

// eachEntry calls file for each stored file of folderID and dir for each
// stored subfolder, in key order.
func (k *keyTx) eachEntry(folderID int, file func(storedFile), dir func(storedDir)) {
	prefix := idKey(folderID)
	eachPrefix(k.bucket(bucketFiles), prefix, func(_, v []byte) {
		var f storedFile
		if json.Unmarshal(v, &f) == nil {
			file(f)
		}
	})
	eachPrefix(k.bucket(bucketDirs), prefix, func(_, v []byte) {
		var d storedDir
		if json.Unmarshal(v, &d) == nil {
			dir(d)
		}
	})
}

// putFileEntry stores a file of folderID's listing.
func (k *keyTx) putFileEntry(folderID int, f *storedFile) error {
	return putJSON(k.bucket(bucketFiles), fileKey(folderID, f.URL), f)
}

// deleteFileEntry drops the file fileURL from folderID's listing.
func (k *keyTx) deleteFileEntry(folderID int, fileURL string) error {
	return k.bucket(bucketFiles).Delete(fileKey(folderID, fileURL))
}

// putDirEntry stores a subfolder of folderID's listing.
func (k *keyTx) putDirEntry(folderID int, d *storedDir) error {
	return putJSON(k.bucket(bucketDirs), dirKey(folderID, d.ID), d)
}

// deleteDirEntry drops the subfolder subID from folderID's listing.
func (k *keyTx) deleteDirEntry(folderID, subID int) error {
	return k.bucket(bucketDirs).Delete(dirKey(folderID, subID))
}

// clearEntries drops every stored entry of folderID.
func (k *keyTx) clearEntries(folderID int) error {
	for _, name := range [][]byte{bucketFiles, bucketDirs} {
		if err := deletePrefix(k.bucket(name), idKey(folderID)); err != nil {
			return err
		}
	}
	return nil
}

// clearListedEntries drops the stored entries of folderID but what our
// own changes added at or after since. Those may be missing from the
// folder's next listing (listingLag), whose store keeps them (lateChanges);
// without a listing they go later, as entries of a folder with no listing
// (orphan).
func (k *keyTx) clearListedEntries(folderID int, since time.Time) error {
	return k.deleteEntriesBefore(idKey(folderID), since)
}

// deleteEntriesBefore deletes the file and folder entries under prefix
// (every folder's for none) but those our own changes added at or after
// since; an entry a listing showed has no such time and goes.
func (k *keyTx) deleteEntriesBefore(prefix []byte, since time.Time) error {
	for _, name := range [][]byte{bucketFiles, bucketDirs} {
		b := k.bucket(name)
		var old [][]byte
		eachPrefix(b, prefix, func(rest, v []byte) {
			if !ownSince(v, since) {
				old = append(old, append(bytes.Clone(prefix), rest...))
			}
		})
		for _, key := range old {
			if err := b.Delete(key); err != nil {
				return err
			}
		}
	}
	return nil
}

// ownSince reports whether the stored entry v is one our own change
// added at or after since. Most entries come from fetched listings and
// carry no "a" key at all (ownChange omits the zero time); they are told
// without decoding, as pruning reads thousands in one transaction. The
// bytes "a": can only be that key: JSON escapes a quote inside a string.
func ownSince(v []byte, since time.Time) bool {
	if !bytes.Contains(v, []byte(`"a":`)) {
		return false
	}
	var own ownChange
	return json.Unmarshal(v, &own) == nil && !own.Added.Before(since)
}

// removedSince returns the removal marks of folderID made at or after
// since, by goneName.
func (k *keyTx) removedSince(folderID int, since time.Time) map[string]bool {
	gone := make(map[string]bool)
	eachPrefix(k.bucket(bucketGone), idKey(folderID), func(rest, v []byte) {
		if t := decodeTime(v); !t.Before(since) {
			gone[string(rest)] = true
		}
	})
	return gone
}

// setRemoved marks name (see goneName) as removed from folderID at at,
// or, with the zero time, drops its mark.
func (k *keyTx) setRemoved(folderID int, name string, at time.Time) error {
	key := append(idKey(folderID), name...)
	if at.IsZero() {
		return k.bucket(bucketGone).Delete(key)
	}
	return putTime(k.bucket(bucketGone), key, at)
}

// dropAnswers deletes everything stored for the key: listings, account
// info and download URLs, and with clocks also the rate clocks and flood
// state.
func (k *keyTx) dropAnswers(clocks bool) error {
	names := [][]byte{bucketMeta, bucketFiles, bucketDirs, bucketGone, bucketTokens, bucketAnswers}
	if clocks {
		names = append(names, bucketClocks, bucketListClock)
	}
	return k.dropBuckets(names...)
}

// dropListings deletes every stored listing of the key.
func (k *keyTx) dropListings() error {
	return k.dropBuckets(bucketMeta, bucketFiles, bucketDirs)
}

// dropListingsBut deletes every stored listing of the key but the
// entries our own changes added at or after since, which a listing
// fetched afresh may not show yet (clearListedEntries).
func (k *keyTx) dropListingsBut(since time.Time) error {
	if err := k.deleteEntriesBefore(nil, since); err != nil {
		return err
	}
	return k.dropBuckets(bucketMeta)
}

// dropBuckets deletes the named buckets of the key, all they hold.
func (k *keyTx) dropBuckets(names ...[]byte) error {
	for _, name := range names {
		if k.b.Bucket(name) == nil {
			continue
		}
		if err := k.b.DeleteBucket(name); err != nil {
			return err
		}
	}
	return nil
}

// eachJournal calls fn with every journal entry of the key and its
// session ID. Read only.
func (k *keyTx) eachJournal(fn func(xid string, e journalEntry)) {
	b := k.bucket(bucketJournal)
	if b == nil {
		return
	}
	_ = b.ForEach(func(key, v []byte) error {
		var e journalEntry
		if len(key) >= len(idKey(0)) && json.Unmarshal(v, &e) == nil {
			fn(string(key[len(idKey(0)):]), e)
		}
		return nil
	})
}

// subfolders returns the subfolders of folderID's stored listing. Read
// only.
func (k *keyTx) subfolders(folderID int) (dirs []storedDir) {
	k.eachEntry(folderID, func(storedFile) {}, func(d storedDir) { dirs = append(dirs, d) })
	return dirs
}

// logStateError reports a failure to share something that only saves
// calls: the work goes on without it.
func logStateError(err error) {
	if err == nil {
		return
	}
	if !stateErrorTold.Swap(true) {
		fs.Logf(nil, "fichier: couldn't update the shared state (other rclone processes may list or wait "+
			"again; later errors are logged at DEBUG): %v", err)
		return
	}
	fs.Debugf(nil, "fichier: couldn't update the shared state: %v", err)
}

// stateErrorTold is set once a state error was logged at NOTICE.
var stateErrorTold atomic.Bool

// claimPruning stamps the start of a pruning pass at now and reports
// true, unless the last pass started less than every ago.
func (k *keyTx) claimPruning(now time.Time, every time.Duration) (bool, error) {
	b := k.tx.Bucket(bucketFile)
	if now.Sub(getTime(b, stampPruned)) < every {
		return false, nil
	}
	return true, putTime(b, stampPruned, now)
}

// pruneRule says what a pruning pass drops, and how many entries one
// of its transactions looks at.
type pruneRule struct {
	listedBefore time.Time // listings fetched before this
	goneBefore   time.Time // removal marks, and entries of folders with no listing, older than this
	now          time.Time // listing clocks and download URLs past this
	step         int       // entries per transaction
	listingStep  int       // listings per transaction: each may hold 5000 files
}

// pruneDrop reports whether the entry key, value v, of the bucket it is
// asked about is to go.
type pruneDrop func(k *keyTx, key, v []byte) (bool, error)

// prune deletes what rule says to, bucket by bucket, each step in a
// transaction of its own, so the lock is never held long.
func (s *stateDB) prune(rule pruneRule) error {
	stages := []struct {
		bucket []byte
		step   int
		drop   pruneDrop
	}{
		{bucketMeta, rule.listingStep, rule.oldListing},
		{bucketFiles, rule.step, func(k *keyTx, key, v []byte) (bool, error) {
			var f storedFile
			return json.Unmarshal(v, &f) != nil || orphan(k, key, f.Added, rule.goneBefore), nil
		}},
		{bucketDirs, rule.step, func(k *keyTx, key, v []byte) (bool, error) {
			var d storedDir
			return json.Unmarshal(v, &d) != nil || orphan(k, key, d.Added, rule.goneBefore), nil
		}},
		{bucketGone, rule.step, func(_ *keyTx, _, v []byte) (bool, error) {
			return decodeTime(v).Before(rule.goneBefore), nil
		}},
		{bucketListClock, rule.step, func(_ *keyTx, _, v []byte) (bool, error) {
			return rule.now.After(decodeTime(v)), nil
		}},
		{bucketTokens, rule.step, func(_ *keyTx, _, v []byte) (bool, error) {
			var t downloadToken
			return json.Unmarshal(v, &t) != nil || rule.now.After(t.Expires), nil
		}},
	}
	for _, stage := range stages {
		if err := s.pruneBucket(stage.bucket, stage.step, stage.drop); err != nil {
			return err
		}
	}
	return nil
}

// oldListing drops the stored listing at key, header v, when it was
// fetched before the rule's listedBefore, with its entries but what our
// own changes added since goneBefore (clearListedEntries).
func (rule pruneRule) oldListing(k *keyTx, key, v []byte) (bool, error) {
	var meta listingMeta
	if json.Unmarshal(v, &meta) == nil && !meta.Fetched.Before(rule.listedBefore) {
		return false, nil
	}
	return true, k.clearListedEntries(keyID(key), rule.goneBefore)
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
func (s *stateDB) pruneBucket(name []byte, step int, drop pruneDrop) error {
	var from []byte
	for {
		var next []byte
		err := s.update(func(k *keyTx) error {
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
func pruneFrom(k *keyTx, b *bolt.Bucket, from []byte, step int, drop pruneDrop) (next []byte, err error) {
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
