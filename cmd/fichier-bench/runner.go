package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
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

// emu is one emulator process of a run, reached through its proxy
// unless plain is set.
type emu struct {
	*fichiertest.Emulator
	dir   string
	plain bool              // reach it over plain HTTP at its API URL
	opts  map[string]string // more options of the bench remote
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

// startScaled starts an emulator in dir whose rules run scale times
// faster (--time-scale), under the folder reading of the listing rule,
// with the bench remote paced to match (scaledOptions) and reached over
// plain HTTP when plain is set.
func (b *bench) startScaled(dir string, scale float64, plain bool) (*emu, error) {
	var args []string
	if scale != 1 {
		args = []string{"--time-scale", strconv.FormatFloat(scale, 'g', -1, 64)}
	}
	e, err := b.startEmulator(dir, emulator.ListRuleFolder, args...)
	if err != nil {
		return nil, err
	}
	e.plain, e.opts = plain, scaledOptions(scale)
	return e, nil
}

// scaledOptions are the backend's options for an emulator running
// scale times faster: its default pacing (2 calls/s, 30 s between
// listings of a folder, listings kept 10 minutes, 5 minutes after a
// flood) sped up as much; the clocks that have no option follow the
// emulator's answers. Unlike the tests' fichiertest.RateOptions it keeps the default
// 2 calls/s, so that a wall time times scale estimates one at the real
// limits. At scale 1 it sets nothing: the defaults.
func scaledOptions(scale float64) map[string]string {
	if scale == 1 {
		return nil
	}
	d := func(real time.Duration) string { return time.Duration(float64(real) / scale).String() }
	return map[string]string{
		"api_rate":        strconv.FormatFloat(ourRate*scale, 'g', -1, 64),
		"list_interval":   d(30 * time.Second),
		"list_cache_time": d(10 * time.Minute),
		"flood_wait":      d(5 * time.Minute),
	}
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
	if e.plain {
		env = append(env, fichiertest.EnvName("bench", "api_url")+"="+e.APIURL)
	} else {
		proxy := "http://" + e.Proxy
		env = append(env, "HTTPS_PROXY="+proxy, "https_proxy="+proxy)
	}
	for _, k := range slices.Sorted(maps.Keys(e.opts)) {
		env = append(env, fichiertest.EnvName("bench", k)+"="+e.opts[k])
	}
	return append(env, "RCLONE_CONFIG="+filepath.Join(b.work, "rclone.conf"),
		"RCLONE_CACHE_DIR="+filepath.Join(e.dir, "cache"),
		fichiertest.EnvName("bench", "type")+"=fichier",
		fichiertest.EnvName("bench", "api_key")+"="+benchKey)
}

// rcloneCmd is bin with args against e, logging to logFile, bounded by
// ctx.
func (b *bench) rcloneCmd(ctx context.Context, e *emu, bin, logFile string, args ...string) *exec.Cmd {
	full := []string{"-v", "--log-file", logFile}
	if !e.plain {
		full = append([]string{"--ca-cert", e.CA}, full...)
	}
	full = append(full, b.cfg.extraFlags...)
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
// Its standard output lands in the Outcome unless cmd.Stdout is set.
func runCmd(ctx context.Context, cmd *exec.Cmd, limit time.Duration) Outcome {
	var out strings.Builder
	if cmd.Stdout == nil {
		cmd.Stdout = &out
	}
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
	o, note := b.timed(e, limit, bin, args...)
	res.Outcome, res.Note = o, note
	res.readStats(e)
	return o
}

// timed runs one rclone command against e, bounded by limit, logging to
// e's rclone.log, and returns how it ended and, if it failed, its last
// error or notice.
func (b *bench) timed(e *emu, limit time.Duration, bin string, args ...string) (Outcome, string) {
	ctx, cancel := context.WithTimeout(b.ctx, limit)
	defer cancel()
	logFile := filepath.Join(e.dir, "rclone.log")
	o := runCmd(ctx, b.rcloneCmd(ctx, e, bin, logFile, args...), limit)
	if !o.OK() {
		return o, lastMessage(logFile)
	}
	return o, ""
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
