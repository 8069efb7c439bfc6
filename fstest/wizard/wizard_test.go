// Package wizard tests the fichier config wizard and the API key's
// hygiene by running the real bin/rclone against the standalone
// emulator, as a user would.
package wizard

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Keys of the emulator's accounts. goodKey is the first account.
const (
	goodKey  = "wizard-good-key-1"
	otherKey = "wizard-good-key-2"
	badKey   = "wizard-bad-key"
)

// commandTimeout bounds every rclone run: a wizard that loops fails the
// test instead of hanging it.
const commandTimeout = 60 * time.Second

// env is a private rclone setup (a fichiertest.Rclone: its own config
// file and cache) with the emulator's API URL given through the
// environment, so the wizard's questions are the ones a user meets.
type env struct {
	*fichiertest.Rclone
	t   *testing.T
	emu *fichiertest.Emulator
}

// newEnv starts an emulator with args (plus two premium keys unless args
// name keys) and an empty config. Each test has its own emulator: the
// wizard's user/info.cgi call uses up the address's slot for a minute.
func newEnv(t *testing.T, args ...string) *env {
	t.Helper()
	rclone, emuBin := fichiertest.Binaries(t)
	if !strings.Contains(strings.Join(args, " "), "--key") {
		args = append(args, "--key", goodKey, "--key", otherKey)
	}
	emu := fichiertest.StartEmulator(t, emuBin, args...)
	r := fichiertest.NewRclone(t, rclone, "RCLONE_FICHIER_API_URL="+emu.APIURL)
	r.Timeout = commandTimeout
	return &env{Rclone: r, t: t, emu: emu}
}

// run runs rclone with stdin and extra environment variables and returns
// its combined output, and an error when it exits with a failure.
func (e *env) run(stdin string, extra []string, args ...string) (string, error) {
	e.t.Helper()
	out, code := e.RunCombined(stdin, extra, args...)
	if code != 0 {
		return out, fmt.Errorf("rclone %v: exit status %d", args, code)
	}
	return out, nil
}

// wizard runs the interactive "rclone config" with the answers, one a line.
func (e *env) wizard(extra []string, answers ...string) string {
	e.t.Helper()
	out, err := e.run(strings.Join(answers, "\n")+"\n", extra, "config")
	require.NoError(e.t, err, "rclone config failed:\n%s", out)
	return out
}

// section returns the remote's keys and values in the config file; ok is
// false when the remote is not there.
func (e *env) section(name string) (values map[string]string, ok bool) {
	e.t.Helper()
	data, err := os.ReadFile(e.Config)
	if os.IsNotExist(err) {
		return nil, false
	}
	require.NoError(e.t, err)
	current := ""
	lines := bufio.NewScanner(bytes.NewReader(data))
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			current = line[1 : len(line)-1]
			if current == name {
				values, ok = map[string]string{}, true
			}
			continue
		}
		if k, v, found := strings.Cut(line, "="); found && current == name {
			values[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return values, ok
}

// userInfoCalls is how many user/info.cgi calls the emulator answered.
func (e *env) userInfoCalls() int64 {
	return e.emu.Stats(e.t).Calls["user/info.cgi"]
}

// The answers that start a new remote called myfichier of type fichier.
var newRemote = []string{"n", "myfichier", "fichier"}

// noAdvanced declines the advanced options.
const noAdvanced = "n"

// finish keeps the remote and quits the config menu.
var finish = []string{"y", "q"}

func answers(parts ...any) []string {
	var out []string
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			out = append(out, v)
		case []string:
			out = append(out, v...)
		}
	}
	return out
}

