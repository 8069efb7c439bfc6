package chaos

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSameSeedSameSchedule: a seed replays its schedule, another seed
// draws another one.
func TestSameSeedSameSchedule(t *testing.T) {
	a := Generate(7, 30*time.Minute).String()
	assert.Equal(t, a, Generate(7, 30*time.Minute).String())
	assert.NotEqual(t, a, Generate(8, 30*time.Minute).String())
	assert.Len(t, Generate(7, 30*time.Minute).Rounds, 10, "one round per 3 minutes of service time")
}

// TestScheduleDrawsEveryKind: over a few long schedules, every operation
// and fault kind is drawn.
func TestScheduleDrawsEveryKind(t *testing.T) {
	seen := map[string]bool{}
	for seed := int64(1); seed <= 5; seed++ {
		for _, r := range Generate(seed, 30*time.Minute).Rounds {
			seen["faults"] = seen["faults"] || r.Faults != ""
			seen["clock"] = seen["clock"] || r.ClockStep
			seen["disk"] = seen["disk"] || r.DiskFull
			seen["delay"] = seen["delay"] || r.ListingDelay > 0
			for _, x := range r.Ext {
				seen[x.Kind] = true
			}
			for _, ops := range r.Ops {
				for _, op := range ops {
					seen[op.Kind] = true
					seen["kill"] = seen["kill"] || op.Kill != nil
					seen["kill:"+op.Kind] = seen["kill:"+op.Kind] || op.Kill != nil
				}
			}
			for _, f := range r.Timed {
				seen[f.Kind] = true
			}
		}
	}
	for _, kind := range []string{OpCopy, OpSync, OpMove, OpSSCopy, OpSSMove, OpDelete, OpDeleteFile, OpRcat, OpLsf,
		OpAbout, OpAccount, OpForget, OpMount, ExtDeleteFile, ExtDeleteFolder, ExtMoveFile, ExtAddFile,
		FaultStop, FaultBurn, FaultLock, FaultRestart, "faults", "clock", "disk", "delay", "kill"} {
		assert.True(t, seen[kind], kind)
	}
	assert.True(t, seen["kill:"+OpMount], "a mount killed")
}

// TestMountNotOnFullDiskNorWhereImpossible: no mount is drawn in a
// round whose cache disk is full, nor with mount left out (a machine
// without FUSE), where the kinds drawn are all the others.
func TestMountNotOnFullDiskNorWhereImpossible(t *testing.T) {
	for _, exclude := range [][]string{nil, {OpMount}} {
		kinds := map[string]int{}
		for seed := int64(1); seed <= 5; seed++ {
			for _, r := range Generate(seed, 30*time.Minute, exclude...).Rounds {
				for _, ops := range r.Ops {
					for _, op := range ops {
						kinds[op.Kind]++
						assert.False(t, op.Kind == OpMount && r.DiskFull, "seed %d round %d: a mount on a full cache disk", seed, r.N)
					}
				}
			}
		}
		if exclude == nil {
			assert.Positive(t, kinds[OpMount])
		} else {
			assert.Zero(t, kinds[OpMount])
			assert.Len(t, kinds, len(opWeights)-1, "%v", kinds)
		}
	}
}

// TestApplyMount: a mount stores its batch in Dst, new names beside
// what is there, and reports each file written; it moves nothing and
// leaves the local tree alone.
func TestApplyMount(t *testing.T) {
	w := NewWorker(1, 1)
	f1, m1, m2 := Content{1, "f1.bin", 1}, Content{1, "mt1_1.bin", 1}, Content{1, "mt1_2.bin", 1}
	w.Apply(Op{Kind: OpCopy, Dst: "a", Files: map[string]Content{"f1.bin": f1}})
	eff := w.Apply(Op{Kind: OpMount, Dst: "a", Files: map[string]Content{"mt1_1.bin": m1, "mt1_2.bin": m2}})
	assert.Equal(t, Tree{"a/f1.bin": {C: f1}, "a/mt1_1.bin": {C: m1}, "a/mt1_2.bin": {C: m2}}, w.Remote)
	assert.Equal(t, map[string]Content{"a/mt1_1.bin": m1, "a/mt1_2.bin": m2}, eff.Writes)
	assert.Empty(t, eff.Moves)
	assert.Equal(t, map[string]Content{"f1.bin": f1}, w.Local)
}

// TestVersionsChangeSize: rclone compares sizes only, so each version of
// a name must have a size of its own.
func TestVersionsChangeSize(t *testing.T) {
	sizes := map[int64]bool{}
	for v := 1; v <= 50; v++ {
		c := Content{Worker: 1, Name: "f1.bin", Version: v}
		require.False(t, sizes[c.Size()], "version %d", v)
		sizes[c.Size()] = true
		assert.Len(t, c.Bytes(3), int(c.Size()))
	}
	c := Content{Worker: 1, Name: "f1.bin", Version: 1}
	assert.Equal(t, c.Bytes(3), c.Bytes(3))
	assert.NotEqual(t, c.Bytes(3), c.Bytes(4))
}

