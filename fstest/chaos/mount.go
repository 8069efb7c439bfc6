package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
)

// mountWriteBack is the mount's --vfs-write-back: short, but longer than
// writing a batch takes, so that a kill armed once the batch is written
// still meets the uploads' calls.
const mountWriteBack = "1s"

// mountCacheMaxAge is the mount's --vfs-cache-max-age: a mount of a
// folder drops the clean files earlier mounts of it left in the VFS
// cache, which shares the 16 MiB cache disk with the state.
const mountCacheMaxAge = "1s"

// MachineExclude returns exclude with "mount" added where this machine
// cannot run rclone mount (no /dev/fuse, no fusermount3), with a note
// saying so ("" where it can).
func MachineExclude(exclude []string) ([]string, string) {
	if containsAny(OpMount, exclude) {
		return exclude, ""
	}
	if _, err := fichiertest.Fusermount(); err != nil {
		return append(slices.Clone(exclude), OpMount),
			fmt.Sprintf("mount: not possible (%v); no mount was drawn", err)
	}
	return exclude, ""
}

// mountPoint is worker w's mount point.
func (r *runner) mountPoint(w *Worker) string {
	return filepath.Join(r.res.WorkDir, "mnt", w.Name())
}

// mountRun runs one run of a mount operation: rclone mount of the
// worker's Dst on the worker's mount point; the batch's files that no
// run wrote yet (written) written into it; once each is stored with its
// Whirlpool and clean in rclone's VFS cache (or the process ended), an
// unmount. A run after a kill mounts the same VFS cache (the same cache
// directory, remote and mount point) again, and rclone uploads what the
// killed one left in it itself. The kill is armed once the batch is
// written: its calls are the uploads'.
func (r *runner) mountRun(w *Worker, label string, op Op, kill *Kill, written map[string]bool) execResult {
	dir := r.mountPoint(w)
	if err := os.MkdirAll(dir, 0o755); err != nil || r.fusermount == "" {
		return execResult{code: -1, stderr: fmt.Sprintf("mount point %s: %v (fusermount %q)", dir, err, r.fusermount)}
	}
	r.unmountStale(dir)
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.Bound)
	defer cancel()
	if kill != nil {
		r.killMu.Lock()
		defer r.killMu.Unlock()
	}
	p, err := r.startProc(ctx, w, label, r.argsOf(w, op), nil)
	if err != nil {
		return execResult{code: -1, stderr: err.Error()}
	}
	m := &mountProc{done: make(chan error, 1)}
	go func() { m.done <- p.cmd.Wait() }()
	problem := "it was never mounted"
	if m.waitMounted(dir) {
		if problem = r.writeBatch(dir, op, written); problem == "" {
			if kill != nil {
				r.arm(p.pidFile, kill)
			}
			r.waitStored(m, w, op)
		}
		m.unmount(r.fusermount, dir)
	}
	waitErr := m.wait()
	r.unmountStale(dir) // what a killed rclone left mounted
	res := r.endProc(ctx, w, p, waitErr, kill != nil)
	if res.code == 0 && (problem != "" || !r.batchStored(w, op)) {
		res.code = 1
		res.stderr += fmt.Sprintf("\nexplorer: the mount exited 0, but not every file was written and stored (%s)", problem)
	}
	r.mu.Lock()
	r.res.Mounts++
	if res.killed {
		r.res.MountsKilled++
	}
	r.mu.Unlock()
	return res
}

// writeBatch writes the files of op that are not written yet into the
// mount at dir, and returns what went wrong ("" if nothing did).
func (r *runner) writeBatch(dir string, op Op, written map[string]bool) string {
	for _, name := range sortedNames(op.Files) {
		if written[name] {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), op.Files[name].Bytes(r.cfg.Seed), 0o644); err != nil {
			return fmt.Sprintf("writing %s into the mount: %v", name, err)
		}
		written[name] = true
	}
	return ""
}

