package emulator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Fixture helpers: seed and inspect the emulator directly from Go,
// without API calls, so they neither count in Stats nor meet the rate
// rules. Files added this way are visible at once (no ListingDelay).

// AddAccount registers another account (a second user, a free account,
// ...). Its Email defaults as in Options.Accounts.
func (s *Server) AddAccount(a Account) error { return s.addAccount(a) }

func (s *Server) accountByKey(key string) (*Account, error) {
	s.acctMu.RLock()
	defer s.acctMu.RUnlock()
	a := s.accounts[key]
	if a == nil {
		return nil, fmt.Errorf("emulator: no account with that key")
	}
	return a, nil
}

// Mkdir creates folder name under parentID (0 = root) for key's account
// and returns its id.
func (s *Server) Mkdir(key string, parentID int64, name string) (int64, error) {
	a, err := s.accountByKey(key)
	if err != nil {
		return 0, err
	}
	if e := checkFolderName(name); e != nil {
		return 0, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.folder(a.Email, parentID) == nil {
		return 0, fmt.Errorf("emulator: no folder %d", parentID)
	}
	if s.childNamed(a.Email, parentID, name) != nil {
		return 0, errFolderExists
	}
	f := &folderMeta{ID: s.newFolderID(), Owner: a.Email, Parent: parentID, Name: name, Created: s.now()}
	s.st.Folders[f.ID] = f
	s.changed()
	return f.ID, nil
}

// PutFile stores data as file name in key's folder folderID and returns
// the file's URL ("https://1fichier.com/?<id>").
func (s *Server) PutFile(key string, folderID int64, name string, data []byte) (string, error) {
	return s.PutFileFrom(key, folderID, name, bytes.NewReader(data))
}

// PutFileFrom is PutFile streaming from r.
func (s *Server) PutFileFrom(key string, folderID int64, name string, r io.Reader) (string, error) {
	a, err := s.accountByKey(key)
	if err != nil {
		return "", err
	}
	if e := checkName(name); e != nil {
		return "", e
	}
	b, err := s.storeBlob(r, 0)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.folder(a.Email, folderID) == nil {
		_ = s.store.remove(b.id)
		return "", fmt.Errorf("emulator: no folder %d", folderID)
	}
	now := s.now()
	f := &fileMeta{
		ID: s.newFileID(), Owner: a.Email, Folder: folderID, Name: name, Size: b.size,
		Whirlpool: b.whirlpool, ContentType: contentTypeFor(name),
		Created: now, Visible: now, Blob: b.id,
	}
	s.st.Files[f.ID] = f
	s.changed()
	return fileURL(f.ID), nil
}

// ShareFolder shares key's folder publicly (as folder/share.cgi with
// share:1) and returns its "https://1fichier.com/dir/<id>" URL. A
// non-empty pass protects it.
func (s *Server) ShareFolder(key string, folderID int64, pass string) (string, error) {
	a, err := s.accountByKey(key)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.folder(a.Email, folderID)
	if f == nil {
		return "", fmt.Errorf("emulator: no folder %d", folderID)
	}
	if f.ShareID == "" {
		f.ShareID = s.newShareID()
	}
	f.SharePass = pass
	s.changed()
	return shareURL(f.ShareID), nil
}

// FileInfo describes a stored file, for assertions.
type FileInfo struct {
	URL         string
	Owner       string // account email; "" = anonymous
	FolderID    int64
	Name        string
	Size        int64
	Whirlpool   string // lowercase hex
	ContentType string
	Password    string
}

// ErrNotFound is returned by the lookup helpers for an unknown file.
var ErrNotFound = errors.New("emulator: file not found")

// Lookup returns the file with URL u.
func (s *Server) Lookup(u string) (FileInfo, error) {
	id, ok := parseFileURL(u)
	if !ok {
		return FileInfo{}, ErrNotFound
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.st.Files[id]
	if f == nil {
		return FileInfo{}, ErrNotFound
	}
	return FileInfo{URL: fileURL(f.ID), Owner: f.Owner, FolderID: f.Folder, Name: f.Name, Size: f.Size,
		Whirlpool: f.Whirlpool, ContentType: f.ContentType, Password: f.Pass}, nil
}

// Files returns key's files in folderID (-1 = all), oldest first,
// including those still hidden by ListingDelay.
func (s *Server) Files(key string, folderID int64) ([]FileInfo, error) {
	a, err := s.accountByKey(key)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []FileInfo
	for _, f := range s.filesIn(a.Email, folderID, false, s.now()) {
		out = append(out, FileInfo{URL: fileURL(f.ID), Owner: f.Owner, FolderID: f.Folder, Name: f.Name, Size: f.Size,
			Whirlpool: f.Whirlpool, ContentType: f.ContentType, Password: f.Pass})
	}
	return out, nil
}

// FileData returns the content of the file with URL u.
func (s *Server) FileData(u string) ([]byte, error) {
	id, ok := parseFileURL(u)
	if !ok {
		return nil, ErrNotFound
	}
	s.mu.Lock()
	f := s.st.Files[id]
	s.mu.Unlock()
	if f == nil {
		return nil, ErrNotFound
	}
	rd, err := s.store.open(f.Blob)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rd.Close() }()
	return io.ReadAll(rd)
}

// FileCount returns how many files the emulator holds, all accounts and
// anonymous uploads included.
func (s *Server) FileCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.st.Files)
}

// FileAccess is who may read a file besides its owner, as SetAccess
// sets it.
type FileAccess struct {
	Password string   // access password; "" = none
	Private  bool     // nobody but the owner
	Emails   []string // an ACL: only these accounts; nil = anyone
}

// SetAccess sets who may read the file with URL u besides its owner (as
// file/chattr.cgi would for the password and the ACL; a private file has
// no known API, see readableFile).
func (s *Server) SetAccess(u string, a FileAccess) error {
	id, ok := parseFileURL(u)
	if !ok {
		return ErrNotFound
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.st.Files[id]
	if f == nil {
		return ErrNotFound
	}
	f.Pass = a.Password
	f.Private = a.Private
	f.ACL = nil
	if len(a.Emails) > 0 {
		f.ACL = &fileACL{Email: append([]string(nil), a.Emails...)}
	}
	s.changed()
	return nil
}

// Public uploader: the account SeedPublic's files belong to. Its key is
// never printed; other accounts read its files by URL, as they would
// links someone posted.
const (
	publicUploaderKey   = "emulator-public-uploader"
	publicUploaderEmail = "uploader@emulator.invalid"
)

// SeedPublic makes sure the public uploader's root holds the files
// public-001.bin ... public-NNN.bin (a few bytes each, no password) and
// returns their URLs, so that every account can import them or get
// download tokens for them as for other people's links. It is
// idempotent: files already there (with DataDir) are reused.
func (s *Server) SeedPublic(n int) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	if _, err := s.accountByKey(publicUploaderKey); err != nil {
		if err := s.addAccount(Account{Key: publicUploaderKey, Email: publicUploaderEmail, Offer: OfferPremium}); err != nil {
			return nil, err
		}
	}
	have, err := s.Files(publicUploaderKey, 0)
	if err != nil {
		return nil, err
	}
	byName := map[string]string{}
	for _, f := range have {
		byName[f.Name] = f.URL
	}
	urls := make([]string, 0, n)
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("public-%03d.bin", i)
		u, ok := byName[name]
		if !ok {
			if u, err = s.PutFile(publicUploaderKey, 0, name, []byte(fmt.Sprintf("public file %d, shared by %s\n", i, publicUploaderEmail))); err != nil {
				return nil, err
			}
		}
		urls = append(urls, u)
	}
	return urls, nil
}
