package emulator

import (
	"io"
	"maps"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Stats are the emulator's counters since New or the last ResetStats.
type Stats struct {
	// Calls counts by endpoint: "file/ls.cgi", "folder/ls.cgi", ..., "upload.cgi", "end.pl", "download", "dir".
	Calls           map[string]int64 `json:"calls"`
	FloodLocks      int64            `json:"flood_locks"`       // number of locks started
	FloodRejected   int64            `json:"flood_rejected"`    // calls answered with the flood 403 (incl. during a lock)
	CallsDuringLock int64            `json:"calls_during_lock"` // calls that arrived while their key was locked
	BytesIn         int64            `json:"bytes_in"`          // request bodies read
	BytesOut        int64            `json:"bytes_out"`         // response bodies written

	// MaxCallsPerSecond is, by account email, the most calls of that
	// account's key that arrived within any sliding window of one
	// second, the window of the CallsPerSecond rule: every call the rule
	// counts (API, upload.cgi and end.pl), refused ones included. With a
	// TimeScale the window is one scaled second (1 s / TimeScale), so
	// sped-up runs are measured against the rule they run under. The
	// email, not the key, names the account: the key is a password.
	MaxCallsPerSecond map[string]int64 `json:"max_calls_per_second"`
	// BrokenRules counts, by rule, the calls that broke a rate rule and
	// were refused with the flood error: "calls_per_second",
	// "folder_listing", "all_files_listing", "user_info_ip" and
	// "user_info_user" (see Rates). Calls refused because their key was
	// already locked break no rule and are not counted here.
	BrokenRules map[string]int64 `json:"broken_rules"`
	// DownloadsRefused counts, by reason, the download-host requests
	// (/dl/<token>) refused for their token: "unknown_token" (404),
	// "expired_token" (410, older than TokenLifetime), "used_token" (410,
	// a single:1 token already used) and "file_not_found" (404, the file
	// went after the token was given). A client that renews its download
	// URLs in time meets none.
	DownloadsRefused map[string]int64 `json:"downloads_refused"`
}

// The reasons counted in Stats.DownloadsRefused.
const (
	refusedUnknownToken = "unknown_token"
	refusedExpiredToken = "expired_token"
	refusedUsedToken    = "used_token"
	refusedFileNotFound = "file_not_found"
)

// DownloadRefusals is the sum of DownloadsRefused.
func (s Stats) DownloadRefusals() int64 {
	var n int64
	for _, v := range s.DownloadsRefused {
		n += v
	}
	return n
}

// PeakCallRate is the highest MaxCallsPerSecond over every account.
func (s Stats) PeakCallRate() int64 {
	var peak int64
	for _, v := range s.MaxCallsPerSecond {
		peak = max(peak, v)
	}
	return peak
}

// Total is the sum of Calls.
func (s Stats) Total() int64 {
	var n int64
	for _, v := range s.Calls {
		n += v
	}
	return n
}

type statsCounter struct {
	mu              sync.Mutex
	calls           map[string]int64
	window          time.Duration           // one scaled second
	perKey          map[string]*callHistory // by account email
	broken          map[string]int64        // by rule name
	dlRefused       map[string]int64        // by reason
	floodLocks      atomic.Int64
	floodRej        atomic.Int64
	callsDuringLock atomic.Int64
	bytesIn         atomic.Int64
	bytesOut        atomic.Int64
}

func newStatsCounter(window time.Duration) *statsCounter {
	c := &statsCounter{window: window}
	c.reset()
	return c
}

// reset empties the maps (c.mu held, or c not yet shared).
func (c *statsCounter) reset() {
	c.calls = map[string]int64{}
	c.perKey = map[string]*callHistory{}
	c.broken = map[string]int64{}
	c.dlRefused = map[string]int64{}
}

func (c *statsCounter) call(endpoint string) {
	c.mu.Lock()
	c.calls[endpoint]++
	c.mu.Unlock()
}

// arrived records a call of account (its email) that arrived at t, for
// MaxCallsPerSecond.
func (c *statsCounter) arrived(account string, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.perKey[account]
	if h == nil {
		h = &callHistory{}
		c.perKey[account] = h
	}
	h.add(t, c.window)
}

// ruleBroken counts one call that broke rule.
func (c *statsCounter) ruleBroken(rule string) {
	c.mu.Lock()
	c.broken[rule]++
	c.mu.Unlock()
}

// downloadRefused counts one download refused for reason.
func (c *statsCounter) downloadRefused(reason string) {
	c.mu.Lock()
	c.dlRefused[reason]++
	c.mu.Unlock()
}

func (c *statsCounter) floodLock()     { c.floodLocks.Add(1) }
func (c *statsCounter) floodRejected() { c.floodRej.Add(1) }
func (c *statsCounter) duringLock()    { c.callsDuringLock.Add(1) }

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	c := s.stats
	c.mu.Lock()
	calls := maps.Clone(c.calls)
	broken := maps.Clone(c.broken)
	dlRefused := maps.Clone(c.dlRefused)
	peaks := make(map[string]int64, len(c.perKey))
	for k, h := range c.perKey {
		peaks[k] = h.max
	}
	c.mu.Unlock()
	return Stats{
		Calls:             calls,
		MaxCallsPerSecond: peaks,
		BrokenRules:       broken,
		DownloadsRefused:  dlRefused,
		FloodLocks:        c.floodLocks.Load(),
		FloodRejected:     c.floodRej.Load(),
		CallsDuringLock:   c.callsDuringLock.Load(),
		BytesIn:           c.bytesIn.Load(),
		BytesOut:          c.bytesOut.Load(),
	}
}

