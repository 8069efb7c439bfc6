package main

import (
	"encoding/json"
	"fmt"
	"log"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
)

// treeCase is one copy of a tree of small files into a fresh account.
type treeCase struct {
	Files, Folders int
	Transfers      int // rclone's --transfers; 0 = its default, no flag
}

// String is the case as -tree-cases spells it.
func (tc treeCase) String() string {
	return fmt.Sprintf("%d/%d/%d", tc.Files, tc.Folders, tc.Transfers)
}

// parseTreeCases reads FILES/FOLDERS/TRANSFERS[,...].
func parseTreeCases(s string) ([]treeCase, error) {
	var out []treeCase
	for _, spec := range strings.Split(s, ",") {
		f := strings.Split(spec, "/")
		if len(f) != 3 {
			return nil, fmt.Errorf("%q: want FILES/FOLDERS/TRANSFERS", spec)
		}
		var n [3]int
		for i, v := range f {
			x, err := strconv.Atoi(v)
			if err != nil || x < 0 {
				return nil, fmt.Errorf("%q: %q is not a count", spec, v)
			}
			n[i] = x
		}
		tc := treeCase{Files: n[0], Folders: n[1], Transfers: n[2]}
		if tc.Folders < 1 || tc.Files < tc.Folders {
			return nil, fmt.Errorf("%q: want at least one folder and a file in each", spec)
		}
		out = append(out, tc)
	}
	return out, nil
}

// maxBatch is the most files 1fichier takes in one upload request.
const maxBatch = 500

// perFolder is how many files of tc each folder holds (round robin).
func (tc treeCase) perFolder(folder int) int {
	n := tc.Files / tc.Folders
	if folder < tc.Files%tc.Folders {
		n++
	}
	return n
}

// treeBound is the fewest upload requests and API calls a copy of tc
// into a fresh account's folder dst can make: every folder's files in
// as few requests as 1fichier takes (one per folder up to 500 files),
// 3 calls each (get_upload_server.cgi, upload.cgi, end.pl), one mkdir
// per folder and one for dst, and one listing of the root, where dst is
// looked for.
func treeBound(tc treeCase) (requests, calls int) {
	for i := 0; i < tc.Folders; i++ {
		requests += (tc.perFolder(i) + maxBatch - 1) / maxBatch
	}
	return requests, 3*requests + tc.Folders + 1 + 1
}

// treeBoundFormula states treeBound in the report's words.
const treeBoundFormula = "3 calls × upload requests (one per folder, ⌈files in it ÷ 500⌉) + 1 mkdir per folder + 1 mkdir of the destination + 1 root listing"

// treeFile is the name of file i of a tree of files in folders, relative
// to the tree's top: dNN/fNNNN.bin, file i in folder i mod folders, as
// the measurements in docs/measurements.md name them (wider numbers for
// bigger trees).
func treeFile(i, files, folders int) string {
	w := func(n, least int) int { return max(least, len(strconv.Itoa(n-1))) }
	return fmt.Sprintf("d%0*d/f%0*d.bin", w(folders, 2), i%folders, w(files, 4), i)
}

// treeSize is the size of file i: 1 to 4 KiB.
func treeSize(i int) int { return 1024 + (i*997)%3073 }

// makeTree writes the tree of files files in folders folders under dir,
// the same every time, unless dir already holds it (dir.complete, beside
// it, marks a finished tree).
func makeTree(dir string, files, folders int) error {
	done := filepath.Clean(dir) + ".complete"
	if _, err := os.Stat(done); err == nil {
		return nil
	}
	rnd := rand.New(rand.NewSource(int64(files)*1000 + int64(folders)))
	buf := make([]byte, 4096)
	made := map[string]bool{}
	for i := 0; i < files; i++ {
		p := filepath.Join(dir, treeFile(i, files, folders))
		if d := filepath.Dir(p); !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			made[d] = true
		}
		data := buf[:treeSize(i)]
		_, _ = rnd.Read(data)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(done, nil, 0o644)
}

// storedCheck compares the files an emulator stores under a folder with
// the names a copy sent.
type storedCheck struct {
	Want    int      // names sent
	Stored  int      // files stored under the folder
	Missing []string // names sent, not stored
	Twice   []string // names stored more than once
	Extra   []string // files stored that were not sent
	Err     string   // why the files could not be listed
}

// OK reports whether every name sent is stored exactly once and nothing
// else is.
func (c storedCheck) OK() bool {
	return c.Err == "" && len(c.Missing)+len(c.Twice)+len(c.Extra) == 0
}

// String is the check in the report's words.
func (c storedCheck) String() string {
	switch {
	case c.Err != "":
		return "**not checked** (" + c.Err + ")"
	case c.OK():
		return fmt.Sprintf("yes, %d of %d", c.Stored, c.Want)
	}
	return fmt.Sprintf("**no**: %d stored for %d names, %d missing, %d twice, %d extra%s",
		c.Stored, c.Want, len(c.Missing), len(c.Twice), len(c.Extra), firstOf(c.Missing, c.Twice, c.Extra))
}

// firstOf names the first file of the first non-empty list.
func firstOf(lists ...[]string) string {
	for _, l := range lists {
		if len(l) > 0 {
			return " (first: " + l[0] + ")"
		}
	}
	return ""
}

