package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/jzelinskie/whirlpool"
	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// whirlpoolHex is the checksum 1fichier shows for data.
func whirlpoolHex(data []byte) string {
	h := whirlpool.New()
	_, _ = h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// TestCopyListsEachFolderOnce copies a tree of new files and checks
// the design's promise: each folder is listed at most once (our own
// uploads keep the listing up to date), and each upload request costs
// exactly get_upload_server, upload.cgi and end.pl, whether it carries
// one file or a batch of a folder's files.
func TestCopyListsEachFolderOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := t.TempDir()
	names := writeTree(t, src, []string{"", "a", "a/b"}, 10, 1)

	// An existing destination folder: the copy must list it, once.
	h.ok("mkdir", remote+":dst")
	h.emu.ResetStats(t)
	h.ok("copy", src, remote+":dst")
	s := h.stats()
	n := int64(len(names))
	requests := uploads(s)
	assert.Positive(t, requests)
	assert.LessOrEqual(t, requests, n, "upload.cgi calls: at most one per file")
	assert.Equal(t, requests, s.Calls["end.pl"], "one end.pl per upload request")
	assert.Equal(t, requests, s.Calls["upload/get_upload_server.cgi"], "one get_upload_server.cgi per upload request")
	assert.Equal(t, int64(2), s.Calls["folder/mkdir.cgi"], "mkdir calls (a and a/b)")
	// The account root (to find dst) and dst: the new folders a and a/b
	// are known to be empty, so they are never listed.
	assert.Equal(t, int64(2), listings(s), "listings: %v", s.Calls)
	assert.Zero(t, s.FloodLocks, "flood locks")
	assert.Equal(t, 3*requests+2+2, s.Total(), "every call: %v", s.Calls)

	got := h.lsjson(remote + ":dst")
	require.Len(t, got, len(names))
	for _, e := range got {
		data, err := os.ReadFile(filepath.Join(src, e.Path))
		require.NoError(t, err)
		assert.Equal(t, whirlpoolHex(data), e.Hashes["whirlpool"], e.Path)
	}
}

// TestNoOpSyncListsEachFolderOnce re-syncs an unchanged tree from fresh
// processes: with and without --checksum, each folder is listed once
// and nothing else is called (the Whirlpool comes with the listing, so
// --checksum costs no download and no extra call).
func TestNoOpSyncListsEachFolderOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := t.TempDir()
	writeTree(t, src, []string{"", "x", "x/y", "z"}, 5, 2)
	h.ok("sync", src, remote+":tree")

	for _, extra := range [][]string{nil, {"--checksum"}} {
		h.emu.ResetStats(t)
		h.ok(append([]string{"sync", src, remote + ":tree"}, extra...)...)
		s := h.stats()
		// The account root (to find "tree"), then tree, x, x/y and z.
		assert.Equal(t, int64(5), listings(s), "listings with %v: %v", extra, s.Calls)
		assert.Equal(t, listings(s), s.Total(), "only listings with %v: %v", extra, s.Calls)
	}

	// --checksum notices a change of content at the same size, which a
	// size-only comparison cannot (1fichier keeps no modification time).
	changed := filepath.Join(src, "x", "file000.bin")
	data, err := os.ReadFile(changed)
	require.NoError(t, err)
	data[0] ^= 0xff
	require.NoError(t, os.WriteFile(changed, data, 0o644))
	h.emu.ResetStats(t)
	h.ok("sync", "--checksum", src, remote+":tree")
	s := h.stats()
	assert.Equal(t, int64(1), uploads(s), "only the changed file is uploaded: %v", s.Calls)
	assert.Equal(t, int64(1), s.Calls["file/rm.cgi"], "the old version is removed: %v", s.Calls)
	assert.Zero(t, s.Calls["download/get_token.cgi"], "no download for checksums")
	h.ok("check", src, remote+":tree")
}

