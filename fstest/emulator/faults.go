package emulator

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultKind is one kind of injected failure.
type FaultKind int

// The fault kinds. Faults strike before the emulator does any work,
// except FaultResetDuring (the work is done, the answer is lost) and the
// end.pl faults (the upload is stored, its report is broken), which are
// the interesting cases for a client's retry logic.
const (
	FaultHTTP500        FaultKind = iota + 1 // HTTP 500 with an nginx-style HTML body
	FaultHTTP502                             // HTTP 502, HTML body
	FaultHTTP503                             // HTTP 503, HTML body
	FaultResetBefore                         // connection reset (TCP RST) before any answer
	FaultResetDuring                         // request served, connection closed after half the answer
	FaultResetMidUpload                      // upload.cgi only: reset after reading half the body; nothing stored
	FaultEndHTML                             // end.pl only: HTML page even with "JSON: 1"
	FaultEndEmptyLinks                       // end.pl only: {"incoming":0,"links":[]}
	FaultSlow                                // wait Delay, then answer normally (combines with others)
	FaultResetAfter                          // request served in full, then a reset instead of the answer
	FaultEndShort                            // end.pl only: one link fewer than the files stored (the last left out)
)

var faultNames = map[FaultKind]string{
	FaultHTTP500:        "500",
	FaultHTTP502:        "502",
	FaultHTTP503:        "503",
	FaultResetBefore:    "reset-before",
	FaultResetDuring:    "reset-during",
	FaultResetMidUpload: "reset-mid",
	FaultEndHTML:        "end-html",
	FaultEndEmptyLinks:  "end-empty",
	FaultSlow:           "slow",
	FaultResetAfter:     "reset-after",
	FaultEndShort:       "end-short",
}

