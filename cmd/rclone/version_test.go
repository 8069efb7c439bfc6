package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rclone/rclone/fs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBuildVersion checks a stamped version wins over the built-in one.
func TestBuildVersion(t *testing.T) {
	assert.Equal(t, "v1.76.0-fichier.3", buildVersion("v1.76.0-fichier.3"))
	assert.Equal(t, fs.VersionTag+"-fichier", buildVersion(""))
}

// gitRepo is a scratch git repository holding scripts/version.sh and
// go.mod, as a checkout of this project would.
type gitRepo struct {
	t   *testing.T
	dir string
}

// newGitRepo copies the script and go.mod into a new repository with one
// commit.
func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed to test scripts/version.sh: %v", err)
	}
	r := &gitRepo{t: t, dir: t.TempDir()}
	require.NoError(t, os.MkdirAll(filepath.Join(r.dir, "scripts"), 0o755))
	for _, name := range []string{"scripts/version.sh", "go.mod"} {
		data, err := os.ReadFile(filepath.Join("..", "..", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(r.dir, name), data, 0o755))
	}
	r.git("init", "-q")
	r.git("add", ".")
	r.commit()
	return r
}

// git runs a git command in the repository and returns its output.
func (r *gitRepo) git(args ...string) string {
	r.t.Helper()
	c := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "tag.gpgSign=false", "-c", "commit.gpgSign=false"}, args...)...)
	c.Dir = r.dir
	out, err := c.CombinedOutput()
	require.NoError(r.t, err, "git %v: %s", args, out)
	return strings.TrimSpace(string(out))
}

// commit records an empty commit.
func (r *gitRepo) commit() {
	r.git("commit", "-q", "--allow-empty", "-m", "change")
}

// version runs scripts/version.sh.
func (r *gitRepo) version() string {
	r.t.Helper()
	out, err := exec.Command(filepath.Join(r.dir, "scripts", "version.sh")).Output()
	require.NoError(r.t, err)
	return strings.TrimSpace(string(out))
}

// TestVersionScript checks the versions scripts/version.sh derives from
// git: before any release tag, on one, after one, and with local changes.
func TestVersionScript(t *testing.T) {
	r := newGitRepo(t)
	sha := r.git("rev-parse", "--short", "HEAD")
	assert.Equal(t, fs.VersionTag+"-fichier+g"+sha, r.version(), "no release tag yet")

	require.NoError(t, os.WriteFile(filepath.Join(r.dir, "go.mod"), []byte("module x\n\nrequire github.com/rclone/rclone v1.76.0\n"), 0o644))
	assert.Equal(t, "v1.76.0-fichier+g"+sha+".dirty", r.version(), "uncommitted change")
	r.git("checkout", "-q", "go.mod")

	r.git("tag", "v2.0.0") // not a release tag of ours
	r.git("tag", "-a", "-m", "release", "v1.76.0-fichier.1")
	assert.Equal(t, "v1.76.0-fichier.1", r.version(), "on the release tag")

	r.commit()
	sha = r.git("rev-parse", "--short", "HEAD")
	assert.Equal(t, "v1.76.0-fichier.1-1-g"+sha, r.version(), "one commit after it")
}
