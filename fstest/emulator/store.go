package emulator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
