package chaos

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
)

// Config is one run of the explorer.
type Config struct {
	Seed        int64
	Duration    time.Duration // service time; RoundSpan per round
	Scale       float64       // the emulator's --time-scale, and the backend's rates to match
	RcloneBin   string
	EmulatorBin string
	WorkDir     string        // empty: a new temporary directory
	RemoveWork  bool          // remove WorkDir after a run with no failure
	Bound       time.Duration // the longest a command may run (wall time): longer is a hang
	Log         io.Writer
	KeepGoing   bool     // run every round even after a failure
	RcloneFlags []string // more flags for every rclone command (-vv to see the calls)
	Exclude     []string // fault rules left out of the schedule (Generate)
}

// Result is what a run found.
type Result struct {
	Schedule     *Schedule
	Failures     []string // each names its round, worker and operation
	Commands     int      // rclone runs, re-runs included
	Killed       int      // runs ended by the emulator's SIGKILL
	Mounts       int      // runs of rclone mount (in Commands)
	MountsKilled int      // of those, ended by the emulator's SIGKILL
	Rounds       int      // rounds run
	Notes        []string // faults skipped, with why
	WorkDir      string
}

// runner is the state of one run.
type runner struct {
	cfg        Config
	sched      *Schedule
	res        *Result
	emu        *emulator
	hash       *hasher
	workers    []*Worker
	cacheDir   string
	tmpfs      bool   // cacheDir is a small tmpfs of our own, which can be filled
	fusermount string // FUSE's fusermount3 ("" where rclone mount is not possible)
	env        []string
	start      time.Time

	mu      sync.Mutex
	running map[int]*os.Process // by worker: its rclone process now
	broken  map[int]bool        // workers whose model failed for good (isBroken)
	killMu  sync.Mutex          // one armed /debug/kill at a time
	round   Round
}

// Run runs the schedule of cfg.Seed and cfg.Duration and checks it. An
// error is a failure of the explorer itself (the emulator did not
// start); what the checks find is in Result.Failures.
func Run(cfg Config) (*Result, error) {
	exclude, mountNote := MachineExclude(cfg.Exclude)
	sched := Generate(cfg.Seed, cfg.Duration, exclude...)
	res := &Result{Schedule: sched}
	r, err := newRunner(cfg, sched, res)
	if err != nil {
		return res, err
	}
	if mountNote != "" {
		r.note(mountNote)
	}
	active.Store(r)
	defer active.Store((*runner)(nil))
	defer r.close()
	for _, round := range sched.Rounds {
		if err := r.runRound(round); err != nil {
			return res, fmt.Errorf("round %d: %w", round.N, err)
		}
		res.Rounds++
		if len(res.Failures) > 0 && !cfg.KeepGoing {
			break
		}
	}
	if len(res.Failures) == 0 && (cfg.WorkDir == "" || cfg.RemoveWork) {
		_ = os.RemoveAll(res.WorkDir)
	}
	return res, nil
}

// active is the runner of the Run in progress, for CleanUp.
var active atomic.Pointer[runner]

// CleanUp stops the emulator of the Run in progress and unmounts its
// workers' mounts and its cache disk, for a program interrupted mid-run (its rclone processes
// end with their bound or on their own).
func CleanUp() {
	if r := active.Load(); r != nil {
		r.close()
	}
}

// newRunner prepares the work directory, the cache disk and the
// emulator's settings.
func newRunner(cfg Config, sched *Schedule, res *Result) (*runner, error) {
	dir := cfg.WorkDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "fichier-chaos-"); err != nil {
			return nil, err
		}
	}
	res.WorkDir = dir
	r := &runner{cfg: cfg, sched: sched, res: res, hash: &hasher{seed: cfg.Seed, sums: map[Content]string{}},
		cacheDir: filepath.Join(dir, "cache"), running: map[int]*os.Process{}, broken: map[int]bool{}, start: time.Now()}
	for _, d := range []string{"data", "cache", "logs", "local", "tmp", "home", "mnt"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	r.mountCacheDisk()
	r.fusermount, _ = fichiertest.Fusermount()
	emuLog, err := os.Create(filepath.Join(dir, "logs", "emulator.log"))
	if err != nil {
		return nil, err
	}
	r.emu = &emulator{bin: cfg.EmulatorBin, data: filepath.Join(dir, "data"), scale: cfg.Scale, seed: cfg.Seed, stderr: emuLog}
	for k := 1; k <= sched.Keys(); k++ {
		r.emu.keys = append(r.emu.keys, fmt.Sprintf("chaos-key-%d-%d", cfg.Seed, k))
	}
	for i, k := range sched.WorkerKeys {
		r.workers = append(r.workers, NewWorker(i+1, k))
	}
	return r, nil
}

