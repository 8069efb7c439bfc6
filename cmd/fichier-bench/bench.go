package main

import (
	"context"
	"fmt"
	"log"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
)

// Who ran a scenario.
const (
	ours     = "ours"
	upstream = "upstream"
)

// bench is one benchmark run.
type bench struct {
	cfg       *config
	ctx       context.Context
	work      string
	src       string // the small files
	backSrc   string // the back-to-back scenario's small tree
	big       string // the big file
	mountSkip string // why the mount steps cannot run, or ""
	curlSkip  string // why the curl baseline cannot run, or ""

	mu         sync.Mutex
	results    []*result
	back       []*backResult
	curl       *curlResult
	trees      []*treeResult     // batch and tree
	mountBench *mountBenchResult // mountbench
	serverSide []*serverSideResult
}

// result is one measured run of a scenario.
type result struct {
	Scenario string
	Who      string // ours or upstream
	Rule     emulator.ListRule
	Outcome
	Stats  emulator.Stats
	Listed int    // files listed (ls)
	Note   string // the last error or notice of a failed run
}

// name names the run in logs and file names.
func (r *result) name() string { return fmt.Sprintf("%s.%s.%s", r.Scenario, r.Who, r.Rule) }

// readStats stores e's counters in r.
func (r *result) readStats(e *emu) {
	st, err := e.FetchStats()
	if err != nil {
		log.Printf("%s: stats: %v", r.name(), err)
	}
	r.Stats = st
}

// add records a finished run.
func (b *bench) add(r *result) {
	b.mu.Lock()
	b.results = append(b.results, r)
	b.mu.Unlock()
	log.Printf("%s: %s in %.1f s", r.name(), r.Status, r.Wall)
}

// binary is the path of who's rclone.
func (b *bench) binary(who string) string {
	if who == ours {
		return b.cfg.ours
	}
	return b.cfg.upstream
}

// run runs every scenario asked for and writes the report.
func run(ctx context.Context, cfg *config) error {
	b := &bench{cfg: cfg, ctx: ctx}
	if err := b.setUp(); err != nil {
		return err
	}
	if !cfg.keep {
		defer func() { _ = os.RemoveAll(b.work) }()
	} else {
		defer log.Printf("scratch directory kept: %s", b.work)
	}
	start := time.Now()
	if err := b.seed(); err != nil {
		return err
	}
	b.runAPIBound()
	if cfg.want("big") {
		b.runBig(ours)
		b.runBig(upstream)
		b.runCurl()
	}
	if cfg.want("mount") && b.mountSkip == "" {
		b.runMountRead(ours)
		b.runMountRead(upstream)
	}
	b.runTrees()
	if cfg.want("serverside") {
		b.runServerSide()
	}
	if cfg.want("mountbench") {
		b.runMountBench()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return b.writeReport(time.Since(start))
}

// setUp makes the scratch directory and the data, and finds out what
// the machine can run.
func (b *bench) setUp() error {
	b.work = b.cfg.work
	if b.work == "" {
		dir, err := os.MkdirTemp("", "rclone-bench-")
		if err != nil {
			return err
		}
		b.work = dir
	}
	if err := os.MkdirAll(b.work, 0o755); err != nil {
		return err
	}
	log.Printf("scratch directory %s", b.work)
	if err := os.WriteFile(filepath.Join(b.work, "rclone.conf"), nil, 0o600); err != nil {
		return err
	}
	b.src = filepath.Join(b.work, "src")
	b.backSrc = filepath.Join(b.work, "back-src")
	b.big = filepath.Join(b.work, "big", "big.bin")
	b.mountSkip = mountSkipReason()
	if _, err := exec.LookPath("curl"); err != nil {
		b.curlSkip = "curl is not installed"
	}
	if b.cfg.want("copy") || b.cfg.want("sync") || b.cfg.want("ls") {
		if err := makeSmall(b.src, b.cfg.files, b.cfg.folders, 5); err != nil {
			return err
		}
	}
	if b.cfg.want("back") {
		if err := makeSmall(b.backSrc, backFiles, backFolders, 6); err != nil {
			return err
		}
	}
	if b.cfg.want("big") || b.cfg.want("mount") || b.cfg.want("mountbench") {
		log.Printf("making a %d MiB file", b.cfg.bigMB)
		return makeFile(b.big, int64(b.cfg.bigMB)<<20, rand.New(rand.NewSource(7)))
	}
	return nil
}

// mountSkipReason says why rclone mount cannot run here, or "".
func mountSkipReason() string {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return "/dev/fuse is missing (no FUSE in this machine or container)"
	}
	if _, err := exec.LookPath("fusermount3"); err != nil {
		return "fusermount3 is not installed (package fuse3)"
	}
	return ""
}

// The back-to-back scenario's tree: 3 folders, as in the account-state
// issue's measurements.
const (
	backFiles   = 9
	backFolders = 3
)

// makeSmall writes files files of 1-10 KiB spread over folders folders,
// the same every time for a seed.
func makeSmall(dir string, files, folders int, seed int64) error {
	rnd := rand.New(rand.NewSource(seed))
	for i := 0; i < files; i++ {
		p := filepath.Join(dir, fmt.Sprintf("dir%02d", i%folders), fmt.Sprintf("file%04d.bin", i))
		if err := makeFile(p, int64(1024+rnd.Intn(9*1024+1)), rnd); err != nil {
			return err
		}
	}
	return nil
}

// makeFile writes size pseudo-random bytes to p.
func makeFile(p string, size int64, rnd *rand.Rand) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	for size > 0 {
		n := min(size, int64(len(buf)))
		_, _ = rnd.Read(buf[:n])
		if _, err := f.Write(buf[:n]); err != nil {
			_ = f.Close()
			return err
		}
		size -= n
	}
	return f.Close()
}

// seed uploads, once, the remote contents that the sync, ls, download
// and mount runs start from, with the rate rules off, so every measured
// run starts from the same state on a fresh emulator.
func (b *bench) seed() error {
	if b.cfg.want("sync") || b.cfg.want("ls") {
		if err := b.seedOne("small", b.src, "bench:bench/small"); err != nil {
			return err
		}
	}
	if b.cfg.want("big") || b.cfg.want("mount") {
		return b.seedOne("big", b.big, "bench:bench/big")
	}
	return nil
}

// seedOne copies src to dst on a rules-off emulator kept in seed-name.
func (b *bench) seedOne(name, src, dst string) error {
	log.Printf("seeding %s", name)
	dir := filepath.Join(b.work, "seed-"+name)
	e, err := b.startEmulator(dir, emulator.ListRuleFolder, "--no-rate-limits", "--data", filepath.Join(dir, "data"))
	if err != nil {
		return err
	}
	defer e.Stop()
	ctx, cancel := context.WithTimeout(b.ctx, b.cfg.timeoutBig)
	defer cancel()
	// Our backend paces itself; lift that too, as the rules are off.
	cmd := b.rcloneCmd(ctx, e, b.cfg.ours, filepath.Join(dir, "rclone.log"),
		"--fichier-api-rate", "1000", "--fichier-list-interval", "1ms", "--transfers", "8", "copy", src, dst)
	if o := runCmd(ctx, cmd, b.cfg.timeoutBig); !o.OK() {
		return fmt.Errorf("seeding %s: %s (see %s)", name, o.Status, dir)
	}
	return nil
}
