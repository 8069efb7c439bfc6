//go:build !windows && !plan9

package fichier

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// processRunning reports whether a process of this PID exists.
func processRunning(pid int) bool {
	err := syscall.Kill(pid, 0)
	return (err == nil || errors.Is(err, syscall.EPERM)) && !processEnded(pid)
}

// processEnded reports whether process pid has ended and only waits for
// its parent to collect its exit status (a zombie), where /proc tells
// (Linux): a killed rclone whose parent has not done so yet sends
// nothing any more.
func processEnded(pid int) bool {
	fields := procStatFields(pid)
	return len(fields) > 0 && fields[0] == "Z"
}

// procStatFields returns the fields of /proc/PID/stat after the command
// name (which, in parentheses, may hold spaces), or nil.
func procStatFields(pid int) []string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	rest := string(data)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	return strings.Fields(rest)
}

// processStart returns when the process started, in clock ticks since
// boot, where /proc tells (Linux), else 0.
func processStart(pid int) int64 {
	// The start time is field 22, the 20th after the command name.
	fields := procStatFields(pid)
	if len(fields) < 20 {
		return 0
	}
	start, _ := strconv.ParseInt(fields[19], 10, 64)
	return start
}