// checkStored compares files, as /debug/files lists them, under folder
// dst with want, the paths sent relative to dst.
func checkStored(files []emulator.StoredFile, dst string, want []string) storedCheck {
	c := storedCheck{Want: len(want)}
	count := map[string]int{}
	for _, f := range files {
		if rel, ok := strings.CutPrefix(f.Path, dst+"/"); ok {
			count[rel]++
			c.Stored++
		}
	}
	sent := map[string]bool{}
	for _, name := range want {
		sent[name] = true
		switch count[name] {
		case 0:
			c.Missing = append(c.Missing, name)
		case 1:
		default:
			c.Twice = append(c.Twice, name)
		}
	}
	for name := range count {
		if !sent[name] {
			c.Extra = append(c.Extra, name)
		}
	}
	return c
}

// storedFiles reads every file e stores from its /debug/files.
func storedFiles(e *emu) ([]emulator.StoredFile, error) {
	resp, err := http.Get(e.URL + "/debug/files")
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/debug/files: %s", resp.Status)
	}
	var files []emulator.StoredFile
	return files, json.NewDecoder(resp.Body).Decode(&files)
}

// treeResult is one measured copy of a tree (scenarios batch and tree).
type treeResult struct {
	Scenario string
	treeCase
	Scale float64 // the emulator's --time-scale
	Outcome
	Stats  emulator.Stats
	Stored storedCheck
	Listed int    // batch: files lsf -R listed
	Check  string // batch: "clean" or "FAILED" (rclone check)
	Note   string // the last error or notice of a failed copy
}

// name names the run in logs and file names.
func (r *treeResult) name() string {
	return r.Scenario + "." + strings.ReplaceAll(r.String(), "/", "-")
}

// runTrees runs the batch scenario's copies, then the tree scenario's,
// one at a time: the big trees keep both cores busy.
func (b *bench) runTrees() {
	if b.cfg.want("batch") {
		for _, t := range b.cfg.batchTransfers {
			b.runTreeCase("batch", treeCase{Files: b.cfg.files, Folders: b.cfg.folders, Transfers: t})
		}
	}
	if b.cfg.want("tree") {
		for _, tc := range b.cfg.treeCases {
			b.runTreeCase("tree", tc)
		}
	}
}

// treeDst is the folder the tree copies go to.
const treeDst = "dst"

// runTreeCase copies tc's tree into a fresh emulator with bin/rclone over
// plain HTTP, at -time-scale, then checks what the emulator stored; the
// batch scenario also lists the copy (lsf -R) and runs rclone check, as
// the earlier shell measurements did.
func (b *bench) runTreeCase(sc string, tc treeCase) {
	r := &treeResult{Scenario: sc, treeCase: tc, Scale: b.cfg.timeScale}
	defer func() {
		b.mu.Lock()
		b.trees = append(b.trees, r)
		b.mu.Unlock()
		log.Printf("%s: %s in %.1f s, %d API calls, stored once: %s", r.name(), r.Status, r.Wall, apiCalls(r.Stats), r.Stored)
	}()
	src := filepath.Join(b.work, fmt.Sprintf("tree-%d-%d", tc.Files, tc.Folders))
	if _, err := os.Stat(src + ".complete"); err != nil {
		log.Printf("%s: making %d files in %d folders", r.name(), tc.Files, tc.Folders)
	}
	if err := makeTree(src, tc.Files, tc.Folders); err != nil {
		r.Status = "failed (" + err.Error() + ")"
		return
	}
	e, err := b.startScaled(filepath.Join(b.work, "emu-"+r.name()), b.cfg.timeScale, true)
	if err != nil {
		r.Status = "failed (" + err.Error() + ")"
		return
	}
	defer e.Stop()
	args := []string{"copy", src, "bench:" + treeDst}
	if tc.Transfers > 0 {
		args = append(args, "--transfers", strconv.Itoa(tc.Transfers))
	}
	r.Outcome, r.Note = b.timed(e, b.cfg.timeout, b.cfg.ours, args...)
	r.Stats, err = e.FetchStats()
	if err != nil {
		log.Printf("%s: stats: %v", r.name(), err)
	}
	want := make([]string, tc.Files)
	for i := range want {
		want[i] = treeFile(i, tc.Files, tc.Folders)
	}
	if files, err := storedFiles(e); err != nil {
		r.Stored = storedCheck{Want: tc.Files, Err: err.Error()}
	} else {
		r.Stored = checkStored(files, treeDst, want)
	}
	if sc == "batch" {
		b.listAndCheck(e, r, src)
	}
}

// listAndCheck counts the files lsf -R lists in the copy and runs
// rclone check of it against src.
func (b *bench) listAndCheck(e *emu, r *treeResult, src string) {
	o, _ := b.timed(e, b.cfg.timeout, b.cfg.ours, "lsf", "-R", "--files-only", "bench:"+treeDst)
	for _, line := range strings.Split(o.Output, "\n") {
		if line != "" {
			r.Listed++
		}
	}
	r.Check = "clean"
	if o, _ := b.timed(e, b.cfg.timeout, b.cfg.ours, "check", src, "bench:"+treeDst); !o.OK() {
		r.Check = "FAILED"
	}
}