func TestWizardGoodKeyShowsAccountAndSavesKey(t *testing.T) {
	e := newEnv(t, "--email", "alice@example.com")
	out := e.wizard(nil, answers(newRemote, goodKey, noAdvanced, "y", finish)...)

	assert.Contains(t, out, "1Fichier", "storage menu")
	assert.Contains(t, out, "(fichier)", "storage menu")
	assert.Contains(t, out, "get it from https://1fichier.com/console/params.pl", "the key prompt says where to get a key")
	assert.Contains(t, out, "RCLONE_FICHIER_API_KEY", "the key prompt offers the environment variable")
	assert.Contains(t, out, "The key works: 1fichier account alice@example.com, offer Premium until ")
	assert.Contains(t, out, "Storage: 0 B used of ")
	assert.Contains(t, out, "Keep the API key in the config file?")

	values, ok := e.section("myfichier")
	require.True(t, ok, "remote saved")
	assert.Equal(t, map[string]string{"type": "fichier", "api_key": goodKey}, values)
	assert.EqualValues(t, 1, e.userInfoCalls(), "one check of the key")

	// The saved remote works.
	out, err := e.run("", nil, "lsd", "myfichier:")
	assert.NoError(t, err, out)
}

func TestWizardBadKeyThenGoodKey(t *testing.T) {
	e := newEnv(t)
	out := e.wizard(nil, answers(newRemote, badKey, noAdvanced, "y", otherKey, "y", finish)...)

	assert.Contains(t, out, "1fichier refused the key: No such user #93.")
	assert.Contains(t, out, "Enter another key?")
	assert.Contains(t, out, "Option config_api_key.")
	assert.Contains(t, out, "The key works: 1fichier account user2@emulator.invalid")
	values, _ := e.section("myfichier")
	assert.Equal(t, otherKey, values["api_key"])
}

func TestWizardBadKeyIsNotSaved(t *testing.T) {
	e := newEnv(t)
	// Enter takes the default, No, at "Enter another key?": the config
	// stops there, and the remote, which had nothing but the refused
	// key, is not kept.
	out, err := e.run(strings.Join(answers(newRemote, badKey, noAdvanced, "", finish), "\n")+"\n", nil, "config")
	require.Error(t, err, "no remote was made:\n%s", out)

	assert.Contains(t, out, "1fichier refused the key: No such user #93.")
	assert.Contains(t, out, "The key has been removed from the config.")
	assert.Contains(t, out, `no working API key was given for myfichier:, which has not been saved`)
	assert.NotContains(t, out, "Keep this \"myfichier\" remote?")
	_, ok := e.section("myfichier")
	assert.False(t, ok, "a remote with a refused key and nothing else must not stay in the config")
	assert.NotContains(t, readFile(t, e.Config), badKey)
}

func TestWizardFreeAccountIsToldAPINeedsPremium(t *testing.T) {
	e := newEnv(t, "--offer", "free", "--key", goodKey)
	out, err := e.run(strings.Join(answers(newRemote, goodKey, noAdvanced, "n", finish), "\n")+"\n", nil, "config")
	require.Error(t, err, "no remote was made:\n%s", out)

	assert.Contains(t, out, "This key belongs to a free account: the 1fichier API is only open to\nPremium and Access accounts")
	assert.Contains(t, out, "Must be a customer (Premium, Access) #200")
	_, ok := e.section("myfichier")
	assert.False(t, ok)
}

func TestWizardLeavesKeyOutForEnvironment(t *testing.T) {
	e := newEnv(t)
	out := e.wizard(nil, answers(newRemote, goodKey, noAdvanced, "n", finish)...)

	assert.Contains(t, out, "The key works")
	assert.Contains(t, out, "The API key is not stored in the config file. Before using myfichier:")
	assert.Contains(t, out, "export RCLONE_FICHIER_API_KEY='YOUR KEY'")
	values, ok := e.section("myfichier")
	require.True(t, ok)
	assert.Empty(t, values["api_key"])
	assert.NotContains(t, readFile(t, e.Config), goodKey)

	// The remote works with the key in the environment, and not without.
	out, err := e.run("", []string{"RCLONE_FICHIER_API_KEY=" + goodKey}, "lsd", "myfichier:")
	assert.NoError(t, err, out)
	out, err = e.run("", nil, "lsd", "myfichier:")
	assert.Error(t, err)
	assert.Contains(t, out, "api_key is not set")
}

