package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
)

// binDir holds the program built once for every test in this package.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fichier-emulator-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// binary builds the real program (once) and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("the go tool is needed to build the program: %w", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		buildPath = filepath.Join(binDir, "fichier-emulator")
		cmd := exec.CommandContext(ctx, goTool, "build", "-o", buildPath, ".")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return buildPath
}

// lockedBuffer collects a process's standard error.
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

// process is a running fichier-emulator.
type process struct {
	cmd    *exec.Cmd
	info   map[string][]string // start-up lines, key=value
	stderr *lockedBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's result, set before done closes
}

// get returns the single value of a start-up line.
func (p *process) get(t *testing.T, key string) string {
	t.Helper()
	v := p.info[key]
	require.Len(t, v, 1, "start-up line %s= (stderr: %s)", key, p.stderr.String())
	return v[0]
}

// start runs the program with args and waits for its ready=1 line.
func start(t *testing.T, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	p := &process{cmd: cmd, info: map[string][]string{}, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})

	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			if signalled {
				continue // drain
			}
			k, v, ok := strings.Cut(sc.Text(), "=")
			if !ok {
				ready <- fmt.Errorf("start-up line without '=': %q", sc.Text())
				signalled = true
				continue
			}
			if k == "ready" {
				ready <- nil
				signalled = true
				continue
			}
			p.info[k] = append(p.info[k], v)
		}
		if !signalled {
			ready <- errors.New("standard output closed before ready=1")
		}
		p.err = cmd.Wait()
		close(p.done)
	}()

	select {
	case err := <-ready:
		require.NoError(t, err, "stderr: %s", p.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("no ready=1 line within 30s; stderr: %s", p.stderr.String())
	}
	return p
}

// stop sends sig and returns the exit status.
func (p *process) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(sig))
	return p.wait(t)
}

// wait waits (bounded) for the process to exit and returns its status.
func (p *process) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("process still running 30s later; stderr: %s", p.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	require.NoError(t, p.err)
	return p.cmd.ProcessState.ExitCode()
}

// apiCall POSTs body to the API endpoint (e.g. "user/info.cgi") with key
// and decodes the JSON answer.
func apiCall(t *testing.T, client *http.Client, apiURL, endpoint, key, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, apiURL+"/"+endpoint, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var v map[string]any
	require.NoError(t, json.Unmarshal(raw, &v), "answer: %s", raw)
	return resp.StatusCode, v
}

var testClient = &http.Client{Timeout: 20 * time.Second}

var apiURLPattern = regexp.MustCompile(`^http://127\.0\.0\.1:([1-9][0-9]*)/v1$`)

func TestServesAPIAndStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	const key = "sigterm-key-0123456789"
	p := start(t, "--listen", "127.0.0.1:0", "--key", key, "--email", "demo@example.com", "-v")

	apiURL := p.get(t, "api_url")
	require.Regexp(t, apiURLPattern, apiURL, "--listen 127.0.0.1:0 prints the real port")
	assert.Equal(t, strings.TrimSuffix(apiURL, "/v1"), p.get(t, "url"))
	assert.Equal(t, strings.TrimSuffix(apiURL, "/v1")+"/debug/stats", p.get(t, "stats_url"))
	assert.Equal(t, []string{key}, p.info["key"])
	assert.Empty(t, p.info["proxy"])

	status, v := apiCall(t, testClient, apiURL, "user/info.cgi", key, `{}`)
	assert.Equal(t, http.StatusOK, status, v)
	assert.Equal(t, "OK", v["status"], v)
	assert.Equal(t, "demo@example.com", v["email"])
	assert.Equal(t, "1", fmt.Sprint(v["offer"]), "premium by default")

	assert.Equal(t, 0, p.stop(t, syscall.SIGTERM), "stderr: %s", p.stderr.String())

	// -v: one log line for the call, and the key never in full.
	log := p.stderr.String()
	assert.Contains(t, log, "user/info.cgi")
	assert.NotContains(t, log, key)
}

func TestTwoKeysAndSIGINT(t *testing.T) {
	t.Parallel()
	p := start(t, "--listen", "127.0.0.1:0", "--key", "first-key-aaaa", "--key", "second-key-bbbb",
		"--email", "demo@example.com", "--no-rate-limits", "--time-scale", "100", "--seed", "7", "--listing-delay", "1s")
	assert.Equal(t, []string{"first-key-aaaa", "second-key-bbbb"}, p.info["key"])
	apiURL := p.get(t, "api_url")

	for key, email := range map[string]string{"first-key-aaaa": "demo@example.com", "second-key-bbbb": "demo+2@example.com"} {
		status, v := apiCall(t, testClient, apiURL, "user/info.cgi", key, `{}`)
		assert.Equal(t, http.StatusOK, status, v)
		assert.Equal(t, email, v["email"], key)
	}
	status, v := apiCall(t, testClient, apiURL, "user/info.cgi", "not-a-key", `{}`)
	assert.NotEqual(t, http.StatusOK, status)
	assert.Equal(t, "KO", v["status"])
	assert.Contains(t, v["message"], "#93")

	assert.Equal(t, 0, p.stop(t, os.Interrupt), "stderr: %s", p.stderr.String())
}

