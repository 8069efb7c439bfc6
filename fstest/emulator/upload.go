package emulator

import (
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// The upload flow [doc api.html excerpt; obs rclone]:
//
//  1. API: upload/get_upload_server.cgi -> {"url":"<host>","id":"<xid>"}
//  2. node: POST /upload.cgi?id=<xid>, multipart file[] (+ did ...)
//     -> 302 Location: /end.pl?xid=<xid>
//  3. node: GET /end.pl?xid=<xid> with "JSON: 1" -> {"incoming":0,"links":[...]}

// Upload-session windows [para SW]: uploads may be sent for 4 h, and
// the end.pl report is kept 2 h after the last upload (EndMemoryHours).
// Not scaled by TimeScale (they are not rate rules).
const (
	uploadWindow = 4 * time.Hour
	reportWindow = 2 * time.Hour
)

// shortReportWindow is how long end.pl answers under EndMemoryMinutes:
// the result page says it "will not be accessible within some minutes",
// and the shortest reading of "some minutes" is the strictest. Unlike
// the documented 2 hours it is scaled by TimeScale, so sped-up tests
// meet sessions 1fichier has forgotten.
const shortReportWindow = 2 * time.Minute

// EndMemory is a reading of how long end.pl answers for an upload
// session after its last upload: the API documentation says 2 hours, the
// result page itself (seen twice against the live service) that it
// will be gone "within some minutes".
type EndMemory string

// The two readings of end.pl's memory.
const (
	// EndMemoryMinutes, the default and the stricter reading: end.pl
	// forgets a session shortReportWindow (scaled) after its last upload.
	EndMemoryMinutes EndMemory = "minutes"
	// EndMemoryHours: end.pl answers for 2 hours, as documented.
	EndMemoryHours EndMemory = "hours"
)

// ParseEndMemory reads an EndMemory from its name; "" is EndMemoryMinutes.
func ParseEndMemory(s string) (EndMemory, error) {
	return parseReading(s, "end-memory reading", EndMemoryMinutes, EndMemoryHours)
}

// reportWindow returns how long end.pl answers after a session's last
// upload, under the server's reading.
func (s *Server) reportWindow() time.Duration {
	if s.endMemory == EndMemoryHours {
		return reportWindow
	}
	return s.dur(shortReportWindow)
}

type endLink struct {
	Download  string `json:"download"`
	Filename  string `json:"filename"`
	Remove    string `json:"remove"`
	Size      string `json:"size"` // observed: a string here (rclone ParseInt)
	Whirlpool string `json:"whirlpool"`
}

type uploadSession struct {
	id      string
	key     string // key that asked for the node; "" = anonymous
	created time.Time
	last    time.Time
	links   []endLink
}

// ---------------------------------------------------------------------
// upload/get_upload_server.cgi

// getUploadServerResp has no "status" key [doc].
type getUploadServerResp struct {
	URL string `json:"url"`
	ID  string `json:"id"`
}

func (c *call) getUploadServer() (any, *apiError) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	for id, ss := range c.s.sessions {
		if c.now.Sub(ss.created) > uploadWindow+reportWindow {
			delete(c.s.sessions, id)
		}
	}
	var id string
	for {
		// "10 random alphanumeric characters" [para SW]; mixed case as
		// in the observed "Fhl1aZERQv" (rclone #5152).
		id = c.s.randString(10, mixedAlnum)
		if c.s.sessions[id] == nil {
			break
		}
	}
	c.s.sessions[id] = &uploadSession{id: id, key: c.key, created: c.now}
	if c.acct == nil {
		c.s.sessions[id].key = ""
	}
	// The node is a bare host name, no scheme [doc]. In proxy mode it is
	// a real-looking 1fichier name; otherwise our own host:port.
	host := c.r.Host
	if isFichierHost(host) {
		host = "up2.1fichier.com"
	}
	return getUploadServerResp{URL: host, ID: id}, nil
}

// isFichierHost reports whether a request's Host (with or without a port)
// is a 1fichier name, i.e. the request came through the proxy.
func isFichierHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	return IsInterceptedHost(host)
}

