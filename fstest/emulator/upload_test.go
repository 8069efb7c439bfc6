package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGetUploadServer(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	// GET, as documented, with the JSON content type.
	host, id := ts.startUpload(t)
	assert.Equal(t, strings.TrimPrefix(ts.URL, "http://"), host, "bare host:port, no scheme")
	assert.Regexp(t, `^[A-Za-z0-9]{10}$`, id)
	// POST with {"pretty":1} also works (the doc's curl example).
	m := ts.ok(t, "upload/get_upload_server.cgi", map[string]any{"pretty": 1})
	assert.NotContains(t, m, "status")
	// Anonymous: no key needed.
	r := do(t, http.MethodGet, ts.APIURL+"/upload/get_upload_server.cgi", map[string]string{"Content-Type": "application/json"}, nil)
	assert.Equal(t, 200, r.Code)
	// Behind the proxy, a real-looking node name.
	req := httptest.NewRequest(http.MethodGet, "https://api.1fichier.com/v1/upload/get_upload_server.cgi", nil)
	req.Header.Set("Authorization", "Bearer "+ts.Key)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	ts.ServeHTTP(rec, req)
	require.Equal(t, 200, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), `"url":"up2.1fichier.com"`)
}

// whirlpool("abc"), the ISO/NESSIE test vector.
const whirlpoolABC = "4e2448a4c6f486bb16b6562c73b4020bf3043e3a731bce721ae1b303d97e6d4c" +
	"7181eebdb6c57e277d0e34957114cbd6c797fc9d95d8b582d225292076d4eef5"

func TestUploadFlow(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	dir := ts.mkdir(t, 0, "up")
	host, id := ts.startUpload(t)
	ct, body := multipartBody(t, "abc.txt", []byte("abc"), map[string]string{"did": fmt.Sprint(dir)})
	r := do(t, http.MethodPost, "http://"+host+"/upload.cgi?id="+id,
		map[string]string{"Authorization": "Bearer " + ts.Key, "Content-Type": ct}, bytes.NewReader(body))
	require.Equal(t, http.StatusFound, r.Code)
	assert.Equal(t, "/end.pl?xid="+id, r.Header.Get("Location"), "relative to the node")

	// Without the JSON header: HTML.
	r = do(t, http.MethodGet, "http://"+host+"/end.pl?xid="+id, nil, nil)
	require.Equal(t, 200, r.Code)
	assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/html"))
	assert.Contains(t, string(r.Body), "abc.txt")
	// JSON as a query parameter is not honoured by default (QuerySwitchesIgnore).
	r = do(t, http.MethodGet, "http://"+host+"/end.pl?xid="+id+"&JSON=1", nil, nil)
	assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/html"))

	r = do(t, http.MethodGet, "http://"+host+"/end.pl?xid="+id, map[string]string{"JSON": "1"}, nil)
	require.Equal(t, 200, r.Code)
	assert.Regexp(t, `"size":"3"`, string(r.Body), "size is a string in end.pl")
	var res uploadResult
	require.NoError(t, json.Unmarshal(r.Body, &res))
	require.Len(t, res.Links, 1)
	l := res.Links[0]
	assert.Equal(t, "abc.txt", l.Filename)
	assert.Equal(t, whirlpoolABC, l.Whirlpool, "Whirlpool, lowercase hex")
	assert.Equal(t, "", l.Remove, "no removal link when linked to an account")
	assert.Regexp(t, `^https://1fichier\.com/\?[a-z0-9]{10}$`, l.Download)

	fi, err := ts.Lookup(l.Download)
	require.NoError(t, err)
	assert.Equal(t, dir, fi.FolderID)
	assert.Equal(t, int64(3), fi.Size)
	ls := ts.ok(t, "file/ls.cgi", map[string]any{"folder_id": dir})
	assert.Equal(t, whirlpoolABC, ls["items"].([]any)[0].(map[string]any)["checksum"])

	// "JSON: 2" is the readable form.
	r = do(t, http.MethodGet, "http://"+host+"/end.pl?xid="+id, map[string]string{"JSON": "2"}, nil)
	assert.Contains(t, string(r.Body), "\n  \"links\"")
	// Unknown xid.
	r = do(t, http.MethodGet, "http://"+host+"/end.pl?xid=nosuchxid1", map[string]string{"JSON": "1"}, nil)
	assert.Equal(t, 404, r.Code)
}

