package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
)

// Every rclone process of a machine shares one account state (the call
// schedule, the flood gate, 1fichier's clocks and the listings and
// answers they make scarce), so these tests run commands right after one
// another, or at once, without the harness's spacing.

// now runs rclone with args at once, whenever the last command ended,
// and returns what it did.
func (h *harness) now(args ...string) fichiertest.Result {
	h.t.Helper()
	res := h.Run("", nil, args...)
	h.last = time.Now()
	return res
}

// nowOK runs rclone with args at once and requires it to succeed
// without waiting for any of 1fichier's clocks.
func (h *harness) nowOK(args ...string) string {
	h.t.Helper()
	res := h.now(append(args, "-v")...)
	require.Equal(h.t, 0, res.Code, "rclone %s failed:\n%s", strings.Join(args, " "), res.Stderr)
	assert.NotContains(h.t, res.Stderr, "waiting", "rclone %s waited for a clock another process had paid for", strings.Join(args, " "))
	return res.Stdout
}

// stateFile returns the state file the commands so far made.
func (h *harness) stateFile() string {
	h.t.Helper()
	files, err := filepath.Glob(filepath.Join(h.tmp, "cache", "fichier", "*.db"))
	require.NoError(h.t, err)
	require.Len(h.t, files, 1, "one state file for the emulator's API URL")
	return files[0]
}

// copyTree writes folders of n files under a new local directory and
// copies it to remote path dst.
func (h *harness) copyTree(dst string, folders []string, n int, seed int64) (src string, names []string) {
	src = h.t.TempDir()
	names = writeTree(h.t, src, folders, n, seed)
	h.ok("copy", src, remote+":"+dst)
	return src, names
}

// TestBackToBackCommandsShareTheAccountState runs what a user or a
// script runs after a copy: listings, about twice and a check. Each
// takes the listings and account info the others stored instead of
// waiting for 1fichier's clocks: nothing waits, no folder is listed
// twice within its slot, user/info.cgi is called once, and no rule is
// broken.
func TestBackToBackCommandsShareTheAccountState(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src, names := h.copyTree("dir", []string{"a", "b", "c"}, 5, 21)
	h.emu.ResetStats(t)

	listed := strings.Fields(h.nowOK("lsf", "-R", "--files-only", remote+":dir"))
	assert.ElementsMatch(t, names, listed)
	assert.ElementsMatch(t, listed, strings.Fields(h.nowOK("lsf", "-R", "--files-only", remote+":dir")))
	about := h.nowOK("about", remote+":")
	assert.Contains(t, about, "Used:")
	assert.Equal(t, about, h.nowOK("about", remote+":"))
	h.nowOK("check", src, remote+":dir")

	s := h.stats()
	assert.Equal(t, int64(1), s.Calls["user/info.cgi"], "the second about answers from the first's: %v", s.Calls)
	// The root, dir, a, b and c: each listed at most once, when its
	// slot (opened by the copy) was free.
	assert.LessOrEqual(t, listings(s), int64(5), "listings: %v", s.Calls)
	assert.Zero(t, s.FloodLocks, "flood locks")
	assert.Zero(t, s.FloodRejected, "calls refused for a flood")
}

