package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/chaos"
	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Sequences of events that once broke one of 1fichier's rules: each test
// runs real rclone processes against the emulator at scaled limits and
// requires that no rule was broken.

// requireNoRuleBroken fails t if the emulator saw a broken rule or a
// flood lock.
func requireNoRuleBroken(t *testing.T, s emulator.Stats) {
	t.Helper()
	assert.Empty(t, s.BrokenRules, "rules broken; calls %v", s.Calls)
	assert.Zero(t, s.FloodLocks, "flood locks")
	assert.LessOrEqual(t, s.PeakCallRate(), int64(3), "calls per (scaled) second")
}

// TestStoppedAndContinuedCopyKeepsThePace stops a copy with 32
// transfers (SIGSTOP, as Ctrl-Z does) while its calls wait for their
// booked slots, and continues it (SIGCONT, as fg does) once every slot
// has passed. The calls book again instead of going out together.
func TestStoppedAndContinuedCopyKeepsThePace(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := t.TempDir()
	writeTree(t, src, []string{""}, 40, 51)
	h.ok("mkdir", remote+":stop")
	h.emu.ResetStats(t)

	// Unbatched, every file costs three calls, so 32 transfers keep 32
	// calls booked ahead.
	cmd := h.Command("copy", src, remote+":stop", "--transfers", "32", "--fichier-batch-max-size", "0")
	require.NoError(t, cmd.Start())
	deadline := time.Now().Add(time.Minute)
	for h.stats().Calls["upload.cgi"] < 5 {
		require.True(t, time.Now().Before(deadline), "the copy did not start uploading")
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGSTOP))
	time.Sleep(3 * time.Second) // 60 scaled seconds: every booked slot passes
	require.NoError(t, cmd.Process.Signal(syscall.SIGCONT))
	require.NoError(t, cmd.Wait(), "the copy")

	requireNoRuleBroken(t, h.stats())
	time.Sleep(listSpacing)
	assert.Len(t, h.lsjson(remote+":stop"), 40, "every file stored once")
}

// shiftStoredClocks moves every clock in the state file at path by d,
// and stamps its last write at now plus d: the state a machine whose
// clock was d ahead leaves behind.
func shiftStoredClocks(t *testing.T, path string, d time.Duration) {
	t.Helper()
	require.NoError(t, chaos.StepClocks(path, d))
}

// TestStateWrittenAnHourAheadDoesNotHang leaves a state written while
// the clock was an hour ahead (a clock NTP then set back): the next
// commands wait what the rules say, not the hour, and say why the clocks
// moved.
func TestStateWrittenAnHourAheadDoesNotHang(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("mkdir", remote+":a")
	h.ok("about", remote+":")
	shiftStoredClocks(t, h.stateFile(), time.Hour)

	for _, args := range [][]string{{"mkdir", remote + ":b"}, {"lsf", remote + ":"}} {
		res := h.now(append(args, "-v")...)
		require.Equal(t, 0, res.Code, res.Stderr)
		// The rules' own waits are seconds here; the hour would be an hour.
		assert.Less(t, res.Elapsed, 30*time.Second, "rclone %s", strings.Join(args, " "))
		if args[0] == "mkdir" {
			assert.Contains(t, res.Stderr, "clock was set back", "the NOTICE says why the clocks moved")
		}
	}
	requireNoRuleBroken(t, h.stats())
}

// TestTruncatedStateThenListingWaitsForTheSlot truncates the state file
// right after a listing: the next listing, which no state can tell was
// just made, still waits one listing interval.
func TestTruncatedStateThenListingWaitsForTheSlot(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("mkdir", remote+":dir")
	h.emu.ResetStats(t)
	h.ok("lsf", "--fichier-list-cache-time", "0", remote+":")
	require.NoError(t, os.Truncate(h.stateFile(), 0))
	res := h.now("lsf", "--fichier-list-cache-time", "0", remote+":")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Contains(t, res.Stderr, "lost", "the NOTICE says the state was lost")
	assert.Equal(t, int64(2), listings(h.stats()))
	requireNoRuleBroken(t, h.stats())
}

