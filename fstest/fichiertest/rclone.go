package fichiertest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// DefaultTimeout bounds each Rclone.Run unless Rclone.Timeout says
// otherwise: a command that loops fails its test instead of hanging it.
const DefaultTimeout = 3 * time.Minute

// Rclone runs the rclone binary for a test as a user would, in a private
// setup: a config file and a cache directory of its own in a temporary
// directory (never the user's ~/.config or ~/.cache), HOME pointing there
// too, and none of the caller's RCLONE_* variables.
type Rclone struct {
	t       testing.TB
	Bin     string        // the rclone binary
	Dir     string        // the temporary directory: config, cache and HOME
	Config  string        // the config file, RCLONE_CONFIG (empty at first)
	Env     []string      // the environment of every run
	Timeout time.Duration // bounds each Run
}

// NewRclone sets up a private rclone environment for bin, with env added
// to it. The directory is removed when t ends.
func NewRclone(t testing.TB, bin string, env ...string) *Rclone {
	t.Helper()
	dir := t.TempDir()
	r := &Rclone{t: t, Bin: bin, Dir: dir, Config: filepath.Join(dir, "rclone.conf"), Timeout: DefaultTimeout}
	require.NoError(t, os.WriteFile(r.Config, nil, 0o600))
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "RCLONE_") || strings.HasPrefix(name, "XDG_") || name == "HOME" {
			continue
		}
		r.Env = append(r.Env, kv)
	}
	r.Env = append(r.Env,
		"RCLONE_CONFIG="+r.Config,
		"RCLONE_CACHE_DIR="+filepath.Join(dir, "cache"),
		"HOME="+dir,
	)
	r.Env = append(r.Env, env...)
	return r
}

// Result is what one rclone run did.
type Result struct {
	Stdout, Stderr string
	Code           int // exit status
	Elapsed        time.Duration
}

// Run runs rclone with args, stdin and extra environment variables, and
// returns what it did; only a failure to start it, or the timeout, fails
// the test.
func (r *Rclone) Run(stdin string, extraEnv []string, args ...string) Result {
	r.t.Helper()
	var stdout, stderr bytes.Buffer
	code, elapsed := r.run(stdin, extraEnv, args, &stdout, &stderr)
	return Result{Stdout: stdout.String(), Stderr: stderr.String(), Code: code, Elapsed: elapsed}
}

// RunCombined is Run for a caller that reads what rclone printed as a
// user sees it: standard output and error interleaved.
func (r *Rclone) RunCombined(stdin string, extraEnv []string, args ...string) (output string, code int) {
	r.t.Helper()
	var out bytes.Buffer
	code, _ = r.run(stdin, extraEnv, args, &out, &out)
	return out.String(), code
}

// run runs rclone, writing to stdout and stderr (which exec lets be one
// buffer), and returns its exit status and how long it ran.
func (r *Rclone) run(stdin string, extraEnv, args []string, stdout, stderr io.Writer) (code int, elapsed time.Duration) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), r.Timeout)
	defer cancel()
	cmd := r.CommandContext(ctx, args...)
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	start := time.Now()
	err := cmd.Run()
	elapsed = time.Since(start)
	require.NoError(r.t, ctx.Err(), "rclone %s did not finish in %v", strings.Join(args, " "), r.Timeout)
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		return exitErr.ExitCode(), elapsed
	case err != nil:
		require.NoError(r.t, err, "rclone %s", strings.Join(args, " "))
	}
	return 0, elapsed
}

// Command returns an rclone command with the environment, for a caller
// that needs a process that keeps running; the caller bounds how long it
// runs.
func (r *Rclone) Command(args ...string) *exec.Cmd {
	return r.CommandContext(context.Background(), args...)
}

// CommandContext is Command, killed when ctx is done.
func (r *Rclone) CommandContext(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, r.Bin, args...)
	cmd.Env = append([]string{}, r.Env...)
	cmd.WaitDelay = 10 * time.Second
	return cmd
}
