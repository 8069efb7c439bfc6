package main

import (
	"fmt"
	"log"
	"maps"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
)

// Rates used for the lower bounds: 1fichier's documented 3 calls/s, and
// our backend's default api_rate.
const (
	docRate = 3
	ourRate = 2
)

// report is what the template prints.
type report struct {
	Date, CPU, Memory, OS, Go string
	Ours, Upstream            string
	Files, Folders, Transfers int
	Timeout, TimeoutBig       string
	Parallel                  bool
	Flags                     string
	Minutes                   float64
	Rows                      []row
	Readings                  []reading
	Back                      []*backResult
	BackSteps                 []string
	Curl                      *curlResult
	BigMB                     int
	MountSkip, CurlSkip       string
	Failures                  []string

	Main              bool   // the scenarios of BENCHMARKS.md ran
	Selected, Command string // -only's scenarios, the command line
	Scale             float64
	ScaledOptions     string
	Batch, Tree       []oneBinaryRow
	ServerSide        []oneBinaryRow
	MountBench        *mountBenchResult
	MountFlags        string
	MountRatio        string
}

// row is one line of the main table.
type row struct {
	Scenario, Binary, Rule, Result, Wall, Bound, Calls, Floods, Peak, Throughput, RSS string
}

// reading compares one scenario of one binary under the two readings
// of the listing rule.
type reading struct {
	Scenario, Binary string
	Folder, Endpoint string // result and wall time
	SameCalls        string
}

// scenarioTitles name the rows, in order.
func (b *bench) scenarioTitle(sc string) string {
	c := b.cfg
	switch sc {
	case "copy":
		t := fmt.Sprintf("1. copy %d files / %d folders", c.files, c.folders)
		if c.transfers > 0 {
			t += fmt.Sprintf(" (--transfers %d)", c.transfers)
		}
		return t
	case "sync":
		return "2. no-op sync"
	case "ls":
		return "3. lsf -R"
	case "up":
		return fmt.Sprintf("4a. upload %d MiB", c.bigMB)
	case "down":
		return fmt.Sprintf("4b. download %d MiB", c.bigMB)
	case "mount":
		return fmt.Sprintf("5. read %d MiB through mount", c.bigMB)
	}
	return sc
}

// ruleName says which reading a row ran under.
func ruleName(r emulator.ListRule) string {
	if r == emulator.ListRuleEndpoint {
		return "endpoint (a slot per endpoint)"
	}
	return "folder (one shared slot)"
}

// bound is a scenario's lower bound. Every copy makes one folder per
// folder of the tree plus the two of the destination path, after one
// listing; then 3 calls per upload request (get_upload_server, upload.cgi,
// end.pl), which is one request per file without batching and, at best,
// one per folder with it.
func (b *bench) bound(sc string) string {
	folders := b.cfg.folders + 3
	switch sc {
	case "copy":
		return fmt.Sprintf("a file at a time: %s; batched by folder: %s",
			callsBound(3*b.cfg.files+folders), callsBound(3*b.cfg.folders+folders))
	case "sync", "ls":
		return callsBound(folders)
	case "up":
		return b.curlBound(b.curlUp())
	case "down", "mount":
		return b.curlBound(b.curlDown())
	}
	return "-"
}

// callsBound is the time calls take at 1fichier's documented rate and at
// our default api_rate.
func callsBound(calls int) string {
	return fmt.Sprintf("%d calls: %.0f s at %d/s (%.0f s at %d/s)", calls,
		float64(calls)/docRate, docRate, float64(calls)/ourRate, ourRate)
}

func (b *bench) curlUp() *Outcome {
	if b.curl == nil {
		return nil
	}
	return &b.curl.Up
}

func (b *bench) curlDown() *Outcome {
	if b.curl == nil {
		return nil
	}
	return &b.curl.Down
}

// curlBound is curl's time for a transfer, the bound of that transfer.
func (b *bench) curlBound(o *Outcome) string {
	if o == nil || !o.OK() {
		return "-"
	}
	return fmt.Sprintf("curl: %.1f s", o.Wall)
}

// apiCalls is the number of API calls (not downloads or /dir) in st.
func apiCalls(st emulator.Stats) int64 {
	var n int64
	for k, v := range st.Calls {
		if k != "download" && k != "dir" {
			n += v
		}
	}
	return n
}

