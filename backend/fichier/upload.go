package fichier

import (
	"bytes"
	"context"
	"errors"
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
	"github.com/rclone/rclone/lib/readers"
	"github.com/rclone/rclone/lib/rest"
)

// Polling end.pl: it has been seen answering an HTML page, or no links,
// for a while after a successful upload. The waits are 1fichier's clock
// (a test server's time scale divides them): the whole poll must fit in
// the few minutes end.pl may remember a session.
const (
	endPollAttempts  = 6
	endPollFirstWait = time.Second
)

// upload sends size bytes of in as the file name (an API name) into folder
// id, and returns the stored file. The size must be known, as 1fichier
// needs the length up front: the backend has no PutStream, so rclone
// learns the length of a stream itself (in memory or in a temporary file
// of its own, see operations.Rcat) before it calls Put.
//
// Small files join the folder's next batch (see batch.go); the others go
// alone, through the same request code.
func (f *Fs) upload(ctx context.Context, in io.Reader, name string, id int, size int64, options ...fs.OpenOption) (*api.File, error) {
	if err := f.readOnly(); err != nil {
		return nil, err
	}
	if err := refuseSize(name, size); err != nil {
		return nil, err
	}
	if err := f.acc.refusedNames.refused(id, name, false); err != nil {
		return nil, fmt.Errorf("couldn't upload %q: %w", name, err)
	}
	// An unfinished upload into the folder may hold this very file.
	if err := f.settleUploads(ctx, id, name); err != nil {
		return nil, err
	}
	item := &batchItem{ctx: ctx, in: in, name: name, mimeType: mimeTypeOf(name), size: size, options: options}
	if f.batcher.accepts(id, item) {
		return f.batcher.add(ctx, id, item)
	}
	return f.uploadAlone(ctx, id, item)
}