func TestWizardUsesKeyFromEnvironment(t *testing.T) {
	e := newEnv(t)
	keyEnv := []string{"RCLONE_FICHIER_API_KEY=" + otherKey}
	// Enter leaves api_key blank; the wizard finds the variable.
	out := e.wizard(keyEnv, answers(newRemote, "", noAdvanced, "y", finish)...)

	assert.Contains(t, out, "The key works: 1fichier account user2@emulator.invalid")
	assert.Contains(t, out, "The key comes from the environment variable RCLONE_FICHIER_API_KEY; it is\nnot stored in the config file.")
	values, _ := e.section("myfichier")
	assert.Empty(t, values["api_key"])
}

func TestWizardWithoutKeyExplainsEnvironment(t *testing.T) {
	e := newEnv(t)
	out := e.wizard(nil, answers(newRemote, "", noAdvanced, "", finish)...)

	assert.Contains(t, out, "No API key was given.")
	assert.Contains(t, out, "Enter a key now instead?")
	assert.Contains(t, out, "export RCLONE_FICHIER_API_KEY='YOUR KEY'")
	assert.EqualValues(t, 0, e.userInfoCalls(), "nothing to check")
}

func TestWizardFloodSaysHowLongToWait(t *testing.T) {
	e := newEnv(t)
	// Another user/info.cgi call from this address in the last minute
	// makes 1fichier lock the next one.
	req, err := http.NewRequest("POST", e.emu.APIURL+"/user/info.cgi", strings.NewReader("{}"))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+otherKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	out := e.wizard(nil, answers(newRemote, goodKey, noAdvanced, finish)...)
	assert.Contains(t, out, `Couldn't check the key: 1fichier answered "Flood detected: IP Locked #374".`)
	assert.Contains(t, out, "wait about 5m0s before using myfichier:")
	assert.Contains(t, out, "The key is saved but has not been checked.")
	values, _ := e.section("myfichier")
	assert.Equal(t, goodKey, values["api_key"], "an unchecked key is kept")
}

func TestConfigCreateChecksKey(t *testing.T) {
	e := newEnv(t)
	out, err := e.run("", nil, "config", "create", "good", "fichier", "api_key="+goodKey)
	require.NoError(t, err, out)
	values, _ := e.section("good")
	assert.Equal(t, goodKey, values["api_key"])
	assert.EqualValues(t, 1, e.userInfoCalls())
}

func TestConfigCreateWithBadKeyFailsWithoutLooping(t *testing.T) {
	e := newEnv(t)
	out, err := e.run("", nil, "config", "create", "bad", "fichier", "api_key="+badKey)
	require.Error(t, err, "a script must see the refused key")
	assert.Contains(t, out, "1fichier refused the key: No such user #93. Nothing has been saved")
	assert.Equal(t, 1, strings.Count(out, "refused the key"), "the error is said once:\n%s", out)
	assert.NotContains(t, out, "Usage:", "a refused key is not a usage error")
	_, ok := e.section("bad")
	assert.False(t, ok, "nothing is left of the remote")
	assert.NotContains(t, readFile(t, e.Config), badKey)
}

// TestConfigUpdateWithBadKeyKeepsOtherSettings: a remote with settings
// of its own keeps them, without the refused key.
func TestConfigUpdateWithBadKeyKeepsOtherSettings(t *testing.T) {
	e := newEnv(t)
	out, err := e.run("", nil, "config", "create", "kept", "fichier", "api_key="+goodKey, "cdn=true")
	require.NoError(t, err, out)
	out, err = e.run("", nil, "config", "update", "kept", "api_key="+badKey)
	require.Error(t, err)
	assert.Contains(t, out, "kept: keeps its other settings")
	values, ok := e.section("kept")
	require.True(t, ok)
	assert.Equal(t, "true", values["cdn"])
	assert.Empty(t, values["api_key"])
}