// ---------------------------------------------------------------------
// upload.cgi

// writeNodeError answers an upload-node error. The node is a web page,
// not the JSON API, so errors are short HTML pages (assumed).
func writeNodeError(w http.ResponseWriter, code int, msg string) {
	body := fmt.Sprintf("<html><head><title>Upload error</title></head><body><h1>%d</h1><p>%s</p></body></html>\n",
		code, html.EscapeString(msg))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// pendingFile is an uploaded part stored but not yet committed.
type pendingFile struct {
	blob        string
	name        string
	size        int64
	whirlpool   string
	contentType string
}

func (s *Server) newBlobID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "b" + s.randString(20, lowerAlnum)
}

// serveUpload answers POST /upload.cgi?id=<xid>: auth, the rate gate,
// the multipart form, the quota, then the commit and a 302 to end.pl.
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeNodeError(w, http.StatusMethodNotAllowed, "POST only")
		return
	}
	now := s.now()
	s.mu.Lock()
	ss := s.sessions[r.URL.Query().Get("id")]
	s.mu.Unlock()
	if ss == nil || now.Sub(ss.created) > uploadWindow {
		writeNodeError(w, http.StatusNotFound, "Unknown or expired upload id")
		return
	}
	acct, e := s.nodeAuth(r, ss)
	if e != nil {
		writeKO(w, e)
		return
	}
	form, nerr := s.readUploadForm(r)
	if nerr == nil {
		nerr = s.commitUpload(ss, acct, form, now)
	}
	switch {
	case nerr != nil && bodyTimedOut(r):
		writeBodyTimeout(w)
		return
	case nerr != nil:
		writeNodeError(w, nerr.code, nerr.msg)
		return
	}
	// [obs] 302 to a path relative to the node.
	loc := "/end.pl?xid=" + ss.id
	w.Header().Set("Location", loc)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusFound)
	_, _ = fmt.Fprintf(w, "<html><body><a href=\"%s\">Upload complete</a></body></html>\n", loc)
}

// nodeError is an upload-node refusal: an HTTP code and a short text,
// answered as an HTML page (writeNodeError).
type nodeError struct {
	code int
	msg  string
}

// nodeAuth decides whose account gets the files and applies the rate
// gate. Auth on the node itself decides: a request without it is an
// anonymous upload [doc: Bearer, Cookie or Basic; only Bearer is
// emulated]. The gate counts the call for the key that authenticated,
// or else for the key that opened the session. acct is nil for an
// anonymous upload.
func (s *Server) nodeAuth(r *http.Request, ss *uploadSession) (*Account, *apiError) {
	acct, key, aerr := s.authenticate(r)
	if aerr != nil && aerr != errNotAuth {
		return nil, aerr
	}
	gateKey := ss.key
	if acct != nil {
		gateKey = key
	}
	if gateKey != "" {
		if e := s.gate(gateKey, r); e != nil {
			return nil, e
		}
	}
	return acct, nil
}

// uploadForm is what one upload.cgi request carried.
type uploadForm struct {
	files []pendingFile
	did   int64  // destination folder
	dpass string // password for the files
}

// discard removes the stored parts of a refused upload.
func (f *uploadForm) discard(s *Server) {
	for _, p := range f.files {
		_ = s.store.remove(p.blob)
	}
}

// readUploadForm checks the request's size and reads its multipart form,
// storing each file part. On error nothing is kept.
func (s *Server) readUploadForm(r *http.Request) (*uploadForm, *nodeError) {
	// [doc] Content-Length is required and chunked encoding refused.
	if r.ContentLength < 0 || len(r.TransferEncoding) > 0 {
		return nil, &nodeError{http.StatusLengthRequired, "Content-Length required"}
	}
	if r.ContentLength > DefaultMaxRequestSize {
		return nil, &nodeError{http.StatusRequestEntityTooLarge, "Upload limited to 500GB"}
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, &nodeError{http.StatusBadRequest, "multipart/form-data expected"}
	}
	form := &uploadForm{}
	nerr := s.readUploadParts(mr, form)
	// [inf] A server reading by Content-Length (as the front nginx does)
	// only sees a request once all its bytes came in: a body that ends
	// before Content-Length, even after a complete multipart form, is a
	// failed upload and nothing is kept.
	if nerr == nil {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			nerr = &nodeError{http.StatusBadRequest, "Incomplete upload"}
		}
	}
	switch {
	case nerr != nil:
	case len(form.files) == 0:
		nerr = &nodeError{http.StatusBadRequest, "No file received"}
	case len(form.files) > 500: // [para SW] 500 files per upload
		nerr = &nodeError{http.StatusBadRequest, "Too many files (500 max)"}
	}
	if nerr != nil {
		form.discard(s)
		return nil, nerr
	}
	return form, nil
}

