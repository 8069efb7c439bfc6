package emulator

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Paris must resolve on machines without zoneinfo
	"unicode/utf8"
)

// The metadata model. Everything here is guarded by Server.mu and saved
// as one JSON document after each change when DataDir is set.

type fileACL struct {
	IP      []string `json:"ip,omitempty"`
	Country []string `json:"country,omitempty"`
	Email   []string `json:"email,omitempty"`
	Premium int      `json:"premium,omitempty"`
}

type fileMeta struct {
	ID          string    `json:"id"`
	Owner       string    `json:"owner"` // account email; "" = anonymous upload
	Folder      int64     `json:"folder"`
	Name        string    `json:"name"`
	Size        int64     `json:"size"`
	Whirlpool   string    `json:"whirlpool"`
	ContentType string    `json:"content_type"`
	Created     time.Time `json:"created"`
	Visible     time.Time `json:"visible"` // listings show the file from then on
	Blob        string    `json:"blob"`
	Pass        string    `json:"pass,omitempty"`
	Description string    `json:"description,omitempty"`
	NoSSL       int       `json:"no_ssl,omitempty"`
	Inline      int       `json:"inline,omitempty"`
	CDN         int       `json:"cdn,omitempty"`
	ACL         *fileACL  `json:"acl,omitempty"`
	RemoveCode  string    `json:"remove_code,omitempty"`
	ScanDate    time.Time `json:"scan_date,omitempty"`
	Private     bool      `json:"private,omitempty"` // only the owner may read it (set by fixtures only)
}

type groupShare struct {
	Email     string `json:"email"`
	RW        int    `json:"rw"`
	HideLinks int    `json:"hide_links"`
}

type folderMeta struct {
	ID        int64        `json:"id"`
	Owner     string       `json:"owner"`
	Parent    int64        `json:"parent"`
	Name      string       `json:"name"`
	Created   time.Time    `json:"created"`
	ShareID   string       `json:"share_id,omitempty"` // public /dir/<id>, "" = not shared
	SharePass string       `json:"share_pass,omitempty"`
	Shares    []groupShare `json:"shares,omitempty"`
}

type userSettings map[string]int64

type state struct {
	Folders  map[int64]*folderMeta   `json:"folders"` // every folder but the roots
	Roots    map[string]*folderMeta  `json:"roots"`   // by owner email, created on first need
	Files    map[string]*fileMeta    `json:"files"`
	Remote   map[int64]*remoteJob    `json:"remote"`
	Users    map[string]userSettings `json:"users"`              // user/info.cgi settings by email
	Vouchers map[string]*voucherMeta `json:"vouchers,omitempty"` // by code
}

func newState() *state {
	return &state{
		Folders:  map[int64]*folderMeta{},
		Roots:    map[string]*folderMeta{},
		Files:    map[string]*fileMeta{},
		Remote:   map[int64]*remoteJob{},
		Users:    map[string]userSettings{},
		Vouchers: map[string]*voucherMeta{},
	}
}

func loadState(st store) (*state, error) {
	b, err := st.loadMeta()
	if err != nil {
		return nil, fmt.Errorf("emulator: load metadata: %w", err)
	}
	s := newState()
	if b == nil {
		return s, nil
	}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("emulator: load metadata: %w", err)
	}
	// A map saved as null (an older or hand-written document) comes back
	// nil; the code relies on every map being there.
	s.Folders = orEmpty(s.Folders)
	s.Roots = orEmpty(s.Roots)
	s.Files = orEmpty(s.Files)
	s.Remote = orEmpty(s.Remote)
	s.Users = orEmpty(s.Users)
	s.Vouchers = orEmpty(s.Vouchers)
	// A job that was running when the emulator stopped never finishes.
	for _, j := range s.Remote {
		if j.Done.IsZero() {
			j.Done = j.Requested
			for i := range j.Results {
				if j.Results[i].Status == "" {
					j.Results[i].Status = "KO"
					j.Results[i].Message = "Interrupted"
				}
			}
		}
	}
	return s, nil
}

// orEmpty returns m, or an empty map if m is nil.
func orEmpty[M ~map[K]V, K comparable, V any](m M) M {
	if m == nil {
		return M{}
	}
	return m
}

