package fichier

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/fs"
)

// The remote-upload and remote-status commands: 1fichier fetches URLs
// into a folder itself (remote/request.cgi), and says how the job went
// (remote/ls.cgi, remote/info.cgi).

// Polling remote/info.cgi: the job runs on 1fichier's side at its own
// pace, so ask often at first and then calmly.
const (
	remotePollFirst = time.Second
	remotePollMax   = 30 * time.Second
)

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
		return fmt.Errorf("remote-upload: nothing asked: the folder already has %s, and 1fichier would keep a second file of that name; "+
			"remove or rename the file, or leave the URL out", nameSome(taken, 10))
	}
	return nil
}

// remoteUploadHelp is the help of the remote-upload command.
var remoteUploadHelp = fs.CommandHelp{
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
folder now has twice, marks the file "duplicate" and warns.

A request is written to the shared state before it is sent, and the job
1fichier filed for it is kept there for 2 hours. Asking again for the
same URLs, in the same order, into the same folder within that time
reuses that job instead of making a second one: a command run again
after it was killed, or after its answer was lost, fetches nothing
twice. Add ` + "`-o again`" + ` to have 1fichier fetch them anew all the same
(for example after deleting what the first job stored).`,
	Opts: map[string]string{
		"again":   "Ask 1fichier anew even if these URLs were asked for into this folder in the last 2 hours.",
		"wait":    "Wait for the job to finish and print the resulting links.",
		"timeout": "With wait, give up waiting after this long (e.g. 1h); the job carries on.",
	},
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
	again, err := optBool(opt, "again")
	if err != nil {
		return nil, err
	}
	id, err := f.commandFolder(ctx, "remote-upload", true)
	if err != nil {
		return nil, err
	}
	req := api.RemoteUploadRequest{URLs: arg, FolderID: id}
	// An earlier rclone may have asked for these very URLs, or died
	// asking: its job, if 1fichier has it, is this one.
	var jobID int64
	if !again {
		if jobID, err = f.earlierRemote(ctx, &req); err != nil {
			return nil, fmt.Errorf("couldn't start the remote upload: %w", err)
		}
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
		f.acc.listings.relist(id)
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
			return nil, fmt.Errorf("stopped waiting for remote upload %d after %v (it carries on; see remote-status %d): %w",
				id, time.Since(started).Round(time.Second), id, err)
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
	f.acc.listings.relist(id)
	l, err := f.listing(ctx, id, -1)
	if err != nil {
		fs.Errorf(f, "remote upload %d: couldn't list the folder to see what was stored: %v", job.ID, err)
		f.acc.listings.relist(id)
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
			notice(ctx, f, "remote upload %d: WARNING: the folder now has %d files called %q "+
				"(1fichier keeps every one, and each counts against the storage): remove the one not wanted, e.g. with rclone dedupe",
				job.ID, count[file.Filename], r.Name)
		}
	}
	if unlisted {
		f.acc.listings.relist(id)
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

// remoteStatusHelp is the help of the remote-status command.
var remoteStatusHelp = fs.CommandHelp{
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
