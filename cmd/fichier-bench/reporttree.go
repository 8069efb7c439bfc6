package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// oneBinarySections are the report's sections for the scenarios of
// bin/rclone alone (batch, tree, mountbench).
const oneBinarySections = `{{with .Batch}}
## Batched uploads

` + "`rclone copy`" + ` of small files (1 to 4 KiB) into a fresh emulator, over
plain HTTP to its API URL, once per ` + "`--transfers`" + ` value; then ` + "`rclone lsf -R`" + `
and ` + "`rclone check`" + ` of the copy. "Stored once" compares the emulator's
` + "`/debug/files`" + ` with the names sent.

| Files | Folders | --transfers | Result | Wall time | API calls | Upload requests | Flood locks | Peak calls/s | Listed (lsf -R) | rclone check | Stored once | Peak RSS | Calls by endpoint |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
{{range .}}| {{.Files}} | {{.Folders}} | {{.Transfers}} | {{.Result}} | {{.Wall}} | {{.Calls}} | {{.Requests}} | {{.Floods}} | {{.Peak}} | {{.Listed}} | {{.Check}} | {{.Stored}} | {{.RSS}} | {{.ByEndpoint}} |
{{end}}{{end}}{{with .Tree}}
## Large trees of small files

` + "`bin/rclone copy`" + ` of a tree of small files (1 to 4 KiB, spread round
robin over the folders) into a fresh emulator, over plain HTTP to its API
URL{{if ne $.Scale 1.0}}, the rules {{$.Scale}} times faster{{end}}. Every copy
started on its own emulator, one at a time.

| Tree | --transfers | Result | Wall time | API calls | API calls per file | Upload requests | Files per request | Lower bound: one request per folder | Flood locks | Peak calls/s | Stored once | Peak RSS | Calls by endpoint |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
{{range .}}| {{.Tree}} | {{.Transfers}} | {{.Result}} | {{.Wall}} | {{.Calls}} | {{.PerFile}} | {{.Requests}} | {{.FilesPerRequest}} | {{.Bound}} | {{.Floods}} | {{.Peak}} | {{.Stored}} | {{.RSS}} | {{.ByEndpoint}} |
{{end}}
- **Lower bound**: ` + treeBoundFormula + `; the time is those
  calls at our backend's default ` + "`api_rate`" + ` of 2 calls/s{{if ne $.Scale 1.0}}, at the real limits
  and ({{$.Scale}} times faster) here{{end}}.
- **API calls** are every call the emulator counted but the download
  host's: the API, ` + "`upload.cgi`" + ` and ` + "`end.pl`" + `, refused calls included.
  **Upload requests** counts ` + "`upload.cgi`" + ` calls (` + "`get_upload_server.cgi`" + ` in
  brackets); files per request is the files over ` + "`upload.cgi`" + ` calls.
{{- if ne $.Scale 1.0}}
- **Wall time** × {{$.Scale}} estimates the time at the real limits: only the
  waiting on the rules speeds up, not the work on the two sides.
{{- end}}
- **Stored once** compares the emulator's ` + "`/debug/files`" + ` with the names
  sent: every one stored exactly once, nothing else.
{{end}}{{with .MountBench}}
## Reads through rclone mount against a local directory

` + "`dd bs=1M`" + ` of one file of {{$.BigMB}} MiB through ` + "`bin/rclone mount --read-only`" + `{{with $.MountFlags}} ` + "`{{.}}`" + `{{end}},
of the emulator ({{.Transport}}) and of the local directory holding the
file; each mount listed before ` + "`dd`" + ` is timed. The VFS checks a file read
from start to end against the remote's first hash type, MD5 for a local
directory, Whirlpool for 1fichier: the ` + "`--no-checksum`" + ` reads show what
that check costs each.
{{with .Skip}}
**Skipped: {{.}}**
{{else}}
Upload of the file: {{step .Upload}}, {{calls .UploadStats}}, {{floods .UploadStats}} flood locks.

| Read | Result | Time | Throughput | Peak RSS |
|---|---|---|---|---|
{{range .Steps}}| {{.Label}} | {{.Status}} | {{printf "%.2f" .Wall}} s | {{mbps (bytes $.BigMB) .Wall}} | {{mib .RSSKB}} |
{{end}}
Emulator mount / local mount: {{$.MountRatio}}.
Calls of the reads: {{calls .ReadStats}}; {{floods .ReadStats}} flood locks.
{{end}}{{end}}`

