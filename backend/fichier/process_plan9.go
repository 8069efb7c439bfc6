package fichier

import (
	"os"
	"strconv"
)

// processRunning reports whether a process of this PID exists: plan9
// shows each one as a directory of /proc.
func processRunning(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}

// processStart is 0: the PID alone names the process.
func processStart(int) int64 { return 0 }
