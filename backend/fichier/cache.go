package fichier

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"sync"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/fs/config"
)

// account is what every Fs using the same API key (and API URL) shares in
// this process: the call budget, the folder listings, the account info and
// the download tokens. 1fichier counts per key and per IP, so sharing is the
// only way two remotes, or a mount beside a copy, stay inside the limits.
type account struct {
	limits   *limits
	listings *listCache

	mu         sync.Mutex
	userInfo   *api.UserInfo
	userInfoAt time.Time
	tokens     map[string]downloadToken // by file URL
	tokenFetch sync.Mutex               // held while a token is fetched
}

// downloadToken is a download URL from get_token.cgi and when to stop using it.
type downloadToken struct {
	url     string
	expires time.Time
}

var (
	accountsMu sync.Mutex
	accounts   = make(map[[sha256.Size]byte]*account)
)

// accountFor returns the shared state for opt's key and API URL, making it
// on first use from opt's rate settings. Only a hash of the key is kept,
// as the map key and in the name of the file where the rate clocks are
// shared with other processes, so neither shows the secret.
func accountFor(opt *Options) *account {
	id := sha256.Sum256([]byte(opt.APIURL + "\x00" + opt.APIKey))
	accountsMu.Lock()
	defer accountsMu.Unlock()
	acc := accounts[id]
	if acc == nil {
		statePath := filepath.Join(config.GetCacheDir(), "fichier", hex.EncodeToString(id[:16])+".json")
		acc = &account{
			limits:   newLimits(opt.APIRate, time.Duration(opt.FloodWait), time.Duration(opt.ListInterval), statePath),
			listings: newListCache(),
			tokens:   make(map[string]downloadToken),
		}
		accounts[id] = acc
	}
	return acc
}

// token returns a still valid download URL for fileURL, if we have one.
func (a *account) token(fileURL string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.tokens[fileURL]
	if !ok || time.Now().After(t.expires) {
		delete(a.tokens, fileURL)
		return "", false
	}
	return t.url, true
}

// setToken remembers a download URL for fileURL until expires.
func (a *account) setToken(fileURL, downloadURL string, expires time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokens[fileURL] = downloadToken{url: downloadURL, expires: expires}
}

// dropToken forgets the download URL of fileURL, if it is still downloadURL.
func (a *account) dropToken(fileURL, downloadURL string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tokens[fileURL].url == downloadURL {
		delete(a.tokens, fileURL)
	}
}

// cachedUserInfo returns the account info if it is younger than maxAge.
func (a *account) cachedUserInfo(maxAge time.Duration) (*api.UserInfo, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.userInfo == nil || time.Since(a.userInfoAt) > maxAge {
		return nil, false
	}
	return a.userInfo, true
}

// setUserInfo caches the account info.
func (a *account) setUserInfo(info *api.UserInfo) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.userInfo, a.userInfoAt = info, time.Now()
}

// folderListing is what we know of one folder: its subfolders and files,
// in the API's own (encoded) names.
type folderListing struct {
	fetched time.Time
	folders []api.SubFolder
	files   []api.File
}

// listFetch is a listing being fetched; others asking for the same folder
// wait for it instead of calling the API again.
type listFetch struct {
	done    chan struct{}
	listing *folderListing
	err     error
}

// listCache holds the listing of every folder we have seen. Our own
// uploads, copies, moves and deletes update it, so a folder is listed once
// and then kept up to date locally until it is older than the cache time.
type listCache struct {
	mu       sync.Mutex
	folders  map[int]*folderListing
	inflight map[int]*listFetch
}

func newListCache() *listCache {
	return &listCache{
		folders:  make(map[int]*folderListing),
		inflight: make(map[int]*listFetch),
	}
}

// fetchFn lists a folder from the API.
type fetchFn func(ctx context.Context, folderID int) (*folderListing, error)

// get returns the listing of folderID, fetching it if we have none or if it
// is older than maxAge (a negative maxAge accepts any age). Concurrent
// callers for one folder share a single fetch. The result is a copy the
// caller may keep.
func (c *listCache) get(ctx context.Context, folderID int, maxAge time.Duration, fetch fetchFn) (*folderListing, error) {
	c.mu.Lock()
	if l := c.folders[folderID]; l != nil && (maxAge < 0 || time.Since(l.fetched) <= maxAge) {
		defer c.mu.Unlock()
		return l.clone(), nil
	}
	if f := c.inflight[folderID]; f != nil {
		c.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if f.err != nil {
			return nil, f.err
		}
		return f.listing.clone(), nil
	}
	f := &listFetch{done: make(chan struct{})}
	c.inflight[folderID] = f
	c.mu.Unlock()

	f.listing, f.err = fetch(ctx, folderID)

	c.mu.Lock()
	delete(c.inflight, folderID)
	if f.err == nil {
		c.folders[folderID] = f.listing
	}
	c.mu.Unlock()
	close(f.done)
	if f.err != nil {
		return nil, f.err
	}
	return f.listing.clone(), nil
}

// clone copies the listing so the cache can change under the caller.
func (l *folderListing) clone() *folderListing {
	return &folderListing{
		fetched: l.fetched,
		folders: append([]api.SubFolder(nil), l.folders...),
		files:   append([]api.File(nil), l.files...),
	}
}

// update runs fn on the listing of folderID if we have one. Changes to
// folders we have never listed need no bookkeeping: their first listing
// will show them.
func (c *listCache) update(folderID int, fn func(l *folderListing)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l := c.folders[folderID]; l != nil {
		fn(l)
	}
}

// setEmpty records that folderID was just made and is empty.
func (c *listCache) setEmpty(folderID int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.folders[folderID] = &folderListing{fetched: time.Now()}
}

// addFile records a file that we uploaded, copied or moved into folderID.
func (c *listCache) addFile(folderID int, file api.File) {
	c.update(folderID, func(l *folderListing) {
		l.files = append(l.files, file)
	})
}

// removeFile records that the file with URL fileURL left folderID.
func (c *listCache) removeFile(folderID int, fileURL string) {
	c.update(folderID, func(l *folderListing) {
		for i := range l.files {
			if l.files[i].URL == fileURL {
				l.files = append(l.files[:i], l.files[i+1:]...)
				return
			}
		}
	})
}

// addFolder records a subfolder made or moved into parentID.
func (c *listCache) addFolder(parentID int, folder api.SubFolder) {
	c.update(parentID, func(l *folderListing) {
		l.folders = append(l.folders, folder)
	})
}

// removeFolder records that folderID left parentID, and forgets folderID's
// own listing when it was deleted.
func (c *listCache) removeFolder(parentID, folderID int, deleted bool) {
	c.update(parentID, func(l *folderListing) {
		for i := range l.folders {
			if l.folders[i].ID == folderID {
				l.folders = append(l.folders[:i], l.folders[i+1:]...)
				return
			}
		}
	})
	if deleted {
		c.forget(folderID)
	}
}

// forget drops the listing of folderID so the next use fetches it again.
func (c *listCache) forget(folderID int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.folders, folderID)
}

// flush drops every listing.
func (c *listCache) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.folders)
}

// urls returns the set of file URLs in our listing of folderID, or nil if
// we have none.
func (c *listCache) urls(folderID int) map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.folders[folderID]
	if l == nil {
		return nil
	}
	set := make(map[string]bool, len(l.files))
	for _, file := range l.files {
		set[file.URL] = true
	}
	return set
}