func TestUploadInvalidDidMeansRoot(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	require.NoError(t, ts.AddAccount(Account{Key: "other", Offer: OfferPremium}))
	otherDir, err := ts.Mkdir("other", 0, "theirs")
	require.NoError(t, err)
	for _, did := range []string{"999999", "garbage", fmt.Sprint(otherDir)} {
		host, id := ts.startUpload(t)
		ct, body := multipartBody(t, "f-"+did, []byte("x"), map[string]string{"did": did})
		r := do(t, http.MethodPost, "http://"+host+"/upload.cgi?id="+id,
			map[string]string{"Authorization": "Bearer " + ts.Key, "Content-Type": ct}, bytes.NewReader(body))
		require.Equal(t, http.StatusFound, r.Code, "%s", r.Body)
	}
	files, err := ts.Files(ts.Key, 0)
	require.NoError(t, err)
	assert.Len(t, files, 3, "all in the root")
}

func TestUploadRequiresContentLength(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	host, id := ts.startUpload(t)
	ct, body := multipartBody(t, "chunked.txt", []byte("data"), nil)
	// An io.Reader of unknown size makes net/http use chunked encoding.
	req, err := http.NewRequest(http.MethodPost, "http://"+host+"/upload.cgi?id="+id, io.MultiReader(bytes.NewReader(body)))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+ts.Key)
	req.Header.Set("Content-Type", ct)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusLengthRequired, resp.StatusCode)
	assert.Equal(t, 0, ts.FileCount())
}

func TestUploadRejects(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, Options{NoRateLimits: true, MaxFileSize: 10})
	for _, tc := range []struct {
		name string
		file string
		data []byte
		code int
	}{
		{"empty file (stricter reading)", "empty.txt", nil, 400},
		{"over the per-file limit", "big.bin", bytes.Repeat([]byte("x"), 11), 413},
		{"forbidden character", "a<b>.txt", []byte("x"), 400},
		{"invalid UTF-8", "bad\xff.txt", []byte("x"), 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host, id := ts.startUpload(t)
			ct, body := multipartBody(t, tc.file, tc.data, nil)
			r := do(t, http.MethodPost, "http://"+host+"/upload.cgi?id="+id,
				map[string]string{"Authorization": "Bearer " + ts.Key, "Content-Type": ct}, bytes.NewReader(body))
			assert.Equal(t, tc.code, r.Code, "%s", r.Body)
		})
	}
	// Exactly at the limit is fine.
	ts.upload(t, 0, "ten.bin", bytes.Repeat([]byte("x"), 10))
	assert.Equal(t, 1, ts.FileCount())
	assert.Equal(t, int64(300e9), DefaultMaxFileSize)
	// Unknown upload id.
	ct, body := multipartBody(t, "x", []byte("x"), nil)
	r := do(t, http.MethodPost, ts.URL+"/upload.cgi?id=unknown123",
		map[string]string{"Authorization": "Bearer " + ts.Key, "Content-Type": ct}, bytes.NewReader(body))
	assert.Equal(t, 404, r.Code)
	// Not multipart.
	_, id := ts.startUpload(t)
	r = do(t, http.MethodPost, ts.URL+"/upload.cgi?id="+id,
		map[string]string{"Authorization": "Bearer " + ts.Key, "Content-Type": "text/plain"}, strings.NewReader("x"))
	assert.Equal(t, 400, r.Code)
}

// cutReader yields data, then fails as a dropped connection does.
type cutReader struct{ r io.Reader }

