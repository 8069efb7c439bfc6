package e2e

import (
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mountWait bounds how long a mount may take to appear or go away.
const mountWait = 20 * time.Second

// isMounted reports whether dir is a mount point.
func isMounted(t *testing.T, dir string) bool {
	t.Helper()
	mounted, err := fichiertest.IsMounted(dir)
	require.NoError(t, err)
	return mounted
}

// mount runs "rclone mount fe:<path> <dir>" with args until the test
// ends, and returns once dir is mounted.
func (h *harness) mount(path, dir string, args ...string) {
	t := h.t
	t.Helper()
	fusermount := fichiertest.RequireMount(t)
	logFile := filepath.Join(h.tmp, "mount.log")
	cmd := h.command(append([]string{"mount", remote + ":" + path, dir, "-v", "--log-file", logFile}, args...)...)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(mountWait):
			_ = cmd.Process.Kill()
			<-exited
		}
		if isMounted(t, dir) {
			_ = exec.Command(fusermount, "-uz", dir).Run()
		}
		if t.Failed() {
			log, _ := os.ReadFile(logFile)
			t.Logf("rclone mount log:\n%s", log)
		}
	})
	deadline := time.Now().Add(mountWait)
	for !isMounted(t, dir) {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logFile)
			t.Fatalf("rclone mount exited (%v):\n%s", err, log)
		default:
		}
		require.True(t, time.Now().Before(deadline), "%s not mounted after %v", dir, mountWait)
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMount uses the remote as a drive through rclone mount (no VFS
// cache, so every write is an upload when the file is closed and every
// read a ranged download): write, list, read back, rename, delete, then
// sequential and random reads of a large file uploaded beforehand. A fresh rclone process
// then checks what the server holds.
func TestMount(t *testing.T) {
	fichiertest.RequireMount(t)
	t.Parallel()
	h := newHarness(t)
	// The large file is uploaded beforehand: with no VFS cache, rclone
	// mount takes only strictly sequential writes, and the kernel may
	// send a large file's writes out of order (seen here under load:
	// "bad file descriptor"). Small files are one write each.
	big := randomBytes(24<<20+123, 12)
	bigLocal := filepath.Join(h.tmp, "big.bin")
	require.NoError(t, os.WriteFile(bigLocal, big, 0o644))
	h.ok("copyto", bigLocal, remote+":drive/big.bin")
	dir := filepath.Join(h.tmp, "mnt")
	require.NoError(t, os.Mkdir(dir, 0o755))
	h.mount("drive", dir, "--vfs-cache-mode", "off", "--dir-cache-time", "1h")

	// Write, through the kernel, and list.
	hello := []byte("hello through the mount\n")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hello.txt"), hello, 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	small := randomBytes(100_000, 11)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "small.bin"), small, 0o644))
	assert.Equal(t, []string{"big.bin", "hello.txt", "sub"}, readDirNames(t, dir))

	// Read back.
	got, err := os.ReadFile(filepath.Join(dir, "hello.txt"))
	require.NoError(t, err)
	assert.Equal(t, hello, got)

	// Rename across folders (a server-side move), then delete.
	h.emu.ResetStats(t)
	require.NoError(t, os.Rename(filepath.Join(dir, "hello.txt"), filepath.Join(dir, "sub", "renamed.txt")))
	s := h.stats()
	assert.Equal(t, int64(1), s.Calls["file/mv.cgi"], "a rename is one server-side move: %v", s.Calls)
	assert.Zero(t, uploads(s), "a rename uploads nothing: %v", s.Calls)
	assert.Equal(t, []string{"renamed.txt", "small.bin"}, readDirNames(t, filepath.Join(dir, "sub")))
	got, err = os.ReadFile(filepath.Join(dir, "sub", "renamed.txt"))
	require.NoError(t, err)
	assert.Equal(t, hello, got)
	require.NoError(t, os.Remove(filepath.Join(dir, "sub", "small.bin")))
	assert.Equal(t, []string{"renamed.txt"}, readDirNames(t, filepath.Join(dir, "sub")))

	// The large file read back whole, then in random pieces (each a
	// ranged request on the download host).
	bigPath := filepath.Join(dir, "big.bin")
	h.emu.ResetStats(t)
	f, err := os.Open(bigPath)
	require.NoError(t, err)
	sum := sha256.New()
	n, err := io.Copy(sum, f)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	assert.Equal(t, int64(len(big)), n)
	assert.Equal(t, sha256.Sum256(big), [sha256.Size]byte(sum.Sum(nil)), "sequential read")

	f, err = os.Open(bigPath)
	require.NoError(t, err)
	rnd := rand.New(rand.NewSource(13))
	buf := make([]byte, 256<<10)
	for range 40 {
		off := rnd.Int63n(int64(len(big)))
		size := 1 + rnd.Intn(len(buf))
		n, err := f.ReadAt(buf[:size], off)
		if err != io.EOF {
			require.NoError(t, err)
		}
		want := big[off:min(off+int64(size), int64(len(big)))]
		require.Equal(t, len(want), n, "read of %d at %d", size, off)
		require.True(t, bytes.Equal(want, buf[:n]), "random read of %d bytes at %d differs", size, off)
	}
	require.NoError(t, f.Close())
	s = h.stats()
	assert.Positive(t, s.Calls["download"], "reads come from the download host")
	// The download URL is reused for every read of the file while it
	// is valid, instead of one get_token.cgi per request.
	assert.Equal(t, int64(1), s.Calls["download/get_token.cgi"], "one download token for all the reads: %v", s.Calls)
	assert.Zero(t, s.FloodLocks, "flood locks")

	// What the server holds, seen by a fresh process.
	entries := h.lsjson(remote + ":drive")
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
	require.Len(t, entries, 2)
	assert.Equal(t, "big.bin", entries[0].Path)
	assert.Equal(t, int64(len(big)), entries[0].Size)
	assert.Equal(t, whirlpoolHex(big), entries[0].Hashes["whirlpool"])
	assert.Equal(t, "sub/renamed.txt", entries[1].Path)
	assert.Equal(t, whirlpoolHex(hello), entries[1].Hashes["whirlpool"])
}

// readDirNames lists dir's names, sorted.
func readDirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}
