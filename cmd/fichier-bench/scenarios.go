package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
)

// runAPIBound runs the scenarios bound by the API's rate rules (copy,
// sync, ls and back to back) for both binaries under every listing
// rule. They spend their time waiting, not computing, so by default
// they all go at once, each with its own emulator: a stuck run then
// costs its time bound once.
func (b *bench) runAPIBound() {
	var wg sync.WaitGroup
	for _, sc := range []string{"copy", "sync", "ls", "back"} {
		if !b.cfg.want(sc) {
			continue
		}
		for _, who := range []string{ours, upstream} {
			for _, rule := range b.cfg.listRules {
				f := func() { b.runAPIScenario(sc, who, rule) }
				if !b.cfg.parallel {
					f()
					continue
				}
				wg.Add(1)
				go func() { defer wg.Done(); f() }()
			}
		}
	}
	wg.Wait()
}

// runAPIScenario runs one API-bound scenario for who under rule.
func (b *bench) runAPIScenario(sc, who string, rule emulator.ListRule) {
	if sc == "back" {
		b.runBackToBack(who, rule)
		return
	}
	r := &result{Scenario: sc, Who: who, Rule: rule}
	dir := filepath.Join(b.work, "emu-"+r.name())
	var e *emu
	var err error
	if sc == "copy" {
		e, err = b.startEmulator(dir, rule)
	} else {
		e, err = b.fromSeed("small", dir, rule)
	}
	if err != nil {
		r.Status = "failed (" + err.Error() + ")"
		b.add(r)
		return
	}
	defer e.Stop()
	bin := b.binary(who)
	switch sc {
	case "copy":
		args := []string{"copy", b.src, "bench:bench/small"}
		if b.cfg.transfers > 0 {
			args = append(args, "--transfers", strconv.Itoa(b.cfg.transfers))
		}
		b.measure(e, r, b.cfg.timeout, bin, args...)
	case "sync":
		b.measure(e, r, b.cfg.timeout, bin, "sync", b.src, "bench:bench/small")
	case "ls":
		o := b.measure(e, r, b.cfg.timeout, bin, "lsf", "-R", "bench:bench/small")
		for _, line := range strings.Split(o.Output, "\n") {
			if line != "" && !strings.HasSuffix(line, "/") {
				r.Listed++
			}
		}
	}
	b.add(r)
}

// runBig uploads the big file to a fresh emulator, then downloads it
// from a fresh emulator holding the seed and compares it.
func (b *bench) runBig(who string) {
	bin := b.binary(who)
	up := &result{Scenario: "up", Who: who, Rule: emulator.ListRuleFolder}
	if e, err := b.startEmulator(filepath.Join(b.work, "emu-"+up.name()), up.Rule); err != nil {
		up.Status = "failed (" + err.Error() + ")"
	} else {
		b.measure(e, up, b.cfg.timeoutBig, bin, "copy", b.big, "bench:bench/big")
		e.Stop()
	}
	b.add(up)

	down := &result{Scenario: "down", Who: who, Rule: emulator.ListRuleFolder}
	dl := filepath.Join(b.work, "dl")
	_ = os.RemoveAll(dl)
	if e, err := b.fromSeed("big", filepath.Join(b.work, "emu-"+down.name()), down.Rule); err != nil {
		down.Status = "failed (" + err.Error() + ")"
	} else {
		o := b.measure(e, down, b.cfg.timeoutBig, bin, "copy", "bench:bench/big/big.bin", dl)
		e.Stop()
		if o.OK() && !sameFile(b.big, filepath.Join(dl, "big.bin")) {
			down.Status = "failed (downloaded file differs)"
		}
	}
	_ = os.RemoveAll(dl)
	b.add(down)
}

// sameFile reports whether two files have the same contents. It
// streams them: the bench's own peak RSS must stay small, as a child
// started by fork and exec reports the parent's high-water RSS as its
// own floor.
func sameFile(a, b string) bool {
	fa, err := os.Open(a)
	if err != nil {
		return false
	}
	defer func() { _ = fa.Close() }()
	fb, err := os.Open(b)
	if err != nil {
		return false
	}
	defer func() { _ = fb.Close() }()
	bufA, bufB := make([]byte, 1<<20), make([]byte, 1<<20)
	for {
		na, errA := io.ReadFull(fa, bufA)
		nb, errB := io.ReadFull(fb, bufB)
		if na != nb || !bytes.Equal(bufA[:na], bufB[:nb]) {
			return false
		}
		if errA != nil || errB != nil {
			// Equal reads so far: both must have ended here.
			return isEnd(errA) && isEnd(errB)
		}
	}
}

