package main

import (
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/rclone/rclone/fs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// imports returns the import paths of a Go file.
func imports(t *testing.T, file string) []string {
	t.Helper()
	parsed, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
	require.NoError(t, err)
	var paths []string
	for _, imp := range parsed.Imports {
		path, err := strconv.Unquote(imp.Path.Value)
		require.NoError(t, err)
		paths = append(paths, path)
	}
	return paths
}

// TestBackendsMatchUpstream checks backends.go against rclone's own list
// for the rclone version in go.mod: every backend, ours for fichier.
func TestBackendsMatchUpstream(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/rclone/rclone").Output()
	require.NoError(t, err)
	upstream := imports(t, filepath.Join(strings.TrimSpace(string(out)), "backend", "all", "all.go"))
	var want []string
	for _, path := range upstream {
		if path == "github.com/rclone/rclone/backend/fichier" {
			path = "github.com/rclone-fichier/rclone-fichier/backend/fichier"
		}
		want = append(want, path)
	}
	got := imports(t, "backends.go")
	sort.Strings(want)
	sort.Strings(got)
	assert.Equal(t, want, got, "backends.go is stale: run go generate ./cmd/rclone")
}

// TestFichierIsOurs checks the binary registers one fichier backend, ours,
// and no backend twice.
func TestFichierIsOurs(t *testing.T) {
	seen := map[string]bool{}
	for _, info := range fs.Registry {
		assert.False(t, seen[info.Name], "backend %q registered twice", info.Name)
		seen[info.Name] = true
	}
	info, err := fs.Find("fichier")
	require.NoError(t, err)
	assert.Equal(t, reflect.ValueOf(fichier.NewFs).Pointer(), reflect.ValueOf(info.NewFs).Pointer())
	assert.Greater(t, len(fs.Registry), 60, "every other backend is there too")
}

// TestBinary runs the built binary: its version names this build, its
// help shows our options, and start-up prints no duplicate-flag warning.
func TestBinary(t *testing.T) {
	rclone, _ := fichiertest.Binaries(t)
	out, err := exec.Command(rclone, "version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), fs.VersionTag+"-"+BuildSuffix)

	out, err = exec.Command(rclone, "help", "backend", "fichier").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, option := range []string{"--fichier-api-key", "--fichier-shared-folder", "--fichier-api-rate", "--fichier-list-interval", "--fichier-flood-wait"} {
		assert.Contains(t, string(out), option)
	}
	assert.NotContains(t, string(out), "duplicate")

	out, err = exec.Command(rclone, "listremotes", "-vv", "--config", filepath.Join(t.TempDir(), "none.conf")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.NotContains(t, string(out), "Not adding duplicate flag")
}
