// Package fichier provides an interface to the 1fichier.com file host.
//
// It is a drop-in replacement for rclone's own fichier backend (same name,
// same options) built around 1fichier's strict rate limits: every API call
// of one key in the process shares one budget and one flood gate, each
// folder is listed once and then kept up to date from our own changes,
// and download tokens are reused while they are valid.
package fichier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/config"
	"github.com/rclone/rclone/fs/config/configmap"
	"github.com/rclone/rclone/fs/config/configstruct"
	"github.com/rclone/rclone/fs/config/obscure"
	"github.com/rclone/rclone/fs/fserrors"
	"github.com/rclone/rclone/fs/fshttp"
	"github.com/rclone/rclone/fs/hash"
	"github.com/rclone/rclone/lib/dircache"
	"github.com/rclone/rclone/lib/encoder"
	"github.com/rclone/rclone/lib/pacer"
	"github.com/rclone/rclone/lib/rest"
)

const (
	rootID            = "0"
	defaultAPIURL     = "https://api.1fichier.com/v1"
	defaultWebsiteURL = "https://1fichier.com"
	minSleep          = 10 * time.Millisecond // the call budget in limits.go does the spacing
	maxSleep          = 5 * time.Second       // back-off on server errors
	decayConstant     = 2
	// maxFileSize is 1fichier's limit for one file.
	maxFileSize = 300e9
	// tokenLifetime is how long we reuse a download URL: 1fichier's five
	// minutes less a margin for the clock and the request in flight.
	tokenLifetime = 4*time.Minute + 30*time.Second
	// removeBatch is how many files one file/rm.cgi or file/mv.cgi call carries.
	removeBatch = 100
	// listLimit is the most files 1fichier returns in one listing.
	listLimit = 5000
	// defaultListCacheTime is list_cache_time's default, and the least
	// time a stored listing is kept before it is pruned.
	defaultListCacheTime = 10 * time.Minute
)

// defaultEncoding is the encoding option's default, as upstream's: 1fichier
// refuses or mangles \ < > " ' $ ` and names with spaces at either end.
const defaultEncoding = encoder.Display |
	encoder.EncodeBackSlash |
	encoder.EncodeSingleQuote |
	encoder.EncodeBackQuote |
	encoder.EncodeDoubleQuote |
	encoder.EncodeLtGt |
	encoder.EncodeDollar |
	encoder.EncodeLeftSpace |
	encoder.EncodeRightSpace |
	encoder.EncodeInvalidUtf8

// retryErrorCodes are HTTP statuses worth retrying. 403 is not among them:
// 1fichier's 403 is either a flood lock, which the flood gate handles, or a
// refusal that will not change.
var retryErrorCodes = []int{429, 500, 502, 503, 504, 509}

// apiTime writes t as the API writes its dates, in Paris time.
func apiTime(t time.Time) api.Time {
	return api.Time(t.In(parisTime).Format(api.TimeFormat))
}

func init() {
	fs.Register(&fs.RegInfo{
		Name:        "fichier",
		Description: "1Fichier",
		NewFs:       NewFs,
		Config:      wizard,
		CommandHelp: commandHelp,
		Options: []fs.Option{{
			Help: `Your API Key, get it from https://1fichier.com/console/params.pl.

Log in to 1fichier and create the key on that page (your account's
parameters). The API is only open to Premium and Access accounts.
Treat the key like a password: you can leave this blank and set
RCLONE_FICHIER_API_KEY in the environment instead, which keeps the
key out of the config file.`,
			Name:      "api_key",
			Sensitive: true,
		}, {
			Help: `If you want to download a shared folder, add this parameter.

The ID of the folder (the part after /dir/ in its link) or its whole
link. The remote then lists that folder through 1fichier's public page;
it is read only and has no checksums.`,
			Name:     "shared_folder",
			Advanced: true,
		}, {
			Help:       "If you want to download a shared file that is password protected, add this parameter.",
			Name:       "file_password",
			Advanced:   true,
			IsPassword: true,
		}, {
			Help:       "If you want to list the files in a shared folder that is password protected, add this parameter.",
			Name:       "folder_password",
			Advanced:   true,
			IsPassword: true,
		}, {
			Help: `Set if you wish to use CDN download links.

CDN downloads use the account's CDN credits. 1fichier requires them for
premium downloads from datacenter and VPN addresses.`,
			Name:     "cdn",
			Default:  false,
			Advanced: true,
		}, {
			Help: `The 1fichier API endpoint.

Only change this to point rclone at a test server. The API key is sent
to this host, so anything but https or a loopback address gets a
warning. A test server may run 1fichier's rules faster than real time
and say so in an X-Time-Scale answer header: the clocks rclone knows
without an option (download links, account info) then follow it. It is
only heeded from a host outside 1fichier.com.`,
			Name:     "api_url",
			Default:  defaultAPIURL,
			Advanced: true,
		}, {
			Help: `Most API calls per second, for every rclone using this key.

1fichier documents 3 calls per second and has been seen locking
accounts at less. The budget is shared by every remote, mount and
command using the same key on this machine, in this rclone process and
in every other one: two commands at once together make no more than
this. Where remotes of one key set different values, the lowest wins.`,
			Name:     "api_rate",
			Default:  2.0,
			Advanced: true,
		}, {
			Help: `Shortest time between two listings of the same folder.

1fichier allows one listing of a folder per 30 seconds and locks the
account for a while if a client lists faster. The time of each listing
is shared by every rclone process on the machine, so a command run
right after another (a copy, then a check) never lists a folder too
soon: it uses the listing the other one stored instead.`,
			Name:     "list_interval",
			Default:  fs.Duration(30 * time.Second),
			Advanced: true,
		}, {
			Help: `How long a folder listing is used before it is fetched again.

Listings are kept in a state shared by every rclone process of the
machine (under rclone's cache directory) and updated by their own
uploads, moves and deletes, so a copy or sync lists each folder once,
and the check that follows lists nothing it does not have to. A
command reuses a stored listing younger than this when 1fichier would
not let it list the folder yet; when it could, its first look at a
folder is a fresh listing.

Set 0 to always fetch fresh listings: each command then waits for
every folder's 30 s slot, as with other rclone backends. Lower it if
files are changed elsewhere while a mount is running; raise it for
long syncs of folders nobody else touches. "rclone backend forget
remote:" drops every stored listing.`,
			Name:     "list_cache_time",
			Default:  fs.Duration(defaultListCacheTime),
			Advanced: true,
		}, {
			Help: `How long to pause every API call after 1fichier reports a flood.

1fichier does not say how long its "Flood detected" locks last. Each
further lock soon after the last one doubles the pause, up to 12 times
this, and spaces calls further apart for an hour. The pause holds
every rclone process using the key. Where remotes of one key set
different values, the longest wins.`,
			Name:     "flood_wait",
			Default:  fs.Duration(5 * time.Minute),
			Advanced: true,
		}, {
			Help: `Upload and server-side batching: sync or off.

An upload costs three API calls whatever its size, and 1fichier takes
up to 500 files in one upload request. With sync, small files bound for
the same folder that wait for the API budget at the same moment go up
together: three calls for the lot, and the next request goes to the
folder with the most files waiting. Each upload still returns only once
its file is stored. rclone's --transfers sets how many wait at once, so
use --transfers 32 or more to copy many small files.

Server-side copies, moves, renames and deletions batch the same way, up
to 100 files a call, by destination folder (by folder for renames and
deletions); each still returns only with its own file's result. off
sends every one alone.

rclone's other batching backends also offer async (report a file
uploaded before it is stored); it is refused here, as a move would
delete sources whose upload may yet fail.`,
			Name:     "batch_mode",
			Default:  "sync",
			Advanced: true,
		}, {
			Help: `Max number of files in an upload batch.

0 means as many as 1fichier takes in one request (500). Lower it only
if big batches fail on a slow link.`,
			Name:     "batch_size",
			Default:  0,
			Advanced: true,
		}, {
			Help: `Upload files up to this size in batches.

Bigger files go alone. 0 turns batching off, as batch_mode off does.`,
			Name:     "batch_max_size",
			Default:  fs.SizeSuffix(64 * 1024 * 1024),
			Advanced: true,
		}, {
			Name:     config.ConfigEncoding,
			Help:     config.ConfigEncodingHelp,
			Advanced: true,
			// ´ is replaced besides these (names.go): no encoder flag names it.
			Default: defaultEncoding,
		}},
	})
}

