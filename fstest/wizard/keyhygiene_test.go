package wizard

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The workflow tests run the emulator without its rate rules: each
// rclone run is a new process that knows nothing of the last one's
// calls, and the rules are tested elsewhere.

// dumpAll is every --dump that shows traffic, without auth.
var dumpAll = []string{"-vv", "--dump", "headers,bodies,requests,responses", "--retries", "1"}

// workflow runs copy, ls, cat and friends on remote with flags and
// returns everything rclone printed.
func (e *env) workflow(t *testing.T, extra []string, remote string, flags ...string) string {
	t.Helper()
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "hello.txt"), []byte("hello, 1fichier\n"), 0o600))
	var all strings.Builder
	for _, args := range [][]string{
		{"copy", src, remote + "dir"},
		{"lsl", remote},
		{"cat", remote + "dir/hello.txt"},
		{"about", remote},
		{"link", remote + "dir/hello.txt"},
		{"backend", "token", remote + "dir", "hello.txt"},
		{"backend", "account", remote},
		{"lsd", "nosuchremote:"}, // an error path too
	} {
		out, err := e.run("", extra, append(args, flags...)...)
		if args[1] != "nosuchremote:" {
			require.NoError(t, err, "rclone %v:\n%s", args, out)
		}
		all.WriteString(out)
	}
	return all.String()
}

// noListWait lets the workflow's commands list the same folders one
// after another, which the emulator allows under --no-rate-limits (the
// backend otherwise keeps 1fichier's 30 s between listings, across
// processes).
const noListWait = "RCLONE_FICHIER_LIST_INTERVAL=10ms"

// seedRemote saves remote "kh" with the key in the config file.
func (e *env) seedRemote(t *testing.T) {
	t.Helper()
	out, err := e.run("", nil, "config", "create", "kh", "fichier", "api_key="+goodKey)
	require.NoError(t, err, out)
}

func TestKeyAbsentFromDumpsAndLogs(t *testing.T) {
	e := newEnv(t, "--key", goodKey, "--no-rate-limits")
	e.seedRemote(t)
	out := e.workflow(t, []string{noListWait}, "kh:", dumpAll...)
	assert.Contains(t, out, "Authorization: XXXX", "the dump shows the header, redacted")
	assert.Contains(t, out, "hello, 1fichier", "the workflow ran")
	assert.NotContains(t, out, goodKey)
}

func TestKeyShownOnlyWithDumpAuth(t *testing.T) {
	e := newEnv(t, "--key", goodKey)
	e.seedRemote(t)
	// The control for the test above: the key is where it would leak.
	out, err := e.run("", nil, "lsd", "kh:", "-vv", "--dump", "headers,auth")
	require.NoError(t, err, out)
	assert.Contains(t, out, "Authorization: Bearer "+goodKey)
}

func TestEnvironmentKeyAbsentFromLogs(t *testing.T) {
	e := newEnv(t, "--key", goodKey, "--no-rate-limits")
	extra := []string{
		"RCLONE_FICHIER_API_KEY=" + goodKey,
		"RCLONE_CONFIG_ENVKH_TYPE=fichier",
		"RCLONE_LOG_LEVEL=DEBUG",
		noListWait,
	}
	out := e.workflow(t, extra, "envkh:", "--dump", "headers,bodies", "--retries", "1")
	assert.Contains(t, out, "api_key=XXX from environment variable RCLONE_FICHIER_API_KEY")
	assert.NotContains(t, out, goodKey)

	out, err := e.run("", extra, "help", "flags", "fichier")
	require.NoError(t, err, out)
	assert.Contains(t, out, "--fichier-api-key")
	assert.NotContains(t, out, goodKey, "rclone help flags shows no key as a default")
}

func TestWizardCheckAbsentFromDumps(t *testing.T) {
	e := newEnv(t, "--key", goodKey)
	// The key is typed at the prompt, so it is on no command line.
	out, err := e.run(strings.Join(answers(newRemote, goodKey, noAdvanced, "n", finish), "\n")+"\n", nil,
		append([]string{"config"}, dumpAll...)...)
	require.NoError(t, err, out)
	assert.Contains(t, out, "/v1/user/info.cgi", "the check is dumped")
	assert.Contains(t, out, "The key works")
	assert.NotContains(t, out, goodKey)
}

func TestConfigRedactedHidesKey(t *testing.T) {
	e := newEnv(t, "--key", goodKey)
	e.seedRemote(t)
	out, err := e.run("", nil, "config", "redacted")
	require.NoError(t, err, out)
	assert.Contains(t, out, "[kh]")
	assert.Contains(t, out, "api_key = XXX")
	assert.NotContains(t, out, goodKey)
}

func TestPlainHTTPAPIURLIsWarnedAbout(t *testing.T) {
	e := newEnv(t, "--key", goodKey, "--no-rate-limits")
	e.seedRemote(t)
	// 0.0.0.0 reaches this machine but is not a loopback address, so it
	// stands for a remote server reached without TLS.
	apiURL := strings.Replace(e.emu.APIURL, "127.0.0.1", "0.0.0.0", 1)
	require.NotEqual(t, e.emu.APIURL, apiURL)
	out, err := e.run("", []string{"RCLONE_FICHIER_API_URL=" + apiURL}, "lsd", "kh:", "-vv")
	require.NoError(t, err, out)
	assert.Contains(t, out, "is not https: the API key will cross the network in clear text")
	assert.NotContains(t, out, goodKey)

	out, err = e.run("", nil, "lsd", "kh:")
	require.NoError(t, err, out)
	assert.NotContains(t, out, "is not https", "no warning for a loopback test server")
}