// uploadAlone sends item in a request of its own.
func (f *Fs) uploadAlone(ctx context.Context, id int, item *batchItem) (*api.File, error) {
	node, err := f.uploadNodeIn(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	result := f.uploadFiles(ctx, node, id, []*batchItem{item})[0]
	if result.err == nil {
		f.batcher.storedAlone(id, item.name)
	}
	return result.file, result.err
}

// commitLane is the batcher's commit (see commitFunc): it sends batch,
// the files of lane id, in the call slot the dispatcher booked at slotAt,
// and returns what became of each.
func (f *Fs) commitLane(ctx context.Context, slotAt time.Time, id laneKey, batch []*queued) []batchResult {
	if id.kind != laneUpload {
		ops := make([]*serverOp, len(batch))
		for i, q := range batch {
			ops[i] = q.op
		}
		return f.serverOps(ctx, id, ops, slotAt)
	}
	items := make([]*batchItem, len(batch))
	for i, q := range batch {
		items[i] = q.item
	}
	node, err := f.uploadNodeIn(ctx, slotAt)
	if err != nil {
		return failAll(len(items), err)
	}
	return f.uploadFiles(ctx, node, id.folder, items)
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

// uploadNodeIn asks get_upload_server.cgi where to upload, in the call
// slot booked at slotAt, unless zero (see apiCall.slotAt). The answer is a bare host
// name; it is reached with the API's scheme.
func (f *Fs) uploadNodeIn(ctx context.Context, slotAt time.Time) (*uploadNode, error) {
	var resp api.UploadServerResponse
	// Documented as a GET, yet 1fichier wants a JSON content type on it.
	opts := rest.Opts{Method: "GET", ContentType: "application/json"}
	if err := f.call(ctx, &apiCall{path: api.UploadGetServer, opts: opts, response: &resp, slotAt: slotAt}); err != nil {
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

// multipartForm returns the multipart form for items, without their
// data: heads[i] goes before the data of items[i] (the "did" field comes
// first, then each file part's header), tail after the last one.
// Streaming each file between them lets us send an exact Content-Length
// (1fichier refuses chunked uploads) without buffering any file.
func multipartForm(folderID int, items []*batchItem) (heads [][]byte, tail []byte, contentType string, err error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err = w.WriteField("did", strconv.Itoa(folderID)); err != nil {
		return nil, nil, "", err
	}
	for _, item := range items {
		if _, err = rest.CreateFormFile(w, "file[]", item.name, item.mimeType); err != nil {
			return nil, nil, "", err
		}
		heads = append(heads, bytes.Clone(buf.Bytes()))
		buf.Reset()
	}
	if err = w.Close(); err != nil {
		return nil, nil, "", err
	}
	return heads, buf.Bytes(), w.FormDataContentType(), nil
}

// partReader reads one item's data into the form and keeps the error
// its source gave, so that file, and not its neighbours, is blamed.
type partReader struct {
	exactReader
	err *error // where the source's error goes
}

func (p *partReader) Read(b []byte) (int, error) {
	n, err := p.exactReader.Read(b)
	if err != nil && err != io.EOF {
		*p.err = err
	}
	return n, err
}

// sendFiles POSTs items to upload.cgi in one request. sent reports whether
// the whole body went out, in which case the files may be stored even if
// err is set. readErrs[i] is the error the source of items[i] gave, if
// any. A refusal of the request is returned as an *api.Error that is not
// marked for retry.
func (f *Fs) sendFiles(ctx context.Context, node *uploadNode, id int, items []*batchItem) (sent bool, readErrs []error, err error) {
	heads, tail, contentType, err := multipartForm(id, items)
	if err != nil {
		return false, nil, err
	}
	readErrs = make([]error, len(items))
	var parts []io.Reader
	length := int64(len(tail))
	for i, item := range items {
		parts = append(parts, bytes.NewReader(heads[i]), &partReader{exactReader: exactReader{r: item.in, remaining: item.size}, err: &readErrs[i]})
		length += int64(len(heads[i])) + item.size
	}
	counter := readers.NewCountingReader(io.MultiReader(append(parts, bytes.NewReader(tail))...))
	opts := rest.Opts{
		RootURL:    node.root,
		Parameters: url.Values{"id": {node.id}},
		// A Closer, so rest waits until the transport is done with the
		// body: the count (and what the parts recorded) may be read once
		// the call returns.
		Body:          io.NopCloser(counter),
		ContentLength: &length,
		ContentType:   contentType,
		NoRedirect:    true, // the 302 to end.pl is read, not followed
		NoResponse:    true,
		Options:       items[0].options, // the same for every Put of one command
	}
	var retry bool
	err = f.call(ctx, &apiCall{path: api.Upload, opts: opts, retry: retryByCaller, mayRetry: &retry})
	var apiErr *api.Error
	switch {
	case err == nil:
		return true, readErrs, nil
	case errors.As(err, &apiErr) && apiErr.HTTPStatus == http.StatusFound:
		// The success answer: rest reports the redirect it did not follow as an error.
		return true, readErrs, nil
	case apiErr == nil:
		// No answer: the connection failed, or a source did.
		return counter.BytesRead() == uint64(length), readErrs, fserrors.RetryError(err)
	case retry:
		return false, readErrs, fserrors.RetryError(err)
	}
	return false, readErrs, err
}

// uploadFiles sends items, all small enough for one request and with
// distinct names, into folder id through node, records the stored files
// in the folder's listing and returns what became of each item. A lone
// upload is a batch of one: this is the batches' commit.
//
// 1fichier has no resumable upload and does not say whether a file is
// stored until end.pl answers, so the request is written to the journal
// (journal.go) before it is sent, and end.pl is asked whenever the whole
// body went out, even if upload.cgi's answer was lost. When end.pl
// leaves a file out, the folder is listed again and a file that landed
// is taken as the result instead of being uploaded twice. The journal
// entry goes once every file is known stored or not; one that may still
// hold a file stays for whoever lists the folder next to resolve.
func (f *Fs) uploadFiles(ctx context.Context, node *uploadNode, id int, items []*batchItem) []batchResult {
	known := f.acc.listings.urls(id)
	f.acc.journal.begin(id, node, journalFiles(items))
	defer f.acc.journal.release(node.id)
	sent, readErrs, err := f.sendFiles(ctx, node, id, items)
	if err != nil && !sent {
		f.acc.journal.record(id, node.id, nil, true) // the request ended early: nothing is stored
		return f.uploadFailed(id, items, readErrs, err)
	}
	links, err := f.endUpload(ctx, node)
	results := make([]batchResult, len(items))
	missing := 0
	for i, link := range matchLinks(links, items) {
		if link == nil {
			missing++
			continue
		}
		results[i].file = linkedFile(*link, items[i])
	}
	if missing > 0 {
		if err == nil {
			err = fmt.Errorf("end.pl listed %d of the %d files uploaded", len(items)-missing, len(items))
		}
		f.findUploaded(ctx, id, items, results, known, err)
	}
	f.settleBatch(id, node.id, results)
	return results
}

// journalFiles returns the files of items as the journal keeps them.
func journalFiles(items []*batchItem) []journalFile {
	files := make([]journalFile, len(items))
	for i, item := range items {
		files[i] = journalFile{Name: item.name, Size: item.size}
	}
	return files
}

// linkedFile is the listing entry of item, which end.pl gave link.
func linkedFile(link api.UploadedLink, item *batchItem) *api.File {
	file := uploadedFile(link, item.name)
	// end.pl sends no content type: keep the one we uploaded with.
	file.ContentType = item.mimeType
	if link.Size < 0 { // its HTML page wrote the size in a form we cannot read
		file.Size = api.Int(item.size)
	}
	return file
}

// settleBatch records the files a request stored and, when every one of
// its files is stored, drops the request's journal entry. A file still
// unknown keeps it: it may yet show up in end.pl or a later listing.
func (f *Fs) settleBatch(id int, xid string, results []batchResult) {
	var files []api.File
	for _, result := range results {
		if result.file != nil {
			files = append(files, *result.file)
		}
	}
	f.acc.journal.record(id, xid, files, len(files) == len(results))
}

// uploadFailed gives each item the error of a request that stored
// nothing. A file whose own source failed gets that error and goes alone
// on its retry, and its neighbours are told so: their retries (rclone's
// low-level retries open their sources again) go together without it,
// so one bad source cannot fail the others twice. When 1fichier refused
// a request of several files, each is sent alone on its retry, for the
// same reason.
func (f *Fs) uploadFailed(id int, items []*batchItem, readErrs []error, err error) []batchResult {
	var apiErr *api.Error
	refused := len(items) > 1 && errors.As(err, &apiErr) && !fserrors.IsRetryError(err) && !fserrors.IsFatalError(err)
	if refused {
		f.batcher.sendAlone(id, items)
		err = retryNow(fmt.Errorf("1fichier refused a request of %d files, it goes alone next time: %w", len(items), err))
	}
	bad := badSources(items, readErrs)
	if len(bad) > 0 && len(items) > 1 {
		f.batcher.sendAlone(id, bad)
		err = retryNow(fmt.Errorf("the source of %q failed while the request carrying it was sent; it goes again without it", bad[0].name))
	}
	results := make([]batchResult, len(items))
	for i, item := range items {
		switch {
		case readErrs != nil && readErrs[i] != nil:
			results[i].err = fserrors.RetryError(fmt.Errorf("couldn't upload %q: %w", item.name, readErrs[i]))
		case len(items) > 1 && !refused && fserrors.IsRetryError(err):
			err := fmt.Errorf("couldn't upload %q: the request carrying it and %d other files failed: %w", item.name, len(items)-1, err)
			results[i].err = fserrors.RetryError(err)
		default:
			results[i].err = fmt.Errorf("couldn't upload %q: %w", item.name, err)
			if len(items) == 1 {
				f.acc.refusedNames.remember(id, item.name, false, err)
			}
		}
	}
	return results
}

// retryNow marks err for a retry of the Put at once (one of rclone's
// low-level retries, which open the source again, as for a network
// error) as well as on rclone's next pass: it is the other files of the
// request that failed, and this one's next try goes without them.
func retryNow(err error) error {
	return fserrors.RetryError(temporary{err})
}

// temporary is an error rclone's low-level retries take as passing.
type temporary struct{ error }

func (temporary) Temporary() bool { return true }
func (e temporary) Unwrap() error { return e.error }

// badSources returns the items whose own source failed.
func badSources(items []*batchItem, readErrs []error) []*batchItem {
	var bad []*batchItem
	for i, item := range items {
		if readErrs != nil && readErrs[i] != nil {
			bad = append(bad, item)
		}
	}
	return bad
}

// endUpload reads the result of the upload from end.pl, polling while it
// answers HTML or no links, and returns the links it lists.
func (f *Fs) endUpload(ctx context.Context, node *uploadNode) ([]api.UploadedLink, error) {
	wait := f.acc.scale.of(endPollFirstWait)
	var err error
	for attempt := 1; ; attempt++ {
		var links []api.UploadedLink
		links, err = f.endAnswer(ctx, node)
		if err == nil {
			if len(links) > 0 {
				return links, nil
			}
			err = errors.New("end.pl listed no file")
		}
		if attempt == endPollAttempts || ctx.Err() != nil || sessionForgotten(err) {
			break
		}
		fs.Debugf(f, "upload not confirmed yet (%v): asking again in %v", err, wait)
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
		wait *= 2
	}
	return nil, fmt.Errorf("couldn't confirm the upload: %w", err)
}

// matchLinks pairs end.pl's links with the items uploaded, by name (the
// names in one request are distinct), or by position when the service
// renamed files but listed one link per file. An item with no link gets
// nil.
func matchLinks(links []api.UploadedLink, items []*batchItem) []*api.UploadedLink {
	byName := make(map[string]*api.UploadedLink, len(links))
	for i := range links {
		if links[i].Download != "" {
			byName[links[i].Filename] = &links[i]
		}
	}
	matched := make([]*api.UploadedLink, len(items))
	for i, item := range items {
		matched[i] = byName[item.name]
		if matched[i] == nil && len(links) == len(items) && links[i].Download != "" {
			matched[i] = &links[i]
		}
	}
	return matched
}

// findUploaded looks for the files of items that an upload stored
// although its answer was lost or left them out, with one fresh listing of
// folder id: each item whose result has no file gets the file called its
// name, of its size, that the folder did not have before (known), or
// cause for a retry.
func (f *Fs) findUploaded(ctx context.Context, id int, items []*batchItem, results []batchResult, known map[string]bool, cause error) {
	fs.Debugf(f, "upload of %d file(s) ended badly (%v): checking which were stored", len(items), cause)
	l, err := f.listing(ctx, id, 0)
	for i, item := range items {
		if results[i].file != nil {
			continue
		}
		if err != nil {
			results[i].err = fmt.Errorf("couldn't upload %q: %w", item.name, cause)
			continue
		}
		file, ok := newInListing(l, item.name, item.size, known)
		if !ok {
			results[i].err = fserrors.RetryError(fmt.Errorf("couldn't upload %q: %w", item.name, cause))
			continue
		}
		fs.Infof(f, "upload of %q was stored although its answer was lost: using it", item.name)
		results[i].file = file
	}
}
