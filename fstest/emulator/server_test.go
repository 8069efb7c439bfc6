package emulator

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewRequiresAnAccount(t *testing.T) {
	t.Parallel()
	_, err := New(Options{})
	require.Error(t, err)
	_, err = New(Options{Accounts: []Account{{Key: "a"}, {Key: "a"}}})
	require.Error(t, err, "duplicate keys")
	_, err = New(Options{Accounts: []Account{{Key: "a"}}, Faults: "nonsense"})
	require.Error(t, err, "bad fault spec")
}

func TestAuthErrors(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	require.NoError(t, ts.AddAccount(Account{Key: "free-key", Offer: OfferFree}))
	require.NoError(t, ts.AddAccount(Account{Key: "access-key", Offer: OfferAccess}))
	for _, tc := range []struct {
		name, key string
		code      int
		msg       string
	}{
		{"missing header", "", 401, "Not authenticated #247"},
		{"unknown key", "nope", 401, "No such user #93"},
		{"free account", "free-key", 403, "Must be a customer (Premium, Access) #200"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.apiKey(t, tc.key, "folder/ls.cgi", map[string]any{"folder_id": 0})
			require.Equal(t, tc.code, r.Code)
			assert.Equal(t, map[string]any{"status": "KO", "message": tc.msg}, r.JSON(t))
			assert.Equal(t, "application/json; charset=utf-8", r.Header.Get("Content-Type"))
		})
	}
	r := ts.apiKey(t, "access-key", "folder/ls.cgi", map[string]any{"folder_id": 0})
	assert.Equal(t, 200, r.Code, "Access accounts may use the API")
}

func TestBodyMustBeJSON(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	for _, body := range []any{nil, "", "not json", "[]", `"x"`, "{broken"} {
		r := ts.api(t, "folder/ls.cgi", body)
		assert.Equal(t, 400, r.Code, "body %q", body)
		assert.Equal(t, "Invalid request: a JSON body is required #14", r.JSON(t)["message"], "body %q", body)
	}
	// user/info.cgi accepts no body at all (rclone), and "" (JDownloader).
	for _, body := range []any{nil, `""`, "{}"} {
		r := ts.api(t, "user/info.cgi", body)
		assert.Equal(t, 200, r.Code, "body %q: %s", body, r.Body)
	}
	// Wrong JSON types are refused (numeric strings are not wrong: see
	// TestNumericStringsWorkWhereNumbersAreExpected).
	ts.koCall(t, "folder/ls.cgi", `{"folder_id":true}`, 400, "Invalid parameter folder_id #17")
	ts.koCall(t, "folder/ls.cgi", `{"folder_id":"root"}`, 400, "Invalid parameter folder_id #17")
}

func TestNumericStringsWorkWhereNumbersAreExpected(t *testing.T) {
	t.Parallel()
	src := httptest.NewServer(http.NotFoundHandler())
	defer src.Close()
	ts := NewTestServer(t, noLimits())
	dir := ts.mkdir(t, 0, "dir")
	u := ts.upload(t, 0, "a.txt", []byte("aaa"))
	d := fmt.Sprint(dir)

	// file/cp.cgi's folder_id as a string (the npm 1fichier-api package).
	m := ts.ok(t, "file/cp.cgi", map[string]any{"urls": []string{u}, "folder_id": d})
	cp := m["urls"].([]any)[0].(map[string]any)["to_url"].(string)
	fi, err := ts.Lookup(cp)
	require.NoError(t, err)
	assert.Equal(t, dir, fi.FolderID)
	// remote/info.cgi's id as a string (1fichier-ts).
	job := ts.ok(t, "remote/request.cgi", map[string]any{"urls": []string{src.URL + "/missing"}})
	id := int64(job["id"].(float64))
	info := ts.ok(t, "remote/info.cgi", map[string]any{"id": fmt.Sprint(id)})
	assert.Equal(t, float64(id), info["id"])
	// Any other numeric field, nested ones too.
	ls := ts.ok(t, "file/ls.cgi", map[string]any{"folder_id": d})
	assert.Equal(t, []string{"a.txt"}, names(ls, "items"))
	ls = ts.ok(t, "folder/ls.cgi", map[string]any{"folder_id": "0", "files": "1"})
	assert.Equal(t, []string{"a.txt"}, names(ls, "items"))
	ts.ok(t, "file/chattr.cgi", map[string]any{"urls": []string{u}, "inline": "1", "acl": map[string]any{"premium": "1"}})
	fileInfo := ts.ok(t, "file/info.cgi", map[string]any{"url": u})
	assert.Equal(t, float64(1), fileInfo["inline"])
	assert.Equal(t, float64(1), fileInfo["acl"].(map[string]any)["premium"])
	ts.ok(t, "download/get_token.cgi", map[string]any{"url": u, "single": "1"})
	set := ts.ok(t, "user/info.cgi", map[string]any{"page_limit": "50"})
	assert.Equal(t, float64(50), set["page_limit"])
	m = ts.ok(t, "file/mv.cgi", map[string]any{"urls": []string{u}, "destination_folder_id": d})
	assert.Equal(t, float64(1), m["moved"])
	r := ts.api(t, "folder/ls.cgi", map[string]any{"folder_id": d, "pretty": "1"})
	assert.Contains(t, string(r.Body), "\n  ", "pretty as a string")
}

