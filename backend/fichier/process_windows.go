//go:build windows

package fichier

import "os"

// processRunning reports whether a process of this PID exists.
func processRunning(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	_ = p.Release()
	return true
}

// processStart is 0: the PID alone names the process.
func processStart(int) int64 { return 0 }
