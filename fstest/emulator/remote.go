package emulator

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"sort"
	"syscall"
	"time"
)

// Remote upload: remote/request.cgi queues URLs that the emulator really
// fetches (loopback only unless Options.AllowRemoteHosts);
// remote/ls.cgi and remote/info.cgi show progress.

type remoteResult struct {
	Status       string `json:"status"` // "" = not yet fetched
	URL          string `json:"url"`
	DownloadLink string `json:"download_link"`
	Message      string `json:"message"`
}

type remoteJob struct {
	ID        int64             `json:"id"`
	Owner     string            `json:"owner"`
	Folder    int64             `json:"folder"`
	URLs      []string          `json:"urls"`
	Headers   map[string]string `json:"headers,omitempty"`
	Requested time.Time         `json:"requested"`
	Done      time.Time         `json:"done,omitempty"` // zero while running
	Results   []remoteResult    `json:"results"`
}

type remoteRequestReq struct {
	URLs     []string          `json:"urls"`
	FolderID *int64            `json:"folder_id"`
	Headers  map[string]string `json:"headers"`
}

type remoteRequestResp struct {
	Status  string            `json:"status"`
	ID      int64             `json:"id"`
	Date    string            `json:"date"`
	URLs    []string          `json:"urls"`
	Headers map[string]string `json:"headers"`
}

func (c *call) remoteRequest() (any, *apiError) {
	var req remoteRequestReq
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	if len(req.URLs) == 0 {
		return nil, errMissingParam("urls")
	}
	for _, u := range req.URLs {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, errBadParam("urls")
		}
	}
	folderID := folderOrRoot(req.FolderID)
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.s.closed {
		return nil, ko(http.StatusServiceUnavailable, "Service closing #1")
	}
	if _, e := c.ownFolder(folderID); e != nil {
		return nil, e
	}
	id := int64(100000)
	for jid := range c.s.st.Remote {
		if jid >= id {
			id = jid + 1
		}
	}
	job := &remoteJob{
		ID: id, Owner: c.owner(), Folder: folderID, URLs: req.URLs, Headers: req.Headers,
		Requested: c.now, Results: make([]remoteResult, len(req.URLs)),
	}
	for i, u := range req.URLs {
		job.Results[i].URL = u
	}
	c.s.st.Remote[id] = job
	c.s.changed()
	c.s.remoteWG.Add(1)
	go c.s.runRemote(job.ID, c.acct.ColdQuota)
	headers := req.Headers
	if headers == nil {
		headers = map[string]string{}
	}
	return remoteRequestResp{Status: "OK", ID: id, Date: fmtDate(c.now), URLs: req.URLs, Headers: headers}, nil
}

var errHostNotAllowed = errors.New("remote host not allowed (loopback only)")

// remoteClient fetches job URLs. Unless remote hosts are allowed, the
// dialer refuses any non-loopback address after name resolution.
func (s *Server) remoteClient() *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !s.opts.AllowRemoteHosts {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return errHostNotAllowed
			}
			return nil
		}
	}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, Proxy: nil}}
}

// runRemote fetches the job's URLs one after the other.
func (s *Server) runRemote(id int64, quota int64) {
	defer s.remoteWG.Done()
	client := s.remoteClient()
	defer client.CloseIdleConnections()
	s.mu.Lock()
	job := s.st.Remote[id]
	urls := append([]string{}, job.URLs...)
	headers := job.Headers
	s.mu.Unlock()
	for i, u := range urls {
		res := s.fetchRemote(client, job, u, headers, quota)
		s.mu.Lock()
		job.Results[i] = res
		s.changed()
		s.mu.Unlock()
	}
	s.mu.Lock()
	job.Done = s.now()
	s.changed()
	s.mu.Unlock()
}

// fetchRemote fetches one URL of a remote-upload job and adds it to the
// job's folder, with the name the server gave it.
func (s *Server) fetchRemote(client *http.Client, job *remoteJob, u string, headers map[string]string, quota int64) remoteResult {
	res := remoteResult{URL: u, Status: "KO"}
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Minute)
	defer cancel()
	resp, msg := s.getRemote(ctx, client, u, headers)
	if resp == nil {
		res.Message = msg
		return res
	}
	defer func() { _ = resp.Body.Close() }()
	name := remoteFileName(resp, u)
	b, err := s.storeBlob(resp.Body, s.maxFileSize())
	switch {
	case errors.Is(err, errBlobStorage):
		res.Message = "Storage error"
	case errors.Is(err, errBlobTooBig):
		res.Message = "File too big"
	case err != nil:
		res.Message = "Download failed: " + err.Error()
	case b.size == 0:
		_ = s.store.remove(b.id)
		res.Message = errEmptyFile
	default:
		res.DownloadLink, res.Message = s.addRemoteFile(job, name, b, quota)
	}
	if res.DownloadLink != "" {
		res.Status = "OK"
	}
	return res
}