func (c *cutReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

func TestUploadCutShortLeavesNoFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := New(Options{NoRateLimits: true, DataDir: dir, Accounts: []Account{{Key: "k", Offer: OfferPremium}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	// Get a session.
	req := httptest.NewRequest(http.MethodGet, "/v1/upload/get_upload_server.cgi", nil)
	req.Header.Set("Authorization", "Bearer k")
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var node struct{ ID string }
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &node))

	// Two files, the body cut in the middle of the second one.
	var buf bytes.Buffer
	ct, first := multipartBody(t, "first.bin", bytes.Repeat([]byte("a"), 5000), nil)
	boundary := ct[strings.Index(ct, "boundary=")+len("boundary="):]
	buf.Write(first[:bytes.LastIndex(first, []byte("--"+boundary+"--"))])
	buf.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file[]\"; filename=\"second.bin\"\r\n\r\n")
	buf.Write(bytes.Repeat([]byte("b"), 5000))
	full := buf.Len() + 100
	req = httptest.NewRequest(http.MethodPost, "/upload.cgi?id="+node.ID, &cutReader{bytes.NewReader(buf.Bytes())})
	req.ContentLength = int64(full)
	req.Header.Set("Authorization", "Bearer k")
	req.Header.Set("Content-Type", ct)
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	assert.Equal(t, 400, rec.Code)
	assert.Equal(t, 0, s.FileCount(), "no file from a cut upload")
	blobs, err := os.ReadDir(filepath.Join(dir, "blobs"))
	require.NoError(t, err)
	assert.Empty(t, blobs, "no blob left on disk")
	// end.pl reports nothing.
	req = httptest.NewRequest(http.MethodGet, "/end.pl?xid="+node.ID, nil)
	req.Header.Set("JSON", "1")
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	assert.JSONEq(t, `{"incoming":0,"links":[]}`, rec.Body.String())
}

// uploadNode is a node and session from get_upload_server.cgi.
type uploadNode struct{ URL, ID string }

// anonymousUpload sends anon.txt with no key, and returns its node.
func anonymousUpload(t *testing.T, ts *TestServer) uploadNode {
	t.Helper()
	r := do(t, http.MethodGet, ts.APIURL+"/upload/get_upload_server.cgi", map[string]string{"Content-Type": "application/json"}, nil)
	var node uploadNode
	require.NoError(t, json.Unmarshal(r.Body, &node))
	ct, body := multipartBody(t, "anon.txt", []byte("anon"), nil)
	r = do(t, http.MethodPost, "http://"+node.URL+"/upload.cgi?id="+node.ID, map[string]string{"Content-Type": ct}, bytes.NewReader(body))
	require.Equal(t, http.StatusFound, r.Code)
	return node
}

func TestAnonymousUpload(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	node := anonymousUpload(t, ts)
	r := do(t, http.MethodGet, "http://"+node.URL+"/end.pl?xid="+node.ID, map[string]string{"JSON": "1"}, nil)
	var res uploadResult
	require.NoError(t, json.Unmarshal(r.Body, &res))
	require.Len(t, res.Links, 1)
	assert.Regexp(t, `^https://1fichier\.com/remove/[a-z0-9]{10}/[A-Za-z0-9]{4}$`, res.Links[0].Remove)
	files, _ := ts.Files(ts.Key, -1)
	assert.Empty(t, files, "not in the account")
	// Removable with its code.
	code := res.Links[0].Remove[strings.LastIndex(res.Links[0].Remove, "/")+1:]
	ts.ok(t, "file/rm.cgi", map[string]any{"files": []map[string]string{{"url": res.Links[0].Download, "code": code}}})
	assert.Equal(t, 0, ts.FileCount())
}

func TestUploadMultipleFilesAndDpass(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	host, id := ts.startUpload(t)
	var buf bytes.Buffer
	ct, one := multipartBody(t, "one.txt", []byte("1"), map[string]string{"dpass": "secret99"})
	boundary := ct[strings.Index(ct, "boundary=")+len("boundary="):]
	buf.Write(one[:bytes.LastIndex(one, []byte("--"+boundary+"--"))])
	buf.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file[]\"; " +
		"filename=\"two.txt\"\r\nContent-Type: application/octet-stream\r\n\r\n2\r\n--" + boundary + "--\r\n")
	r := do(t, http.MethodPost, "http://"+host+"/upload.cgi?id="+id,
		map[string]string{"Authorization": "Bearer " + ts.Key, "Content-Type": ct}, bytes.NewReader(buf.Bytes()))
	require.Equal(t, 302, r.Code, "%s", r.Body)
	r = do(t, http.MethodGet, "http://"+host+"/end.pl?xid="+id, map[string]string{"JSON": "1"}, nil)
	var res uploadResult
	require.NoError(t, json.Unmarshal(r.Body, &res))
	require.Len(t, res.Links, 2)
	fi, err := ts.Lookup(res.Links[1].Download)
	require.NoError(t, err)
	assert.Equal(t, "secret99", fi.Password)
}