// oneBinaryRow is one line of the batch or tree table.
type oneBinaryRow struct {
	Tree                                         string
	Files, Folders, Transfers                    string
	Result, Wall, Calls, PerFile, Requests       string
	FilesPerRequest, Bound, Floods, Peak, Stored string
	Listed, Check, RSS, ByEndpoint               string
}

// treeRows are the rows of scenario sc's table, in run order.
func (b *bench) treeRows(sc string) []oneBinaryRow {
	var out []oneBinaryRow
	for _, r := range b.trees {
		if r.Scenario == sc {
			out = append(out, treeRow(r))
		}
	}
	return out
}

// treeRow is r's figures.
func treeRow(r *treeResult) oneBinaryRow {
	st := r.Stats
	calls, uploads := apiCalls(st), st.Calls["upload.cgi"]
	row := oneBinaryRow{
		Tree:  fmt.Sprintf("%d files / %d folders", r.Files, r.Folders),
		Files: fmt.Sprint(r.Files), Folders: fmt.Sprint(r.Folders), Transfers: transfersName(r.Transfers),
		Result: r.Status, Wall: scaledWall(r.Wall, r.Scale), Calls: fmt.Sprint(calls),
		PerFile:  fmt.Sprintf("%.2f", float64(calls)/float64(r.Files)),
		Requests: fmt.Sprintf("%d (%d)", uploads, st.Calls["upload/get_upload_server.cgi"]),
		Bound:    boundCell(r.treeCase, r.Scale),
		Floods:   floods(st), Peak: fmt.Sprint(st.PeakCallRate()), Stored: r.Stored.String(),
		Listed: fmt.Sprint(r.Listed), Check: r.Check, RSS: mib(r.RSSKB), ByEndpoint: callList(st),
		FilesPerRequest: "-",
	}
	if uploads > 0 {
		row.FilesPerRequest = fmt.Sprintf("%.1f", float64(r.Files)/float64(uploads))
	}
	return row
}

// transfersName is a --transfers value as the tables print it.
func transfersName(n int) string {
	if n == 0 {
		return "4 (default)"
	}
	return fmt.Sprint(n)
}

// scaledWall is a wall time and, at a scale, the time it stands for at
// the real limits.
func scaledWall(wall, scale float64) string {
	if scale == 1 {
		return fmt.Sprintf("%.1f s", wall)
	}
	return fmt.Sprintf("%.1f s (× %g = %.0f s)", wall, scale, wall*scale)
}

// boundCell is tc's lower bound: calls, per file, requests, and the
// time at our default api_rate (real, and here at scale).
func boundCell(tc treeCase, scale float64) string {
	requests, calls := treeBound(tc)
	real := float64(calls) / ourRate
	t := fmt.Sprintf("%.0f s", real)
	if scale != 1 {
		t += fmt.Sprintf(" (%.1f s here)", real/scale)
	}
	return fmt.Sprintf("%d calls (%.2f per file), %d requests (%.1f files each): %s at %d/s",
		calls, float64(calls)/float64(tc.Files), requests, float64(tc.Files)/float64(requests), t, ourRate)
}

// mountRatio is the mountbench ratios in the report's words.
func (b *bench) mountRatio() string {
	mb := b.mountBench
	if mb == nil {
		return ""
	}
	both := func(x float64) string {
		if x == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", x)
	}
	return fmt.Sprintf("%s (with --no-checksum on both: %s)",
		both(mb.ratio(mbEmulator, mbLocal)), both(mb.ratio(mbEmulatorNoCheck, mbLocalNoCheck)))
}

// oneBinaryFailures lists the batch, tree and mountbench runs that did
// not succeed.
func (b *bench) oneBinaryFailures() []string {
	var out []string
	for _, r := range b.trees {
		if !r.OK() || !r.Stored.OK() || (r.Check != "" && r.Check != "clean") {
			out = append(out, fmt.Sprintf("%s: %s, stored once: %s; last message: %s", r.name(), r.Status, r.Stored, quoted(r.Note)))
		}
	}
	if mb := b.mountBench; mb != nil && mb.Skip == "" {
		failed := !mb.Upload.OK()
		for _, s := range mb.Steps {
			failed = failed || !s.OK()
		}
		if failed {
			out = append(out, "mountbench: a step failed; last message: "+quoted(mb.Note))
		}
	}
	return out
}

// scaledOptionsText is scaledOptions(scale) as rclone options.
func scaledOptionsText(scale float64) string {
	opts := scaledOptions(scale)
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		parts = append(parts, k+" = "+opts[k])
	}
	return strings.Join(parts, ", ")
}
