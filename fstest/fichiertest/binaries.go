package fichiertest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/stretchr/testify/require"
)

// BinDirEnv names a directory holding prebuilt rclone and
// fichier-emulator binaries (as "make build" leaves in bin/); a relative
// path is taken from the repository's root. When it is not set, Binaries
// builds them once per test process.
const BinDirEnv = "FICHIER_BIN_DIR"

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// repoRoot returns the module's root directory.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Binaries returns the paths of the rclone and fichier-emulator binaries
// the end-to-end tests run.
func Binaries(t testing.TB) (rclone, emulatorBin string) {
	t.Helper()
	buildOnce.Do(func() {
		if dir := os.Getenv(BinDirEnv); dir != "" {
			// go test runs each package in its own directory: a
			// relative path (FICHIER_BIN_DIR=bin) means the repository's.
			if !filepath.IsAbs(dir) {
				dir = filepath.Join(repoRoot(), dir)
			}
			binDir = filepath.Clean(dir)
			return
		}
		binDir, buildErr = os.MkdirTemp("", "fichier-bin-")
		if buildErr != nil {
			return
		}
		for _, pkg := range []string{"./cmd/rclone", "./cmd/fichier-emulator"} {
			cmd := exec.Command("go", "build", "-o", binDir, pkg)
			cmd.Dir = repoRoot()
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
				return
			}
		}
	})
	require.NoError(t, buildErr)
	rclone, emulatorBin = filepath.Join(binDir, "rclone"), filepath.Join(binDir, "fichier-emulator")
	for _, p := range []string{rclone, emulatorBin} {
		_, err := os.Stat(p)
		require.NoError(t, err, "missing binary (run make build or unset %s)", BinDirEnv)
	}
	return rclone, emulatorBin
}

// Emulator is a running fichier-emulator process.
type Emulator struct {
	URL      string // http://127.0.0.1:PORT
	APIURL   string // URL + "/v1"
	StatsURL string
	Key      string   // the first key
	Proxy    string   // proxy address, with --proxy
	CA       string   // CA file, with --ca-out
	Public   []string // public files' URLs, with --seed-public
	cmd      *exec.Cmd
}

// StartEmulator runs the emulator binary with args (a --key and
// --listen 127.0.0.1:0 are added when missing) and stops it when t ends.
func StartEmulator(t testing.TB, bin string, args ...string) *Emulator {
	t.Helper()
	e, err := LaunchEmulator(bin, os.Stderr, args...)
	require.NoError(t, err)
	t.Cleanup(e.Stop)
	return e
}

// LaunchEmulator runs the emulator binary with args (a --key and
// --listen 127.0.0.1:0 are added when missing), its standard error going
// to stderr, and returns once it is ready. The caller must Stop it.
func LaunchEmulator(bin string, stderr io.Writer, args ...string) (*Emulator, error) {
	joined := " " + strings.Join(args, " ")
	if !strings.Contains(joined, " --key") {
		args = append(args, "--key", "e2e-key")
	}
	if !strings.Contains(joined, " --listen") {
		args = append(args, "--listen", "127.0.0.1:0")
	}
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	e := &Emulator{cmd: cmd}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		key, value, _ := strings.Cut(lines.Text(), "=")
		if key == "ready" {
			break
		}
		e.setStartLine(key, value)
	}
	if e.APIURL == "" {
		e.Stop()
		return nil, fmt.Errorf("%s did not start", bin)
	}
	go func() { _, _ = bufio.NewReader(stdout).WriteTo(discard{}) }()
	return e, nil
}

// setStartLine takes one key=value line the emulator prints at start.
func (e *Emulator) setStartLine(key, value string) {
	switch key {
	case "url":
		e.URL = value
	case "api_url":
		e.APIURL = value
	case "stats_url":
		e.StatsURL = value
	case "key":
		if e.Key == "" {
			e.Key = value
		}
	case "proxy":
		e.Proxy = value
	case "ca":
		e.CA = value
	case "public":
		e.Public = append(e.Public, value)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Stop ends the emulator (SIGTERM, then kill after 10 s).
func (e *Emulator) Stop() {
	if e.cmd.Process == nil || e.cmd.ProcessState != nil {
		return
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = e.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = e.cmd.Process.Kill()
		<-done
	}
}

// Stats reads the emulator's counters from /debug/stats.
func (e *Emulator) Stats(t testing.TB) emulator.Stats {
	t.Helper()
	stats, err := e.FetchStats()
	require.NoError(t, err)
	return stats
}

// FetchStats reads the emulator's counters from /debug/stats.
func (e *Emulator) FetchStats() (emulator.Stats, error) {
	var stats emulator.Stats
	resp, err := http.Get(e.StatsURL)
	if err != nil {
		return stats, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return stats, fmt.Errorf("%s: %s", e.StatsURL, resp.Status)
	}
	err = json.NewDecoder(resp.Body).Decode(&stats)
	return stats, err
}

// ResetStats zeroes the emulator's counters.
func (e *Emulator) ResetStats(t testing.TB) {
	t.Helper()
	require.NoError(t, e.ClearStats())
}

// ClearStats zeroes the emulator's counters.
func (e *Emulator) ClearStats() error {
	resp, err := http.Post(e.StatsURL, "application/json", nil)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", e.StatsURL, resp.Status)
	}
	return nil
}

// Env returns environment variables defining remote name on this
// emulator, with the backend's rates scaled by scale (1 for the real
// limits, TimeScale when the emulator runs with --time-scale TimeScale);
// its other clocks follow the emulator's X-Time-Scale header.
func (e *Emulator) Env(name string, scale float64) []string {
	vals := RateOptions(scale)
	vals["type"] = "fichier"
	vals["api_key"] = e.Key
	vals["api_url"] = e.APIURL
	var env []string
	for k, v := range vals {
		env = append(env, EnvName(name, k)+"="+v)
	}
	return env
}