// Options defines the configuration for this backend
type Options struct {
	APIKey         string               `config:"api_key"`
	SharedFolder   string               `config:"shared_folder"`
	FilePassword   string               `config:"file_password"`
	FolderPassword string               `config:"folder_password"`
	CDN            bool                 `config:"cdn"`
	APIURL         string               `config:"api_url"`
	APIRate        float64              `config:"api_rate"`
	ListInterval   fs.Duration          `config:"list_interval"`
	ListCacheTime  fs.Duration          `config:"list_cache_time"`
	FloodWait      fs.Duration          `config:"flood_wait"`
	BatchMode      string               `config:"batch_mode"`
	BatchSize      int                  `config:"batch_size"`
	BatchMaxSize   fs.SizeSuffix        `config:"batch_max_size"`
	Enc            encoder.MultiEncoder `config:"encoding"`
}

// Fs represents a remote 1fichier account, or a shared folder
type Fs struct {
	name       string
	root       string
	opt        Options
	features   *fs.Features
	srv        *rest.Client // the API, with the key
	plain      *rest.Client // download hosts and the website, never with the key
	pacer      *fs.Pacer
	dirCache   *dircache.DirCache
	acc        *account
	batcher    *batcher   // gathers small uploads into batches
	shared     *listCache // the shared folder's listing, in shared_folder mode
	apiURL     *url.URL
	websiteURL string
}

// Object describes a 1fichier file
type Object struct {
	fs          *Fs
	remote      string
	url         string
	folderID    int
	size        int64
	modTime     time.Time
	whirlpool   string
	contentType string
}

// ------------------------------------------------------------

// Name of the remote (as passed into NewFs)
func (f *Fs) Name() string {
	return f.name
}

// Root of the remote (as passed into NewFs)
func (f *Fs) Root() string {
	return f.root
}

// String converts this Fs to a string
func (f *Fs) String() string {
	if f.opt.SharedFolder != "" {
		return fmt.Sprintf("1fichier shared folder %q", f.opt.SharedFolder)
	}
	return fmt.Sprintf("1fichier root '%s'", f.root)
}

// Precision of the ModTimes in this Fs
func (f *Fs) Precision() time.Duration {
	return fs.ModTimeNotSupported
}

// Hashes returns the supported hash types of the filesystem
func (f *Fs) Hashes() hash.Set {
	return hash.Set(hash.Whirlpool)
}

// Features returns the optional features of this Fs
func (f *Fs) Features() *fs.Features {
	return f.features
}

// errorHandler turns an HTTP error answer into an *api.Error. An HTML
// page (upload nodes answer so) gives its text, so its reason reaches
// the user.
func errorHandler(resp *http.Response) error {
	body, err := rest.ReadBody(resp)
	apiErr := &api.Error{HTTPStatus: resp.StatusCode}
	if err != nil || json.Unmarshal(body, apiErr) != nil || apiErr.Message == "" {
		apiErr.Message = pageText(string(body))
		if apiErr.Message == "" {
			apiErr.Message = resp.Status
		}
	}
	return apiErr
}

// maxErrorText is the most of an error page's text an error carries.
const maxErrorText = 200

var (
	htmlHead = regexp.MustCompile(`(?is)<(head|script|style)[\s>].*?</(head|script|style)>`)
	htmlTag  = regexp.MustCompile(`(?s)<[^>]*>`)
)

// pageText returns the text of an error body, HTML or plain, on one
// line and at most maxErrorText characters long.
func pageText(body string) string {
	if strings.HasPrefix(strings.TrimSpace(body), "<") {
		body = html.UnescapeString(htmlTag.ReplaceAllString(htmlHead.ReplaceAllString(body, " "), " "))
	}
	text := strings.Join(strings.Fields(body), " ")
	if r := []rune(text); len(r) > maxErrorText {
		text = string(r[:maxErrorText]) + "…"
	}
	return text
}

// shouldRetry returns a boolean as to whether this resp and err deserve
// to be retried. It returns the err as a convenience.
//
// A flood answer closes the account's flood gate, so the retry (and every
// other caller) waits for the lock to end.
func (f *Fs) shouldRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if fserrors.ContextError(ctx, &err) {
		return false, err
	}
	if isUnreached(err) {
		return true, err
	}
	var apiErr *api.Error
	if errors.As(err, &apiErr) {
		switch kind := apiErr.Kind(); {
		case kind == api.KindFlood || kind == api.KindLocation:
			f.acc.limits.flood(apiErr.Message)
			return true, err
		case kind.Fatal():
			return false, annotate(apiErr)
		}
	}
	return fserrors.ShouldRetry(err) || fserrors.ShouldRetryHTTP(resp, retryErrorCodes), err
}

// adviceError is an API error with what the user can do about it.
type adviceError struct {
	err    *api.Error
	advice string
}

func (e *adviceError) Error() string { return e.err.Error() + ": " + e.advice }
func (e *adviceError) Unwrap() error { return e.err }

// annotate marks a fatal API error so rclone does not retry it, adding
// advice where we have some. A bad key or a free account stops the whole
// run: nothing else can succeed.
func annotate(apiErr *api.Error) error {
	kind := apiErr.Kind()
	var err error = apiErr
	if advice := kind.Advice(); advice != "" {
		err = &adviceError{err: apiErr, advice: advice}
	}
	switch kind {
	case api.KindBadKey, api.KindNotCustomer:
		return fserrors.FatalError(err)
	case api.KindNotFound, api.KindNotEmpty, api.KindNothingDone:
		return err // call sites map these to rclone's own errors
	}
	return fserrors.NoRetryError(err)
}

// apiKind returns the kind of the API error in err, or KindOther.
func apiKind(err error) api.Kind {
	var apiErr *api.Error
	if errors.As(err, &apiErr) {
		return apiErr.Kind()
	}
	return api.KindOther
}

// parseSharedFolder accepts a shared folder's ID or its whole link.
func parseSharedFolder(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, api.SharedFolderPage); i >= 0 {
		s = s[i+len(api.SharedFolderPage):]
	}
	if i := strings.IndexAny(s, "?#/"); i >= 0 {
		s = s[:i]
	}
	return s
}

// isLoopback reports whether host (without port) is this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// websiteFor returns the website root matching the API URL: the real site
// for the real API, else the same host (a test server serves both).
func websiteFor(apiURL *url.URL) string {
	if strings.HasSuffix(apiURL.Hostname(), "1fichier.com") {
		return defaultWebsiteURL
	}
	return apiURL.Scheme + "://" + apiURL.Host
}

// checkOptions validates opt and makes its values usable.
func checkOptions(opt *Options) (*url.URL, error) {
	if opt.APIKey == "" && opt.SharedFolder == "" {
		return nil, errors.New("fichier: api_key is not set: create a key at https://1fichier.com/console/params.pl " +
			"and set it in the config or in RCLONE_FICHIER_API_KEY")
	}
	opt.APIURL = strings.TrimRight(opt.APIURL, "/")
	apiURL, err := url.Parse(opt.APIURL)
	if err != nil || apiURL.Host == "" || (apiURL.Scheme != "https" && apiURL.Scheme != "http") {
		return nil, fmt.Errorf("fichier: api_url %q is not an http(s) URL", opt.APIURL)
	}
	if apiURL.Scheme != "https" && !isLoopback(apiURL.Hostname()) {
		fs.Logf(nil, "fichier: api_url %q is not https: the API key will cross the network in clear text", opt.APIURL)
	}
	if opt.APIRate <= 0 {
		return nil, fmt.Errorf("fichier: api_rate must be more than 0 calls per second, not %v", opt.APIRate)
	}
	if err := checkBatchOptions(opt); err != nil {
		return nil, err
	}
	for _, pw := range []*string{&opt.FilePassword, &opt.FolderPassword} {
		if *pw == "" {
			continue
		}
		if *pw, err = obscure.Reveal(*pw); err != nil {
			return nil, fmt.Errorf("fichier: file_password and folder_password must be obscured (use rclone obscure or rclone config): %w", err)
		}
	}
	opt.SharedFolder = parseSharedFolder(opt.SharedFolder)
	return apiURL, nil
}

// checkBatchOptions validates the batch options, and turns batch_mode
// off into batch_max_size 0.
func checkBatchOptions(opt *Options) error {
	switch opt.BatchMode {
	case "sync", "":
	case "off":
		opt.BatchMaxSize = 0
	case "async":
		return errors.New("fichier: batch_mode async is not offered: an upload returns only once 1fichier stored the file, " +
			"so a move never deletes a source whose upload may yet fail; use sync (the default) or off")
	default:
		return fmt.Errorf("fichier: batch_mode must be sync or off, not %q", opt.BatchMode)
	}
	if opt.BatchSize < 0 || opt.BatchSize > maxBatchFiles {
		return fmt.Errorf("fichier: batch_size must be from 0 (as many as 1fichier takes) to %d files, not %d", maxBatchFiles, opt.BatchSize)
	}
	return nil
}

