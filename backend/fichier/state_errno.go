//go:build !plan9

package fichier

import "syscall"

// unwritableErrnos are the errors of a state file that cannot be made or
// written: a full disk, a read-only file system or directory, a quota,
// no permission, or a state directory that cannot be made.
var unwritableErrnos = []error{syscall.ENOSPC, syscall.EROFS, syscall.EDQUOT, syscall.EACCES, syscall.EPERM, syscall.ENOTDIR}
