package fichier

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/fserrors"
	"github.com/rclone/rclone/lib/rest"
)

// Polling end.pl: it has been seen answering an HTML page, or no links,
// for a while after a successful upload.
const (
	endPollAttempts  = 6
	endPollFirstWait = time.Second
)

// upload sends size bytes of in as the file name (an API name) into folder
// id, and returns the stored file. A size of -1 means unknown: the data is
// spooled to a temporary file first, as 1fichier needs the length up front.
//
// 1fichier has no resumable upload and does not say whether a file is
// stored until end.pl answers, so when the answer is lost after the whole
// body went out, the folder is listed again and a file that landed is
// taken as the result instead of being uploaded twice.
func (f *Fs) upload(ctx context.Context, in io.Reader, name string, id int, size int64, options ...fs.OpenOption) (*api.File, error) {
	mimeType := mimeTypeOf(name)
	if err := f.readOnly(); err != nil {
		return nil, err
	}
	if size < 0 {
		file, n, cleanup, err := spool(in)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		in, size = file, n
	}
	if size == 0 {
		return nil, fs.ErrorCantUploadEmptyFiles
	}
	if size > maxFileSize {
		return nil, fserrors.NoRetryError(fmt.Errorf("can't upload %q: %v is more than 1fichier's limit of 300 GB per file", name, fs.SizeSuffix(size)))
	}
	known := f.acc.listings.urls(id)
	node, err := f.uploadNode(ctx)
	if err != nil {
		return nil, err
	}
	sent, err := f.sendFile(ctx, node, in, name, mimeType, id, size, options)
	if err != nil {
		if !sent {
			return nil, err
		}
		return f.findUploaded(ctx, id, name, size, known, err)
	}
	file, err := f.endUpload(ctx, node, name)
	if err != nil {
		return f.findUploaded(ctx, id, name, size, known, err)
	}
	// end.pl sends no content type: keep the one we uploaded with.
	file.ContentType = mimeType
	return file, nil
}

// mimeTypeOf guesses the content type 1fichier will give a file called
// name. Listings show a type without parameters, which seems to come from
// the extension; the type of the uploaded part is not known to be kept.
func mimeTypeOf(name string) string {
	if mimeType, _, err := mime.ParseMediaType(fs.MimeTypeFromName(name)); err == nil {
		return mimeType
	}
	return "application/octet-stream"
}

// uploadNode is an upload server and the session ID to use on it.
type uploadNode struct {
	root string // scheme://host
	id   string
}

// trustedHost reports whether the API key may be sent to host: the API's
// own host, another 1fichier.com host when the API is 1fichier's, or the
// same loopback test server.
func (f *Fs) trustedHost(host string) bool {
	apiHost := f.apiURL.Hostname()
	if host == apiHost {
		return true
	}
	return strings.HasSuffix(apiHost, ".1fichier.com") && (host == "1fichier.com" || strings.HasSuffix(host, ".1fichier.com"))
}

