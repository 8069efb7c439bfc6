//go:build windows

package emulator

import "os"

// killProcess kills pid at once.
func killProcess(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}
