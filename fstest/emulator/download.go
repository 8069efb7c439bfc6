package emulator

import (
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// download/get_token.cgi and the download host (/dl/<token>).

type dlToken struct {
	file    string // file id
	single  bool
	used    bool
	inline  bool
	expires time.Time
}

type getTokenReq struct {
	URL        string `json:"url"`
	Inline     int    `json:"inline"`
	CDN        int    `json:"cdn"`
	RestrictIP int    `json:"restrict_ip"`
	Single     int    `json:"single"`
	Pass       string `json:"pass"`
	NoSSL      int    `json:"no_ssl"`
}

type getTokenResp struct {
	Status string `json:"status"`
	URL    string `json:"url"`
}

func (c *call) getToken() (any, *apiError) {
	var req getTokenReq
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	if req.URL == "" {
		return nil, errMissingParam("url")
	}
	for _, v := range []int{req.Inline, req.CDN, req.Single, req.NoSSL} {
		if v != 0 && v != 1 {
			return nil, errBadParam("flag")
		}
	}
	if req.RestrictIP < 0 || req.RestrictIP > 2 {
		return nil, errBadParam("restrict_ip")
	}
	if req.CDN == 1 && c.acct.CDNCredits <= 0 {
		// Assumed text: the doc only says CDN use spends credits.
		return nil, ko(http.StatusForbidden, "Not enough CDN credits #911")
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	f, e := c.readableFile(req.URL, req.Pass)
	if e != nil {
		return nil, e
	}
	var tok string
	for {
		tok = c.s.randString(16, mixedAlnum)
		if c.s.tokens[tok] == nil {
			break
		}
	}
	for t, d := range c.s.tokens {
		if c.now.After(d.expires) {
			delete(c.s.tokens, t)
		}
	}
	c.s.tokens[tok] = &dlToken{
		file: f.ID, single: req.Single == 1, inline: req.Inline == 1,
		// Observed: "officially only valid for 5 minutes" (JD); SW and
		// the C# SDK agree.
		expires: c.now.Add(c.s.tokenLifetime()),
	}
	return getTokenResp{Status: "OK", URL: c.downloadURL(tok, req.NoSSL == 1)}, nil
}

// downloadURL builds the token's URL: a real-looking a-N.1fichier.com
// name in proxy mode, ForeignDownloadHost if set, else our own host.
func (c *call) downloadURL(tok string, noSSL bool) string {
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	host := c.r.Host
	switch {
	case c.s.opts.ForeignDownloadHost != "":
		host = c.s.opts.ForeignDownloadHost
	case isFichierHost(host):
		host = "a-4.1fichier.com"
		scheme = "https"
		if noSSL {
			scheme = "http"
		}
	}
	return fmt.Sprintf("%s://%s/dl/%s", scheme, host, tok)
}

// serveDownload serves /dl/<token>. No API key is needed or looked at.
//
// Unknown tokens answer 404; expired or already-used single tokens
// answer 410 Gone (assumed: the real codes are unknown; SW lists 410 among
// the errors clients meet, and it lets a client tell "ask for a new
// token" from "no such file").
func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	tok := strings.TrimPrefix(r.URL.Path, "/dl/")
	now := s.now()
	s.mu.Lock()
	t := s.tokens[tok]
	var f *fileMeta
	gone := ""
	if t != nil {
		switch {
		case now.After(t.expires):
			gone = refusedExpiredToken
		case t.single && t.used:
			gone = refusedUsedToken
		default:
			// single:1 forbids sub-requests: the first request, whatever it
			// is, uses the token up (SW "single-use"; our reading: one HTTP
			// request).
			t.used = true
			f = s.st.Files[t.file]
		}
	}
	s.mu.Unlock()
	switch {
	case t == nil:
		s.stats.downloadRefused(refusedUnknownToken)
		writeDownloadError(w, http.StatusNotFound, "Unknown download link")
		return
	case gone != "":
		s.stats.downloadRefused(gone)
		writeDownloadError(w, http.StatusGone, "This download link has expired")
		return
	case f == nil:
		s.stats.downloadRefused(refusedFileNotFound)
		writeDownloadError(w, http.StatusNotFound, "File not found")
		return
	}
	rd, err := s.store.open(f.Blob)
	if err != nil {
		s.stats.downloadRefused(refusedFileNotFound)
		writeDownloadError(w, http.StatusNotFound, "File not found")
		return
	}
	defer func() { _ = rd.Close() }()
	disp := "attachment"
	if t.inline || f.Inline == 1 {
		disp = "inline"
	}
	w.Header().Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": f.Name}))
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("Accept-Ranges", "bytes")
	// ServeContent implements Range (206, Content-Range) and answers 416
	// for an unsatisfiable range, as the real host does for resumes.
	http.ServeContent(w, r, "", f.Created, rd)
}

func writeDownloadError(w http.ResponseWriter, code int, msg string) {
	body := fmt.Sprintf("<html><head><title>%d</title></head><body><p>%s</p></body></html>\n", code, html.EscapeString(msg))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}
