package fichier

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/lib/rest"
)

// retryPolicy says how a call is retried.
type retryPolicy int

const (
	// retryPaced retries with the pacer as shouldRetry says.
	retryPaced retryPolicy = iota
	// retryByCaller makes one attempt and leaves the retry to the
	// caller's own loop (upload.cgi, end.pl): the error is shouldRetry's,
	// which closes the flood gate on a flood answer, and mayRetry gets
	// its verdict.
	retryByCaller
	// retryNever makes one attempt and returns the error as it came:
	// the config wizard, where a person is waiting, reads it itself.
	retryNever
	// retryUnsent retries with the pacer only when the request surely
	// did not reach the server or was refused whole (a KO answer); a
	// call whose answer was lost returns a *lostAnswer error instead:
	// the calls that make something (file/cp.cgi, folder/mkdir.cgi,
	// remote/request.cgi) may have made it, and their caller looks
	// before sending again.
	retryUnsent
)

// apiCall is one call to 1fichier and how to make it. Every call to the
// API, its upload servers and the website goes through Fs.call, which
// waits for the key's call budget before each attempt; only a download
// (Object.Open, from a download URL) does not.
type apiCall struct {
	// path is the endpoint, one of the api package's paths (with the
	// folder's ID for the shared folder's page). It is under the API's
	// root unless opts.RootURL names another host.
	path string
	// opts holds everything else of the request: method (POST unless
	// set), RootURL, parameters, headers, a streamed Body.
	opts rest.Opts
	// website sends the call through f.plain, which never carries the
	// key: the public website.
	website bool
	// before, if set, runs before every attempt, ahead of the budget:
	// a rate rule of the call's own (a listing waits for its folder's
	// turn, user/info.cgi for its clocks). The release it returns, if
	// any, gives the turn back when the attempt never reached 1fichier.
	before func() (release func(), err error)
	// rules are rate rules of the call's own that its request keeps when
	// it leaves (limits.depart): a listing's folder, user/info.cgi.
	rules []departRule
	// request is sent as JSON; nil sends no JSON body. opts.Body, if
	// set, goes instead as it is: a stream is sent once, so it wants
	// retryByCaller (upload.cgi).
	request any
	// form, if set, is the body instead, as an HTML form sent anew on
	// every attempt.
	form url.Values
	// response gets the answer decoded from JSON, with a KO status
	// turned into an *api.Error; a *[]byte gets the body as it is
	// (the website and end.pl answer JSON or HTML); nil reads none.
	response any
	// retry is how the call is retried; retryPaced unless set.
	retry retryPolicy
	// mayRetry, if set, gets whether a retry may help after a
	// retryByCaller attempt.
	mayRetry *bool
	// slotAt, if set, is when the caller's call slot of the budget came
	// (the batch dispatcher waits for it while the batch forms): the
	// first attempt goes at once if it is still within half a call
	// interval of it, else it books a slot of its own, as a retry does,
	// so a late send never bunches with the next slot's call.
	slotAt time.Time
}

// call makes the call c describes.
func (f *Fs) call(ctx context.Context, c *apiCall) error {
	opts := c.opts
	if c.path != "" {
		opts.Path = c.path
	}
	if opts.Method == "" {
		opts.Method = "POST"
	}
	if c.form != nil {
		opts.ContentType = "application/x-www-form-urlencoded"
	}
	srv := f.srv
	if c.website {
		srv = f.plain
	}
	slotAt := c.slotAt
	attempt := func() (bool, error) {
		var release func()
		if c.before != nil {
			var err error
			if release, err = c.before(); err != nil {
				return false, err
			}
		}
		if c.form != nil {
			opts.Body = strings.NewReader(c.form.Encode())
		}
		resp, err := f.send(ctx, srv, &opts, c, slotAt)
		slotAt = time.Time{}
		if release != nil && isUnreached(err) {
			release()
		}
		if c.retry == retryNever {
			return false, err
		}
		retry, err := f.shouldRetry(ctx, resp, err)
		if c.retry == retryUnsent && err != nil && !surelyUnsent(err) {
			return false, &lostAnswer{err: err}
		}
		return retry, err
	}
	if c.retry == retryPaced || c.retry == retryUnsent {
		return f.pacer.Call(attempt)
	}
	retry, err := attempt()
	if c.mayRetry != nil {
		*c.mayRetry = retry
	}
	return err
}

// statusError is satisfied by every answer with the status envelope.
type statusError interface {
	Err() error
}