func TestNumericStringsOnlyInPlainDecimal(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	for _, v := range []string{" 0", "+0", "00", "0.0", "0x0", "1e3", ""} {
		ts.koCall(t, "folder/ls.cgi", map[string]any{"folder_id": v}, 400, "Invalid parameter folder_id #17")
	}
	ts.koCall(t, "file/ls.cgi", map[string]any{"folder_id": "99999999999999999999"}, 400, "Invalid parameter folder_id #17")
	// A string field keeps a numeric value as a string.
	r := ts.api(t, "folder/mkdir.cgi", map[string]any{"name": "123"})
	require.Equal(t, 200, r.Code, "%s", r.Body)
	assert.Equal(t, "123", r.JSON(t)["name"])
}

func TestNumberStringsRefuseRefusesNumericStrings(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, Options{NoRateLimits: true, NumberStrings: NumberStringsRefuse})
	u := ts.upload(t, 0, "a.txt", []byte("aaa"))
	for _, tc := range []struct {
		path  string
		body  map[string]any
		param string
	}{
		{"folder/ls.cgi", map[string]any{"folder_id": "0"}, "folder_id"},
		{"file/cp.cgi", map[string]any{"urls": []string{u}, "folder_id": "0"}, "folder_id"},
		{"remote/info.cgi", map[string]any{"id": "1"}, "id"},
		{"user/info.cgi", map[string]any{"page_limit": "50"}, "page_limit"},
	} {
		ts.koCall(t, tc.path, tc.body, 400, "Invalid parameter "+tc.param+" #17")
	}
	ts.ok(t, "folder/ls.cgi", map[string]any{"folder_id": 0})
	_, err := New(Options{Accounts: []Account{{Key: "k", Offer: OfferPremium}}, NumberStrings: "lenient"})
	assert.ErrorContains(t, err, `unknown number-strings reading "lenient"`)
}

func TestContentTypeRequired(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	r := do(t, http.MethodPost, ts.APIURL+"/folder/ls.cgi",
		map[string]string{"Authorization": "Bearer " + ts.Key}, strings.NewReader("{}"))
	assert.Equal(t, 400, r.Code)
	assert.Equal(t, "KO", r.JSON(t)["status"])
	r = do(t, http.MethodPost, ts.APIURL+"/folder/ls.cgi",
		map[string]string{"Authorization": "Bearer " + ts.Key, "Content-Type": "application/json; charset=utf-8"}, strings.NewReader("{}"))
	assert.Equal(t, 200, r.Code)
}

func TestMethodAndUnknownEndpoint(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	r := do(t, http.MethodGet, ts.APIURL+"/folder/ls.cgi",
		map[string]string{"Authorization": "Bearer " + ts.Key, "Content-Type": "application/json"}, nil)
	assert.Equal(t, 405, r.Code)
	assert.Equal(t, "KO", r.JSON(t)["status"])
	r = ts.api(t, "folder/list.cgi", "{}")
	assert.Equal(t, 404, r.Code)
	assert.Equal(t, "KO", r.JSON(t)["status"])
	r = do(t, http.MethodGet, ts.URL+"/nothing", nil, nil)
	assert.Equal(t, 404, r.Code)
}

