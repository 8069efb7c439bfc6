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
	"syscall"
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

// The backend has no PutStream: rclone's rcat (and a mount without the
// VFS cache) learn a stream's size before the upload, in memory up to
// --streaming-upload-cutoff and beyond it in a temporary file of
// rclone's own, "rclone-spool<digits>" in $TMPDIR. These tests give each
// rclone a private TMPDIR and look at what is left in it.

// rclonesSpool is the prefix of the temporary file of operations.Rcat.
const rclonesSpool = "rclone-spool"

// tmpFiles returns the files in dir, by name, with their sizes.
func tmpFiles(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	files := make(map[string]int64)
	for _, e := range entries {
		info, err := e.Info()
		require.NoError(t, err)
		files[e.Name()] = info.Size()
	}
	return files
}

// rcatCommand is "rclone rcat" of args with TMPDIR set to tmp, reading
// from in.
func (h *harness) rcatCommand(tmp string, in []byte, args ...string) *exec.Cmd {
	cmd := h.command(append([]string{"rcat"}, args...)...)
	cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
	cmd.Stdin = bytes.NewReader(in)
	return cmd
}

// TestRcatAboveAndBelowTheCutoff streams data of unknown size through
// rcat, above --streaming-upload-cutoff (rclone spools it to a file) and
// below it (rclone keeps it in memory). Either way the backend is given
// the size, the upload is one request (get_upload_server.cgi, upload.cgi,
// end.pl), what is stored is the data, and TMPDIR is empty after.
// Sending the same data again uploads nothing (Put sees the stored file
// has its size and Whirlpool); other data replaces the file.
func TestRcatAboveAndBelowTheCutoff(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("mkdir", remote+":rc")
	for _, tc := range []struct {
		name  string
		size  int
		log   string // what rclone's Rcat says at DEBUG
		other string // what it must not say
	}{
		{"big.bin", 1<<20 + 7, "Target remote doesn't support streaming uploads", "uploading instead of streaming"},
		{"small.bin", 50_000, "uploading instead of streaming", "Target remote doesn't support streaming uploads"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := randomBytes(tc.size, int64(tc.size))
			tmp := t.TempDir()
			dst := remote + ":rc/" + tc.name

			h.emu.ResetStats(t)
			out, err := h.rcatCommand(tmp, data, "-vv", "--streaming-upload-cutoff", "100k", dst).CombinedOutput()
			h.last = time.Now()
			require.NoError(t, err, "%s", out)
			assert.Contains(t, string(out), tc.log)
			assert.NotContains(t, string(out), tc.other)
			s := h.stats()
			// rc is listed once (to find the file, not there): then one
			// upload request.
			assert.Equal(t, int64(1), listings(s), "listings: %v", s.Calls)
			assert.Equal(t, int64(1), s.Calls["upload/get_upload_server.cgi"], "%v", s.Calls)
			assert.Equal(t, int64(1), uploads(s), "%v", s.Calls)
			assert.Equal(t, int64(1), s.Calls["end.pl"], "%v", s.Calls)
			assert.Equal(t, int64(4), s.Total(), "every call: %v", s.Calls)
			assert.Empty(t, tmpFiles(t, tmp), "TMPDIR after rcat")

			count, size := h.stored("rc")
			assert.Equal(t, 1, count[tc.name], "stored once")
			assert.Equal(t, int64(tc.size), size[tc.name], "stored size")
			assert.Equal(t, string(data), h.ok("cat", dst), "content read back")

			// The same data again: the stored file already holds it.
			h.emu.ResetStats(t)
			out, err = h.rcatCommand(tmp, data, "--streaming-upload-cutoff", "100k", dst).CombinedOutput()
			h.last = time.Now()
			require.NoError(t, err, "%s", out)
			s = h.stats()
			assert.Zero(t, uploads(s), "the same data is not sent again: %v", s.Calls)
			assert.Equal(t, int64(1), s.Total(), "one listing, nothing else: %v", s.Calls)

			// Other data of the same size replaces it: upload, then
			// delete the old file.
			other := randomBytes(tc.size, int64(tc.size)+1)
			h.emu.ResetStats(t)
			out, err = h.rcatCommand(tmp, other, "--streaming-upload-cutoff", "100k", dst).CombinedOutput()
			h.last = time.Now()
			require.NoError(t, err, "%s", out)
			s = h.stats()
			assert.Equal(t, int64(1), uploads(s), "%v", s.Calls)
			assert.Equal(t, int64(1), s.Calls["file/rm.cgi"], "the old version removed: %v", s.Calls)
			assert.Equal(t, int64(5), s.Total(), "every call: %v", s.Calls)
			count, size = h.stored("rc")
			assert.Equal(t, 1, count[tc.name], "stored once")
			assert.Equal(t, int64(tc.size), size[tc.name], "stored size")
			assert.Equal(t, string(other), h.ok("cat", dst), "the new content read back")
			assert.Empty(t, tmpFiles(t, tmp), "TMPDIR after rcat")
		})
	}
}