func TestUploadQuota(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, Options{NoRateLimits: true, Accounts: []Account{{Key: "k", Offer: OfferPremium, ColdQuota: 5}}})
	ts.upload(t, 0, "a", []byte("1234"))
	host, id := ts.startUpload(t)
	ct, body := multipartBody(t, "b", []byte("12"), nil)
	r := do(t, http.MethodPost, "http://"+host+"/upload.cgi?id="+id,
		map[string]string{"Authorization": "Bearer k", "Content-Type": ct}, bytes.NewReader(body))
	assert.Equal(t, 403, r.Code)
	assert.Equal(t, 1, ts.FileCount())
	m := ts.ok(t, "user/info.cgi", nil)
	assert.Equal(t, float64(4), m["cold_storage"])
}

// A complete multipart form followed by the end of the connection, short
// of the Content-Length announced, is an incomplete upload: a real server
// waits for every announced byte before it takes the request.
func TestUploadShorterThanContentLengthLeavesNoFile(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, Options{NoRateLimits: true})
	host, id := ts.startUpload(t)
	ct, body := multipartBody(t, "short.bin", bytes.Repeat([]byte("s"), 1000), nil)

	conn, err := net.Dial("tcp", host)
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	_, err = fmt.Fprintf(conn, "POST /upload.cgi?id=%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer "+
		"%s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		id, host, ts.Key, ct, len(body)+500)
	require.NoError(t, err)
	_, err = conn.Write(body)
	require.NoError(t, err)
	require.NoError(t, conn.(*net.TCPConn).CloseWrite())
	_, _ = io.Copy(io.Discard, conn)

	assert.Equal(t, 0, ts.FileCount(), "a body shorter than its Content-Length stores nothing")
}

// endTable reads end.pl's HTML page the way the C# SDK does: the table
// with class="premium", its rows after the first, four cells each. It
// returns each row's cells as raw HTML.
func endTable(t *testing.T, page string) [][]string {
	t.Helper()
	table := regexp.MustCompile(`(?s)<table class="premium">(.*?)</table>`).FindStringSubmatch(page)
	require.NotNil(t, table, "no table with class premium in %s", page)
	rows := regexp.MustCompile(`(?s)<tr>(.*?)</tr>`).FindAllStringSubmatch(table[1], -1)
	require.NotEmpty(t, rows, "no header row")
	assert.NotContains(t, rows[0][1], "<td", "the first row is the header")
	cell := regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`)
	var out [][]string
	for _, row := range rows[1:] {
		var cells []string
		for _, c := range cell.FindAllStringSubmatch(row[1], -1) {
			cells = append(cells, c[1])
		}
		require.Len(t, cells, 4, "row %s", row[0])
		out = append(out, cells)
	}
	return out
}

var linkHref = regexp.MustCompile(`^<a href="([^"]*)">`)

