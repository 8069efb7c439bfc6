package fichiertest

import (
	"fmt"
	"os"
	"testing"

	"github.com/rclone/rclone/fs/config"
)

// RunWithCacheDir runs a test binary's tests (call it from TestMain) with
// a temporary rclone cache directory, removed afterwards: the backend
// keeps each key's listing clocks and flood lock there, and a test run
// must leave nothing in the user's ~/.cache/rclone.
func RunWithCacheDir(m *testing.M) int {
	dir, err := os.MkdirTemp("", "fichier-test-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "couldn't make a cache directory for the tests:", err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	if err := config.SetCacheDir(dir); err != nil {
		fmt.Fprintln(os.Stderr, "couldn't set the cache directory:", err)
		return 1
	}
	return m.Run()
}