// TestRcatKilledMidStream kills rcat with SIGKILL while it is still
// reading its input, above the cutoff. What it leaves in its TMPDIR is
// rclone's own spool file, holding what it had written of its input
// (SIGKILL runs no clean-up; rclone does the same for every backend
// without PutStream), and no file of the backend's. Nothing was sent:
// no upload call, no folder made, nothing stored.
func TestRcatKilledMidStream(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tmp := t.TempDir()
	// More than rclone's read-ahead buffers hold (the spool file grows
	// only as they fill), and the input stays open after it.
	const sent = 4 << 20
	data := randomBytes(sent, 21)

	h.emu.ResetStats(t)
	cmd := h.rcatCommand(tmp, nil, "--streaming-upload-cutoff", "100k", remote+":killed/data.bin")
	cmd.Stdin = nil
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	written := make(chan error, 1)
	go func() { _, err := stdin.Write(data); written <- err }()
	require.NoError(t, <-written, "rclone reads its input")
	spooled := func() (total int64) {
		for _, size := range tmpFiles(t, tmp) {
			total += size
		}
		return total
	}
	// Wait until the spool has stopped growing, well into the input.
	last := int64(-1)
	require.Eventually(t, func() bool {
		now := spooled()
		settled := now == last && now >= sent/2
		last = now
		return settled
	}, 30*time.Second, 200*time.Millisecond, "the input is spooled: %v", tmpFiles(t, tmp))
	require.NoError(t, cmd.Process.Kill())
	err = <-exited
	h.last = time.Now()
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr, "%s", &out)
	ws, ok := exitErr.Sys().(syscall.WaitStatus)
	require.True(t, ok)
	assert.True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "killed by SIGKILL: %v", exitErr)
	_ = stdin.Close()

	left := tmpFiles(t, tmp)
	t.Logf("left in TMPDIR after SIGKILL mid-stream, %d bytes sent: %v", sent, left)
	require.Len(t, left, 1, "one file left: %v", left)
	for name, size := range left {
		assert.True(t, strings.HasPrefix(name, rclonesSpool), "rclone's own spool file, not the backend's: %s", name)
		assert.Equal(t, last, size, "what rclone had spooled")
		assert.LessOrEqual(t, size, int64(sent), "no more than was sent")
		got, err := os.ReadFile(filepath.Join(tmp, name))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(data[:len(got)], got), "the start of the input")
	}

	s := h.stats()
	assert.Zero(t, s.Calls["upload/get_upload_server.cgi"]+uploads(s)+s.Calls["end.pl"], "nothing sent: %v", s.Calls)
	assert.Zero(t, s.Calls["folder/mkdir.cgi"], "no folder made: %v", s.Calls)
	count, _ := h.stored("killed")
	assert.Empty(t, count, "nothing stored")
	assert.Equal(t, "", h.ok("lsf", "-R", remote+":"), "nothing on the remote")
}