// waitStored waits until the batch is stored and clean in the VFS
// cache, or the process ended (killed, or at the run's bound).
func (r *runner) waitStored(m *mountProc, w *Worker, op Op) {
	for !r.batchStored(w, op) {
		if m.exitedWithin(200 * time.Millisecond) {
			return
		}
	}
}

// batchStored reports whether every file of a mount's batch is stored
// in its folder with its Whirlpool, and clean in the mount's VFS cache
// (rclone recorded its upload: unmounted before that, the next mount of
// the folder would upload it again).
func (r *runner) batchStored(w *Worker, op Op) bool {
	m, err := readMeta(r.emu.data)
	if err != nil {
		return false
	}
	stored := m.stored(emailOf(w.Key))
	for _, name := range sortedNames(op.Files) {
		if !r.hash.checkStoredAt(stored, w.Name()+"/"+op.Dst+"/"+name, op.Files[name]) || !r.vfsClean(w, op.Dst+"/"+name) {
			return false
		}
	}
	return true
}

// vfsClean reports whether rclone's VFS cache holds nothing of the
// file at path (in w's folder) still to upload: its metadata
// (vfsMeta/REMOTE/ROOT/NAME, JSON, written in place; REMOTE is the
// remote's name with the hash of the options the environment sets,
// k1{Pmk-k}) says it is not dirty, or is gone (a clean file dropped
// with --vfs-cache-max-age; a written file has metadata until then).
func (r *runner) vfsClean(w *Worker, path string) bool {
	pattern := filepath.Join(r.cacheDir, "vfsMeta", w.RemoteName()+"{*}", w.Name(), filepath.FromSlash(path))
	metas, _ := filepath.Glob(pattern)
	for _, meta := range metas {
		b, err := os.ReadFile(meta)
		var info struct{ Dirty bool }
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil || json.Unmarshal(b, &info) != nil || info.Dirty {
			return false
		}
	}
	return true
}

// unmountStale lazily unmounts dir if something is mounted there (a
// killed rclone's mount, whose every access fails).
func (r *runner) unmountStale(dir string) {
	if r.fusermount == "" || !isMounted(dir) {
		return
	}
	out, err := exec.Command(r.fusermount, "-uz", dir).CombinedOutput()
	r.logf("%s: stale mount: %s -uz: %v %s", dir, r.fusermount, err, strings.TrimSpace(string(out)))
}

// unmountAll lazily unmounts every worker's mount point (an interrupted
// run's).
func (r *runner) unmountAll() {
	dirs, _ := filepath.Glob(filepath.Join(r.res.WorkDir, "mnt", "*"))
	for _, dir := range dirs {
		r.unmountStale(dir)
	}
}

// mountProc is a running rclone mount, done delivering its Wait's error.
type mountProc struct {
	done  chan error
	ended bool
	err   error
}

// exitedWithin reports whether the process ended, waiting up to d.
func (m *mountProc) exitedWithin(d time.Duration) bool {
	if m.ended {
		return true
	}
	select {
	case m.err = <-m.done:
		m.ended = true
	case <-time.After(d):
	}
	return m.ended
}

// wait waits for the process to end (the run's bound kills it) and
// returns its Wait's error.
func (m *mountProc) wait() error {
	if !m.ended {
		m.err, m.ended = <-m.done, true
	}
	return m.err
}

// waitMounted waits until dir is mounted, or the process ended.
func (m *mountProc) waitMounted(dir string) bool {
	for !isMounted(dir) {
		if m.exitedWithin(50 * time.Millisecond) {
			return false
		}
	}
	return true
}

// unmount unmounts dir with fusermount -u, as a user does, trying
// again for a while if it is busy; rclone then exits.
func (m *mountProc) unmount(fusermount, dir string) {
	for try := 0; try < 10; try++ {
		if m.exitedWithin(0) || exec.Command(fusermount, "-u", dir).Run() == nil {
			return
		}
		m.exitedWithin(500 * time.Millisecond)
	}
}

// isMounted reports whether dir is a mount point (not when that cannot
// be read).
func isMounted(dir string) bool {
	mounted, err := fichiertest.IsMounted(dir)
	return err == nil && mounted
}
