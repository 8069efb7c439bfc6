package chaos

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jzelinskie/whirlpool"
)

// metaDoc is the part of the emulator's data directory's meta.json the
// checks read: what is stored where, with its Whirlpool. The emulator
// writes it after every change (write, then rename), so a read is
// always one consistent moment.
type metaDoc struct {
	Folders map[int64]*metaFolder `json:"folders"`
	Files   map[string]*metaFile  `json:"files"`
}

type metaFolder struct {
	ID     int64  `json:"id"`
	Owner  string `json:"owner"`
	Parent int64  `json:"parent"`
	Name   string `json:"name"`
}

type metaFile struct {
	ID        string    `json:"id"`
	Owner     string    `json:"owner"`
	Folder    int64     `json:"folder"`
	Name      string    `json:"name"`
	Size      int64     `json:"size"`
	Whirlpool string    `json:"whirlpool"`
	Visible   time.Time `json:"visible"` // listings show it from then on (--listing-delay)
}

// URL is the file's link, as the API takes it.
func (f *metaFile) URL() string { return "https://1fichier.com/?" + f.ID }

// readMeta reads the emulator's metadata from its data directory.
func readMeta(dataDir string) (*metaDoc, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "meta.json"))
	if errors.Is(err, os.ErrNotExist) {
		return &metaDoc{}, nil // nothing changed yet
	}
	if err != nil {
		return nil, err
	}
	var m metaDoc
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("meta.json: %w", err)
	}
	return &m, nil
}

// lastVisible is when the last stored file shows in listings.
func (m *metaDoc) lastVisible() time.Time {
	var last time.Time
	for _, f := range m.Files {
		if f.Visible.After(last) {
			last = f.Visible
		}
	}
	return last
}

// folderPath is the path of folder id of owner from the owner's root
// ("" for the root).
func (m *metaDoc) folderPath(owner string, id int64) string {
	var parts []string
	for f := m.Folders[id]; f != nil && f.Owner == owner; f = m.Folders[f.Parent] {
		parts = append([]string{f.Name}, parts...)
	}
	return strings.Join(parts, "/")
}

// stored returns owner's files by path.
func (m *metaDoc) stored(owner string) map[string][]*metaFile {
	files := map[string][]*metaFile{}
	for _, f := range m.Files {
		if f.Owner != owner {
			continue
		}
		p := f.Name
		if dir := m.folderPath(owner, f.Folder); dir != "" {
			p = dir + "/" + f.Name
		}
		files[p] = append(files[p], f)
	}
	return files
}

// folderID returns the ID of owner's folder at path.
func (m *metaDoc) folderID(owner, path string) (int64, bool) {
	for id, f := range m.Folders {
		if f.Owner == owner && m.folderPath(owner, id) == path {
			return id, true
		}
	}
	return 0, false
}

// subFolders returns the IDs of owner's folders under path (path's own
// included), deepest first.
func (m *metaDoc) subFolders(owner, path string) []int64 {
	var ids []int64
	for id, f := range m.Folders {
		p := m.folderPath(owner, id)
		if f.Owner == owner && (p == path || strings.HasPrefix(p, path+"/")) {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		return strings.Count(m.folderPath(owner, ids[i]), "/") > strings.Count(m.folderPath(owner, ids[j]), "/")
	})
	return ids
}

// hasher computes and keeps the Whirlpool of contents.
type hasher struct {
	seed int64
	mu   sync.Mutex
	sums map[Content]string
}

// sum returns the lowercase hex Whirlpool of c.
func (h *hasher) sum(c Content) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s, ok := h.sums[c]; ok {
		return s
	}
	w := whirlpool.New()
	_, _ = w.Write(c.Bytes(h.seed))
	s := hex.EncodeToString(w.Sum(nil))
	h.sums[c] = s
	return s
}

// checkTree compares what is stored under prefix (a worker's folder) to
// the worker's model: every file that must be there is there once with
// its Whirlpool, a file that may be missing is there at most once with
// its Whirlpool, and nothing else is there.
func (h *hasher) checkTree(stored map[string][]*metaFile, prefix string, tree Tree) []string {
	var bad []string
	for _, p := range sortedPaths(tree) {
		e, files := tree[p], stored[prefix+"/"+p]
		switch {
		case len(files) == 0 && !e.May:
			bad = append(bad, fmt.Sprintf("%s/%s: missing (want %s)", prefix, p, e.C))
		case len(files) > 1:
			bad = append(bad, fmt.Sprintf("%s/%s: stored %d times (want once: %s)", prefix, p, len(files), e.C))
		case len(files) == 1 && files[0].Whirlpool != h.sum(e.C):
			bad = append(bad, fmt.Sprintf("%s/%s: stored %d B with another Whirlpool (want %s)", prefix, p, files[0].Size, e.C))
		}
	}
	for p, files := range stored {
		rel, ok := strings.CutPrefix(p, prefix+"/")
		if _, known := tree[rel]; ok && !known {
			bad = append(bad, fmt.Sprintf("%s: stored (%d B, %d copies) where the workload put nothing", p, files[0].Size, len(files)))
		}
	}
	sort.Strings(bad)
	return bad
}

// checkStoredAt checks that path holds c at least once (what a command
// reported copied, or a moved file whose source is gone).
func (h *hasher) checkStoredAt(stored map[string][]*metaFile, path string, c Content) bool {
	for _, f := range stored[path] {
		if f.Whirlpool == h.sum(c) {
			return true
		}
	}
	return false
}

// strays returns owner's stored files outside every worker's folder.
func strays(stored map[string][]*metaFile, prefixes map[string]bool) []string {
	var bad []string
	for p, files := range stored {
		top, _, _ := strings.Cut(p, "/")
		if !prefixes[top] || !strings.Contains(p, "/") {
			bad = append(bad, fmt.Sprintf("%s: stored (%d B, %d copies) outside every worker's folder", p, files[0].Size, len(files)))
		}
	}
	sort.Strings(bad)
	return bad
}

func sortedPaths(t Tree) []string {
	paths := make([]string, 0, len(t))
	for p := range t {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}
