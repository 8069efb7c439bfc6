//go:build !windows

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Kill at every step: a copy (or a move) is killed with SIGKILL at each
// API call in turn, once right after the call did its work but before
// its answer came back, and once right after its answer (which is also
// before the next call), then run again at once. After every re-run each
// file is stored exactly once, and a move has deleted no source that is
// not stored.

// crashFlags make the copy batch its small files (the folders' batches
// and the big file alone) so every kind of call is on the way.
var crashFlags = []string{"--transfers", "8", "--fichier-batch-max-size", "32k"}

// crashTree writes the tree the crash tests copy: two folders of small
// files and a big file, and returns the files' paths and sizes.
func crashTree(t *testing.T, seed int64) (dir string, files map[string]int64) {
	t.Helper()
	dir = t.TempDir()
	files = make(map[string]int64)
	for _, name := range writeTree(t, dir, []string{"a", "b"}, 3, seed) {
		st, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err)
		files[name] = st.Size()
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big.bin"), randomBytes(100<<10, seed), 0o644))
	files["big.bin"] = 100 << 10
	return dir, files
}

// debug calls one of the emulator's /debug endpoints.
func (h *harness) debug(method, path string, body any, out any) {
	h.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		data, err := json.Marshal(body)
		require.NoError(h.t, err)
		rd = bytes.NewReader(data)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, h.emu.URL+path, rd)
	require.NoError(h.t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(h.t, err)
	defer func() { _ = resp.Body.Close() }()
	require.Equal(h.t, http.StatusOK, resp.StatusCode, "%s %s", method, path)
	if out != nil {
		require.NoError(h.t, json.NewDecoder(resp.Body).Decode(out))
	}
}

// stored returns how many files the server holds under dir, by path
// below it, and their sizes.
func (h *harness) stored(dir string) (count map[string]int, size map[string]int64) {
	var files []emulator.StoredFile
	h.debug(http.MethodGet, "/debug/files", nil, &files)
	count, size = make(map[string]int), make(map[string]int64)
	for _, f := range files {
		if rel, ok := strings.CutPrefix(f.Path, dir+"/"); ok {
			count[rel]++
			size[rel] = f.Size
		}
	}
	return count, size
}

// killedRun runs rclone with args, armed to be killed at call n at
// moment when, and reports whether the kill fired (else the command
// finished in fewer calls).
func (h *harness) killedRun(n int, when string, args ...string) bool {
	h.t.Helper()
	pidFile := filepath.Join(h.t.TempDir(), "pid")
	h.debug(http.MethodPost, "/debug/kill", emulator.KillRule{PIDFile: pidFile, Call: int64(n), When: when}, nil)
	cmd := h.Command(args...)
	// The shell writes its PID, which exec hands to rclone, before
	// rclone makes any call.
	cmd.Args = append([]string{"sh", "-c", `echo $$ > "$0"; exec "$@"`, pidFile, cmd.Path}, cmd.Args[1:]...)
	cmd.Path = "/bin/sh"
	err := cmd.Run()
	var status struct {
		Fired bool `json:"fired"`
	}
	h.debug(http.MethodDelete, "/debug/kill", nil, &status)
	if !status.Fired {
		require.NoError(h.t, err, "rclone %s, not killed", strings.Join(args, " "))
	}
	return status.Fired
}

// requireStoredOnce requires every file of want, and nothing else, to be
// stored exactly once under dir, with its size.
func (h *harness) requireStoredOnce(dir string, want map[string]int64, what string) {
	h.t.Helper()
	count, size := h.stored(dir)
	for name, n := range count {
		require.Equal(h.t, 1, n, "%s: %s stored %d times", what, name, n)
		require.Contains(h.t, want, name, "%s: %s stored but not in the source", what, name)
	}
	for name, n := range want {
		require.Equal(h.t, 1, count[name], "%s: %s not stored", what, name)
		require.Equal(h.t, n, size[name], "%s: %s size", what, name)
	}
}

// remaining returns the files left in dir.
func remaining(t *testing.T, dir string) map[string]bool {
	left := make(map[string]bool)
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			left[filepath.ToSlash(rel)] = true
		}
		return err
	}))
	return left
}

