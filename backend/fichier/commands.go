package fichier

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/lib/rest"
)

const (
	// scanLimit is the largest file 1fichier's antivirus scans (under 5 GB).
	scanLimit = 5e9
	// minPassword is the shortest password 1fichier accepts on a file or
	// a shared folder.
	minPassword = 6
	// Polling remote/info.cgi: the job runs on 1fichier's side at its own
	// pace, so ask often at first and then calmly.
	remotePollFirst = time.Second
	remotePollMax   = 30 * time.Second
)

var commandHelp = []fs.CommandHelp{{
	Name:  "remote-upload",
	Short: "Ask 1fichier to fetch URLs into a folder.",
	Long: `This asks 1fichier to download one or more URLs itself (a "remote
upload") into the folder of the remote. Nothing passes through this
machine, so it is the fastest way to move a file from a web server to
1fichier.

Usage examples:

` + "```console" + `
rclone backend remote-upload 1fichier:incoming https://example.com/file.iso
rclone backend remote-upload 1fichier:incoming URL1 URL2 -o wait
` + "```" + `

Without ` + "`-o wait`" + ` it prints the ID of the job and returns at once; see
its progress with the remote-status command. With ` + "`-o wait`" + ` it follows
the job (at -v it logs each URL as it is done) and prints the 1fichier
link of every file fetched, or the reason it failed.`,
	Opts: map[string]string{
		"wait":    "Wait for the job to finish and print the resulting links.",
		"timeout": "With wait, give up waiting after this long (e.g. 1h); the job carries on.",
	},
}, {
	Name:  "remote-status",
	Short: "Show remote upload jobs.",
	Long: `Without an argument this lists the account's remote upload jobs with
the dates they were asked for and finished. With a job ID it shows that
job: each URL, whether it was fetched, and the link of the file made.

Usage examples:

` + "```console" + `
rclone backend remote-status 1fichier:
rclone backend remote-status 1fichier: 123456
` + "```",
}, {
	Name:  "account",
	Short: "Show the account: offer, e-mail, subscription, quotas and CDN credits.",
	Long: `This shows what 1fichier says about the account of the API key: the
e-mail, the offer (Premium or Access), when the subscription ends, the
cold and hot storage used and allowed, and the CDN credits.

1fichier answers this at most once per minute per address and once per
five minutes per account, so the answer may be up to five minutes old.

` + "```console" + `
rclone backend account 1fichier:
` + "```",
}, {
	Name:  "password",
	Short: "Set or remove the download password of a file or a shared folder.",
	Long: `For a file this sets the password asked for when the file's link is
opened (1fichier's access password). For a folder it sets the password
of the folder's public share; a folder that is not shared yet is shared
by setting one, and its link is printed. Passwords have at least 6
characters.

Usage examples:

` + "```console" + `
rclone backend password 1fichier:dir file.bin -o set=secret123
rclone backend password 1fichier:dir file.bin -o clear
rclone backend password 1fichier: folder -o set=secret123
` + "```",
	Opts: map[string]string{
		"set":   "The new password (at least 6 characters).",
		"clear": "Remove the password.",
	},
}, {
	Name:  "share",
	Short: "Share a folder publicly, or stop sharing it.",
	Long: `This makes a public link for a folder (a https://1fichier.com/dir/...
page listing its files) and prints it. With no argument the folder of
the remote itself is shared.

Usage examples:

` + "```console" + `
rclone backend share 1fichier: photos
rclone backend share 1fichier: photos -o password=secret123
rclone backend share 1fichier: photos -o unshare
` + "```" + `

The link can be read by rclone with the shared_folder option, by anyone.`,
	Opts: map[string]string{
		"password": "Protect the shared folder with this password (at least 6 characters).",
		"unshare":  "Stop sharing the folder.",
	},
}, {
	Name:  "acl",
	Short: "Restrict who may download a file.",
	Long: `This sets the access list of a file: the addresses, countries and
1fichier accounts allowed to download it, and whether only premium
users may. The options given replace the whole list; several values of
one option are separated by commas.

Usage examples:

` + "```console" + `
rclone backend acl 1fichier:dir file.bin -o ip=203.0.113.0/24,198.51.100.7
rclone backend acl 1fichier:dir file.bin -o country=FR,BE -o premium=1
rclone backend acl 1fichier:dir file.bin -o email=friend@example.com
rclone backend acl 1fichier:dir file.bin -o clear
` + "```",
	Opts: map[string]string{
		"ip":      "Allowed IP addresses or CIDR ranges, comma separated.",
		"country": "Allowed countries as ISO codes (FR, DE, ...), comma separated.",
		"email":   "E-mail addresses of the 1fichier accounts allowed, comma separated.",
		"premium": "Set to 1 to allow premium users only.",
		"clear":   "Remove every restriction.",
	},
}, {
	Name:  "scan",
	Short: "Scan a file with 1fichier's antivirus.",
	Long: `This asks 1fichier to scan a file for viruses and prints the result.
Only files under 5 GB can be scanned; 1fichier keeps a result for 6
hours, and says when the answer comes from that cache. A file found
infected is removed by 1fichier.

` + "```console" + `
rclone backend scan 1fichier:dir file.bin
` + "```",
}, {
	Name:  "token",
	Short: "Print a direct download URL for a file.",
	Long: `This asks 1fichier for a temporary direct download URL of a file, for
use with another tool (curl, wget, a media player). The URL works for
about 5 minutes, needs no API key and honours range requests. The file
password (file_password) and cdn options apply.

` + "```console" + `
rclone backend token 1fichier:dir file.bin
curl -o file.bin "$(rclone backend token 1fichier:dir file.bin | jq -r .url)"
` + "```",
}, {
	Name:  "forget",
	Short: "Drop the listings and answers stored for this key on this machine.",
	Long: `Every rclone process on this machine shares what it learnt about the
account of an API key: folder listings, the account info, download URLs,
and the clocks of 1fichier's rules. They live in a small file under
rclone's cache directory (see ` + "`rclone config paths`" + `), named by a hash
(the key itself is not in it). This drops the stored listings, account
info and download URLs of the remote's key, for every process, so the
next commands fetch them afresh (each folder still waits for its 30 s
listing slot).

The rate clocks and any flood lock are kept: forgetting them would let
the next calls break 1fichier's rules and lock the account. Add
` + "`-o clocks`" + ` to drop them too, only if they are wrong (after changing
the system clock, say).

` + "```console" + `
rclone backend forget 1fichier:
rclone rc backend/command command=forget fs=1fichier:
` + "```",
	Opts: map[string]string{
		"clocks": "Also drop the rate clocks and the flood lock (risky: the next calls may break 1fichier's limits).",
	},
}}