func TestOfferFreeIsRefused(t *testing.T) {
	t.Parallel()
	p := start(t, "--key", "free-key-1234", "--offer", "free")
	_, v := apiCall(t, testClient, p.get(t, "api_url"), "user/info.cgi", "free-key-1234", `{}`)
	assert.Equal(t, "KO", v["status"])
	assert.Contains(t, v["message"], "#200")
	assert.Equal(t, 0, p.stop(t, syscall.SIGTERM))
}

func TestProxyModeServesHTTPSClients(t *testing.T) {
	t.Parallel()
	const key = "proxy-key-0123456789"
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	p := start(t, "--listen", "127.0.0.1:0", "--key", key, "--proxy", "127.0.0.1:0", "--ca-out", caFile, "-v")

	proxyAddr := p.get(t, "proxy")
	assert.Regexp(t, `^127\.0\.0\.1:[1-9][0-9]*$`, proxyAddr)
	assert.Equal(t, "http://"+proxyAddr, p.get(t, "proxy_url"))
	assert.Equal(t, caFile, p.get(t, "ca"))

	pem, err := os.ReadFile(caFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem), "the --ca-out file holds a certificate")
	proxyURL, err := url.Parse(p.get(t, "proxy_url"))
	require.NoError(t, err)
	tr := &http.Transport{Proxy: http.ProxyURL(proxyURL), TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second}

	// The real API host name, as an unmodified client would use it.
	status, v := apiCall(t, client, "https://api.1fichier.com/v1", "user/info.cgi", key, `{}`)
	assert.Equal(t, http.StatusOK, status, v)
	assert.Equal(t, "OK", v["status"], v)

	// Anything else is refused, not fetched.
	_, err = client.Get("https://example.com/")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Forbidden")

	assert.Equal(t, 0, p.stop(t, syscall.SIGTERM), "stderr: %s", p.stderr.String())
	log := p.stderr.String()
	assert.Contains(t, log, "proxy: tunnel to api.1fichier.com:443")
	assert.Contains(t, log, "proxy: refused CONNECT example.com:443")
	assert.NotContains(t, log, key)
}

func TestDataSurvivesRestart(t *testing.T) {
	t.Parallel()
	const key = "data-key-0123456789"
	dataDir := t.TempDir()
	args := []string{"--listen", "127.0.0.1:0", "--key", key, "--data", dataDir, "--no-rate-limits"}

	p := start(t, args...)
	status, v := apiCall(t, testClient, p.get(t, "api_url"), "folder/mkdir.cgi", key, `{"name":"kept-across-restart"}`)
	require.Equal(t, http.StatusOK, status, v)
	require.Equal(t, "OK", v["status"], v)
	folderID := fmt.Sprint(v["folder_id"])
	require.Equal(t, 0, p.stop(t, syscall.SIGTERM), "stderr: %s", p.stderr.String())

	p = start(t, args...)
	status, v = apiCall(t, testClient, p.get(t, "api_url"), "folder/ls.cgi", key, `{"folder_id":0}`)
	require.Equal(t, http.StatusOK, status, v)
	subs, ok := v["sub_folders"].([]any)
	require.True(t, ok, "sub_folders in %v", v)
	var names []string
	for _, s := range subs {
		m, ok := s.(map[string]any)
		require.True(t, ok)
		names = append(names, fmt.Sprint(m["name"]))
		if m["name"] == "kept-across-restart" {
			assert.Equal(t, folderID, fmt.Sprint(m["id"]))
		}
	}
	assert.Contains(t, names, "kept-across-restart")
	assert.Equal(t, 0, p.stop(t, syscall.SIGTERM))
}

func TestBadFlagExitsTwo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--key", "k", "--offer", "gold"}, "-offer"},
		{[]string{"--key", "k", "--no-such-flag"}, "no-such-flag"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			cmd := exec.Command(binary(t), tc.args...)
			var stderr lockedBuffer
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				var ee *exec.ExitError
				require.ErrorAs(t, err, &ee, "%v", tc.args)
				assert.Equal(t, 2, ee.ExitCode(), "%v", tc.args)
				assert.Contains(t, stderr.String(), tc.want, "%v", tc.args)
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("%v: still running after 30s", tc.args)
			}
		})
	}
}

