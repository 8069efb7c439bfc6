package fichier

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// privateStateFile makes the file of a private state copy: in memory, so
// a full or read-only disk does not matter, and gone with the process.
// bbolt opens it by path, /proc/self/fd/N, while file keeps it alive.
func privateStateFile() (file *os.File, path string, err error) {
	fd, err := unix.MemfdCreate("fichier-state", unix.MFD_CLOEXEC)
	if err != nil {
		return privateTempFile()
	}
	file = os.NewFile(uintptr(fd), "fichier-state")
	return file, fmt.Sprintf("/proc/self/fd/%d", fd), nil
}
