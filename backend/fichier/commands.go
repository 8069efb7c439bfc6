package fichier

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/fserrors"
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
the job, logging (at NOTICE level, shown by default) when it was asked
for, each URL as it is fetched or fails ("2/5: fetched ..."), a line a
minute while nothing changes, and when it finished (times are RFC
3339, in local time). Then it
lists the folder once and logs every file stored with its name and
size, and prints the job: each URL with its 1fichier link, name and
size, or the reason it failed. It fails, naming them, when any URL
could not be fetched (the others are stored all the same).

1fichier keeps two files of one name in a folder. So that no duplicate
is made unawares, the command refuses before asking anything when the
folder already has a file of the name a URL ends with
(https://example.com/file.iso would be file.iso). A web server may send
another name; with ` + "`-o wait`" + ` the listing afterwards finds a name the
folder now has twice, marks the file "duplicate" and warns.`,
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
}, {
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
}, {
	Name:  "import",
	Short: "Copy files other people share on 1fichier into a folder, server side.",
	Long: `This copies 1fichier files by their links (https://1fichier.com/?ID,
as their owners share them) into the folder of the remote, without
downloading them: 1fichier makes the copies (file/cp.cgi), so it takes
seconds whatever the size, and the copies then belong to this account.
A link may be pasted as found: with or without https:// and www., with
parameters after the ID (&af=...), on any of 1fichier's domains, or in
the old https://ID.1fichier.com/ form.

Usage examples:

` + "```console" + `
rclone backend import 1fichier:incoming https://1fichier.com/?abc123def4
rclone backend import 1fichier:incoming URL1 URL2 -o password=secret123
rclone backend import 1fichier:incoming -o from=links.txt
` + "```" + `

With ` + "`-o from=FILE`" + ` the links are read from FILE (- for standard
input), one per line; blank lines and lines starting with # are
skipped, and a line may give the file's password after the link and a
space. ` + "`-o password`" + ` is the password of every link that has none of
its own. Progress is logged as the links are sent.

A copy call takes many links but one password, so links are sent in
groups of one password, 100 links to a call (1fichier documents no
limit; 100 is what this backend sends in its other calls on many
files): 250 links with one password take 3 calls. A call refused for
one of its links is split in two and each half sent again, down to the
link that was refused. 1fichier does not say what a copy is called, so
the folder is listed once afterwards (after waiting for its listing
interval if it was listed in the last 30 s); that listing goes into the
shared cache, so the next command sees the files without listing.

The command prints one line per link: the name stored and its size, or
why not. It fails, naming the links, if any was not imported: not
found, private, a password missing or wrong, an access list that leaves
this account out. rclone prints nothing of a command that fails, so the
lines are then logged instead.

Names already in the folder are not duplicated. 1fichier would keep two
files of one name, and every copy counts against the account's storage,
so a copy whose name the folder already had is removed at once: the link
is reported as skipped (not an error) when the file there has the same
checksum, since it is already imported, which makes running an import
of the same list again safe and cheap; and as refused (an error) when
the file there is a different one, which is kept. Rename or remove it
and import again to have both. Names cannot be checked before copying:
only 1fichier knows them, and asking it for each link (file/info.cgi)
would cost a call per link.

Once imported, files are ordinary files of the account: copy them
anywhere with rclone copy, which checks their Whirlpool checksums.`,
	Opts: map[string]string{
		"password": "Password of the links that have none in the list (1fichier's access password of the file).",
		"from":     "Read the links from this file (- for standard input), one per line, optionally followed by a space and the file's password.",
	},
}, {
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
}, {
	Name:  "status",
	Short: "Show the shared state of the remote's key: flood lock, call slots, listings, pending uploads.",
	Long: `This shows what every rclone process on this machine knows of the
remote's API key, from the shared state file, without any API call:
whether a flood lock holds and until when, the slowdown after recent
floods (calls spaced that many times further apart), the next free
call slot and account info slot, every folder under the remote whose
listing is stored (when it was fetched, how old it is, how many files,
and the earliest time 1fichier allows the next listing), the upload
requests of the journal not yet known to be stored, and the state
file's path and size. Times are RFC 3339 in local time.

Run it beside a command that waits (its NOTICE names this command) to
see what it waits for.

` + "```console" + `
rclone backend status 1fichier:
rclone backend status 1fichier:backup -o json
` + "```",
	Opts: map[string]string{
		"json": "Print the status as JSON, for scripts (durations in seconds).",
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

// RemoteUploadResult is the outcome of one URL of a remote upload.
type RemoteUploadResult struct {
	URL       string `json:"url"`
	Status    string `json:"status"` // OK, KO, or "running" when not fetched yet
	Link      string `json:"link,omitempty"`
	Message   string `json:"message,omitempty"`
	Name      string `json:"name,omitempty"`      // with -o wait, from the folder's listing
	Size      int64  `json:"size,omitempty"`      // bytes, likewise
	Duplicate bool   `json:"duplicate,omitempty"` // the folder has another file of this name
}

// RemoteUploadJob is a remote upload as the remote-upload and
// remote-status commands print it. Dates are RFC 3339, with 1fichier's
// zone (Europe/Paris) said.
type RemoteUploadJob struct {
	ID        int64                `json:"id"`
	Requested string               `json:"requested,omitempty"`
	Finished  string               `json:"finished,omitempty"`
	Done      bool                 `json:"done"`
	Results   []RemoteUploadResult `json:"results,omitempty"`
}

// remoteName is the name 1fichier gives the file fetched from u when the
// web server sends none: the last element of its path.
func remoteName(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	name := path.Base(p.Path)
	if name == "/" || name == "." {
		return ""
	}
	return name
}

// refuseKnownNames refuses URLs whose file name the folder id already
// has, before anything is asked of 1fichier, since it would keep both.
// The folder's listing is the cached one when there is one.
func (f *Fs) refuseKnownNames(ctx context.Context, id int, urls []string) error {
	l, err := f.listing(ctx, id, time.Duration(f.opt.ListCacheTime))
	if err != nil {
		return fmt.Errorf("remote-upload: couldn't list the folder to check names: %w", err)
	}
	have := map[string]bool{}
	for _, file := range l.files {
		have[file.Filename] = true
	}
	var taken []string
	for _, u := range urls {
		// 1fichier names the file itself: compare as it stores names.
		if name := remoteName(u); name != "" && have[name] {
			taken = append(taken, fmt.Sprintf("%q (from %s)", name, u))
		}
	}
	if len(taken) > 0 {
		return fmt.Errorf("remote-upload: nothing asked: the folder already has %s, and 1fichier would keep a second file of that name; remove or rename the file, or leave the URL out", nameSome(taken, 10))
	}
	return nil
}

// remoteUploadCommand asks 1fichier to fetch the URLs in arg into the root folder.
func (f *Fs) remoteUploadCommand(ctx context.Context, arg []string, opt map[string]string) (any, error) {
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
	wait, err := optBool(opt, "wait")
	if err != nil {
		return nil, err
	}
	id, err := f.folderOf(ctx, "", true)
	if err != nil {
		return nil, fmt.Errorf("remote-upload: couldn't find the remote's folder: %w", err)
	}
	req := api.RemoteUploadRequest{URLs: arg, FolderID: id}
	// An earlier rclone may have died asking for these very URLs: its
	// job, if 1fichier has it, is this one.
	jobID, err := f.earlierRemote(ctx, &req)
	if err != nil {
		return nil, fmt.Errorf("couldn't start the remote upload: %w", err)
	}
	if jobID == 0 {
		if err := f.refuseKnownNames(ctx, id, arg); err != nil {
			return nil, err
		}
		if jobID, err = f.requestRemote(ctx, &req); err != nil {
			return nil, fmt.Errorf("couldn't start the remote upload: %w", err)
		}
	}
	if !wait {
		fs.Infof(f, "remote upload %d: asked 1fichier to fetch %d URL(s)", jobID, len(arg))
		return &RemoteUploadJob{ID: jobID}, nil
	}
	notice(ctx, f, "remote upload %d: asked 1fichier to fetch %d URL(s); waiting for it (the job carries on if this stops)", jobID, len(arg))
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	job, err := f.waitRemote(ctx, jobID, len(arg))
	if err != nil {
		// Whatever was fetched is in the folder: our listing no longer is.
		f.acc.listings.forgetFolder(id)
		return nil, err
	}
	f.remoteStored(ctx, id, job)
	if err := remoteFailures(job); err != nil {
		return nil, err
	}
	return job, nil
}

// waitRemote polls remote/info.cgi until job id has fetched all of its
// n URLs, logging at NOTICE each URL as it is done.
func (f *Fs) waitRemote(ctx context.Context, id int64, n int) (*RemoteUploadJob, error) {
	wait := remotePollFirst
	reported := 0
	started, said := time.Now(), time.Now()
	for first := true; ; first = false {
		if err := sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("stopped waiting for remote upload %d after %v (it carries on; see remote-status %d): %w", id, time.Since(started).Round(time.Second), id, err)
		}
		wait = min(2*wait, remotePollMax)
		job, err := f.remoteJob(ctx, id)
		if err != nil {
			return nil, err
		}
		if first && job.Requested != "" {
			notice(ctx, f, "remote upload %d: asked at %s", id, job.Requested)
		}
		fetched := 0
		for _, r := range job.Results {
			if r.Status == "running" {
				continue
			}
			if fetched++; fetched > reported {
				if r.Status == "OK" {
					notice(ctx, f, "remote upload %d: %d/%d: fetched %s as %s", id, fetched, n, r.URL, r.Link)
				} else {
					notice(ctx, f, "remote upload %d: %d/%d: couldn't fetch %s: %s", id, fetched, n, r.URL, r.Message)
				}
				reported = fetched
				said = time.Now()
			}
		}
		if job.Done {
			notice(ctx, f, "remote upload %d: finished at %s", id, job.Finished)
			return job, nil
		}
		if time.Since(said) >= time.Minute {
			notice(ctx, f, "remote upload %d: %d/%d fetched after %v; still waiting", id, fetched, n, time.Since(started).Round(time.Second))
			said = time.Now()
		}
	}
}

// remoteStored lists folder id once the job is done, to give each file
// fetched its name and size and to find names the folder now has twice.
// The listing goes into the shared cache.
func (f *Fs) remoteStored(ctx context.Context, id int, job *RemoteUploadJob) {
	if !f.acc.limits.listSlotOpen(id) {
		// The wait itself is announced by the limits.
		notice(ctx, f, "remote upload %d: listing the folder to see what was stored", job.ID)
	}
	f.acc.listings.forgetFolder(id)
	l, err := f.listing(ctx, id, -1)
	if err != nil {
		fs.Errorf(f, "remote upload %d: couldn't list the folder to see what was stored: %v", job.ID, err)
		f.acc.listings.forgetFolder(id)
		return
	}
	byURL := map[string]api.File{}
	count := map[string]int{}
	for _, file := range l.files {
		byURL[file.URL] = file
		count[file.Filename]++
	}
	unlisted := false
	for i := range job.Results {
		r := &job.Results[i]
		if r.Status != "OK" {
			continue
		}
		file, ok := byURL[r.Link]
		if !ok {
			unlisted = true
			notice(ctx, f, "remote upload %d: stored %s (not in the folder's listing yet)", job.ID, r.Link)
			continue
		}
		r.Name, r.Size = f.fromAPIName(file.Filename), int64(file.Size)
		r.Duplicate = count[file.Filename] > 1
		notice(ctx, f, "remote upload %d: stored %q (%s) from %s", job.ID, r.Name, fs.SizeSuffix(r.Size).ByteUnit(), r.URL)
		if r.Duplicate {
			notice(ctx, f, "remote upload %d: WARNING: the folder now has %d files called %q (1fichier keeps every one, and each counts against the storage): remove the one not wanted, e.g. with rclone dedupe", job.ID, count[file.Filename], r.Name)
		}
	}
	if unlisted {
		f.acc.listings.forgetFolder(id)
	}
}

// remoteFailures is an error naming the URLs the job could not fetch, or
// nil. rclone prints no result of a command that fails, so the log above
// carries the rest.
func remoteFailures(job *RemoteUploadJob) error {
	var failed []string
	for _, r := range job.Results {
		if r.Status != "OK" {
			failed = append(failed, fmt.Sprintf("%s (%s)", r.URL, r.Message))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("remote upload %d: %d of %d URL(s) not fetched: %s", job.ID, len(failed), len(job.Results), nameSome(failed, 10))
}

// remoteJob reads job id with remote/info.cgi. The job's URLs not
// fetched yet show as running.
func (f *Fs) remoteJob(ctx context.Context, id int64) (*RemoteUploadJob, error) {
	var resp api.RemoteInfoResponse
	if err := f.call(ctx, &apiCall{path: api.RemoteInfo, request: &api.RemoteInfoRequest{ID: id}, response: &resp}); err != nil {
		return nil, fmt.Errorf("couldn't read remote upload %d: %w", id, err)
	}
	job := &RemoteUploadJob{
		ID:        id,
		Requested: showAPITime(resp.RequestDate),
		Finished:  showAPITime(resp.ExecutionDate),
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

// remoteStatusCommand lists the remote upload jobs, or shows one.
func (f *Fs) remoteStatusCommand(ctx context.Context, arg []string) (any, error) {
	switch len(arg) {
	case 0:
		var resp api.RemoteListResponse
		if err := f.call(ctx, &apiCall{path: api.RemoteLs, request: struct{}{}, response: &resp}); err != nil {
			return nil, fmt.Errorf("couldn't list remote uploads: %w", err)
		}
		jobs := make([]RemoteUploadJob, 0, len(resp.Data))
		for _, j := range resp.Data {
			jobs = append(jobs, RemoteUploadJob{
				ID:        int64(j.ID),
				Requested: showAPITime(j.RequestDate),
				Finished:  showAPITime(j.ExecutionDate),
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
	if err := f.call(ctx, &apiCall{path: api.FolderLs, before: wait, rules: []departRule{f.acc.limits.listRule(id)}, request: &api.FolderInfoRequest{FolderID: id}, response: &resp}); err != nil {
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
	return &DownloadToken{File: remote, URL: link, Expires: time.Now().Add(f.acc.tokenLife).Truncate(time.Second).Local()}, nil
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

// fileAliasDomains are the domains of 1fichier's domain table (api.html,
// spec §1.1): a file link may use any of them.
var fileAliasDomains = map[string]bool{
	"1fichier.com": true, "alterupload.com": true, "cjoint.net": true,
	"desfichiers.com": true, "dfichiers.com": true, "megadl.fr": true,
	"mesfichiers.org": true, "piecejointe.net": true, "pjointe.com": true,
	"tenvoi.com": true, "dl4free.com": true,
}

// fileIDRe is a file id: 5 to 20 letters and digits (spec §1.1).
var fileIDRe = regexp.MustCompile(`^[a-zA-Z0-9]{5,20}$`)

// parseFileLink reads a 1fichier file link as users paste it: with or
// without the scheme and "www.", with extra parameters after the id
// ("?abc123&af=42"), or in the old "https://abc123.1fichier.com/" form.
// It returns the link as the API takes it, "https://<domain>/?<id>", and
// the id. The domain is kept as given: an uploader can restrict a file to
// one alias domain (spec §1.1).
func parseFileLink(s string) (link, id string, ok bool) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || (u.Path != "" && u.Path != "/") {
		return "", "", false
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	if sub, domain, found := strings.Cut(host, "."); found && domain == "1fichier.com" && u.RawQuery == "" {
		host, id = domain, sub // the old form
	} else {
		id, _, _ = strings.Cut(u.RawQuery, "&")
	}
	if !fileAliasDomains[host] || !fileIDRe.MatchString(id) {
		return "", "", false
	}
	return "https://" + host + "/?" + id, id, true
}

// importItem is one line of an import: a link and what became of it.
type importItem struct {
	given  string // as the user wrote it
	link   string // as the API takes it; "" if not a file link
	id     string
	pass   string
	copyOf string // URL of the copy 1fichier made
	ok     bool   // imported, or already there
	result string // the line printed
}

// readImportList reads -o from=FILE ("-" is standard input): one link
// per line, optionally followed by white space and the file's password;
// blank lines and lines starting with # are skipped.
func readImportList(name string) ([][2]string, error) {
	var in io.Reader = os.Stdin
	if name != "-" {
		file, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer func() { _ = file.Close() }()
		in = file
	}
	var lines [][2]string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		link, pass := line, ""
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			link, pass = line[:i], strings.TrimSpace(line[i+1:])
		}
		lines = append(lines, [2]string{link, pass})
	}
	return lines, sc.Err()
}

// importItems builds the items of an import from the arguments and the
// from option, marking links that are not 1fichier file links and links
// given twice as done.
func importItems(arg []string, opt map[string]string) ([]*importItem, error) {
	var lines [][2]string
	for _, a := range arg {
		lines = append(lines, [2]string{a, opt["password"]})
	}
	if name, ok := opt["from"]; ok {
		more, err := readImportList(name)
		if err != nil {
			return nil, fmt.Errorf("import: couldn't read the list %q: %w", name, err)
		}
		for _, l := range more {
			if l[1] == "" {
				l[1] = opt["password"]
			}
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return nil, errors.New("import needs at least one 1fichier file link (or -o from=FILE)")
	}
	seen := map[string]bool{}
	items := make([]*importItem, len(lines))
	for i, l := range lines {
		it := &importItem{given: strings.TrimSpace(l[0]), pass: l[1]}
		items[i] = it
		var ok bool
		switch it.link, it.id, ok = parseFileLink(it.given); {
		case !ok:
			it.link, it.result = "", "failed: not a 1fichier file link (https://1fichier.com/?ID)"
		case seen[it.id]:
			it.link, it.ok, it.result = "", true, "listed twice: see its first line"
		}
		seen[it.id] = true
	}
	return items, nil
}

// importCommand copies other people's 1fichier files into the remote's
// folder server side.
//
// file/cp.cgi takes many URLs in a call but only one password, so links
// are sent in groups of one password, and in batches of removeBatch: no
// limit per call is documented for cp.cgi (spec §3.5), and 100 is what
// this backend already sends to file/rm.cgi and file/mv.cgi. cp.cgi does
// not say what the copies are called, so one listing of the folder
// afterwards names them all; it also finds the names that were already
// there. A name the folder already had is not kept twice: the new copy
// is removed at once, and the link is reported as skipped when the file
// there has the same checksum, refused when it is a different file.
func (f *Fs) importCommand(ctx context.Context, arg []string, opt map[string]string) (any, error) {
	items, err := importItems(arg, opt)
	if err != nil {
		return nil, err
	}
	id, err := f.folderOf(ctx, "", true)
	if err != nil {
		return nil, fmt.Errorf("import: couldn't find the remote's folder: %w", err)
	}
	err = f.sendImports(ctx, id, items, len(items) > removeBatch || opt["from"] != "")
	if countCopied(items) > 0 {
		if err == nil {
			err = f.nameCopies(ctx, id, items)
		} else {
			f.acc.listings.forgetFolder(id) // it lacks the copies
		}
	}
	if err != nil {
		markUndone(items, err)
	}
	return f.importReport(ctx, items, err)
}

// sendImports copies the items into folder id, a group of one password
// after another, in batches, logging the progress after each batch when
// progress is set.
func (f *Fs) sendImports(ctx context.Context, id int, items []*importItem, progress bool) error {
	var order []string
	groups := map[string][]*importItem{}
	for _, it := range items {
		if it.link != "" {
			if _, ok := groups[it.pass]; !ok {
				order = append(order, it.pass)
			}
			groups[it.pass] = append(groups[it.pass], it)
		}
	}
	total, sent := len(items)-countDone(items), 0
	for _, pass := range order {
		err := inBatches(groups[pass], func(batch []*importItem) error {
			if err := f.importBatch(ctx, id, batch, pass); err != nil {
				return err
			}
			sent += len(batch)
			if progress {
				notice(ctx, f, "import: %d/%d links sent to 1fichier, %d copied", sent, total, countCopied(items))
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// markUndone gives the items that have no result yet the error that
// stopped the import.
func markUndone(items []*importItem, err error) {
	for _, it := range items {
		switch {
		case it.result != "":
		case it.copyOf != "":
			it.ok = true
			it.result = fmt.Sprintf("copied as %s, but not named: %v", it.copyOf, err)
		default:
			it.result = "not done: " + err.Error()
		}
	}
}

// countDone counts the items already decided before any call.
func countDone(items []*importItem) (n int) {
	for _, it := range items {
		if it.link == "" {
			n++
		}
	}
	return n
}

// countCopied counts the items 1fichier made a copy of.
func countCopied(items []*importItem) (n int) {
	for _, it := range items {
		if it.copyOf != "" {
			n++
		}
	}
	return n
}

// perLink reports whether err is about one of the links of a call (not
// found, not allowed, password) rather than about the call as a whole.
func perLink(err error) bool {
	switch apiKind(err) {
	case api.KindNotFound, api.KindForbidden, api.KindPassword:
		return true
	}
	return false
}

// apiReason is what the API said in err, or err itself.
func apiReason(err error) string {
	var apiErr *api.Error
	if errors.As(err, &apiErr) && apiErr.Message != "" {
		return apiErr.Message
	}
	return err.Error()
}

// importBatch copies batch into folder id with one file/cp.cgi call. A
// refusal about one link refuses the whole call (so the emulator does;
// the real API's partial behaviour is unknown), so a refused batch is
// split in two and each half tried again, down to the single links that
// carry the reason: a few bad links among 100 cost a dozen calls more,
// where one call per link would cost 100 (a batch of only bad links
// costs 199, the price of that bet). It returns an error only when
// nothing more can be done (a bad key, a cancelled context).
//
// The call is journalled and never retried blind, like a Copy's (see
// copyOps): when its answer is lost, importLost looks for the copies.
func (f *Fs) importBatch(ctx context.Context, id int, batch []*importItem, pass string) error {
	return f.importAttempt(ctx, id, batch, pass, 0)
}

// importAttempt is importBatch's attempt number attempt.
func (f *Fs) importAttempt(ctx context.Context, id int, batch []*importItem, pass string, attempt int) error {
	req := api.CopyFileRequest{URLs: make([]string, len(batch)), FolderID: id, Pass: pass}
	files := make([]journalFile, len(batch))
	for i, it := range batch {
		req.URLs[i] = it.link
		files[i].From = it.link
	}
	known := f.acc.listings.urls(id)
	entry := f.acc.journal.beginOp(opCopy, id, files)
	defer f.acc.journal.release(entry.xid)
	var resp api.CopyFileResponse
	err := f.call(ctx, &apiCall{path: api.FileCp, request: &req, response: &resp, retry: retryUnsent})
	if isLost(err) {
		return f.importLost(ctx, id, batch, pass, lostImport{entry: entry, known: known, cause: err, attempt: attempt})
	}
	f.acc.journal.record(id, entry.xid, nil, true)
	switch {
	case err == nil:
	case ctx.Err() != nil || fserrors.IsFatalError(err):
		return err
	case len(batch) > 1 && perLink(err):
		half := len(batch) / 2
		if err := f.importAttempt(ctx, id, batch[:half], pass, attempt); err != nil {
			return err
		}
		return f.importAttempt(ctx, id, batch[half:], pass, attempt)
	default:
		reason := apiReason(err)
		switch apiKind(err) {
		case api.KindPassword:
			reason += " (give the file's password with -o password=, or after the link in the from list)"
		case api.KindForbidden:
			reason += " (the file is private, or its owner's access list leaves this account out)"
		}
		for _, it := range batch {
			it.result = "failed: " + reason
		}
		return nil
	}
	byID := make(map[string]*importItem, len(batch))
	for _, it := range batch {
		byID[it.id] = it
	}
	for _, c := range resp.URLs {
		if _, fromID, ok := parseFileLink(c.FromURL); ok && byID[fromID] != nil && c.ToURL != "" {
			byID[fromID].copyOf = c.ToURL
		}
	}
	for _, it := range batch {
		if it.copyOf == "" {
			// Not tried again: should the answer have named it in a way
			// we do not read, a second try would store it twice.
			it.result = "failed: 1fichier's answer did not list this link as copied"
		}
	}
	return nil
}

// nameCopies lists folder id once to learn what the copies are called,
// and removes the copies of names the folder already had. The listing
// goes into the shared cache, so the next command sees the copies
// without listing the folder again. Should a call have been retried
// after 1fichier copied but its answer was lost, the first copies are
// files we do not know, already there: ours are then skipped and
// removed, so the folder still ends with one file of each name.
func (f *Fs) nameCopies(ctx context.Context, id int, items []*importItem) error {
	// Our stored listing, if any, predates the copies.
	f.acc.listings.forgetFolder(id)
	l, err := f.listing(ctx, id, -1)
	if err != nil {
		return fmt.Errorf("couldn't list the folder to name the copies: %w", err)
	}
	ours := map[string]bool{}
	for _, it := range items {
		if it.copyOf != "" {
			ours[it.copyOf] = true
		}
	}
	byURL := map[string]api.File{}
	had := map[string][]api.File{} // by name: the files that were there before
	for _, file := range l.files {
		byURL[file.URL] = file
		if !ours[file.URL] {
			had[file.Filename] = append(had[file.Filename], file)
		}
	}
	var extra []*importItem
	unlisted := false
	for _, it := range items {
		if it.copyOf == "" {
			continue
		}
		file, ok := byURL[it.copyOf]
		if !ok {
			unlisted = true
			it.ok = true
			it.result = fmt.Sprintf("copied as %s (not in the folder's listing yet: its name was not checked)", it.copyOf)
			continue
		}
		name := f.fromAPIName(file.Filename)
		same, other := false, false
		for _, there := range had[file.Filename] {
			if there.Checksum != "" && strings.EqualFold(there.Checksum, file.Checksum) {
				same = true
			} else {
				other = true
			}
		}
		switch {
		case same:
			it.ok = true
			it.result = fmt.Sprintf("skipped: %q is already in the folder, with the same checksum", name)
			extra = append(extra, it)
		case other:
			it.result = fmt.Sprintf("refused: the folder already has a different file called %q", name)
			extra = append(extra, it)
		default:
			it.ok = true
			it.result = fmt.Sprintf("stored %q (%s)", name, fs.SizeSuffix(file.Size).ByteUnit())
			had[file.Filename] = append(had[file.Filename], file)
		}
	}
	if unlisted {
		// Our listing lacks them: let the next command list again.
		defer f.acc.listings.forgetFolder(id)
	}
	return f.removeCopies(ctx, id, extra)
}

// removeCopies deletes the copies of names the folder already had.
func (f *Fs) removeCopies(ctx context.Context, id int, extra []*importItem) error {
	if len(extra) == 0 {
		return nil
	}
	urls := make([]string, len(extra))
	for i, it := range extra {
		urls[i] = it.copyOf
	}
	if err := f.removeFiles(ctx, id, urls); err != nil {
		for _, it := range extra {
			it.ok = false
			it.result += fmt.Sprintf("; but the new copy %s could not be removed: %v", it.copyOf, err)
		}
	}
	return nil
}

// importReport is the import's output: one line per link. When a link
// failed it is an error naming them, and the lines are logged, since
// rclone prints no output of a command that fails.
func (f *Fs) importReport(ctx context.Context, items []*importItem, err error) (any, error) {
	lines := make([]string, len(items))
	var failed []string
	for i, it := range items {
		lines[i] = it.given + ": " + it.result
		if !it.ok {
			failed = append(failed, it.given)
		}
	}
	if len(failed) == 0 && err == nil {
		return lines, nil
	}
	for _, line := range lines {
		notice(ctx, f, "import: %s", line)
	}
	if err != nil {
		return nil, fmt.Errorf("import stopped: %w", err)
	}
	return nil, fmt.Errorf("import: %d of %d links not imported: %s", len(failed), len(items), nameSome(failed, 10))
}

// nameSome lists up to n of names, saying how many more there are.
func nameSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more (see the log)", strings.Join(names[:n], ", "), len(names)-n)
}

// linkToken asks get_token.cgi for a download URL of a file link, with
// -o password (else file_password) as the file's password.
func (f *Fs) linkToken(ctx context.Context, link string, opt map[string]string) (*DownloadToken, error) {
	pass, ok := opt["password"]
	if !ok {
		pass = f.opt.FilePassword
	}
	req := api.GetTokenRequest{URL: link, Pass: pass}
	if f.opt.CDN {
		req.CDN = 1
	}
	var resp api.GetTokenResponse
	if err := f.call(ctx, &apiCall{path: api.DownloadGetToken, request: &req, response: &resp}); err != nil {
		if apiKind(err) == api.KindPassword {
			return nil, fmt.Errorf("token: couldn't get a download link for %s (give its password with -o password=): %w", link, err)
		}
		return nil, fmt.Errorf("token: couldn't get a download link for %s: %w", link, err)
	}
	if resp.URL == "" {
		return nil, fmt.Errorf("token: couldn't get a download link for %s: 1fichier sent none", link)
	}
	return &DownloadToken{File: link, URL: resp.URL, Expires: time.Now().Add(f.acc.tokenLife).Truncate(time.Second).Local()}, nil
}

// lostImport is what importLost needs of an import call whose answer
// was lost.
type lostImport struct {
	entry   *opEntry
	known   map[string]bool // the folder's files before the call
	cause   error
	attempt int
}

// importLost finds out which links of batch a file/cp.cgi call whose
// answer was lost copied: file/info.cgi gives each link's name and size
// (an import does not know them), and the folder's fresh listings a
// copy of that name and size made since the call (findCopies). The
// links not copied go again, at most copyAttempts calls in all.
func (f *Fs) importLost(ctx context.Context, id int, batch []*importItem, pass string, lost lostImport) error {
	ops := make([]*serverOp, len(batch))
	for i, it := range batch {
		var info api.File
		err := f.call(ctx, &apiCall{path: api.FileInfo, request: &api.FileInfoRequest{URL: it.link, Pass: it.pass}, response: &info})
		if err != nil {
			return fmt.Errorf("the answer to a copy was lost, and %s could not be looked up to check it: %w", it.given, err)
		}
		ops[i] = &serverOp{url: it.link, name: info.Filename, file: info}
	}
	results := make([]batchResult, len(batch))
	f.findCopies(ctx, id, lost.entry, ops, results, lost.known, lost.cause)
	f.settleCopies(id, lost.entry.xid, results)
	var again []*importItem
	for i, r := range results {
		switch {
		case r.file != nil:
			batch[i].copyOf = r.file.URL
		case r.err != nil:
			batch[i].result = "failed: " + r.err.Error()
		default:
			again = append(again, batch[i])
		}
	}
	if len(again) == 0 {
		return nil
	}
	if lost.attempt+1 == copyAttempts {
		return lost.cause
	}
	return f.importAttempt(ctx, id, again, pass, lost.attempt+1)
}
