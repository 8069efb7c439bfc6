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
	"sync"
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
	Output         string // stdout and stderr interleaved as written
	Code           int    // exit status
	Elapsed        time.Duration
}

// Run runs rclone with args, stdin and extra environment variables, and
// returns what it did; only a failure to start it, or the timeout, fails
// the test.
func (r *Rclone) Run(stdin string, extraEnv []string, args ...string) Result {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), r.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.Bin, args...)
	cmd.Env = append(append([]string{}, r.Env...), extraEnv...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	both := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = io.MultiWriter(&stdout, both), io.MultiWriter(&stderr, both)
	start := time.Now()
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String(), Output: both.String(), Elapsed: time.Since(start)}
	require.NoError(r.t, ctx.Err(), "rclone %s did not finish in %v\n%s", strings.Join(args, " "), r.Timeout, res.Output)
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		res.Code = exitErr.ExitCode()
	case err != nil:
		require.NoError(r.t, err, "rclone %s", strings.Join(args, " "))
	}
	return res
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

// lockedBuffer is a buffer that stdout and stderr may write at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
