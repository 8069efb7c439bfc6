package fichier

import (
	"fmt"
	"os"
	"testing"

	"github.com/rclone/rclone/fs/config"
)

// TestMain keeps the tests' shared account state out of the user's cache
// directory: every run gets a temporary one, removed at the end.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fichier-test-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := config.SetCacheDir(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}