// Command the backend to run a named command
//
// The command run is name
// args may be used to read arguments from
// opts may be used to read optional arguments from
//
// The result should be capable of being JSON encoded
// If it is a string or a []string it will be shown to the user
// otherwise it will be JSON encoded and shown to the user like that
func (f *Fs) Command(ctx context.Context, name string, arg []string, opt map[string]string) (any, error) {
	if f.opt.SharedFolder != "" {
		return nil, errors.New("backend commands need an API key: they do not work on a shared_folder remote")
	}
	switch name {
	case "remote-upload":
		return f.remoteUpload(ctx, arg, opt)
	case "remote-status":
		return f.remoteStatus(ctx, arg)
	case "account":
		return f.account(ctx)
	case "password":
		return f.password(ctx, arg, opt)
	case "share":
		return f.share(ctx, arg, opt)
	case "acl":
		return f.setACL(ctx, arg, opt)
	case "scan":
		return f.scan(ctx, arg)
	case "token":
		return f.token(ctx, arg)
	case "forget":
		return f.forgetCommand(opt)
	}
	return nil, fs.ErrorCommandNotFound
}

// oneArg returns the single argument a command takes.
func oneArg(command, what string, arg []string) (string, error) {
	if len(arg) != 1 || arg[0] == "" {
		return "", fmt.Errorf("%s needs exactly one %s argument", command, what)
	}
	return arg[0], nil
}

// folderOf returns the ID of folder dir (relative to the root), creating
// it when create is set.
func (f *Fs) folderOf(ctx context.Context, dir string, create bool) (int, error) {
	dirID, err := f.dirCache.FindDir(ctx, dir, create)
	if err != nil {
		return 0, fmt.Errorf("couldn't find folder %q: %w", dir, err)
	}
	return folderID(dirID)
}

// RemoteUploadResult is the outcome of one URL of a remote upload.
type RemoteUploadResult struct {
	URL     string `json:"url"`
	Status  string `json:"status"` // OK, KO, or "running" when not fetched yet
	Link    string `json:"link,omitempty"`
	Message string `json:"message,omitempty"`
}

