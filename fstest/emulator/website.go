package emulator

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The website's public shared-folder page, /dir/<id>. No API key is
// needed or looked at.

// dirEntry is one file of GET /dir/<id>?json=1 [obs JD, rclone]. There
// is no checksum or date here.
type dirEntry struct {
	Filename string `json:"filename"`
	Link     string `json:"link"`
	Size     int64  `json:"size"`
	Password int    `json:"password"`
	ACL      int    `json:"acl"`
}

func (s *Server) serveDir(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/dir/")
	// rclone POSTs "json=1&pass=..." as a form; JD POSTs "pass=..." to the
	// "?json=1" URL. ParseForm merges both places.
	_ = r.ParseForm()
	wantJSON := r.Form.Get("json") == "1"
	pass := r.PostForm.Get("pass")
	now := s.now()
	s.mu.Lock()
	f := s.folderByShare(id)
	var entries []dirEntry
	var sharePass, name string
	if f != nil {
		sharePass, name = f.SharePass, f.Name
		for _, x := range s.filesIn(f.Owner, f.ID, true, now) {
			if len(entries) >= s.maxListItems() {
				break
			}
			entries = append(entries, dirEntry{
				Filename: x.Name, Link: fileURL(x.ID), Size: x.Size,
				Password: b2i(x.Pass != ""), ACL: b2i(x.ACL != nil),
			})
		}
	}
	s.mu.Unlock()
	if f == nil {
		// Observed (JD): a folder that does not exist gives HTTP 404.
		writeDownloadError(w, http.StatusNotFound, "This folder does not exist")
		return
	}
	if sharePass != "" && pass != sharePass {
		// Observed (JD, rclone): without the right password even
		// ?json=1 returns the HTML page with the password form.
		writeDirForm(w, id, r.Method == http.MethodPost && pass != "")
		return
	}
	if entries == nil {
		entries = []dirEntry{}
	}
	if wantJSON {
		writeJSON(w, http.StatusOK, entries, false)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><title>%s - 1fichier.com</title></head><body>\n<table>\n", html.EscapeString(name))
	for _, e := range entries {
		fmt.Fprintf(&b, "<tr><td><a href=\"%s\">%s</a></td><td>%d</td></tr>\n", html.EscapeString(e.Link), html.EscapeString(e.Filename), e.Size)
	}
	b.WriteString("</table></body></html>\n")
	writeHTML(w, http.StatusOK, b.String())
}

func writeDirForm(w http.ResponseWriter, id string, wrong bool) {
	msg := ""
	if wrong {
		msg = "<p class=\"bloc2\">Invalid password</p>\n"
	}
	body := fmt.Sprintf(`<!DOCTYPE html>
<html><head><title>Protected folder - 1fichier.com</title></head><body>
%s<form method="post" action="/dir/%s">
<p>This folder is protected by a password.</p>
<input type="password" name="pass">
<input type="submit" value="Send">
</form>
</body></html>
`, msg, html.EscapeString(id))
	writeHTML(w, http.StatusOK, body)
}

func writeHTML(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}
