package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
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

func TestOnlySelectsScenarios(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.WriteFile(bin, nil, 0o755))
	missing := filepath.Join(dir, "missing")
	base := []string{"-rclone", bin, "-emulator", bin}

	// Without -only: the scenarios of BENCHMARKS.md, which need upstream.
	cfg, err := parseFlags(append(base, "-upstream", bin))
	require.NoError(t, err)
	assert.Equal(t, mainScenarios, cfg.scenarios)
	assert.Equal(t, "BENCHMARKS.md", cfg.out)
	assert.False(t, cfg.want("tree"), "the one-binary scenarios run only when named")
	_, err = parseFlags(append(base, "-upstream", missing))
	assert.Error(t, err, "upstream is needed for the comparison")

	// -only tree: that alone, no upstream, the report on standard output.
	cfg, err = parseFlags(append(base, "-upstream", missing, "-only", "tree"))
	require.NoError(t, err)
	assert.Equal(t, []string{"tree"}, cfg.scenarios)
	assert.Equal(t, "-", cfg.out)
	assert.False(t, cfg.wantMain())
	for _, sc := range allScenarios {
		assert.Equal(t, sc == "tree", cfg.want(sc), sc)
	}

	cfg, err = parseFlags(append(base, "-upstream", missing, "-only", "batch,mountbench,batch", "-out", "x.md",
		"-batch-transfers", "32,0", "-time-scale", "10", "-mount-flags", "--vfs-read-chunk-size 8M"))
	require.NoError(t, err)
	assert.Equal(t, []string{"batch", "mountbench"}, cfg.scenarios)
	assert.Equal(t, "x.md", cfg.out)
	assert.Equal(t, []int{32, 0}, cfg.batchTransfers)
	assert.Equal(t, 10.0, cfg.timeScale)
	assert.Equal(t, []string{"--vfs-read-chunk-size", "8M"}, cfg.mountFlags)

	_, err = parseFlags(append(base, "-upstream", missing, "-only", "tree,copy"))
	assert.Error(t, err, "copy runs upstream too")
	for _, args := range [][]string{
		{"-only", "tree,"}, {"-only", "trees"}, {"-only", "tree", "-time-scale", "0"},
		{"-only", "tree", "-tree-cases", "20/3"}, {"-only", "tree", "-tree-cases", "2/3/4"},
		{"-only", "tree", "-tree-cases", "20/0/4"}, {"-only", "batch", "-batch-transfers", "4,x"},
	} {
		_, err := parseFlags(append(append([]string{}, base...), args...))
		assert.Error(t, err, "%v", args)
	}
}

func TestParseTreeCases(t *testing.T) {
	cases, err := parseTreeCases(defaultTreeCases)
	require.NoError(t, err)
	assert.Equal(t, []treeCase{{2000, 20, 64}, {50000, 500, 64}, {300, 30, 4}}, cases)
	assert.Equal(t, "50000/500/64", cases[1].String())
}

func TestTreeBound(t *testing.T) {
	for _, c := range []struct {
		tc              treeCase
		requests, calls int
	}{
		// 3 calls per folder's request + a mkdir per folder + the
		// destination's mkdir + the root listing.
		{treeCase{2000, 20, 64}, 20, 3*20 + 20 + 2},
		{treeCase{50000, 500, 64}, 500, 3*500 + 500 + 2},
		{treeCase{300, 30, 4}, 30, 3*30 + 30 + 2},
		// 600 files a folder take two requests each (500 at most).
		{treeCase{1200, 2, 64}, 4, 3*4 + 2 + 2},
		// 7 files in 3 folders: 3, 2 and 2.
		{treeCase{7, 3, 4}, 3, 3*3 + 3 + 2},
	} {
		requests, calls := treeBound(c.tc)
		assert.Equal(t, c.requests, requests, "%v", c.tc)
		assert.Equal(t, c.calls, calls, "%v", c.tc)
	}
	assert.Equal(t, 3, treeCase{7, 3, 4}.perFolder(0))
	assert.Equal(t, 2, treeCase{7, 3, 4}.perFolder(2))
	assert.Contains(t, boundCell(treeCase{2000, 20, 64}, 10), "82 calls (0.04 per file), 20 requests (100.0 files each): 41 s (4.1 s here) at 2/s")
	assert.Equal(t, "82 calls (0.04 per file), 20 requests (100.0 files each): 41 s at 2/s", boundCell(treeCase{2000, 20, 64}, 1))
}