// newBareFs returns an Fs that makes calls with the checked options opt
// but has no name, root or features yet: the config wizard checks a key
// with it.
func newBareFs(ctx context.Context, opt *Options, apiURL *url.URL) *Fs {
	client := fshttp.NewClient(ctx)
	f := &Fs{
		opt:        *opt,
		srv:        rest.NewClient(client).SetRoot(opt.APIURL).SetErrorHandler(errorHandler),
		plain:      rest.NewClient(client).SetErrorHandler(errorHandler),
		pacer:      fs.NewPacer(ctx, pacer.NewDefault(pacer.MinSleep(minSleep), pacer.MaxSleep(maxSleep), pacer.DecayConstant(decayConstant))),
		acc:        accountFor(opt),
		apiURL:     apiURL,
		websiteURL: websiteFor(apiURL),
	}
	if opt.APIKey != "" {
		f.srv.SetHeader("Authorization", "Bearer "+opt.APIKey)
	}
	return f
}

// readOptions reads a remote's options from m and checks them.
func readOptions(m configmap.Mapper) (*Options, *url.URL, error) {
	opt := new(Options)
	if err := configstruct.Set(m, opt); err != nil {
		return nil, nil, err
	}
	apiURL, err := checkOptions(opt)
	if err != nil {
		return nil, nil, err
	}
	return opt, apiURL, nil
}

// NewFs constructs an Fs from the path, container:path
func NewFs(ctx context.Context, name, root string, m configmap.Mapper) (fs.Fs, error) {
	opt, apiURL, err := readOptions(m)
	if err != nil {
		return nil, err
	}
	if opt.SharedFolder != "" {
		root = ""
	}
	root = strings.Trim(root, "/")
	f := newBareFs(ctx, opt, apiURL)
	f.name = name
	f.root = root
	f.batcher = newBatcher(int64(opt.BatchMaxSize), opt.BatchSize, f.acc.limits.wait, f.commitLane)
	f.features = (&fs.Features{
		DuplicateFiles:          true,
		CanHaveEmptyDirectories: true,
		ReadMimeType:            true,
	}).Fill(ctx, f)
	if opt.SharedFolder != "" {
		f.shared = newListCache(openState(stateDir(), f.websiteURL, "shared folder\x00"+opt.SharedFolder+"\x00"+opt.FolderPassword))
		f.features.Disable("Copy").Disable("Move").Disable("DirMove").Disable("MergeDirs").Disable("Purge").
			Disable("PutUnchecked").Disable("PublicLink").Disable("About").Disable("UserInfo")
		return f, nil
	}
	noteSizeOnly(ctx, f)
	f.dirCache = dircache.New(root, rootID, f)
	err = f.dirCache.FindRoot(ctx, false)
	if err == nil {
		return f, nil
	}
	if errors.Is(err, fs.ErrorDirNotFound) {
		return f.rootIsFile(ctx)
	}
	return nil, err
}

// rootIsFile checks whether the root the user gave is a file. If so it
// returns an Fs for its parent and fs.ErrorIsFile, otherwise f.
func (f *Fs) rootIsFile(ctx context.Context) (fs.Fs, error) {
	newRoot, remote := dircache.SplitPath(f.root)
	tempF := *f
	tempF.dirCache = dircache.New(newRoot, rootID, &tempF)
	tempF.root = newRoot
	if err := tempF.dirCache.FindRoot(ctx, false); err != nil {
		return f, nil
	}
	if _, err := tempF.NewObject(ctx, remote); err != nil {
		if errors.Is(err, fs.ErrorObjectNotFound) {
			return f, nil
		}
		return nil, err
	}
	f.features.Fill(ctx, &tempF)
	// Keep f (its features point at it) but give it the parent's root.
	f.dirCache = tempF.dirCache
	f.root = tempF.root
	return f, fs.ErrorIsFile
}

// folderID converts a dircache ID to the API's integer.
func folderID(id string) (int, error) {
	n, err := strconv.Atoi(id)
	if err != nil {
		return 0, fmt.Errorf("fichier: bad folder ID %q", id)
	}
	return n, nil
}

