package chaos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// maxRuns is how many times a failed command is run again before the
// failure counts: a kill or a fault may end one run, the runs after it
// must finish the work.
const maxRuns = 5

// execResult is how one rclone run ended.
type execResult struct {
	code    int
	killed  bool // by SIGKILL (the emulator's /debug/kill)
	hung    bool // still running at the bound
	cutOff  bool // the emulator stopped or started while it ran
	stderr  string
	elapsed time.Duration
}

// runWorker runs a worker's operations of a round, in order.
func (r *runner) runWorker(w *Worker, ops []Op) {
	for i, op := range ops {
		if r.isBroken(w) {
			return
		}
		r.runOp(w, i+1, op)
	}
}

// runOp runs op until it succeeds (at most maxRuns times), checking
// after each run what it reported and moved, and after its success the
// worker's whole folder. A failure puts the worker out (failWorker).
func (r *runner) runOp(w *Worker, n int, op Op) {
	next := w.clone()
	eff := next.Apply(op)
	if err := r.prepareLocal(w, op); err != nil {
		r.failWorker(w, "w%d op %d (%s): local files: %v", w.ID, n, op, err)
		return
	}
	if op.Kind == OpForget {
		r.waitVisible()
	}
	var lastErr string
	written := map[string]bool{} // a mount's files written into it, by name, over its runs
	for run := 1; run <= maxRuns; run++ {
		kill := op.Kill
		if run > 1 {
			kill = nil
		}
		label := fmt.Sprintf("r%d-w%d-op%d-run%d", r.round.N, w.ID, n, run)
		var res execResult
		if op.Kind == OpMount {
			res = r.mountRun(w, label, op, kill, written)
		} else {
			res = r.exec(w, label, r.argsOf(w, op), r.stdinOf(op), kill)
		}
		lastErr = res.stderr
		r.checkRun(w, n, op, eff, res)
		if res.code == 0 || goneAlready(op, run, res) {
			w.Remote, w.Local = next.Remote, next.Local
			r.checkWorker(w, fmt.Sprintf("after w%d op %d (%s)", w.ID, n, op))
			return
		}
		if !res.hung && !op.Stale && !r.excused(res) {
			r.failWorker(w, "w%d op %d (%s) run %d: exit %d with no fault to explain it:\n%s", w.ID, n, op, run, res.code, tail(res.stderr))
		}
		if r.isBroken(w) {
			return
		}
	}
	r.failWorker(w, "w%d op %d (%s): still failing after %d runs:\n%s", w.ID, n, op, maxRuns, tail(lastErr))
}

// exitFileNotFound is rclone's exit code for a file that is not there.
const exitFileNotFound = 4

// goneAlready reports whether a re-run of a deletefile failed only
// because an earlier run, killed after its removal, deleted the file:
// rclone deletefile exits with exitFileNotFound for a file that is not
// there, whoever removed it. The worker's folder is then checked as
// after a success.
func goneAlready(op Op, run int, res execResult) bool {
	return op.Kind == OpDeleteFile && run > 1 && res.code == exitFileNotFound
}

// waitVisible waits until every stored file shows in listings: a
// forget makes the next listings fresh ones, and a fresh listing that
// lags (an earlier round's --listing-delay) would miss the newest files
// the forgotten listings had.
func (r *runner) waitVisible() {
	m, err := readMeta(r.emu.data)
	if err != nil {
		return
	}
	if wait := time.Until(m.lastVisible()); wait > 0 {
		r.logf("forget: waiting %.1fs until every file shows in listings", wait.Seconds())
		time.Sleep(wait + 50*time.Millisecond)
	}
}

// excused reports whether a fault explains a run's failure: it was
// killed, the API was cut off while it ran, or the emulator answers
// errors this round (or, in runOp, another client changed its folder).
// A hang is never excused (and is reported on its own).
func (r *runner) excused(res execResult) bool {
	if res.hung {
		return false
	}
	return res.killed || res.cutOff || r.round.ErrorFaults()
}

// isBroken reports whether a command of w failed for good: from then on
// its model says nothing for sure, so its operations are skipped and its
// folder is left out of the checks (the other workers go on).
func (r *runner) isBroken(w *Worker) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.broken[w.ID]
}

// failWorker records a failure of w's and puts w out: once its folder
// differs from its model, what follows would only repeat the finding.
func (r *runner) failWorker(w *Worker, format string, args ...any) {
	r.fail(format, args...)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.broken[w.ID] {
		r.broken[w.ID] = true
		r.res.Notes = append(r.res.Notes, fmt.Sprintf("w%d out from round %d on (after its first failure)", w.ID, r.round.N))
	}
}

// clone returns a copy of w's model.
func (w *Worker) clone() *Worker {
	c := *w
	c.Remote = w.Remote.clone()
	c.Local = copyFiles(w.Local)
	return &c
}

// localDir is where worker w's local files of op are.
func (r *runner) localDir(w *Worker, op Op) string {
	base := filepath.Join(r.res.WorkDir, "local", w.Name())
	if op.Kind == OpMove {
		batch, _, _ := strings.Cut(sortedNames(op.Files)[0], "_")
		return filepath.Join(base, batch)
	}
	return filepath.Join(base, "src")
}