// TestCheckFindsDifferences checks a clean copy, then one with a changed,
// a missing and an extra file.
func TestCheckFindsDifferences(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := t.TempDir()
	writeTree(t, src, []string{"", "d"}, 4, 3)
	h.ok("copy", src, remote+":c")
	h.emu.ResetStats(t)
	h.ok("check", src, remote+":c")
	s := h.stats()
	assert.Equal(t, int64(3), listings(s), "root, c and c/d: %v", s.Calls)
	assert.Equal(t, listings(s), s.Total(), "check by Whirlpool costs no download: %v", s.Calls)

	require.NoError(t, os.WriteFile(filepath.Join(src, "file000.bin"), []byte("changed content"), 0o644))
	require.NoError(t, os.Remove(filepath.Join(src, "d", "file001.bin")))
	require.NoError(t, os.WriteFile(filepath.Join(src, "new.txt"), []byte("new"), 0o644))
	res := h.fails(nil, "check", src, remote+":c")
	assert.Contains(t, res.Stderr, "file000.bin")
	assert.Contains(t, res.Stderr, "new.txt")
	assert.Contains(t, res.Stderr, "d/file001.bin")
	assert.Contains(t, res.Stderr, "3 differences found")
}

// TestMove moves local files to the remote (the sources go), then moves
// a folder's files within the remote, which must happen server side.
func TestMove(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := t.TempDir()
	names := writeTree(t, src, []string{"", "m"}, 3, 4)
	h.ok("move", src, remote+":moved")
	for _, name := range names {
		_, err := os.Stat(filepath.Join(src, name))
		assert.True(t, os.IsNotExist(err), "%s still in the source", name)
	}
	assert.Len(t, h.lsjson(remote+":moved"), len(names))

	h.emu.ResetStats(t)
	h.ok("move", remote+":moved/m", remote+":elsewhere/m")
	s := h.stats()
	assert.Zero(t, uploads(s), "a move within the account uploads nothing: %v", s.Calls)
	assert.Zero(t, s.Calls["download/get_token.cgi"], "nor downloads: %v", s.Calls)
	assert.Equal(t, int64(1), s.Calls["folder/mv.cgi"], "the folder moves in one call: %v", s.Calls)
	assert.Zero(t, s.Calls["file/mv.cgi"], "not file by file: %v", s.Calls)
	assert.Len(t, h.lsjson(remote+":elsewhere"), 3)
	assert.Len(t, h.lsjson(remote+":moved"), 3)
}

// TestDedupe makes duplicate names the way another client would (the
// upload API without a check), then lets rclone dedupe them: identical
// copies collapse to one, differing ones keep the largest.
func TestDedupe(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("mkdir", remote+":dup")
	id := h.folderID("dup")
	same := []byte("same content")
	h.uploadRaw(id, "same.txt", same)
	h.uploadRaw(id, "same.txt", same)
	h.uploadRaw(id, "same.txt", same)
	h.uploadRaw(id, "diff.txt", []byte("short"))
	h.uploadRaw(id, "diff.txt", []byte("the longest of the three"))
	h.uploadRaw(id, "diff.txt", []byte("medium one"))
	h.uploadRaw(id, "single.txt", []byte("alone"))
	require.Len(t, h.lsjson(remote+":dup"), 7, "the duplicates are visible")

	h.emu.ResetStats(t)
	h.ok("dedupe", "--dedupe-mode", "largest", remote+":dup")
	s := h.stats()
	assert.Equal(t, int64(4), s.Calls["file/rm.cgi"], "one delete per extra copy: %v", s.Calls)

	got := h.lsjson(remote + ":dup")
	sort.Slice(got, func(i, j int) bool { return got[i].Path < got[j].Path })
	require.Len(t, got, 3)
	assert.Equal(t, []string{"diff.txt", "same.txt", "single.txt"}, []string{got[0].Path, got[1].Path, got[2].Path})
	assert.Equal(t, int64(len("the longest of the three")), got[0].Size)
	assert.Equal(t, "the longest of the three", h.ok("cat", remote+":dup/diff.txt"))
}