// callList is "N API: endpoint n, ..." by count.
func callList(st emulator.Stats) string {
	if len(st.Calls) == 0 {
		return "-"
	}
	keys := slices.Collect(maps.Keys(st.Calls))
	slices.SortFunc(keys, func(a, b string) int {
		if d := st.Calls[b] - st.Calls[a]; d != 0 {
			return int(d)
		}
		return strings.Compare(a, b)
	})
	var parts []string
	for _, k := range keys {
		if st.Calls[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, st.Calls[k]))
		}
	}
	return fmt.Sprintf("%d API: %s", apiCalls(st), strings.Join(parts, ", "))
}

// floods is the flood locks and refusals of st.
func floods(st emulator.Stats) string {
	if st.FloodRejected > 0 {
		return fmt.Sprintf("**%d** (%d refused)", st.FloodLocks, st.FloodRejected)
	}
	return fmt.Sprint(st.FloodLocks)
}

// mib prints KiB as MiB.
func mib(kb int64) string {
	if kb == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MiB", float64(kb)/1024)
}

// throughput is a finished run's rate.
func (b *bench) throughput(r *result) string {
	if !r.OK() || r.Wall <= 0 {
		if r.Scenario == "ls" {
			return fmt.Sprintf("%d files listed", r.Listed)
		}
		return "-"
	}
	switch r.Scenario {
	case "copy":
		return fmt.Sprintf("%.2f files/s", float64(b.cfg.files)/r.Wall)
	case "ls":
		return fmt.Sprintf("%d files listed", r.Listed)
	case "up", "down", "mount":
		return mbps(int64(b.cfg.bigMB)<<20, r.Wall)
	}
	return "-"
}

// mbps is bytes over seconds in MB/s.
func mbps(bytes int64, s float64) string {
	if s <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f MB/s", float64(bytes)/s/1e6)
}

// rows builds the main table from the results, in report order.
func (b *bench) rows() []row {
	order := []string{"copy", "sync", "ls", "up", "down", "mount"}
	rs := slices.Clone(b.results)
	slices.SortStableFunc(rs, func(x, y *result) int {
		if d := slices.Index(order, x.Scenario) - slices.Index(order, y.Scenario); d != 0 {
			return d
		}
		if x.Who != y.Who {
			return strings.Compare(x.Who, y.Who) // ours before upstream
		}
		return slices.Index(b.cfg.listRules, x.Rule) - slices.Index(b.cfg.listRules, y.Rule)
	})
	var out []row
	for _, r := range rs {
		out = append(out, row{
			Scenario: b.scenarioTitle(r.Scenario), Binary: r.Who, Rule: ruleName(r.Rule),
			Result: r.Status, Wall: fmt.Sprintf("%.1f s", r.Wall), Bound: b.bound(r.Scenario),
			Calls: callList(r.Stats), Floods: floods(r.Stats), Peak: fmt.Sprint(r.Stats.PeakCallRate()),
			Throughput: b.throughput(r), RSS: mib(r.RSSKB),
		})
	}
	return out
}

// readings compares each API-bound run under the two listing readings.
func (b *bench) readings() []reading {
	find := func(sc, who string, rule emulator.ListRule) *result {
		for _, r := range b.results {
			if r.Scenario == sc && r.Who == who && r.Rule == rule {
				return r
			}
		}
		return nil
	}
	var out []reading
	for _, sc := range []string{"copy", "sync", "ls"} {
		for _, who := range []string{ours, upstream} {
			f, e := find(sc, who, emulator.ListRuleFolder), find(sc, who, emulator.ListRuleEndpoint)
			if f == nil || e == nil {
				continue
			}
			same := "no"
			if maps.Equal(f.Stats.Calls, e.Stats.Calls) && f.Status == e.Status {
				same = "yes"
			}
			out = append(out, reading{
				Scenario: b.scenarioTitle(sc), Binary: who, SameCalls: same,
				Folder:   fmt.Sprintf("%s, %.1f s, %d API calls, %s flood locks", f.Status, f.Wall, apiCalls(f.Stats), floods(f.Stats)),
				Endpoint: fmt.Sprintf("%s, %.1f s, %d API calls, %s flood locks", e.Status, e.Wall, apiCalls(e.Stats), floods(e.Stats)),
			})
		}
	}
	return out
}

