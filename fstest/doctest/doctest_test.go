package doctest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scale speeds up the emulator's rules and the remotes' rates alike.
const scale = 100

// The pages' remotes: every name a page uses for a fichier remote is one
// on the test's emulator. (1fichier-big, a chunker, comes from the
// page's own ini block; myf from the page's "config create"; emu from
// the README's exports, on the emulator it starts; demo only in make
// demo's transcript.)
var fichierRemotes = []string{"remote", "1fichier", "myfichier"}

// needsMore are commands that need more than the emulator gives, with
// what: they are only checked to parse (the command and its flags exist).
// Usage synopses ([options], COMMAND, URL1) and mounts, rc and
// remote-upload (which fetches from the internet) are found without a
// list.
var needsMore = map[string]string{
	"rclone config": "an interactive terminal",
	"rclone backend remote-status 1fichier: 123456": "a remote-upload job with that ID",
}

// failOnPurpose are commands the pages show failing: they must fail.
var failOnPurpose = map[string]string{
	"rclone config create bad fichier api_key=nope": "docs/setting-up.md shows a refused key",
}

// runner runs the pages' commands: one emulator (with public files to
// import), one working directory standing for the user's machine, and
// the environment the pages' export lines change.
type runner struct {
	t       *testing.T
	rclone  string
	emuBin  string
	emu     *fichiertest.Emulator
	work    string
	env     map[string]string
	replace map[string]string // placeholders and addresses: the page's text -> the test's
	helps   map[string]bool   // backend commands rclone knows
	// demoCommands are the commands a run of the demo showed.
	demoCommands []string
}

// TestDocCommands runs every command line of README.md and docs/*.md
// (see Extract) against the emulator, or checks that it parses where it
// needs more (needsMore), in page order.
func TestDocCommands(t *testing.T) {
	r := newRunner(t)
	pages, err := filepath.Glob("../../docs/*.md")
	require.NoError(t, err)
	pages = append([]string{"../../README.md"}, pages...)
	seen := map[string]bool{}
	for _, page := range pages {
		cmds, err := Extract(page)
		require.NoError(t, err)
		r.loadRemoteConfigs(page)
		t.Run(filepath.Base(page), func(t *testing.T) {
			r.t = t
			r.checkPage(cmds, seen)
		})
	}
	r.t = t
	for _, list := range []map[string]string{needsMore, failOnPurpose} {
		for text := range list {
			assert.True(t, seen[text], "%q is listed but no page shows it any more: remove it from the list", text)
		}
	}
}

// checkPage checks a page's commands in order. What a block exports
// holds for the rest of that block only (the pages' blocks are separate
// examples); the "$ rclone" lines that follow "$ make demo" are its
// transcript, checked against a run of the demo.
func (r *runner) checkPage(cmds []Command, seen map[string]bool) {
	block, demoBlock := -1, -1
	var saved map[string]string
	var transcript []string
	for _, c := range cmds {
		seen[c.Text] = true
		if c.Block != block {
			if saved != nil {
				r.env = saved
			}
			block, saved = c.Block, maps.Clone(r.env)
		}
		switch {
		case c.Text == "make demo":
			demoBlock = c.Block
		case c.Block == demoBlock:
			transcript = append(transcript, c.Text)
			continue
		}
		r.check(c)
	}
	if saved != nil {
		r.env = saved
	}
	if demoBlock >= 0 {
		assert.Equal(r.t, r.demoCommands, normalizeTemp(transcript), "the make demo transcript runs other commands than the demo: regenerate it")
	}
}

// tempPath is a mktemp -d folder in a transcript.
var tempPath = regexp.MustCompile(`/tmp/tmp\.[A-Za-z0-9]+`)

// normalizeTemp writes the temporary folders of commands as TMP.
func normalizeTemp(cmds []string) []string {
	out := make([]string, len(cmds))
	for i, c := range cmds {
		out[i] = tempPath.ReplaceAllString(c, "TMP")
	}
	return out
}

