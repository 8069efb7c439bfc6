package fichier

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
	"github.com/rclone-fichier/rclone-fichier/fstest/fichiertest"
)

// TestEndPageOfEmulatorMatchesJSON uploads two files through the API by
// hand, then reads end.pl twice: with "JSON: 1" and without, as the page
// users have met. The page must give what the JSON gives, less the
// checksum it does not carry; anonymous uploads have a removal link.
func TestEndPageOfEmulatorMatchesJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  bool
	}{{"account", true}, {"anonymous", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := fichiertest.Options()
			// Calls made back to back by hand, not paced like the backend's.
			opts.NoRateLimits = true
			srv := emulator.NewTestServer(t, opts)
			key := ""
			if tc.key {
				key = srv.Key
			}
			files := map[string]string{"résumé & co.txt": "first file", "b [2] #x.bin": "second, longer file"}
			endURL := uploadByHand(t, srv, key, files)

			var fromJSON api.EndUploadResponse
			require.NoError(t, json.Unmarshal(getEnd(t, srv, endURL, true), &fromJSON))
			require.Len(t, fromJSON.Links, len(files))

			page := getEnd(t, srv, endURL, false)
			require.True(t, isHTMLPage(page), "end.pl without the header answers its page:\n%s", page)
			fromPage, err := parseEndPage(page)
			require.NoError(t, err)

			want := make([]api.UploadedLink, len(fromJSON.Links))
			for i, l := range fromJSON.Links {
				assert.Equal(t, int64(len(files[l.Filename])), int64(l.Size), "size of %q", l.Filename)
				assert.Equal(t, !tc.key, l.Remove != "", "removal link of %q", l.Filename)
				l.Whirlpool = "" // not on the page
				want[i] = l
			}
			assert.Equal(t, want, fromPage)

			// The answer read either way gives the same links.
			links, err := decodeEndAnswer(page)
			require.NoError(t, err)
			assert.Equal(t, want, links)
		})
	}
}