// The rest runs the command in-process, through run().

func TestRunRejectsBadCommandLines(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = busy.Close() }()

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no key", []string{"--listen", "127.0.0.1:0"}, 2, "--key is required"},
		{"empty key", []string{"--key", ""}, 2, "-key"},
		{"duplicate key", []string{"--key", "k1", "--key", "k1"}, 2, "key given twice"},
		{"bad offer", []string{"--key", "k", "--offer", "gold"}, 2, "invalid value \"gold\" for flag -offer"},
		{"unknown flag", []string{"--key", "k", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{"zero time scale", []string{"--key", "k", "--time-scale", "0"}, 2, "--time-scale"},
		{"negative time scale", []string{"--key", "k", "--time-scale", "-3"}, 2, "--time-scale"},
		{"text time scale", []string{"--key", "k", "--time-scale", "fast"}, 2, "-time-scale"},
		{"bad seed", []string{"--key", "k", "--seed", "abc"}, 2, "-seed"},
		{"bad listing delay", []string{"--key", "k", "--listing-delay", "soon"}, 2, "-listing-delay"},
		{"negative listing delay", []string{"--key", "k", "--listing-delay", "-1s"}, 2, "--listing-delay"},
		{"listen without port", []string{"--key", "k", "--listen", "localhost"}, 2, "--listen"},
		{"proxy without port", []string{"--key", "k", "--proxy", "localhost"}, 2, "--proxy"},
		{"ca-out without proxy", []string{"--key", "k", "--ca-out", "ca.pem"}, 2, "--ca-out needs --proxy"},
		{"bad faults", []string{"--key", "k", "--faults", "file/ls.cgi=explode"}, 2, "--faults"},
		{"bad email", []string{"--key", "k", "--email", "nobody"}, 2, "--email"},
		{"bad list rule", []string{"--key", "k", "--list-rule", "both"}, 2, "invalid value \"both\" for flag -list-rule"},
		{"bad number strings", []string{"--key", "k", "--number-strings", "lenient"}, 2, "invalid value \"lenient\" for flag -number-strings"},
		{"negative timeout", []string{"--key", "k", "--body-timeout", "-1s"}, 2, "--body-timeout -1s: must not be negative"},
		{"bad query switches", []string{"--key", "k", "--query-switches", "yes"}, 2, "invalid value \"yes\" for flag -query-switches"},
		{"bare unit quota", []string{"--key", "k", "--quota", "G"}, 2, `invalid value "G" for flag -quota`},
		{"zero quota", []string{"--key", "k", "--quota", "0"}, 2, "at least 1 byte"},
		{"unknown unit quota", []string{"--key", "k", "--quota", "5X"}, 2, `invalid value "5X" for flag -quota`},
		{"stray argument", []string{"--key", "k", "serve"}, 2, "unexpected argument \"serve\""},
		{"port in use", []string{"--key", "k", "--listen", busy.Addr().String()}, 1, "--listen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			code := run(ctx, tc.args, &stdout, &stderr)
			assert.Equal(t, tc.code, code, "stderr: %s", stderr.String())
			assert.Contains(t, stderr.String(), tc.want)
			assert.NotContains(t, stdout.String(), "ready=1")
		})
	}
}

func TestRunHelpExitsZero(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"--help"}, &stdout, &stderr))
	for _, name := range []string{"-listen", "-key", "-offer", "-email", "-time-scale", "-data", "-proxy", "-ca-out", "-faults", "-seed",
		"-listing-delay", "-no-rate-limits", "-list-rule", "-move-changes-url", "-query-switches", "-number-strings", "-header-timeout",
		"-body-timeout", "-idle-timeout", "-quota", "-v"} {
		assert.Contains(t, stderr.String(), "  "+name, "usage lists %s", name)
	}
	// Every reading the command can switch is explained with its default.
	readings := stderr.String()[strings.Index(stderr.String(), "Readings:"):]
	for _, reading := range []string{"--list-rule folder|endpoint", "--move-changes-url", "--query-switches ignore|honour", "--number-strings accept|refuse"} {
		assert.Contains(t, readings, "  "+reading+"\n\tdefault ", "readings explain %s", reading)
	}
	// --faults's grammar and kinds are in the help, not in a Go package.
	assert.Contains(t, stderr.String(), emulator.FaultsHelp())
	assert.NotContains(t, stderr.String(), "ParseFaults")
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{
		"1": 1, "5000000": 5000000, "512B": 512, "2k": 2048, "100M": 100 << 20, "100MiB": 100 << 20,
		"100Mi": 100 << 20, "1G": 1 << 30, "1.5G": 3 << 29, "2T": 2 << 40, "1P": 1 << 50, "75m": 75 << 20,
	} {
		got, err := parseSize(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got, in)
		}
	}
	for _, bad := range []string{"", "M", "0", "0.5", "-1G", "1X", "1MB", "1GiBs", "9999999P", "NaN", "Inf", "1iB"} {
		_, err := parseSize(bad)
		assert.Error(t, err, "%q", bad)
	}
}

