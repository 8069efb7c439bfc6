package emulator

import (
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// Connection timeouts, so that clients that stall (a CI job killed
// halfway, a test that opens connections and forgets them) cannot keep
// connections open for ever. The defaults are nginx's own defaults
// (client_header_timeout 60s, client_body_timeout 60s, keepalive_timeout
// 75s): the service answers from behind nginx (rclone #5152 shows
// "Server: nginx"), though its real settings are unknown (assumed).
// TimeScale does not divide them: they guard the emulator's process, not
// a rule of the service, and a loaded CI machine is slow in real time.
const (
	DefaultReadHeaderTimeout = 60 * time.Second
	DefaultBodyIdleTimeout   = 60 * time.Second
	DefaultIdleTimeout       = 75 * time.Second
)

func (s *Server) readHeaderTimeout() time.Duration {
	return durationOr(s.opts.ReadHeaderTimeout, DefaultReadHeaderTimeout)
}

func (s *Server) bodyIdleTimeout() time.Duration {
	return durationOr(s.opts.BodyIdleTimeout, DefaultBodyIdleTimeout)
}

func (s *Server) idleTimeout() time.Duration {
	return durationOr(s.opts.IdleTimeout, DefaultIdleTimeout)
}

// durationOr is d, or def when d is 0; a negative d turns a timeout off.
func durationOr(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// NewHTTPServer returns an http.Server serving s with its header and
// keep-alive timeouts (Options.ReadHeaderTimeout, Options.IdleTimeout).
// The body timeout is applied by s itself, on any server. The caller
// sets Addr or calls Serve.
func (s *Server) NewHTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.readHeaderTimeout(),
		IdleTimeout:       s.idleTimeout(),
	}
}

// idleBody is a request body whose connection is cut when the client
// sends nothing for the idle time: each Read pushes the connection's
// read deadline that far ahead, so a slow upload that keeps moving is
// never cut, however long it takes, while one that stops is (like
// nginx's client_body_timeout, which also times the gap between two
// reads, not the whole body).
type idleBody struct {
	r        io.ReadCloser
	rc       *http.ResponseController
	idle     time.Duration
	on       bool // false once the writer cannot set deadlines, or the body ended
	timedOut bool
}

// watchBody wraps r's body in an idleBody when the idle timeout is on
// and r has a body. The idle clock starts now, when the headers are in:
// a handler that answers without reading the body (a refused key, a
// flood) leaves net/http to discard the rest before answering, and a
// stalled body must not hold that discard for ever either.
func (s *Server) watchBody(w http.ResponseWriter, r *http.Request) {
	idle := s.bodyIdleTimeout()
	if idle <= 0 || r.Body == nil || r.Body == http.NoBody {
		return
	}
	rc := http.NewResponseController(w)
	// Wall time, not Options.Now: this is the network's clock.
	if err := rc.SetReadDeadline(time.Now().Add(idle)); err != nil {
		return // e.g. an httptest.ResponseRecorder
	}
	r.Body = &idleBody{r: r.Body, rc: rc, idle: idle, on: true}
}

func (b *idleBody) Read(p []byte) (int, error) {
	if b.on {
		_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	}
	n, err := b.r.Read(p)
	if err != nil && b.on {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			b.timedOut = true
		} else {
			// The body is over: clear the deadline, or net/http's
			// background read (which watches for the client going away
			// while the handler works) would time out and cancel the
			// request's context.
			_ = b.rc.SetReadDeadline(time.Time{})
			b.on = false
		}
	}
	return n, err
}

func (b *idleBody) Close() error { return b.r.Close() }

// bodyTimedOut reports whether r's body was cut for sending nothing for
// the idle time.
func bodyTimedOut(r *http.Request) bool {
	b, ok := r.Body.(*idleBody)
	return ok && b.timedOut
}

// writeBodyTimeout answers a request whose body stalled: 408, as nginx
// names a client_body_timeout. The connection is closed after it, as
// the rest of the body can no longer be read.
func writeBodyTimeout(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	http.Error(w, "408 Request Time-out", http.StatusRequestTimeout)
}