func TestMakeTree(t *testing.T) {
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	require.NoError(t, makeTree(a, 7, 3))
	require.NoError(t, makeTree(b, 7, 3))
	assert.Equal(t, "d00/f0000.bin", treeFile(0, 7, 3))
	assert.Equal(t, "d001/f00501.bin", treeFile(501, 50000, 500))
	for i := 0; i < 7; i++ {
		rel := treeFile(i, 7, 3)
		x, err := os.ReadFile(filepath.Join(a, rel))
		require.NoError(t, err)
		y, err := os.ReadFile(filepath.Join(b, rel))
		require.NoError(t, err)
		assert.Equal(t, x, y, rel)
		assert.Len(t, x, treeSize(i))
		assert.GreaterOrEqual(t, len(x), 1024)
		assert.LessOrEqual(t, len(x), 4096)
	}
	entries, err := os.ReadDir(filepath.Join(a, "d01"))
	require.NoError(t, err)
	assert.Len(t, entries, 2, "files 1 and 4: round robin")
	// A finished tree is kept as it is.
	require.NoError(t, os.Remove(filepath.Join(a, "d01", "f0001.bin")))
	require.NoError(t, makeTree(a, 7, 3))
	assert.NoFileExists(t, filepath.Join(a, "d01", "f0001.bin"))
}

func TestCheckStored(t *testing.T) {
	stored := func(paths ...string) []emulator.StoredFile {
		var out []emulator.StoredFile
		for _, p := range paths {
			out = append(out, emulator.StoredFile{Path: p})
		}
		return out
	}
	want := []string{"d0/a", "d0/b", "d1/c"}
	c := checkStored(stored("dst/d0/a", "dst/d0/b", "dst/d1/c", "other/d0/a"), "dst", want)
	assert.True(t, c.OK())
	assert.Equal(t, "yes, 3 of 3", c.String())

	c = checkStored(stored("dst/d0/a", "dst/d0/a", "dst/d1/c", "dst/d1/x", "dstx/d0/b"), "dst", want)
	assert.False(t, c.OK())
	assert.Equal(t, []string{"d0/b"}, c.Missing)
	assert.Equal(t, []string{"d0/a"}, c.Twice)
	assert.Equal(t, []string{"d1/x"}, c.Extra)
	assert.Equal(t, "**no**: 4 stored for 3 names, 1 missing, 1 twice, 1 extra (first: d0/b)", c.String())

	c = checkStored(nil, "dst", want)
	assert.False(t, c.OK())
	assert.Len(t, c.Missing, 3)
}

func TestScaledOptions(t *testing.T) {
	assert.Empty(t, scaledOptions(1), "the real limits: the defaults")
	assert.Equal(t, map[string]string{"api_rate": "20", "list_interval": "3s", "list_cache_time": "1m0s",
		"flood_wait": "30s"}, scaledOptions(10))
}

func TestShellLine(t *testing.T) {
	assert.Equal(t, `bin/fichier-bench -only batch -flags '--fichier-batch-max-size 0' -x 'it'\''s'`,
		shellLine([]string{"bin/fichier-bench", "-only", "batch", "-flags", "--fichier-batch-max-size 0", "-x", "it's"}))
}

// runOnly runs fichier-bench with the real binaries and args (after
// -only ...), and returns its report.
func runOnly(t *testing.T, args ...string) string {
	t.Helper()
	rclone, emulatorBin := fichiertest.Binaries(t)
	out := filepath.Join(t.TempDir(), "report.md")
	cfg, err := parseFlags(append([]string{"-rclone", rclone, "-emulator", emulatorBin,
		"-upstream", filepath.Join(t.TempDir(), "none"), "-out", out, "-timeout", "2m", "-timeout-big", "2m"}, args...))
	require.NoError(t, err)
	require.NoError(t, run(context.Background(), cfg))
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	return string(data)
}

