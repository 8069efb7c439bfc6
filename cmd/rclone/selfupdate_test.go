package main

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/rclone/rclone/cmd"
	"github.com/rclone/rclone/fs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSelfUpdateIsOurs checks that upstream's selfupdate, which this test
// binary registers (it is built without -tags noselfupdate), gave way to
// ours under both names and with upstream's flags.
func TestSelfUpdateIsOurs(t *testing.T) {
	named := 0
	for _, c := range cmd.Root.Commands() {
		if c.Name() == "selfupdate" {
			named++
		}
	}
	assert.Equal(t, 1, named, "one selfupdate command")
	for _, args := range [][]string{{"selfupdate"}, {"self-update", "--check"}, {"selfupdate", "--beta", "--version", "v1.70.0"}} {
		found, _, err := cmd.Root.Find(args)
		require.NoError(t, err, "%v", args)
		assert.Same(t, cmdSelfUpdate, found, "%v", args)
	}
}

// proxyTrap is an HTTP proxy that never serves: it counts the connections
// made to it, so a test pointing HTTP(S)_PROXY at it sees any network use.
type proxyTrap struct {
	addr  string
	conns atomic.Int64
}

// newProxyTrap listens on a loopback port until the test ends.
func newProxyTrap(t *testing.T) *proxyTrap {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	trap := &proxyTrap{addr: l.Addr().String()}
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			trap.conns.Add(1)
			_ = conn.Close()
		}
	}()
	return trap
}

// run runs rclone with args, every proxy variable pointing at the trap and
// an empty config, and returns its stderr and exit code.
func (trap *proxyTrap) run(t *testing.T, rclone string, args ...string) (stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args = append(args, "--config", filepath.Join(t.TempDir(), "rclone.conf"))
	c := exec.CommandContext(ctx, rclone, args...)
	proxy := "http://" + trap.addr
	c.Env = append(os.Environ(),
		"HTTPS_PROXY="+proxy, "https_proxy="+proxy,
		"HTTP_PROXY="+proxy, "http_proxy="+proxy,
		"NO_PROXY=", "no_proxy=")
	out, err := c.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(out), exit.ExitCode()
	}
	require.NoError(t, err, "%s", out)
	return string(out), 0
}

// TestSelfUpdateRefusesOffline runs the built binary's selfupdate, with
// and without upstream's flags: it fails, says what this build is and how
// to update it, and connects to nothing.
func TestSelfUpdateRefusesOffline(t *testing.T) {
	rclone, _ := fichiertest.Binaries(t)
	trap := newProxyTrap(t)
	for _, args := range [][]string{{"selfupdate"}, {"selfupdate", "--check"}, {"self-update", "--beta", "--output", filepath.Join(t.TempDir(), "new")}} {
		out, code := trap.run(t, rclone, args...)
		assert.Equal(t, 1, code, "%v: %s", args, out)
		assert.Contains(t, out, "selfupdate is turned off in this build", args)
		assert.Contains(t, out, "This is rclone "+fs.VersionTag+"-"+BuildSuffix, args)
		assert.Contains(t, out, "release archive", args)
		assert.Contains(t, out, "make build", args)
	}
	assert.Zero(t, trap.conns.Load(), "selfupdate used the network")

	// The trap works: "rclone version --check" asks rclone.org for the
	// latest version, through the proxy.
	_, _ = trap.run(t, rclone, "version", "--check")
	assert.NotZero(t, trap.conns.Load(), "the proxy trap saw no connection from version --check")
}

// TestSelfUpdateRefusalNamesTheBuild checks the message names the version
// and path it is given, where releases are, and every way to update,
// the package's first for a packaged rclone.
func TestSelfUpdateRefusalNamesTheBuild(t *testing.T) {
	for _, fromPackage := range []bool{false, true} {
		msg := selfUpdateRefusal("v1.76.0-fichier.3", "/opt/rc/rclone", fromPackage)
		assert.Contains(t, msg, "This is rclone v1.76.0-fichier.3 with the rclone-fichier 1fichier backend, at\n/opt/rc/rclone.")
		assert.Contains(t, msg, "Where releases are: each rclone-fichier release is a tag vX.Y.Z-fichier.N")
		assert.Contains(t, msg, "rclone-VERSION-linux-ARCH.deb and .rpm, and SHA256SUMS")
		assert.Contains(t, msg, "sha256sum -c SHA256SUMS --ignore-missing) and replace /opt/rc/rclone")
		assert.Contains(t, msg, "sudo dpkg -i rclone-VERSION-linux-ARCH.deb")
		assert.Contains(t, msg, "sudo rpm -U rclone-VERSION-linux-ARCH.rpm")
		assert.Contains(t, msg, "git pull && make build")
		pkg, archive := strings.Index(msg, "from the Linux package"), strings.Index(msg, "from a release archive")
		assert.Equal(t, fromPackage, pkg < archive, "the package's way first when installed from it")
	}
}

// A binary outside /usr/bin is not the package's, whatever is installed.
func TestNotInstalledFromPackage(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	require.NotEqual(t, packageBinary, exe)
	assert.False(t, installedFromPackage())
	assert.Equal(t, exe, executablePath())
}
