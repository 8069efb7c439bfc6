//go:build !windows

package emulator

import "syscall"

// killProcess kills pid at once, as SIGKILL does.
func killProcess(pid int) { _ = syscall.Kill(pid, syscall.SIGKILL) }