// folderIDs converts several dircache IDs.
func folderIDs(ids ...string) ([]int, error) {
	out := make([]int, len(ids))
	for i, id := range ids {
		n, err := folderID(id)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// folderOf returns the API ID of folder dir (relative to the root),
// creating it when create is set.
func (f *Fs) folderOf(ctx context.Context, dir string, create bool) (int, error) {
	dirID, err := f.dirCache.FindDir(ctx, dir, create)
	if err != nil {
		return 0, err
	}
	return folderID(dirID)
}

// pathOf splits remote into its leaf and the API ID of its folder,
// creating the folder when create is set. A folder about to receive a
// file (create) is first made sure of (ensureFolder).
func (f *Fs) pathOf(ctx context.Context, remote string, create bool) (leaf string, id int, err error) {
	leaf, dirID, err := f.dirCache.FindPath(ctx, remote, create)
	if err != nil {
		return "", 0, err
	}
	if id, err = folderID(dirID); err != nil || !create {
		return leaf, id, err
	}
	dir, _ := dircache.SplitPath(remote)
	id, err = f.ensureFolder(ctx, dir, id)
	return leaf, id, err
}

// ensureFolder makes sure folder id, dir of the remote, still exists
// before something is put into it, and makes it again if it does not.
// upload.cgi takes an unknown folder ID as the root without a word, so
// a folder deleted elsewhere (on the website, by another machine) while
// the state still lists it would get our files in the account's root.
//
// It costs at most one listing per folder and process, never a wait, and
// none for the root, a folder this process made or listed, or one whose
// own listing, or its parent's that shows it, was fetched so recently
// that 1fichier would not let us list it again yet: that listing is the
// newest proof anyone could have.
func (f *Fs) ensureFolder(ctx context.Context, dir string, id int) (int, error) {
	if dirID := strconv.Itoa(id); dirID == rootID || f.acc.listings.confirmed(id) {
		return id, nil
	}
	if f.listedRecently(id, id) || f.listedRecently(f.parentOf(ctx, dir), id) {
		f.acc.listings.confirm(id)
		return id, nil
	}
	_, err := f.acc.listings.get(ctx, id, 0, f.freshListing(id), f.fetchListing)
	if !errors.Is(err, fs.ErrorDirNotFound) {
		return id, err
	}
	fs.Logf(f, "folder %q (%d) was deleted on 1fichier by something else: making it again", dir, id)
	left := f.straysOf(ctx, dir, id)
	f.forgetGoneFolder(ctx, dir, id)
	if err := f.ensureParent(ctx, dir); err != nil {
		return 0, err
	}
	again, err := f.folderOf(ctx, dir, true)
	if err != nil {
		return 0, err
	}
	return again, f.rehome(ctx, dir, left, again)
}

// ensureParent makes sure the folder above dir, a folder of the remote
// found deleted, still exists (ensureFolder): it may have gone with dir.
func (f *Fs) ensureParent(ctx context.Context, dir string) error {
	parent, _ := dircache.SplitPath(dir)
	if parent == "" {
		return nil
	}
	id, err := f.folderOf(ctx, parent, false)
	if err != nil {
		return nil // not known here: made again with dir
	}
	_, err = f.ensureFolder(ctx, parent, id)
	return err
}

// listedRecently reports whether folder id's stored listing was fetched
// within 1fichier's listing interval, so no new one could be fresher,
// and shows folder child (or is child's own). The folder's slot alone
// does not tell: a listing that failed (the folder is gone) closes it
// too, and the stored listing may be older. Nor does a child that only
// our own recent change put there (listedIn).
func (f *Fs) listedRecently(id, child int) bool {
	if id < 0 {
		return false
	}
	_, _, listInterval := f.acc.limits.settings()
	l := f.acc.listings.stored(id)
	if l == nil || time.Since(l.fetched) >= listInterval {
		return false
	}
	return id == child || f.acc.listings.listedIn(id, child, listInterval)
}

// parentOf returns the ID of the parent folder of dir (of the remote),
// looked up from the account's root as dir may be the remote's own
// root, or -1 if it is not known.
func (f *Fs) parentOf(ctx context.Context, dir string) int {
	parentPath, _ := dircache.SplitPath(path.Join(f.root, dir))
	parentID, err := dircache.New("", rootID, f).FindDir(ctx, parentPath, false)
	if err != nil {
		return -1
	}
	id, err := folderID(parentID)
	if err != nil {
		return -1
	}
	return id
}

// forgetGoneFolder drops folder id, dir of the remote, which 1fichier no
// longer has, from the dircache and from its parent's stored listing.
func (f *Fs) forgetGoneFolder(ctx context.Context, dir string, id int) {
	if parent := f.parentOf(ctx, dir); parent >= 0 {
		f.acc.listings.removeFolder(parent, id, true)
	} else {
		f.acc.listings.forgetFolder(id)
	}
	f.dirCache.FlushDir(dir)
}

// errReadOnly is returned for changes to a shared folder remote.
var errReadOnly = errors.New("a shared_folder remote is read only: use a remote with api_key to change files")

// readOnly returns errReadOnly for a shared folder remote.
func (f *Fs) readOnly() error {
	if f.opt.SharedFolder != "" {
		return errReadOnly
	}
	return nil
}

// listing returns the listing of a folder, from the cache if it is
// younger than maxAge, once every unfinished upload into it is resolved
// (journal.go): a listing must show what 1fichier stored.
func (f *Fs) listing(ctx context.Context, id int, maxAge time.Duration) (*folderListing, error) {
	if err := f.settleUploads(ctx, id, ""); err != nil {
		return nil, err
	}
	return f.cachedListing(ctx, id, maxAge)
}

// cachedListing is listing without the journal.
func (f *Fs) cachedListing(ctx context.Context, id int, maxAge time.Duration) (*folderListing, error) {
	return f.acc.listings.get(ctx, id, maxAge, f.freshListing(id), f.fetchListing)
}

// freshListing says whether a listing of folder id fetched at a time is
// as fresh as 1fichier would let a new one be (limits.listingFresh).
func (f *Fs) freshListing(id int) freshFn {
	return func(fetched time.Time) bool {
		return f.acc.limits.listingFresh(id, fetched)
	}
}

// fetchListing lists one folder with a single folder/ls.cgi call that also
// returns the files. Should a server ignore files:1 (no "items" in the
// answer) it falls back to file/ls.cgi. Both count as a listing of the
// folder, so each waits for the folder's listing interval.
func (f *Fs) fetchListing(ctx context.Context, id int) (*folderListing, error) {
	wait := func() (func(), error) { return f.acc.limits.waitList(ctx, id) }
	rules := []departRule{f.acc.limits.listRule(id)}
	var folders api.FolderListResponse
	request := &api.FolderListRequest{FolderID: id, Files: 1}
	err := f.call(ctx, &apiCall{path: api.FolderLs, before: wait, rules: rules, request: request, response: &folders})
	if err != nil {
		if apiKind(err) == api.KindNotFound {
			return nil, fs.ErrorDirNotFound
		}
		return nil, fmt.Errorf("couldn't list folder %d: %w", id, err)
	}
	l := &folderListing{fetched: time.Now(), folders: folders.SubFolders}
	if folders.Items != nil {
		l.files = *folders.Items
	} else {
		var files api.FileListResponse
		err = f.call(ctx, &apiCall{path: api.FileLs, before: wait, rules: rules, request: &api.FileListRequest{FolderID: id}, response: &files})
		if err != nil {
			return nil, fmt.Errorf("couldn't list files of folder %d: %w", id, err)
		}
		l.files = files.Items
	}
	f.acc.listings.confirm(id)
	if len(l.files) >= listLimit {
		fs.Logf(f, "folder %d has %d files or more: 1fichier lists only %d, so some are not visible", id, listLimit, listLimit)
	}
	return l, nil
}

// FindLeaf finds a directory of name leaf in the folder with ID pathID
func (f *Fs) FindLeaf(ctx context.Context, pathID, leaf string) (pathIDOut string, found bool, err error) {
	id, err := folderID(pathID)
	if err != nil {
		return "", false, err
	}
	l, err := f.listing(ctx, id, time.Duration(f.opt.ListCacheTime))
	if err != nil {
		return "", false, err
	}
	name := f.toAPIName(leaf)
	for _, folder := range l.folders {
		if sameName(folder.Name, name) {
			return strconv.Itoa(folder.ID), true, nil
		}
	}
	return "", false, nil
}

// CreateDir makes a directory with pathID as parent and name leaf. A
// name 1fichier refused once in this process is not sent again.
func (f *Fs) CreateDir(ctx context.Context, pathID, leaf string) (newID string, err error) {
	parent, err := folderID(pathID)
	if err != nil {
		return "", err
	}
	req := api.MakeFolderRequest{Name: f.toAPIName(leaf), FolderID: parent}
	if err := checkFolderName(leaf, req.Name); err != nil {
		return "", err
	}
	if err := f.acc.refusedNames.refused(parent, req.Name, true); err != nil {
		return "", fmt.Errorf("couldn't create folder %q: %w", leaf, err)
	}
	id, err := f.makeFolder(ctx, &req)
	if err != nil {
		if apiKind(err) == api.KindExists {
			return f.adoptFolder(ctx, parent, req.Name, err)
		}
		if !isLost(err) {
			f.acc.refusedNames.remember(parent, req.Name, true, err)
		}
		return "", fmt.Errorf("couldn't create folder %q: %w", leaf, err)
	}
	f.acc.listings.setEmpty(id)
	f.acc.listings.confirm(id)
	f.acc.listings.addFolder(parent, api.SubFolder{ID: id, Name: req.Name, CreateDate: apiTime(time.Now())})
	if old, ok := f.acc.listings.takeOrphan(parent, req.Name); ok {
		if err := f.rehome(ctx, leaf, f.straysOf(ctx, leaf, old), id); err != nil {
			fs.Errorf(f, "%v", err)
		}
	}
	return strconv.Itoa(id), nil
}

// adoptFolder returns the ID of the folder name in parent, which 1fichier
// says is already there: another rclone made it at the same moment, or a
// client our listing has not seen yet. The parent is listed afresh (in
// its turn) to find it.
func (f *Fs) adoptFolder(ctx context.Context, parent int, name string, mkdirErr error) (string, error) {
	l, err := f.listing(ctx, parent, 0)
	if err != nil {
		return "", fmt.Errorf("couldn't find folder %q that 1fichier says exists: %w", name, err)
	}
	for _, folder := range l.folders {
		if sameName(folder.Name, name) {
			return strconv.Itoa(folder.ID), nil
		}
	}
	return "", fmt.Errorf("couldn't create folder %q: %w", name, mkdirErr)
}

// List the objects and directories in dir into entries. The entries can
// be returned in any order but should be for a complete directory.
//
// dir should be "" to list the root, and should not have trailing slashes.
//
// This should return ErrDirNotFound if the directory isn't found.
func (f *Fs) List(ctx context.Context, dir string) (entries fs.DirEntries, err error) {
	if f.opt.SharedFolder != "" {
		return f.listShared(ctx, dir)
	}
	id, err := f.folderOf(ctx, dir, false)
	if err != nil {
		return nil, err
	}
	l, err := f.listing(ctx, id, time.Duration(f.opt.ListCacheTime))
	if err != nil {
		return nil, err
	}
	for _, folder := range l.folders {
		remote := path.Join(dir, f.fromAPIName(folder.Name))
		folderID := strconv.Itoa(folder.ID)
		f.dirCache.Put(remote, folderID)
		entries = append(entries, fs.NewDir(remote, folder.CreateDate.Parse(parisTime)).SetID(folderID))
	}
	for i := range l.files {
		entries = append(entries, f.newObject(path.Join(dir, f.fromAPIName(l.files[i].Filename)), id, &l.files[i]))
	}
	return entries, nil
}

// newObject makes an Object from a file of a listing.
func (f *Fs) newObject(remote string, folderID int, file *api.File) *Object {
	return &Object{
		fs:          f,
		remote:      remote,
		url:         file.URL,
		folderID:    folderID,
		size:        int64(file.Size),
		modTime:     file.Date.Parse(parisTime),
		whirlpool:   strings.ToLower(file.Checksum),
		contentType: file.MimeType(),
	}
}

// pickFile returns the file called name in l. 1fichier allows several
// files of one name in a folder; we then take the newest, so a listing,
// NewObject and Put all agree on which one "the" file is.
func pickFile(l *folderListing, name string) (*api.File, bool) {
	var found *api.File
	for i := range l.files {
		file := &l.files[i]
		if sameName(file.Filename, name) && (found == nil || file.Date >= found.Date) {
			found = file
		}
	}
	return found, found != nil
}

// findObject finds remote using a listing no older than maxAge.
func (f *Fs) findObject(ctx context.Context, remote string, maxAge time.Duration) (*Object, error) {
	if f.opt.SharedFolder != "" {
		return f.findShared(ctx, remote)
	}
	leaf, id, err := f.pathOf(ctx, remote, false)
	if err != nil {
		if errors.Is(err, fs.ErrorDirNotFound) {
			return nil, fs.ErrorObjectNotFound
		}
		return nil, err
	}
	l, err := f.listing(ctx, id, maxAge)
	if err != nil {
		if errors.Is(err, fs.ErrorDirNotFound) {
			return nil, fs.ErrorObjectNotFound
		}
		return nil, err
	}
	file, ok := pickFile(l, f.toAPIName(leaf))
	if !ok {
		return nil, fs.ErrorObjectNotFound
	}
	return f.newObject(remote, id, file), nil
}

// NewObject finds the Object at remote. If it can't be found it returns
// the error ErrorObjectNotFound.
func (f *Fs) NewObject(ctx context.Context, remote string) (fs.Object, error) {
	o, err := f.findObject(ctx, remote, time.Duration(f.opt.ListCacheTime))
	if err != nil {
		// Not "return o, err": a nil *Object in an fs.Object is not a nil
		// fs.Object, and callers that drop the error (sync's
		// --track-renames) test the object against nil.
		return nil, err
	}
	return o, nil
}

// Put the object into the container, replacing a file of the same name.
//
// The existence check uses the folder's cached listing whatever its age:
// the cache follows our own changes, so uploading many files into one
// folder lists it at most once.
func (f *Fs) Put(ctx context.Context, in io.Reader, src fs.ObjectInfo, options ...fs.OpenOption) (fs.Object, error) {
	if err := f.readOnly(); err != nil {
		return nil, err
	}
	if err := refuseSize(src.Remote(), src.Size()); err != nil {
		return nil, err
	}
	if err := f.settleName(ctx, src.Remote()); err != nil {
		return nil, err
	}
	existing, err := f.findObject(ctx, src.Remote(), -1)
	switch {
	case err == nil:
		return existing, existing.Update(ctx, in, src, options...)
	case errors.Is(err, fs.ErrorObjectNotFound):
		return f.PutUnchecked(ctx, in, src, options...)
	default:
		return nil, err
	}
}

// settleName settles the unfinished uploads into the folder of remote,
// and waits for those another rclone is sending that carry its name:
// once they are recorded, Put finds the file they stored and sends
// nothing when it holds the content. A folder not made yet has none.
func (f *Fs) settleName(ctx context.Context, remote string) error {
	leaf, id, err := f.pathOf(ctx, remote, false)
	switch {
	case errors.Is(err, fs.ErrorDirNotFound):
		return nil
	case err != nil:
		return err
	}
	return f.settleUploads(ctx, id, f.toAPIName(leaf))
}

// PutUnchecked uploads the object without checking for an existing file
// of the same name, so it may make a duplicate.
func (f *Fs) PutUnchecked(ctx context.Context, in io.Reader, src fs.ObjectInfo, options ...fs.OpenOption) (fs.Object, error) {
	if err := f.readOnly(); err != nil {
		return nil, err
	}
	// Before the folder is made for it.
	if err := refuseSize(src.Remote(), src.Size()); err != nil {
		return nil, err
	}
	leaf, id, err := f.pathOf(ctx, src.Remote(), true)
	if err != nil {
		return nil, err
	}
	release, err := f.acc.room.reserve(id, f.acc.listings.stored(id))
	if err != nil {
		return nil, fmt.Errorf("can't upload %q: %w", src.Remote(), err)
	}
	defer release()
	file, err := f.upload(ctx, in, f.toAPIName(leaf), id, src.Size(), options...)
	if err != nil {
		return nil, err
	}
	return f.newObject(src.Remote(), id, file), nil
}

// Mkdir creates the container if it doesn't exist
func (f *Fs) Mkdir(ctx context.Context, dir string) error {
	if err := f.readOnly(); err != nil {
		return err
	}
	_, err := f.dirCache.FindDir(ctx, dir, true)
	return err
}

// dirAndParent returns the IDs of dir and of its parent folder.
func (f *Fs) dirAndParent(ctx context.Context, dir string) (id, parent int, err error) {
	if err := f.readOnly(); err != nil {
		return 0, 0, err
	}
	if id, err = f.folderOf(ctx, dir, false); err != nil {
		return 0, 0, err
	}
	if strconv.Itoa(id) == rootID {
		return 0, 0, errors.New("can't remove the root of the 1fichier account")
	}
	if dir != "" {
		_, parent, err = f.pathOf(ctx, dir, false)
		return id, parent, err
	}
	parentID, err := f.dirCache.RootParentID(ctx, false)
	if err != nil {
		return 0, 0, err
	}
	parent, err = folderID(parentID)
	return id, parent, err
}

// removeFolder deletes one empty folder and forgets it.
func (f *Fs) removeFolder(ctx context.Context, dir string, id, parent int) error {
	var resp api.Status
	err := f.call(ctx, &apiCall{path: api.FolderRm, request: &api.RemoveFolderRequest{FolderID: id}, response: &resp})
	switch apiKind(err) {
	case api.KindNotEmpty:
		return fs.ErrorDirectoryNotEmpty
	case api.KindNotFound:
		return fs.ErrorDirNotFound
	}
	if err != nil {
		return fmt.Errorf("couldn't remove folder %q: %w", dir, err)
	}
	f.acc.listings.removeFolder(parent, id, true)
	f.dirCache.FlushDir(dir)
	return nil
}

// Rmdir deletes the directory dir if it is empty.
//
// It checks the folder's listing first rather than trusting folder/rm.cgi
// to refuse a folder with files in it: we never want to learn otherwise.
func (f *Fs) Rmdir(ctx context.Context, dir string) error {
	id, parent, err := f.dirAndParent(ctx, dir)
	if err != nil {
		return err
	}
	l, err := f.listing(ctx, id, time.Duration(f.opt.ListCacheTime))
	if err != nil {
		return err
	}
	if len(l.files) > 0 || len(l.folders) > 0 {
		return fs.ErrorDirectoryNotEmpty
	}
	return f.removeFolder(ctx, dir, id, parent)
}

// inBatches calls do with successive parts of all, each of at most
// removeBatch items, and stops at the first error.
func inBatches[T any](all []T, do func(batch []T) error) error {
	for start := 0; start < len(all); start += removeBatch {
		if err := do(all[start:min(start+removeBatch, len(all))]); err != nil {
			return err
		}
	}
	return nil
}

// removeFiles deletes files of folder id by URL, in calls of
// removeBatch files, and stops at the first error. As every removal, it
// is safe to repeat: a file already gone counts as removed.
func (f *Fs) removeFiles(ctx context.Context, id int, urls []string) error {
	return inBatches(urls, func(batch []string) error {
		var ops []*serverOp
		for _, u := range batch {
			op := &serverOp{ctx: ctx, url: u, from: id}
			left, err := f.leftFolder(op)
			if err != nil {
				return err
			}
			if !left {
				ops = append(ops, op)
			}
		}
		if len(ops) == 0 {
			return nil
		}
		for _, r := range f.removeOps(ctx, id, ops, time.Time{}) {
			if r.err != nil {
				return r.err
			}
		}
		return nil
	})
}

// purgeFolder deletes everything in folder id (named dir), then the folder.
func (f *Fs) purgeFolder(ctx context.Context, dir string, id, parent int) error {
	l, err := f.listing(ctx, id, time.Duration(f.opt.ListCacheTime))
	if err != nil {
		return err
	}
	for _, sub := range l.folders {
		if err := f.purgeFolder(ctx, path.Join(dir, f.fromAPIName(sub.Name)), sub.ID, id); err != nil {
			return err
		}
	}
	urls := make([]string, len(l.files))
	for i := range l.files {
		urls[i] = l.files[i].URL
	}
	if err := f.removeFiles(ctx, id, urls); err != nil {
		return fmt.Errorf("couldn't remove the files of %q: %w", dir, err)
	}
	f.acc.listings.update(id, func(l *folderListing) { l.files = nil })
	return f.removeFolder(ctx, dir, id, parent)
}

// Purge deletes all the files and directories in dir, with one file/rm.cgi
// call per 100 files and one folder/rm.cgi per folder.
func (f *Fs) Purge(ctx context.Context, dir string) error {
	id, parent, err := f.dirAndParent(ctx, dir)
	if err != nil {
		return err
	}
	return f.purgeFolder(ctx, dir, id, parent)
}

// replaced removes the files called leaf in folder id other than keepURL:
// a server-side copy or move onto an existing name replaces it, as rclone
// expects, instead of leaving a duplicate.
func (f *Fs) replaced(ctx context.Context, id int, leaf, keepURL string, before *folderListing) error {
	for _, u := range othersNamed(before, leaf, keepURL) {
		if err := f.removeFile(ctx, id, u); err != nil {
			return fmt.Errorf("couldn't remove the file replaced by %q: %w", leaf, err)
		}
	}
	return nil
}

// othersNamed returns the URLs of the files called leaf in l but keepURL.
func othersNamed(l *folderListing, leaf, keepURL string) []string {
	var urls []string
	for _, file := range l.files {
		if file.Filename == leaf && file.URL != keepURL {
			urls = append(urls, file.URL)
		}
	}
	return urls
}

// superseding journals a server-side copy or move of src onto leaf in
// folder id, whose listing before shows files of that name: should this
// process die between the call and their removal (replaced), whoever
// lists the folder next removes them once the new file is there
// (settleReplace). It returns nil when nothing is replaced.
func (f *Fs) superseding(id int, leaf string, src *Object, before *folderListing) *opEntry {
	old := othersNamed(before, leaf, src.url)
	if len(old) == 0 {
		return nil
	}
	files := make([]journalFile, len(old))
	for i, u := range old {
		files[i] = journalFile{Name: leaf, Size: src.size, From: u}
	}
	return f.acc.journal.beginOp(opSupersede, id, files)
}

// endSuperseding drops entry (superseding) once settled: the old files
// removed, or the call surely made nothing (nothingMade). Otherwise it
// stays for whoever lists folder id next.
func (f *Fs) endSuperseding(id int, entry *opEntry, settled bool) {
	if entry == nil {
		return
	}
	if settled {
		f.acc.journal.record(id, entry.xid, nil, true)
	}
	f.acc.journal.release(entry.xid)
}

// nothingMade reports whether a server-side copy or move that failed
// with err surely changed nothing: 1fichier refused it, in an answer.
func nothingMade(ctx context.Context, err error) bool {
	return ctx.Err() == nil && !errors.As(err, new(unknownOutcome)) && apiKind(err) != api.KindOther
}

// removeFile deletes the file fileURL of folder id, in the folder's next
// file/rm.cgi batch. A file already gone counts as removed.
func (f *Fs) removeFile(ctx context.Context, id int, fileURL string) error {
	_, err := f.serverOp(ctx, laneKey{kind: laneRemove, folder: id}, &serverOp{ctx: ctx, url: fileURL, from: id})
	return err
}

// serverSide opens a server-side copy or move of src to remote. It
// returns src as an *Object, or cant unless src belongs to the same
// 1fichier account as f, then where remote goes (its folders created as
// needed): its folder, its API name and the folder's current listing.
func (f *Fs) serverSide(ctx context.Context, src fs.Object, remote string, cant error) (
	srcObj *Object, id int, name string, before *folderListing, err error) {
	srcObj, ok := src.(*Object)
	if !ok || srcObj.fs.acc != f.acc || srcObj.fs.opt.SharedFolder != "" {
		return nil, 0, "", nil, cant
	}
	leaf, id, err := f.pathOf(ctx, remote, true)
	if err != nil {
		return nil, 0, "", nil, err
	}
	before, err = f.listing(ctx, id, -1)
	return srcObj, id, f.toAPIName(leaf), before, err
}

// Copy src to this remote using server-side copy operations.
//
// If it isn't possible then return fs.ErrorCantCopy
func (f *Fs) Copy(ctx context.Context, src fs.Object, remote string) (fs.Object, error) {
	srcObj, id, name, before, err := f.serverSide(ctx, src, remote, fs.ErrorCantCopy)
	if err != nil {
		return nil, err
	}
	// The listing, once earlier copies whose answers were lost are
	// settled, may show this copy made already (a retry, or a run after
	// a kill): as Put, send nothing for a file that is there. What the
	// copy replaces may still be there too (the kill came between the
	// copy and the removal): it goes as it would have.
	if there, ok := pickFile(before, name); ok {
		if o := f.newObject(remote, id, there); o.holds(ctx, srcObj) {
			return o, f.replaced(ctx, id, name, there.URL, before)
		}
	}
	entry := f.superseding(id, name, srcObj, before)
	file, err := f.serverOp(ctx, laneKey{kind: laneCopy, folder: id}, opOf(ctx, srcObj, name))
	if err != nil {
		f.endSuperseding(id, entry, nothingMade(ctx, err))
		return nil, fmt.Errorf("couldn't copy %q: %w", src.Remote(), err)
	}
	f.acc.listings.addFile(id, *file)
	err = f.replaced(ctx, id, name, file.URL, before)
	f.endSuperseding(id, entry, err == nil)
	if err != nil {
		return nil, err
	}
	return f.newObject(remote, id, file), nil
}

// moveFile moves or renames one file server side, in the next batch of
// its lane: a rename within the folder (file/rename.cgi), or a move into
// folder id (file/mv.cgi). A rename is only sent when the name changes:
// 1fichier refuses a rename to the current name.
func (f *Fs) moveFile(ctx context.Context, o *Object, id int, name string) (*api.File, error) {
	kind := laneMove
	if id == o.folderID {
		kind = laneRename
	}
	return f.serverOp(ctx, laneKey{kind: kind, folder: id}, opOf(ctx, o, name))
}

// Move src to this remote using server-side move operations.
//
// If it isn't possible then return fs.ErrorCantMove
func (f *Fs) Move(ctx context.Context, src fs.Object, remote string) (fs.Object, error) {
	srcObj, id, name, before, err := f.serverSide(ctx, src, remote, fs.ErrorCantMove)
	if err != nil {
		return nil, err
	}
	if id == srcObj.folderID && name == srcObj.apiName() {
		return srcObj, nil
	}
	entry := f.superseding(id, name, srcObj, before)
	file, err := f.moveFile(ctx, srcObj, id, name)
	if err != nil {
		f.endSuperseding(id, entry, nothingMade(ctx, err))
		return nil, fmt.Errorf("couldn't move %q: %w", src.Remote(), err)
	}
	err = f.replaced(ctx, id, name, file.URL, before)
	f.endSuperseding(id, entry, err == nil)
	if err != nil {
		return nil, err
	}
	return f.newObject(remote, id, file), nil
}

// moveFolder moves folder id into dest, or renames it; never both at once.
func (f *Fs) moveFolder(ctx context.Context, id int, dest *int, rename string) error {
	req := api.MoveFolderRequest{FolderID: id, DestinationFolderID: dest, Rename: rename}
	var resp api.Status
	err := f.call(ctx, &apiCall{path: api.FolderMv, request: &req, response: &resp})
	if rename != "" && apiKind(err) == api.KindNothingDone {
		// A rename to the name the folder has is refused ("No folder has
		// been renamed"): an attempt whose answer was lost, or a killed
		// run, renamed it already.
		fs.Debugf(f, "folder %d has the name %q already", id, rename)
		return nil
	}
	return err
}

// DirMove moves src, srcRemote to this remote at dstRemote using server-side
// move operations: a move to the new parent and a rename, as separate calls.
//
// If it isn't possible then return fs.ErrorCantDirMove
//
// If destination exists then return fs.ErrorDirExists
func (f *Fs) DirMove(ctx context.Context, src fs.Fs, srcRemote, dstRemote string) error {
	srcFs, ok := src.(*Fs)
	if !ok || srcFs.acc != f.acc || srcFs.opt.SharedFolder != "" {
		return fs.ErrorCantDirMove
	}
	srcID, srcParentID, srcLeaf, dstParentID, dstLeaf, err := f.dirCache.DirMove(ctx, srcFs.dirCache, srcFs.root, srcRemote, f.root, dstRemote)
	if err != nil {
		return err
	}
	ids, err := folderIDs(srcID, srcParentID, dstParentID)
	if err != nil {
		return err
	}
	id, srcParent, dstParent := ids[0], ids[1], ids[2]
	newName := f.toAPIName(dstLeaf)
	if srcParent != dstParent {
		if err := f.moveFolder(ctx, id, &dstParent, ""); err != nil {
			return fmt.Errorf("couldn't move folder %q: %w", srcRemote, err)
		}
	}
	if srcLeaf != dstLeaf {
		if err := f.moveFolder(ctx, id, nil, newName); err != nil {
			return fmt.Errorf("couldn't rename folder %q: %w", srcRemote, err)
		}
	}
	f.acc.listings.removeFolder(srcParent, id, false)
	f.acc.listings.addFolder(dstParent, api.SubFolder{ID: id, Name: newName})
	srcFs.dirCache.FlushDir(srcRemote)
	return nil
}

// MergeDirs merges the contents of all the directories passed in into
// the first one and rmdirs the other directories.
func (f *Fs) MergeDirs(ctx context.Context, dirs []fs.Directory) error {
	if len(dirs) < 2 {
		return nil
	}
	dst, err := folderID(dirs[0].ID())
	if err != nil {
		return err
	}
	for _, dir := range dirs[1:] {
		if err := f.mergeDir(ctx, dir, dst); err != nil {
			return err
		}
	}
	return nil
}

// mergeDir moves everything in dir into folder dst, then removes dir.
func (f *Fs) mergeDir(ctx context.Context, dir fs.Directory, dst int) error {
	id, err := folderID(dir.ID())
	if err != nil {
		return err
	}
	l, err := f.listing(ctx, id, time.Duration(f.opt.ListCacheTime))
	if err != nil {
		return err
	}
	// As every server-side move (moveOps): journalled, and recorded in
	// the listings and in where this process saw each file.
	err = inBatches(l.files, func(batch []api.File) error {
		ops := make([]*serverOp, len(batch))
		for i, file := range batch {
			ops[i] = &serverOp{ctx: ctx, url: file.URL, from: id, name: file.Filename, file: file}
		}
		for _, r := range f.moveOps(ctx, dst, ops, time.Time{}) {
			if r.err != nil {
				return r.err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("MergeDirs: couldn't move files out of %q: %w", dir.Remote(), err)
	}
	for _, sub := range l.folders {
		if err := f.moveFolder(ctx, sub.ID, &dst, ""); err != nil {
			return fmt.Errorf("MergeDirs: couldn't move folder %q out of %q: %w", sub.Name, dir.Remote(), err)
		}
	}
	// The merged folder's contents are now known only to the server.
	f.acc.listings.relist(dst)
	f.acc.listings.setEmpty(id)
	_, parent, err := f.pathOf(ctx, dir.Remote(), false)
	if err != nil {
		return err
	}
	return f.removeFolder(ctx, dir.Remote(), id, parent)
}

// DirCacheFlush resets the directory cache and the account's listings,
// so changes made elsewhere are seen.
func (f *Fs) DirCacheFlush() {
	if f.dirCache != nil {
		f.dirCache.ResetRoot()
	}
	f.acc.listings.forgetListings()
}

// accountInfo returns user/info.cgi's answer, shared by every process:
// the endpoint may be called once a minute per IP and once per five
// minutes per user.
func (f *Fs) accountInfo(ctx context.Context) (*api.UserInfo, error) {
	info, err := f.readUserInfo(ctx, retryPaced)
	if err != nil {
		return nil, fmt.Errorf("couldn't read account info: %w", err)
	}
	return info, nil
}

// readUserInfo returns the account info: from the state when any process
// read it in the last five minutes (1fichier's spacing of user/info.cgi
// per user), else from the API once the IP's user/info slot is free,
// retried as retry says.
func (f *Fs) readUserInfo(ctx context.Context, retry retryPolicy) (*api.UserInfo, error) {
	if info, ok := f.acc.cachedUserInfo(f.acc.userInfoMaxAge()); ok {
		return info, nil
	}
	read := f.acc.readingUserInfo(ctx)
	var info api.UserInfo
	err := f.call(ctx, &apiCall{path: api.UserInfoPath, before: read.waitTurn, rules: f.acc.limits.userInfoRules(),
		request: struct{}{}, response: &info, retry: retry})
	return read.finish(&info, err)
}

// About gets quota information: cold storage used and allowed, and hot
// storage in Other.
func (f *Fs) About(ctx context.Context) (*fs.Usage, error) {
	info, err := f.accountInfo(ctx)
	if err != nil {
		return nil, err
	}
	if info.Overquota != 0 {
		fs.Logf(f, "1fichier account is over its cold storage quota: 1fichier may delete files")
	}
	if info.UploadForbidden != 0 {
		fs.Logf(f, "1fichier account may not upload at the moment (upload_forbidden)")
	}
	used, hot := int64(info.ColdStorage), int64(info.HotStorage)
	usage := &fs.Usage{Used: &used, Other: &hot}
	if total := int64(info.AvailableColdStorage); total > 0 {
		free := max(total-used, 0)
		usage.Total, usage.Free = &total, &free
	}
	return usage, nil
}

// UserInfo returns info about the connected user
func (f *Fs) UserInfo(ctx context.Context) (map[string]string, error) {
	info, err := f.accountInfo(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"Email":           info.Email,
		"Offer":           api.OfferName(info.Offer),
		"SubscriptionEnd": showAPITime(info.SubscriptionEnd),
		"CDNCredits":      strconv.FormatInt(int64(info.CDN), 10),
		"ColdStorage":     strconv.FormatInt(int64(info.ColdStorage), 10),
		"HotStorage":      strconv.FormatInt(int64(info.HotStorage), 10),
		"Overquota":       strconv.FormatInt(int64(info.Overquota), 10),
		"UploadForbidden": strconv.FormatInt(int64(info.UploadForbidden), 10),
	}, nil
}

// PublicLink returns a link for a file (its permanent URL) or a folder
// (a public share made with folder/share.cgi; unlink stops sharing it).
func (f *Fs) PublicLink(ctx context.Context, remote string, expire fs.Duration, unlink bool) (string, error) {
	o, err := f.findObject(ctx, remote, time.Duration(f.opt.ListCacheTime))
	if err == nil {
		if unlink {
			return "", errors.New("a 1fichier file link lasts as long as the file: delete the file, or set a password with the password command")
		}
		return o.url, nil
	}
	if !errors.Is(err, fs.ErrorObjectNotFound) {
		return "", err
	}
	id, err := f.folderOf(ctx, remote, false)
	if err != nil {
		return "", fs.ErrorObjectNotFound
	}
	req := api.ShareFolderRequest{FolderID: id, Share: 1}
	if unlink {
		req.Share = 0
	}
	var resp api.ShareFolderResponse
	if err := f.call(ctx, &apiCall{path: api.FolderShare, request: &req, response: &resp}); err != nil {
		return "", fmt.Errorf("couldn't share folder %q: %w", remote, err)
	}
	return resp.URL, nil
}

// ------------------------------------------------------------

// Fs returns the parent Fs
func (o *Object) Fs() fs.Info {
	return o.fs
}

// String returns a description of the Object
func (o *Object) String() string {
	if o == nil {
		return "<nil>"
	}
	return o.remote
}

// Remote returns the remote path
func (o *Object) Remote() string {
	return o.remote
}

// Hash returns the Whirlpool checksum of the object
func (o *Object) Hash(ctx context.Context, t hash.Type) (string, error) {
	if t != hash.Whirlpool {
		return "", hash.ErrUnsupported
	}
	return o.whirlpool, nil
}

// Size returns the size of an object in bytes
func (o *Object) Size() int64 {
	return o.size
}

// ModTime returns the upload date: 1fichier keeps no modification time.
func (o *Object) ModTime(ctx context.Context) time.Time {
	return o.modTime
}

// SetModTime is not supported: 1fichier keeps no modification time.
func (o *Object) SetModTime(ctx context.Context, modTime time.Time) error {
	return fs.ErrorCantSetModTime
}

// Storable returns a boolean showing whether this object storable
func (o *Object) Storable() bool {
	return true
}

// holds reports whether the object already has src's content: the same
// size and Whirlpool hash. A Put that finds it so sends nothing: rclone
// decided to upload from a listing taken before an earlier upload of the
// same file (a killed process's, found in the journal) was known, and
// uploading it again would only replace it with itself.
func (o *Object) holds(ctx context.Context, src fs.ObjectInfo) bool {
	if o.whirlpool == "" || src.Size() != o.size {
		return false
	}
	sum, err := src.Hash(ctx, hash.Whirlpool)
	return err == nil && strings.EqualFold(sum, o.whirlpool)
}

// twinHolding returns another file of the object's name in its folder,
// as the stored listing shows it, that holds src's content already: the
// new version an interrupted Update or upload stored, beside the old
// one that rclone took for the destination (of two files of one name it
// takes the first).
func (o *Object) twinHolding(ctx context.Context, src fs.ObjectInfo) *Object {
	l := o.fs.acc.listings.stored(o.folderID)
	if l == nil {
		return nil
	}
	name := o.apiName()
	for i := range l.files {
		file := &l.files[i]
		if file.URL == o.url || !sameName(file.Filename, name) {
			continue
		}
		if twin := o.fs.newObject(o.remote, o.folderID, file); twin.holds(ctx, src) {
			return twin
		}
	}
	return nil
}

// apiName is the object's file name as 1fichier stores it.
func (o *Object) apiName() string {
	return o.fs.toAPIName(path.Base(o.remote))
}

// apiFile describes the object as a listing entry called name.
func (o *Object) apiFile(name string) api.File {
	return api.File{
		URL:         o.url,
		Filename:    name,
		Size:        api.Int(o.size),
		Date:        apiTime(o.modTime),
		Checksum:    o.whirlpool,
		ContentType: o.contentType,
	}
}

// downloadLink returns a download URL for the object: the one we have if
// it is still valid, or a new one from get_token.cgi when fresh is set or
// we have none. Tokens are asked for with single=0 so one serves many
// range requests.
func (o *Object) downloadLink(ctx context.Context, fresh bool) (string, error) {
	if link, ok := o.fs.acc.token(o.url); ok && !fresh {
		return link, nil
	}
	// Streams opening the same file at once (multi-thread downloads, a
	// mount's readers) share the token the first one fetches.
	o.fs.acc.tokenFetch.Lock()
	defer o.fs.acc.tokenFetch.Unlock()
	if link, ok := o.fs.acc.token(o.url); ok && !fresh {
		return link, nil
	}
	req := api.GetTokenRequest{URL: o.url, Pass: o.fs.opt.FilePassword}
	if o.fs.opt.CDN {
		req.CDN = 1
	}
	var resp api.GetTokenResponse
	if err := o.fs.call(ctx, &apiCall{path: api.DownloadGetToken, request: &req, response: &resp}); err != nil {
		if apiKind(err) == api.KindNotFound {
			return "", fs.ErrorObjectNotFound
		}
		return "", fmt.Errorf("couldn't get a download link for %q: %w", o.remote, err)
	}
	if resp.URL == "" {
		return "", fmt.Errorf("couldn't get a download link for %q: 1fichier sent none", o.remote)
	}
	o.fs.acc.setToken(o.url, resp.URL, time.Now().Add(o.fs.acc.tokenLife()))
	return resp.URL, nil
}

// tokenRefused reports whether the download host refused the URL itself
// (expired, used up or unknown), so a new token may help.
func tokenRefused(resp *http.Response) bool {
	return resp != nil && (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone)
}

// Open an object for read. A download URL is reused for every read of the
// object while it is valid; a refused URL, and every retry, gets a new one.
func (o *Object) Open(ctx context.Context, options ...fs.OpenOption) (io.ReadCloser, error) {
	fs.FixRangeOption(options, o.size)
	var resp *http.Response
	fresh := false
	err := o.fs.pacer.Call(func() (bool, error) {
		link, err := o.downloadLink(ctx, fresh)
		if err != nil {
			return false, err
		}
		fresh = true
		resp, err = o.fs.plain.Call(ctx, &rest.Opts{Method: "GET", RootURL: link, Options: options})
		if err != nil {
			o.fs.acc.dropToken(o.url, link)
		}
		if tokenRefused(resp) {
			return true, err
		}
		return o.fs.shouldRetry(ctx, resp, err)
	})
	if err != nil {
		return nil, fmt.Errorf("couldn't download %q: %w", o.remote, err)
	}
	return resp.Body, nil
}

// Update the object with the contents of the io.Reader.
//
// Content the object already holds is not sent again (holds), whoever
// asks: a Put, a mount's write-back, a copy whose source was uploaded
// by an earlier run that the journal settled. The new content is uploaded first and the old file deleted after, so a
// failed upload loses nothing. Should the delete fail, the error names the
// old file left behind.
func (o *Object) Update(ctx context.Context, in io.Reader, src fs.ObjectInfo, options ...fs.OpenOption) error {
	if err := o.fs.readOnly(); err != nil {
		return err
	}
	if gone, err := o.folderMadeAgain(ctx); err != nil || gone {
		if err != nil {
			return err
		}
		// o went with its folder: the content is a new file of the
		// folder made again.
		obj, err := o.fs.Put(ctx, in, fs.NewOverrideRemote(src, o.remote), options...)
		if err != nil {
			return err
		}
		*o = *obj.(*Object)
		return nil
	}
	if o.holds(ctx, src) {
		fs.Debugf(o, "already holds this content (size and Whirlpool): nothing sent")
		return nil
	}
	// An earlier try of this Update, or another rclone's upload of the
	// name, may have stored the content with its answer lost: the
	// journal's entries of the folder are settled first.
	if err := o.fs.settleUploads(ctx, o.folderID, o.apiName()); err != nil {
		return err
	}
	if twin := o.twinHolding(ctx, src); twin != nil {
		fs.Debugf(o, "another file of this name holds this content already (%s): nothing sent, this one removed", twin.url)
		old := o.url
		*o = *twin
		if err := o.fs.removeFile(ctx, o.folderID, old); err != nil {
			return fmt.Errorf("couldn't delete the old version of %q (%s), which is left as a duplicate: %w", o.remote, old, err)
		}
		return nil
	}
	// The replacement is journalled first: should this process die
	// between the upload and the removal, whoever lists the folder next
	// removes the old file once the new one is stored (settleReplace).
	j := o.fs.acc.journal
	entry := j.beginOp(opReplace, o.folderID, []journalFile{{Name: o.apiName(), Size: src.Size(), From: o.url}})
	defer j.release(entry.xid)
	file, err := o.fs.upload(ctx, in, o.apiName(), o.folderID, src.Size(), options...)
	if err != nil {
		if !isLost(err) {
			j.record(o.folderID, entry.xid, nil, true)
		}
		return err
	}
	old := o.url
	*o = *o.fs.newObject(o.remote, o.folderID, file)
	if err := o.fs.removeFile(ctx, o.folderID, old); err != nil {
		return fmt.Errorf("uploaded the new version of %q but couldn't delete the old one (%s), which is left as a duplicate: %w", o.remote, old, err)
	}
	j.record(o.folderID, entry.xid, nil, true)
	return nil
}

// folderMadeAgain makes sure the folder of o still exists before o is
// replaced (Fs.ensureFolder), and reports whether it had been deleted by
// something else and was made again: o is then gone with it.
func (o *Object) folderMadeAgain(ctx context.Context) (bool, error) {
	dir, _ := dircache.SplitPath(o.remote)
	id, err := o.fs.ensureFolder(ctx, dir, o.folderID)
	return err == nil && id != o.folderID, err
}

// Remove an object
func (o *Object) Remove(ctx context.Context) error {
	if err := o.fs.readOnly(); err != nil {
		return err
	}
	// A file already gone counts as removed: a removal is safe to repeat.
	if err := o.fs.removeFile(ctx, o.folderID, o.url); err != nil {
		return fmt.Errorf("couldn't delete %q: %w", o.remote, err)
	}
	return nil
}

// MimeType of an Object if known, "" otherwise
func (o *Object) MimeType(ctx context.Context) string {
	return o.contentType
}

// ID returns the file's 1fichier URL, which identifies it.
func (o *Object) ID() string {
	return o.url
}

// Check the interfaces are satisfied
var (
	_ fs.Fs              = (*Fs)(nil)
	_ fs.Purger          = (*Fs)(nil)
	_ fs.PutUncheckeder  = (*Fs)(nil)
	_ fs.Copier          = (*Fs)(nil)
	_ fs.Mover           = (*Fs)(nil)
	_ fs.DirMover        = (*Fs)(nil)
	_ fs.MergeDirser     = (*Fs)(nil)
	_ fs.DirCacheFlusher = (*Fs)(nil)
	_ fs.Abouter         = (*Fs)(nil)
	_ fs.UserInfoer      = (*Fs)(nil)
	_ fs.PublicLinker    = (*Fs)(nil)
	_ fs.Commander       = (*Fs)(nil)
	_ dircache.DirCacher = (*Fs)(nil)
	_ fs.Object          = (*Object)(nil)
	_ fs.MimeTyper       = (*Object)(nil)
	_ fs.IDer            = (*Object)(nil)
)