// ResetStats zeroes every counter.
func (s *Server) ResetStats() {
	c := s.stats
	c.mu.Lock()
	c.reset()
	c.mu.Unlock()
	c.floodLocks.Store(0)
	c.floodRej.Store(0)
	c.callsDuringLock.Store(0)
	c.bytesIn.Store(0)
	c.bytesOut.Store(0)
}

// callHistory is one account's recent call arrivals, in time order,
// and the most seen within one window.
type callHistory struct {
	times []time.Time
	max   int64
}

// add records a call at t and updates max. Calls may be recorded a
// little out of order (handlers race to get here), so t is inserted in
// place and every window that ends at a call from t on is recounted: a
// window (e-window, e] ending at each call e covers every busiest case.
func (h *callHistory) add(t time.Time, window time.Duration) {
	i := sort.Search(len(h.times), func(i int) bool { return h.times[i].After(t) })
	h.times = append(h.times, time.Time{})
	copy(h.times[i+1:], h.times[i:])
	h.times[i] = t
	// Keep two windows before the newest call: room for late arrivals.
	newest := h.times[len(h.times)-1]
	cut := sort.Search(len(h.times), func(i int) bool { return newest.Sub(h.times[i]) < 2*window })
	h.times = h.times[cut:]
	for j := range h.times {
		e := h.times[j]
		if e.Before(t) || e.Sub(t) >= window {
			continue
		}
		lo := sort.Search(len(h.times), func(i int) bool { return e.Sub(h.times[i]) < window })
		hi := sort.Search(len(h.times), func(i int) bool { return h.times[i].After(e) })
		h.max = max(h.max, int64(hi-lo))
	}
}

// serveStats answers /debug/stats: GET returns the counters as JSON,
// POST or DELETE resets them (and returns the counters before reset).
func (s *Server) serveStats(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		writeJSON(w, http.StatusOK, s.Stats(), true)
	case http.MethodPost, http.MethodDelete:
		st := s.Stats()
		s.ResetStats()
		writeJSON(w, http.StatusOK, st, true)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// countingReader counts request body bytes into n.
type countingReader struct {
	r io.ReadCloser
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

// countingWriter counts response body bytes into n and remembers the
// status. It passes Hijack and Flush through for the fault injector.
type countingWriter struct {
	http.ResponseWriter
	n      *atomic.Int64
	status int
}

func (c *countingWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// ReadFrom keeps io.Copy from bypassing the byte count.
func (c *countingWriter) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(struct{ io.Writer }{c}, r)
}