// send is one attempt of call: it waits for the key's budget, calls srv
// and turns a KO answer into an *api.Error. A *[]byte response gets the
// body as it is; request is then unused. A call slot the dispatcher
// booked for it at slotAt is used if it is less than half an interval
// old; otherwise the call books its own. The request leaves only when
// limits.depart lets it, once its connection is ready; an attempt that
// never got a connection (refused, DNS, TLS, a proxy) returns an
// *unreachedError.
func (f *Fs) send(ctx context.Context, srv *rest.Client, opts *rest.Opts, c *apiCall, slotAt time.Time) (*http.Response, error) {
	interval, _, _ := f.acc.limits.settings()
	if !slotAt.IsZero() && time.Since(slotAt) < interval/2 {
		if err := ctx.Err(); err != nil {
			return nil, errUnsent{err}
		}
	} else if err := f.acc.limits.wait(ctx); err != nil {
		return nil, errUnsent{err}
	}
	d := &departure{limits: f.acc.limits, ctx: ctx, rules: c.rules}
	resp, err := f.exchange(d.trace(), srv, opts, c.request, c.response)
	f.acc.learnTimeScale(resp)
	if err != nil && !d.reached.Load() && ctx.Err() == nil {
		return resp, newUnreachedError(err)
	}
	return resp, err
}

// exchange sends one request and reads its answer.
func (f *Fs) exchange(ctx context.Context, srv *rest.Client, opts *rest.Opts, request, response any) (*http.Response, error) {
	if body, ok := response.(*[]byte); ok {
		resp, err := srv.Call(ctx, opts)
		if err == nil {
			*body, err = rest.ReadBody(resp)
		}
		return resp, err
	}
	resp, err := srv.CallJSON(ctx, opts, request, response)
	if err == nil {
		if s, ok := response.(statusError); ok {
			if err = s.Err(); err != nil && resp != nil {
				err.(*api.Error).HTTPStatus = resp.StatusCode
			}
		}
	}
	return resp, err
}

// departure follows one request through net/http: once its connection
// to the host is ready, and just before its first byte is written, it
// waits for limits.depart; reached records that it got that far.
type departure struct {
	limits  *limits
	ctx     context.Context
	rules   []departRule
	reached atomic.Bool
}

// trace returns the request's context, which carries the hook.
func (d *departure) trace() context.Context {
	return httptrace.WithClientTrace(d.ctx, &httptrace.ClientTrace{GotConn: d.gotConn})
}

// gotConn runs in the request's goroutine before it writes. An error
// here is the context's (the request then fails with it) or the state
// file's, which leaves the call paced by its booking alone. A
// connection with no remote address is no network connection: --dump
// writes the request out through one (httputil.DumpRequestOut) before
// sending it, and that is no departure.
func (d *departure) gotConn(info httptrace.GotConnInfo) {
	if info.Conn == nil || info.Conn.RemoteAddr() == nil {
		return
	}
	d.reached.Store(true)
	if err := d.limits.depart(d.ctx, d.rules); err != nil {
		fs.Debugf(nil, "fichier: %v", err)
	}
}

// unreachedError is an attempt that never reached its host: no connection
// could be made (refused, DNS, TLS, a proxy). 1fichier never saw it, so
// it takes no rate slot of its own, and it is retried with the pacer's
// back-off.
type unreachedError struct {
	host string
	err  error
}

// unreachedTold holds the hosts whose first failure was told at NOTICE.
var unreachedTold sync.Map

// newUnreachedError wraps err, the failure of a request that never got a
// connection, and says at NOTICE the first time a host can't be reached.
func newUnreachedError(err error) error {
	host := "the API host"
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		if u, perr := url.Parse(urlErr.URL); perr == nil && u.Host != "" {
			host = u.Host
		}
	}
	if _, told := unreachedTold.LoadOrStore(host, true); !told {
		fs.Logf(nil, "fichier: couldn't reach %s (%v): retrying; check the network, the proxy settings and api_url", host, errors.Unwrap(err))
	}
	return &unreachedError{host: host, err: err}
}

// Error names the host.
func (e *unreachedError) Error() string { return fmt.Sprintf("couldn't reach %s: %v", e.host, e.err) }

// Unwrap returns the transport's error.
func (e *unreachedError) Unwrap() error { return e.err }

// isUnreached reports whether err is an attempt that never reached its
// host.
func isUnreached(err error) bool {
	var u *unreachedError
	return errors.As(err, &u)
}

// errUnsent is an error met before the request left: nothing reached
// the server.
type errUnsent struct{ error }

// Unwrap returns what stopped the request.
func (e errUnsent) Unwrap() error { return e.error }

// lostAnswer is the error of a retryUnsent call that may have reached
// the server and done its work, though no answer says so.
type lostAnswer struct{ err error }

// Error says that the outcome is unknown.
func (e *lostAnswer) Error() string {
	return "no answer, so it is not known whether it was done: " + e.err.Error()
}

// Unwrap returns the transport's error.
func (e *lostAnswer) Unwrap() error { return e.err }

// surelyUnsent reports whether err says the request did not reach the
// server, or that the server refused it whole: it was not sent (budget,
// cancelled), the connection was never made, or 1fichier answered KO
// (a flood lock, a refusal). A 5xx page or a cut connection may come
// after the work was done, so they are not.
func surelyUnsent(err error) bool {
	var unsent errUnsent
	var apiErr *api.Error
	switch {
	case errors.As(err, &unsent), isUnreached(err):
		return true
	case errors.As(err, &apiErr):
		return apiErr.HTTPStatus < 500 && apiErr.Status == "KO"
	}
	return false
}
