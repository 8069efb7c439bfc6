package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
)

// reportFuncs are the template's helpers.
var reportFuncs = template.FuncMap{
	"rule":   ruleName,
	"floods": floods,
	"calls":  callList,
	"mbps":   mbps,
	"step": func(o Outcome) string {
		if o.OK() {
			return fmt.Sprintf("%.1f s", o.Wall)
		}
		return fmt.Sprintf("**%s** (%.1f s)", o.Status, o.Wall)
	},
	"broken": func(st emulator.Stats) string {
		if len(st.BrokenRules) == 0 {
			return "none"
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(st.BrokenRules)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, st.BrokenRules[k]))
		}
		return strings.Join(parts, ", ")
	},
	"bytes": func(mb int) int64 { return int64(mb) << 20 },
	"mib":   mib,
}

// reportTemplate is BENCHMARKS.md.
var reportTemplate = template.Must(template.New("report").Funcs(reportFuncs).Parse(
	`{{if .Main}}# Benchmarks: rclone-fichier against upstream rclone

Written by ` + "`make bench`" + ` (` + "`cmd/fichier-bench`" + `); do not edit by hand.
What each scenario measures and how to read the lower bounds:
[docs/benchmarks.md](docs/benchmarks.md). Figures measured one scenario at a
time (Whirlpool, mount reads, batched uploads, large trees, concurrent
commands): [docs/measurements.md](docs/measurements.md).
{{- else}}# fichier-bench: {{.Selected}}

Written by ` + "`{{.Command}}`" + `. What each scenario measures:
[docs/benchmarks.md](docs/benchmarks.md).
{{- end}}

| Machine and run | |
|---|---|
| Date (UTC) | {{.Date}} |
| CPU | {{.CPU}} |
| Memory | {{.Memory}} |
| OS | {{.OS}} |
| Go | {{.Go}} |
| ours | ` + "`{{.Ours}}`" + ` (` + "`bin/rclone`" + `: rclone with this repository's fichier backend) |
{{- if not .Main}}
| Emulator | ` + "`bin/fichier-emulator`" + `{{if eq .Scale 1.0}}, documented limits, unscaled: 3 calls/s per key, one listing per folder per 30 s, 5 minute flood lock{{else}}, rules {{.Scale}} times faster (` + "`--time-scale {{.Scale}}`" + `), the remote paced to match: ` + "`{{.ScaledOptions}}`" + `{{end}} |
{{- with .Flags}}
| Flags | ` + "`{{.}}`" + ` on every rclone command |
{{- end}}
{{- else}}
| upstream | ` + "`{{.Upstream}}`" + ` (` + "`bin/rclone-upstream`" + `: ` + "`github.com/rclone/rclone`" + ` at the version go.mod requires) |
| Emulator | ` + "`bin/fichier-emulator`" + `, documented limits, unscaled: 3 calls/s per key, one listing per folder per 30 s, 5 minute flood lock |
| Listing rule | the API-bound scenarios run under both readings of "1 request per folder per 30s" (` + "`--list-rule`" + `): **folder**, ` + "`folder/ls.cgi`" + ` and ` + "`file/ls.cgi`" + ` of a folder share one slot (the emulator's default); **endpoint**, each endpoint has its own slot. The transfers run under folder. |
| Path | both binaries through the emulator's HTTPS proxy (` + "`HTTPS_PROXY`, `--ca-cert`" + `), plain ` + "`type = fichier`" + ` remote, default ` + "`api_url`" + `; loopback only |
| Flags | identical for both: rclone defaults{{with .Flags}} plus ` + "`{{.}}`" + `{{end}} (` + "`--transfers 4`, `--retries 3`, `--low-level-retries 10`" + `){{if .Transfers}}; the copy with ` + "`--transfers {{.Transfers}}`" + `{{end}} |
| Data | {{.Files}} files of 1-10 KiB in {{.Folders}} folders; one file of {{.BigMB}} MiB; 9 files in 3 folders for the back-to-back commands |
| Bounds | each copy, sync, ls and back-to-back command stopped after {{.Timeout}}; each upload, download and mount run after {{.TimeoutBig}} |
{{- end}}
| Total run time | {{printf "%.1f" .Minutes}} minutes |
{{- if .Main}}

| Scenario | Binary | Listing rule | Result | Wall time | Lower bound | Emulator calls | Flood locks | Peak calls/s | Throughput | Peak RSS |
|---|---|---|---|---|---|---|---|---|---|---|
{{range .Rows}}| {{.Scenario}} | {{.Binary}} | {{.Rule}} | {{.Result}} | {{.Wall}} | {{.Bound}} | {{.Calls}} | {{.Floods}} | {{.Peak}} | {{.Throughput}} | {{.RSS}} |
{{end}}{{with .Curl}}| 4. upload + download {{$.BigMB}} MiB | curl | folder | upload {{.Up.Status}}, download {{.Down.Status}} | {{printf "%.1f" .Up.Wall}} s + {{printf "%.1f" .Down.Wall}} s | transfer limit | {{calls .Stats}} | {{floods .Stats}} | {{.Stats.PeakCallRate}} | {{mbps (bytes $.BigMB) .Up.Wall}} up, {{mbps (bytes $.BigMB) .Down.Wall}} down | - |
{{end}}{{with .CurlSkip}}| 4. curl baseline | curl | | **skipped: {{.}}** | | | | | | | |
{{end}}{{with .MountSkip}}| 5. read through mount | both | | **skipped: {{.}}** | | | | | | | |
{{end}}
- **Lower bound**: the API calls the scenario needs at least, divided by
  1fichier's documented 3 calls/s (and by our backend's default
  ` + "`api_rate`" + ` of 2/s). A copy needs one listing, one ` + "`mkdir`" + ` per folder and
  3 calls per upload request (` + "`get_upload_server`" + `, ` + "`upload.cgi`, `end.pl`" + `):
  one request per file when files go one at a time (upstream), one per
  folder at best when they are batched (ours; how many files meet in a
  batch depends on ` + "`--transfers`" + `). A listing needs one call per folder. For the big transfers the bound is
  curl making the same HTTP requests through the same proxy.
- **Emulator calls** are counted by the emulator (` + "`/debug/stats`" + `),
  refused calls included; "API" excludes the download host (` + "`download`" + `).
  **Peak calls/s** is the most calls the emulator saw from the key in
  any sliding one-second window (the documented limit is 3).
- **Throughput** of the big file is its size over the wall time of the
  whole command (for the mount, of ` + "`dd`" + `). Whirlpool makes these
  CPU-bound: the emulator hashes every upload, and ` + "`rclone copy`" + ` hashes
  what it sends and receives (ours with this repository's ` + "`whirlpool/`" + `,
  upstream with the slower original).
- **Peak RSS** is the rclone process's maximum resident set size (from
  the kernel's rusage of the finished process).
- Every measured run starts on a fresh emulator (fresh flood and listing
  clocks) holding the same seeded contents. {{if .Parallel}}The API-bound runs went at
  the same time, each against its own emulator (they wait on the rate
  rules, not the CPU); the transfers ran one at a time.{{else}}Every run went one at a time.{{end}}
{{- end}}
{{with .Readings}}
## Does the listing reading matter?

Each API-bound run under the two readings of the listing rule. "Same
calls" means the same result and the same API calls, endpoint by
endpoint.

| Scenario | Binary | folder (one shared slot) | endpoint (a slot per endpoint) | Same calls |
|---|---|---|---|---|
{{range .}}| {{.Scenario}} | {{.Binary}} | {{.Folder}} | {{.Endpoint}} | {{.SameCalls}} |
{{end}}{{end}}{{with .Back}}
## Commands back to back

After a copy of 9 files in 3 folders, each command starts as soon as
the one before ends, as a user would type them; then ` + "`rclone mount --daemon`" + `
is timed until the mount lists the tree. Flood locks, broken rules and
peak calls/s count the commands after the copy.

| Binary | Listing rule |{{range $.BackSteps}} {{.}} |{{end}} Flood locks | Broken rules | Peak calls/s |
|---|---|{{range $.BackSteps}}---|{{end}}---|---|---|
{{range .}}| {{.Who}} | {{rule .Rule}} |{{range .Steps}} {{step .Outcome}} |{{end}} {{floods .Stats}} | {{broken .Stats}} | {{.Stats.PeakCallRate}} |
{{end}}{{end}}` + oneBinarySections + serverSideSection + `{{with .Failures}}
## Runs that did not succeed

{{range .}}- {{.}}
{{end}}{{end}}`))