// readUploadParts reads the form's parts into form, storing file parts
// as blobs as they stream.
func (s *Server) readUploadParts(mr *multipart.Reader, form *uploadForm) *nodeError {
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			// The body was cut short or malformed: nothing is kept.
			return &nodeError{http.StatusBadRequest, "Incomplete upload"}
		}
		switch {
		case part.FormName() == "file[]" && part.FileName() != "":
			pf, nerr := s.receiveFile(rawFileName(part), part)
			if nerr != nil {
				return nerr
			}
			form.files = append(form.files, pf)
		case part.FormName() == "did":
			v, _ := io.ReadAll(io.LimitReader(part, 64))
			form.did, _ = strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
		case part.FormName() == "dpass":
			v, _ := io.ReadAll(io.LimitReader(part, 1024))
			form.dpass = string(v)
		default:
			// domain, mail, mails, message, user, pass: accepted, unused.
			_, _ = io.Copy(io.Discard, part)
		}
		_ = part.Close()
	}
}

// commitUpload checks the quota and adds the form's files to acct's
// folder (or as anonymous files when acct is nil), recording their
// links in the session for end.pl. On error nothing is kept.
func (s *Server) commitUpload(ss *uploadSession, acct *Account, form *uploadForm, now time.Time) *nodeError {
	s.mu.Lock()
	defer s.mu.Unlock()
	owner := ""
	folderID := int64(0)
	if acct != nil {
		owner = acct.Email
		// [doc] "An invalid id silently means the root."
		if form.did != 0 && s.folder(owner, form.did) != nil {
			folderID = form.did
		}
		var total int64
		for _, p := range form.files {
			total += p.size
		}
		if s.usedBytes(owner)+total > acct.ColdQuota {
			form.discard(s)
			return &nodeError{http.StatusForbidden, "Not enough space"}
		}
	}
	for _, p := range form.files {
		f := &fileMeta{
			ID: s.newFileID(), Owner: owner, Folder: folderID, Name: p.name,
			Size: p.size, Whirlpool: p.whirlpool, ContentType: p.contentType,
			Created: now, Visible: now.Add(s.dur(s.opts.ListingDelay)),
			Blob: p.blob, Pass: form.dpass,
		}
		link := endLink{
			Download: fileURL(f.ID), Filename: f.Name, Size: strconv.FormatInt(f.Size, 10), Whirlpool: f.Whirlpool,
		}
		if owner == "" {
			// Anonymous uploads get a removal link [para SW: empty when the
			// upload is linked to an account; the link form is uncertain].
			f.RemoveCode = s.randString(4, mixedAlnum)
			link.Remove = "https://1fichier.com/remove/" + f.ID + "/" + f.RemoveCode
		}
		s.st.Files[f.ID] = f
		ss.links = append(ss.links, link)
	}
	ss.last = now
	s.changed()
	return nil
}

// rawFileName returns the part's filename as sent. (Part.FileName
// strips directories, which would hide a "/" the service refuses.)
func rawFileName(p *multipart.Part) string {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		return p.FileName()
	}
	return params["filename"]
}

// errEmptyFile: whether the server rejects 0-byte files is unconfirmed
// (rclone has refused to send them since 2019); we reject them.
const errEmptyFile = "Empty files are not allowed"

