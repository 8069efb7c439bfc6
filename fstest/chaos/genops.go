package chaos

import (
	"fmt"
	"strings"
)

// opWeights weighs the operation kinds a worker draws. Mount comes
// last: without it (MachineExclude) a seed draws the schedule it drew
// before mount was added, the regression seeds of docs/testing.md
// included.
var opWeights = []struct {
	kind   string
	weight int
}{
	{OpCopy, 6}, {OpSync, 4}, {OpMove, 4}, {OpSSCopy, 3}, {OpSSMove, 3}, {OpDelete, 2},
	{OpDeleteFile, 2}, {OpRcat, 3}, {OpLsf, 2}, {OpAbout, 1}, {OpAccount, 1}, {OpForget, 1}, {OpMount, 3},
}

// killable are the kinds whose first run may be killed at a call.
var killable = map[string]bool{
	OpCopy: true, OpSync: true, OpMove: true, OpSSCopy: true, OpSSMove: true,
	OpDelete: true, OpDeleteFile: true, OpRcat: true, OpMount: true,
}

// op draws an operation of w that is valid in w's model; kinds that are
// not (nothing to move, say) are drawn again.
func (g *generator) op(w *Worker) Op {
	weights := opWeights
	if g.noMount {
		weights = weights[:len(weights)-1] // mount is the last: the draws are those of the explorer before mount
	}
	total := 0
	for _, ow := range weights {
		total += ow.weight
	}
	for {
		n := g.rng.Intn(total)
		kind := ""
		for _, ow := range weights {
			if n < ow.weight {
				kind = ow.kind
				break
			}
			n -= ow.weight
		}
		if op, ok := g.opOf(w, kind); ok {
			op.Stale = op.Dst != "" && g.isStale(w, op.Dst)
			if killable[kind] && g.rng.Float64() < 0.2 {
				when := "before-answer"
				if g.rng.Intn(2) == 0 {
					when = "after-answer"
				}
				op.Kill = &Kill{Call: 1 + g.rng.Intn(10), When: when}
				if containsAny("kill:"+op.Kind, g.exclude) {
					op.Kill = nil // drawn all the same: the rest of the schedule stays the seed's
				}
			}
			return op
		}
	}
}

// opOf draws an operation of kind, or reports that none is valid now.
func (g *generator) opOf(w *Worker, kind string) (Op, bool) {
	op := Op{Worker: w.ID, Kind: kind, Dst: g.pick(Folders)}
	switch kind {
	case OpCopy, OpSync:
		g.editLocal(w)
		op.Files = copyFiles(w.Local)
	case OpMove, OpMount:
		op.Files = map[string]Content{}
		prefix := "mv"
		if kind == OpMount {
			prefix = "mt"
		}
		batch := w.unique(prefix)
		for k := 1 + g.rng.Intn(4); k > 0; k-- {
			name := fmt.Sprintf("%s_%d.bin", batch, k)
			op.Files[name] = w.newContent(name)
		}
		// A full cache disk leaves no room for the VFS cache, which
		// could not hold what is written: no mount in those rounds.
		return op, kind == OpMove || !g.diskFull
	case OpSSCopy, OpSSMove:
		return g.serverSide(w, op)
	case OpDelete:
		op.Dst = ""
		op.Src = g.pick(Folders)
		return op, len(w.mustFiles(op.Src)) > 0 && !g.isStale(w, op.Src)
	case OpDeleteFile:
		op.Dst = ""
		files := w.mustFiles("")
		if len(files) == 0 {
			return op, false
		}
		op.Path = files[g.rng.Intn(len(files))]
		dir, _, _ := strings.Cut(op.Path, "/")
		return op, !g.isStale(w, dir)
	case OpRcat:
		op.Path = op.Dst + "/" + w.unique("r") + ".bin"
		op.Data = w.newContent(op.Path)
	case OpForget:
		// A listing fetched afresh may miss the files of the last
		// minutes (eventual consistency) that the forgotten listings
		// had: forget is drawn only when listings do not lag.
		op.Dst = ""
		return op, g.delay == 0
	case OpLsf:
		op.Dst = ""
		if w.hasFiles("") && len(g.stale[w.ID]) == 0 {
			op.Src = "."
		}
	default:
		op.Dst = ""
	}
	return op, true
}

