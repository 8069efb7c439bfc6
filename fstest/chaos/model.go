package chaos

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand"
	"sort"
	"strings"
)

// Content is one file's content, named by how it was made: the worker,
// the name it was made for and a version. Its bytes and size follow from
// these and the seed alone, and a name's versions all have different
// sizes, so rclone (which compares sizes only: 1fichier keeps no
// modification time) always sees a new version as a change.
type Content struct {
	Worker  int
	Name    string
	Version int
}

// Size is the content's length in bytes.
func (c Content) Size() int64 {
	h := hash64(fmt.Sprintf("%d/%s", c.Worker, c.Name))
	base := int64(1000 + h%60000)
	if h%13 == 0 {
		base += 1 << 20 // now and then a file of over a MiB
	}
	return base + int64(c.Version)*1031
}

// Bytes is the content itself, from seed.
func (c Content) Bytes(seed int64) []byte {
	h := hash64(fmt.Sprintf("%d/%d/%s/%d", seed, c.Worker, c.Name, c.Version))
	b := make([]byte, c.Size())
	rand.New(rand.NewSource(int64(h))).Read(b)
	return b
}

// String names the content in a schedule: w1:a.bin#2 (12345 B).
func (c Content) String() string {
	return fmt.Sprintf("w%d:%s#%d(%dB)", c.Worker, c.Name, c.Version, c.Size())
}

func hash64(s string) uint64 {
	f := fnv.New64a()
	_, _ = f.Write([]byte(s))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], f.Sum64())
	return binary.BigEndian.Uint64(b[:])
}

// Entry is what the model expects at one remote path. May marks a file
// that may be missing (another client deleted it, or the workload
// deleted a file it may not have seen); if it is there, it is there once
// with this content. Ext marks a file another client put there, which
// the workload's processes may not have seen (their listings are
// allowed to be that old).
type Entry struct {
	C   Content
	May bool
	Ext bool
}

// Tree is the model of one worker's folder on the remote: paths relative
// to it ("a/d/f1.bin") and what each holds.
type Tree map[string]Entry

// under returns the paths of t under folder dir, sorted.
func (t Tree) under(dir string) []string {
	var paths []string
	for p := range t {
		if strings.HasPrefix(p, dir+"/") {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	return paths
}

// clone returns a copy of t.
func (t Tree) clone() Tree {
	c := make(Tree, len(t))
	for k, v := range t {
		c[k] = v
	}
	return c
}

// put records that the workload put c at path: a file it must find
// there, unless it is the same content as a file that may be missing
// (its listing may still show the file another client deleted, so it
// need not send it again).
func (t Tree) put(path string, e Entry) {
	old, ok := t[path]
	if ok && old.May && old.C == e.C {
		e.May = true
	}
	t[path] = e
}

// remove records that the workload deleted path: gone, unless another
// client put it there (the workload may not have seen it).
func (t Tree) remove(path string) {
	e, ok := t[path]
	if !ok {
		return
	}
	if e.Ext {
		e.May = true
		t[path] = e
		return
	}
	delete(t, path)
}

// Worker is the model of one worker: its local source tree and its
// folder on the remote. Only the worker's own commands and the
// scheduled changes of another client touch them, in a known order.
type Worker struct {
	ID       int
	Key      int // 1 or 2
	Local    map[string]Content
	Remote   Tree
	versions map[string]int
	counter  int // for unique names (moved batches, rcat, other client's files)
}

// NewWorker returns the empty model of worker id on key.
func NewWorker(id, key int) *Worker {
	return &Worker{ID: id, Key: key, Local: map[string]Content{}, Remote: Tree{}, versions: map[string]int{}}
}

// Name is the worker's folder at the account's root, and its name in
// the schedule: w1, w2...
func (w *Worker) Name() string { return fmt.Sprintf("w%d", w.ID) }

// Remote is the rclone remote of the worker's key: k1 or k2.
func (w *Worker) RemoteName() string { return fmt.Sprintf("k%d", w.Key) }

// newContent returns the next version of name.
func (w *Worker) newContent(name string) Content {
	w.versions[name]++
	return Content{Worker: w.ID, Name: name, Version: w.versions[name]}
}

// unique returns a new unique name with prefix.
func (w *Worker) unique(prefix string) string {
	w.counter++
	return fmt.Sprintf("%s%d", prefix, w.counter)
}

// mustFiles returns the paths under dir ("" for all) that must exist,
// made by the workload (not another client), sorted.
func (w *Worker) mustFiles(dir string) []string {
	var paths []string
	for p, e := range w.Remote {
		if !e.May && !e.Ext && (dir == "" || strings.HasPrefix(p, dir+"/")) {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	return paths
}

// hasFiles reports whether the model has any file under dir.
func (w *Worker) hasFiles(dir string) bool { return len(w.Remote.under(dir)) > 0 }
