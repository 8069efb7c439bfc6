//go:build !windows

package e2e

import (
	"bytes"
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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
			if s := h.stats(); fired && s.Calls["upload/get_upload_server.cgi"] > 0 {
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
