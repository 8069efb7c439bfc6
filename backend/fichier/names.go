package fichier

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/fserrors"
	"github.com/rclone/rclone/lib/encoder"
)

// Names 1fichier takes.
//
// The encoding option covers every character rclone's encoder knows
// 1fichier refuses, but not ´ (U+00B4), which no encoder flag names, so
// names also go through the replacement below: ´ is stored as ˊ (U+02CA,
// MODIFIER LETTER ACUTE ACCENT, which looks the same on the website),
// and a ˊ that is part of the name is quoted with ‛ as rclone's encoder
// quotes its own replacement characters. A file stored with a raw ´ by
// another client (if 1fichier ever took one) still lists under its name
// and is found by it (sameName). A remote with encoding Raw is left alone.
const (
	acute       = "´"
	acuteStored = "ˊ"
	quoteChar   = "‛"
)

var (
	acuteEncode = strings.NewReplacer(acuteStored, quoteChar+acuteStored, acute, acuteStored)
	acuteDecode = strings.NewReplacer(quoteChar+acuteStored, acuteStored, acuteStored, acute)
)

// maxFolderName is 1fichier's limit on a folder name, in characters.
// It is the only length limit a source gives; for file names none is
// known, so the API's answer decides.
const maxFolderName = 250

// toAPIName is leaf (a standard rclone name) as 1fichier stores it.
func (f *Fs) toAPIName(leaf string) string {
	name := f.opt.Enc.FromStandardName(leaf)
	if f.opt.Enc&encoder.EncodeRaw != 0 {
		return name
	}
	return acuteEncode.Replace(name)
}

// fromAPIName is a name as 1fichier stores it, as a standard rclone name.
func (f *Fs) fromAPIName(name string) string {
	if f.opt.Enc&encoder.EncodeRaw == 0 {
		name = acuteDecode.Replace(name)
	}
	return f.opt.Enc.ToStandardName(name)
}

// sameName reports whether stored, a name from a listing, is want, a
// name as toAPIName makes it, or the same name stored with a raw ´.
func sameName(stored, want string) bool {
	return stored == want || (strings.Contains(stored, acute) && strings.ReplaceAll(stored, acute, acuteStored) == want)
}

// checkFolderName fails, before any call, a folder name 1fichier would
// refuse for its length.
func checkFolderName(leaf, name string) error {
	if n := utf8.RuneCountInString(name); n > maxFolderName {
		return fserrors.NoRetryError(fmt.Errorf("couldn't create folder %q: its name is %d characters long "+
			"as stored, and 1fichier takes at most %d: use shorter folder names (through crypt, "+
			"filename_encoding = base32768 makes them shortest)", leaf, n, maxFolderName))
	}
	return nil
}

// refusedNames remembers the names 1fichier refused in this process, so
// a name is sent once: rclone would otherwise ask again for every file
// of a folder it cannot make, and on every retry.
type refusedNames struct {
	mu    sync.Mutex
	names map[refusedName]error
}

// refusedName is a file or folder name in a folder.
type refusedName struct {
	folder int
	name   string
	dir    bool
}

// refused returns the error 1fichier gave for name in folder, or nil.
func (r *refusedNames) refused(folder int, name string, dir bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.names[refusedName{folder: folder, name: name, dir: dir}]
}

// remember keeps err for name in folder if it says 1fichier refuses the
// name.
func (r *refusedNames) remember(folder int, name string, dir bool, err error) {
	if apiKind(err) != api.KindBadName {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names == nil {
		r.names = make(map[refusedName]error)
	}
	r.names[refusedName{folder: folder, name: name, dir: dir}] = fserrors.NoRetryError(err)
}

// folderRoom keeps a folder below what 1fichier lists. A listing shows
// at most 5000 files, and a file past them could never be seen again:
// rclone would take it for missing and upload it again on every run. So
// a new file is refused once the folder's stored listing and the uploads
// on their way into it reach that many; a replaced file (Update) takes no
// room. A folder with no stored listing (PutUnchecked, which rclone uses
// without looking first) is not checked: that would cost a listing.
type folderRoom struct {
	mu      sync.Mutex
	pending map[int]int // folder ID -> new files on their way
}

// reserve takes room for one new file in folder, whose stored listing is
// l (or nil), and returns the function that gives it back.
func (r *folderRoom) reserve(folder int, l *folderListing) (release func(), err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending == nil {
		r.pending = make(map[int]int)
	}
	if l != nil {
		if n := len(l.files) + r.pending[folder]; n >= listLimit {
			return nil, fserrors.NoRetryError(fmt.Errorf("its folder already holds %d files (with the "+
				"uploads on their way), and 1fichier lists at most %d files in a folder: a file past them "+
				"could not be seen again, and rclone would upload it again on every run. Keep folders "+
				"below %d files: put the files in subfolders", n, listLimit, listLimit))
		}
	}
	r.pending[folder]++
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.pending[folder]--; r.pending[folder] <= 0 {
			delete(r.pending, folder)
		}
	}, nil
}

// bareEmptyFileError makes errEmptyFile return rclone's bare
// fs.ErrorCantUploadEmptyFiles. Only rclone's conformance suite sets it
// (export_test.go): it compares the refusal with == and skips its empty
// file test only for that very value.
var bareEmptyFileError bool

// errEmptyFile is the refusal of an empty file. 1fichier is not known to
// store them (rclone has never sent one, and nobody has said what the
// service does with one), so they are refused before any call. The
// refusal is for good, so rclone does not run the whole sync again for it
// (fserrors.NoRetryError); it is still fs.ErrorCantUploadEmptyFiles to
// errors.Is.
func errEmptyFile(name string) error {
	if bareEmptyFileError {
		return fs.ErrorCantUploadEmptyFiles
	}
	return fserrors.NoRetryError(fmt.Errorf("%w: %q is empty, and 1fichier is not known to store empty files "+
		"(this will not change on a retry): leave empty files out with --min-size 1B "+
		"(sync then still deletes what the source no longer has), or keep the file out of the source",
		fs.ErrorCantUploadEmptyFiles, name))
}