// TestMountDaemonStartsWithoutWaiting starts "rclone mount --daemon"
// right after another command: the parent and the daemon child both
// look up the mount's folder, from the listings the others stored.
func TestMountDaemonStartsWithoutWaiting(t *testing.T) {
	fusermount := fichiertest.RequireMount(t)
	t.Parallel()
	h := newHarness(t)
	h.copyTree("dir", []string{"a", "b"}, 2, 22)
	h.nowOK("lsf", remote+":dir")
	h.emu.ResetStats(t)

	dir := filepath.Join(h.tmp, "mnt")
	require.NoError(t, os.Mkdir(dir, 0o755))
	logFile := filepath.Join(h.tmp, "daemon.log")
	// The daemon keeps its parent's standard output and error: give it
	// files, not pipes that would hold the parent's Wait until it ends.
	out, err := os.Create(filepath.Join(h.tmp, "daemon.out"))
	require.NoError(t, err)
	defer func() { _ = out.Close() }()
	cmd := h.Command("mount", remote+":dir", dir, "--daemon", "-v", "--log-file", logFile)
	cmd.Stdout, cmd.Stderr = out, out
	t.Cleanup(func() {
		_ = exec.Command(fusermount, "-u", dir).Run()
		killDaemon(t, dir)
		_ = exec.Command(fusermount, "-uz", dir).Run()
	})
	require.NoError(t, cmd.Run(), "rclone mount --daemon")
	deadline := time.Now().Add(mountWait)
	for !isMounted(t, dir) {
		require.True(t, time.Now().Before(deadline), "%s not mounted after %v", dir, mountWait)
		time.Sleep(50 * time.Millisecond)
	}
	assert.Equal(t, []string{"a", "b"}, readDirNames(t, dir))
	log, _ := os.ReadFile(logFile)
	assert.NotContains(t, string(log), "waiting", "the daemon waited for a listing slot")
	s := h.stats()
	assert.Zero(t, listings(s), "the daemon lists nothing the other commands stored: %v", s.Calls)
	assert.Zero(t, s.FloodLocks)
}

// killDaemon kills the rclone mount daemon serving dir, found by its
// command line: it may outlive the unmount.
func killDaemon(t *testing.T, dir string) {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(cmdline, []byte("\x00"+dir+"\x00")) || !bytes.Contains(cmdline, []byte("--daemon")) {
			continue
		}
		var pid int
		if _, err := fmt.Sscanf(p, "/proc/%d/cmdline", &pid); err == nil {
			if proc, err := os.FindProcess(pid); err == nil {
				t.Logf("stopping the mount daemon, pid %d", pid)
				_ = proc.Kill()
			}
		}
	}
}

// TestTwoProcessesUpdatingOneFolderKeepBothChanges runs two copies into
// one folder at once. The stored listing keeps both processes' uploads,
// so a listing right after (within the folder's slot, from the stored
// listing) shows every file, as the server has them.
func TestTwoProcessesUpdatingOneFolderKeepBothChanges(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("mkdir", remote+":shared")
	h.nowOK("lsf", remote+":shared")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var all []string
	for i, prefix := range []string{"one", "two"} {
		src := t.TempDir()
		for j := range 8 {
			name := fmt.Sprintf("%s%d.bin", prefix, j)
			require.NoError(t, os.WriteFile(filepath.Join(src, name), randomBytes(2000+j, int64(30+i*10+j)), 0o644))
			all = append(all, name)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := h.now("copy", src, remote+":shared")
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, 0, res.Code, res.Stderr)
		}()
	}
	wg.Wait()
	listed := strings.Fields(h.nowOK("lsf", remote+":shared"))
	assert.ElementsMatch(t, all, listed, "the stored listing has both copies' files")
	assert.Zero(t, h.stats().FloodLocks)
	// Once the slot reopens, a fresh listing shows what the server has:
	// the same files, each once.
	time.Sleep(listSpacing)
	var fresh []string
	for _, e := range h.lsjson(remote + ":shared") {
		fresh = append(fresh, e.Path)
	}
	assert.ElementsMatch(t, all, fresh)
}

// TestFileAddedElsewhereAppearsOnceTheSlotReopens adds a file straight
// on the server, behind rclone's back: a command after the folder's
// listing slot has reopened lists it afresh and shows it.
func TestFileAddedElsewhereAppearsOnceTheSlotReopens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.copyTree("dir", []string{""}, 3, 23)
	h.nowOK("lsf", remote+":dir")
	h.uploadRaw(h.folderID("dir"), "elsewhere.bin", randomBytes(1500, 24))
	time.Sleep(listSpacing)
	listed := strings.Fields(h.nowOK("lsf", remote+":dir"))
	assert.Contains(t, listed, "elsewhere.bin")
	assert.Len(t, listed, 4)
	assert.Zero(t, h.stats().FloodLocks)
}