// crashMatrix kills op (copy or move) at every call and moment, runs it
// again at once each time, and checks what is stored.
func crashMatrix(t *testing.T, h *harness, op string) {
	for _, when := range []string{emulator.KillBeforeAnswer, emulator.KillAfterAnswer} {
		for n := 1; ; n++ {
			what := fmt.Sprintf("%s killed %s call %d", op, when, n)
			src, files := crashTree(t, int64(n))
			dst := fmt.Sprintf("crash/%s-%s-%d", op, when, n)
			fired := h.killedRun(n, when, append([]string{op, src, remote + ":" + dst}, crashFlags...)...)
			if op == "move" {
				// A source is deleted only once it is stored.
				count, _ := h.stored(dst)
				for name := range files {
					require.True(t, remaining(t, src)[name] || count[name] > 0, "%s: %s neither in the source nor stored", what, name)
				}
			}
			res := h.now(append([]string{op, src, remote + ":" + dst}, crashFlags...)...)
			require.Equal(t, 0, res.Code, "%s, then run again: %s", what, res.Stderr)
			h.requireStoredOnce(dst, files, what)
			if op == "move" {
				assert.Empty(t, remaining(t, src), "%s: every source moved", what)
			}
			if !fired {
				t.Logf("%s: %d calls in all", op, n-1)
				break
			}
		}
	}
	requireNoRuleBroken(t, h.stats())
}

func TestCopyKilledAtEveryCallStoresEachFileOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	crashMatrix(t, h, "copy")
}

// The move's matrix runs with listings that show new files late, as
// 1fichier's may: what a killed process sent can only be known from
// end.pl, not from a listing.
func TestMoveKilledAtEveryCallWithLaggingListingsStoresEachFileOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "--listing-delay", "2s")
	crashMatrix(t, h, "move")
}

// startMount runs "rclone mount fe:path dir" with the VFS write cache,
// its PID in pidFile, and waits until dir is mounted. The returned stop
// unmounts and waits for the process, however it ended.
func (h *harness) startMount(path, dir, pidFile string) (stop func()) {
	t := h.t
	t.Helper()
	fusermount := fichiertest.RequireMount(t)
	cmd := h.Command("mount", remote+":"+path, dir, "--vfs-cache-mode", "writes", "--vfs-write-back", "200ms", "--transfers", "8", "--fichier-batch-max-size", "32k")
	cmd.Args = append([]string{"sh", "-c", `echo $$ > "$0"; exec "$@"`, pidFile, cmd.Path}, cmd.Args[1:]...)
	cmd.Path = "/bin/sh"
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(mountWait)
	for !isMounted(t, dir) {
		require.True(t, time.Now().Before(deadline), "%s not mounted after %v", dir, mountWait)
		time.Sleep(50 * time.Millisecond)
	}
	return func() {
		_ = exec.Command(fusermount, "-u", dir).Run()
		select {
		case <-exited:
		case <-time.After(mountWait):
			_ = cmd.Process.Kill()
			<-exited
		}
		_ = exec.Command(fusermount, "-uz", dir).Run()
	}
}

// A mount with the VFS write cache is killed while end.pl answers for
// its first upload, and started again on the same cache: it uploads its
// cached files again, and each is stored exactly once.
func TestMountKilledDuringUploadStoresEachFileOnce(t *testing.T) {
	fichiertest.RequireMount(t)
	t.Parallel()
	h := newHarness(t)
	h.ok("mkdir", remote+":mnt")
	dir := filepath.Join(h.tmp, "mnt")
	require.NoError(t, os.Mkdir(dir, 0o755))
	pidFile := filepath.Join(h.tmp, "pid")
	stop := h.startMount("mnt", dir, pidFile)

	// The next calls are the first batch's: get_upload_server.cgi,
	// upload.cgi, then end.pl, which kills the mount before it answers.
	h.debug(http.MethodPost, "/debug/kill", emulator.KillRule{PIDFile: pidFile, Call: 3, When: emulator.KillBeforeAnswer}, nil)
	want := make(map[string]int64)
	for i := range 20 {
		name := fmt.Sprintf("file%02d.bin", i)
		data := randomBytes(1000+i*100, int64(90+i))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
		want[name] = int64(len(data))
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var status struct {
			Fired bool `json:"fired"`
		}
		h.debug(http.MethodGet, "/debug/kill", nil, &status)
		if status.Fired {
			break
		}
		require.True(t, time.Now().Before(deadline), "the mount made no upload")
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	h.debug(http.MethodDelete, "/debug/kill", nil, nil)

	stop = h.startMount("mnt", dir, pidFile)
	defer stop()
	deadline = time.Now().Add(time.Minute)
	for {
		count, _ := h.stored("mnt")
		if len(count) >= len(want) {
			break
		}
		require.True(t, time.Now().Before(deadline), "the restarted mount did not upload its cached files: %d stored", len(count))
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // any upload sent twice would land meanwhile
	h.requireStoredOnce("mnt", want, "mount killed at end.pl, then started again")
	requireNoRuleBroken(t, h.stats())
}