// mountCacheDisk mounts a small tmpfs as the cache directory where it
// can (root, a kernel that lets us), so that a round can fill it.
func (r *runner) mountCacheDisk() {
	if os.Geteuid() != 0 {
		r.note("full cache disk: not possible (mounting a small tmpfs needs root); those rounds run on a disk with room")
		return
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", r.cacheDir).CombinedOutput()
	if err != nil {
		r.note(fmt.Sprintf("full cache disk: not possible (mount tmpfs: %v: %s); those rounds run on a disk with room", err, out))
		return
	}
	r.tmpfs = true
}

// close stops the emulator and unmounts the workers' mounts and the
// cache disk. After a failure the cache disk's files (the state, the
// journals, the VFS caches) are first copied to cache-kept in the work
// directory, so that what the processes knew can be read.
func (r *runner) close() {
	r.emu.stop()
	r.unmountAll()
	if !r.tmpfs {
		return
	}
	if r.failed() {
		kept := filepath.Join(r.res.WorkDir, "cache-kept")
		if out, err := exec.Command("cp", "-a", r.cacheDir, kept).CombinedOutput(); err != nil {
			r.logf("keeping the cache disk in %s: %v: %s", kept, err, out)
		}
	}
	_ = exec.Command("umount", "-l", r.cacheDir).Run()
}

// failed reports whether a check has failed so far.
func (r *runner) failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.res.Failures) > 0
}

// note records a fault that could not be made, with why.
func (r *runner) note(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.res.Notes {
		if n == msg {
			return
		}
	}
	r.res.Notes = append(r.res.Notes, msg)
	r.logf("NOTE: %s", msg)
}

// logf prints a line with the wall time since the start.
func (r *runner) logf(format string, args ...any) {
	if r.cfg.Log != nil {
		_, _ = fmt.Fprintf(r.cfg.Log, "[%6.1fs] %s\n", time.Since(r.start).Seconds(), fmt.Sprintf(format, args...))
	}
}

// fail records a failure.
func (r *runner) fail(format string, args ...any) {
	msg := fmt.Sprintf("round %d: ", r.round.N) + fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.res.Failures = append(r.res.Failures, msg)
	r.mu.Unlock()
	r.logf("FAIL %s", msg)
}

// wall converts service time to wall time.
func (r *runner) wall(d time.Duration) time.Duration { return time.Duration(float64(d) / r.cfg.Scale) }

// rcloneEnv is the environment of every rclone process: one config,
// cache directory (so one shared state file, as on one machine) and
// HOME, and a remote kN per key with rates scaled like the emulator.
func (r *runner) rcloneEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !isRcloneVar(kv) {
			env = append(env, kv)
		}
	}
	env = append(env, "RCLONE_CONFIG="+filepath.Join(r.res.WorkDir, "rclone.conf"),
		"RCLONE_CACHE_DIR="+r.cacheDir, "HOME="+filepath.Join(r.res.WorkDir, "home"),
		"TMPDIR="+filepath.Join(r.res.WorkDir, "tmp"))
	emu := r.emu.current()
	for k, key := range r.emu.keys {
		name := fmt.Sprintf("k%d", k+1)
		vals := fichiertest.RateOptions(r.cfg.Scale)
		vals["type"], vals["api_key"], vals["api_url"] = "fichier", key, emu.APIURL
		for opt, v := range vals {
			env = append(env, fichiertest.EnvName(name, opt)+"="+v)
		}
	}
	return env
}

func isRcloneVar(kv string) bool {
	for _, p := range []string{"RCLONE_", "XDG_", "HOME=", "TMPDIR="} {
		if len(kv) >= len(p) && kv[:len(p)] == p {
			return true
		}
	}
	return false
}

// otherClient returns the client that makes another client's changes.
func (r *runner) otherClient() *otherClient {
	return &otherClient{apiURL: r.emu.current().APIURL, keys: r.emu.keys, gap: r.wall(2 * time.Second), seed: r.cfg.Seed,
		http: &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}}
}

// rng returns a generator for the run's own random choices in round n
// (lock hold lengths), from the seed.
func (r *runner) rng(n int, salt int64) *rand.Rand {
	return rand.New(rand.NewSource(r.cfg.Seed*1000003 + int64(n)*7919 + salt))
}

// phaseCtx is a context for a round's timed faults.
func phaseCtx() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
