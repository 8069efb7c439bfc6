package chaos

import (
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
)

// emulator runs bin/fichier-emulator from one data directory, on one
// port, started again as rounds and faults ask; the rate rules' counters
// of every run within a round add up.
type emulator struct {
	bin    string
	data   string
	scale  float64
	keys   []string
	seed   int64
	stderr io.Writer
	listen string // 127.0.0.1:PORT once the first start picked a port
	starts int64  // emulator starts so far: each start gets a seed of its own

	mu    sync.Mutex
	cur   *fichiertest.Emulator
	epoch atomic.Int64 // counts stops and starts: a command that sees it change was cut off from the API
	tally ruleTally
}

// ruleTally adds up the rate rules' counters over a round.
type ruleTally struct {
	FloodLocks  int64
	Broken      map[string]int64
	PeakPerSec  int64
	Calls       int64
	DuringLock  int64
	Restarts    int
	statsMissed int // stops whose counters could not be read
}

// emailOf is the e-mail the emulator gives key number k (1-based).
func emailOf(k int) string {
	if k == 1 {
		return "chaos@emulator.invalid"
	}
	return fmt.Sprintf("chaos+%d@emulator.invalid", k)
}

// args are the emulator's command line for faults and listing delay.
func (e *emulator) args(faults string, delay time.Duration) []string {
	args := []string{"--time-scale", strconv.FormatFloat(e.scale, 'f', -1, 64), "--data", e.data,
		"--email", emailOf(1), "--seed", strconv.FormatInt(e.seed*1000+e.starts, 10), "-v"}
	for _, k := range e.keys {
		args = append(args, "--key", k)
	}
	if e.listen != "" {
		args = append(args, "--listen", e.listen)
	}
	if faults != "" {
		args = append(args, "--faults", faults)
	}
	if delay > 0 {
		args = append(args, "--listing-delay", delay.String())
	}
	return args
}

// start starts the emulator (stopping a running one first). A port just
// given up may take a moment to be free again: it tries a few times.
//
// Each start has a seed of its own: the emulator draws file IDs from its
// seed and avoids only the IDs of the files it holds, so a second start
// with the same seed hands out again the IDs of files deleted since the
// first, and a client still holding such a URL (a stored listing) would
// reach the new file with it, which 1fichier, whose URLs are not reused,
// never does.
func (e *emulator) start(faults string, delay time.Duration) error {
	e.stop()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.starts++
	var err error
	for try := 0; try < 20; try++ {
		var emu *fichiertest.Emulator
		emu, err = fichiertest.LaunchEmulator(e.bin, e.stderr, e.args(faults, delay)...)
		if err == nil {
			e.cur = emu
			if e.listen == "" {
				u, perr := url.Parse(emu.URL)
				if perr != nil {
					return perr
				}
				e.listen = u.Host
			}
			e.epoch.Add(1)
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("starting the emulator on %s: %w", e.listen, err)
}

// stop reads the running emulator's counters into the tally and stops it.
func (e *emulator) stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur == nil {
		return
	}
	e.epoch.Add(1)
	if stats, err := e.cur.FetchStats(); err == nil {
		e.tally.add(stats.FloodLocks, stats.BrokenRules, stats.PeakCallRate(), stats.Total(), stats.CallsDuringLock)
	} else {
		e.tally.statsMissed++
	}
	e.cur.Stop()
	e.cur = nil
}

func (t *ruleTally) add(locks int64, broken map[string]int64, peak, calls, during int64) {
	if t.Broken == nil {
		t.Broken = map[string]int64{}
	}
	t.FloodLocks += locks
	for k, v := range broken {
		t.Broken[k] += v
	}
	t.PeakPerSec = max(t.PeakPerSec, peak)
	t.Calls += calls
	t.DuringLock += during
}

// takeTally returns the round's counters (the running emulator's
// included) and starts a new tally.
func (e *emulator) takeTally() ruleTally {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur != nil {
		if stats, err := e.cur.FetchStats(); err == nil {
			e.tally.add(stats.FloodLocks, stats.BrokenRules, stats.PeakCallRate(), stats.Total(), stats.CallsDuringLock)
			_ = e.cur.ClearStats()
		} else {
			e.tally.statsMissed++
		}
	}
	t := e.tally
	e.tally = ruleTally{}
	return t
}

// String sums up the tally.
func (t ruleTally) String() string {
	var broken []string
	for k, v := range t.Broken {
		broken = append(broken, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(broken)
	return fmt.Sprintf("%d calls, peak %d/s (scaled), %d flood locks (%d calls during one), broken rules %v, %d emulator restarts",
		t.Calls, t.PeakPerSec, t.FloodLocks, t.DuringLock, broken, t.Restarts)
}

// current returns the running emulator (nil while it is down).
func (e *emulator) current() *fichiertest.Emulator {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cur
}

// restart stops the emulator, leaves the API unreachable for down, and
// starts it again with the same flags.
func (e *emulator) restart(faults string, delay, down time.Duration) error {
	e.stop()
	time.Sleep(down)
	e.mu.Lock()
	e.tally.Restarts++
	e.mu.Unlock()
	return e.start(faults, delay)
}
