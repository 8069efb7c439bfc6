package main

import (
	"fmt"
	"log"
	"path/filepath"
	"strconv"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
)

// The serverside scenario (issue 26): -files small files in one folder,
// uploaded first (not measured), then copied, moved (with a filter, so
// rclone moves file by file rather than the folder at once) and deleted
// server side, each step timed and its calls counted, once per
// -batch-transfers value.

// serverSideStep is one measured step of a serverside run.
type serverSideStep struct {
	Name     string // copy, move or delete
	Endpoint string // the call it batches
	Outcome
	Stats  emulator.Stats
	Stored storedCheck // what the step's destination holds
	Note   string      // the last error or notice of a failed step
}

// serverSideResult is one serverside run.
type serverSideResult struct {
	Files, Transfers int
	Scale            float64
	Setup            string // the upload's outcome when it failed
	Steps            []serverSideStep
}

// name names the run in logs and file names.
func (r *serverSideResult) name() string {
	return fmt.Sprintf("serverside.%d-%d", r.Files, r.Transfers)
}

// The folders of a serverside run.
const (
	ssSrc    = "src"
	ssCopied = "copied"
	ssMoved  = "moved"
)

// runServerSide runs the serverside scenario once per -batch-transfers
// value, one at a time.
func (b *bench) runServerSide() {
	for _, t := range b.cfg.batchTransfers {
		b.runServerSideCase(t)
	}
}

// runServerSideCase uploads the tree into a fresh emulator, then copies,
// moves and deletes it server side at --transfers t (0: rclone's
// default).
func (b *bench) runServerSideCase(t int) {
	r := &serverSideResult{Files: b.cfg.files, Transfers: t, Scale: b.cfg.timeScale}
	defer func() {
		b.mu.Lock()
		b.serverSide = append(b.serverSide, r)
		b.mu.Unlock()
	}()
	src := filepath.Join(b.work, fmt.Sprintf("tree-%d-%d", r.Files, 1))
	if err := makeTree(src, r.Files, 1); err != nil {
		r.Setup = "failed (" + err.Error() + ")"
		return
	}
	e, err := b.startScaled(filepath.Join(b.work, "emu-"+r.name()), b.cfg.timeScale, true)
	if err != nil {
		r.Setup = "failed (" + err.Error() + ")"
		return
	}
	defer e.Stop()
	if o, note := b.timed(e, b.cfg.timeout, b.cfg.ours, "copy", src, "bench:"+ssSrc, "--transfers", "32"); !o.OK() {
		r.Setup = "upload failed: " + note
		return
	}
	names := make([]string, r.Files)
	for i := range names {
		names[i] = treeFile(i, r.Files, 1)
	}
	var flags []string
	if t > 0 {
		flags = []string{"--transfers", strconv.Itoa(t)}
	}
	steps := []struct {
		name, endpoint, dst string
		want                []string
		args                []string
	}{
		{"copy", "file/cp.cgi", ssCopied, names, []string{"copy", "bench:" + ssSrc, "bench:" + ssCopied}},
		{"move", "file/mv.cgi", ssMoved, names, []string{"move", "bench:" + ssCopied, "bench:" + ssMoved, "--include", "*.bin"}},
		{"delete", "file/rm.cgi", ssMoved, nil, []string{"delete", "bench:" + ssMoved}},
	}
	for _, s := range steps {
		step := b.serverSideStep(e, s.name, s.endpoint, append(s.args, flags...))
		step.Stored = b.storedUnder(e, s.dst, s.want)
		r.Steps = append(r.Steps, step)
		log.Printf("%s: %s %s in %.1f s, %d %s calls, %d API calls, stored once: %s",
			r.name(), s.name, step.Status, step.Wall, step.Stats.Calls[s.endpoint], s.endpoint, apiCalls(step.Stats), step.Stored)
		if !step.OK() {
			return
		}
	}
}

