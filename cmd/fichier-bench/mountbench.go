package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
)

// mountStep is one timed read of the mountbench scenario.
type mountStep struct {
	Label string
	Outcome
}

// mountBenchResult is the mountbench scenario: the big file read with dd
// through rclone mount of the emulator and of a local directory, with
// and without the VFS's checksum check, then with rclone cat.
type mountBenchResult struct {
	Skip        string // why it could not run, or ""
	Transport   string // how rclone reached the emulator
	Upload      Outcome
	UploadStats emulator.Stats
	Steps       []mountStep
	ReadStats   emulator.Stats // the reads and cat, after the upload
	Note        string         // the last error or notice of the first step that failed
}

// The mountbench steps.
const (
	mbLocal           = "local"
	mbEmulator        = "emulator"
	mbLocalNoCheck    = "local --no-checksum"
	mbEmulatorNoCheck = "emulator --no-checksum"
	mbCat             = "rclone cat (with API calls)"
)

// runMountBench uploads the big file to a fresh emulator at -time-scale
// (the download host has no rate rule: the scale only shortens the
// upload and listings), then reads it through mounts of the emulator and
// of the local directory holding it. The
// VFS checks a file read from start to end against the remote's first
// hash type, MD5 for a local directory and Whirlpool for 1fichier: the
// --no-checksum reads show what that check costs each.
func (b *bench) runMountBench() {
	mb := &mountBenchResult{Transport: "HTTPS through the emulator's proxy"}
	b.mountBench = mb
	if b.cfg.plainHTTP {
		mb.Transport = "plain HTTP to the emulator's API URL"
	}
	if b.mountSkip != "" {
		mb.Skip = b.mountSkip
		return
	}
	dir := filepath.Join(b.work, "emu-mountbench")
	e, err := b.startScaled(dir, b.cfg.timeScale, b.cfg.plainHTTP)
	if err != nil {
		mb.Upload.Status = "failed (" + err.Error() + ")"
		return
	}
	defer e.Stop()
	log.Printf("mountbench: uploading %d MiB", b.cfg.bigMB)
	mb.Upload, mb.Note = b.timed(e, b.cfg.timeoutBig, b.cfg.ours, "copy", filepath.Dir(b.big), "bench:mountbench")
	mb.UploadStats, _ = e.FetchStats()
	if !mb.Upload.OK() {
		return
	}
	_ = e.ClearStats()
	size := int64(b.cfg.bigMB) << 20
	logFile := filepath.Join(dir, "rclone.log")
	for i, s := range []struct {
		label, remote string
		flags         []string
	}{
		{mbLocal, filepath.Dir(b.big), nil},
		{mbEmulator, "bench:mountbench", nil},
		{mbLocalNoCheck, filepath.Dir(b.big), []string{"--no-checksum"}},
		{mbEmulatorNoCheck, "bench:mountbench", []string{"--no-checksum"}},
	} {
		args := append(append(append([]string{}, b.cfg.mountFlags...), s.flags...), s.remote)
		mnt := filepath.Join(b.work, fmt.Sprintf("mnt-mountbench-%d", i))
		b.mountStep(mb, s.label, b.mountAndRead(e, b.cfg.ours, logFile, mnt, size, true, args...), logFile)
	}
	b.mountStep(mb, mbCat, b.catToNull(e, logFile, "bench:mountbench/big.bin"), logFile)
	mb.ReadStats, _ = e.FetchStats()
}

// mountStep records one step's outcome and logs it.
func (b *bench) mountStep(mb *mountBenchResult, label string, o Outcome, logFile string) {
	mb.Steps = append(mb.Steps, mountStep{Label: label, Outcome: o})
	if !o.OK() && mb.Note == "" {
		mb.Note = lastMessage(logFile)
	}
	log.Printf("mountbench: %s: %s in %.2f s, %s", label, o.Status, o.Wall, mbps(int64(b.cfg.bigMB)<<20, o.Wall))
}

// catToNull times rclone cat of file into /dev/null.
func (b *bench) catToNull(e *emu, logFile, file string) Outcome {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return Outcome{Status: "failed (" + err.Error() + ")"}
	}
	defer func() { _ = null.Close() }()
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.timeoutBig)
	defer cancel()
	cmd := b.rcloneCmd(ctx, e, b.cfg.ours, logFile, "cat", file)
	cmd.Stdout = null
	return runCmd(ctx, cmd, b.cfg.timeoutBig)
}

// step is the outcome of the step labelled label, if it ran.
func (mb *mountBenchResult) step(label string) *Outcome {
	for i := range mb.Steps {
		if mb.Steps[i].Label == label {
			return &mb.Steps[i].Outcome
		}
	}
	return nil
}

// ratio is the emulator mount's rate over the local mount's, from two
// reads of the same bytes, or 0 if either failed.
func (mb *mountBenchResult) ratio(emu, local string) float64 {
	e, l := mb.step(emu), mb.step(local)
	if e == nil || l == nil || !e.OK() || !l.OK() || e.Wall <= 0 {
		return 0
	}
	return l.Wall / e.Wall
}
