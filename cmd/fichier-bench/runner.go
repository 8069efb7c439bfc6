package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
)

// benchKey is the API key of the benchmark's account.
const benchKey = "bench-key"

// waitDelay is how long a stopped command may take to exit before it is
// killed.
const waitDelay = 30 * time.Second

// emu is one emulator process of a run, reached through its proxy.
type emu struct {
	*fichiertest.Emulator
	dir string
}

// startEmulator starts an emulator whose state and logs live in dir,
// with the rate rules under rule, plus args.
func (b *bench) startEmulator(dir string, rule emulator.ListRule, args ...string) (*emu, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "emulator.err"))
	if err != nil {
		return nil, err
	}
	defer func() { _ = logf.Close() }() // the child keeps its own descriptor
	args = append([]string{"--key", benchKey, "--proxy", "127.0.0.1:0",
		"--ca-out", filepath.Join(dir, "ca.pem"), "--list-rule", string(rule)}, args...)
	e, err := fichiertest.LaunchEmulator(b.cfg.emulatorBin, logf, args...)
	if err != nil {
		return nil, fmt.Errorf("emulator in %s: %w", dir, err)
	}
	return &emu{Emulator: e, dir: dir}, nil
}

// fromSeed starts an emulator on a copy of seed name's data: hard links,
// as the emulator replaces files and never rewrites them.
func (b *bench) fromSeed(name, dir string, rule emulator.ListRule) (*emu, error) {
	data := filepath.Join(dir, "data")
	if err := linkTree(filepath.Join(b.work, "seed-"+name, "data"), data); err != nil {
		return nil, err
	}
	return b.startEmulator(dir, rule, "--data", data)
}

// linkTree recreates the tree src at dst with hard links.
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		return os.Link(p, filepath.Join(dst, rel))
	})
}

// rcloneEnv is the environment of an rclone process on e: its proxy,
// the "bench" remote defined by variables only, and a cache directory of
// e's own. Our backend keeps one account state per API URL and key in
// the cache directory, for every process of the machine: runs against
// different emulators, which all look like api.1fichier.com with the
// same key, must not share it (the commands of one back-to-back run
// do).
func (b *bench) rcloneEnv(e *emu) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(name) {
		case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "RCLONE_CONFIG", "RCLONE_CACHE_DIR":
			continue
		}
		env = append(env, kv)
	}
	proxy := "http://" + e.Proxy
	return append(env, "HTTPS_PROXY="+proxy, "https_proxy="+proxy,
		"RCLONE_CONFIG="+filepath.Join(b.work, "rclone.conf"),
		"RCLONE_CACHE_DIR="+filepath.Join(e.dir, "cache"),
		fichiertest.EnvName("bench", "type")+"=fichier",
		fichiertest.EnvName("bench", "api_key")+"="+benchKey)
}

// rcloneCmd is bin with args against e, logging to logFile, bounded by
// ctx.
func (b *bench) rcloneCmd(ctx context.Context, e *emu, bin, logFile string, args ...string) *exec.Cmd {
	full := append([]string{"--ca-cert", e.CA, "-v", "--log-file", logFile}, b.cfg.extraFlags...)
	cmd := exec.CommandContext(ctx, bin, append(full, args...)...)
	cmd.Env = b.rcloneEnv(e)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = waitDelay
	return cmd
}

// Outcome is how one command ended.
type Outcome struct {
	Status string  // "ok", "did not finish in T", "failed (...)"
	Wall   float64 // seconds
	RSSKB  int64   // peak resident set size, KiB
	Output string  // standard output
}

// OK reports whether the command succeeded.
func (o Outcome) OK() bool { return o.Status == "ok" }

// runCmd runs cmd (made with ctx, bounded by limit) and measures it.
func runCmd(ctx context.Context, cmd *exec.Cmd, limit time.Duration) Outcome {
	var out strings.Builder
	cmd.Stdout = &out
	var stderr strings.Builder
	if cmd.Stderr == nil {
		cmd.Stderr = &stderr
	}
	start := time.Now()
	err := cmd.Run()
	o := Outcome{Wall: time.Since(start).Seconds(), Output: out.String(), Status: "ok"}
	o.RSSKB, _ = rusage(cmd)
	o.Status = statusOf(ctx, err, limit)
	if o.Status != "ok" && stderr.Len() > 0 {
		log.Printf("%s: %s", filepath.Base(cmd.Path), lastLine(stderr.String()))
	}
	return o
}

// statusOf turns a command's error into the report's result words.
func statusOf(ctx context.Context, err error, limit time.Duration) string {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "ok"
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "did not finish in " + fmtDuration(limit)
	case errors.As(err, &ee):
		return fmt.Sprintf("failed (exit %d)", ee.ExitCode())
	}
	return "failed (" + err.Error() + ")"
}

// fmtDuration prints whole hours as 1h, whole minutes as 20m, and
// other durations as time.Duration does.
func fmtDuration(d time.Duration) string {
	switch {
	case d > 0 && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d > 0 && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// measure runs one rclone command against e, bounded by limit, with the
// emulator's counters reset before and read after.
func (b *bench) measure(e *emu, res *result, limit time.Duration, bin string, args ...string) Outcome {
	if err := e.ClearStats(); err != nil {
		log.Printf("%s: %v", res.name(), err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, limit)
	defer cancel()
	logFile := filepath.Join(e.dir, "rclone.log")
	o := runCmd(ctx, b.rcloneCmd(ctx, e, bin, logFile, args...), limit)
	res.Outcome = o
	res.readStats(e)
	if !o.OK() {
		res.Note = lastMessage(logFile)
	}
	return o
}

// lastMessage is the last error or notice of an rclone log.
func lastMessage(logFile string) string {
	data, err := os.ReadFile(logFile)
	if err != nil {
		return ""
	}
	msg := ""
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, "Config file") {
			continue
		}
		if strings.Contains(line, "ERROR") || strings.Contains(line, "Failed") || strings.Contains(line, "NOTICE") {
			msg = line
		}
	}
	// Drop rclone's date and time.
	if f := strings.SplitN(msg, " ", 3); len(f) == 3 && strings.Count(f[0], "/") == 2 {
		msg = f[2]
	}
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return msg
}

// rusage is a finished command's peak resident set size in KiB.
func rusage(cmd *exec.Cmd) (int64, bool) {
	if cmd.ProcessState == nil {
		return 0, false
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, false
	}
	return ru.Maxrss, true // KiB on Linux
}
