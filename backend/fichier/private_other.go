//go:build !linux

package fichier

import "os"

// privateStateFile makes the file of a private state copy, in the
// temporary directory.
func privateStateFile() (*os.File, string, error) {
	return privateTempFile()
}