// --quota reaches every account: user/info.cgi reports the quota and
// what is stored against it, and an upload past it is refused.
func TestQuotaFlag(t *testing.T) {
	t.Parallel()
	const key = "quota-key-0123456789"
	p := start(t, "--listen", "127.0.0.1:0", "--key", key, "--no-rate-limits", "--quota", "1K")
	apiURL := p.get(t, "api_url")
	status, v := apiCall(t, testClient, apiURL, "user/info.cgi", key, `{}`)
	require.Equal(t, http.StatusOK, status, v)
	assert.Equal(t, []any{1024.0, 1024.0, 0.0}, []any{v["allowed_cold_storage"], v["available_storage"], v["cold_storage"]})

	assert.Equal(t, http.StatusFound, uploadFile(t, apiURL, key, "small.bin", 1000))
	status, v = apiCall(t, testClient, apiURL, "user/info.cgi", key, `{}`)
	require.Equal(t, http.StatusOK, status, v)
	assert.Equal(t, []any{1024.0, 24.0, 1000.0}, []any{v["allowed_cold_storage"], v["available_storage"], v["cold_storage"]})
	assert.Equal(t, http.StatusForbidden, uploadFile(t, apiURL, key, "over.bin", 25))
	assert.Equal(t, 0, p.stop(t, syscall.SIGTERM))
}

// uploadFile uploads a file of size bytes to the account's root with
// get_upload_server.cgi and upload.cgi, and returns upload.cgi's status.
func uploadFile(t *testing.T, apiURL, key, name string, size int) int {
	t.Helper()
	status, v := apiCall(t, testClient, apiURL, "upload/get_upload_server.cgi", key, `{}`)
	require.Equal(t, http.StatusOK, status, v)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file[]", name)
	require.NoError(t, err)
	_, err = fw.Write(bytes.Repeat([]byte("q"), size))
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://%s/upload.cgi?id=%s", v["url"], v["id"]), &body)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	client := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func TestRunStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr lockedBuffer
	codec := make(chan int, 1)
	go func() {
		codec <- run(ctx, []string{"--key", "inproc-key", "--listen", "127.0.0.1:0"}, pw, &stderr)
		_ = pw.Close()
	}()

	info := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		info[k] = v
		if k == "ready" {
			break
		}
	}
	require.Equal(t, "1", info["ready"], "stderr: %s", stderr.String())
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	status, v := apiCall(t, testClient, info["api_url"], "user/info.cgi", "inproc-key", `{}`)
	assert.Equal(t, http.StatusOK, status, v)

	cancel()
	select {
	case code := <-codec:
		assert.Equal(t, 0, code, "stderr: %s", stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return 30s after its context ended")
	}
	// The listener is gone.
	_, err := testClient.Get(info["url"] + "/debug/stats")
	assert.Error(t, err)
}

func TestAccountsGetDistinctEmails(t *testing.T) {
	t.Parallel()
	cfg := &config{keys: []string{"a", "b", "c"}, offer: emulator.OfferAccess, email: "me@example.com"}
	accts := cfg.accounts()
	require.Len(t, accts, 3)
	assert.Equal(t, emulator.Account{Key: "a", Email: "me@example.com", Offer: emulator.OfferAccess}, accts[0])
	assert.Equal(t, "me+2@example.com", accts[1].Email)
	assert.Equal(t, "me+3@example.com", accts[2].Email)

	cfg.email = ""
	for _, a := range cfg.accounts() {
		assert.Empty(t, a.Email, "the emulator picks its default")
	}
}

func TestPrintableAddr(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"127.0.0.1:8080": "127.0.0.1:8080",
		"0.0.0.0:8080":   "127.0.0.1:8080",
		"[::]:8080":      "127.0.0.1:8080",
		"[::1]:8080":     "[::1]:8080",
	} {
		addr, err := net.ResolveTCPAddr("tcp", in)
		require.NoError(t, err)
		assert.Equal(t, want, printableAddr(addr), in)
	}
}