func TestTreeScenarioOnATinyTree(t *testing.T) {
	md := runOnly(t, "-only", "tree", "-tree-cases", "30/3/8,6/2/0", "-time-scale", "10")
	t.Log(md)
	assert.Contains(t, md, "# fichier-bench: tree\n")
	assert.Contains(t, md, "`--time-scale 10`")
	assert.Contains(t, md, "## Large trees of small files")
	for _, other := range []string{"| Scenario | Binary |", "## Batched uploads", "## Reads through rclone mount", "## Runs that did not succeed"} {
		assert.NotContains(t, md, other, "the selector: nothing but the tree ran")
	}
	assert.Contains(t, md, treeBoundFormula)

	// Each case: a row with its result, bound and the stored-once check.
	row := regexp.MustCompile(`\| 30 files / 3 folders \| 8 \| ok \| [0-9.]+ s \(× 10 = [0-9]+ s\) \| (\d+) \| ([0-9.]+) \| (\d+) \((\d+)\) \| ([0-9.]+) \| ` +
		regexp.QuoteMeta("14 calls (0.47 per file), 3 requests (10.0 files each)") + `.* \| 0 \| \d+ \| yes, 30 of 30 \| \d+ MiB \| \d+ API: `)
	m := row.FindStringSubmatch(md)
	require.NotNil(t, m, "no row for 30/3/8")
	calls, _ := strconv.Atoi(m[1])
	requests, _ := strconv.Atoi(m[3])
	assert.GreaterOrEqual(t, calls, 14, "at least the lower bound")
	assert.GreaterOrEqual(t, requests, 3, "a request per folder at least")
	assert.LessOrEqual(t, requests, 30, "at most a request per file")
	assert.Equal(t, fmt.Sprintf("%.1f", 30/float64(requests)), m[5], "files per request")
	assert.Equal(t, fmt.Sprintf("%.2f", float64(calls)/30), m[2], "calls per file")
	assert.Regexp(t, `\| 6 files / 2 folders \| 4 \(default\) \| ok \| .* \| yes, 6 of 6 \|`, md)
}

func TestBatchScenarioOnATinyTree(t *testing.T) {
	md := runOnly(t, "-only", "batch", "-files", "8", "-folders", "2", "-batch-transfers", "8", "-time-scale", "10")
	assert.Contains(t, md, "## Batched uploads")
	assert.NotContains(t, md, "## Large trees")
	assert.Regexp(t, `\| 8 \| 2 \| 8 \| ok \| .* \| 0 \| \d+ \| 8 \| clean \| yes, 8 of 8 \| \d+ MiB \| \d+ API: .*upload\.cgi`, md)
}

func TestMountBenchScenario(t *testing.T) {
	if why := mountSkipReason(); why != "" {
		t.Skip(why)
	}
	md := runOnly(t, "-only", "mountbench", "-big-mb", "4", "-time-scale", "10")
	for _, label := range []string{mbLocal, mbEmulator, mbLocalNoCheck, mbEmulatorNoCheck, mbCat} {
		assert.Regexp(t, `\| `+regexp.QuoteMeta(label)+` \| ok \| [0-9.]+ s \| [0-9.]+ MB/s \|`, md)
	}
	assert.Regexp(t, `Emulator mount / local mount: [0-9.]+ \(with --no-checksum on both: [0-9.]+\)`, md)
	assert.Regexp(t, `Calls of the reads: \d+ API: .*download/get_token.cgi 1`, md)
	assert.NotContains(t, md, "## Runs that did not succeed")
}

func TestServerSideScenarioOnATinyTree(t *testing.T) {
	md := runOnly(t, "-only", "serverside", "-files", "12", "-folders", "1", "-batch-transfers", "4", "-time-scale", "10")
	assert.Contains(t, md, "## Server-side copy, move and delete")
	assert.NotContains(t, md, "## Batched uploads")
	assert.NotContains(t, md, "## Runs that did not succeed")
	for _, step := range []string{`copy \| ok .* \| \d+ file/cp\.cgi \| [0-9.]+ \| 0 \| \d+ \| yes, 12 of 12 \|`,
		`move \| ok .* \| \d+ file/mv\.cgi \| [0-9.]+ \| 0 \| \d+ \| yes, 12 of 12 \|`,
		`delete \| ok .* \| \d+ file/rm\.cgi \| [0-9.]+ \| 0 \| \d+ \| yes, 0 of 0 \|`} {
		assert.Regexp(t, `\| 12 \| 4 \| `+step, md)
	}
}