// prepareLocal writes the local files op reads: the whole source tree
// for a copy or a sync, the batch for a move.
func (r *runner) prepareLocal(w *Worker, op Op) error {
	if op.Kind != OpCopy && op.Kind != OpSync && op.Kind != OpMove {
		return nil
	}
	dir := r.localDir(w, op)
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	for name, c := range op.Files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, c.Bytes(r.cfg.Seed), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// argsOf is op's rclone command line.
func (r *runner) argsOf(w *Worker, op Op) []string {
	root := fmt.Sprintf("k%d:", w.Key)
	remote := root + w.Name() + "/"
	args := append([]string{"-v", "--stats", "0"}, r.cfg.RcloneFlags...)
	switch op.Kind {
	case OpCopy, OpSync, OpMove:
		return append(args, op.Kind, r.localDir(w, op), remote+op.Dst)
	case OpSSCopy:
		return append(args, "copy", remote+op.Src, remote+op.Dst)
	case OpSSMove:
		return append(args, "move", remote+op.Src, remote+op.Dst)
	case OpDelete:
		return append(args, "delete", remote+op.Src)
	case OpDeleteFile, OpRcat:
		return append(args, op.Kind, remote+op.Path)
	case OpLsf:
		if op.Src == "" {
			return append(args, "lsf", root)
		}
		return append(args, "lsf", "-R", root+w.Name())
	case OpAbout:
		return append(args, "about", root)
	case OpMount:
		return append(args, "mount", remote+op.Dst, r.mountPoint(w), "--vfs-cache-mode", "writes",
			"--vfs-write-back", mountWriteBack, "--vfs-cache-max-age", mountCacheMaxAge)
	}
	return append(args, "backend", op.Kind, root) // account, forget
}

// stdinOf is what op reads on its standard input.
func (r *runner) stdinOf(op Op) []byte {
	if op.Kind == OpRcat {
		return op.Data.Bytes(r.cfg.Seed)
	}
	return nil
}

// exec runs rclone with args, as worker w (nil for none), bounded by
// cfg.Bound, its output kept in the logs directory under label. With
// kill, the emulator is armed to kill it at a call.
func (r *runner) exec(w *Worker, label string, args []string, stdin []byte, kill *Kill) execResult {
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.Bound)
	defer cancel()
	if kill != nil {
		r.killMu.Lock()
		defer r.killMu.Unlock()
	}
	p, err := r.startProc(ctx, w, label, args, stdin)
	if err != nil {
		return execResult{code: -1, stderr: err.Error()}
	}
	if kill != nil {
		r.arm(p.pidFile, kill)
	}
	return r.endProc(ctx, w, p, p.cmd.Wait(), kill != nil)
}

// proc is one rclone process the explorer started.
type proc struct {
	cmd     *exec.Cmd
	label   string
	args    []string
	pidFile string
	log     *os.File
	stderr  bytes.Buffer
	epoch   int64
	start   time.Time
}

// startProc starts rclone with args as worker w (nil for none), killed
// when ctx ends, its PID in a file for /debug/kill and its output kept
// in the logs directory under label.
func (r *runner) startProc(ctx context.Context, w *Worker, label string, args []string, stdin []byte) (*proc, error) {
	p := &proc{label: label, args: args, pidFile: filepath.Join(r.res.WorkDir, "tmp", label+".pid")}
	p.cmd = exec.CommandContext(ctx, "sh", append([]string{"-c", `echo $$ > "$0"; exec "$@"`, p.pidFile, r.cfg.RcloneBin}, args...)...)
	p.cmd.Env, p.cmd.Stdin, p.cmd.WaitDelay = r.env, bytes.NewReader(stdin), 5*time.Second
	var err error
	if p.log, err = os.Create(filepath.Join(r.res.WorkDir, "logs", label+".log")); err != nil {
		return nil, err
	}
	_, _ = fmt.Fprintf(p.log, "rclone %s\n", strings.Join(args, " "))
	p.cmd.Stdout, p.cmd.Stderr = p.log, io.MultiWriter(&p.stderr, p.log)
	p.epoch, p.start = r.emu.epoch.Load(), time.Now()
	if err := p.cmd.Start(); err != nil {
		_ = p.log.Close()
		return nil, err
	}
	r.setRunning(w, p.cmd.Process)
	return p, nil
}

// endProc records how p ended: waitErr is its Wait's error, ctx its
// bound, armed whether a kill was armed for it.
func (r *runner) endProc(ctx context.Context, w *Worker, p *proc, waitErr error, armed bool) execResult {
	defer func() { _ = p.log.Close() }()
	_ = os.WriteFile(p.pidFile, []byte("0\n"), 0o644) // a rule firing late kills nobody
	r.setRunning(w, nil)
	if armed {
		r.disarm()
	}
	res := execResult{stderr: p.stderr.String(), elapsed: time.Since(p.start), cutOff: r.emu.epoch.Load() != p.epoch}
	res.hung = ctx.Err() != nil
	r.classify(&res, p.cmd, waitErr)
	r.mu.Lock()
	r.res.Commands++
	if res.killed {
		r.res.Killed++
	}
	r.mu.Unlock()
	r.logf("%s: rclone %s: exit %d in %.1fs%s", p.label, strings.Join(p.args, " "), res.code, res.elapsed.Seconds(), res.flags())
	return res
}