func TestEndPLHTMLPageListsEveryFileAsClientsReadIt(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	host, id := ts.startUpload(t)
	ct, body := multipartFiles(t, "a.bin", "b&c.bin")
	r := do(t, http.MethodPost, "http://"+host+"/upload.cgi?id="+id,
		map[string]string{"Authorization": "Bearer " + ts.Key, "Content-Type": ct}, bytes.NewReader(body))
	require.Equal(t, http.StatusFound, r.Code, "%s", r.Body)
	r = do(t, http.MethodGet, "http://"+host+"/end.pl?xid="+id, map[string]string{"JSON": "1"}, nil)
	var res uploadResult
	require.NoError(t, json.Unmarshal(r.Body, &res))
	require.Len(t, res.Links, 2)

	r = do(t, http.MethodGet, "http://"+host+"/end.pl?xid="+id, nil, nil)
	require.Equal(t, http.StatusOK, r.Code)
	assert.Equal(t, "text/html; charset=utf-8", r.Header.Get("Content-Type"))
	rows := endTable(t, string(r.Body))
	require.Len(t, rows, 2, "one row per stored file")
	for i, row := range rows {
		want := res.Links[i]
		assert.Equal(t, html.EscapeString(want.Filename), row[0], "name")
		assert.Equal(t, want.Size, row[1], "size")
		m := linkHref.FindStringSubmatch(row[2])
		require.NotNil(t, m, "download cell %q", row[2])
		assert.Equal(t, want.Download, m[1])
		assert.Equal(t, "", row[3], "no removal link when linked to an account")
	}
	// pyOneFichierClient's reading: the first <td class="normal"><a href=...>
	// of each row is the download link.
	py := regexp.MustCompile(`<tr>.*?<td class="normal"><a href="([^"]+)">`)
	var found []string
	for _, m := range py.FindAllStringSubmatch(string(r.Body), -1) {
		found = append(found, m[1])
	}
	assert.Equal(t, []string{res.Links[0].Download, res.Links[1].Download}, found)
}

func TestEndPLHTMLPageHasRemovalLinkOfAnonymousUpload(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	node := anonymousUpload(t, ts)
	r := do(t, http.MethodGet, "http://"+node.URL+"/end.pl?xid="+node.ID, map[string]string{"JSON": "1"}, nil)
	var res uploadResult
	require.NoError(t, json.Unmarshal(r.Body, &res))
	require.Len(t, res.Links, 1)

	r = do(t, http.MethodGet, "http://"+node.URL+"/end.pl?xid="+node.ID, nil, nil)
	rows := endTable(t, string(r.Body))
	require.Len(t, rows, 1)
	m := linkHref.FindStringSubmatch(rows[0][3])
	require.NotNil(t, m, "removal cell %q", rows[0][3])
	assert.Equal(t, res.Links[0].Remove, m[1])
}

// uploadOne uploads one file under the test key and returns the upload
// node's host and the session id, for end.pl requests.
func (ts *TestServer) uploadOne(t *testing.T, name string, data []byte) (string, string) {
	t.Helper()
	host, id := ts.startUpload(t)
	ct, body := multipartBody(t, name, data, nil)
	r := do(t, http.MethodPost, "http://"+host+"/upload.cgi?id="+id,
		map[string]string{"Authorization": "Bearer " + ts.Key, "Content-Type": ct}, bytes.NewReader(body))
	require.Equal(t, http.StatusFound, r.Code, "%s", r.Body)
	return host, id
}

// endForm names the form of an end.pl answer: "html", "json",
// "json-readable" or "export".
func endForm(t *testing.T, r rawResp) string {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Code, "%s", r.Body)
	switch ct := r.Header.Get("Content-Type"); {
	case strings.HasPrefix(ct, "text/html"):
		return "html"
	case strings.HasPrefix(ct, "text/plain"):
		return "export"
	case strings.HasPrefix(ct, "application/json"):
		if bytes.Contains(r.Body, []byte("\n  ")) {
			return "json-readable"
		}
		return "json"
	default:
		t.Fatalf("unexpected Content-Type %q", ct)
		return ""
	}
}

