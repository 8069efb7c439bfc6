package chaos

import (
	"context"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// Caps on the wall time of the timed faults. A stop stays under the
// backend's 10 s wait for the state file's lock (a process stopped
// inside a transaction makes the others wait that long, then fail), the
// lock is held 1-3 s at a time for at most lockCap in all.
const (
	stopCap = 4 * time.Second
	burnCap = 15 * time.Second
	lockCap = 20 * time.Second
)

// timedFault waits for f's moment in the round, then makes it; a fault
// whose moment comes after the round's commands ended is not made.
func (r *runner) timedFault(ctx context.Context, f Timed, round Round) {
	sleepCtx(ctx, r.wall(f.At))
	if ctx.Err() != nil {
		r.logf("fault %s: the round's commands ended first", f)
		return
	}
	switch f.Kind {
	case FaultStop:
		r.stopWorker(f)
	case FaultBurn:
		r.burn(ctx, min(r.wall(f.Dur), burnCap))
	case FaultLock:
		r.holdStateLock(ctx, f, round)
	case FaultRestart:
		r.logf("fault %s: emulator stopped", f)
		if err := r.emu.restart(round.Faults, round.ListingDelay, r.wall(f.Dur)); err != nil {
			r.fail("restarting the emulator: %v", err)
			return
		}
		r.logf("fault %s: emulator started again", f)
	}
}

// stopWorker stops the worker's running rclone with SIGSTOP, then lets
// it go on with SIGCONT.
func (r *runner) stopWorker(f Timed) {
	r.mu.Lock()
	p := r.running[f.Worker]
	r.mu.Unlock()
	if p == nil {
		r.logf("fault %s: w%d runs nothing now", f, f.Worker)
		return
	}
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		r.logf("fault %s: %v", f, err)
		return
	}
	d := min(r.wall(f.Dur), stopCap)
	r.logf("fault %s: pid %d stopped for %v", f, p.Pid, d)
	time.Sleep(d)
	_ = p.Signal(syscall.SIGCONT)
}

// burn runs a busy loop per core for d, or until ctx ends.
func (r *runner) burn(ctx context.Context, d time.Duration) {
	var loops []*exec.Cmd
	for i := 0; i < runtime.NumCPU(); i++ {
		cmd := exec.Command("sh", "-c", "while :; do :; done")
		if err := cmd.Start(); err == nil {
			loops = append(loops, cmd)
		}
	}
	r.logf("fault cpu-burn: %d busy loops for %v", len(loops), d)
	sleepCtx(ctx, d)
	for _, cmd := range loops {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

// holdStateLock holds the state file's lock for a while.
func (r *runner) holdStateLock(ctx context.Context, f Timed, round Round) {
	files := stateFiles(r.cacheDir)
	if len(files) == 0 {
		r.logf("fault %s: no state file yet", f)
		return
	}
	lctx, cancel := context.WithTimeout(ctx, max(min(r.wall(f.Dur), lockCap), 3*time.Second))
	defer cancel()
	holds, err := holdLock(lctx, files[0], r.rng(round.N, int64(f.At)))
	if err != nil {
		r.logf("fault %s: %v", f, err)
	}
	r.logf("fault %s: the state file's lock held %d times", f, holds)
}
