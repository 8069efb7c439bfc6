package fichier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/lib/rest"
)

// end.pl answers JSON only when asked with the "JSON: 1" header, and it has
// been seen answering its HTML page anyway (rclone #4382 in 2020, #7971 in
// 2024). That page still names every stored file: clients that parse it
// (a C# SDK whose CI uploads to the live service, a Python and a Java
// client) read a table with class="premium", a header row, then one row
// per file with its name, size, download link and removal link, in that
// order. Reading it lets an upload that worked be taken as one instead of
// being looked for in a listing.

// uploadNode is an upload server and the session ID to use on it.
type uploadNode struct {
	root string // scheme://host
	id   string
}

// sessionForgotten reports whether end.pl answered that it does not know
// the session: it forgets one within minutes, says its result page (the
// API documentation says 2 hours), so asking again cannot help, and what
// was stored is looked for in a fresh listing instead.
func sessionForgotten(err error) bool {
	var apiErr *api.Error
	return errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusNotFound
}

// endAnswer asks end.pl once what the upload session of node stored.
// One attempt per call: the callers' polls are the retry loops. JSON is
// asked for, but end.pl has been seen answering its HTML page instead
// (rclone #4382, #7971): its table is read then, at no extra call.
func (f *Fs) endAnswer(ctx context.Context, node *uploadNode) ([]api.UploadedLink, error) {
	opts := rest.Opts{
		Method:       "GET",
		RootURL:      node.root,
		Parameters:   url.Values{"xid": {node.id}},
		ExtraHeaders: map[string]string{"JSON": "1"},
	}
	var body []byte
	if err := f.call(ctx, &apiCall{path: api.UploadEnd, opts: opts, response: &body, retry: retryByCaller}); err != nil {
		return nil, err
	}
	return decodeEndAnswer(body)
}

// uploadedFile turns an end.pl link into a listing entry. end.pl gives no
// date or content type: the date is now.
func uploadedFile(link api.UploadedLink, name string) *api.File {
	return &api.File{
		URL:      link.Download,
		Filename: name,
		Size:     link.Size,
		Date:     apiTime(time.Now()),
		Checksum: strings.ToLower(link.Whirlpool),
	}
}

// decodeEndAnswer reads the files of an upload from end.pl's answer body,
// whichever form it came in: the JSON asked for or the HTML page.
func decodeEndAnswer(body []byte) ([]api.UploadedLink, error) {
	if isHTMLPage(body) {
		return parseEndPage(body)
	}
	var resp api.EndUploadResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("couldn't read end.pl's answer, neither JSON nor an HTML page: %w", err)
	}
	return resp.Links, nil
}

// isHTMLPage reports whether an answer body is a web page rather than
// JSON. The body is looked at, not the Content-Type: a JSON answer starts
// with "{" whatever its header says, and a page with "<".
func isHTMLPage(body []byte) bool {
	body = bytes.TrimPrefix(body, []byte("\uFEFF"))
	body = bytes.TrimLeftFunc(body, unicode.IsSpace)
	return len(body) > 0 && body[0] == '<'
}

// parseEndPage reads the uploaded files from end.pl's HTML page: the rows
// of its table with class="premium" that hold a download link in their
// third cell. Each gives the name (first cell, entities decoded), the size
// (second cell), the download link and the removal link (fourth cell; ""
// when the cell is empty or missing, as for uploads linked to an account).
// Header rows (of <th> cells, or without a link) and other rows without a
// link are skipped.
//
// The page gives no Whirlpool checksum: Whirlpool is "". Its size format is
// not known for sure; a size that is not a plain count of bytes (say
// "1.2 MB") cannot be exact, and Size is -1 then.
//
// A page without the table is an error naming the page (its title). A
// table that lists no file gives no links and no error, as the JSON's
// "links":[] does.
func parseEndPage(body []byte) ([]api.UploadedLink, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errors.New("end.pl answered an empty page")
	}
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("couldn't parse end.pl's HTML page: %w", err)
	}
	tables := premiumTables(doc)
	if len(tables) == 0 {
		return nil, fmt.Errorf("end.pl answered an HTML page without the table of uploaded files (no <table class=\"premium\">): %s", pageSummary(doc))
	}
	// The first table that lists a file is the one: a page may style other
	// tables the same way.
	for _, table := range tables {
		if links := tableLinks(table); len(links) > 0 {
			return links, nil
		}
	}
	return []api.UploadedLink{}, nil
}

// premiumTables returns the tables under n whose class list has
// "premium" (in any case), in document order.
func premiumTables(n *html.Node) []*html.Node {
	var tables []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && d.DataAtom == atom.Table && hasClass(d, "premium") {
			tables = append(tables, d)
		}
	}
	return tables
}