// newRunner starts the emulator and seeds the account with the folders
// and files the pages' commands name.
func newRunner(t *testing.T) *runner {
	rclone, emuBin := fichiertest.Binaries(t)
	r := &runner{t: t, rclone: rclone, emuBin: emuBin, work: t.TempDir(), env: map[string]string{}}
	r.emu = fichiertest.StartEmulator(t, emuBin, "--key", "demo-key", "--time-scale", fmt.Sprint(scale), "--seed-public", "2")
	require.Len(t, r.emu.Public, 2)
	for _, name := range fichierRemotes {
		for _, kv := range r.emu.Env(name, scale) {
			k, v, _ := strings.Cut(kv, "=")
			r.env[k] = v
		}
	}
	// config create and the remotes the pages define in ini blocks reach
	// the emulator (their keys are the pages' or in RCLONE_CONFIG_...).
	r.env["RCLONE_FICHIER_API_URL"] = r.emu.APIURL
	r.env["RCLONE_CONFIG"] = filepath.Join(r.work, "rclone.conf")
	r.env["RCLONE_CACHE_DIR"] = filepath.Join(r.work, "cache")
	r.replace = map[string]string{
		"https://1fichier.com/?abc123def4": r.emu.Public[0],
		"https://1fichier.com/?abc...":     r.emu.Public[1],
		"YOUR_KEY":                         r.emu.Key,
		"YOUR KEY":                         r.emu.Key,
	}
	r.helps = backendCommands(t, rclone)
	seed := r.makeTree("seed", "dir/file.bin", "folder/a.txt", "photos/p.jpg", "incoming/keep.txt", "shared/keep.txt", "docs/d.txt")
	r.mustRclone("copy", seed, "remote:")
	require.NoError(t, os.WriteFile(filepath.Join(r.work, "links.txt"), []byte(r.emu.Public[1]+"\n"), 0o644))
	return r
}

// backendCommands lists the fichier backend's commands, from rclone
// backend help fichier.
func backendCommands(t *testing.T, rclone string) map[string]bool {
	out, err := exec.Command(rclone, "--config", os.DevNull, "backend", "help", "fichier").Output()
	require.NoError(t, err)
	names := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^### (\S+)$`).FindAllStringSubmatch(string(out), -1) {
		names[m[1]] = true
	}
	require.Contains(t, names, "password")
	return names
}

