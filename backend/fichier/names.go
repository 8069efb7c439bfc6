package fichier

import (
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
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
		return fserrors.NoRetryError(fmt.Errorf("couldn't create folder %q: its name is %d characters long as stored, and 1fichier takes at most %d: use shorter folder names (through crypt, filename_encoding = base32768 makes them shortest)", leaf, n, maxFolderName))
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