// killedRcat runs rcat of in with args and TMPDIR tmp, armed to be
// killed at call n at moment when, and reports whether the kill fired
// (else rcat finished in fewer calls, and must have succeeded).
func (h *harness) killedRcat(n int, when, tmp string, in []byte, args ...string) bool {
	h.t.Helper()
	pidFile := filepath.Join(h.t.TempDir(), "pid")
	h.debug(http.MethodPost, "/debug/kill", emulator.KillRule{PIDFile: pidFile, Call: int64(n), When: when}, nil)
	cmd := h.Command(append([]string{"rcat"}, args...)...)
	cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
	cmd.Stdin = bytes.NewReader(in)
	// As killedRun: the shell writes the PID exec hands to rclone.
	cmd.Args = append([]string{"sh", "-c", `echo $$ > "$0"; exec "$@"`, pidFile, cmd.Path}, cmd.Args[1:]...)
	cmd.Path = "/bin/sh"
	out, err := cmd.CombinedOutput()
	h.last = time.Now()
	var status struct {
		Fired bool `json:"fired"`
	}
	h.debug(http.MethodDelete, "/debug/kill", nil, &status)
	if !status.Fired {
		require.NoError(h.t, err, "rcat not killed: %s", out)
	}
	return status.Fired
}

// TestRcatKilledAtEveryCall kills rcat of data above the cutoff at each
// of its API calls in turn (before and after each answer), with a
// private TMPDIR each time. Whatever the moment, the only file left in
// TMPDIR is rclone's spool, whole: rcat reads all its input before
// Put's first call (only a listing while the remote is opened comes
// before; killed there, nothing is left). The remote holds the file
// whole or not at all, and rcat run again at once stores it exactly
// once.
func TestRcatKilledAtEveryCall(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	data := randomBytes(300<<10+5, 22)
	args := []string{"--streaming-upload-cutoff", "100k"}
	for _, when := range []string{emulator.KillBeforeAnswer, emulator.KillAfterAnswer} {
		for n := 1; ; n++ {
			what := fmt.Sprintf("rcat killed %s call %d", when, n)
			dir := fmt.Sprintf("rk/%s-%d", when, n)
			dst := remote + ":" + dir + "/data.bin"
			tmp := t.TempDir()
			h.emu.ResetStats(t)
			fired := h.killedRcat(n, when, tmp, data, append(args, dst)...)
			left := tmpFiles(t, tmp)
			t.Logf("%s: fired %v, left in TMPDIR: %v", what, fired, left)
			for name, size := range left {
				assert.True(t, strings.HasPrefix(name, rclonesSpool), "%s: only rclone's spool may be left: %s", what, name)
				assert.Equal(t, int64(len(data)), size, "%s: %s whole", what, name)
			}
			assert.LessOrEqual(t, len(left), 1, "%s: TMPDIR", what)
			if !fired {
				assert.Empty(t, left, "%s: TMPDIR", what)
			}
			// Killed once end.pl has answered, rclone may have removed
			// its spool and ended before the signal came.
			s := h.stats()
			finished := when == emulator.KillAfterAnswer && s.Calls["end.pl"] > 0
			if fired && s.Calls["upload/get_upload_server.cgi"] > 0 && !finished {
				assert.Len(t, left, 1, "%s, during the upload: rclone's spool left", what)
			}
			count, size := h.stored(dir)
			for name, c := range count {
				require.Equal(t, "data.bin", name, "%s", what)
				require.Equal(t, 1, c, "%s: stored once", what)
				require.Equal(t, int64(len(data)), size[name], "%s: stored whole", what)
			}

			again := t.TempDir()
			cmd := h.Command(append([]string{"rcat"}, append(args, dst)...)...)
			cmd.Env = append(cmd.Env, "TMPDIR="+again)
			cmd.Stdin = bytes.NewReader(data)
			out, err := cmd.CombinedOutput()
			h.last = time.Now()
			require.NoError(t, err, "%s, then run again: %s", what, out)
			assert.Empty(t, tmpFiles(t, again), "%s, then run again: TMPDIR", what)
			h.requireStoredOnce(dir, map[string]int64{"data.bin": int64(len(data))}, what)
			requireNoRuleBroken(t, h.stats())
			if !fired {
				t.Logf("rcat: %d calls in all", n-1)
				break
			}
		}
	}
}