// isEnd reports whether err from io.ReadFull means the file ended.
func isEnd(err error) bool { return err == io.EOF || err == io.ErrUnexpectedEOF }

// runMountRead mounts the seeded big file's folder read-only and reads
// the file from start to end with dd.
func (b *bench) runMountRead(who string) {
	r := &result{Scenario: "mount", Who: who, Rule: emulator.ListRuleFolder}
	defer b.add(r)
	dir := filepath.Join(b.work, "emu-"+r.name())
	e, err := b.fromSeed("big", dir, r.Rule)
	if err != nil {
		r.Status = "failed (" + err.Error() + ")"
		return
	}
	defer e.Stop()
	_ = e.ClearStats()
	logFile := filepath.Join(dir, "rclone.log")
	r.Outcome = b.mountAndRead(e, b.binary(who), logFile, filepath.Join(b.work, "mnt-"+who),
		int64(b.cfg.bigMB)<<20, false, "bench:bench/big")
	r.readStats(e)
	if !r.OK() {
		r.Note = lastMessage(logFile)
	}
}

// mountAndRead runs bin's rclone mount --read-only of args (flags, then
// the remote) on mnt, lists the mount first as ls -l would if list is
// set (so that dd's time leaves the listing out), reads big.bin in it
// from start to end with dd, checks it read size bytes and unmounts.
// The Outcome is dd's, with the mount process's peak RSS.
func (b *bench) mountAndRead(e *emu, bin, logFile, mnt string, size int64, list bool, args ...string) Outcome {
	_ = os.MkdirAll(mnt, 0o755)
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.timeoutBig+time.Minute)
	defer cancel()
	cmd := b.rcloneCmd(ctx, e, bin, logFile, append(append([]string{"mount", "--read-only"}, args...), mnt)...)
	if err := cmd.Start(); err != nil {
		return Outcome{Status: "failed (" + err.Error() + ")"}
	}
	var o Outcome
	if !waitMounted(mnt, 60*time.Second) {
		o.Status = "failed (not mounted after 60 s)"
	} else {
		if list {
			listLong(mnt)
		}
		o = b.readWithDD(filepath.Join(mnt, "big.bin"), size)
	}
	unmount(mnt)
	_ = cmd.Wait()
	if ru, ok := rusage(cmd); ok {
		o.RSSKB = ru
	}
	return o
}

// listLong reads dir and stats each entry, as ls -l does.
func listLong(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, d := range entries {
		_, _ = d.Info()
	}
}

// readWithDD reads p to the end with dd and checks it read want bytes.
func (b *bench) readWithDD(p string, want int64) Outcome {
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.timeoutBig)
	defer cancel()
	cmd := exec.CommandContext(ctx, "dd", "if="+p, "of=/dev/null", "bs=1M")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.WaitDelay = waitDelay
	o := runCmd(ctx, cmd, b.cfg.timeoutBig)
	o.RSSKB = 0 // dd's, not rclone's
	// dd reports "N bytes (...) copied" on its last line.
	var n int64
	if f := strings.Fields(lastLine(stderr.String())); len(f) > 0 {
		n, _ = strconv.ParseInt(f[0], 10, 64)
	}
	if o.OK() && n != want {
		o.Status = fmt.Sprintf("failed (read %d of %d bytes)", n, want)
	}
	return o
}

// waitMounted waits until mnt is a mount point, at most limit.
func waitMounted(mnt string, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if isMountPoint(mnt) {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// isMountPoint reports whether mnt is listed in /proc/self/mounts.
func isMountPoint(mnt string) bool {
	data, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == mnt {
			return true
		}
	}
	return false
}

// unmount unmounts mnt, lazily if it is busy.
func unmount(mnt string) {
	if !isMountPoint(mnt) {
		return
	}
	if exec.Command("fusermount3", "-u", mnt).Run() != nil {
		_ = exec.Command("fusermount3", "-uz", mnt).Run()
	}
}
