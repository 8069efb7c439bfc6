package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
)

func TestFmtDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		20 * time.Minute: "20m", 2 * time.Hour: "2h", 40 * time.Second: "40s", 90 * time.Second: "1m30s",
	} {
		assert.Equal(t, want, fmtDuration(d))
	}
}

func TestStatusOf(t *testing.T) {
	assert.Equal(t, "ok", statusOf(context.Background(), nil, time.Minute))

	err := exec.Command("sh", "-c", "exit 3").Run()
	assert.Equal(t, "failed (exit 3)", statusOf(context.Background(), err, time.Minute))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sleep", "5")
	o := runCmd(ctx, cmd, 2*time.Minute)
	assert.Equal(t, "did not finish in 2m", o.Status)
	assert.Less(t, o.Wall, 5.0)
}

func TestRunCmdTakesPeakRSS(t *testing.T) {
	// sh keeps a few MiB resident: the kernel's figure comes back in KiB.
	o := runCmd(context.Background(), exec.Command("sh", "-c", "echo hi"), time.Minute)
	require.True(t, o.OK(), o.Status)
	assert.Equal(t, "hi\n", o.Output)
	assert.Greater(t, o.RSSKB, int64(100))
	assert.Less(t, o.RSSKB, int64(1<<20))
}

func TestLinkTree(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "copy")
	require.NoError(t, os.MkdirAll(filepath.Join(src, "blobs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "blobs", "b1"), []byte("data"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "meta.json"), []byte("{}"), 0o644))
	require.NoError(t, linkTree(src, dst))
	got, err := os.ReadFile(filepath.Join(dst, "blobs", "b1"))
	require.NoError(t, err)
	assert.Equal(t, "data", string(got))
	a, _ := os.Stat(filepath.Join(src, "meta.json"))
	b, _ := os.Stat(filepath.Join(dst, "meta.json"))
	assert.True(t, os.SameFile(a, b), "hard links, not copies")
}

func TestLastMessage(t *testing.T) {
	p := filepath.Join(t.TempDir(), "rclone.log")
	require.NoError(t, os.WriteFile(p, []byte(strings.Join([]string{
		"2026/11/29 03:00:00 NOTICE: Config file \"x\" not found - using defaults",
		"2026/11/29 03:00:01 INFO  : a: Copied (new)",
		"2026/11/29 03:00:02 ERROR : b: Failed to copy: flood",
		"2026/11/29 03:00:03 INFO  : done",
	}, "\n")), 0o644))
	assert.Equal(t, "ERROR : b: Failed to copy: flood", lastMessage(p))
	assert.Empty(t, lastMessage(filepath.Join(t.TempDir(), "none.log")))
}

func TestSameFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o644))
		return p
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 200000) // over 3 MiB: several chunks
	a := write("a", big)
	assert.True(t, sameFile(a, write("b", bytes.Clone(big))))
	changed := bytes.Clone(big)
	changed[len(changed)-1] ^= 1
	assert.False(t, sameFile(a, write("c", changed)), "last byte differs")
	assert.False(t, sameFile(a, write("d", big[:len(big)-1])), "shorter")
	assert.False(t, sameFile(a, write("e", append(bytes.Clone(big), 'x'))), "longer")
	assert.False(t, sameFile(a, filepath.Join(dir, "missing")))
	assert.True(t, sameFile(write("f", nil), write("g", nil)), "two empty files")
}

func TestMakeSmallIsRepeatable(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	require.NoError(t, makeSmall(a, 5, 2, 1))
	require.NoError(t, makeSmall(b, 5, 2, 1))
	for _, rel := range []string{"dir00/file0000.bin", "dir01/file0001.bin", "dir00/file0004.bin"} {
		x, err := os.ReadFile(filepath.Join(a, rel))
		require.NoError(t, err)
		y, err := os.ReadFile(filepath.Join(b, rel))
		require.NoError(t, err)
		assert.Equal(t, x, y, rel)
		assert.GreaterOrEqual(t, len(x), 1024)
		assert.LessOrEqual(t, len(x), 10*1024)
	}
}

func TestParseFlags(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.WriteFile(bin, nil, 0o755))
	cfg, err := parseFlags([]string{"-rclone", bin, "-upstream", bin, "-emulator", bin,
		"-only", "copy,back", "-list-rules", "endpoint", "-transfers", "32", "-flags", "--checkers 2"})
	require.NoError(t, err)
	assert.Equal(t, []string{"copy", "back"}, cfg.scenarios)
	assert.Equal(t, []emulator.ListRule{emulator.ListRuleEndpoint}, cfg.listRules)
	assert.Equal(t, 32, cfg.transfers)
	assert.Equal(t, []string{"--checkers", "2"}, cfg.extraFlags)
	assert.True(t, cfg.want("back"))
	assert.False(t, cfg.want("mount"))

	for _, args := range [][]string{
		{"-only", "copy,fly"},
		{"-list-rules", "both"},
		{"-files", "2", "-folders", "3"},
		{"-transfers", "-1"},
		{"-rclone", filepath.Join(dir, "missing")},
	} {
		_, err := parseFlags(append([]string{"-rclone", bin, "-upstream", bin, "-emulator", bin}, args...))
		assert.Error(t, err, "%v", args)
	}
}