// getRemote sends the GET for one job URL. Unless the answer is a 200,
// it returns nil and the job's message for the failure.
func (s *Server) getRemote(ctx context.Context, client *http.Client, u string, headers map[string]string) (*http.Response, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "Invalid URL"
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if errors.Is(err, errHostNotAllowed) {
		return nil, "Host not allowed"
	}
	if err != nil {
		return nil, "Download failed: " + err.Error()
	}
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		return nil, fmt.Sprintf("Download failed: HTTP %d", resp.StatusCode)
	}
	return resp, ""
}

// remoteFileName names a file fetched from u: the Content-Disposition
// filename, else u's last path element, else (or when the service would
// refuse the name) "file".
func remoteFileName(resp *http.Response, u string) string {
	name := ""
	if _, p, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil {
		name = p["filename"]
	}
	if p, err := url.Parse(u); name == "" && err == nil {
		name = path.Base(p.Path)
	}
	if name == "" || name == "/" || name == "." || checkName(name) != nil {
		name = "file"
	}
	return name
}

// addRemoteFile adds the stored blob b as the job's file name, within
// the owner's quota. It returns the file's URL, or "" and a message.
func (s *Server) addRemoteFile(job *remoteJob, name string, b storedBlob, quota int64) (link, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.usedBytes(job.Owner)+b.size > quota {
		_ = s.store.remove(b.id)
		return "", "Not enough space"
	}
	folder := job.Folder
	if s.folder(job.Owner, folder) == nil {
		folder = 0 // the folder went away meanwhile
	}
	now := s.now()
	f := &fileMeta{
		ID: s.newFileID(), Owner: job.Owner, Folder: folder, Name: name, Size: b.size,
		Whirlpool: b.whirlpool, ContentType: contentTypeFor(name),
		Created: now, Visible: now.Add(s.dur(s.opts.ListingDelay)), Blob: b.id,
	}
	s.st.Files[f.ID] = f
	return fileURL(f.ID), ""
}

type remoteLsEntry struct {
	ID            int64  `json:"id"`
	RequestDate   string `json:"request_date"`
	ExecutionDate string `json:"execution_date"` // "" while running [para SW]
}

type remoteLsResp struct {
	Status string          `json:"status"`
	Data   []remoteLsEntry `json:"data"`
}

func (c *call) remoteLs() (any, *apiError) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	resp := remoteLsResp{Status: "OK", Data: []remoteLsEntry{}}
	var jobs []*remoteJob
	for _, j := range c.s.st.Remote {
		if j.Owner == c.owner() {
			jobs = append(jobs, j)
		}
	}
	sort.Slice(jobs, func(a, b int) bool { return jobs[a].ID < jobs[b].ID })
	for _, j := range jobs {
		resp.Data = append(resp.Data, remoteLsEntry{ID: j.ID, RequestDate: fmtDate(j.Requested), ExecutionDate: fmtDate(j.Done)})
	}
	return resp, nil
}

type remoteInfoResp struct {
	Status        string         `json:"status"`
	ID            int64          `json:"id"`
	RequestDate   string         `json:"request_date"`
	ExecutionDate string         `json:"execution_date"`
	Links         []string       `json:"links"`
	Result        []remoteResult `json:"result"` // one entry per URL fetched so far
}

func (c *call) remoteInfo() (any, *apiError) {
	var req struct {
		ID *int64 `json:"id"`
	}
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	if req.ID == nil {
		return nil, errMissingParam("id")
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	j := c.s.st.Remote[*req.ID]
	if j == nil || j.Owner != c.owner() {
		return nil, errNotFound
	}
	resp := remoteInfoResp{
		Status: "OK", ID: j.ID, RequestDate: fmtDate(j.Requested), ExecutionDate: fmtDate(j.Done),
		Links: j.URLs, Result: []remoteResult{},
	}
	for _, r := range j.Results {
		if r.Status != "" {
			resp.Result = append(resp.Result, r)
		}
	}
	return resp, nil
}