// loadRemoteConfigs appends the page's ini remote definitions to the
// test's config file.
func (r *runner) loadRemoteConfigs(page string) {
	configs, err := RemoteConfigs(page)
	require.NoError(r.t, err)
	f, err := os.OpenFile(r.env["RCLONE_CONFIG"], os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	require.NoError(r.t, err)
	for _, c := range configs {
		_, err = f.WriteString(c + "\n")
		require.NoError(r.t, err)
	}
	require.NoError(r.t, f.Close())
}

// makeTree makes a folder of small files under the working directory.
func (r *runner) makeTree(name string, files ...string) string {
	dir := filepath.Join(r.work, name)
	for i, f := range files {
		p := filepath.Join(dir, f)
		require.NoError(r.t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(r.t, os.WriteFile(p, bytes.Repeat([]byte{'a' + byte(i)}, 100+i), 0o644))
	}
	return dir
}

// optionalPart is a synopsis's optional part: "[-o unshare]".
var optionalPart = regexp.MustCompile(`\s*\[(-[^\]]*)\]`)

// check runs or parse-checks one command, as its lists say. A command
// with optional parts runs without them, then with each.
func (r *runner) check(c Command) {
	if parts := optionalPart.FindAllStringSubmatch(c.Text, -1); parts != nil {
		bare := optionalPart.ReplaceAllString(c.Text, "")
		r.checkOne(c, bare)
		for _, p := range parts {
			r.checkOne(c, bare+" "+p[1])
		}
		return
	}
	r.checkOne(c, c.Text)
}

// checkOne runs or parse-checks one form of a command.
func (r *runner) checkOne(c Command, text string) {
	for from, to := range r.replace {
		text = strings.ReplaceAll(text, from, to)
	}
	if inner, ok := commandSubstitution(text); ok {
		// A pipeline for other tools (curl, jq): its rclone part parses.
		r.parseCheck(c, inner)
		return
	}
	words, err := SplitWords(text)
	require.NoError(r.t, err, "%s", c)
	env := map[string]string{}
	for len(words) > 0 && assignment.MatchString(words[0]) {
		k, v, _ := strings.Cut(words[0], "=")
		env[k], words = v, words[1:]
	}
	for len(words) > 2 && (words[0] == "sudo" || words[0] == "flock") {
		words = dropWrapper(words)
	}
	r.dispatch(c, words, env)
}

// dropWrapper drops "sudo" or "flock -n FILE" before a command.
func dropWrapper(words []string) []string {
	if words[0] == "sudo" {
		return words[1:]
	}
	i := 1
	for i < len(words) && strings.HasPrefix(words[i], "-") {
		i++
	}
	return words[i+1:]
}

// dispatch checks a command by its program.
func (r *runner) dispatch(c Command, words []string, env map[string]string) {
	switch prog := words[0]; prog {
	case "rclone", "bin/rclone", "/usr/bin/rclone":
		r.checkRclone(c, words[1:])
	case "export":
		k, v, ok := strings.Cut(words[1], "=")
		require.True(r.t, ok, "%s", c)
		r.env[k] = v
	case "make":
		r.checkMake(c, words[1:])
	case "bin/fichier-emulator", "fichier-emulator":
		r.startPageEmulator(c, words[1:])
	case "curl":
		r.checkCurl(c, words[1:])
	case "go":
		r.checkGo(c, words[1:], env)
	case "dpkg", "dpkg-deb", "rpm":
		r.checkReleaseFile(c, words)
	case "bin/fichier-bench", "bin/fichier-chaos":
		r.checkTool(c, strings.TrimPrefix(prog, "bin/"), words[1:])
	default:
		r.t.Errorf("%s: no way to check %s", c, prog)
	}
}

// commandSubstitution returns the first command of a "$(...)" pipeline.
func commandSubstitution(text string) (string, bool) {
	_, after, ok := strings.Cut(text, "$(")
	if !ok {
		return "", false
	}
	inner, _, _ := strings.Cut(after, ")")
	first, _, _ := strings.Cut(inner, "|")
	return strings.TrimSpace(first), true
}

// placeholder finds the forms that show a command's shape rather than a
// command: a synopsis or a value to fill in.
var placeholder = regexp.MustCompile(`\[options\]|<arguments>|\bCOMMAND\b|\bURL[0-9]\b|\bVERSION\b|\bARCH\b`)

// needsMoreReason says why a command cannot run here, or "".
func needsMoreReason(text string, args []string) string {
	if why, ok := needsMore[text]; ok {
		return why
	}
	switch {
	case placeholder.MatchString(text):
		return "a value to fill in (a synopsis or placeholder)"
	case len(args) > 0 && (args[0] == "mount" || args[0] == "nfsmount"):
		return "a mount"
	case len(args) > 0 && args[0] == "rc":
		return "a running rclone rcd"
	case len(args) > 1 && args[0] == "backend" && args[1] == "remote-upload":
		return "the internet (1fichier fetches the URL)"
	}
	return ""
}

// checkRclone runs an rclone command, or parse-checks it.
func (r *runner) checkRclone(c Command, args []string) {
	if why := needsMoreReason(c.Text, args); why != "" {
		r.t.Logf("%s: needs %s: checked to parse", c, why)
		r.parseArgs(c, args)
		return
	}
	args = r.localPaths(args)
	out, code := r.runRclone(args...)
	switch {
	case failOnPurpose[c.Text] != "":
		assert.NotZero(r.t, code, "%s: the page shows it failing (%s)", c, failOnPurpose[c.Text])
	default:
		assert.Zero(r.t, code, "%s: failed:\n%s", c, out)
	}
}

// parseCheck checks that an rclone command line parses.
func (r *runner) parseCheck(c Command, line string) {
	words, err := SplitWords(line)
	require.NoError(r.t, err, "%s", c)
	require.NotEmpty(r.t, words)
	require.Contains(r.t, []string{"rclone", "bin/rclone", "/usr/bin/rclone"}, words[0], "%s", c)
	r.parseArgs(c, words[1:])
}

// parseArgs checks rclone's command and flags exist: "--help" after
// them makes rclone parse them and print the command's help, and a
// backend command must be one the fichier backend has.
func (r *runner) parseArgs(c Command, args []string) {
	out, code := r.runRclone(append(slices.Clone(args), "--help")...)
	assert.Zero(r.t, code, "%s: does not parse:\n%s", c, out)
	if len(args) > 1 && args[0] == "backend" && args[1] != "COMMAND" {
		assert.True(r.t, r.helps[args[1]], "%s: the fichier backend has no command %q", c, args[1])
	}
}

// localPaths maps the absolute and ./ paths of args into the working
// directory, making a copy's or sync's missing source with a few files
// and the folder of every other path (a --log-file's).
func (r *runner) localPaths(args []string) []string {
	out := slices.Clone(args)
	source := -1
	if slices.Contains([]string{"copy", "sync", "check", "bisync"}, args[0]) {
		source = slices.IndexFunc(args[1:], func(a string) bool { return !strings.HasPrefix(a, "-") }) + 1
	}
	for i, a := range out {
		if !strings.HasPrefix(a, "/") && !strings.HasPrefix(a, "./") {
			continue
		}
		p := filepath.Join(r.work, a)
		out[i] = p
		if _, err := os.Stat(p); err != nil && i == source {
			r.makeTree(strings.TrimPrefix(p, r.work), "one.txt", "sub/two.txt")
		}
		require.NoError(r.t, os.MkdirAll(filepath.Dir(p), 0o755))
	}
	return out
}

// runRclone runs rclone in the working directory with the pages'
// environment and returns its output and exit status.
func (r *runner) runRclone(args ...string) (string, int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.rclone, args...)
	cmd.Dir = r.work
	cmd.Env = r.environ()
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	require.NoError(r.t, err, "rclone %v", args)
	return string(out), 0
}

// mustRclone runs rclone and requires it to succeed.
func (r *runner) mustRclone(args ...string) {
	out, code := r.runRclone(args...)
	require.Zero(r.t, code, "rclone %v:\n%s", args, out)
}

// environ is the process environment without RCLONE_ variables the
// test's user may have, plus the pages'.
func (r *runner) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RCLONE_") {
			env = append(env, kv)
		}
	}
	for k, v := range r.env {
		env = append(env, k+"="+v)
	}
	return env
}

