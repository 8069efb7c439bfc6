package fichier

import (
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
)

// The types the state stores (state.go), as they are encoded there:
// JSON with short field names, which must not change while a state file
// written by an older rclone may be read. The layers above use them;
// only state.go reads and writes them.

// downloadToken is a download URL from get_token.cgi and when to stop using it.
type downloadToken struct {
	URL     string    `json:"url"`
	Expires time.Time `json:"expires"`
}

// storedUserInfo is the user/info.cgi answer as the state keeps it.
type storedUserInfo struct {
	At   time.Time     `json:"at"`
	Info *api.UserInfo `json:"info"`
}

// listingMeta is a stored listing's header. Version changes with every
// change to the listing, so a process can keep its decoded copy.
type listingMeta struct {
	Fetched time.Time `json:"fetched"`
	Version int64     `json:"version"`
}

// storedFile and storedDir are a listing's entries as the state keeps
// them: short field names and the checksum in bytes, to keep the state of
// a large account small. Added (ownChange) is when our own change added
// the entry (zero for entries of a fetched listing), and Seq its place in
// the listing: the API's order, then our additions in time order, so that
// of two files with one name and date the later upload stays the later
// one.
type storedFile struct {
	URL      string   `json:"u"`
	Name     string   `json:"n"`
	Size     int64    `json:"s"`
	Date     api.Time `json:"d"`
	Checksum []byte   `json:"w,omitempty"`
	Type     string   `json:"t,omitempty"`
	Pass     int64    `json:"p,omitempty"`
	ownChange
	Seq int64 `json:"q,omitempty"`
}

type storedDir struct {
	ID         int      `json:"i"`
	Name       string   `json:"n"`
	CreateDate api.Time `json:"d,omitempty"`
	Pass       int64    `json:"p,omitempty"`
	ownChange
	Seq int64 `json:"q,omitempty"`
	// Listed is set on an entry our own change added (Added) once a
	// fetched listing showed it too.
	Listed bool `json:"l,omitempty"`
}

// ownChange is the part of a stored entry that says when our own change
// added it; decoding an entry into it alone is cheap (pruning reads
// thousands of entries in one transaction).
type ownChange struct {
	Added time.Time `json:"a,omitzero"`
}

// journalEntry is one upload request as the journal keeps it, or one
// call that makes something (Op, see opjournal.go).
type journalEntry struct {
	Op     string        `json:"k,omitempty"` // "" for an upload
	Folder int           `json:"f"`
	Node   string        `json:"n"` // upload node root, scheme://host
	Files  []journalFile `json:"i"`
	Sent   time.Time     `json:"s"` // when the request started
	Owner  processID     `json:"o"`
	// Job is the job 1fichier filed for a remote upload (opRemote), once
	// known: the entry then stays, so that asking for the same URLs into
	// the same folder again reuses the job (earlierRemote).
	Job int64 `json:"j,omitempty"`
}

// journalFile is one file of a journalEntry.
type journalFile struct {
	Name string `json:"n"`
	Size int64  `json:"s"`
	From string `json:"u,omitempty"` // a copy's source, a remote upload's URL
}

// processID names a running process: its PID and, where the system
// tells, when it started, so a PID used again later is not taken for it.
type processID struct {
	PID   int   `json:"p"`
	Start int64 `json:"t,omitempty"`
}

// floodState is the flood gate as the state file keeps it.
type floodState struct {
	LockedUntil time.Time     `json:"locked_until"` // no API call before this
	LastWait    time.Duration `json:"last_wait"`    // length of the last lock we waited for
	LastFlood   time.Time     `json:"last_flood"`   // when the last lock started
	Slowdown    int           `json:"slowdown"`     // the call interval is multiplied by this
}
