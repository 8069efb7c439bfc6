package e2e

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/object"
	"github.com/rclone/rclone/fs/operations"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUnknownKeyFailsAtOnce: a wrong API key is a clear error and a
// non-zero exit after one refused call, not a retry loop.
func TestUnknownKeyFailsAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := h.fails([]string{"RCLONE_CONFIG_FE_API_KEY=not-a-key"}, "lsf", remote+":")
	assert.Contains(t, res.Stderr, "No such user")
	assert.Contains(t, res.Stderr, "check the api_key")
	s := h.stats()
	assert.Equal(t, int64(1), s.Total(), "calls: %v", s.Calls)
}

// TestFreeAccountFailsAtOnce: the API refuses accounts that are not
// Premium or Access; rclone says so after one call and exits non-zero.
func TestFreeAccountFailsAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "--offer", "free")
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "f"), []byte("data"), 0o644))
	res := h.fails(nil, "copy", src, remote+":x")
	assert.Contains(t, res.Stderr, "Must be a customer")
	assert.Contains(t, res.Stderr, "only open to Premium and Access")
	s := h.stats()
	assert.Equal(t, int64(1), s.Total(), "calls: %v", s.Calls)
}

// TestWrongSharePasswordFails: a password-protected shared folder read
// with the wrong folder_password gives a clear error after one request.
func TestWrongSharePasswordFails(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "secret.txt"), []byte("secret"), 0o644))
	h.ok("copy", src, remote+":private")
	id := h.folderID("private")
	var share struct {
		ShareID string `json:"share_id"`
		URL     string `json:"url"`
	}
	h.apiCall("folder/share.cgi", map[string]any{"folder_id": id, "share": 1, "pass": "right-password"}, &share)
	shareID := share.URL[strings.LastIndex(share.URL, "/")+1:]
	require.NotEmpty(t, shareID, "folder/share.cgi gave no URL")

	pub := func(password string) []string {
		return []string{
			"RCLONE_CONFIG_PUB_TYPE=fichier",
			"RCLONE_CONFIG_PUB_SHARED_FOLDER=" + shareID,
			"RCLONE_CONFIG_PUB_API_URL=" + h.emu.APIURL,
			"RCLONE_CONFIG_PUB_FOLDER_PASSWORD=" + strings.TrimSpace(h.ok("obscure", password)),
		}
	}
	wrong := pub("wrong-password")
	h.emu.ResetStats(t)
	res := h.fails(wrong, "lsf", "pub:")
	assert.Contains(t, res.Stderr, "refused folder_password")
	s := h.stats()
	assert.Equal(t, int64(1), s.Calls["dir"], "one request for the shared folder: %v", s.Calls)

	res = h.run(pub("right-password"), "lsf", "pub:")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, "secret.txt\n", res.Stdout)
}

// TestBadFilesFailCleanly copies a folder holding good files next to a
// 0-byte file and a name 1fichier refuses: the good files are stored,
// the bad ones are named in a clear error, the exit status is non-zero,
// and the bad ones cost no retry storm.
func TestBadFilesFailCleanly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "good1.txt"), []byte("one"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "good2.txt"), []byte("two"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "empty.txt"), nil, 0o644))
	// An encoding that lets $ through, which 1fichier refuses.
	require.NoError(t, os.WriteFile(filepath.Join(src, "it$s.txt"), []byte("dollar"), 0o644))
	h.ok("mkdir", remote+":bad")
	h.emu.ResetStats(t)
	res := h.fails(nil, "copy", src, remote+":bad", "--fichier-encoding", "Slash,Dot")
	assert.Contains(t, res.Stderr, "empty.txt")
	assert.Contains(t, res.Stderr, "can't upload empty files")
	assert.Contains(t, res.Stderr, "it$s.txt")
	assert.Contains(t, res.Stderr, "Invalid name", "1fichier's reason, from its error page")
	s := h.stats()
	t.Logf("calls: %v", s.Calls)
	// The two good files once each; the refused name once in all (a
	// refused name is not sent again by the process, whatever rclone's
	// --retries); the empty file never.
	assert.LessOrEqual(t, uploads(s), int64(2+1), "upload.cgi calls: %v", s.Calls)

	got := h.lsjson(remote + ":bad")
	var paths []string
	for _, e := range got {
		paths = append(paths, e.Path)
	}
	assert.ElementsMatch(t, []string{"good1.txt", "good2.txt"}, paths)
}

// shortReader is a source that promises more than it has.
type shortReader struct{ io.Reader }

// TestSourceEndingEarlyStoresNothing uploads from a source that ends
// before its announced size (a file truncated while being copied): the
// backend must not let the server store a short file, and must say why.
func TestSourceEndingEarlyStoresNothing(t *testing.T) {
	t.Parallel()
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "", nil)
	ctx := context.Background()
	data := randomBytes(4000, 21)
	src := object.NewStaticObjectInfo("short.bin", time.Now(), 10000, true, nil, nil)
	_, err := f.Put(ctx, shortReader{bytes.NewReader(data)}, src)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "short")
	assert.Zero(t, srv.FileCount(), "a truncated upload must store nothing")
	s := srv.Stats()
	assert.LessOrEqual(t, s.Calls["upload.cgi"], int64(1), "calls: %v", s.Calls)
}

// TestFileOverSizeLimitFailsOnce copies a file bigger than the account's
// per-file limit (made small in the emulator): rclone must give up
// after one refused upload, with the server's reason, and store nothing.
func TestFileOverSizeLimitFailsOnce(t *testing.T) {
	t.Parallel()
	opts := fichiertest.Options()
	opts.MaxFileSize = 1000
	srv := emulator.NewTestServer(t, opts)
	fdst := fichiertest.NewFs(t, srv, "", nil)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big.bin"), randomBytes(5000, 22), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "fits.bin"), randomBytes(500, 23), 0o644))
	ctx := context.Background()
	fsrc, err := fs.NewFs(ctx, dir)
	require.NoError(t, err)
	for _, name := range []string{"fits.bin", "big.bin"} {
		obj, err := fsrc.NewObject(ctx, name)
		require.NoError(t, err)
		_, err = operations.Copy(ctx, fdst, nil, name, obj)
		if name == "fits.bin" {
			require.NoError(t, err)
			continue
		}
		require.Error(t, err)
		assert.Contains(t, err.Error(), "File too big", "the server's refusal is passed on, with its reason")
	}
	s := srv.Stats()
	assert.Equal(t, int64(2), s.Calls["upload.cgi"], "one upload each, no retry of the refused one: %v", s.Calls)
	files, err := srv.Files(srv.Key, -1)
	require.NoError(t, err)
	require.Len(t, files, 1)
	assert.Equal(t, "fits.bin", files[0].Name)
}

// TestNewObjectNotFoundIsNil: a missing object comes back as a nil
// fs.Object, not a nil *Object inside the interface, which rclone code
// that drops the error (sync --track-renames) would take for an object.
func TestNewObjectNotFoundIsNil(t *testing.T) {
	t.Parallel()
	srv := emulator.NewTestServer(t, fichiertest.Options())
	f := fichiertest.NewFs(t, srv, "", nil)
	o, err := f.NewObject(context.Background(), "missing.txt")
	require.ErrorIs(t, err, fs.ErrorObjectNotFound)
	assert.True(t, o == nil, "NewObject returned %#v", o)
}
