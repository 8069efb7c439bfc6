package fichier

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/fs"
)

const (
	// scanLimit is the largest file 1fichier's antivirus scans (under 5 GB).
	scanLimit = 5e9
	// minPassword is the shortest password 1fichier accepts on a file or
	// a shared folder.
	minPassword = 6
)

// commandHelp is the table of the backend's commands, in the order
// "rclone backend help" shows them; each help text sits beside its
// command.
var commandHelp = []fs.CommandHelp{
	remoteUploadHelp,
	remoteStatusHelp,
	accountHelp,
	passwordHelp,
	shareHelp,
	aclHelp,
	scanHelp,
	importHelp,
	tokenHelp,
	forgetHelp,
	statusHelp,
}

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
		return f.remoteUploadCommand(ctx, arg, opt)
	case "remote-status":
		return f.remoteStatusCommand(ctx, arg)
	case "account":
		return f.accountCommand(ctx)
	case "password":
		return f.passwordCommand(ctx, arg, opt)
	case "share":
		return f.shareCommand(ctx, arg, opt)
	case "acl":
		return f.aclCommand(ctx, arg, opt)
	case "scan":
		return f.scanCommand(ctx, arg)
	case "token":
		return f.tokenCommand(ctx, arg, opt)
	case "import":
		return f.importCommand(ctx, arg, opt)
	case "forget":
		return f.forgetCommand(opt)
	case "status":
		return f.statusCommand(ctx, opt)
	}
	return nil, fs.ErrorCommandNotFound
}

// oneArg returns the single argument a command takes.
func oneArg(command, what string, arg []string) (string, error) {
	if len(arg) != 1 || arg[0] == "" {
		if fileCommands[command] {
			return "", fmt.Errorf("%s needs exactly one %s: %s", command, what, fileForm)
		}
		return "", fmt.Errorf("%s needs exactly one %s argument", command, what)
	}
	return arg[0], nil
}

