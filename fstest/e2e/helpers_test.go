package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// remote is the name the tests give the emulator-backed remote.
const remote = "fe"

// timeScale speeds up 1fichier's rules for the binary tests. Less than
// fichiertest.TimeScale: at 100 the calls-per-second rule's window is
// 10 ms, and on a loaded machine the scheduler alone bunches a
// process's calls into it now and then (a flood lock in one run of
// several); at 20 it is 50 ms, and the assertions of zero flood locks
// hold.
const timeScale = 20

// harness is one standalone emulator and an rclone environment (a
// fichiertest.Rclone) in which "fe:" is a remote on it.
type harness struct {
	*fichiertest.Rclone
	t      *testing.T
	emu    *fichiertest.Emulator
	tmp    string        // the rclone environment's temporary directory
	last   time.Time     // when the last command or API call ended
	budget *rate.Limiter // spaces the tests' own API calls as the backend does
}

// listSpacing is 1fichier's shortest time between two listings of one
// folder (30 s), sped up like the emulator, plus a margin.
const listSpacing = 33 * time.Second / timeScale

// space waits until gap has passed since the last command ended.
//
// Most tests start their commands listSpacing apart, so that each
// command's first look at a folder is a fresh listing (its slot has
// reopened) and their call counts stay those of a command run on its own.
// Commands right after one another, or at once, share the account state
// instead (stored listings, one call schedule); state_test.go runs them
// that way, without this spacing. The tests' own API calls (seeding
// duplicates, say) take no part in the shared clocks, which is one more
// reason for the gap.
func (h *harness) space(gap time.Duration) {
	if h.last.IsZero() {
		return
	}
	time.Sleep(time.Until(h.last.Add(gap)))
}

// newHarness starts an emulator (with extra command-line args) running
// 1fichier's rules timeScale times faster, and an rclone
// environment whose backend rates match.
func newHarness(t *testing.T, emuArgs ...string) *harness {
	t.Helper()
	rcloneBin, emuBin := fichiertest.Binaries(t)
	args := append([]string{"--time-scale", strconv.Itoa(timeScale)}, emuArgs...)
	emu := fichiertest.StartEmulator(t, emuBin, args...)
	r := fichiertest.NewRclone(t, rcloneBin, emu.Env(remote, timeScale)...)
	budget := rate.NewLimiter(rate.Limit(2*timeScale), 1)
	return &harness{Rclone: r, t: t, emu: emu, tmp: r.Dir, budget: budget}
}

// run runs rclone with args (and extra environment), listSpacing after
// the last command, and returns what it did; only a failure to start it,
// or the timeout, fails the test.
func (h *harness) run(extraEnv []string, args ...string) fichiertest.Result {
	h.t.Helper()
	h.space(listSpacing)
	res := h.Run("", extraEnv, args...)
	h.last = time.Now()
	return res
}

// command returns an rclone command with the harness's environment, for
// callers that need its input or a process that keeps running; its
// caller bounds how long it runs.
func (h *harness) command(args ...string) *exec.Cmd {
	h.space(listSpacing)
	return h.Command(args...)
}

// ok runs rclone with args, requires it to succeed and returns its
// standard output.
func (h *harness) ok(args ...string) string {
	h.t.Helper()
	res := h.run(nil, args...)
	require.Equal(h.t, 0, res.Code, "rclone %s failed:\n%s", strings.Join(args, " "), res.Stderr)
	return res.Stdout
}

// fails runs rclone with args and requires a non-zero exit status.
func (h *harness) fails(extraEnv []string, args ...string) fichiertest.Result {
	h.t.Helper()
	res := h.run(extraEnv, args...)
	require.NotEqual(h.t, 0, res.Code, "rclone %s should have failed:\n%s", strings.Join(args, " "), res.Stderr)
	return res
}

// stats reads the emulator's counters.
func (h *harness) stats() emulator.Stats { return h.emu.Stats(h.t) }

// listings is how many folder listings stats shows (folder/ls.cgi and
// file/ls.cgi share 1fichier's per-folder limit).
func listings(s emulator.Stats) int64 {
	return s.Calls["folder/ls.cgi"] + s.Calls["file/ls.cgi"]
}

// uploads is how many files were sent to the upload node.
func uploads(s emulator.Stats) int64 { return s.Calls["upload.cgi"] }

// do sends one request of the tests' own, within the account's call budget.
func (h *harness) do(client *http.Client, req *http.Request) *http.Response {
	h.t.Helper()
	require.NoError(h.t, h.budget.Wait(context.Background()))
	res, err := client.Do(req)
	require.NoError(h.t, err)
	return res
}

