package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Crash tests: kill the client at a chosen call, and see what is stored.
//
// A client must leave no duplicate and lose nothing whatever moment it
// is killed at. POST /debug/kill arms a KillRule: when the rule's Nth
// call (counted by Stats, from the moment it is armed) arrives, the
// emulator kills, with SIGKILL, the process whose PID is in the rule's
// file, either once the call has done its work but before its answer
// goes out (the client never learns what happened), or right after the
// answer was sent. Killing before call N is killing after call N-1's
// answer. GET /debug/files lists every stored file, for checking what
// survived, without taking part in any rate rule.

// Moments of a KillRule.
const (
	KillBeforeAnswer = "before-answer"
	KillAfterAnswer  = "after-answer"
)

// KillRule says when to kill which process.
type KillRule struct {
	PIDFile string `json:"pid_file"` // holds the PID, read when the rule fires
	Call    int64  `json:"call"`     // 1 for the first call after arming
	When    string `json:"when"`     // KillBeforeAnswer or KillAfterAnswer
}

// killer holds the armed rule.
type killer struct {
	mu    sync.Mutex
	rule  *KillRule
	calls int64
	fired bool
}

// arm sets rule, counting calls from now.
func (k *killer) arm(rule *KillRule) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.rule, k.calls, k.fired = rule, 0, false
}

// arrived counts a call and returns the rule if it fires on this one.
func (k *killer) arrived() *KillRule {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.rule == nil || k.fired {
		return nil
	}
	k.calls++
	if k.calls != k.rule.Call {
		return nil
	}
	k.fired = true
	return k.rule
}

// status reports whether the armed rule fired, and the calls counted.
func (k *killer) status() (fired bool, calls int64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.fired, k.calls
}

// kill kills the process named in rule's file.
func (rule *KillRule) kill() {
	data, err := os.ReadFile(rule.PIDFile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		return
	}
	killProcess(pid)
}

// killWriter kills before the first byte of the answer goes out.
type killWriter struct {
	*countingWriter
	rule *KillRule
	once sync.Once
}

func (k *killWriter) WriteHeader(code int) {
	k.once.Do(k.rule.kill)
	k.countingWriter.WriteHeader(code)
}

func (k *killWriter) Write(p []byte) (int, error) {
	k.once.Do(k.rule.kill)
	return k.countingWriter.Write(p)
}

// serveWithKill serves a counted call, killing the client around it if
// the armed rule says so.
func (s *Server) serveWithKill(cw *countingWriter, r *http.Request, serve func(http.ResponseWriter, *http.Request)) {
	rule := s.killer.arrived()
	switch {
	case rule == nil:
		serve(cw, r)
	case rule.When == KillBeforeAnswer:
		kw := &killWriter{countingWriter: cw, rule: rule}
		serve(kw, r)
		kw.once.Do(rule.kill)
	default:
		serve(cw, r)
		if f, ok := cw.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		rule.kill()
	}
}

// serveKill answers /debug/kill: POST arms a KillRule (JSON body),
// DELETE disarms it, and each says whether the rule armed until then
// fired and how many calls it counted.
func (s *Server) serveKill(w http.ResponseWriter, r *http.Request) {
	fired, calls := s.killer.status()
	switch r.Method {
	case http.MethodPost:
		var rule KillRule
		if err := json.NewDecoder(r.Body).Decode(&rule); err != nil || rule.PIDFile == "" || rule.Call < 1 ||
			(rule.When != KillBeforeAnswer && rule.When != KillAfterAnswer) {
			http.Error(w, fmt.Sprintf("want {\"pid_file\":PATH,\"call\":N>=1,\"when\":%q|%q}", KillBeforeAnswer, KillAfterAnswer), http.StatusBadRequest)
			return
		}
		s.killer.arm(&rule)
		fired, calls = false, 0
	case http.MethodDelete:
		s.killer.arm(nil)
	case http.MethodGet:
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"fired": fired, "calls": calls}, true)
}

// StoredFile is a file as /debug/files lists it.
type StoredFile struct {
	Owner string `json:"owner"`
	Path  string `json:"path"` // folders from the owner's root, and the name
	Size  int64  `json:"size"`
	URL   string `json:"url"`
}

// serveFiles answers GET /debug/files: every stored file of every
// account, visible in listings yet or not, sorted by owner and path.
func (s *Server) serveFiles(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	files := make([]StoredFile, 0, len(s.st.Files))
	for _, f := range s.st.Files {
		p := f.Name
		if dir := s.folderPath(f.Owner, f.Folder); dir != "" {
			p = dir + "/" + f.Name
		}
		files = append(files, StoredFile{Owner: f.Owner, Path: p, Size: f.Size, URL: fileURL(f.ID)})
	}
	s.mu.Unlock()
	sort.Slice(files, func(i, j int) bool {
		if files[i].Owner != files[j].Owner {
			return files[i].Owner < files[j].Owner
		}
		return files[i].Path < files[j].Path
	})
	writeJSON(w, http.StatusOK, files, true)
}