// String returns the kind's name in the fault-spec grammar.
func (k FaultKind) String() string {
	if n, ok := faultNames[k]; ok {
		return n
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// appliesTo reports whether the kind makes sense on endpoint.
func (k FaultKind) appliesTo(endpoint string) bool {
	switch k {
	case FaultResetMidUpload:
		return endpoint == "upload.cgi"
	case FaultEndHTML, FaultEndEmptyLinks, FaultEndShort:
		return endpoint == "end.pl"
	}
	return true
}

// Fault is one scripted failure.
type Fault struct {
	Kind        FaultKind
	Count       int           // strike this many times, then stop; 0 = no limit
	Probability float64       // 0 = every matching call; else the chance per call (seeded)
	Delay       time.Duration // for FaultSlow
}

// FaultRule is a Fault bound to an endpoint name ("file/ls.cgi",
// "upload.cgi", "end.pl", "download", "dir", or "*" for all).
type FaultRule struct {
	Endpoint string
	Fault
}

type activeFault struct {
	FaultRule
	fired int
}

// Faults is the fault injector of a Server. Rules are tried in the order
// they were added; the first non-slow rule that strikes wins, and every
// slow rule that strikes adds its delay. Random draws come from one
// generator seeded by Options.Seed, so a run is reproducible when the
// requests arrive in the same order.
type Faults struct {
	mu    sync.Mutex
	rnd   *rand.Rand
	rules []*activeFault
}

func newFaults(seed int64) *Faults {
	return &Faults{rnd: rand.New(rand.NewSource(seed))}
}

// Add scripts fault f on endpoint (or "*").
func (f *Faults) Add(endpoint string, fault Fault) {
	f.AddRules(FaultRule{Endpoint: endpoint, Fault: fault})
}

// AddRules adds rules, e.g. the result of ParseFaults.
func (f *Faults) AddRules(rules ...FaultRule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range rules {
		r.Endpoint = strings.TrimPrefix(r.Endpoint, "/v1/")
		f.rules = append(f.rules, &activeFault{FaultRule: r})
	}
}

// Clear removes every rule.
func (f *Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = nil
}

// Fired returns how many times rules on endpoint (exactly as added,
// "*" included) have struck.
func (f *Faults) Fired(endpoint string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.rules {
		if r.Endpoint == endpoint {
			n += r.fired
		}
	}
	return n
}

// picked is the outcome of the fault draw for one request.
type picked struct {
	delay time.Duration
	kind  FaultKind // 0 = none
}

func (f *Faults) pick(endpoint string) *picked {
	f.mu.Lock()
	defer f.mu.Unlock()
	var p picked
	for _, r := range f.rules {
		if r.Endpoint != "*" && r.Endpoint != endpoint {
			continue
		}
		if !r.Kind.appliesTo(endpoint) {
			continue
		}
		if r.Count > 0 && r.fired >= r.Count {
			continue
		}
		if p.kind != 0 && r.Kind != FaultSlow {
			continue
		}
		if r.Probability > 0 && f.rnd.Float64() >= r.Probability {
			continue
		}
		r.fired++
		if r.Kind == FaultSlow {
			p.delay += r.Delay
		} else {
			p.kind = r.Kind
		}
	}
	if p.kind == 0 && p.delay == 0 {
		return nil
	}
	return &p
}

type faultCtxKey struct{}

// injectedFault returns the fault kind attached to r for the handler
// to act on (end.pl faults).
func injectedFault(r *http.Request) FaultKind {
	k, _ := r.Context().Value(faultCtxKey{}).(FaultKind)
	return k
}

// applyFault acts out p. It reports whether the request was fully
// handled (otherwise the caller serves it normally).
func (s *Server) applyFault(w *countingWriter, r *http.Request, p picked, serve http.HandlerFunc) bool {
	if p.delay > 0 {
		t := time.NewTimer(p.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	switch p.kind {
	case FaultHTTP500, FaultHTTP502, FaultHTTP503:
		// Assumed: 5xx come from the front proxy (nginx, seen in rclone
		// #5152), so the body is HTML, not the JSON envelope.
		code := map[FaultKind]int{FaultHTTP500: 500, FaultHTTP502: 502, FaultHTTP503: 503}[p.kind]
		text := http.StatusText(code)
		body := fmt.Sprintf("<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d "+
			"%s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", code, text, code, text)
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
		return true
	case FaultResetBefore:
		resetConn(w, true)
		return true
	case FaultResetDuring:
		serve(&cutWriter{countingWriter: w}, r)
		return true
	case FaultResetAfter:
		// The work is done (a file stored, a folder made) but the answer
		// is lost: the case a client must not answer with a duplicate.
		serve(&lostWriter{header: http.Header{}}, r)
		resetConn(w, true)
		return true
	case FaultResetMidUpload:
		s.resetMidUpload(w, r)
		return true
	case FaultEndHTML, FaultEndEmptyLinks, FaultEndShort:
		serve(w, r.WithContext(context.WithValue(r.Context(), faultCtxKey{}, p.kind)))
		return true
	}
	return false
}

// resetConn cuts the client's connection. With rst, the socket is
// closed with SO_LINGER 0 so the peer sees a TCP reset; otherwise a
// plain close (the peer sees an unexpected EOF). Where hijacking is
// impossible (HTTP/2) the handler aborts, which resets the stream.
func resetConn(w http.ResponseWriter, rst bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if rst {
		nc := conn
		if u, ok := nc.(interface{ NetConn() net.Conn }); ok {
			nc = u.NetConn()
		}
		if tc, ok := nc.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
	}
	_ = conn.Close()
}

// lostWriter takes an answer that never reaches the client.
type lostWriter struct {
	header http.Header
}

func (l *lostWriter) Header() http.Header         { return l.header }
func (l *lostWriter) Write(p []byte) (int, error) { return len(p), nil }
func (l *lostWriter) WriteHeader(int)             {}

// cutWriter passes the status, the headers and the first half of the
// body (by Content-Length, else of the first write) to the client, then
// closes the connection. Later writes fail.
type cutWriter struct {
	*countingWriter
	limit int64 // bytes still allowed; -1 = not yet known
	cut   bool
	init  bool
}

func (c *cutWriter) WriteHeader(code int) {
	if !c.init {
		c.init = true
		c.limit = -1
		if n, err := strconv.ParseInt(c.Header().Get("Content-Length"), 10, 64); err == nil {
			c.limit = n / 2
		}
	}
	c.countingWriter.WriteHeader(code)
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if c.cut {
		return 0, net.ErrClosed
	}
	if !c.init {
		c.WriteHeader(http.StatusOK)
	}
	if c.limit < 0 {
		c.limit = int64(len(p) / 2)
	}
	n := int64(len(p))
	if n > c.limit {
		n = c.limit
	}
	if n > 0 {
		_, _ = c.countingWriter.Write(p[:n])
		c.limit -= n
	}
	if c.limit == 0 {
		c.cut = true
		_ = http.NewResponseController(c.countingWriter).Flush()
		resetConn(c.countingWriter, false)
		return int(n), net.ErrClosed
	}
	return len(p), nil
}

// ReadFrom keeps io.Copy going through Write.
func (c *cutWriter) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			w, werr := c.Write(buf[:n])
			total += int64(w)
			if werr != nil {
				return total, werr
			}
		}
		if err != nil {
			return total, nil
		}
	}
}

// ParseFaults parses a fault spec (the CLI's --faults flag; FaultsHelp
// is its help, keep them in step).
//
// Grammar:
//
//	spec     = rule { "," rule }
//	rule     = target "=" action  |  "slow=" DURATION
//	target   = ENDPOINT | "*"
//	action   = kind [ ":" COUNT ] [ "@" PROBABILITY ]
//	kind     = "500" | "502" | "503" | "reset" | "reset-before" | "reset-during" | "reset-after"
//	         | "reset-mid" | "end-html" | "end-empty" | "end-short" | "slow(" DURATION ")"
//
// ENDPOINT is a name as in Stats.Calls: an API path such as
// "file/ls.cgi" (a leading "/v1/" is allowed), or "upload.cgi",
// "end.pl", "download", "dir". "*" matches every endpoint. COUNT limits
// how many times the rule strikes (default: no limit); PROBABILITY in
// (0,1] makes each matching call strike with that chance, drawn from the
// seeded generator (default: every call). "reset" is "reset-before".
// "reset-mid" applies to upload.cgi only, "end-html", "end-empty" and
// "end-short" to end.pl only. "slow=200ms" is short for "*=slow(200ms)". DURATION is a
// Go duration ("200ms", "2s"). Spaces around items are ignored.
//
// Example: "upload.cgi=reset-mid:1,file/ls.cgi=503:2,*=500@0.05,slow=200ms".
func ParseFaults(spec string) ([]FaultRule, error) {
	var rules []FaultRule
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		target, action, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("fault %q: want TARGET=ACTION", item)
		}
		target, action = strings.TrimSpace(target), strings.TrimSpace(action)
		if target == "slow" {
			d, err := time.ParseDuration(action)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("fault %q: bad duration", item)
			}
			rules = append(rules, FaultRule{Endpoint: "*", Fault: Fault{Kind: FaultSlow, Delay: d}})
			continue
		}
		target = strings.TrimPrefix(target, "/v1/")
		if !knownEndpoint(target) {
			return nil, fmt.Errorf("fault %q: unknown endpoint %q", item, target)
		}
		var f Fault
		if a, p, ok := strings.Cut(action, "@"); ok {
			prob, err := strconv.ParseFloat(p, 64)
			if err != nil || prob <= 0 || prob > 1 {
				return nil, fmt.Errorf("fault %q: probability must be in (0,1]", item)
			}
			f.Probability = prob
			action = a
		}
		if a, n, ok := strings.Cut(action, ":"); ok {
			count, err := strconv.Atoi(n)
			if err != nil || count <= 0 {
				return nil, fmt.Errorf("fault %q: count must be a positive integer", item)
			}
			f.Count = count
			action = a
		}
		switch {
		case strings.HasPrefix(action, "slow(") && strings.HasSuffix(action, ")"):
			d, err := time.ParseDuration(action[len("slow(") : len(action)-1])
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("fault %q: bad duration", item)
			}
			f.Kind, f.Delay = FaultSlow, d
		case action == "reset":
			f.Kind = FaultResetBefore
		default:
			for k, n := range faultNames {
				if n == action && k != FaultSlow {
					f.Kind = k
				}
			}
			if f.Kind == 0 {
				return nil, fmt.Errorf("fault %q: unknown kind %q", item, action)
			}
		}
		if target != "*" && !f.Kind.appliesTo(target) {
			return nil, fmt.Errorf("fault %q: %s does not apply to %s", item, f.Kind, target)
		}
		rules = append(rules, FaultRule{Endpoint: target, Fault: f})
	}
	return rules, nil
}

func knownEndpoint(name string) bool {
	switch name {
	case "*", "upload.cgi", "end.pl", "download", "dir":
		return true
	}
	_, ok := apiRoutes[name]
	return ok
}
