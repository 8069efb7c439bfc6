// Package fichiertest connects the fichier backend to an in-process
// emulator for tests: one place that gives the emulator's rules sped up
// (Options, for emulator.NewTestServer) and sets the backend's rate
// options to match.
//
// It does not import the backend (so the backend's own tests can use it);
// the test binary must link it, as every test of the backend does.
package fichiertest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/config/configmap"
	"github.com/stretchr/testify/require"
)

// TimeScale is how much faster than real time the tests run 1fichier's
// rules: the emulator divides its durations by it, and Config divides the
// backend's rate options to match. The clocks the backend knows without
// an option follow the emulator's X-Time-Scale answer header.
const TimeScale = 100

// Options returns emulator options with the documented rate rules on,
// sped up by TimeScale, under the readings ReadingsEnv names (the
// emulator's defaults when it is unset).
func Options() emulator.Options {
	opts := emulator.Options{TimeScale: TimeScale}
	envReadings(&opts)
	return opts
}

// Config returns the backend options for srv: its URL and key, and the
// rate options scaled like the emulator's rules.
func Config(srv *emulator.TestServer) configmap.Simple {
	m := configmap.Simple(RateOptions(TimeScale))
	m["type"] = "fichier"
	m["api_key"] = srv.Key
	m["api_url"] = srv.APIURL
	return m
}

// RateOptions returns the backend's rate options (defaults: 2 calls/s,
// 30 s between listings of a folder, listings kept 10 min, 5 min pause
// after a flood) sped up by scale, to match an emulator whose rules run
// scale times faster. The clocks that have no option (download links,
// account info) the backend learns from the emulator's answers.
func RateOptions(scale float64) map[string]string {
	scaled := func(d time.Duration) string {
		return time.Duration(float64(d) / scale).String()
	}
	// Sped up, 1fichier's one-second window for calls shrinks with it
	// (10 ms at 100x) and a busy machine's scheduling can bunch calls
	// paced at 2/s into one window. Sped-up tests pace at 1/s (scaled) to
	// keep the same margin the default has against the real 3/s.
	callsPerSecond := 2.0
	if scale > 1 {
		callsPerSecond = 1.0
	}
	return map[string]string{
		"api_rate":        fmt.Sprint(callsPerSecond * scale),
		"list_interval":   scaled(30 * time.Second),
		"list_cache_time": scaled(10 * time.Minute),
		"flood_wait":      scaled(5 * time.Minute),
	}
}

// serverNames gives each test server a remote name of its own
// (TestFichier1, ...), by server.
var (
	serverNamesMu sync.Mutex
	serverNames   = map[*emulator.TestServer]string{}
)

// remoteName returns srv's remote name.
func remoteName(srv *emulator.TestServer) string {
	serverNamesMu.Lock()
	defer serverNamesMu.Unlock()
	name, ok := serverNames[srv]
	if !ok {
		name = fmt.Sprintf("TestFichier%d", len(serverNames)+1)
		serverNames[srv] = name
	}
	return name
}

// NewFs returns a fichier Fs on srv at root, with extra options on top of
// Config's. Each server's Fs have a remote name of their own
// (TestFichier1, ...): rclone shares a VFS, and its cache, between Fs of
// one name and root, so two tests' mounts of TestFichier: would see each
// other's files; and the Fs of one server share it, as rclone copies
// server side only between remotes of one name.
func NewFs(t testing.TB, srv *emulator.TestServer, root string, extra map[string]string) fs.Fs {
	t.Helper()
	m := Config(srv)
	for k, v := range extra {
		m[k] = v
	}
	regInfo, err := fs.Find("fichier")
	require.NoError(t, err, "the fichier backend is not linked into this test binary")
	// Start from the defaults a user gets, as rclone's config does.
	for _, o := range regInfo.Options {
		if _, ok := m[o.Name]; !ok && o.Default != nil {
			m[o.Name] = o.String()
		}
	}
	f, err := regInfo.NewFs(context.Background(), remoteName(srv), root, m)
	require.NoError(t, err)
	return f
}

// SetRemoteEnv defines remote name (without the colon) for srv through
// RCLONE_CONFIG_<NAME>_* environment variables, as rclone's own test
// suites expect a named remote.
func SetRemoteEnv(t *testing.T, name string, srv *emulator.TestServer) {
	t.Helper()
	for k, v := range Config(srv) {
		t.Setenv(EnvName(name, k), v)
	}
}

// EnvName is the environment variable rclone reads for option key of remote name.
func EnvName(name, key string) string {
	return "RCLONE_CONFIG_" + strings.ToUpper(name) + "_" + strings.ToUpper(key)
}

// RequireRemoteEnv fails t (rather than letting a suite skip) when remote
// name is not defined in the environment.
func RequireRemoteEnv(t *testing.T, name string) {
	t.Helper()
	if os.Getenv(EnvName(name, "type")) == "" {
		t.Fatalf("test remote %s: is not configured: set %s and the other RCLONE_CONFIG_%s_* variables", name, EnvName(name, "type"), strings.ToUpper(name))
	}
}
