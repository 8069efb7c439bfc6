package fichier

import (
	"fmt"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/fserrors"
)

// refuseSize refuses a file that 1fichier cannot take, by its size,
// before anything is asked or made (a folder for it, say): of unknown
// size, empty, or over 1fichier's limit for one file. name is how the
// error names the file. The refusals are for good: a retry cannot help.
func refuseSize(name string, size int64) error {
	switch {
	case size < 0:
		return fserrors.NoRetryError(fmt.Errorf("can't upload %q of unknown size: 1fichier needs the length up front", name))
	case size == 0:
		return errEmptyFile(name)
	case size > maxFileSize:
		return fserrors.NoRetryError(fmt.Errorf("can't upload %q: it is %v (%d bytes), over 1fichier's limit of %v (%d bytes) for one file; "+
			"split it with rclone's chunker over this remote (see \"Files over 300 GB\" in the fichier backend's docs)",
			name, fs.SizeSuffix(size), size, fs.SizeSuffix(maxFileSize), int64(maxFileSize)))
	}
	return nil
}