// serverSideStep runs one step with the emulator's counters cleared
// first, and reads them after.
func (b *bench) serverSideStep(e *emu, name, endpoint string, args []string) serverSideStep {
	step := serverSideStep{Name: name, Endpoint: endpoint}
	if err := e.ClearStats(); err != nil {
		step.Status, step.Note = "failed", err.Error()
		return step
	}
	step.Outcome, step.Note = b.timed(e, b.cfg.timeout, b.cfg.ours, args...)
	st, err := e.FetchStats()
	if err != nil {
		log.Printf("serverside %s: stats: %v", name, err)
	}
	step.Stats = st
	return step
}

// storedUnder compares what e stores under folder dst with want.
func (b *bench) storedUnder(e *emu, dst string, want []string) storedCheck {
	files, err := storedFiles(e)
	if err != nil {
		return storedCheck{Want: len(want), Err: err.Error()}
	}
	return checkStored(files, dst, want)
}

// serverSideRows are the rows of the serverside table.
func (b *bench) serverSideRows() []oneBinaryRow {
	var out []oneBinaryRow
	for _, r := range b.serverSide {
		if r.Setup != "" {
			out = append(out, oneBinaryRow{Files: fmt.Sprint(r.Files), Transfers: transfersName(r.Transfers), Tree: "-", Result: r.Setup})
			continue
		}
		for _, s := range r.Steps {
			calls := s.Stats.Calls[s.Endpoint]
			row := oneBinaryRow{
				Files: fmt.Sprint(r.Files), Transfers: transfersName(r.Transfers), Tree: s.Name,
				Result: s.Status, Wall: scaledWall(s.Wall, r.Scale), Calls: fmt.Sprint(apiCalls(s.Stats)),
				Requests: fmt.Sprintf("%d %s", calls, s.Endpoint), FilesPerRequest: "-",
				Floods: floods(s.Stats), Peak: fmt.Sprint(s.Stats.PeakCallRate()), Stored: s.Stored.String(),
				RSS: mib(s.RSSKB), ByEndpoint: callList(s.Stats),
			}
			if calls > 0 {
				row.FilesPerRequest = fmt.Sprintf("%.1f", float64(r.Files)/float64(calls))
			}
			out = append(out, row)
		}
	}
	return out
}

// serverSideFailures lists the serverside runs and steps that did not
// succeed.
func (b *bench) serverSideFailures() []string {
	var out []string
	for _, r := range b.serverSide {
		if r.Setup != "" {
			out = append(out, r.name()+": "+r.Setup)
		}
		for _, s := range r.Steps {
			if !s.OK() || !s.Stored.OK() {
				out = append(out, fmt.Sprintf("%s %s: %s, stored once: %s; last message: %s", r.name(), s.Name, s.Status, s.Stored, quoted(s.Note)))
			}
		}
	}
	return out
}

// serverSideSection is the report's section for the serverside scenario.
const serverSideSection = `{{with .ServerSide}}
## Server-side copy, move and delete

{{$.Files}} small files in one folder, uploaded first (not counted), then
` + "`rclone copy bench:src bench:copied`" + `, ` + "`rclone move bench:copied bench:moved --include '*.bin'`" + `
(the filter makes rclone move file by file rather than the folder at once)
and ` + "`rclone delete bench:moved`" + `, each with its own count of calls, once per
` + "`--transfers`" + ` value (the delete is paced by rclone's ` + "`--checkers`" + `, 8). "Stored
once" compares the emulator's ` + "`/debug/files`" + ` under the step's destination
with the names: every file once after the copy and the move, none after the
delete.

| Files | --transfers | Step | Result | Wall time | API calls | Batched calls | Files per call | Flood locks | Peak calls/s | Stored once | Peak RSS | Calls by endpoint |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
{{range .}}| {{.Files}} | {{.Transfers}} | {{.Tree}} | {{.Result}} | {{.Wall}} | {{.Calls}} | {{.Requests}} | {{.FilesPerRequest}} | {{.Floods}} | {{.Peak}} | {{.Stored}} | {{.RSS}} | {{.ByEndpoint}} |
{{end}}{{end}}`