// RemoteUploadJob is a remote upload as the remote-upload and
// remote-status commands print it.
type RemoteUploadJob struct {
	ID        int64                `json:"id"`
	Requested string               `json:"requested,omitempty"`
	Finished  string               `json:"finished,omitempty"`
	Done      bool                 `json:"done"`
	Results   []RemoteUploadResult `json:"results,omitempty"`
}

// remoteUpload asks 1fichier to fetch the URLs in arg into the root folder.
func (f *Fs) remoteUpload(ctx context.Context, arg []string, opt map[string]string) (any, error) {
	if len(arg) == 0 {
		return nil, errors.New("remote-upload needs at least one URL")
	}
	for _, u := range arg {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return nil, fmt.Errorf("remote-upload: %q is not an http(s) URL", u)
		}
	}
	var timeout time.Duration
	if s, ok := opt["timeout"]; ok {
		d, err := fs.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("remote-upload: bad timeout: %w", err)
		}
		timeout = d
	}
	id, err := f.folderOf(ctx, "", true)
	if err != nil {
		return nil, err
	}
	req := api.RemoteUploadRequest{URLs: arg, FolderID: id}
	var resp api.RemoteUploadResponse
	if err := f.apiPost(ctx, "remote/request.cgi", &req, &resp); err != nil {
		return nil, fmt.Errorf("couldn't start the remote upload: %w", err)
	}
	fs.Infof(f, "remote upload %d: asked 1fichier to fetch %d URL(s)", resp.ID, len(arg))
	wait, err := optBool(opt, "wait")
	if err != nil {
		return nil, err
	}
	if !wait {
		return &RemoteUploadJob{ID: int64(resp.ID)}, nil
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	job, err := f.waitRemote(ctx, int64(resp.ID), len(arg))
	// The fetched files are in the folder: our listing no longer is.
	f.acc.listings.forget(id)
	return job, err
}

// waitRemote polls remote/info.cgi until job id has fetched all of its n URLs.
func (f *Fs) waitRemote(ctx context.Context, id int64, n int) (*RemoteUploadJob, error) {
	wait := remotePollFirst
	reported := 0
	for {
		if err := sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("stopped waiting for remote upload %d (it carries on; see remote-status %d): %w", id, id, err)
		}
		wait = min(2*wait, remotePollMax)
		job, err := f.remoteJob(ctx, id)
		if err != nil {
			return nil, err
		}
		fetched := 0
		for _, r := range job.Results {
			if r.Status == "running" {
				continue
			}
			if fetched++; fetched > reported {
				if r.Status == "OK" {
					fs.Infof(f, "remote upload %d: %d/%d: fetched %s as %s", id, fetched, n, r.URL, r.Link)
				} else {
					fs.Logf(f, "remote upload %d: %d/%d: couldn't fetch %s: %s", id, fetched, n, r.URL, r.Message)
				}
				reported = fetched
			}
		}
		if job.Done {
			return job, nil
		}
	}
}

// remoteJob reads job id with remote/info.cgi. The job's URLs not
// fetched yet show as running.
func (f *Fs) remoteJob(ctx context.Context, id int64) (*RemoteUploadJob, error) {
	var resp api.RemoteInfoResponse
	if err := f.apiPost(ctx, "remote/info.cgi", &api.RemoteInfoRequest{ID: id}, &resp); err != nil {
		return nil, fmt.Errorf("couldn't read remote upload %d: %w", id, err)
	}
	job := &RemoteUploadJob{
		ID:        id,
		Requested: string(resp.RequestDate),
		Finished:  string(resp.ExecutionDate),
		Done:      resp.ExecutionDate != "",
	}
	done := map[string]bool{}
	for _, r := range resp.Result {
		job.Results = append(job.Results, RemoteUploadResult{URL: r.URL, Status: r.Status, Link: r.DownloadLink, Message: r.Message})
		done[r.URL] = true
	}
	for _, u := range resp.Links {
		if !done[u] && !job.Done {
			job.Results = append(job.Results, RemoteUploadResult{URL: u, Status: "running"})
		}
	}
	return job, nil
}