// TestKilledProcessHoldingTheStateBlocksNobody kills, with SIGKILL, a
// process that holds the state file's lock: the OS drops the lock, and
// the next rclone works at once.
func TestKilledProcessHoldingTheStateBlocksNobody(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.copyTree("dir", []string{""}, 2, 25)
	path := h.stateFile()

	holder := exec.Command(os.Args[0], "-test.run=^TestHelperHoldStateLock$")
	holder.Env = append(os.Environ(), "FICHIER_HOLD_STATE="+path)
	out, err := holder.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, holder.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "holding\n", line)

	// While it holds the lock, rclone waits for it...
	short := h.nowWithin(500*time.Millisecond, "lsf", remote+":dir")
	assert.True(t, short, "rclone should wait while another process holds the state")
	// ...and once it is killed, rclone goes on.
	require.NoError(t, holder.Process.Kill())
	_ = holder.Wait()
	assert.Len(t, strings.Fields(h.nowOK("lsf", remote+":dir")), 2)
}

// nowWithin runs rclone with args for at most d, and reports whether it
// was still running then.
func (h *harness) nowWithin(d time.Duration, args ...string) (timedOut bool) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_ = h.CommandContext(ctx, args...).Run()
	return ctx.Err() != nil
}

// TestHelperHoldStateLock is not a test: TestKilledProcessHoldingThe
// StateBlocksNobody runs the test binary with it to hold a state file's
// lock until killed.
func TestHelperHoldStateLock(t *testing.T) {
	path := os.Getenv("FICHIER_HOLD_STATE")
	if path == "" {
		t.Skip("helper process for TestKilledProcessHoldingTheStateBlocksNobody")
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 10 * time.Second})
	require.NoError(t, err)
	defer func() { _ = db.Close() }()
	fmt.Println("holding")
	time.Sleep(time.Hour)
}

// TestCorruptStateFileIsDroppedWithANotice damages the state file: the
// next rclone says so, starts a new one and works.
func TestCorruptStateFileIsDroppedWithANotice(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.copyTree("dir", []string{""}, 2, 26)
	path := h.stateFile()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	for i := range data {
		data[i] ^= 0x5a
	}
	require.NoError(t, os.WriteFile(path, data, 0o600))

	time.Sleep(listSpacing) // the clocks go with the damaged file
	res := h.now("lsf", remote+":dir")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Contains(t, res.Stderr, "NOTICE")
	assert.Contains(t, res.Stderr, "unreadable")
	assert.Len(t, strings.Fields(res.Stdout), 2)
	assert.FileExists(t, path+".corrupt", "the damaged file is kept aside")
	assert.Zero(t, h.stats().FloodLocks)
}

// TestThreeProcessesAtOnceKeepThePace runs two copies and a listing loop
// at the same moment, the way a mount and a cron job share a key. They
// book their calls on one schedule, so together they stay within
// 1fichier's calls per second: no rule is broken, and every command
// succeeds.
func TestThreeProcessesAtOnceKeepThePace(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("mkdir", remote+":busy")
	h.emu.ResetStats(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := make(chan struct{})
	check := func(res fichiertest.Result, what string) {
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, 0, res.Code, "%s: %s", what, res.Stderr)
	}
	for i := range 2 {
		src := t.TempDir()
		writeTree(t, src, []string{""}, 30, int64(40+i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			check(h.now("copy", src, fmt.Sprintf("%s:busy/copy%d", remote, i)), "copy")
		}()
	}
	loops := 0
	var loop sync.WaitGroup
	loop.Add(1)
	go func() {
		defer loop.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			check(h.now("lsf", "-R", remote+":busy"), "lsf")
			loops++
		}
	}()
	wg.Wait()
	close(done)
	loop.Wait()

	s := h.stats()
	t.Logf("%d listing commands beside the copies; calls: %v; peak %d calls per (scaled) second", loops, s.Calls, s.PeakCallRate())
	assert.Zero(t, s.FloodLocks, "flood locks")
	assert.Empty(t, s.BrokenRules, "rules broken")
	assert.LessOrEqual(t, s.PeakCallRate(), int64(3), "calls per second, all processes together")
	// Once the slots reopen, a fresh listing shows every file, once.
	time.Sleep(listSpacing)
	assert.Len(t, h.lsjson(remote+":busy"), 60, "each file stored once")
}