// receiveFile streams one file part into a new blob, computing its size
// and Whirlpool on the way. On failure it leaves nothing behind.
func (s *Server) receiveFile(name string, part io.Reader) (pendingFile, *nodeError) {
	if e := checkName(name); e != nil {
		_, _ = io.Copy(io.Discard, part)
		return pendingFile{}, &nodeError{http.StatusBadRequest, e.msg}
	}
	b, err := s.storeBlob(part, s.maxFileSize())
	switch {
	case errors.Is(err, errBlobStorage):
		return pendingFile{}, &nodeError{http.StatusInternalServerError, "storage error"}
	case errors.Is(err, errBlobTooBig):
		return pendingFile{}, &nodeError{http.StatusRequestEntityTooLarge, "File too big (300GB max)"}
	case err != nil:
		return pendingFile{}, &nodeError{http.StatusBadRequest, "Incomplete upload"}
	case b.size == 0:
		_ = s.store.remove(b.id)
		return pendingFile{}, &nodeError{http.StatusBadRequest, errEmptyFile}
	}
	return pendingFile{
		blob: b.id, name: name, size: b.size, whirlpool: b.whirlpool,
		contentType: contentTypeFor(name),
	}, nil
}

// contentTypeFor guesses a MIME type from the name's extension.
func contentTypeFor(name string) string {
	if t := mime.TypeByExtension(strings.ToLower(path.Ext(name))); t != "" {
		if mt, _, err := mime.ParseMediaType(t); err == nil {
			return mt
		}
	}
	return "application/octet-stream"
}

// resetMidUpload acts out FaultResetMidUpload: read about half of the
// body, then reset the connection. Nothing is stored.
func (s *Server) resetMidUpload(w http.ResponseWriter, r *http.Request) {
	half := r.ContentLength / 2
	if half <= 0 {
		half = 1
	}
	_, _ = io.CopyN(io.Discard, r.Body, half)
	resetConn(w, true)
}

// ---------------------------------------------------------------------
// end.pl

type endResp struct {
	Incoming int       `json:"incoming"`
	Links    []endLink `json:"links"`
}

func (s *Server) serveEnd(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeNodeError(w, http.StatusMethodNotAllowed, "GET only")
		return
	}
	now := s.now()
	xid := r.URL.Query().Get("xid")
	s.mu.Lock()
	ss := s.sessions[xid]
	var links []endLink
	if ss != nil {
		links = append([]endLink{}, ss.links...)
	}
	s.mu.Unlock()
	if ss == nil || (!ss.last.IsZero() && now.Sub(ss.last) > s.reportWindow()) || now.Sub(ss.created) > uploadWindow+reportWindow {
		writeNodeError(w, http.StatusNotFound, "Unknown or expired upload id")
		return
	}
	if ss.key != "" {
		if e := s.gate(ss.key, r); e != nil {
			writeKO(w, e)
			return
		}
	}
	fault := injectedFault(r)
	mode := s.endMode(r)
	if fault == FaultEndHTML {
		mode = endHTML
	}
	switch {
	case fault == FaultEndEmptyLinks:
		links = nil
	case fault == FaultEndShort && len(links) > 0:
		links = links[:len(links)-1]
	}
	switch mode {
	case endHTML:
		writeEndHTML(w, links)
	case endExport:
		writeEndExport(w, links)
	default:
		if links == nil {
			links = []endLink{}
		}
		writeJSON(w, http.StatusOK, endResp{Incoming: 0, Links: links}, mode == endJSONReadable)
	}
}

// QuerySwitches is a reading of end.pl's export switches, JSON and
// EXPORT. Clients send them as request headers [obs rclone, PSH]; SW
// lists them as query parameters (end.pl?xid=...&JSON=1), which no
// client is known to have used.
type QuerySwitches string

// The two readings of the export switches.
const (
	// QuerySwitchesIgnore, the default: only the headers switch the
	// answer, and a query parameter gets the HTML page. This is the
	// stricter reading: the notes call a server taking either form the
	// safe one to emulate, but a client that passes here against the
	// query form could fail on the live service, while the header form
	// is what working clients send.
	QuerySwitchesIgnore QuerySwitches = "ignore"
	// QuerySwitchesHonour: "JSON=1", "JSON=2" and "EXPORT=1" in the query
	// work as the headers do (SW's reading).
	QuerySwitchesHonour QuerySwitches = "honour"
)