// saveLocked persists the metadata (s.mu held).
func (s *Server) saveLocked() error {
	if !s.store.persistent() {
		return nil
	}
	b, err := json.MarshalIndent(s.st, "", " ")
	if err != nil {
		return err
	}
	return s.store.saveMeta(b)
}

// changed is called after each mutation (s.mu held). A failure to
// persist is logged; the in-memory state stays authoritative.
func (s *Server) changed() {
	if s.closed {
		// A closed Server must not overwrite the metadata of a newer
		// Server opened on the same directory.
		return
	}
	if err := s.saveLocked(); err != nil && s.opts.Log != nil {
		s.logMu.Lock()
		_, _ = fmt.Fprintf(s.opts.Log, "emulator: save metadata: %v\n", err)
		s.logMu.Unlock()
	}
}

// ---------------------------------------------------------------------
// Formats

var paris = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return loc
}()

// fmtDate renders a time as the API does: "YYYY-MM-DD HH:MM:SS" in
// French local time, no zone (SW; confirmed by the C# SDK converting
// from CET).
func fmtDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(paris).Format("2006-01-02 15:04:05")
}

func parseDate(s string) (time.Time, error) {
	return time.ParseInLocation("2006-01-02 15:04:05", s, paris)
}

// fileURL is the permanent URL of a file. Always 1fichier.com, whatever
// host served the request: clients use it as an identifier.
func fileURL(id string) string { return "https://1fichier.com/?" + id }

var fileIDRe = regexp.MustCompile(`^[a-z0-9]{5,20}$`)

// fileAliasDomains are the domains of api.html's domain table; a file
// URL may use any of them.
var fileAliasDomains = map[string]bool{
	"1fichier.com": true, "alterupload.com": true, "cjoint.net": true,
	"desfichiers.com": true, "dfichiers.com": true, "megadl.fr": true,
	"mesfichiers.org": true, "piecejointe.net": true, "pjointe.com": true,
	"tenvoi.com": true, "dl4free.com": true,
}

// parseFileURL extracts the id from "https://1fichier.com/?<id>", also
// accepting "www.", http and extra "&name=value" parameters (observed:
// "&af=..." affiliate tags).
func parseFileURL(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return "", false
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	if !fileAliasDomains[host] || (u.Path != "/" && u.Path != "") {
		return "", false
	}
	id, _, _ := strings.Cut(u.RawQuery, "&")
	if !fileIDRe.MatchString(id) {
		return "", false
	}
	return id, true
}

const (
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	mixedAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// randString returns n characters of alphabet (s.mu held).
func (s *Server) randString(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[s.rnd.Intn(len(alphabet))]
	}
	return string(b)
}

// newFileID returns a fresh 10-character lowercase id, the length seen
// on current links (s.mu held).
func (s *Server) newFileID() string {
	for {
		id := s.randString(10, lowerAlnum)
		if _, used := s.st.Files[id]; !used {
			return id
		}
	}
}

// newFolderID returns a fresh 7-digit folder id, like the ids seen in
// rclone #5152 (s.mu held).
func (s *Server) newFolderID() int64 {
	for {
		id := int64(1000000 + s.rnd.Intn(9000000))
		if _, used := s.st.Folders[id]; !used {
			return id
		}
	}
}

// newShareID returns a fresh 8-character mixed-case id for /dir/ links
// (observed form, JD) (s.mu held).
func (s *Server) newShareID() string {
	for {
		id := s.randString(8, mixedAlnum)
		if s.folderByShare(id) == nil {
			return id
		}
	}
}

// ---------------------------------------------------------------------
// Lookups (s.mu held)

// folder returns owner's folder id (0 = root), or nil.
func (s *Server) folder(owner string, id int64) *folderMeta {
	if id == 0 {
		r := s.st.Roots[owner]
		if r == nil {
			r = &folderMeta{ID: 0, Owner: owner, Name: "Root"}
			s.st.Roots[owner] = r
		}
		return r
	}
	f := s.st.Folders[id]
	if f == nil || f.Owner != owner {
		return nil
	}
	return f
}

