//go:build linux

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A cache directory that cannot be written (a full disk, a read-only
// file system) must not stop rclone nor make it upload twice. These
// tests mount a small tmpfs as rclone's cache directory, which needs
// root.

// smallCacheDir mounts a tmpfs of size (e.g. "64k") and returns it, as
// --cache-dir flags; it is unmounted when t ends.
func smallCacheDir(t *testing.T, size string, readOnly bool) []string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs as rclone's cache directory needs root")
	}
	dir := filepath.Join(t.TempDir(), "cache")
	require.NoError(t, os.Mkdir(dir, 0o755))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("can't mount a tmpfs here (%v: %s)", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	if readOnly {
		out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	return []string{"--cache-dir", dir}
}

// TestFullCacheDiskUploadsNothingTwice copies 120 files with rclone's
// cache directory on a full disk, then copies again: the first copy says
// once that its state cannot be written, and the second uploads nothing
// again.
func TestFullCacheDiskUploadsNothingTwice(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cache := smallCacheDir(t, "40k", false)
	src := t.TempDir()
	names := writeTree(t, src, []string{"a", "b", "c"}, 40, 80)

	res := h.now(append([]string{"copy", src, remote + ":full", "--transfers", "32"}, cache...)...)
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Equal(t, 1, strings.Count(res.Stderr, "couldn't write the shared state"), "one NOTICE says so: %s", res.Stderr)
	h.emu.ResetStats(t)

	res = h.now(append([]string{"copy", src, remote + ":full", "--transfers", "32"}, cache...)...)
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Zero(t, uploads(h.stats()), "nothing is uploaded again")
	count, _ := h.stored("full")
	assert.Len(t, count, len(names))
	for name, n := range count {
		assert.Equal(t, 1, n, name)
	}
	requireNoRuleBroken(t, h.stats())
}

// TestReadOnlyCacheDirDoesNotStopRclone runs commands with rclone's cache
// directory read only.
func TestReadOnlyCacheDirDoesNotStopRclone(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cache := smallCacheDir(t, "1m", true)
	src := t.TempDir()
	names := writeTree(t, src, []string{""}, 5, 81)
	res := h.now(append([]string{"copy", src, remote + ":ro"}, cache...)...)
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.Contains(t, res.Stderr, "couldn't write the shared state")
	res = h.now(append([]string{"lsf", remote + ":ro"}, cache...)...)
	require.Equal(t, 0, res.Code, res.Stderr)
	assert.ElementsMatch(t, names, strings.Fields(res.Stdout))
	requireNoRuleBroken(t, h.stats())
}
