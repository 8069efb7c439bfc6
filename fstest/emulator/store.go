package emulator

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/jzelinskie/whirlpool"
)

// store keeps file contents ("blobs", which copies share) and the
// metadata document. There are two implementations: memory (the
// default) and a directory (Options.DataDir), so a demo survives a
// restart.
type store interface {
	// create starts writing a blob; nothing is visible until commit.
	create(blob string) (blobWriter, error)
	open(blob string) (blobReader, error)
	remove(blob string) error
	// loadMeta returns the saved metadata, or nil if there is none.
	loadMeta() ([]byte, error)
	saveMeta(b []byte) error
	// persistent reports whether saveMeta is worth calling.
	persistent() bool
}

type blobWriter interface {
	io.Writer
	commit() error
	abort()
}

type blobReader interface {
	io.ReadSeekCloser
}

var errNoBlob = errors.New("emulator: blob not found")

// Errors of Server.storeBlob, besides those of the reader it streams.
var (
	errBlobStorage = errors.New("storage error")
	errBlobTooBig  = errors.New("over the size limit")
)

// storedBlob is a blob committed to the store, with what was learnt
// while streaming it.
type storedBlob struct {
	id        string
	size      int64
	whirlpool string // lowercase hex
}

// storeBlob streams r into a new blob, computing its size and Whirlpool
// on the way; nothing is buffered whole except by the memory store. A
// stream longer than limit bytes (0 = no limit) is errBlobTooBig. On
// error nothing is left behind: a read error comes back as it is, a
// store failure wraps errBlobStorage.
func (s *Server) storeBlob(r io.Reader, limit int64) (storedBlob, error) {
	id := s.newBlobID()
	bw, err := s.store.create(id)
	if err != nil {
		return storedBlob{}, fmt.Errorf("%w: %v", errBlobStorage, err)
	}
	if limit > 0 {
		// Read one byte past the limit to detect an oversized stream.
		r = io.LimitReader(r, limit+1)
	}
	h := whirlpool.New()
	n, err := io.Copy(io.MultiWriter(bw, h), r)
	switch {
	case err != nil:
		bw.abort()
		return storedBlob{}, err
	case limit > 0 && n > limit:
		bw.abort()
		return storedBlob{}, errBlobTooBig
	}
	if err := bw.commit(); err != nil {
		return storedBlob{}, fmt.Errorf("%w: %v", errBlobStorage, err)
	}
	return storedBlob{id: id, size: n, whirlpool: hex.EncodeToString(h.Sum(nil))}, nil
}

// ---------------------------------------------------------------------
// Memory store

type memStore struct {
	mu    sync.Mutex
	blobs map[string][]byte
}

func newMemStore() *memStore { return &memStore{blobs: map[string][]byte{}} }

type memWriter struct {
	s    *memStore
	name string
	buf  bytes.Buffer
}

func (w *memWriter) Write(p []byte) (int, error) { return w.buf.Write(p) }

func (w *memWriter) commit() error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	w.s.blobs[w.name] = w.buf.Bytes()
	return nil
}

func (w *memWriter) abort() { w.buf = bytes.Buffer{} }

func (s *memStore) create(blob string) (blobWriter, error) {
	return &memWriter{s: s, name: blob}, nil
}

type memReader struct{ *bytes.Reader }

func (memReader) Close() error { return nil }

func (s *memStore) open(blob string) (blobReader, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.blobs[blob]
	if !ok {
		return nil, errNoBlob
	}
	return memReader{bytes.NewReader(b)}, nil
}

func (s *memStore) remove(blob string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.blobs, blob)
	return nil
}

func (s *memStore) loadMeta() ([]byte, error) { return nil, nil }
func (s *memStore) saveMeta([]byte) error     { return nil }
func (s *memStore) persistent() bool          { return false }

// ---------------------------------------------------------------------
// Directory store: DIR/meta.json and DIR/blobs/<blob>.

type dirStore struct {
	dir string
}

const metaFile = "meta.json"

func newDirStore(dir string) (*dirStore, error) {
	blobs := filepath.Join(dir, "blobs")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return nil, fmt.Errorf("emulator: data dir: %w", err)
	}
	// Uploads cut short by a crash leave partial files; they were never
	// committed, so they are garbage.
	entries, err := os.ReadDir(blobs)
	if err != nil {
		return nil, fmt.Errorf("emulator: data dir: %w", err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".part-") {
			_ = os.Remove(filepath.Join(blobs, e.Name()))
		}
	}
	return &dirStore{dir: dir}, nil
}

func (s *dirStore) blobPath(blob string) string {
	return filepath.Join(s.dir, "blobs", blob)
}

type dirWriter struct {
	f    *os.File
	dest string
}

func (w *dirWriter) Write(p []byte) (int, error) { return w.f.Write(p) }

func (w *dirWriter) commit() error {
	if err := w.f.Close(); err != nil {
		_ = os.Remove(w.f.Name())
		return err
	}
	return os.Rename(w.f.Name(), w.dest)
}

func (w *dirWriter) abort() {
	_ = w.f.Close()
	_ = os.Remove(w.f.Name())
}

func (s *dirStore) create(blob string) (blobWriter, error) {
	f, err := os.CreateTemp(filepath.Join(s.dir, "blobs"), blob+".part-*")
	if err != nil {
		return nil, err
	}
	return &dirWriter{f: f, dest: s.blobPath(blob)}, nil
}

func (s *dirStore) open(blob string) (blobReader, error) {
	f, err := os.Open(s.blobPath(blob))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoBlob
	}
	return f, err
}

func (s *dirStore) remove(blob string) error {
	err := os.Remove(s.blobPath(blob))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func (s *dirStore) loadMeta() ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, metaFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// saveMeta replaces the metadata atomically (write, then rename).
func (s *dirStore) saveMeta(b []byte) error {
	f, err := os.CreateTemp(s.dir, metaFile+".tmp-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), filepath.Join(s.dir, metaFile))
}

func (s *dirStore) persistent() bool { return true }
