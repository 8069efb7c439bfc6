//go:build linux

package fichier

import (
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEndedProcessIsNotRunning: a process that ended but that its parent
// has not collected yet (a zombie: a killed rclone under a busy parent)
// does not count as running, so its journal entries are resolved at
// once instead of waited for.
func TestEndedProcessIsNotRunning(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	assert.True(t, processRunning(pid))
	require.NoError(t, cmd.Process.Kill())
	require.Eventually(t, func() bool { return processEnded(pid) }, 10*time.Second, 10*time.Millisecond, "a zombie until collected")
	assert.False(t, processRunning(pid), "ended, not collected yet")
	_ = cmd.Wait()
	assert.False(t, processRunning(pid))
}
