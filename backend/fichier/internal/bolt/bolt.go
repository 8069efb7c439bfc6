//go:build !plan9 && !js && !boltmemory

// Package bolt is the store of the backend's shared state: bbolt where
// the platform has the file locks and memory maps bbolt needs, and on
// plan9 and js, which have neither, a stand-in with the same API that
// keeps everything in the process's memory (memory.go), as rclone's
// lib/kv keeps bbolt behind the same build constraint.
package bolt

import (
	"os"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// InMemory reports whether the state lives in this process's memory
// only (on plan9 and js); here it is a file shared by every process.
const InMemory = false

// DB is an open state file.
type DB = bbolt.DB

// Tx is a transaction on a DB.
type Tx = bbolt.Tx

// Bucket is a collection of keys and values, and of other buckets.
type Bucket = bbolt.Bucket

// Cursor walks a bucket's keys in order.
type Cursor = bbolt.Cursor

// Options are the options of Open.
type Options = bbolt.Options

// ErrTimeout is Open's error when another process held the file's lock
// for longer than Options.Timeout.
var ErrTimeout = bolterrors.ErrTimeout

// Open opens the state file at path, making it if needed.
func Open(path string, mode os.FileMode, options *Options) (*DB, error) {
	return bbolt.Open(path, mode, options)
}