// TestTwoSpellingsOfTheAPIURLShareOneBudget runs two copies and two
// listings at once through two remotes of one key, one naming the
// emulator 127.0.0.1 and the other localhost: one state, one budget.
func TestTwoSpellingsOfTheAPIURLShareOneBudget(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	other := "fe2"
	var env []string
	for _, kv := range h.emu.Env(other, timeScale) {
		env = append(env, strings.Replace(kv, "127.0.0.1", "localhost", 1))
	}
	require.Contains(t, strings.Join(env, " "), "http://localhost:")
	h.emu.ResetStats(t)

	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, r := range []string{remote, other} {
		src := t.TempDir()
		writeTree(t, src, []string{""}, 10, int64(60+i))
		for _, args := range [][]string{{"lsf", r + ":"}, {"copy", src, fmt.Sprintf("%s:two/%d", r, i)}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := h.Run("", env, args...)
				mu.Lock()
				defer mu.Unlock()
				assert.Equal(t, 0, res.Code, "%v: %s", args, res.Stderr)
			}()
		}
	}
	wg.Wait()
	requireNoRuleBroken(t, h.stats())
	files, err := filepath.Glob(filepath.Join(h.tmp, "cache", "fichier", "*.db"))
	require.NoError(t, err)
	assert.Len(t, files, 1, "one state for both spellings")
}

// TestForgetKeepsTheClocks runs forget between two abouts and between
// two listings: the answers go, the clocks stay, and the second command
// waits for its slot instead of breaking the rule, saying so.
func TestForgetKeepsTheClocks(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("mkdir", remote+":dir")
	h.emu.ResetStats(t)

	h.nowOK("about", remote+":")
	h.nowOK("backend", "forget", remote+":")
	res := h.now("about", remote+":")
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Contains(t, res.Stderr, "waiting", "a wait of the user/info rule is said at NOTICE")
	assert.Contains(t, res.Stderr, "rclone backend status remote: shows the clocks", "the NOTICE names the command that shows them")
	assert.Equal(t, int64(2), h.stats().Calls["user/info.cgi"])

	h.nowOK("lsf", remote+":dir")
	h.nowOK("backend", "forget", remote+":")
	res = h.now("lsf", remote+":dir")
	require.Equal(t, 0, res.Code, res.Stderr)
	requireNoRuleBroken(t, h.stats())
}

// TestTooLongFolderNameThroughCryptFailsAtOnce copies 18 files into a
// folder whose crypt name (base32, the default) is over 1fichier's 250
// characters: one clear error, no mkdir sent, no retry storm.
func TestTooLongFolderNameThroughCryptFailsAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pass := strings.TrimSpace(h.ok("obscure", "crypt-test-password"))
	env := []string{
		fichiertest.EnvName("cr", "type") + "=crypt",
		fichiertest.EnvName("cr", "remote") + "=" + remote + ":crypt",
		fichiertest.EnvName("cr", "password") + "=" + pass,
	}
	src := t.TempDir()
	long := strings.Repeat("n", 200)
	writeTree(t, src, []string{long}, 18, 70)
	h.ok("mkdir", remote+":crypt")
	h.emu.ResetStats(t)

	res := h.fails(env, "copy", src, "cr:")
	assert.True(t, strings.Contains(res.Stderr, "at most 250"), "the error says the limit; the first of rclone's errors: %.600s", res.Stderr)
	s := h.stats()
	assert.LessOrEqual(t, s.Calls["folder/mkdir.cgi"], int64(1), "calls: %v", s.Calls)
	assert.Zero(t, s.Calls["upload.cgi"])
	requireNoRuleBroken(t, s)
}

// TestNameWithAcuteAccentIsStored copies it´s.txt, which 1fichier
// refuses as it is: it is stored, listed and checked under its name.
func TestNameWithAcuteAccentIsStored(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "it´s.txt"), []byte("content"), 0o644))
	h.ok("copy", src, remote+":acute")
	assert.Equal(t, "it´s.txt\n", h.nowOK("lsf", remote+":acute"))
	h.nowOK("check", src, remote+":acute")
	requireNoRuleBroken(t, h.stats())
}
