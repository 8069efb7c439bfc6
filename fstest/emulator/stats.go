package emulator

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// Stats are the emulator's counters since New or the last ResetStats.
type Stats struct {
	Calls           map[string]int64 `json:"calls"`             // by endpoint: "file/ls.cgi", "folder/ls.cgi", ..., "upload.cgi", "end.pl", "download", "dir"
	FloodLocks      int64            `json:"flood_locks"`       // number of locks started
	FloodRejected   int64            `json:"flood_rejected"`    // calls answered with the flood 403 (incl. during a lock)
	CallsDuringLock int64            `json:"calls_during_lock"` // calls that arrived while their key was locked
	BytesIn         int64            `json:"bytes_in"`          // request bodies read
	BytesOut        int64            `json:"bytes_out"`         // response bodies written
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
	floodLocks      atomic.Int64
	floodRej        atomic.Int64
	callsDuringLock atomic.Int64
	bytesIn         atomic.Int64
	bytesOut        atomic.Int64
}

func newStatsCounter() *statsCounter { return &statsCounter{calls: map[string]int64{}} }

func (c *statsCounter) call(endpoint string) {
	c.mu.Lock()
	c.calls[endpoint]++
	c.mu.Unlock()
}

func (c *statsCounter) floodLock()     { c.floodLocks.Add(1) }
func (c *statsCounter) floodRejected() { c.floodRej.Add(1) }
func (c *statsCounter) duringLock()    { c.callsDuringLock.Add(1) }

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	c := s.stats
	c.mu.Lock()
	calls := make(map[string]int64, len(c.calls))
	for k, v := range c.calls {
		calls[k] = v
	}
	c.mu.Unlock()
	return Stats{
		Calls:           calls,
		FloodLocks:      c.floodLocks.Load(),
		FloodRejected:   c.floodRej.Load(),
		CallsDuringLock: c.callsDuringLock.Load(),
		BytesIn:         c.bytesIn.Load(),
		BytesOut:        c.bytesOut.Load(),
	}
}

// ResetStats zeroes every counter.
func (s *Server) ResetStats() {
	c := s.stats
	c.mu.Lock()
	c.calls = map[string]int64{}
	c.mu.Unlock()
	c.floodLocks.Store(0)
	c.floodRej.Store(0)
	c.callsDuringLock.Store(0)
	c.bytesIn.Store(0)
	c.bytesOut.Store(0)
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
