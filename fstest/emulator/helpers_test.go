package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeClock is a settable clock for deterministic rate-rule tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2024, 7, 1, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// noLimits is the options of a test that sends its calls back to back,
// unpaced: with the rate rules on, they would be refused.
func noLimits() Options { return Options{NoRateLimits: true} }

// rawResp is a decoded answer.
type rawResp struct {
	Code   int
	Header http.Header
	Body   []byte
}

func (r rawResp) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// do sends a request the way curl would and reads the whole answer.
func do(t *testing.T, method, url string, hdr map[string]string, body io.Reader) rawResp {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return rawResp{Code: resp.StatusCode, Header: resp.Header, Body: b}
}

// api POSTs a JSON body to /v1/<path> with the test key.
func (ts *TestServer) api(t *testing.T, path string, body any) rawResp {
	t.Helper()
	return ts.apiKey(t, ts.Key, path, body)
}

func (ts *TestServer) apiKey(t *testing.T, key, path string, body any) rawResp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(j)
	}
	hdr := map[string]string{"Content-Type": "application/json"}
	if key != "" {
		hdr["Authorization"] = "Bearer " + key
	}
	return do(t, http.MethodPost, ts.APIURL+"/"+path, hdr, rd)
}

// ok calls the API and requires success, returning the decoded body.
func (ts *TestServer) ok(t *testing.T, path string, body any) map[string]any {
	t.Helper()
	r := ts.api(t, path, body)
	require.Equal(t, http.StatusOK, r.Code, "%s: %s", path, r.Body)
	m := r.JSON(t)
	if st, has := m["status"]; has {
		require.Equal(t, "OK", st, "%s: %s", path, r.Body)
	}
	return m
}

// koCall calls the API and requires a KO with code and message.
func (ts *TestServer) koCall(t *testing.T, path string, body any, code int, msg string) {
	t.Helper()
	r := ts.api(t, path, body)
	require.Equal(t, code, r.Code, "%s: %s", path, r.Body)
	m := r.JSON(t)
	require.Equal(t, "KO", m["status"], "%s", r.Body)
	if msg != "" {
		require.Equal(t, msg, m["message"], "%s", r.Body)
	}
}

// multipartBody builds an upload body like rclone's: did, then file[].
func multipartBody(t *testing.T, name string, data []byte, fields map[string]string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	fw, err := mw.CreateFormFile("file[]", name)
	require.NoError(t, err)
	_, err = fw.Write(data)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), buf.Bytes()
}

// uploadResult is end.pl's answer.
type uploadResult struct {
	Incoming int `json:"incoming"`
	Links    []struct {
		Download  string `json:"download"`
		Filename  string `json:"filename"`
		Remove    string `json:"remove"`
		Size      string `json:"size"`
		Whirlpool string `json:"whirlpool"`
	} `json:"links"`
}

// startUpload asks for an upload node and returns (host, id).
func (ts *TestServer) startUpload(t *testing.T) (string, string) {
	t.Helper()
	r := do(t, http.MethodGet, ts.APIURL+"/upload/get_upload_server.cgi",
		map[string]string{"Authorization": "Bearer " + ts.Key, "Content-Type": "application/json"}, nil)
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	var s struct {
		URL string `json:"url"`
		ID  string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &s))
	return s.URL, s.ID
}

// upload runs the whole upload flow and returns the file's URL.
func (ts *TestServer) upload(t *testing.T, folderID int64, name string, data []byte) string {
	t.Helper()
	host, id := ts.startUpload(t)
	ct, body := multipartBody(t, name, data, map[string]string{"did": fmt.Sprint(folderID)})
	r := do(t, http.MethodPost, "http://"+host+"/upload.cgi?id="+id,
		map[string]string{"Authorization": "Bearer " + ts.Key, "Content-Type": ct}, bytes.NewReader(body))
	require.Equal(t, http.StatusFound, r.Code, "%s", r.Body)
	require.Equal(t, "/end.pl?xid="+id, r.Header.Get("Location"))
	r = do(t, http.MethodGet, "http://"+host+"/end.pl?xid="+id,
		map[string]string{"Authorization": "Bearer " + ts.Key, "JSON": "1"}, nil)
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	var res uploadResult
	require.NoError(t, json.Unmarshal(r.Body, &res), "%s", r.Body)
	require.Len(t, res.Links, 1)
	return res.Links[0].Download
}

// mkdir creates a folder through the API.
func (ts *TestServer) mkdir(t *testing.T, parent int64, name string) int64 {
	t.Helper()
	m := ts.ok(t, "folder/mkdir.cgi", map[string]any{"name": name, "folder_id": parent})
	return int64(m["folder_id"].(float64))
}

// items returns the file names of a file/ls.cgi answer.
func names(m map[string]any, key string) []string {
	var out []string
	list, _ := m[key].([]any)
	for _, x := range list {
		e := x.(map[string]any)
		if n, ok := e["filename"]; ok {
			out = append(out, n.(string))
		} else {
			out = append(out, e["name"].(string))
		}
	}
	return out
}

// multipartFiles builds an upload body with one file[] part per name,
// holding "data of <name>", in order.
func multipartFiles(t *testing.T, names ...string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, name := range names {
		fw, err := mw.CreateFormFile("file[]", name)
		require.NoError(t, err)
		_, err = fw.Write([]byte("data of " + name))
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), buf.Bytes()
}