// serverSide completes a server-side copy or move: from a folder whose
// files the model knows for sure (none another client touched) to
// another (for a move, one another client did not change either).
func (g *generator) serverSide(w *Worker, op Op) (Op, bool) {
	op.Src = g.pick(Folders)
	if op.Src == op.Dst || len(w.mustFiles(op.Src)) == 0 || g.isStale(w, op.Src) {
		return op, false
	}
	if op.Kind == OpSSMove && g.isStale(w, op.Dst) {
		// A move deletes a source whose twin (same name and size) the
		// destination's listing shows; after another client moved or
		// deleted that twin, a listing may still show it (as fresh as
		// 1fichier allows, or lagging), and no client could tell.
		return op, false
	}
	for _, p := range w.Remote.under(op.Src) {
		if e := w.Remote[p]; e.May || e.Ext {
			return op, false
		}
	}
	return op, true
}

// editLocal changes w's local tree a little before a copy or a sync:
// files added, changed (a new version, so a new size) or removed.
func (g *generator) editLocal(w *Worker) {
	if len(w.Local) == 0 {
		for k := 3 + g.rng.Intn(6); k > 0; k-- {
			g.addLocal(w)
		}
		return
	}
	if g.rng.Float64() < 0.3 {
		return
	}
	for k := 1 + g.rng.Intn(3); k > 0; k-- {
		names := sortedNames(w.Local)
		name := names[g.rng.Intn(len(names))]
		switch g.rng.Intn(3) {
		case 0:
			g.addLocal(w)
		case 1:
			w.Local[name] = w.newContent(name)
		default:
			if len(w.Local) > 1 {
				delete(w.Local, name)
			}
		}
	}
}

// addLocal adds a new file to w's local tree, at the top or in d/.
func (g *generator) addLocal(w *Worker) {
	name := w.unique("f") + ".bin"
	if g.rng.Intn(3) == 0 {
		name = "d/" + name
	}
	w.Local[name] = w.newContent(name)
}

// extChanges draws one to three changes by another client, in folders
// of files the model knows for sure.
func (g *generator) extChanges() []ExtChange {
	var changes []ExtChange
	for k := 1 + g.rng.Intn(3); k > 0; k-- {
		w := g.workers[g.rng.Intn(len(g.workers))]
		files := w.mustFiles("")
		if len(files) == 0 {
			continue
		}
		path := files[g.rng.Intn(len(files))]
		dir, _, _ := strings.Cut(path, "/")
		x := ExtChange{Worker: w.ID, Path: path}
		switch g.rng.Intn(4) {
		case 0:
			x.Kind = ExtDeleteFile
		case 1:
			x.Kind, x.Path = ExtDeleteFolder, dir
		case 2:
			x.Kind = ExtMoveFile
			x.To = g.otherFolder(w, dir) + "/" + w.unique("x") + ".bin"
		default:
			x.Kind, x.Path = ExtAddFile, ""
			x.To = dir + "/" + w.unique("x") + ".bin"
			x.Data = w.newContent(x.To)
		}
		w.ApplyExt(x)
		g.markStale(w, dir)
		if x.To != "" {
			g.markStale(w, x.To)
		}
		changes = append(changes, x)
	}
	return changes
}

// otherFolder returns a top folder of w other than dir that exists
// (holds a file that must be there), or dir itself.
func (g *generator) otherFolder(w *Worker, dir string) string {
	for _, f := range Folders {
		if f != dir && len(w.mustFiles(f)) > 0 {
			return f
		}
	}
	return dir
}