// classify sets res's exit code and how the process ended.
func (r *runner) classify(res *execResult, cmd *exec.Cmd, err error) {
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		res.code = exitErr.ExitCode()
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.killed = ws.Signal() == syscall.SIGKILL && !res.hung
			res.code = 128 + int(ws.Signal())
		}
	case err != nil:
		res.code = -1
		res.stderr += "\n" + err.Error()
	}
	if res.hung {
		r.fail("rclone %s: still running after %v (a hang)", strings.Join(cmd.Args[5:], " "), r.cfg.Bound)
	}
}

func (res execResult) flags() string {
	var f []string
	if res.killed {
		f = append(f, "killed")
	}
	if res.cutOff {
		f = append(f, "API restarted meanwhile")
	}
	if res.hung {
		f = append(f, "HUNG")
	}
	if len(f) == 0 {
		return ""
	}
	return " (" + strings.Join(f, ", ") + ")"
}

// setRunning records worker w's running process (nil: none).
func (r *runner) setRunning(w *Worker, p *os.Process) {
	if w == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p == nil {
		delete(r.running, w.ID)
	} else {
		r.running[w.ID] = p
	}
}

// arm arms the emulator's /debug/kill once the process wrote its PID.
func (r *runner) arm(pidFile string, kill *Kill) {
	for i := 0; i < 100; i++ {
		if b, err := os.ReadFile(pidFile); err == nil && len(b) > 0 && b[len(b)-1] == '\n' {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	body := fmt.Sprintf(`{"pid_file":%s,"call":%d,"when":%q}`, strconv.Quote(pidFile), kill.Call, kill.When)
	r.debugKill(http.MethodPost, body)
}

func (r *runner) disarm() { r.debugKill(http.MethodDelete, "") }

// debugKill calls the emulator's /debug/kill.
func (r *runner) debugKill(method, body string) {
	emu := r.emu.current()
	if emu == nil {
		return // down: a restart disarms anyway
	}
	req, err := http.NewRequest(method, emu.URL+"/debug/kill", strings.NewReader(body))
	if err != nil {
		return
	}
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_ = resp.Body.Close()
	}
}

// reportedRe matches a line of rclone -v saying a file was copied or
// moved, and its path from the destination's root.
var reportedRe = regexp.MustCompile(`(?m)INFO\s+: (.+?): (?:Copied|Moved) \(`)

// checkRun checks one run of op, whatever its exit: every file it
// reported copied is stored where it was asked with its Whirlpool, and
// no moved source is gone before its copy is stored.
func (r *runner) checkRun(w *Worker, n int, op Op, eff Effects, res execResult) {
	m, err := readMeta(r.emu.data)
	if err != nil {
		r.fail("reading the emulator's files: %v", err)
		return
	}
	stored := m.stored(emailOf(w.Key))
	dst := op.Dst
	if op.Kind == OpRcat {
		dst = path.Dir(op.Path)
	}
	for _, match := range reportedRe.FindAllStringSubmatch(res.stderr, -1) {
		p := dst + "/" + match[1]
		if c, ok := eff.Writes[p]; ok && !r.hash.checkStoredAt(stored, w.Name()+"/"+p, c) {
			r.failWorker(w, "w%d op %d (%s): reported %s copied (exit %d), but it is not stored there with its Whirlpool (%s)",
				w.ID, n, op, p, res.code, c)
		}
	}
	for _, mv := range eff.Moves {
		if !mv.FromMay && r.sourceGone(w, op, mv, stored) && !r.hash.checkStoredAt(stored, w.Name()+"/"+mv.To, mv.C) {
			r.failWorker(w, "w%d op %d (%s): the source of %s is gone (exit %d) but its copy is not stored (%s)",
				w.ID, n, op, mv.To, res.code, mv.C)
		}
	}
}

// sourceGone reports whether a moved file's source is no longer there.
func (r *runner) sourceGone(w *Worker, op Op, mv Move, stored map[string][]*metaFile) bool {
	if mv.Local {
		_, err := os.Stat(filepath.Join(r.localDir(w, op), filepath.FromSlash(mv.From)))
		return errors.Is(err, os.ErrNotExist)
	}
	return !r.hash.checkStoredAt(stored, w.Name()+"/"+mv.From, mv.C)
}

// checkWorker compares w's folder to its model.
func (r *runner) checkWorker(w *Worker, when string) {
	m, err := readMeta(r.emu.data)
	if err != nil {
		r.fail("reading the emulator's files: %v", err)
		return
	}
	for _, bad := range r.hash.checkTree(m.stored(emailOf(w.Key)), w.Name(), w.Remote) {
		r.failWorker(w, "%s: %s", when, bad)
	}
}