// ParseQuerySwitches reads a QuerySwitches from its name; "" is
// QuerySwitchesIgnore.
func ParseQuerySwitches(s string) (QuerySwitches, error) {
	return parseReading(s, "query-switches reading", QuerySwitchesIgnore, QuerySwitchesHonour)
}

// endFormat is the form of end.pl's answer.
type endFormat int

const (
	endHTML         endFormat = iota // no switch: the HTML page
	endJSON                          // JSON: 1
	endJSONReadable                  // JSON: 2, the readable debug form [para SW]
	endExport                        // EXPORT: 1, CSV lines [PSH]
)

// endMode picks end.pl's answer form from the JSON and EXPORT switches:
// headers always (observed: rclone sends "JSON: 1", #5152 shows
// "Json: 1"; plowshare sends "EXPORT: 1"), query parameters only with
// QuerySwitchesHonour. JSON wins over EXPORT when both are given
// (assumed).
func (s *Server) endMode(r *http.Request) endFormat {
	get := func(name string) string {
		if v := strings.TrimSpace(r.Header.Get(name)); v != "" {
			return v
		}
		if s.querySwitches == QuerySwitchesHonour {
			return strings.TrimSpace(r.URL.Query().Get(name))
		}
		return ""
	}
	switch get("JSON") {
	case "1":
		return endJSON
	case "2":
		return endJSONReadable
	}
	if get("EXPORT") == "1" {
		return endExport
	}
	return endHTML
}

// writeEndExport answers end.pl's EXPORT form: one line per file,
// "filename;size;download_id;remove_id;domain_id" [PSH; the real lines
// may carry more fields after these, which are unknown]. download_id is
// the id in the file's URL, remove_id the code of its removal link
// (empty for an upload linked to an account) and domain_id always 0:
// the upload form's "domain" is not emulated. How a ";" in a name is
// escaped is unknown; it is written as is.
func writeEndExport(w http.ResponseWriter, links []endLink) {
	var b strings.Builder
	for _, l := range links {
		id, _ := parseFileURL(l.Download)
		removeID := ""
		if l.Remove != "" {
			removeID = path.Base(l.Remove)
		}
		fmt.Fprintf(&b, "%s;%s;%s;%s;0\n", l.Filename, l.Size, id, removeID)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, b.String())
}

// writeEndHTML answers end.pl's HTML page, given without the JSON (or
// EXPORT) switch. Its shape is what clients that parse it read [obs
// CS, PY, JAVA]: a table with class="premium", a header row first, then
// one row per file with four cells in this order: name, size, download
// link, removal link. The C# SDK (whose CI uploads to the live service)
// takes the rows after the first directly under the table, so there is
// no <thead>/<tbody>; pyOneFichierClient finds the download link as
// <td class="normal"><a href="...">, so every file cell has that class
// and each link is the cell's first child. The page's size format is
// unknown; we write the byte count. The removal cell is empty for an
// upload linked to an account, as end.pl's JSON "remove" is.
func writeEndHTML(w http.ResponseWriter, links []endLink) {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><title>1fichier.com: Upload result</title></head><body>\n")
	b.WriteString("<p>This page will not be accessible within some minutes.</p>\n")
	b.WriteString("<table class=\"premium\">\n")
	b.WriteString("<tr><th>File name</th><th>Size</th><th>Download link</th><th>Removal link</th></tr>\n")
	for _, l := range links {
		fmt.Fprintf(&b, "<tr><td class=\"normal\">%s</td><td class=\"normal\">%s</td>%s%s</tr>\n",
			html.EscapeString(l.Filename), html.EscapeString(l.Size), linkCell(l.Download), linkCell(l.Remove))
	}
	b.WriteString("</table></body></html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, b.String())
}

// linkCell is one link cell of end.pl's HTML table; an empty link gives
// an empty cell.
func linkCell(link string) string {
	if link == "" {
		return "<td class=\"normal\"></td>"
	}
	l := html.EscapeString(link)
	return "<td class=\"normal\"><a href=\"" + l + "\">" + l + "</a></td>"
}