// fakeBench is a finished run with made-up results, for the report.
func fakeBench(t *testing.T) *bench {
	cfg := &config{files: 20, folders: 4, bigMB: 64, timeout: 2 * time.Minute, timeoutBig: 2 * time.Minute,
		listRules: []emulator.ListRule{emulator.ListRuleFolder, emulator.ListRuleEndpoint},
		out:       filepath.Join(t.TempDir(), "report.md"), ours: "/bin/true", upstream: "/bin/true", parallel: true,
		scenarios: mainScenarios, timeScale: 1}
	calls := func(ls, files int64) emulator.Stats {
		return emulator.Stats{Calls: map[string]int64{"folder/ls.cgi": ls, "file/ls.cgi": files},
			MaxCallsPerSecond: map[string]int64{"a": 2}}
	}
	flooded := calls(4, 4)
	flooded.FloodLocks, flooded.FloodRejected = 1, 3
	flooded.BrokenRules = map[string]int64{"folder_listing": 1}
	ok := Outcome{Status: "ok", Wall: 4}
	return &bench{cfg: cfg, results: []*result{
		{Scenario: "ls", Who: upstream, Rule: emulator.ListRuleFolder, Outcome: Outcome{Status: "did not finish in 2m", Wall: 120}, Stats: flooded, Note: "ERROR : flood"},
		{Scenario: "ls", Who: ours, Rule: emulator.ListRuleEndpoint, Outcome: ok, Stats: calls(7, 0), Listed: 20},
		{Scenario: "ls", Who: ours, Rule: emulator.ListRuleFolder, Outcome: ok, Stats: calls(7, 0), Listed: 20},
		{Scenario: "ls", Who: upstream, Rule: emulator.ListRuleEndpoint, Outcome: ok, Stats: calls(7, 7), Listed: 20},
	}, back: []*backResult{
		{Who: upstream, Rule: emulator.ListRuleFolder, Stats: flooded, Failed: "about", Steps: []backStep{
			{"copy", ok}, {"about", Outcome{Status: "failed (exit 1)", Wall: 300}}}},
		{Who: ours, Rule: emulator.ListRuleFolder, Stats: calls(3, 0), Steps: []backStep{{"copy", ok}, {"about", ok}}},
	}}
}

func TestReport(t *testing.T) {
	b := fakeBench(t)
	require.NoError(t, b.writeReport(3*time.Minute))
	data, err := os.ReadFile(b.cfg.out)
	require.NoError(t, err)
	md := string(data)

	// The main table: ours first, each row with its listing rule.
	assert.Contains(t, md, "| 3. lsf -R | ours | folder (one shared slot) | ok | 4.0 s | 7 calls: 2 s at 3/s (4 s at 2/s) | 7 API: folder/ls.cgi 7 | 0 | 2 | 20 files listed |")
	assert.Contains(t, md, "| 3. lsf -R | upstream | folder (one shared slot) | did not finish in 2m | 120.0 s |")
	assert.Less(t, strings.Index(md, "| 3. lsf -R | ours | folder"), strings.Index(md, "| 3. lsf -R | ours | endpoint"))
	assert.Less(t, strings.Index(md, "| 3. lsf -R | ours | endpoint"), strings.Index(md, "| 3. lsf -R | upstream | folder"))
	assert.Contains(t, md, "| **1** (3 refused) |")

	// Both readings side by side: ours the same, upstream not.
	assert.Contains(t, md, "## Does the listing reading matter?")
	assert.Contains(t, md, "| 3. lsf -R | ours | ok, 4.0 s, 7 API calls, 0 flood locks | ok, 4.0 s, 7 API calls, 0 flood locks | yes |")
	assert.Regexp(t, `\| 3. lsf -R \| upstream \| did not finish in 2m, .* \| no \|`, md)

	// Commands back to back.
	assert.Contains(t, md, "| Binary | Listing rule | copy | about | Flood locks | Broken rules | Peak calls/s |")
	assert.Contains(t, md, "| ours | folder (one shared slot) | 4.0 s | 4.0 s | 0 | none | 2 |")
	assert.Contains(t, md, "| upstream | folder (one shared slot) | 4.0 s | **failed (exit 1)** (300.0 s) | **1** (3 refused) | folder_listing 1 | 2 |")

	assert.Contains(t, md, "- ls.upstream.folder: did not finish in 2m; last message: `ERROR : flood`")
	assert.Contains(t, md, "- back.upstream.folder: about was the first command to fail; last message: none logged")
	assert.Contains(t, md, "| Total run time | 3.0 minutes |")
}