func TestListRuleFlagReachesTheEmulator(t *testing.T) {
	t.Parallel()
	for args, want := range map[string]emulator.ListRule{
		"":                     emulator.ListRuleFolder,
		"--list-rule folder":   emulator.ListRuleFolder,
		"--list-rule endpoint": emulator.ListRuleEndpoint,
	} {
		cfg, err := parseFlags(append([]string{"--key", "k"}, strings.Fields(args)...), io.Discard)
		require.NoError(t, err, args)
		assert.Equal(t, want, cfg.options(io.Discard).ListRule, args)
	}
}

func TestMoveChangesURLFlagReachesTheEmulator(t *testing.T) {
	t.Parallel()
	for args, want := range map[string]bool{
		"":                   false,
		"--move-changes-url": true,
	} {
		cfg, err := parseFlags(append([]string{"--key", "k"}, strings.Fields(args)...), io.Discard)
		require.NoError(t, err, args)
		assert.Equal(t, want, cfg.options(io.Discard).MoveChangesURL, args)
	}
}

func TestQuerySwitchesFlagReachesTheEmulator(t *testing.T) {
	t.Parallel()
	for args, want := range map[string]emulator.QuerySwitches{
		"":                        emulator.QuerySwitchesIgnore,
		"--query-switches ignore": emulator.QuerySwitchesIgnore,
		"--query-switches honour": emulator.QuerySwitchesHonour,
	} {
		cfg, err := parseFlags(append([]string{"--key", "k"}, strings.Fields(args)...), io.Discard)
		require.NoError(t, err, args)
		assert.Equal(t, want, cfg.options(io.Discard).QuerySwitches, args)
	}
}

func TestNumberStringsFlagReachesTheEmulator(t *testing.T) {
	t.Parallel()
	for args, want := range map[string]emulator.NumberStrings{
		"":                        emulator.NumberStringsAccept,
		"--number-strings accept": emulator.NumberStringsAccept,
		"--number-strings refuse": emulator.NumberStringsRefuse,
	} {
		cfg, err := parseFlags(append([]string{"--key", "k"}, strings.Fields(args)...), io.Discard)
		require.NoError(t, err, args)
		assert.Equal(t, want, cfg.options(io.Discard).NumberStrings, args)
	}
}

func TestTimeoutFlagsReachTheEmulator(t *testing.T) {
	t.Parallel()
	cfg, err := parseFlags([]string{"--key", "k"}, io.Discard)
	require.NoError(t, err)
	opts := cfg.options(io.Discard)
	assert.Equal(t, emulator.DefaultReadHeaderTimeout, opts.ReadHeaderTimeout)
	assert.Equal(t, emulator.DefaultBodyIdleTimeout, opts.BodyIdleTimeout)
	assert.Equal(t, emulator.DefaultIdleTimeout, opts.IdleTimeout)

	cfg, err = parseFlags([]string{"--key", "k", "--header-timeout", "0", "--body-timeout", "2s", "--idle-timeout", "3s"}, io.Discard)
	require.NoError(t, err)
	opts = cfg.options(io.Discard)
	assert.Negative(t, opts.ReadHeaderTimeout, "0 on the command line turns it off")
	assert.Equal(t, 2*time.Second, opts.BodyIdleTimeout)
	assert.Equal(t, 3*time.Second, opts.IdleTimeout)
}

func TestStalledConnectionsAreClosed(t *testing.T) {
	t.Parallel()
	const key = "stall-key"
	p := start(t, "--listen", "127.0.0.1:0", "--key", key, "--no-rate-limits",
		"--header-timeout", "300ms", "--body-timeout", "300ms", "--idle-timeout", "300ms")
	addr := strings.TrimPrefix(p.get(t, "url"), "http://")
	prefixes := []string{
		"POST /v1/user/info.cgi HTTP/1.1\r\nHost: h\r\n",
		"POST /v1/folder/ls.cgi HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer " + key +
			"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
	}
	var conns []net.Conn
	for i := range 20 {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer func() { _ = c.Close() }()
		_, err = io.WriteString(c, prefixes[i%len(prefixes)])
		require.NoError(t, err)
		conns = append(conns, c)
	}
	for i, c := range conns {
		// Far longer than the timeouts: a guard against hanging, no
		// measure of speed.
		require.NoError(t, c.SetReadDeadline(time.Now().Add(30*time.Second)))
		_, err := io.ReadAll(c)
		var ne net.Error
		assert.False(t, errors.As(err, &ne) && ne.Timeout(), "connection %d left open", i)
	}
	assert.Equal(t, 0, p.stop(t, syscall.SIGTERM), "stderr: %s", p.stderr.String())
}
