package fichiertest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// RequireMountEnv names the variable that, set to 1, turns a mount test's
// skip on a machine without FUSE into a failure. .ci/run sets it, so CI
// always tests rclone mount.
const RequireMountEnv = "FICHIER_REQUIRE_MOUNT"

// fuseDevice is the kernel's FUSE device; tests point it elsewhere.
var fuseDevice = "/dev/fuse"

// Fusermount returns the path of FUSE's fusermount3 (or of the older
// fusermount), looked up in PATH, or an error saying what to install.
func Fusermount() (string, error) {
	if _, err := os.Stat(fuseDevice); err != nil {
		return "", fmt.Errorf("rclone mount needs %s, which this machine lacks: %w", fuseDevice, err)
	}
	for _, name := range []string{"fusermount3", "fusermount"} {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", errors.New("rclone mount needs fusermount3 (or fusermount), which is not installed: apt-get install fuse3")
}

// RequireMount returns the fusermount to unmount with. Where this machine
// cannot run rclone mount it skips t with a warning that also goes to
// standard error, so a run that hides passing tests' logs still shows it;
// with RequireMountEnv=1 it fails t instead.
func RequireMount(t testing.TB) string {
	t.Helper()
	path, err := Fusermount()
	if err == nil {
		return path
	}
	if os.Getenv(RequireMountEnv) == "1" {
		t.Fatalf("%v (%s=1 requires the mount tests to run)", err, RequireMountEnv)
	}
	msg := fmt.Sprintf("WARNING: %s: %v: rclone mount is NOT tested on this machine (set %s=1 to make this a failure)", t.Name(), err, RequireMountEnv)
	_, _ = fmt.Fprintln(os.Stderr, msg)
	t.Skip(msg)
	return ""
}

// IsMounted reports whether dir is a mount point, from
// /proc/self/mountinfo.
func IsMounted(dir string) (bool, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false, err
	}
	defer func() { _ = f.Close() }()
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		// Field 5 is the mount point (spaces escaped as \040).
		fields := strings.Fields(lines.Text())
		if len(fields) > 4 && strings.ReplaceAll(fields[4], `\040`, " ") == dir {
			return true, nil
		}
	}
	return false, lines.Err()
}
