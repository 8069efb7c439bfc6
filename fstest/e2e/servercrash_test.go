//go:build !windows

package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/stretchr/testify/require"
)

// Kill at every step, server side: a server-side copy, move (with a
// filter, so it goes file by file) and delete are each killed with
// SIGKILL at each API call in turn, before and after its answer, then
// run again at once. After every re-run each file is at its destination
// exactly once, no source is lost, and the re-run exits 0.

// serverCrashFlags let a few files share each server-side call.
var serverCrashFlags = []string{"--transfers", "8", "--checkers", "8"}

// serverSideOp is one of the operations the matrix kills.
type serverSideOp struct {
	name string
	args func(base string) []string // rclone's arguments, on the tree at base
	// check checks what is stored after the killed run (after) or after
	// the re-run (!after), given the tree's files.
	check func(h *harness, base string, files map[string]int64, what string, after bool)
}

// serverSideOps are the operations of the matrix: a copy and a move of
// folder a (b stays), and a delete of folder src.
var serverSideOps = []serverSideOp{
	{
		name: "copy",
		args: func(base string) []string {
			return []string{"copy", remote + ":" + base + "/src", remote + ":" + base + "/dst"}
		},
		check: func(h *harness, base string, files map[string]int64, what string, after bool) {
			h.requireStoredOnce(base+"/src", files, what+": the source")
			if !after {
				h.requireStoredOnce(base+"/dst", files, what)
			}
		},
	},
	{
		name: "move",
		args: func(base string) []string {
			return []string{"move", remote + ":" + base + "/src", remote + ":" + base + "/dst", "--include", "a/**"}
		},
		check: func(h *harness, base string, files map[string]int64, what string, after bool) {
			src, _ := h.stored(base + "/src")
			dst, _ := h.stored(base + "/dst")
			for name := range files {
				moved := strings.HasPrefix(name, "a/")
				require.Equal(h.t, 1, src[name]+dst[name], "%s: %s is once in the source or the destination", what, name)
				if !after {
					require.Equal(h.t, moved, dst[name] == 1, "%s: %s", what, name)
				}
			}
		},
	},
	{
		name: "delete",
		args: func(base string) []string { return []string{"delete", remote + ":" + base + "/src"} },
		check: func(h *harness, base string, files map[string]int64, what string, after bool) {
			src, _ := h.stored(base + "/src")
			for name, n := range src {
				require.Contains(h.t, files, name, what)
				require.Equal(h.t, 1, n, "%s: %s", what, name)
			}
			if !after {
				require.Empty(h.t, src, "%s: everything deleted", what)
			}
		},
	},
}

// serverCrashMatrix kills op at every call and moment, runs it again at
// once each time, and checks what is stored.
func serverCrashMatrix(t *testing.T, h *harness, op serverSideOp) {
	for _, when := range []string{emulator.KillBeforeAnswer, emulator.KillAfterAnswer} {
		for n := 1; ; n++ {
			what := fmt.Sprintf("%s killed %s call %d", op.name, when, n)
			base := fmt.Sprintf("ss/%s-%s-%d", op.name, when, n)
			local, files := crashTree(t, int64(n))
			delete(files, "big.bin")
			h.nowOK("copy", local, remote+":"+base+"/src", "--exclude", "big.bin")
			args := append(op.args(base), serverCrashFlags...)
			fired := h.killedRun(n, when, args...)
			op.check(h, base, files, what, true)
			res := h.now(args...)
			require.Equal(t, 0, res.Code, "%s, then run again: %s", what, res.Stderr)
			op.check(h, base, files, what+", then run again", false)
			if !fired {
				t.Logf("%s: %d calls in all", op.name, n-1)
				break
			}
		}
	}
	requireNoRuleBroken(t, h.stats())
}

func TestServerSideKilledAtEveryCall(t *testing.T) {
	for _, op := range serverSideOps {
		t.Run(op.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			serverCrashMatrix(t, h, op)
		})
	}
}

// A remote upload killed at each of its calls, before the answer and
// after it, then asked for again at once: 1fichier is asked once, and
// fetches the URL into one file.
func TestRemoteUploadKilledAtEveryCallAsksOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("moving pictures"))
	}))
	t.Cleanup(web.Close)
	for _, when := range []string{emulator.KillBeforeAnswer, emulator.KillAfterAnswer} {
		for n := 1; ; n++ {
			what := fmt.Sprintf("remote-upload killed %s call %d", when, n)
			base := fmt.Sprintf("ru/%s-%d", when, n)
			h.nowOK("mkdir", remote+":"+base)
			asked := h.stats().Calls["remote/request.cgi"]
			args := []string{"backend", "remote-upload", remote + ":" + base, web.URL + "/film.mkv"}
			fired := h.killedRun(n, when, args...)
			if fired {
				res := h.now(args...)
				require.Equal(t, 0, res.Code, "%s, then run again: %s", what, res.Stderr)
			} else {
				what = fmt.Sprintf("remote-upload not killed (%d calls)", n-1)
			}
			require.Equal(t, asked+1, h.stats().Calls["remote/request.cgi"], "%s: asked once", what)
			require.Eventually(t, func() bool {
				count, _ := h.stored(base)
				return count["film.mkv"] == 1
			}, 10*time.Second, 50*time.Millisecond, "%s: fetched into one file", what)
			count, _ := h.stored(base)
			require.Len(t, count, 1, what)
			if !fired {
				t.Log(what)
				break
			}
		}
	}
	requireNoRuleBroken(t, h.stats())
}