// TestConfigCreateWithBadKeyDoesNotWait: right after a key was checked
// from this address, user/info.cgi's one-a-minute slot is taken; a bad
// key is refused at once by a call without that slot, and user/info.cgi
// is not called for it.
func TestConfigCreateWithBadKeyDoesNotWait(t *testing.T) {
	e := newEnv(t)
	out, err := e.run("", nil, "config", "create", "good", "fichier", "api_key="+goodKey)
	require.NoError(t, err, out)
	out, err = e.run("", nil, "config", "create", "bad", "fichier", "api_key="+badKey)
	require.Error(t, err)
	assert.Contains(t, out, "1fichier refused the key: No such user #93.")
	assert.NotContains(t, out, "waiting")
	s := e.emu.Stats(t)
	assert.EqualValues(t, 1, s.Calls["user/info.cgi"], "only the good key's: %v", s.Calls)
	assert.EqualValues(t, 1, s.Calls["remote/ls.cgi"], "the bad key's one call: %v", s.Calls)
	_, ok := e.section("bad")
	assert.False(t, ok)
}

// configOut is the JSON "rclone config create/update --non-interactive"
// prints: the next question, or an empty State when done.
type configOut struct {
	State  string
	Option *struct {
		Name    string
		Help    string
		Default any
	}
	Error string
}

// step runs one non-interactive config command and decodes its question.
func (e *env) step(args ...string) configOut {
	e.t.Helper()
	res := e.Run("", nil, args...)
	require.Equal(e.t, 0, res.Code, "rclone %v: %s", args, res.Stderr)
	var out configOut
	require.NoError(e.t, json.Unmarshal([]byte(res.Stdout), &out), "output: %s", res.Stdout)
	return out
}

func TestNonInteractiveGoodKeyLeftOut(t *testing.T) {
	e := newEnv(t)
	out := e.step("config", "create", "ni", "fichier", "api_key="+goodKey, "--non-interactive")
	assert.Equal(t, "store", out.State)
	require.NotNil(t, out.Option)
	assert.Equal(t, "config_store_key", out.Option.Name)
	assert.Equal(t, true, out.Option.Default)
	assert.Contains(t, out.Option.Help, "The key works: 1fichier account user1@emulator.invalid")

	out = e.step("config", "update", "ni", "--continue", "--state", out.State, "--result", "false")
	assert.Equal(t, "", out.State, "done")
	assert.Nil(t, out.Option)
	assert.Contains(t, out.Error, "export RCLONE_FICHIER_API_KEY")
	values, ok := e.section("ni")
	require.True(t, ok)
	assert.Empty(t, values["api_key"])
}

func TestNonInteractiveBadKeyThenGoodKey(t *testing.T) {
	e := newEnv(t)
	out := e.step("config", "create", "ni", "fichier", "api_key="+badKey, "--non-interactive")
	assert.Equal(t, "retry", out.State)
	require.NotNil(t, out.Option)
	assert.Equal(t, "config_retry", out.Option.Name)
	assert.Equal(t, false, out.Option.Default, "a retry question defaults to No")
	assert.Contains(t, out.Option.Help, "No such user #93")
	values, _ := e.section("ni")
	assert.Empty(t, values["api_key"])

	out = e.step("config", "update", "ni", "--continue", "--state", out.State, "--result", "true")
	assert.Equal(t, "new_key", out.State)
	require.NotNil(t, out.Option)
	assert.Equal(t, "config_api_key", out.Option.Name, "a key asked again is not api_key")

	out = e.step("config", "update", "ni", "--continue", "--state", out.State, "--result", otherKey)
	assert.Equal(t, "store", out.State)
	require.NotNil(t, out.Option)
	assert.Contains(t, out.Option.Help, "user2@emulator.invalid")

	out = e.step("config", "update", "ni", "--continue", "--state", out.State, "--result", "true")
	assert.Equal(t, "", out.State)
	values, _ = e.section("ni")
	assert.Equal(t, otherKey, values["api_key"])
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	require.NoError(t, err)
	return string(data)
}