// uploadByHand sends files (name to content) in one upload.cgi request,
// as key ("" for an anonymous upload), and returns the end.pl URL it
// redirects to.
func uploadByHand(t *testing.T, srv *emulator.TestServer, key string, files map[string]string) string {
	t.Helper()
	client := srv.Client()
	req, err := http.NewRequest("GET", srv.APIURL+"/upload/get_upload_server.cgi", nil)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	var node api.UploadServerResponse
	doJSON(t, client, req, &node)
	require.NotEmpty(t, node.URL)

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for name, data := range files {
		w, err := mw.CreateFormFile("file[]", name)
		require.NoError(t, err)
		_, err = io.WriteString(w, data)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	req, err = http.NewRequest("POST", "http://"+node.URL+"/upload.cgi?id="+node.ID, &body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	noRedirect := *client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirect.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	return "http://" + node.URL + resp.Header.Get("Location")
}

// getEnd reads end.pl at endURL, with the "JSON: 1" header or without.
func getEnd(t *testing.T, srv *emulator.TestServer, endURL string, asJSON bool) []byte {
	t.Helper()
	req, err := http.NewRequest("GET", endURL, nil)
	require.NoError(t, err)
	if asJSON {
		req.Header.Set("JSON", "1")
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	return body
}

func doJSON(t *testing.T, client *http.Client, req *http.Request, v any) {
	t.Helper()
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

// TestEndPageSavedTwoFiles reads a saved page of the shape a C# SDK whose
// CI uploads to the live service parses: a premium table among other
// tables, a header row, entities in the names, one removal link.
func TestEndPageSavedTwoFiles(t *testing.T) {
	page, err := os.ReadFile(filepath.Join("testdata", "end-premium.html"))
	require.NoError(t, err)
	links, err := parseEndPage(page)
	require.NoError(t, err)
	assert.Equal(t, []api.UploadedLink{
		{Filename: "Présentation finale.pdf", Size: 1048576, Download: "https://1fichier.com/?k3n9x0q2vb"},
		{Filename: "café & crème.txt", Size: 42, Download: "https://1fichier.com/?p7w2m4t8za", Remove: "https://1fichier.com/remove/p7w2m4t8za/Xy3Q"},
	}, links)
}

// endRow is a file row of the emulator's shape, for the cases below.
func endRow(name, size, id string) string {
	return fmt.Sprintf(`<tr><td class="normal">%s</td><td class="normal">%s</td>`+
		`<td class="normal"><a href="https://1fichier.com/?%s">https://1fichier.com/?%s</a></td><td class="normal"></td></tr>`, name, size, id, id)
}

// endHeader is the header row of end.pl's table, for the cases below.
const endHeader = `<tr><th>File name</th><th>Size</th><th>Download link</th><th>Removal link</th></tr>`

// oneLink is the answer of a page that lists one file.
func oneLink(name string, size int64, id, remove string) []api.UploadedLink {
	return []api.UploadedLink{{Filename: name, Size: api.Int(size), Download: "https://1fichier.com/?" + id, Remove: remove}}
}

// endPageCase is an end.pl page and the links it should be read as.
type endPageCase struct {
	name string
	page string
	want []api.UploadedLink
}

// endPageMarkupCases are pages whose HTML is written in other ways than
// the emulator's: the files are found all the same.
func endPageMarkupCases() []endPageCase {
	return []endPageCase{{
		name: "emulator shape",
		page: `<table class="premium">` + endHeader + endRow("a.txt", "5", "aaaaaaaaaa") + `</table>`,
		want: oneLink("a.txt", 5, "aaaaaaaaaa", ""),
	}, {
		name: "attributes in other order, quotes and case",
		page: `<HTML><BODY><Table Border=0 CLASS = 'wide  Premium' id=t><TR><TD CLASS=normal>a.txt</TD><TD>5</TD>` +
			`<TD><A TARGET=_blank HREF = "https://1fichier.com/?aaaaaaaaaa" >link</A></TD></TR></Table></BODY></HTML>`,
		want: oneLink("a.txt", 5, "aaaaaaaaaa", ""),
	}, {
		name: "white space around and inside cells",
		page: "<table class=\"premium\">\n\t<tr>\n\t\t<td>\n\t\t\tmy  file.txt \n\t\t</td>\n<td> 1\u00a0234 </td>\n" +
			"<td>\n<a href=\" https://1fichier.com/?aaaaaaaaaa \">x</a>\n</td>\n</tr>\n</table>",
		want: oneLink("my  file.txt", 1234, "aaaaaaaaaa", ""),
	}, {
		name: "entities in the name and the links",
		page: `<table class="premium">` + endRow("&Eacute;t&eacute; &lt;1&gt; &amp; &#x263A;.txt", "7", "aaaaaaaaaa") + `</table>`,
		want: oneLink("Été <1> & ☺.txt", 7, "aaaaaaaaaa", ""),
	}, {
		name: "header row of td cells",
		page: `<table class="premium"><tr><td>Name</td><td>Size</td><td>Link</td><td>Remove</td></tr>` + endRow("a.txt", "5", "aaaaaaaaaa") + `</table>`,
		want: oneLink("a.txt", 5, "aaaaaaaaaa", ""),
	}, {
		name: "thead and tbody",
		page: `<table class="premium"><thead>` + endHeader + `</thead><tbody>` + endRow("a.txt", "5", "aaaaaaaaaa") + `</tbody></table>`,
		want: oneLink("a.txt", 5, "aaaaaaaaaa", ""),
	}, {
		name: "other premium table first, nested table skipped",
		page: `<table class="premium"><tr><td>Offer</td><td>Price</td><td>Go</td></tr></table>` +
			`<table class="premium"><tr><td>a.txt</td><td>5</td><td><a href="https://1fichier.com/?aaaaaaaaaa">x</a></td>` +
			`<td><table><tr><td>x</td><td>1</td><td>https://1fichier.com/?bbbbbbbbbb</td></tr></table></td></tr></table>`,
		want: oneLink("a.txt", 5, "aaaaaaaaaa", ""),
	}, {
		name: "table with no file yet",
		page: `<table class="premium">` + endHeader + `</table>`,
		want: []api.UploadedLink{},
	}}
}

// endPageCellCases are rows whose cells say a file's link, removal link
// and size in other ways than the emulator's.
func endPageCellCases() []endPageCase {
	return []endPageCase{{
		name: "removal cell missing",
		page: `<table class="premium">` + endHeader + `<tr><td>a.txt</td><td>5</td><td><a href="https://1fichier.com/?aaaaaaaaaa">x</a></td></tr></table>`,
		want: oneLink("a.txt", 5, "aaaaaaaaaa", ""),
	}, {
		name: "removal link",
		page: `<table class="premium"><tr><td>a.txt</td><td>5</td><td><a href="https://1fichier.com/?aaaaaaaaaa">x</a></td>` +
			`<td><a href="https://1fichier.com/remove/aaaaaaaaaa/Ab1c">y</a></td></tr></table>`,
		want: oneLink("a.txt", 5, "aaaaaaaaaa", "https://1fichier.com/remove/aaaaaaaaaa/Ab1c"),
	}, {
		name: "links as text only",
		page: `<table class="premium"><tr><td>a.txt</td><td>5</td><td>https://1fichier.com/?aaaaaaaaaa</td>` +
			`<td>https://1fichier.com/remove/aaaaaaaaaa/Ab1c</td></tr></table>`,
		want: oneLink("a.txt", 5, "aaaaaaaaaa", "https://1fichier.com/remove/aaaaaaaaaa/Ab1c"),
	}, {
		name: "scheme-relative link",
		page: `<table class="premium"><tr><td>a.txt</td><td>5</td><td><a href="//1fichier.com/?aaaaaaaaaa">x</a></td></tr></table>`,
		want: oneLink("a.txt", 5, "aaaaaaaaaa", ""),
	}, {
		name: "size with a unit of bytes",
		page: `<table class="premium">` + endRow("a.txt", "5 octets", "aaaaaaaaaa") + `</table>`,
		want: oneLink("a.txt", 5, "aaaaaaaaaa", ""),
	}, {
		name: "size that cannot be exact",
		page: `<table class="premium">` + endRow("a.txt", "1.2 MB", "aaaaaaaaaa") + `</table>`,
		want: oneLink("a.txt", -1, "aaaaaaaaaa", ""),
	}, {
		name: "two files, a footer row skipped",
		page: `<table class="premium">` + endHeader + endRow("a.txt", "5", "aaaaaaaaaa") + endRow("b.txt", "6", "bbbbbbbbbb") +
			`<tr><td colspan="4">2 files</td></tr></table>`,
		want: append(oneLink("a.txt", 5, "aaaaaaaaaa", ""), oneLink("b.txt", 6, "bbbbbbbbbb", "")...),
	}}
}

func TestEndPageTolerance(t *testing.T) {
	for _, tc := range append(endPageMarkupCases(), endPageCellCases()...) {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseEndPage([]byte(tc.page))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestEndPageWithoutTableIsAnError(t *testing.T) {
	for _, tc := range []struct {
		name, page, want string
	}{
		{"error page", `<html><head><title>Upload error</title></head><body><h1>404</h1>` +
			`<p>Unknown or expired upload id</p></body></html>`, `its title is "Upload error"`},
		{"table of another class", `<html><body><p>Please wait</p><table class="normal"><tr><td>a.txt</td></tr></table>` +
			`</body></html>`, `it starts "Please wait a.txt"`},
		{"class in a script only", `<script>document.write('<table class="premium">')</script><p>x</p>`, `it starts "x"`},
		{"no text", `<html></html>`, "it has no text"},
		{"empty", " \n", "empty page"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			links, err := parseEndPage([]byte(tc.page))
			require.Error(t, err)
			assert.Nil(t, links)
			assert.Contains(t, err.Error(), tc.want)
			if tc.name != "empty" {
				assert.Contains(t, err.Error(), `no <table class="premium">`)
			}
		})
	}
}

func TestDecodeEndAnswerTakesEitherForm(t *testing.T) {
	want := []api.UploadedLink{{Filename: "a.txt", Size: 5, Download: "https://1fichier.com/?aaaaaaaaaa", Whirlpool: "ab"}}
	links, err := decodeEndAnswer([]byte(`{"incoming":0,"links":[{"download":"https://1fichier.com/?aaaaaaaaaa",` +
		`"filename":"a.txt","remove":"","size":"5","whirlpool":"ab"}]}`))
	require.NoError(t, err)
	assert.Equal(t, want, links)

	want[0].Whirlpool = ""
	links, err = decodeEndAnswer([]byte("\uFEFF\n  <!DOCTYPE html><table class=premium>" + endRow("a.txt", "5", "aaaaaaaaaa") + "</table>"))
	require.NoError(t, err)
	assert.Equal(t, want, links)

	_, err = decodeEndAnswer([]byte("Internal error"))
	assert.ErrorContains(t, err, "neither JSON nor an HTML page")
	assert.False(t, isHTMLPage([]byte(`  {"links":[]}`)))
	assert.True(t, isHTMLPage([]byte("\r\n<html>")))
}