// commandFile finds the file remote that command acts on; an error says
// which forms name a file.
func (f *Fs) commandFile(ctx context.Context, command, remote string) (*Object, error) {
	o, err := f.findObject(ctx, remote, time.Duration(f.opt.ListCacheTime))
	if errors.Is(err, fs.ErrorObjectNotFound) {
		return nil, fmt.Errorf("%s: no file %q in %v (%s): %w", command, remote, f, fileForm, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %q: %w", command, remote, err)
	}
	return o, nil
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
		SubscriptionEnd:      showAPITime(info.SubscriptionEnd),
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

// accountHelp is the help of the account command.
var accountHelp = fs.CommandHelp{
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
}

// accountCommand shows the account (cached: user/info.cgi is rate limited).
func (f *Fs) accountCommand(ctx context.Context) (any, error) {
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

// passwordHelp is the help of the password command.
var passwordHelp = fs.CommandHelp{
	Name:  "password",
	Short: "Set or remove the download password of a file or a shared folder.",
	Long: `For a file this sets the password asked for when the file's link is
opened (1fichier's access password). For a folder it sets the password
of the folder's public share; a folder that is not shared yet is shared
by setting one, and its link is printed. Passwords have at least 6
characters.

Usage examples:

` + "```console" + `
rclone backend password 1fichier:dir/file.bin -o set=secret123
rclone backend password 1fichier:dir/file.bin -o clear
rclone backend password 1fichier:folder -o set=secret123
rclone backend password 1fichier:dir file.bin -o set=secret123
` + "```" + `

The file or folder is named in the remote's path, or as an argument
after the remote (the last line): both forms do the same. Through the
remote control, give the folder as fs and the file as the argument:
` + "`rclone rc backend/command command=password fs=1fichier:dir -a file.bin -o set=secret123`" + `.`,
	Opts: map[string]string{
		"set":   "The new password (at least 6 characters).",
		"clear": "Remove the password.",
	},
}

// passwordCommand sets or clears the password of a file or of a folder's share.
func (f *Fs) passwordCommand(ctx context.Context, arg []string, opt map[string]string) (any, error) {
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
		if err := f.call(ctx, &apiCall{path: api.FileChattr, request: &req, response: &resp}); err != nil {
			return nil, fmt.Errorf("couldn't change the password of %q: %w", remote, err)
		}
		// Listings carry a 0/1 flag for "has a password".
		var hasPass api.Int
		if set {
			hasPass = 1
		}
		f.acc.listings.update(o.folderID, func(l *folderListing) {
			for i := range l.files {
				if l.files[i].URL == o.url {
					l.files[i].Pass = hasPass
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
		return nil, fmt.Errorf("password: no file or folder %q in %v (%s)", remote, f, fileForm)
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

// forgetHelp is the help of the forget command.
var forgetHelp = fs.CommandHelp{
	Name:  "forget",
	Short: "Drop the listings and answers stored for this key on this machine.",
	Long: `Every rclone process on this machine shares what it learnt about the
account of an API key: folder listings, the account info, download URLs,
and the clocks of 1fichier's rules. They live in a small file under
rclone's cache directory (see ` + "`rclone config paths`" + `), named by a hash
(the key itself is not in it). This drops the stored listings, account
info and download URLs of the remote's key, for every process, so the
next commands fetch them afresh (each folder still waits for its 30 s
listing slot, and the account info for its 5 minutes).

Every rate clock and any flood lock are kept (the call schedule, each
folder's listing slot, the account info's per-key and per-address
slots): forgetting them would let the next calls break 1fichier's rules
and lock the account. Add ` + "`-o clocks`" + ` to drop them too, only if they
are known to be wrong (a clock set back is followed by itself).

` + "```console" + `
rclone backend forget 1fichier:
rclone rc backend/command command=forget fs=1fichier:
` + "```",
	Opts: map[string]string{
		"clocks": "Also drop the rate clocks and the flood lock (risky: the next calls may break 1fichier's limits).",
	},
}

// forgetCommand drops what the shared state keeps for the key, and says
// what it dropped.
func (f *Fs) forgetCommand(opt map[string]string) (any, error) {
	_, clocks := opt["clocks"]
	if err := f.acc.forgetAnswers(clocks); err != nil {
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
	wait := func() (func(), error) { return f.acc.limits.waitList(ctx, id) }
	call := &apiCall{path: api.FolderLs, before: wait, rules: []departRule{f.acc.limits.listRule(id)},
		request: &api.FolderInfoRequest{FolderID: id}, response: &resp}
	if err := f.call(ctx, call); err != nil {
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
		err = f.call(ctx, &apiCall{path: api.FolderShare, request: &api.SharePasswordRequest{FolderID: id, Share: 1, Pass: *pass}, response: &resp})
	} else {
		err = f.call(ctx, &apiCall{path: api.FolderShare, request: &api.ShareFolderRequest{FolderID: id, Share: 1}, response: &resp})
	}
	if err != nil {
		return nil, fmt.Errorf("couldn't share folder %q: %w", remote, err)
	}
	return &Protection{Folder: remote, URL: resp.URL, Shared: true, Password: pass != nil && *pass != ""}, nil
}

// shareHelp is the help of the share command.
var shareHelp = fs.CommandHelp{
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
}

// shareCommand shares a folder publicly, or stops sharing it.
func (f *Fs) shareCommand(ctx context.Context, arg []string, opt map[string]string) (any, error) {
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
		return nil, fmt.Errorf("share: couldn't find folder %q: %w", remote, err)
	}
	if unshare {
		var resp api.ShareFolderResponse
		if err := f.call(ctx, &apiCall{path: api.FolderShare, request: &api.ShareFolderRequest{FolderID: id, Share: 0}, response: &resp}); err != nil {
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

// aclHelp is the help of the acl command.
var aclHelp = fs.CommandHelp{
	Name:  "acl",
	Short: "Restrict who may download a file.",
	Long: `This sets the access list of a file: the addresses, countries and
1fichier accounts allowed to download it, and whether only premium
users may. The options given replace the whole list; several values of
one option are separated by commas.

Usage examples:

` + "```console" + `
rclone backend acl 1fichier:dir/file.bin -o ip=203.0.113.0/24,198.51.100.7
rclone backend acl 1fichier:dir/file.bin -o country=FR,BE -o premium=1
rclone backend acl 1fichier:dir/file.bin -o email=friend@example.com
rclone backend acl 1fichier:dir file.bin -o clear
` + "```" + `

The file is named in the remote's path or as an argument after the
remote (the last line).`,
	Opts: map[string]string{
		"ip":      "Allowed IP addresses or CIDR ranges, comma separated.",
		"country": "Allowed countries as ISO codes (FR, DE, ...), comma separated.",
		"email":   "E-mail addresses of the 1fichier accounts allowed, comma separated.",
		"premium": "Set to 1 to allow premium users only.",
		"clear":   "Remove every restriction.",
	},
}

// aclCommand replaces the access list of a file.
func (f *Fs) aclCommand(ctx context.Context, arg []string, opt map[string]string) (any, error) {
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
	o, err := f.commandFile(ctx, "acl", remote)
	if err != nil {
		return nil, err
	}
	var resp api.ChattrResponse
	if err := f.call(ctx, &apiCall{path: api.FileChattr, request: &api.ChattrRequest{URLs: []string{o.url}, ACL: &acl}, response: &resp}); err != nil {
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

// scanHelp is the help of the scan command.
var scanHelp = fs.CommandHelp{
	Name:  "scan",
	Short: "Scan a file with 1fichier's antivirus.",
	Long: `This asks 1fichier to scan a file for viruses and prints the result.
Only files under 5 GB can be scanned; 1fichier keeps a result for 6
hours, and says when the answer comes from that cache. A file found
infected is removed by 1fichier.

` + "```console" + `
rclone backend scan 1fichier:dir/file.bin
rclone backend scan 1fichier:dir file.bin
` + "```",
}

// scanCommand has 1fichier's antivirus scan a file.
func (f *Fs) scanCommand(ctx context.Context, arg []string) (any, error) {
	remote, err := oneArg("scan", "FILE", arg)
	if err != nil {
		return nil, err
	}
	o, err := f.commandFile(ctx, "scan", remote)
	if err != nil {
		return nil, err
	}
	if o.size >= scanLimit {
		return nil, fmt.Errorf("scan: %q is %v: 1fichier only scans files under 5 GB", remote, fs.SizeSuffix(o.size))
	}
	var resp api.ScanResponse
	if err := f.call(ctx, &apiCall{path: api.FileScan, request: &api.ScanRequest{URL: o.url}, response: &resp}); err != nil {
		return nil, fmt.Errorf("couldn't scan %q: %w", remote, err)
	}
	return &ScanResult{File: remote, Status: resp.Status.Status, Message: resp.Message, Cached: showAPITime(resp.Date)}, nil
}

// DownloadToken is the result of the token command.
type DownloadToken struct {
	File    string    `json:"file"`
	URL     string    `json:"url"`
	Expires time.Time `json:"expires"`
}

// tokenHelp is the help of the token command.
var tokenHelp = fs.CommandHelp{
	Name:  "token",
	Short: "Print a direct download URL for a file, or for anyone's 1fichier link.",
	Long: `This asks 1fichier for a temporary direct download URL of a file, for
use with another tool (curl, wget, a media player). The URL works for
about 5 minutes, needs no API key and honours range requests. The file
password (file_password) and cdn options apply.

The argument may also be a 1fichier file link (https://1fichier.com/?ID,
pasted in any of the forms the import command takes) of a file this
account does not own, such as someone else's public link: the premium
download then goes straight to the tool, with -o password= for a
protected file. It fails, saying why, for a file that is private or
whose access list leaves this account out.

` + "```console" + `
rclone backend token 1fichier:dir/file.bin
curl -o file.bin "$(rclone backend token 1fichier:dir/file.bin | jq -r .url)"
rclone backend token 1fichier: "https://1fichier.com/?abc123def4" -o password=secret123
` + "```",
	Opts: map[string]string{
		"password": "For a link: the file's password (default file_password).",
	},
}

// tokenCommand returns a fresh direct download URL of a file of the
// remote, or of any 1fichier file link the key may read.
func (f *Fs) tokenCommand(ctx context.Context, arg []string, opt map[string]string) (any, error) {
	remote, err := oneArg("token", "FILE", arg)
	if err != nil {
		return nil, err
	}
	// A file of the remote could be called "abcde.1fichier.com": only a
	// scheme or a query makes it a link.
	if link, _, ok := parseFileLink(remote); ok && strings.ContainsAny(remote, ":?") {
		return f.linkToken(ctx, link, opt)
	}
	o, err := f.commandFile(ctx, "token", remote)
	if err != nil {
		return nil, err
	}
	link, err := o.downloadLink(ctx, true)
	if err != nil {
		return nil, err
	}
	return &DownloadToken{File: remote, URL: link, Expires: time.Now().Add(f.acc.tokenLife()).Truncate(time.Second).Local()}, nil
}

// progressKey is the context key of a func(string) that receives, besides
// the log, the progress lines of a command (tests read them there).
type progressKey struct{}

// notice logs a progress line of a command at NOTICE level, which rclone
// shows without -v.
func notice(ctx context.Context, f *Fs, format string, args ...any) {
	fs.Logf(f, format, args...)
	if fn, ok := ctx.Value(progressKey{}).(func(string)); ok {
		fn(fmt.Sprintf(format, args...))
	}
}

// commandFolder returns the ID of the remote's folder for the backend
// command cmd, made first when create is set.
func (f *Fs) commandFolder(ctx context.Context, cmd string, create bool) (int, error) {
	id, err := f.folderOf(ctx, "", create)
	if err != nil {
		return 0, fmt.Errorf("%s: couldn't find the remote's folder: %w", cmd, err)
	}
	return id, nil
}
