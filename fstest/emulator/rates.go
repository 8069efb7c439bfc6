package emulator

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// Rates are the flood rules. Every duration is real time at TimeScale 1.
// A zero field turns its rule off (a zero LockDuration answers the
// flood error without locking).
type Rates struct {
	CallsPerSecond       float64       // 3, per key, all /v1 calls (+ upload.cgi/end.pl of that key's sessions)
	FolderListInterval   time.Duration // 30s: folder/ls.cgi and file/ls.cgi of the SAME folder count together
	AllFilesListInterval time.Duration // 1h: file/ls.cgi with folder_id -1
	UserInfoPerIP        time.Duration // 1m
	UserInfoPerUser      time.Duration // 5m
	LockDuration         time.Duration // how long a flood lock lasts (documented choice)
}

// DefaultRates are the documented limits (api.html as quoted by rclone,
// and SW), with a 5 minute lock.
//
// The lock length is not documented. We take 5 minutes: JDownloader,
// which runs against the live service, marks an account unusable for 5
// minutes on "Flood detected: (IP|User) Locked"; rclone's 30 s sleep is
// shorter, but the website's lock page promises only "within 1h", so
// the longer observed figure is the stricter safe reading.
func DefaultRates() Rates {
	return Rates{
		CallsPerSecond:       3,
		FolderListInterval:   30 * time.Second,
		AllFilesListInterval: time.Hour,
		UserInfoPerIP:        time.Minute,
		UserInfoPerUser:      5 * time.Minute,
		LockDuration:         5 * time.Minute,
	}
}

// ListRule is a reading of the folder-listing rule. api.html (as quoted
// by rclone) says "1 request per folder per 30s" without saying which
// call it means: folder/ls.cgi, file/ls.cgi, or both together.
type ListRule string

// The two readings of the folder-listing rule.
const (
	// ListRuleFolder, the default and the stricter reading: folder/ls.cgi
	// and file/ls.cgi of one folder share one slot per
	// FolderListInterval.
	ListRuleFolder ListRule = "folder"
	// ListRuleEndpoint, the milder reading: each of the two endpoints
	// has its own slot per folder.
	ListRuleEndpoint ListRule = "endpoint"
)

// ParseListRule reads a ListRule from its name; "" is ListRuleFolder.
func ParseListRule(s string) (ListRule, error) {
	return parseReading(s, "listing rule", ListRuleFolder, ListRuleEndpoint)
}

// parseReading reads one of the two readings of something the sources
// leave open, by name: def, the default ("" too), or alt; what names the
// question in errors.
func parseReading[R ~string](s, what string, def, alt R) (R, error) {
	switch r := R(s); r {
	case "":
		return def, nil
	case def, alt:
		return r, nil
	}
	return "", fmt.Errorf("emulator: unknown %s %q (want %q or %q)", what, s, def, alt)
}

// The rate rules' names, as counted in Stats.BrokenRules.
const (
	ruleCallsPerSecond  = "calls_per_second"
	ruleFolderListing   = "folder_listing"
	ruleAllFilesListing = "all_files_listing"
	ruleUserInfoIP      = "user_info_ip"
	ruleUserInfoUser    = "user_info_user"
)

// rateLimiter enforces Rates. Time comes from the caller so tests can
// drive it with a fake clock.
type rateLimiter struct {
	r       Rates
	on      bool
	scale   float64
	limit   int           // calls allowed per window
	window  time.Duration // sliding window for CallsPerSecond
	mu      sync.Mutex
	recent  map[string][]time.Time // key -> times of the last `limit` admitted calls
	lockEnd map[string]time.Time   // key -> end of its flood lock
	last    map[string]time.Time   // rule id -> last admitted call
	onLock  func()                 // called when a lock starts
	onBreak func(rule string)      // called when a call breaks a rule
}

func newRateLimiter(r Rates, on bool, scale float64) *rateLimiter {
	rl := &rateLimiter{
		r: r, on: on, scale: scale,
		recent:  map[string][]time.Time{},
		lockEnd: map[string]time.Time{},
		last:    map[string]time.Time{},
	}
	// A sliding window is the strictest reading of "3 requests per
	// second": no window of 1 s may hold more than 3 calls, so a token
	// bucket's burst (up to 6 calls within one second) is refused.
	// Fractional rates become `limit` calls per limit/rate seconds.
	if r.CallsPerSecond > 0 {
		rl.limit = int(math.Max(1, math.Floor(r.CallsPerSecond)))
		rl.window = rl.scaled(time.Duration(float64(rl.limit) / r.CallsPerSecond * float64(time.Second)))
	}
	return rl
}