// remoteStatus lists the remote upload jobs, or shows one.
func (f *Fs) remoteStatus(ctx context.Context, arg []string) (any, error) {
	switch len(arg) {
	case 0:
		var resp api.RemoteListResponse
		opts := rest.Opts{Method: "POST", Path: "/remote/ls.cgi"}
		if err := f.call(ctx, &opts, struct{}{}, &resp, nil); err != nil {
			return nil, fmt.Errorf("couldn't list remote uploads: %w", err)
		}
		jobs := make([]RemoteUploadJob, 0, len(resp.Data))
		for _, j := range resp.Data {
			jobs = append(jobs, RemoteUploadJob{
				ID:        int64(j.ID),
				Requested: string(j.RequestDate),
				Finished:  string(j.ExecutionDate),
				Done:      j.ExecutionDate != "",
			})
		}
		return jobs, nil
	case 1:
		id, err := strconv.ParseInt(arg[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("remote-status: %q is not a job ID", arg[0])
		}
		return f.remoteJob(ctx, id)
	}
	return nil, errors.New("remote-status takes at most one job ID")
}

// AccountInfo is the account as the account command prints it. Sizes are
// in bytes.
type AccountInfo struct {
	Email                string `json:"email"`
	Offer                string `json:"offer"`
	SubscriptionEnd      string `json:"subscription_end,omitempty"`
	ColdStorageUsed      int64  `json:"cold_storage_used"`
	ColdStorageAvailable int64  `json:"cold_storage_available"`
	ColdStorageAllowed   int64  `json:"cold_storage_allowed"`
	HotStorageUsed       int64  `json:"hot_storage_used"`
	HotStorageAvailable  int64  `json:"hot_storage_available"`
	CDNCreditsGB         int64  `json:"cdn_credits_gb"`
	UseCDN               bool   `json:"use_cdn"`
	Overquota            int64  `json:"overquota"`
	UploadForbidden      bool   `json:"upload_forbidden"`
}

// newAccountInfo converts user/info.cgi's answer.
func newAccountInfo(info *api.UserInfo) *AccountInfo {
	return &AccountInfo{
		Email:                info.Email,
		Offer:                api.OfferName(info.Offer),
		SubscriptionEnd:      string(info.SubscriptionEnd),
		ColdStorageUsed:      int64(info.ColdStorage),
		ColdStorageAvailable: int64(info.AvailableColdStorage),
		ColdStorageAllowed:   int64(info.AllowedColdStorage),
		HotStorageUsed:       int64(info.HotStorage),
		HotStorageAvailable:  int64(info.AvailableStorage),
		CDNCreditsGB:         int64(info.CDN),
		UseCDN:               info.UseCDN != 0,
		Overquota:            int64(info.Overquota),
		UploadForbidden:      info.UploadForbidden != 0,
	}
}

// account shows the account (cached: user/info.cgi is rate limited).
func (f *Fs) account(ctx context.Context) (any, error) {
	info, err := f.accountInfo(ctx)
	if err != nil {
		return nil, err
	}
	return newAccountInfo(info), nil
}

// checkPassword refuses a password 1fichier would refuse, before any call.
func checkPassword(pass string) error {
	if len(pass) < minPassword {
		return fmt.Errorf("1fichier passwords have at least %d characters", minPassword)
	}
	return nil
}

// Protection is the result of the password and share commands.
type Protection struct {
	File     string `json:"file,omitempty"`
	Folder   string `json:"folder,omitempty"`
	URL      string `json:"url,omitempty"`
	Shared   bool   `json:"shared"`
	Password bool   `json:"password"`
}

// password sets or clears the password of a file or of a folder's share.
func (f *Fs) password(ctx context.Context, arg []string, opt map[string]string) (any, error) {
	remote, err := oneArg("password", "FILE or FOLDER", arg)
	if err != nil {
		return nil, err
	}
	newPass, set := opt["set"]
	clear, err := optBool(opt, "clear")
	if err != nil {
		return nil, err
	}
	if set == clear {
		return nil, errors.New("password needs either -o set=PASSWORD or -o clear")
	}
	if set {
		if err := checkPassword(newPass); err != nil {
			return nil, err
		}
	}
	o, err := f.findObject(ctx, remote, time.Duration(f.opt.ListCacheTime))
	if err == nil {
		req := api.ChattrRequest{URLs: []string{o.url}, Pass: &newPass}
		var resp api.ChattrResponse
		if err := f.apiPost(ctx, "file/chattr.cgi", &req, &resp); err != nil {
			return nil, fmt.Errorf("couldn't change the password of %q: %w", remote, err)
		}
		f.acc.listings.update(o.folderID, func(l *folderListing) {
			for i := range l.files {
				if l.files[i].URL == o.url {
					l.files[i].Pass = api.Int(len(newPass))
				}
			}
		})
		return &Protection{File: remote, URL: o.url, Shared: true, Password: set}, nil
	}
	if !errors.Is(err, fs.ErrorObjectNotFound) {
		return nil, err
	}
	id, err := f.folderOf(ctx, remote, false)
	if err != nil {
		return nil, fmt.Errorf("password: no file or folder %q", remote)
	}
	if clear {
		// Setting an empty password would share a private folder.
		info, err := f.folderInfo(ctx, id)
		if err != nil {
			return nil, err
		}
		if info.Shared == "" {
			return &Protection{Folder: remote}, nil
		}
	}
	return f.shareFolder(ctx, remote, id, &newPass)
}

// forgetCommand drops what the shared state keeps for the key, and says
// what it dropped.
func (f *Fs) forgetCommand(opt map[string]string) (any, error) {
	_, clocks := opt["clocks"]
	if err := f.acc.forget(clocks); err != nil {
		return nil, fmt.Errorf("couldn't clear the shared state: %w", err)
	}
	if f.dirCache != nil {
		f.dirCache.ResetRoot()
	}
	if clocks {
		fs.Logf(f, "dropped the stored listings, account info, download URLs, rate clocks and flood lock of this key")
		return "forgot listings, account info, download URLs and clocks", nil
	}
	return "forgot listings, account info and download URLs", nil
}

// folderInfo reads folder id's own details. It is a listing of the
// folder, so it waits for the folder's listing interval.
func (f *Fs) folderInfo(ctx context.Context, id int) (*api.FolderInfoResponse, error) {
	var resp api.FolderInfoResponse
	opts := rest.Opts{Method: "POST", Path: "/folder/ls.cgi"}
	wait := func() error { return f.acc.limits.waitList(ctx, id) }
	if err := f.call(ctx, &opts, &api.FolderInfoRequest{FolderID: id}, &resp, wait); err != nil {
		return nil, fmt.Errorf("couldn't read folder %d: %w", id, err)
	}
	return &resp, nil
}

// shareFolder shares folder id (named remote) publicly. A non-nil pass
// sets (or with "" removes) the share's password.
func (f *Fs) shareFolder(ctx context.Context, remote string, id int, pass *string) (*Protection, error) {
	var resp api.ShareFolderResponse
	var err error
	if pass != nil {
		err = f.apiPost(ctx, "folder/share.cgi", &api.SharePasswordRequest{FolderID: id, Share: 1, Pass: *pass}, &resp)
	} else {
		err = f.apiPost(ctx, "folder/share.cgi", &api.ShareFolderRequest{FolderID: id, Share: 1}, &resp)
	}
	if err != nil {
		return nil, fmt.Errorf("couldn't share folder %q: %w", remote, err)
	}
	return &Protection{Folder: remote, URL: resp.URL, Shared: true, Password: pass != nil && *pass != ""}, nil
}

// share shares a folder publicly, or stops sharing it.
func (f *Fs) share(ctx context.Context, arg []string, opt map[string]string) (any, error) {
	remote := ""
	switch len(arg) {
	case 0:
	case 1:
		remote = arg[0]
	default:
		return nil, errors.New("share takes at most one FOLDER argument")
	}
	pass, withPass := opt["password"]
	unshare, err := optBool(opt, "unshare")
	if err != nil {
		return nil, err
	}
	if unshare && withPass {
		return nil, errors.New("share: -o unshare and -o password don't go together")
	}
	if withPass {
		if err := checkPassword(pass); err != nil {
			return nil, err
		}
	}
	id, err := f.folderOf(ctx, remote, false)
	if err != nil {
		return nil, err
	}
	if unshare {
		var resp api.ShareFolderResponse
		if err := f.apiPost(ctx, "folder/share.cgi", &api.ShareFolderRequest{FolderID: id, Share: 0}, &resp); err != nil {
			return nil, fmt.Errorf("couldn't stop sharing folder %q: %w", remote, err)
		}
		return &Protection{Folder: remote}, nil
	}
	if !withPass {
		return f.shareFolder(ctx, remote, id, nil)
	}
	return f.shareFolder(ctx, remote, id, &pass)
}

// optBool reads a yes/no option: "-o name" alone means yes.
func optBool(opt map[string]string, name string) (bool, error) {
	v, ok := opt[name]
	if !ok {
		return false, nil
	}
	switch strings.ToLower(v) {
	case "", "1", "true", "yes":
		return true, nil
	case "0", "false", "no":
		return false, nil
	}
	return false, fmt.Errorf("-o %s: want true or false, not %q", name, v)
}

// splitList splits a comma separated option value, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// FileACL is the result of the acl command.
type FileACL struct {
	File string  `json:"file"`
	URL  string  `json:"url"`
	ACL  api.ACL `json:"acl"`
}

// setACL replaces the access list of a file.
func (f *Fs) setACL(ctx context.Context, arg []string, opt map[string]string) (any, error) {
	remote, err := oneArg("acl", "FILE", arg)
	if err != nil {
		return nil, err
	}
	var acl api.ACL
	clear, err := optBool(opt, "clear")
	if err != nil {
		return nil, err
	}
	for k, v := range opt {
		switch k {
		case "ip":
			acl.IP = splitList(v)
		case "country":
			for _, c := range splitList(v) {
				acl.Country = append(acl.Country, strings.ToUpper(c))
			}
		case "email":
			acl.Email = splitList(v)
		case "premium":
			premium, err := optBool(opt, k)
			if err != nil {
				return nil, err
			}
			if premium {
				acl.Premium = 1
			}
		case "clear":
		default:
			return nil, fmt.Errorf("acl: unknown option %q", k)
		}
	}
	empty := len(acl.IP)+len(acl.Country)+len(acl.Email) == 0 && acl.Premium == 0
	if clear != empty {
		return nil, errors.New("acl needs -o ip=, country=, email= or premium=1, or -o clear on its own")
	}
	o, err := f.findObject(ctx, remote, time.Duration(f.opt.ListCacheTime))
	if err != nil {
		return nil, fmt.Errorf("acl: %q: %w", remote, err)
	}
	var resp api.ChattrResponse
	if err := f.apiPost(ctx, "file/chattr.cgi", &api.ChattrRequest{URLs: []string{o.url}, ACL: &acl}, &resp); err != nil {
		return nil, fmt.Errorf("couldn't change the access list of %q: %w", remote, err)
	}
	return &FileACL{File: remote, URL: o.url, ACL: acl}, nil
}

// ScanResult is the result of the scan command.
type ScanResult struct {
	File    string `json:"file"`
	Status  string `json:"status"`
	Message string `json:"message"`
	Cached  string `json:"cached_since,omitempty"`
}

// scan has 1fichier's antivirus scan a file.
func (f *Fs) scan(ctx context.Context, arg []string) (any, error) {
	remote, err := oneArg("scan", "FILE", arg)
	if err != nil {
		return nil, err
	}
	o, err := f.findObject(ctx, remote, time.Duration(f.opt.ListCacheTime))
	if err != nil {
		return nil, fmt.Errorf("scan: %q: %w", remote, err)
	}
	if o.size >= scanLimit {
		return nil, fmt.Errorf("scan: %q is %v: 1fichier only scans files under 5 GB", remote, fs.SizeSuffix(o.size))
	}
	var resp api.ScanResponse
	if err := f.apiPost(ctx, "file/scan.cgi", &api.ScanRequest{URL: o.url}, &resp); err != nil {
		return nil, fmt.Errorf("couldn't scan %q: %w", remote, err)
	}
	return &ScanResult{File: remote, Status: resp.Status.Status, Message: resp.Message, Cached: string(resp.Date)}, nil
}

// DownloadToken is the result of the token command.
type DownloadToken struct {
	File    string    `json:"file"`
	URL     string    `json:"url"`
	Expires time.Time `json:"expires"`
}

// token returns a fresh direct download URL of a file.
func (f *Fs) token(ctx context.Context, arg []string) (any, error) {
	remote, err := oneArg("token", "FILE", arg)
	if err != nil {
		return nil, err
	}
	o, err := f.findObject(ctx, remote, time.Duration(f.opt.ListCacheTime))
	if err != nil {
		return nil, fmt.Errorf("token: %q: %w", remote, err)
	}
	link, err := o.downloadLink(ctx, true)
	if err != nil {
		return nil, err
	}
	return &DownloadToken{File: remote, URL: link, Expires: time.Now().Add(tokenLifetime).UTC().Truncate(time.Second)}, nil
}
