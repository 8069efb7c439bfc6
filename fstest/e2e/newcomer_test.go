package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFileCommandsTakeTheFileInThePath runs the commands that act on a
// file with the file in the remote's path (remote:dir/file.txt), as the
// README shows them, and the password command on a folder given the
// same way; a missing file is an error naming both forms.
func TestFileCommandsTakeTheFileInThePath(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(src, "media"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "media", "m1.txt"), []byte("first file"), 0o644))
	h.ok("copy", src, remote+":backup")

	file := remote + ":backup/media/m1.txt"
	var prot struct {
		File     string `json:"file"`
		Password bool   `json:"password"`
	}
	require.NoError(t, json.Unmarshal([]byte(h.ok("backend", "password", file, "-o", "set=secret123")), &prot))
	assert.Equal(t, "m1.txt", prot.File)
	assert.True(t, prot.Password)
	h.ok("backend", "password", file, "-o", "clear")
	h.ok("backend", "acl", file, "-o", "country=FR,BE")
	var scan struct{ Status string }
	require.NoError(t, json.Unmarshal([]byte(h.ok("backend", "scan", file)), &scan))
	assert.NotEmpty(t, scan.Status)
	var tok struct{ URL string }
	require.NoError(t, json.Unmarshal([]byte(h.ok("backend", "token", file)), &tok))
	assert.NotEmpty(t, tok.URL)
	// The form with the file as an argument still works.
	h.ok("backend", "scan", remote+":backup/media", "m1.txt")

	var share struct {
		Folder string `json:"folder"`
		URL    string `json:"url"`
	}
	require.NoError(t, json.Unmarshal([]byte(h.ok("backend", "password", remote+":backup/media", "-o", "set=secret123")), &share))
	assert.Equal(t, "media", share.Folder)
	assert.NotEmpty(t, share.URL, "the folder is shared, with a password")

	res := h.fails(nil, "backend", "scan", remote+":backup/media/nothere.txt")
	assert.Contains(t, res.Stderr, `no file "nothere.txt"`)
	assert.Contains(t, res.Stderr, "remote:dir/file.txt, or as remote:dir file.txt")
	assert.NotContains(t, res.Stderr, "is a file not a directory")
}

// TestSyncWithEmptyFileIsNotRetried: an empty file's refusal is for
// good: rclone says so and runs the sync once, not three times; with
// --min-size 1B the sync leaves it out and deletes.
func TestSyncWithEmptyFileIsNotRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "keep.txt"), []byte("keep"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "gone.txt"), []byte("gone"), 0o644))
	h.ok("sync", src, remote+":s")
	require.NoError(t, os.Remove(filepath.Join(src, "gone.txt")))
	require.NoError(t, os.WriteFile(filepath.Join(src, "empty.txt"), nil, 0o644))

	res := h.fails(nil, "sync", src, remote+":s")
	assert.Contains(t, res.Stderr, "--min-size 1B")
	assert.Contains(t, res.Stderr, "Can't retry any of the errors")
	assert.NotContains(t, res.Stderr, "Attempt 2/")
	assert.Equal(t, "gone.txt\nkeep.txt\n", h.ok("lsf", remote+":s"), "nothing deleted after the error")

	h.ok("sync", src, remote+":s", "--min-size", "1B")
	assert.Equal(t, "keep.txt\n", h.ok("lsf", remote+":s"))
}

// sizeOnlyNotice is the start of the NOTICE that a copy or sync compares
// sizes only.
const sizeOnlyNotice = "files are compared by size only"

// TestSizeOnlyCompareIsNoticed: a copy or sync without --checksum is told
// once that it compares sizes only, and that --checksum costs no call; with
// --checksum, and in commands that copy nothing, nothing is said.
func TestSizeOnlyCompareIsNoticed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "a.txt"), []byte("aaaa"), 0o644))
	res := h.run(nil, "copy", src, remote+":n")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, 1, strings.Count(res.Stderr, sizeOnlyNotice), "once:\n%s", res.Stderr)
	assert.Contains(t, res.Stderr, "--checksum")
	assert.Contains(t, res.Stderr, "costs no API call")

	// Both ends on 1fichier: still once.
	res = h.run(nil, "sync", remote+":n", remote+":m")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, 1, strings.Count(res.Stderr, sizeOnlyNotice), "once:\n%s", res.Stderr)

	for _, args := range [][]string{
		{"sync", src, remote + ":n", "--checksum"},
		{"copy", src, remote + ":n", "--size-only"},
		{"lsf", remote + ":n"},
		{"check", src, remote + ":n"},
	} {
		res = h.run(nil, args...)
		require.Equal(t, 0, res.Code, "%v: %s", args, res.Stderr)
		assert.NotContains(t, res.Stderr, sizeOnlyNotice, "%v", args)
	}
}

// TestStatusCommand runs "rclone backend status" after a copy: the text
// form and the JSON form show the folders copied to, with their listing
// clocks, and the state file.
func TestStatusCommand(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(src, "media"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "media", "m1.txt"), []byte("first file"), 0o644))
	h.ok("copy", src, remote+":backup")
	h.emu.ResetStats(t)

	text := h.ok("backend", "status", remote+":backup")
	assert.Contains(t, text, "flood lock: none")
	assert.Contains(t, text, "media [")
	var st struct {
		StateFile     string `json:"state_file"`
		StateFileSize int64  `json:"state_file_size"`
		FloodLocked   bool   `json:"flood_locked"`
		Folders       []struct {
			Path   string
			Listed string
			Files  int
		}
	}
	require.NoError(t, json.Unmarshal([]byte(h.ok("backend", "status", remote+":backup", "-o", "json")), &st))
	assert.False(t, st.FloodLocked)
	assert.FileExists(t, st.StateFile)
	assert.Positive(t, st.StateFileSize)
	require.Len(t, st.Folders, 2, "backup and backup/media: %+v", st.Folders)
	assert.Equal(t, "media", st.Folders[1].Path)
	assert.Equal(t, 1, st.Folders[1].Files)
	assert.NotEmpty(t, st.Folders[1].Listed)
	// Making the remote (rclone does it before any command) finds its
	// folder, with a fresh listing of the root when its slot is open;
	// the command itself calls nothing.
	s := h.stats()
	assert.Equal(t, s.Total(), listings(s), "only the remote's own lookups: %v", s.Calls)
	assert.LessOrEqual(t, listings(s), int64(2), "one per run at most: %v", s.Calls)
}