// hasClass reports whether n's class attribute lists class.
func hasClass(n *html.Node, class string) bool {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == "class" {
			for _, c := range strings.Fields(a.Val) {
				if strings.EqualFold(c, class) {
					return true
				}
			}
		}
	}
	return false
}

// tableLinks reads the file rows of table.
func tableLinks(table *html.Node) []api.UploadedLink {
	var links []api.UploadedLink
	for _, row := range tableRows(table) {
		cells := rowCells(row)
		if len(cells) < 3 || cells[2].DataAtom == atom.Th {
			continue
		}
		download := cellLink(cells[2])
		if download == "" {
			continue
		}
		link := api.UploadedLink{
			Filename: strings.Trim(textOf(cells[0]), htmlSpace),
			Size:     api.Int(pageSize(textOf(cells[1]))),
			Download: download,
		}
		if len(cells) > 3 {
			link.Remove = cellLink(cells[3])
		}
		links = append(links, link)
	}
	return links
}

// tableRows returns table's own rows: its <tr> children and those of its
// <thead>, <tbody> and <tfoot> (the parser puts rows written directly
// under <table> into a <tbody>), not the rows of tables nested in cells.
func tableRows(table *html.Node) []*html.Node {
	var rows []*html.Node
	for c := range table.ChildNodes() {
		switch c.DataAtom {
		case atom.Tr:
			rows = append(rows, c)
		case atom.Thead, atom.Tbody, atom.Tfoot:
			for r := range c.ChildNodes() {
				if r.DataAtom == atom.Tr {
					rows = append(rows, r)
				}
			}
		}
	}
	return rows
}

// rowCells returns row's <td> and <th> cells.
func rowCells(row *html.Node) []*html.Node {
	var cells []*html.Node
	for c := range row.ChildNodes() {
		if c.Type == html.ElementNode && (c.DataAtom == atom.Td || c.DataAtom == atom.Th) {
			cells = append(cells, c)
		}
	}
	return cells
}

// cellLink returns the web link a cell holds: the href of its first link,
// else its text if that is a link; "" if it holds none.
func cellLink(cell *html.Node) string {
	for d := range cell.Descendants() {
		if d.Type == html.ElementNode && d.DataAtom == atom.A {
			for _, a := range d.Attr {
				if a.Namespace == "" && a.Key == "href" {
					if u := webLink(a.Val); u != "" {
						return u
					}
				}
			}
		}
	}
	return webLink(textOf(cell))
}

// webLink returns s trimmed if it is an absolute http(s) link, with
// https added to a scheme-relative one ("//1fichier.com/?id"), else "".
func webLink(s string) string {
	s = strings.Trim(s, htmlSpace)
	if strings.HasPrefix(s, "//") {
		s = "https:" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (!strings.EqualFold(u.Scheme, "https") && !strings.EqualFold(u.Scheme, "http")) {
		return ""
	}
	return s
}

// htmlSpace is what HTML counts as white space around a cell's text.
const htmlSpace = " \t\n\f\r"

// pageSize reads a size cell: a count of bytes, perhaps with digit groups
// spaced ("1 234", with any kind of space) and a byte unit ("B", "bytes",
// "o", "octets"). Anything else (another unit, a decimal) gives -1.
func pageSize(s string) int64 {
	// unicode.IsSpace covers no-break spaces and U+202F, the narrow one
	// French digit groups use.
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	lower := strings.ToLower(s)
	for _, unit := range []string{"bytes", "octets", "b", "o"} {
		if strings.HasSuffix(lower, unit) {
			s = s[:len(s)-len(unit)]
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// textOf returns the text under n, entities decoded, without scripts and
// styles.
func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch {
		case n.Type == html.TextNode:
			b.WriteString(n.Data)
		case n.Type == html.ElementNode && (n.DataAtom == atom.Script || n.DataAtom == atom.Style):
		default:
			for c := range n.ChildNodes() {
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}

// pageSummary names a page in an error: its title, or the start of its
// text.
func pageSummary(doc *html.Node) string {
	for d := range doc.Descendants() {
		if d.Type == html.ElementNode && d.DataAtom == atom.Title {
			if title := strings.Join(strings.Fields(textOf(d)), " "); title != "" {
				return fmt.Sprintf("its title is %q", title)
			}
		}
	}
	var words []string
	for d := range doc.Descendants() {
		if d.Type == html.TextNode && (d.Parent == nil || (d.Parent.DataAtom != atom.Script && d.Parent.DataAtom != atom.Style)) {
			words = append(words, strings.Fields(d.Data)...)
		}
	}
	text := strings.Join(words, " ")
	if r := []rune(text); len(r) > 100 {
		text = string(r[:100]) + "..."
	}
	if text == "" {
		return "it has no text"
	}
	return fmt.Sprintf("it starts %q", text)
}