func TestEndPLSwitchesByHeaderAndByQueryPerReading(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		query  string
		header map[string]string
		ignore string // answer with QuerySwitchesIgnore (the default)
		honour string // answer with QuerySwitchesHonour
	}{
		{"no switch", "", nil, "html", "html"},
		{"JSON header", "", map[string]string{"JSON": "1"}, "json", "json"},
		{"Json header as in rclone #5152", "", map[string]string{"Json": "1"}, "json", "json"},
		{"JSON 2 header", "", map[string]string{"JSON": "2"}, "json-readable", "json-readable"},
		{"EXPORT header", "", map[string]string{"EXPORT": "1"}, "export", "export"},
		{"JSON wins over EXPORT", "", map[string]string{"JSON": "1", "EXPORT": "1"}, "json", "json"},
		{"unknown JSON value", "", map[string]string{"JSON": "3"}, "html", "html"},
		{"JSON query", "&JSON=1", nil, "html", "json"},
		{"JSON 2 query", "&JSON=2", nil, "html", "json-readable"},
		{"EXPORT query", "&EXPORT=1", nil, "html", "export"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for reading, want := range map[QuerySwitches]string{QuerySwitchesIgnore: tc.ignore, QuerySwitchesHonour: tc.honour} {
				ts := NewTestServer(t, Options{NoRateLimits: true, QuerySwitches: reading})
				host, id := ts.uploadOne(t, "a.bin", []byte("abc"))
				r := do(t, http.MethodGet, "http://"+host+"/end.pl?xid="+id+tc.query, tc.header, nil)
				assert.Equal(t, want, endForm(t, r), "reading %s", reading)
			}
		})
	}
}

func TestQuerySwitchesDefaultIsIgnore(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	host, id := ts.uploadOne(t, "a.bin", []byte("abc"))
	r := do(t, http.MethodGet, "http://"+host+"/end.pl?xid="+id+"&JSON=1", nil, nil)
	assert.Equal(t, "html", endForm(t, r))
	_, err := New(Options{Accounts: []Account{{Key: "k", Offer: OfferPremium}}, QuerySwitches: "both"})
	assert.ErrorContains(t, err, `unknown query-switches reading "both"`)
}

func TestEndPLExportLinesNameEachFile(t *testing.T) {
	t.Parallel()
	ts := NewTestServer(t, noLimits())
	host, id := ts.uploadOne(t, "a.bin", []byte("abc"))
	r := do(t, http.MethodGet, "http://"+host+"/end.pl?xid="+id, map[string]string{"JSON": "1"}, nil)
	var res uploadResult
	require.NoError(t, json.Unmarshal(r.Body, &res))
	require.Len(t, res.Links, 1)
	fileID := strings.TrimPrefix(res.Links[0].Download, "https://1fichier.com/?")

	r = do(t, http.MethodGet, "http://"+host+"/end.pl?xid="+id, map[string]string{"EXPORT": "1"}, nil)
	assert.Equal(t, "a.bin;3;"+fileID+";;0\n", string(r.Body))
}

// TestEndMemoryReadings uploads a file and asks end.pl for the session
// after 3 minutes (scaled): under the strict reading, 2 minutes after
// its last upload, the session is forgotten; under the documented one
// it is kept 2 hours.
func TestEndMemoryReadings(t *testing.T) {
	t.Parallel()
	for reading, want := range map[EndMemory]int{EndMemoryMinutes: http.StatusNotFound, EndMemoryHours: http.StatusOK, "": http.StatusNotFound} {
		clock := newFakeClock()
		opts := noLimits()
		opts.Now, opts.TimeScale, opts.EndMemory = clock.Now, 100, reading
		ts := NewTestServer(t, opts)
		host, id := ts.startUpload(t)
		ct, body := multipartBody(t, "a.txt", []byte("a"), nil)
		r := do(t, http.MethodPost, "http://"+host+"/upload.cgi?id="+id,
			map[string]string{"Authorization": "Bearer " + ts.Key, "Content-Type": ct}, bytes.NewReader(body))
		require.Equal(t, http.StatusFound, r.Code)
		clock.Advance(time.Minute / 100)
		r = do(t, http.MethodGet, "http://"+host+"/end.pl?xid="+id, map[string]string{"JSON": "1"}, nil)
		assert.Equal(t, http.StatusOK, r.Code, "%q: kept a minute", reading)
		clock.Advance(2 * time.Minute / 100)
		r = do(t, http.MethodGet, "http://"+host+"/end.pl?xid="+id, map[string]string{"JSON": "1"}, nil)
		assert.Equal(t, want, r.Code, "%q: after 3 minutes", reading)
	}
	_, err := ParseEndMemory("days")
	assert.ErrorContains(t, err, `unknown end-memory reading "days"`)
}
