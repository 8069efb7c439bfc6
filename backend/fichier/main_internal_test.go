package fichier

import (
	"os"
	"testing"

	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
)

// TestMain gives the tests a temporary cache directory, never the user's.
func TestMain(m *testing.M) {
	os.Exit(fichiertest.RunWithCacheDir(m))
}
