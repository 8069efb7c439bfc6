package fichier

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/fserrors"
)

// The import command: 1fichier file links, anybody's, read as users
// paste them and copied into a folder of the account by 1fichier
// (file/cp.cgi), in calls of one password each, every call journalled;
// then one listing learns the copies' names and drops a copy of a name
// the folder already had.

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

// importHelp is the help of the import command.
var importHelp = fs.CommandHelp{
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
	id, err := f.commandFolder(ctx, "import", true)
	if err != nil {
		return nil, err
	}
	err = f.sendImports(ctx, id, items, len(items) > removeBatch || opt["from"] != "")
	if countCopied(items) > 0 {
		if err == nil {
			err = f.nameCopies(ctx, id, items)
		} else {
			f.acc.listings.relist(id) // it lacks the copies
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
	f.acc.listings.relist(id)
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
		defer f.acc.listings.relist(id)
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
	return &DownloadToken{File: link, URL: resp.URL, Expires: time.Now().Add(f.acc.tokenLife()).Truncate(time.Second).Local()}, nil
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
