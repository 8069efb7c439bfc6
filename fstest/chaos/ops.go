package chaos

import (
	"fmt"
	"sort"
	"strings"
)

// The kinds of workload operation. Each is one rclone command of one
// worker.
const (
	OpCopy       = "copy"       // rclone copy LOCAL remote:wN/Dst
	OpSync       = "sync"       // rclone sync LOCAL remote:wN/Dst (with deletions)
	OpMove       = "move"       // rclone move BATCH remote:wN/Dst (a fresh local batch)
	OpSSCopy     = "sscopy"     // rclone copy remote:wN/Src remote:wN/Dst (server side)
	OpSSMove     = "ssmove"     // rclone move remote:wN/Src remote:wN/Dst (server side)
	OpDelete     = "delete"     // rclone delete remote:wN/Src
	OpDeleteFile = "deletefile" // rclone deletefile remote:wN/Path
	OpRcat       = "rcat"       // rclone rcat remote:wN/Path < Data
	OpLsf        = "lsf"        // rclone lsf -R remote:wN (or the account's root)
	OpAbout      = "about"      // rclone about remote:
	OpAccount    = "account"    // rclone backend account remote:
	OpForget     = "forget"     // rclone backend forget remote: (listings only, clocks kept)
	OpMount      = "mount"      // rclone mount remote:wN/Dst --vfs-cache-mode writes, a fresh batch written into it
)

// Kill arms the emulator's /debug/kill for the first run of an
// operation: its process is killed with SIGKILL at the Call-th API call
// (of any process) after the command starts (a mount: after its files
// are written into it), before or after the call's answer.
type Kill struct {
	Call int
	When string
}

// Op is one operation of the workload.
type Op struct {
	Worker int
	Kind   string
	Src    string             // a folder of the worker (a, b, c); "" for the lsf of the account's root
	Dst    string             // a folder of the worker
	Path   string             // deletefile, rcat: the file, relative to the worker's folder
	Files  map[string]Content // copy, sync: the whole local tree; move, mount: the batch
	Data   Content            // rcat
	Kill   *Kill
	// Stale: another client changed Dst this round, and the stored
	// listings may still show what it deleted: a run may fail (a sync
	// deleting a file that is gone), a re-run must succeed.
	Stale bool
}

// String is the operation as the schedule prints it.
func (op Op) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "w%d %s", op.Worker, op.Kind)
	switch op.Kind {
	case OpCopy, OpSync, OpMove:
		fmt.Fprintf(&b, " local(%d files: %s) -> %s", len(op.Files), describeFiles(op.Files), op.Dst)
	case OpMount:
		fmt.Fprintf(&b, " %s, writing (%d files: %s)", op.Dst, len(op.Files), describeFiles(op.Files))
	case OpSSCopy, OpSSMove:
		fmt.Fprintf(&b, " %s -> %s", op.Src, op.Dst)
	case OpDelete:
		fmt.Fprintf(&b, " %s", op.Src)
	case OpDeleteFile:
		fmt.Fprintf(&b, " %s", op.Path)
	case OpRcat:
		fmt.Fprintf(&b, " %s <- %s", op.Path, op.Data)
	case OpLsf:
		if op.Src == "" {
			b.WriteString(" (account root)")
		}
	}
	if op.Kill != nil {
		fmt.Fprintf(&b, " [SIGKILL at call %d %s]", op.Kill.Call, op.Kill.When)
	}
	if op.Stale {
		b.WriteString(" [into a folder another client changed]")
	}
	return b.String()
}

// describeFiles lists files briefly: name#version each.
func describeFiles(files map[string]Content) string {
	names := make([]string, 0, len(files))
	for name, c := range files {
		names = append(names, fmt.Sprintf("%s#%d", name, c.Version))
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// Move is one file a move operation takes from From (a local name, or a
// path in the worker's folder) to To (a path in the worker's folder).
type Move struct {
	From    string
	To      string
	C       Content
	Local   bool
	FromMay bool // the source may be missing (another client's)
}

// Effects are what an operation means to do: the files it writes (to
// check what its log reports copied) and the files it moves (to check
// that no source goes before its copy is stored).
type Effects struct {
	Writes map[string]Content // by path in the worker's folder
	Moves  []Move
}

// Apply changes the model as op does once it has succeeded, and
// returns its effects.
func (w *Worker) Apply(op Op) Effects {
	eff := Effects{Writes: map[string]Content{}}
	switch op.Kind {
	case OpCopy, OpSync, OpMove:
		w.applyUpload(op, &eff)
	case OpSSCopy, OpSSMove:
		w.applyServerSide(op, &eff)
	case OpDelete:
		for _, p := range w.Remote.under(op.Src) {
			w.Remote.remove(p)
		}
	case OpDeleteFile:
		w.Remote.remove(op.Path)
	case OpRcat:
		w.Remote.put(op.Path, Entry{C: op.Data})
		eff.Writes[op.Path] = op.Data
	case OpMount:
		// New names only: each file stored once in Dst, as a copy of
		// the batch into Dst would store it.
		for _, name := range sortedNames(op.Files) {
			w.Remote.put(op.Dst+"/"+name, Entry{C: op.Files[name]})
			eff.Writes[op.Dst+"/"+name] = op.Files[name]
		}
	}
	return eff
}

// applyUpload is Apply for the local-to-remote operations.
func (w *Worker) applyUpload(op Op, eff *Effects) {
	names := sortedNames(op.Files)
	for _, name := range names {
		c := op.Files[name]
		to := op.Dst + "/" + name
		w.Remote.put(to, Entry{C: c})
		eff.Writes[to] = c
		if op.Kind == OpMove {
			eff.Moves = append(eff.Moves, Move{From: name, To: to, C: c, Local: true})
		}
	}
	if op.Kind == OpMove {
		return
	}
	w.Local = copyFiles(op.Files)
	if op.Kind != OpSync {
		return
	}
	for _, p := range w.Remote.under(op.Dst) {
		if _, ok := op.Files[strings.TrimPrefix(p, op.Dst+"/")]; !ok {
			w.Remote.remove(p)
		}
	}
}

// applyServerSide is Apply for the server-side copy and move.
func (w *Worker) applyServerSide(op Op, eff *Effects) {
	for _, p := range w.Remote.under(op.Src) {
		e := w.Remote[p]
		to := op.Dst + "/" + strings.TrimPrefix(p, op.Src+"/")
		ne := Entry{C: e.C, May: e.May || e.Ext, Ext: e.Ext}
		w.Remote.put(to, ne)
		if !ne.May {
			eff.Writes[to] = e.C
		}
		if op.Kind == OpSSMove {
			eff.Moves = append(eff.Moves, Move{From: p, To: to, C: e.C, FromMay: e.May})
			delete(w.Remote, p)
		}
	}
}

func sortedNames(files map[string]Content) []string {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func copyFiles(files map[string]Content) map[string]Content {
	c := make(map[string]Content, len(files))
	for k, v := range files {
		c[k] = v
	}
	return c
}