// TestApplySyncAndMoves: a sync deletes what the source lacks, but what
// another client added may survive it; a server-side move empties the
// source and reports each file moved.
func TestApplySyncAndMoves(t *testing.T) {
	w := NewWorker(1, 1)
	f1, f2 := Content{1, "f1.bin", 1}, Content{1, "f2.bin", 1}
	w.Apply(Op{Kind: OpCopy, Dst: "a", Files: map[string]Content{"f1.bin": f1, "d/f2.bin": f2}})
	w.ApplyExt(ExtChange{Worker: 1, Kind: ExtAddFile, To: "a/x1.bin", Data: Content{1, "a/x1.bin", 1}})
	w.Apply(Op{Kind: OpSync, Dst: "a", Files: map[string]Content{"f1.bin": f1}})
	assert.Equal(t, Tree{"a/f1.bin": {C: f1}, "a/x1.bin": {C: Content{1, "a/x1.bin", 1}, May: true, Ext: true}}, w.Remote)

	eff := w.Apply(Op{Kind: OpSSMove, Src: "a", Dst: "b"})
	assert.Equal(t, Entry{C: f1}, w.Remote["b/f1.bin"])
	assert.False(t, w.hasFiles("a"))
	assert.Contains(t, eff.Moves, Move{From: "a/f1.bin", To: "b/f1.bin", C: f1})
}

// TestApplyExtDeleteThenCopyOfSameContent: a file another client deleted
// may stay missing after a copy of the same content (the copy's stored
// listing may still show it), but must be there after a new version.
func TestApplyExtDeleteThenCopyOfSameContent(t *testing.T) {
	w := NewWorker(1, 1)
	f1 := Content{1, "f1.bin", 1}
	w.Apply(Op{Kind: OpCopy, Dst: "a", Files: map[string]Content{"f1.bin": f1}})
	w.ApplyExt(ExtChange{Worker: 1, Kind: ExtDeleteFolder, Path: "a"})
	w.Apply(Op{Kind: OpCopy, Dst: "a", Files: map[string]Content{"f1.bin": f1}})
	assert.True(t, w.Remote["a/f1.bin"].May)
	f1v2 := Content{1, "f1.bin", 2}
	w.Apply(Op{Kind: OpCopy, Dst: "a", Files: map[string]Content{"f1.bin": f1v2}})
	assert.Equal(t, Entry{C: f1v2}, w.Remote["a/f1.bin"])
}

// TestCheckTree: a missing file, a duplicate, another Whirlpool and a
// file nobody put there are each reported; a file that may be missing
// is not.
func TestCheckTree(t *testing.T) {
	h := &hasher{seed: 1, sums: map[Content]string{}}
	f1, f2, f3 := Content{1, "f1.bin", 1}, Content{1, "f2.bin", 1}, Content{1, "f3.bin", 1}
	tree := Tree{"a/f1.bin": {C: f1}, "a/f2.bin": {C: f2}, "a/f3.bin": {C: f3, May: true}, "a/f4.bin": {C: f1}}
	file := func(c Content) *metaFile { return &metaFile{Whirlpool: h.sum(c), Size: c.Size()} }
	stored := map[string][]*metaFile{
		"w1/a/f1.bin": {file(f1)},
		"w1/a/f2.bin": {file(f2), file(f2)},
		"w1/a/f4.bin": {file(f2)},
		"w1/b/y.bin":  {file(f3)},
		"w2/a/z.bin":  {file(f3)},
	}
	bad := h.checkTree(stored, "w1", tree)
	require.Len(t, bad, 3, "%q", bad)
	assert.Contains(t, bad[0], "w1/a/f2.bin: stored 2 times")
	assert.Contains(t, bad[1], "w1/a/f4.bin: stored")
	assert.Contains(t, bad[1], "another Whirlpool")
	assert.Contains(t, bad[2], "w1/b/y.bin: stored")
	delete(stored, "w1/a/f1.bin")
	assert.Contains(t, h.checkTree(stored, "w1", tree)[0], "w1/a/f1.bin: missing")

	stored["f.bin"] = []*metaFile{file(f1)}
	assert.Equal(t, []string{"f.bin: stored (" + strconv.FormatInt(f1.Size(), 10) + " B, 1 copies) outside every worker's folder"},
		strays(stored, map[string]bool{"w1": true, "w2": true}))
}

// TestGoneAlreadyOnlyForDeletefileReruns: only a re-run of a deletefile
// that finds no file counts as done; a first run, another exit code or
// another operation does not.
func TestGoneAlreadyOnlyForDeletefileReruns(t *testing.T) {
	notFound := execResult{code: exitFileNotFound}
	assert.True(t, goneAlready(Op{Kind: OpDeleteFile}, 2, notFound))
	assert.False(t, goneAlready(Op{Kind: OpDeleteFile}, 1, notFound), "the first run must find the file")
	assert.False(t, goneAlready(Op{Kind: OpDeleteFile}, 2, execResult{code: 1}))
	assert.False(t, goneAlready(Op{Kind: OpDelete}, 2, notFound))
}

// TestVFSClean: a mount's file counts as uploaded once rclone's VFS
// cache metadata says it is clean, or is gone; dirty or unreadable
// metadata does not count.
func TestVFSClean(t *testing.T) {
	r := &runner{cacheDir: t.TempDir()}
	w := NewWorker(1, 1)
	dir := filepath.Join(r.cacheDir, "vfsMeta", "k1{Pmk-k}", "w1", "a")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	write := func(s string) { require.NoError(t, os.WriteFile(filepath.Join(dir, "mt1_1.bin"), []byte(s), 0o644)) }
	write(`{"Size": 5, "Dirty": true}`)
	assert.False(t, r.vfsClean(w, "a/mt1_1.bin"), "dirty")
	write(`{"Size": 5, "Di`)
	assert.False(t, r.vfsClean(w, "a/mt1_1.bin"), "half written")
	write(`{"Size": 5, "Dirty": false}`)
	assert.True(t, r.vfsClean(w, "a/mt1_1.bin"), "clean")
	assert.True(t, r.vfsClean(w, "a/mt1_2.bin"), "dropped from the cache")
}