func (rl *rateLimiter) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) / rl.scale)
}

// admit applies the lock and the per-key call rate to one call of key.
// It reports whether the key was locked when the call arrived, and a
// flood error when the call is refused. A call that breaks the rate
// starts a lock.
func (rl *rateLimiter) admit(key string, now time.Time) (locked bool, err *apiError) {
	if !rl.on {
		return false, nil
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if end, ok := rl.lockEnd[key]; ok {
		if now.Before(end) {
			// Calls during a lock get the same answer and do not extend
			// it: the lock is "for a configurable time" (issue), and
			// whether the real one grows is unknown.
			return true, errFlood
		}
		delete(rl.lockEnd, key)
	}
	if rl.limit == 0 {
		return false, nil
	}
	times := rl.recent[key]
	n := 0
	for _, t := range times {
		// Calls are admitted in the order their handlers get here, which
		// a slow answer can change: compare arrival times both ways.
		if d := now.Sub(t); d < rl.window && d > -rl.window {
			n++
		}
	}
	if n >= rl.limit {
		rl.broke(ruleCallsPerSecond)
		rl.lockLocked(key, now)
		return false, errFlood
	}
	times = append(times, now)
	if len(times) > rl.limit {
		times = times[len(times)-rl.limit:]
	}
	rl.recent[key] = times
	return false, nil
}

// lock starts a flood lock on key; it reports whether a new lock began.
func (rl *rateLimiter) lock(key string, now time.Time) bool {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return rl.lockLocked(key, now)
}

func (rl *rateLimiter) lockLocked(key string, now time.Time) bool {
	if end, ok := rl.lockEnd[key]; ok && now.Before(end) {
		return false
	}
	rl.lockEnd[key] = now.Add(rl.scaled(rl.r.LockDuration))
	if rl.onLock != nil {
		rl.onLock()
	}
	return true
}

// broke reports a broken rule to onBreak.
func (rl *rateLimiter) broke(rule string) {
	if rl.onBreak != nil {
		rl.onBreak(rule)
	}
}

// spacing is one "at most one call per interval" rule instance.
type spacing struct {
	rule     string        // the rule's name (ruleFolderListing, ...)
	id       string        // what the rule is counted on (key, folder, IP)
	interval time.Duration // real time at TimeScale 1
}

// spaced enforces spacing rules; the call passes only if every rule
// passes, and only then is it recorded against all of them.
func (rl *rateLimiter) spaced(now time.Time, rules ...spacing) bool {
	if !rl.on {
		return true
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	ok := true
	for _, r := range rules {
		d := rl.scaled(r.interval)
		if t, seen := rl.last[r.rule+":"+r.id]; seen && d > 0 && now.Sub(t) < d {
			rl.broke(r.rule)
			ok = false
		}
	}
	if !ok {
		return false
	}
	for _, r := range rules {
		rl.last[r.rule+":"+r.id] = now
	}
	return true
}

// listingRule applies the listing rules to a listing of owner's folder
// by this call: file/ls.cgi with folder_id -1 once per
// AllFilesListInterval (api.html: "List all files of the account is
// limited to 1 request per hour"), and any other folder once per
// FolderListInterval, by folder or by endpoint and folder as
// Options.ListRule says.
func (c *call) listingRule(owner string, folderID int64) *apiError {
	r := c.s.rates.r
	if folderID == -1 {
		if !c.s.rates.spaced(c.now, spacing{ruleAllFilesListing, c.key, r.AllFilesListInterval}) {
			return errFlood
		}
		return nil
	}
	slot := fmt.Sprintf("%s:%s:%d", c.key, owner, folderID)
	if c.s.listRule == ListRuleEndpoint {
		slot += ":" + c.endpoint
	}
	if !c.s.rates.spaced(c.now, spacing{ruleFolderListing, slot, r.FolderListInterval}) {
		return errFlood
	}
	return nil
}