// checkMake checks a make target, with its VAR=value settings: "make
// demo" runs the demo script with the test's binaries; the others
// (builds, tests, benchmarks, releases, the fault explorer) need more
// than a test may take, so make -n shows the target exists.
func (r *runner) checkMake(c Command, args []string) {
	targets := slices.DeleteFunc(slices.Clone(args), func(a string) bool { return strings.Contains(a, "=") })
	require.Len(r.t, targets, 1, "%s", c)
	if targets[0] == "demo" {
		r.runDemo(c)
		return
	}
	cmd := exec.Command("make", append([]string{"-n", "-s"}, args...)...)
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	assert.NoError(r.t, err, "%s: make -n %s:\n%s", c, targets[0], out)
}

// runDemo runs scripts/demo.sh (what make demo runs after make build)
// and checks it ends as the README's transcript does.
func (r *runner) runDemo(c Command) {
	cmd := exec.Command("./scripts/demo.sh")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "BIN="+filepath.Dir(r.rclone))
	out, err := cmd.CombinedOutput()
	require.NoError(r.t, err, "%s:\n%s", c, out)
	for _, want := range []string{"0 differences found", "6 matching files", `"flood_locks": 0`} {
		assert.Contains(r.t, string(out), want, "%s", c)
	}
	r.demoCommands = nil
	for _, line := range strings.Split(string(out), "\n") {
		if cmd, ok := strings.CutPrefix(line, "$ "); ok {
			r.demoCommands = append(r.demoCommands, cmd)
		}
	}
	r.demoCommands = normalizeTemp(r.demoCommands)
}