// TestRcatUnknownSize streams data of unknown size (rclone spools it to
// a temporary file of its own to learn the length 1fichier needs: the
// backend has no PutStream) and reads it back.
func TestRcatUnknownSize(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	data := randomBytes(3<<20+17, 5)
	in := filepath.Join(t.TempDir(), "in")
	require.NoError(t, os.WriteFile(in, data, 0o644))
	f, err := os.Open(in)
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	// Above the streaming cutoff, so rclone does not buffer it in memory
	// but spools it, then gives the backend the size.
	h.emu.ResetStats(t)
	cmd := h.command("rcat", "--streaming-upload-cutoff", "1k", remote+":stream/data.bin")
	cmd.Stdin = f
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	s := h.stats()
	assert.Equal(t, int64(1), uploads(s), "one upload: %v", s.Calls)

	got := h.ok("cat", remote+":stream/data.bin")
	assert.Equal(t, sha256.Sum256(data), sha256.Sum256([]byte(got)), "content read back")
	sum := h.ok("hashsum", "whirlpool", remote+":stream/data.bin")
	assert.Equal(t, whirlpoolHex(data)+"  data.bin\n", sum)
}

// TestLink gets a file's permanent URL and shares a folder, then reads
// the shared folder through the emulator's public page.
func TestLink(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "f.txt"), []byte("linked"), 0o644))
	h.ok("copy", src, remote+":shared")

	fileLink := strings.TrimSpace(h.ok("link", remote+":shared/f.txt"))
	assert.Regexp(t, regexp.MustCompile(`^https://1fichier\.com/\?[a-z0-9]{10}$`), fileLink)
	entries := h.lsjson(remote + ":shared")
	require.Len(t, entries, 1)
	assert.Equal(t, entries[0].ID, fileLink, "the link is the file's ID")

	dirLink := strings.TrimSpace(h.ok("link", remote+":shared"))
	require.Regexp(t, regexp.MustCompile(`^https://1fichier\.com/dir/[A-Za-z0-9]{8}$`), dirLink)
	shareID := dirLink[strings.LastIndex(dirLink, "/")+1:]
	res, err := http.Get(h.emu.URL + "/dir/" + shareID + "?json=1")
	require.NoError(t, err)
	defer func() { _ = res.Body.Close() }()
	var shared []api.SharedFile
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(body, &shared), "%s", body)
	require.Len(t, shared, 1)
	assert.Equal(t, "f.txt", shared[0].Filename)
	assert.Equal(t, fileLink, shared[0].Link)

	// The public folder is readable as a shared_folder remote, without
	// the key.
	got := h.run([]string{"RCLONE_CONFIG_PUB_TYPE=fichier", "RCLONE_CONFIG_PUB_SHARED_FOLDER=" + shareID, "RCLONE_CONFIG_PUB_API_URL=" + h.emu.APIURL}, "lsf", "pub:")
	require.Equal(t, 0, got.Code, got.Stderr)
	assert.Equal(t, "f.txt\n", got.Stdout)
}

// TestAbout reads the account's usage: the bytes stored, from one
// user/info.cgi call.
func TestAbout(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "a"), randomBytes(1000, 6), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "b"), randomBytes(2345, 7), 0o644))
	h.ok("copy", src, remote+":")
	h.emu.ResetStats(t)
	var usage struct {
		Used  *int64
		Total *int64
		Free  *int64
	}
	require.NoError(t, json.Unmarshal([]byte(h.ok("about", "--json", remote+":")), &usage))
	require.NotNil(t, usage.Used)
	assert.Equal(t, int64(3345), *usage.Used)
	if usage.Total != nil && usage.Free != nil {
		assert.Equal(t, *usage.Total-3345, *usage.Free)
	}
	s := h.stats()
	assert.Equal(t, int64(1), s.Calls["user/info.cgi"], "%v", s.Calls)
}