// apiCall POSTs req to an API endpoint with the harness's key and decodes
// the answer into resp, for what rclone cannot do (seeding duplicates,
// a password on a share).
func (h *harness) apiCall(endpoint string, req, resp any) {
	h.t.Helper()
	body, err := json.Marshal(req)
	require.NoError(h.t, err)
	r, err := http.NewRequest(http.MethodPost, h.emu.APIURL+"/"+endpoint, bytes.NewReader(body))
	require.NoError(h.t, err)
	r.Header.Set("Authorization", "Bearer "+h.emu.Key)
	r.Header.Set("Content-Type", "application/json")
	h.space(listSpacing)
	res := h.do(http.DefaultClient, r)
	h.last = time.Now()
	defer func() { _ = res.Body.Close() }()
	data, err := io.ReadAll(res.Body)
	require.NoError(h.t, err)
	require.Equal(h.t, http.StatusOK, res.StatusCode, "%s: %s", endpoint, data)
	if resp != nil {
		require.NoError(h.t, json.Unmarshal(data, resp), "%s: %s", endpoint, data)
	}
}

// folderID returns the ID of the folder called name in the account's root.
func (h *harness) folderID(name string) int {
	h.t.Helper()
	var resp api.FolderListResponse
	h.apiCall("folder/ls.cgi", api.FolderListRequest{FolderID: 0}, &resp)
	for _, sub := range resp.SubFolders {
		if sub.Name == name {
			return sub.ID
		}
	}
	h.t.Fatalf("no folder %q in the root", name)
	return 0
}

// uploadRaw uploads data as name into folder folderID straight through
// the upload API, without looking for a file of that name first: the way
// another client makes a duplicate.
func (h *harness) uploadRaw(folderID int, name string, data []byte) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.emu.APIURL+"/upload/get_upload_server.cgi", nil)
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", "application/json")
	res := h.do(http.DefaultClient, req)
	var node api.UploadServerResponse
	require.NoError(h.t, json.NewDecoder(res.Body).Decode(&node))
	_ = res.Body.Close()

	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	require.NoError(h.t, mw.WriteField("did", strconv.Itoa(folderID)))
	part, err := mw.CreateFormFile("file[]", name)
	require.NoError(h.t, err)
	_, err = part.Write(data)
	require.NoError(h.t, err)
	require.NoError(h.t, mw.Close())
	root := "http://" + node.URL
	req, err = http.NewRequest(http.MethodPost, root+"/upload.cgi?id="+node.ID, &form)
	require.NoError(h.t, err)
	req.Header.Set("Authorization", "Bearer "+h.emu.Key)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res = h.do(client, req)
	msg, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	require.Equal(h.t, http.StatusFound, res.StatusCode, "upload.cgi: %s", msg)

	req, err = http.NewRequest(http.MethodGet, root+"/end.pl?xid="+node.ID, nil)
	require.NoError(h.t, err)
	req.Header.Set("Authorization", "Bearer "+h.emu.Key)
	req.Header.Set("JSON", "1")
	res = h.do(http.DefaultClient, req)
	var end api.EndUploadResponse
	require.NoError(h.t, json.NewDecoder(res.Body).Decode(&end))
	_ = res.Body.Close()
	require.Len(h.t, end.Links, 1, "end.pl")
}

// lsjsonEntry is one line of rclone lsjson.
type lsjsonEntry struct {
	Path   string
	Size   int64
	IsDir  bool
	Hashes map[string]string
	ID     string
}

// lsjson lists remote path recursively with hashes in a fresh rclone
// process, so what it shows is what the server has.
func (h *harness) lsjson(path string) []lsjsonEntry {
	h.t.Helper()
	var entries []lsjsonEntry
	require.NoError(h.t, json.Unmarshal([]byte(h.ok("lsjson", "-R", "--hash", "--files-only", path)), &entries))
	return entries
}

// writeTree makes files under dir: for each folder in folders (""
// = dir itself), n files of a few KiB of random data. It returns the
// paths relative to dir.
func writeTree(t *testing.T, dir string, folders []string, n int, seed int64) []string {
	t.Helper()
	rnd := rand.New(rand.NewSource(seed))
	var names []string
	for _, folder := range folders {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, folder), 0o755))
		for i := range n {
			name := filepath.Join(folder, fmt.Sprintf("file%03d.bin", i))
			data := make([]byte, 1024+rnd.Intn(4096))
			_, _ = rnd.Read(data)
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
			names = append(names, filepath.ToSlash(name))
		}
	}
	return names
}

// randomBytes returns n pseudo-random bytes from seed.
func randomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	_, _ = rand.New(rand.NewSource(seed)).Read(b)
	return b
}