// startPageEmulator starts the emulator as the page does, on a free
// port instead of its own, which the page's later commands then use.
func (r *runner) startPageEmulator(c Command, args []string) {
	var kept []string
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == "&":
		case args[i] == "--listen" && i+1 < len(args):
			r.replace[args[i+1]] = "" // filled in below
			i++
		default:
			kept = append(kept, args[i])
		}
	}
	emu := fichiertest.StartEmulator(r.t, r.emuBin, kept...)
	for from, to := range r.replace {
		if to == "" {
			r.replace[from] = strings.TrimPrefix(emu.URL, "http://")
		}
	}
	r.t.Logf("%s: started on %s", c, emu.URL)
}

// checkCurl fetches a URL of the emulator's; other URLs need the
// internet, and curl pipelines are checked elsewhere.
func (r *runner) checkCurl(c Command, args []string) {
	url := args[len(args)-1]
	require.True(r.t, strings.HasPrefix(url, "http://127.0.0.1:"), "%s: a curl to the internet", c)
	resp, err := http.Get(url)
	require.NoError(r.t, err, "%s", c)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(r.t, http.StatusOK, resp.StatusCode, "%s: %s", c, body)
}

// checkGo checks a go build command's package builds with its tags for
// this machine (go list; the page's build is for another system).
func (r *runner) checkGo(c Command, args []string, env map[string]string) {
	require.Equal(r.t, "build", args[0], "%s", c)
	list := []string{"list"}
	for i := 1; i < len(args); i++ {
		switch args[i] {
		case "-tags":
			list = append(list, "-tags", args[i+1])
			i++
		case "-o":
			i++
		default:
			list = append(list, args[i])
		}
	}
	cmd := exec.Command("go", list...)
	cmd.Dir = "../.."
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	assert.NoError(r.t, err, "%s: go %v:\n%s", c, list, out)
}

// checkReleaseFile checks a command on a release's file names a file
// make release makes (it needs a release to run).
func (r *runner) checkReleaseFile(c Command, words []string) {
	file := words[len(words)-1]
	require.True(r.t, strings.HasPrefix(file, "dist/"), "%s", c)
	cmd := exec.Command("make", "-n", "-s", "release", "VERSION=VERSION")
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	require.NoError(r.t, err, "%s", c)
	assert.Contains(r.t, string(out), file, "%s: make release makes no %s", c, file)
}

// checkTool checks the flags of one of our programs (fichier-bench,
// fichier-chaos) parse: -h after them. A page's "..." stands for flags
// shown elsewhere and is left out.
func (r *runner) checkTool(c Command, name string, args []string) {
	bin := filepath.Join(filepath.Dir(r.rclone), name)
	if _, err := os.Stat(bin); err != nil {
		bin = filepath.Join(r.work, name)
		build := exec.Command("go", "build", "-o", bin, "./cmd/"+name)
		build.Dir = "../.."
		out, err := build.CombinedOutput()
		require.NoError(r.t, err, "%s", out)
	}
	args = slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "..." })
	if len(args) > 0 && (args[len(args)-1] == "-help" || args[len(args)-1] == "-h") {
		args = args[:len(args)-1]
	}
	out, err := exec.Command(bin, append(args, "-h")...).CombinedOutput()
	assert.NoError(r.t, err, "%s: does not parse:\n%s", c, out)
}
