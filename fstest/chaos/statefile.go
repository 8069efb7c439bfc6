package chaos

import (
	"context"
	"encoding/binary"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

// stateFiles returns the backend's state files under cacheDir (one per
// API host: backend/fichier/state.go).
func stateFiles(cacheDir string) []string {
	files, _ := filepath.Glob(filepath.Join(cacheDir, "fichier", "*.db"))
	return files
}

// holdLock holds the state file's lock for 1 to 3 s at a time, with
// gaps, until ctx ends: a slow disk's fsync, or a process stopped inside
// a transaction. bbolt locks the file with flock(2) for as long as a
// process has it open (the backend opens it for each transaction), so a
// flock of our own on another descriptor makes every process wait.
func holdLock(ctx context.Context, path string, rng *rand.Rand) (holds int, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	for ctx.Err() == nil {
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			return holds, err
		}
		holds++
		sleepCtx(ctx, time.Second+time.Duration(rng.Int63n(int64(2*time.Second))))
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN); err != nil {
			return holds, err
		}
		sleepCtx(ctx, 300*time.Millisecond+time.Duration(rng.Int63n(int64(1700*time.Millisecond))))
	}
	return holds, nil
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// StepClocks moves every clock in the state file at path by d and
// stamps its last write at now plus d: the state a machine whose clock
// was d ahead leaves behind (NTP then set it back). The layout is
// backend/fichier/state.go's: 8-byte Unix nanoseconds in the host
// bucket and in each key's clocks and listclock buckets.
func StepClocks(path string, d time.Duration) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 10 * time.Second})
	if err != nil {
		return err
	}
	shift := func(b *bolt.Bucket) error {
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return nil
			}
			at := time.Unix(0, int64(binary.BigEndian.Uint64(v))).Add(d)
			return b.Put(k, binary.BigEndian.AppendUint64(nil, uint64(at.UnixNano())))
		})
	}
	err = db.Update(func(tx *bolt.Tx) error {
		file, err := tx.CreateBucketIfNotExists([]byte("file"))
		if err != nil {
			return err
		}
		if err := file.Put([]byte("written"), binary.BigEndian.AppendUint64(nil, uint64(time.Now().Add(d).UnixNano()))); err != nil {
			return err
		}
		if err := shift(tx.Bucket([]byte("host"))); err != nil {
			return err
		}
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if !strings.HasPrefix(string(name), "key:") {
				return nil
			}
			if err := shift(b.Bucket([]byte("clocks"))); err != nil {
				return err
			}
			return shift(b.Bucket([]byte("listclock")))
		})
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}
