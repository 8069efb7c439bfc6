package chaos

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// runRound runs one round: another client's changes and the state's
// faults first, then the workers' commands with the timed faults, then
// the checks of the round's end.
func (r *runner) runRound(round Round) error {
	r.round = round
	r.logf("%s", strings.TrimRight(round.String(), "\n"))
	if err := r.beforeRound(round); err != nil {
		return err
	}
	if err := r.emu.start(round.Faults, round.ListingDelay); err != nil {
		return err
	}
	r.env = r.rcloneEnv()
	filler := r.fillDisk(round)
	ctx, cancel := phaseCtx()
	var timed sync.WaitGroup
	for _, f := range round.Timed {
		timed.Add(1)
		go func() {
			defer timed.Done()
			r.timedFault(ctx, f, round)
		}()
	}
	var workers sync.WaitGroup
	for i, ops := range round.Ops {
		workers.Add(1)
		go func() {
			defer workers.Done()
			r.runWorker(r.workers[i], ops)
		}()
	}
	workers.Wait()
	cancel()
	timed.Wait()
	if filler != "" {
		_ = os.Remove(filler)
	}
	r.checkRound()
	return nil
}

// beforeRound makes the changes that come before a round's commands:
// the stored listings forgotten after another client's changes, the
// state's clocks stepped, another client's changes. They run against an
// emulator without faults, so that each is made for sure.
func (r *runner) beforeRound(round Round) error {
	if len(round.Forget) == 0 && !round.ClockStep && len(round.Ext) == 0 {
		return nil
	}
	if err := r.emu.start("", round.ListingDelay); err != nil {
		return err
	}
	r.env = r.rcloneEnv()
	if len(round.Forget) > 0 {
		r.waitVisible()
	}
	for _, k := range round.Forget {
		res := r.exec(nil, fmt.Sprintf("forget-k%d", k), []string{"backend", "forget", fmt.Sprintf("k%d:", k)}, nil, nil)
		if res.code != 0 {
			r.fail("rclone backend forget k%d: exit %d:\n%s", k, res.code, tail(res.stderr))
		}
	}
	if round.ClockStep {
		r.waitVisible() // after a clock step the next listings may be fresh ones: they must not lag
		r.stepClocks()
	}
	for _, x := range round.Ext {
		m, err := readMeta(r.emu.data)
		if err != nil {
			return err
		}
		w := r.workers[x.Worker-1]
		if r.isBroken(w) {
			r.logf("%s: skipped (w%d is out)", x, w.ID)
			continue
		}
		if err := r.otherClient().apply(x, w, m); err != nil {
			return fmt.Errorf("%s: %w", x, err)
		}
		w.ApplyExt(x)
	}
	time.Sleep(r.wall(2 * time.Second)) // the call budget of the rclone processes knows nothing of these calls
	if deletesFolder(round.Ext) {
		// The backend trusts a listing that shows a folder for as long
		// as 1fichier would not let it list again: a folder deleted
		// within that time is not seen, and the uploads into it go to
		// the root until the next process that stores into it moves
		// them back (backend/fichier/rehome.go). The round's commands
		// come once a check would see the deletion.
		time.Sleep(r.wall(folderListingInterval))
	}
	return nil
}

// folderListingInterval is 1fichier's time between two listings of a
// folder, with the backend's 10% margin.
const folderListingInterval = 33 * time.Second

// deletesFolder reports whether another client's changes delete a
// folder.
func deletesFolder(changes []ExtChange) bool {
	for _, x := range changes {
		if x.Kind == ExtDeleteFolder {
			return true
		}
	}
	return false
}

// stepClocks moves the state's clocks an hour ahead.
func (r *runner) stepClocks() {
	files := stateFiles(r.cacheDir)
	if len(files) == 0 {
		r.note("clock step: no state file yet; skipped")
		return
	}
	for _, f := range files {
		if err := StepClocks(f, time.Hour); err != nil {
			r.fail("clock step on %s: %v", f, err)
		}
	}
}

// fillDisk fills the cache disk for a round that asks it, and returns
// the file that fills it ("" if none).
func (r *runner) fillDisk(round Round) string {
	if !round.DiskFull {
		return ""
	}
	if !r.tmpfs {
		r.note("full cache disk: skipped (no tmpfs of our own as the cache directory)")
		return ""
	}
	path := filepath.Join(r.cacheDir, "filler")
	f, err := os.Create(path)
	if err != nil {
		r.note(fmt.Sprintf("full cache disk: %v", err))
		return ""
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	_ = f.Close()
	r.logf("cache disk full")
	return path
}

// checkRound checks the round's end: no rate rule broken, no flood
// lock, and what is stored is what the models say, for every key.
func (r *runner) checkRound() {
	tally := r.emu.takeTally()
	r.logf("round %d: %s", r.round.N, tally)
	var broken int64
	for _, v := range tally.Broken {
		broken += v
	}
	if tally.FloodLocks > 0 || broken > 0 {
		r.fail("rate rules: %s", tally)
	}
	if tally.statsMissed > 0 {
		r.note("the counters of an emulator stopped during a fault could not be read; its calls are not in the tally")
	}
	m, err := readMeta(r.emu.data)
	if err != nil {
		r.fail("reading the emulator's files: %v", err)
		return
	}
	for k := 1; k <= r.sched.Keys(); k++ {
		stored := m.stored(emailOf(k))
		prefixes := map[string]bool{}
		for _, w := range r.workers {
			if w.Key == k {
				prefixes[w.Name()] = true
				if r.isBroken(w) {
					continue
				}
				for _, bad := range r.hash.checkTree(stored, w.Name(), w.Remote) {
					r.failWorker(w, "end of round, key %d: %s", k, bad)
				}
			}
		}
		for _, bad := range strays(stored, prefixes) {
			r.fail("end of round, key %d: %s", k, bad)
		}
	}
}

// tail returns the last lines of a command's output, for a failure.
func tail(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 25 {
		lines = lines[len(lines)-25:]
	}
	return "    | " + strings.Join(lines, "\n    | ")
}
