package chaos

import (
	"fmt"
	"strings"
	"time"
)

// The kinds of change another client makes, straight through the API,
// between two rounds' commands (while no rclone process runs: its calls
// take no part in the rclone processes' shared call budget, so made
// while they run they could break a rate rule that no rclone process
// broke).
const (
	ExtDeleteFile   = "delete-file"   // file/rm.cgi of Path
	ExtDeleteFolder = "delete-folder" // Path (a top folder of the worker) with all it holds
	ExtMoveFile     = "move-file"     // file/mv.cgi of Path to To (another folder, another name)
	ExtAddFile      = "add-file"      // an upload of Data as To
)

// ExtChange is one change by another client, in a worker's folder.
type ExtChange struct {
	Worker int
	Kind   string
	Path   string
	To     string
	Data   Content
}

// String is the change as the schedule prints it.
func (x ExtChange) String() string {
	switch x.Kind {
	case ExtMoveFile:
		return fmt.Sprintf("another client: w%d move %s -> %s", x.Worker, x.Path, x.To)
	case ExtAddFile:
		return fmt.Sprintf("another client: w%d add %s <- %s", x.Worker, x.To, x.Data)
	}
	return fmt.Sprintf("another client: w%d %s %s", x.Worker, x.Kind, x.Path)
}

// ApplyExt changes the model as x does. What another client deletes may
// be missing from then on (the workload's stored listings may still
// show it, so a copy need not send it again); what it adds may be
// missing once the workload deletes or syncs over its folder (a listing
// may not have shown it yet). What it moves may be missing at once: a
// move keeps the file's URL, so a sync or a delete of the old folder
// through a stored listing that still shows it there deletes it where
// it now is (file/rm.cgi takes a URL, not a folder).
func (w *Worker) ApplyExt(x ExtChange) {
	switch x.Kind {
	case ExtDeleteFile:
		w.markMay(x.Path)
	case ExtDeleteFolder:
		for _, p := range w.Remote.under(x.Path) {
			w.markMay(p)
		}
	case ExtMoveFile:
		e := w.Remote[x.Path]
		w.markMay(x.Path)
		w.Remote[x.To] = Entry{C: e.C, Ext: true, May: true}
	case ExtAddFile:
		w.Remote[x.To] = Entry{C: x.Data, Ext: true}
	}
}

func (w *Worker) markMay(path string) {
	if e, ok := w.Remote[path]; ok {
		e.May = true
		w.Remote[path] = e
	}
}

// The kinds of fault timed within a round.
const (
	FaultStop    = "sigstop"    // the worker's running rclone: SIGSTOP for Dur, then SIGCONT
	FaultBurn    = "cpu-burn"   // a busy loop per core for Dur
	FaultLock    = "state-lock" // the state file's lock held 1-3 s at a time, for Dur
	FaultRestart = "restart"    // the emulator stopped, down for Dur, started again from --data
)

// Timed is a fault at a moment of a round, in service time from the
// round's start.
type Timed struct {
	At     time.Duration
	Kind   string
	Worker int
	Dur    time.Duration
}

// String is the fault as the schedule prints it.
func (f Timed) String() string {
	who := ""
	if f.Kind == FaultStop {
		who = fmt.Sprintf(" w%d", f.Worker)
	}
	return fmt.Sprintf("at +%v: %s%s for %v", f.At, f.Kind, who, f.Dur)
}

// Round is one round of the schedule: the emulator (re)started with its
// faults, changes before the commands, the workers' commands (each
// worker's in order, the workers at once) and the faults timed within.
type Round struct {
	N            int
	Faults       string        // the emulator's --faults ("" for none)
	ListingDelay time.Duration // the emulator's --listing-delay (service time)
	ClockStep    bool          // the state's clocks moved an hour ahead first
	DiskFull     bool          // the cache disk full while the round runs
	Forget       []int         // keys whose stored listings are dropped first (another client changed things)
	Ext          []ExtChange   // another client's changes, first
	Ops          [][]Op        // by worker (index = worker ID - 1)
	Timed        []Timed
}

// ErrorFaults reports whether the round's emulator answers errors or
// loses answers, which may make a command fail after its retries.
func (r Round) ErrorFaults() bool { return r.Faults != "" }

// String is the round as the schedule prints it.
func (r Round) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "round %d: emulator faults=%q listing-delay=%v", r.N, r.Faults, r.ListingDelay)
	if r.ClockStep {
		b.WriteString(" clock-step=+1h")
	}
	if r.DiskFull {
		b.WriteString(" cache-disk=full")
	}
	b.WriteString("\n")
	for _, k := range r.Forget {
		fmt.Fprintf(&b, "  first: rclone backend forget k%d: (another client changed things)\n", k)
	}
	for _, x := range r.Ext {
		fmt.Fprintf(&b, "  first: %s\n", x)
	}
	for _, ops := range r.Ops {
		for i, op := range ops {
			fmt.Fprintf(&b, "  op %d: %s\n", i+1, op)
		}
	}
	for _, f := range r.Timed {
		fmt.Fprintf(&b, "  fault %s\n", f)
	}
	return b.String()
}