func TestPrettyOutput(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	r := ts.api(t, "folder/ls.cgi", map[string]any{"pretty": 1})
	require.Equal(t, 200, r.Code)
	assert.Contains(t, string(r.Body), "\n  \"status\": \"OK\"")
	r = ts.api(t, "folder/ls.cgi", map[string]any{})
	assert.NotContains(t, string(r.Body[:len(r.Body)-1]), "\n")
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRequestLogMasksKey(t *testing.T) {
	t.Parallel()
	var log syncBuffer
	ts := NewTestServer(t, Options{NoRateLimits: true, Log: &log,
		Accounts: []Account{{Key: "SECRETKEY1234567890", Offer: OfferPremium}}})
	ts.ok(t, "folder/ls.cgi", map[string]any{})
	ts.apiKey(t, "ANOTHERSECRET999", "folder/ls.cgi", map[string]any{})
	out := log.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, out)
	assert.Contains(t, lines[0], "POST folder/ls.cgi 200 key=SEC***")
	assert.Contains(t, lines[1], "POST folder/ls.cgi 401 key=ANO***")
	assert.NotContains(t, out, "SECRETKEY1234567890")
	assert.NotContains(t, out, "ANOTHERSECRET999")
	assert.Equal(t, "tes***", maskKey("test-key"))
	assert.Equal(t, "a***", maskKey("abcdef"))
	assert.Equal(t, "-", maskKey(""))
}

// rawHTTP sends a request written out by hand, byte for byte, the way
// the API document's curl examples put it on the wire.
func rawHTTP(t *testing.T, ts *TestServer, req string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	_, err = io.WriteString(conn, req)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

func TestRawCurlShapedRequests(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	host := strings.TrimPrefix(ts.URL, "http://")
	post := func(path, body string) string {
		return fmt.Sprintf("POST /v1/%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n"+
			"Authorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
			path, host, ts.Key, len(body), body)
	}
	// curl -X POST .../user/info.cgi -H "Authorization: Bearer KEY" -H "Content-Type: application/json"
	resp, body := rawHTTP(t, ts, post("user/info.cgi", ""))
	require.Equal(t, 200, resp.StatusCode, "%s", body)
	assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	var info map[string]any
	require.NoError(t, json.Unmarshal(body, &info))
	assert.Equal(t, "OK", info["status"])
	assert.Equal(t, "test@example.com", info["email"])

	// curl ... upload/get_upload_server.cgi -d '{"pretty":1}' (the doc's example POSTs)
	resp, body = rawHTTP(t, ts, post("upload/get_upload_server.cgi", `{"pretty":1}`))
	require.Equal(t, 200, resp.StatusCode, "%s", body)
	var node map[string]any
	require.NoError(t, json.Unmarshal(body, &node))
	assert.Equal(t, host, node["url"])
	assert.Regexp(t, `^[A-Za-z0-9]{10}$`, node["id"])
	assert.NotContains(t, node, "status")

	// curl ... folder/mkdir.cgi -d '{"name":"curl dir","folder_id":0}'
	resp, body = rawHTTP(t, ts, post("folder/mkdir.cgi", `{"name":"curl dir","folder_id":0}`))
	require.Equal(t, 200, resp.StatusCode, "%s", body)
	assert.Contains(t, string(body), `"name":"curl dir"`)

	// curl ... folder/ls.cgi -d '{"folder_id":0}'
	resp, body = rawHTTP(t, ts, post("folder/ls.cgi", `{"folder_id":0}`))
	require.Equal(t, 200, resp.StatusCode)
	assert.Regexp(t, `^\{"folder_id":0,"status":"OK","size":null,"files":0,"name":"Root","sub_folders":`+
		`\[\{"id":\d{7},"create_date":"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d","name":"curl dir","pass":0\}\]\}`, string(body))

	// curl ... download/get_token.cgi -d '{"url":"https://1fichier.com/?xxxxxxxxxx","single":1}'
	resp, body = rawHTTP(t, ts, post("download/get_token.cgi", `{"url":"https://1fichier.com/?abcdefghij","single":1}`))
	assert.Equal(t, 404, resp.StatusCode)
	assert.JSONEq(t, `{"status":"KO","message":"Resource not found #469"}`, string(body))
}

func TestEveryDocumentedEndpointIsRouted(t *testing.T) {
	t.Parallel()
	for _, ep := range []string{
		"file/ls.cgi", "file/info.cgi", "file/rm.cgi", "file/mv.cgi", "file/cp.cgi", "file/rename.cgi",
		"file/chattr.cgi", "file/scan.cgi", "folder/ls.cgi", "folder/mkdir.cgi", "folder/rm.cgi",
		"folder/mv.cgi", "folder/share.cgi", "download/get_token.cgi", "upload/get_upload_server.cgi",
		"remote/request.cgi", "remote/ls.cgi", "remote/info.cgi", "user/info.cgi",
		"vouchers/ls.cgi", "vouchers/check.cgi", "vouchers/use.cgi",
	} {
		_, ok := apiRoutes[ep]
		assert.True(t, ok, ep)
	}
}