func (s *Server) folderByShare(shareID string) *folderMeta {
	for _, f := range s.st.Folders {
		if f.ShareID == shareID {
			return f
		}
	}
	for _, f := range s.st.Roots {
		if f.ShareID == shareID {
			return f
		}
	}
	return nil
}

// subFolders returns the children of owner's folder id, oldest first.
func (s *Server) subFolders(owner string, id int64) []*folderMeta {
	var out []*folderMeta
	for _, f := range s.st.Folders {
		if f.Owner == owner && f.Parent == id {
			out = append(out, f)
		}
	}
	sortOldestFirst(out, func(f *folderMeta) (time.Time, int64) { return f.Created, f.ID })
	return out
}

// sortOldestFirst sorts items by their creation time, ties broken by
// their unique key so that listings come in the same order every time.
func sortOldestFirst[T any, K cmp.Ordered](items []T, by func(T) (created time.Time, key K)) {
	sort.Slice(items, func(i, j int) bool {
		ci, ki := by(items[i])
		cj, kj := by(items[j])
		if !ci.Equal(cj) {
			return ci.Before(cj)
		}
		return ki < kj
	})
}

// filesIn returns the files of owner's folder id (-1 = all), oldest
// first. With visibleOnly, files still inside the ListingDelay are left
// out.
func (s *Server) filesIn(owner string, id int64, visibleOnly bool, now time.Time) []*fileMeta {
	var out []*fileMeta
	for _, f := range s.st.Files {
		if f.Owner != owner || (id >= 0 && f.Folder != id) {
			continue
		}
		if visibleOnly && now.Before(f.Visible) {
			continue
		}
		out = append(out, f)
	}
	sortOldestFirst(out, func(f *fileMeta) (time.Time, string) { return f.Created, f.ID })
	return out
}

// folderOrRoot is the folder a request names by an optional id: absent
// is the root.
func folderOrRoot(id *int64) int64 {
	if id == nil {
		return 0
	}
	return *id
}

// folderPath returns "A/B" for owner's folder id ("" for the root).
func (s *Server) folderPath(owner string, id int64) string {
	var parts []string
	for id != 0 {
		f := s.st.Folders[id]
		if f == nil || f.Owner != owner {
			break
		}
		parts = append([]string{f.Name}, parts...)
		id = f.Parent
	}
	return strings.Join(parts, "/")
}

// isAncestor reports whether folder a is b or one of b's ancestors.
func (s *Server) isAncestor(a, b int64) bool {
	for {
		if a == b {
			return true
		}
		if b == 0 {
			return false
		}
		f := s.st.Folders[b]
		if f == nil {
			return false
		}
		b = f.Parent
	}
}

// removeFileLocked deletes a file and, when no copy shares it, its blob.
func (s *Server) removeFileLocked(f *fileMeta) {
	delete(s.st.Files, f.ID)
	for _, o := range s.st.Files {
		if o.Blob == f.Blob {
			return
		}
	}
	_ = s.store.remove(f.Blob)
}

// usedBytes is the storage used by owner's files.
func (s *Server) usedBytes(owner string) int64 {
	var n int64
	for _, f := range s.st.Files {
		if f.Owner == owner {
			n += f.Size
		}
	}
	return n
}

// ---------------------------------------------------------------------
// Names

// maxFolderName is the folder-name limit for folder/mkdir.cgi [para SW].
const maxFolderName = 250

// badNameChars are rejected in file and folder names. Observed: rclone's
// encoder escapes \ < > " ' $ ` because 1fichier rejects or mangles
// them; the 2019 report (rclone #3298) adds / and ´. We take the union
// and reject rather than mangle (stricter).
const badNameChars = "\\<>\"'$`/´"

// checkName validates a file or folder name.
func checkName(name string) *apiError {
	switch {
	case name == "":
		return errMissingParam("name")
	case !utf8.ValidString(name):
		return ko(400, "Invalid name: not UTF-8 #25")
	case strings.ContainsAny(name, badNameChars):
		return ko(400, "Invalid name: forbidden character #26")
	case strings.TrimSpace(name) != name:
		return ko(400, "Invalid name: leading or trailing space #27")
	case strings.ContainsAny(name, "\x00\r\n"):
		return ko(400, "Invalid name: control character #28")
	}
	return nil
}