// failures lists the runs that did not succeed, in rclone's own words.
func (b *bench) failures() []string {
	var out []string
	for _, r := range b.results {
		if !r.OK() {
			out = append(out, fmt.Sprintf("%s: %s; last message: %s", r.name(), r.Status, quoted(r.Note)))
		}
	}
	for _, br := range b.back {
		if br.Failed != "" {
			out = append(out, fmt.Sprintf("back.%s.%s: %s was the first command to fail; last message: %s",
				br.Who, br.Rule, br.Failed, quoted(br.Note)))
		}
	}
	out = append(out, b.oneBinaryFailures()...)
	out = append(out, b.serverSideFailures()...)
	slices.Sort(out)
	return out
}

// quoted puts a log message in backquotes, or says none was logged.
func quoted(s string) string {
	if s == "" {
		return "none logged"
	}
	return "`" + strings.ReplaceAll(s, "`", "'") + "`"
}

// writeReport writes the report file.
func (b *bench) writeReport(took time.Duration) error {
	slices.SortFunc(b.back, func(x, y *backResult) int {
		if x.Who != y.Who {
			return strings.Compare(x.Who, y.Who)
		}
		return slices.Index(b.cfg.listRules, x.Rule) - slices.Index(b.cfg.listRules, y.Rule)
	})
	rep := report{
		Date: time.Now().UTC().Format("2006-01-02 15:04"), CPU: cpuModel(), Memory: memTotal(),
		OS: osRelease(), Go: runtime.Version(),
		Ours: version(b.cfg.ours), Upstream: version(b.cfg.upstream),
		Files: b.cfg.files, Folders: b.cfg.folders, Transfers: b.cfg.transfers,
		Timeout: fmtDuration(b.cfg.timeout), TimeoutBig: fmtDuration(b.cfg.timeoutBig), Parallel: b.cfg.parallel,
		Flags: strings.Join(b.cfg.extraFlags, " "), Minutes: took.Minutes(),
		Rows: b.rows(), Readings: b.readings(), Back: b.back, Curl: b.curl, BigMB: b.cfg.bigMB,
		MountSkip: b.mountSkip, CurlSkip: b.curlSkip, Failures: b.failures(),
		Main: b.cfg.wantMain(), Selected: strings.Join(b.cfg.scenarios, ", "),
		Command: shellLine(append([]string{"bin/fichier-bench"}, b.cfg.args...)),
		Scale:   b.cfg.timeScale, ScaledOptions: scaledOptionsText(b.cfg.timeScale),
		Batch: b.treeRows("batch"), Tree: b.treeRows("tree"), MountBench: b.mountBench, ServerSide: b.serverSideRows(),
		MountFlags: strings.Join(b.cfg.mountFlags, " "), MountRatio: b.mountRatio(),
	}
	if len(b.back) > 0 {
		for _, s := range b.back[0].Steps {
			rep.BackSteps = append(rep.BackSteps, s.Name)
		}
	}
	var sb strings.Builder
	if err := reportTemplate.Execute(&sb, rep); err != nil {
		return err
	}
	if b.cfg.out == "-" {
		_, err := os.Stdout.WriteString(sb.String())
		log.Printf("benchmark took %.1f minutes", took.Minutes())
		return err
	}
	if err := os.WriteFile(b.cfg.out, []byte(sb.String()), 0o644); err != nil {
		return err
	}
	log.Printf("wrote %s (benchmark took %.1f minutes)", b.cfg.out, took.Minutes())
	return nil
}

// shellLine is args as a shell command line: the words with spaces or
// quotes in single quotes.
func shellLine(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = a
		if a == "" || strings.ContainsAny(a, " \t'\"\\$`*?;&|<>()") {
			quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(quoted, " ")
}

// version is the first line of bin's "version".
func version(bin string) string {
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}

// cpuModel is the machine's CPU and core count.
func cpuModel() string {
	model := "unknown"
	data, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			model = strings.TrimSpace(v)
			break
		}
	}
	return fmt.Sprintf("%s, %d cores", model, runtime.NumCPU())
}

// memTotal is the machine's memory.
func memTotal() string {
	data, _ := os.ReadFile("/proc/meminfo")
	var kb int64
	for _, line := range strings.Split(string(data), "\n") {
		if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil {
			return fmt.Sprintf("%.1f GiB", float64(kb)/1048576)
		}
	}
	return "unknown"
}

// osRelease is the kernel's name and release.
func osRelease() string {
	out, err := exec.Command("uname", "-sr").Output()
	if err != nil {
		return runtime.GOOS
	}
	return strings.TrimSpace(string(out))
}
