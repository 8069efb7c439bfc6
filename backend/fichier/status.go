package fichier

import (
	"context"
	"fmt"
	"os"
	"path"
	"time"

	"github.com/rclone/rclone/fs"
)

// Status is what the status command shows of the shared state of the
// remote's key on this machine. Times are RFC 3339 ("" for none),
// durations in seconds.
type Status struct {
	StateFile      string          `json:"state_file"`
	StateFileSize  int64           `json:"state_file_size"`
	Private        bool            `json:"private,omitempty"` // the shared file could not be written: this process's own copy
	FloodLocked    bool            `json:"flood_locked"`
	FloodUntil     string          `json:"flood_locked_until,omitempty"`
	LastFlood      string          `json:"last_flood,omitempty"`
	Slowdown       int             `json:"slowdown"`      // calls are spaced this many times further apart
	CallInterval   float64         `json:"call_interval"` // seconds between two calls, with the slowdown
	NextCall       string          `json:"next_call"`     // the next free call slot
	NextUserInfo   string          `json:"next_account_info"`
	AccountInfoAge float64         `json:"account_info_age,omitempty"` // seconds; 0 when none is stored
	Folders        []FolderStatus  `json:"folders"`
	Pending        []PendingUpload `json:"pending_uploads"`
}

// FolderStatus is one folder under the remote as the state knows it.
type FolderStatus struct {
	Path        string  `json:"path"` // relative to the remote
	ID          int     `json:"id"`
	Listed      string  `json:"listed,omitempty"` // when its stored listing was fetched; "" if none is stored
	Age         float64 `json:"age,omitempty"`    // seconds since then
	Files       int     `json:"files"`
	NextListing string  `json:"next_listing"` // the earliest time 1fichier allows the next listing
}

// PendingUpload is an upload request of the journal: sent, and not yet
// known to be stored or not.
type PendingUpload struct {
	Session string   `json:"session"`
	Folder  int      `json:"folder_id"`
	Files   []string `json:"files"`
	Sent    string   `json:"sent"`
	PID     int      `json:"pid"`
}

// statusHelp is the help of the status command.
var statusHelp = fs.CommandHelp{
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
}

// statusCommand shows the shared state of the remote's key. It makes no
// API call.
func (f *Fs) statusCommand(ctx context.Context, opt map[string]string) (any, error) {
	rootID, err := f.commandFolder(ctx, "status", false)
	if err != nil {
		return nil, err
	}
	st, err := f.readStatus(rootID)
	if err != nil {
		return nil, fmt.Errorf("status: couldn't read the shared state: %w", err)
	}
	asJSON, err := optBool(opt, "json")
	switch {
	case err != nil:
		return nil, err
	case asJSON:
		return st, nil
	}
	return st.lines(), nil
}

// readStatus reads the status from the state, the folders from rootID
// down through the stored listings.
func (f *Fs) readStatus(rootID int) (*Status, error) {
	l := f.acc.limits
	interval, _, _ := l.settings()
	perIP, perUser := l.userInfoIntervals()
	db := f.acc.db
	st := &Status{StateFile: db.path, Private: db.private, Folders: []FolderStatus{}, Pending: []PendingUpload{}}
	now := time.Now()
	err := db.view(func(k *keyTx) error {
		flood := k.flood()
		lost := k.lostAt()
		st.FloodLocked = flood.LockedUntil.After(now)
		if st.FloodLocked {
			st.FloodUntil = showTime(flood.LockedUntil)
		}
		st.LastFlood = showTime(flood.LastFlood)
		slow := flood.slowdown(now)
		st.Slowdown = int(slow)
		st.CallInterval = (interval * slow).Seconds()
		st.NextCall = showTime(latest(now, k.clock(clockCall), flood.LockedUntil))
		st.NextUserInfo = showTime(latest(now, k.clock(clockUserInfoUser), k.hostClock(clockUserInfoIP), lost.Add(perIP), lost.Add(perUser)))
		if u, ok := k.userInfo(); ok {
			st.AccountInfoAge = now.Sub(u.At).Round(time.Second).Seconds()
		}
		st.Folders = f.folderStatuses(k, rootID, now)
		k.eachJournal(func(xid string, e journalEntry) {
			if e.Job != 0 {
				return // a remote upload's known job, kept for a re-run (earlierRemote): not pending
			}
			p := PendingUpload{Session: xid, Folder: e.Folder, Sent: showTime(e.Sent), PID: e.Owner.PID, Files: []string{}}
			for _, file := range e.Files {
				p.Files = append(p.Files, f.fromAPIName(file.Name))
			}
			st.Pending = append(st.Pending, p)
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if info, err := os.Stat(db.path); err == nil {
		st.StateFileSize = info.Size()
	}
	return st, nil
}

// folderStatuses walks the stored listings from rootID down, in
// breadth-first order.
func (f *Fs) folderStatuses(k *keyTx, rootID int, now time.Time) []FolderStatus {
	_, _, listInterval := f.acc.limits.settings()
	lost := k.lostAt()
	type item struct {
		id   int
		path string
	}
	var out []FolderStatus
	queue := []item{{rootID, ""}}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		fo := FolderStatus{Path: it.path, ID: it.id, NextListing: showTime(latest(now, k.listClock(it.id), lost.Add(listInterval)))}
		if meta, ok := k.listingMeta(it.id); ok {
			fo.Listed = showTime(meta.Fetched)
			fo.Age = now.Sub(meta.Fetched).Round(time.Second).Seconds()
			k.eachEntry(it.id, func(storedFile) { fo.Files++ }, func(storedDir) {})
			for _, d := range k.subfolders(it.id) {
				queue = append(queue, item{d.ID, path.Join(it.path, f.fromAPIName(d.Name))})
			}
		}
		out = append(out, fo)
	}
	return out
}

// lines is the status as text.
func (st *Status) lines() []string {
	out := []string{fmt.Sprintf("state file: %s (%d bytes)", st.StateFile, st.StateFileSize)}
	if st.Private {
		out = append(out, "  (this process's own copy: the shared file could not be written)")
	}
	switch {
	case st.FloodLocked:
		out = append(out, fmt.Sprintf("flood lock: held until %s", st.FloodUntil))
	case st.LastFlood != "":
		out = append(out, fmt.Sprintf("flood lock: none (last one %s)", st.LastFlood))
	default:
		out = append(out, "flood lock: none")
	}
	out = append(out,
		fmt.Sprintf("slowdown: x%d (one call every %gs)", st.Slowdown, st.CallInterval),
		fmt.Sprintf("next call slot: %s", st.NextCall),
		fmt.Sprintf("next account info: %s", st.NextUserInfo),
		fmt.Sprintf("folders (%d):", len(st.Folders)))
	for _, fo := range st.Folders {
		name := fo.Path
		if name == "" {
			name = "(remote's root)"
		}
		if fo.Listed == "" {
			out = append(out, fmt.Sprintf("  %s [%d]: no stored listing; next listing %s", name, fo.ID, fo.NextListing))
			continue
		}
		out = append(out, fmt.Sprintf("  %s [%d]: listed %s (%gs ago), %d files; next listing %s",
			name, fo.ID, fo.Listed, fo.Age, fo.Files, fo.NextListing))
	}
	out = append(out, fmt.Sprintf("pending uploads (%d):", len(st.Pending)))
	for _, p := range st.Pending {
		out = append(out, fmt.Sprintf("  session %s, folder %d, sent %s by process %d: %d file(s) %v",
			p.Session, p.Folder, p.Sent, p.PID, len(p.Files), p.Files))
	}
	return out
}