// uploadNode asks get_upload_server.cgi where to upload. The answer is a
// bare host name; it is reached with the API's scheme.
func (f *Fs) uploadNode(ctx context.Context) (*uploadNode, error) {
	var resp api.UploadServerResponse
	// Documented as a GET, yet 1fichier wants a JSON content type on it.
	opts := rest.Opts{Method: "GET", Path: "/upload/get_upload_server.cgi", ContentType: "application/json"}
	if err := f.call(ctx, &opts, nil, &resp, nil); err != nil {
		return nil, fmt.Errorf("couldn't get an upload server: %w", err)
	}
	root := resp.URL
	if !strings.Contains(root, "://") {
		root = f.apiURL.Scheme + "://" + root
	}
	node, err := url.Parse(root)
	if err != nil || node.Host == "" || resp.ID == "" {
		return nil, fmt.Errorf("couldn't get an upload server: unusable answer %q", resp.URL)
	}
	if !f.trustedHost(node.Hostname()) {
		return nil, fmt.Errorf("refusing to upload to %q: it is not a 1fichier host, and the upload would carry the API key", node.Host)
	}
	return &uploadNode{root: node.Scheme + "://" + node.Host, id: resp.ID}, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// exactReader reads exactly size bytes of r. Should r end early it fails
// instead of letting the form's closing boundary follow a short file, so
// the server never takes a truncated file for a whole one.
type exactReader struct {
	r         io.Reader
	remaining int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.remaining <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.remaining {
		p = p[:e.remaining]
	}
	n, err := e.r.Read(p)
	e.remaining -= int64(n)
	if err == io.EOF && e.remaining > 0 {
		err = fmt.Errorf("the source ended %d bytes short of its size: %w", e.remaining, io.ErrUnexpectedEOF)
	}
	return n, err
}

// multipartFrame returns the multipart form around the file's bytes: the
// "did" field and the file part's header before, the closing boundary
// after. Streaming the file between them lets us send an exact
// Content-Length (1fichier refuses chunked uploads) without buffering.
func multipartFrame(name, mimeType string, folderID int) (head, tail []byte, contentType string, err error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err = w.WriteField("did", strconv.Itoa(folderID)); err != nil {
		return nil, nil, "", err
	}
	if _, err = rest.CreateFormFile(w, "file[]", name, mimeType); err != nil {
		return nil, nil, "", err
	}
	head = bytes.Clone(buf.Bytes())
	buf.Reset()
	if err = w.Close(); err != nil {
		return nil, nil, "", err
	}
	return head, buf.Bytes(), w.FormDataContentType(), nil
}

// sendFile POSTs the file to upload.cgi. sent reports whether the whole
// body went out, in which case the file may be stored even if err is set.
func (f *Fs) sendFile(ctx context.Context, node *uploadNode, in io.Reader, name, mimeType string, id int, size int64, options []fs.OpenOption) (sent bool, err error) {
	head, tail, contentType, err := multipartFrame(name, mimeType, id)
	if err != nil {
		return false, err
	}
	length := int64(len(head)) + size + int64(len(tail))
	file := &exactReader{r: in, remaining: size}
	body := &countingReader{r: io.MultiReader(bytes.NewReader(head), file, bytes.NewReader(tail))}
	opts := rest.Opts{
		Method:        "POST",
		RootURL:       node.root + "/upload.cgi",
		Parameters:    url.Values{"id": {node.id}},
		Body:          body,
		ContentLength: &length,
		ContentType:   contentType,
		NoRedirect:    true, // the 302 to end.pl is read, not followed
		IgnoreStatus:  true,
		Options:       options,
	}
	if err := f.acc.limits.wait(ctx); err != nil {
		return false, err
	}
	resp, err := f.srv.Call(ctx, &opts)
	if err != nil {
		return body.n == length, fserrors.RetryError(fmt.Errorf("couldn't upload %q: %w", name, err))
	}
	if resp.StatusCode >= http.StatusBadRequest {
		err = errorHandler(resp)
		if retry, _ := f.shouldRetry(ctx, resp, err); retry {
			err = fserrors.RetryError(err)
		}
		return false, fmt.Errorf("couldn't upload %q: %w", name, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return true, nil
}

// endUpload reads the result of the upload from end.pl, polling while it
// answers HTML or no links, and returns the stored file.
func (f *Fs) endUpload(ctx context.Context, node *uploadNode, name string) (*api.File, error) {
	opts := rest.Opts{
		Method:       "GET",
		RootURL:      node.root + "/end.pl",
		Parameters:   url.Values{"xid": {node.id}},
		ExtraHeaders: map[string]string{"JSON": "1"},
	}
	wait := endPollFirstWait
	var err error
	for attempt := 1; ; attempt++ {
		// One attempt per poll: the poll itself is the retry loop.
		var resp api.EndUploadResponse
		_, err = f.try(ctx, &opts, nil, &resp)
		if err == nil {
			if link, ok := pickLink(resp.Links, name); ok {
				return uploadedFile(link, name), nil
			}
			err = fmt.Errorf("end.pl listed no file called %q", name)
		}
		if attempt == endPollAttempts || ctx.Err() != nil {
			break
		}
		fs.Debugf(f, "upload of %q not confirmed yet (%v): asking again in %v", name, err, wait)
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
		wait *= 2
	}
	return nil, fmt.Errorf("couldn't confirm the upload of %q: %w", name, err)
}

// pickLink finds the uploaded file in end.pl's links: the one with our
// name, or the only one.
func pickLink(links []api.UploadedLink, name string) (api.UploadedLink, bool) {
	for _, link := range links {
		if link.Filename == name && link.Download != "" {
			return link, true
		}
	}
	if len(links) == 1 && links[0].Download != "" {
		return links[0], true
	}
	return api.UploadedLink{}, false
}

// uploadedFile turns an end.pl link into a listing entry. end.pl gives no
// date or content type: the date is now.
func uploadedFile(link api.UploadedLink, name string) *api.File {
	return &api.File{
		URL:      link.Download,
		Filename: name,
		Size:     link.Size,
		Date:     api.Time(time.Now().In(parisTime).Format(api.TimeFormat)),
		Checksum: strings.ToLower(link.Whirlpool),
	}
}

// findUploaded looks for a file that an upload stored although its answer
// was lost: one called name, of this size, that the folder did not have
// before (known). If there is none, cause is returned for a retry.
func (f *Fs) findUploaded(ctx context.Context, id int, name string, size int64, known map[string]bool, cause error) (*api.File, error) {
	fs.Debugf(f, "upload of %q ended badly (%v): checking whether it was stored", name, cause)
	l, err := f.listing(ctx, id, 0)
	if err != nil {
		return nil, cause
	}
	var found *api.File
	for i := range l.files {
		file := &l.files[i]
		if file.Filename == name && int64(file.Size) == size && !known[file.URL] && (found == nil || file.Date >= found.Date) {
			found = file
		}
	}
	if found == nil {
		return nil, fserrors.RetryError(cause)
	}
	fs.Infof(f, "upload of %q was stored although its answer was lost: using it", name)
	return found, nil
}
