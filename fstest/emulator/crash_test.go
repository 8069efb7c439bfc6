//go:build !windows

package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// victim starts a process to be killed and writes its PID to a file.
func victim(t *testing.T) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	pidFile := filepath.Join(t.TempDir(), "pid")
	require.NoError(t, os.WriteFile(pidFile, []byte(fmt.Sprint(cmd.Process.Pid)), 0o600))
	return cmd, pidFile
}

// killedBySIGKILL waits for cmd and reports whether SIGKILL ended it.
func killedBySIGKILL(cmd *exec.Cmd) bool {
	err := cmd.Wait()
	exit, ok := err.(*exec.ExitError)
	if !ok {
		return false
	}
	status, ok := exit.Sys().(syscall.WaitStatus)
	return ok && status.Signaled() && status.Signal() == syscall.SIGKILL
}

// The Nth call after arming kills the process, at either moment, and
// the call still does its work: the folder is made whatever the client
// then sees.
func TestKillRuleKillsAtTheNthCall(t *testing.T) {
	for _, when := range []string{KillBeforeAnswer, KillAfterAnswer} {
		t.Run(when, func(t *testing.T) {
			ts := NewTestServer(t, noLimits())
			cmd, pidFile := victim(t)
			rule := fmt.Sprintf(`{"pid_file":%q,"call":2,"when":%q}`, pidFile, when)
			r := do(t, http.MethodPost, ts.URL+"/debug/kill", nil, strings.NewReader(rule))
			require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)

			ts.ok(t, "folder/mkdir.cgi", map[string]any{"name": "first"})
			ts.ok(t, "folder/mkdir.cgi", map[string]any{"name": "second"})
			assert.True(t, killedBySIGKILL(cmd), "the second call kills")
			var status map[string]any
			require.NoError(t, json.Unmarshal(do(t, http.MethodGet, ts.URL+"/debug/kill", nil, nil).Body, &status))
			assert.Equal(t, true, status["fired"])
			assert.Equal(t, 2.0, status["calls"])
			ts.ok(t, "folder/mkdir.cgi", map[string]any{"name": "third"}) // a fired rule fires once
		})
	}
}

func TestKillRuleRefusesABadRule(t *testing.T) {
	ts := NewTestServer(t, noLimits())
	for _, body := range []string{`{}`, `{"pid_file":"x","call":0,"when":"before-answer"}`, `{"pid_file":"x","call":1,"when":"later"}`, `nope`} {
		r := do(t, http.MethodPost, ts.URL+"/debug/kill", nil, strings.NewReader(body))
		assert.Equal(t, http.StatusBadRequest, r.Code, body)
	}
}

// /debug/files lists every stored file by path, outside the rate rules.
func TestDebugFilesListsEveryStoredFile(t *testing.T) {
	ts := NewTestServer(t, Options{ListingDelay: 1e12})
	id, err := ts.Mkdir(ts.Key, 0, "dir")
	require.NoError(t, err)
	_, err = ts.PutFile(ts.Key, id, "a.txt", []byte("abc"))
	require.NoError(t, err)
	_, err = ts.PutFile(ts.Key, id, "a.txt", []byte("abcd"))
	require.NoError(t, err)
	var files []StoredFile
	require.NoError(t, json.Unmarshal(do(t, http.MethodGet, ts.URL+"/debug/files", nil, nil).Body, &files))
	require.Len(t, files, 2, "duplicates are listed")
	assert.Equal(t, "dir/a.txt", files[0].Path)
	assert.ElementsMatch(t, []int64{3, 4}, []int64{files[0].Size, files[1].Size})
}
