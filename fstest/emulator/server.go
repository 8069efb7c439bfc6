package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Offer values match user/info.cgi's "offer" field.
type Offer int

// The account offers. Only Premium and Access may use the API.
const (
	OfferFree    Offer = 0
	OfferPremium Offer = 1
	OfferAccess  Offer = 2
)

// Account is one API key and its account.
type Account struct {
	Key             string
	Email           string    // "" = userN@emulator.invalid (N = 1-based position in Options.Accounts)
	Offer           Offer     // OfferFree accounts get "Must be a customer" on every API call
	ColdQuota       int64     // bytes stored at most: uploads past it are refused (user/info.cgi's quota); 0 = DefaultColdQuota
	HotQuota        int64     // bytes (user/info.cgi's default_quota only); 0 = DefaultHotQuota
	CDNCredits      int64     // bytes
	SubscriptionEnd time.Time // zero = one year from New()
}

// Default quotas used when an Account leaves them at 0.
const (
	DefaultColdQuota int64 = 100e12 // 100 TB
	DefaultHotQuota  int64 = 10e12  // 10 TB

	// DefaultMaxFileSize is the per-file upload limit (300 GB, SW and rclone).
	DefaultMaxFileSize int64 = 300e9
	// DefaultMaxRequestSize is the per-request upload limit (500 GB, api.html).
	DefaultMaxRequestSize int64 = 500e9
	// DefaultMaxListItems is the most items one listing returns (api.html: 5000).
	DefaultMaxListItems = 5000
	// DefaultTokenLifetime is how long a get_token.cgi URL stays valid.
	DefaultTokenLifetime = 5 * time.Minute
)

// Options configure a Server. The zero value plus one Account is a
// faithful emulator with every documented rate rule on.
type Options struct {
	Accounts            []Account     // at least one; New() errors otherwise
	Rates               *Rates        // nil = DefaultRates()
	NoRateLimits        bool          // turn every rule off
	TimeScale           float64       // 0 or 1 = real time; 100 = every duration in Rates, TokenLifetime and ListingDelay divided by 100
	ListingDelay        time.Duration // eventual consistency: new uploads appear in listings after this
	TokenLifetime       time.Duration // download URL validity, 0 = 5m
	DataDir             string        // "" = memory; else persist files + metadata there
	Faults              string        // fault spec (CLI --faults), parsed by ParseFaults
	Seed                int64         // seeds ids, tokens and random faults
	AllowRemoteHosts    bool          // remote upload may fetch non-loopback URLs
	ForeignDownloadHost string        // if set, get_token URLs use this host:port instead (key-hygiene tests)
	Log                 io.Writer     // nil = no request log; one line per request

	// Now replaces the wall clock for every rule, expiry and date (tests
	// use it to make rate rules deterministic). nil = time.Now.
	Now func() time.Time
	// MaxFileSize is the per-file upload limit; 0 = DefaultMaxFileSize.
	MaxFileSize int64
	// MaxListItems caps every listing; 0 = DefaultMaxListItems.
	MaxListItems int
	// MoveChangesURL makes file/mv.cgi give each moved file a new URL,
	// the old one then answering "Resource not found". By default a move
	// keeps the URL, as the evidence says the service does (see
	// moveFiles); this is for tests of clients that must cope with the
	// other reading.
	MoveChangesURL bool
	// ListRule is the reading of the folder-listing rule; "" =
	// ListRuleFolder.
	ListRule ListRule
	// QuerySwitches is the reading of end.pl's JSON and EXPORT switches
	// sent as query parameters; "" = QuerySwitchesIgnore.
	QuerySwitches QuerySwitches
	// EndMemory is the reading of how long end.pl answers for an upload
	// session; "" = EndMemoryMinutes.
	EndMemory EndMemory
	// NumberStrings is whether API requests may send a number as a
	// numeric string ({"id":"100000"}); "" = NumberStringsAccept.
	NumberStrings NumberStrings
	// ReadHeaderTimeout bounds how long a client may take to send a
	// request's headers (NewHTTPServer, NewTestServer); 0 =
	// DefaultReadHeaderTimeout, negative = none.
	ReadHeaderTimeout time.Duration
	// BodyIdleTimeout cuts a request whose body sends nothing for this
	// long; a body that keeps moving is never cut. 0 =
	// DefaultBodyIdleTimeout, negative = none.
	BodyIdleTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long between
	// requests (NewHTTPServer, NewTestServer); 0 = DefaultIdleTimeout,
	// negative = none.
	IdleTimeout time.Duration
}

// NumberStrings is a reading of how the API takes numbers in requests.
type NumberStrings string

// The two readings of numbers in requests.
const (
	// NumberStringsAccept, the default: a numeric string is taken where
	// a number is expected. Clients in use send ids both ways and no
	// source shows the server refusing a string (see call.unmarshal).
	NumberStringsAccept NumberStrings = "accept"
	// NumberStringsRefuse, the strict reading: a string where a number
	// is expected is refused as an invalid parameter.
	NumberStringsRefuse NumberStrings = "refuse"
)

// ParseNumberStrings reads a NumberStrings from its name; "" is
// NumberStringsAccept.
func ParseNumberStrings(s string) (NumberStrings, error) {
	return parseReading(s, "number-strings reading", NumberStringsAccept, NumberStringsRefuse)
}

// Server is the emulator. It is an http.Handler serving every role of
// the real service from one listener, routed by path: the API (/v1/),
// the upload node (/upload.cgi, /end.pl), the download host (/dl/), the
// website's shared folders (/dir/) and /debug/stats.
type Server struct {
	opts     Options
	now      func() time.Time
	scale    float64
	acctMu   sync.RWMutex
	accounts map[string]*Account // by key
	byEmail  map[string]*Account
	rates    *rateLimiter
	listRule ListRule
	faults   *Faults
	killer   killer // crash tests: see crash.go
	stats    *statsCounter
	store    store
	logMu    sync.Mutex

	querySwitches QuerySwitches // Options.QuerySwitches, checked
	endMemory     EndMemory     // Options.EndMemory, checked
	numberStrings NumberStrings // Options.NumberStrings, checked

	mu       sync.Mutex // guards everything below
	rnd      *rand.Rand
	st       *state
	sessions map[string]*uploadSession
	tokens   map[string]*dlToken

	ctx      context.Context // cancelled by Close; stops remote fetches
	cancel   context.CancelFunc
	remoteWG sync.WaitGroup
	closed   bool
	start    time.Time
}

// New builds a Server from opts.
func New(opts Options) (*Server, error) {
	if len(opts.Accounts) == 0 {
		return nil, errors.New("emulator: at least one account is required")
	}
	listRule, err := ParseListRule(string(opts.ListRule))
	if err != nil {
		return nil, err
	}
	querySwitches, err := ParseQuerySwitches(string(opts.QuerySwitches))
	if err != nil {
		return nil, err
	}
	numberStrings, err := ParseNumberStrings(string(opts.NumberStrings))
	if err != nil {
		return nil, err
	}
	endMemory, err := ParseEndMemory(string(opts.EndMemory))
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:     opts,
		now:      opts.Now,
		scale:    opts.TimeScale,
		listRule: listRule,
		accounts: map[string]*Account{},
		byEmail:  map[string]*Account{},
		rnd:      rand.New(rand.NewSource(opts.Seed)),
		sessions: map[string]*uploadSession{},
		tokens:   map[string]*dlToken{},
	}
	s.querySwitches = querySwitches
	s.numberStrings = numberStrings
	s.endMemory = endMemory
	if s.now == nil {
		s.now = time.Now
	}
	if s.scale <= 0 {
		s.scale = 1
	}
	s.stats = newStatsCounter(s.dur(time.Second))
	s.start = s.now()
	for _, a := range opts.Accounts {
		if err := s.addAccount(a); err != nil {
			return nil, err
		}
	}
	if err := s.setupRules(); err != nil {
		return nil, err
	}
	if err := s.openStore(); err != nil {
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// setupRules builds the rate limiter and the fault injector from s.opts.
func (s *Server) setupRules() error {
	rates := DefaultRates()
	if s.opts.Rates != nil {
		rates = *s.opts.Rates
	}
	s.rates = newRateLimiter(rates, !s.opts.NoRateLimits, s.scale)
	s.rates.onLock = s.stats.floodLock
	s.rates.onBreak = s.stats.ruleBroken
	s.faults = newFaults(s.opts.Seed)
	if s.opts.Faults != "" {
		rules, err := ParseFaults(s.opts.Faults)
		if err != nil {
			return err
		}
		s.faults.AddRules(rules...)
	}
	return nil
}

// openStore opens the blob store (memory, or Options.DataDir) and loads
// the saved state from it.
func (s *Server) openStore() error {
	if s.opts.DataDir != "" {
		ds, err := newDirStore(s.opts.DataDir)
		if err != nil {
			return err
		}
		s.store = ds
	} else {
		s.store = newMemStore()
	}
	st, err := loadState(s.store)
	if err != nil {
		return err
	}
	s.st = st
	return nil
}

// addAccount validates a, fills its defaults and registers it.
func (s *Server) addAccount(a Account) error {
	s.acctMu.Lock()
	defer s.acctMu.Unlock()
	n := len(s.accounts) + 1
	if a.Key == "" {
		return fmt.Errorf("emulator: account %d has no key", n)
	}
	if a.Email == "" {
		a.Email = fmt.Sprintf("user%d@emulator.invalid", n)
	}
	if a.ColdQuota == 0 {
		a.ColdQuota = DefaultColdQuota
	}
	if a.HotQuota == 0 {
		a.HotQuota = DefaultHotQuota
	}
	if a.SubscriptionEnd.IsZero() {
		a.SubscriptionEnd = s.start.AddDate(1, 0, 0)
	}
	if _, dup := s.accounts[a.Key]; dup {
		return fmt.Errorf("emulator: duplicate key for account %d", n)
	}
	if _, dup := s.byEmail[a.Email]; dup {
		return fmt.Errorf("emulator: duplicate email %q", a.Email)
	}
	s.accounts[a.Key] = &a
	s.byEmail[a.Email] = &a
	return nil
}

// Faults returns the fault injector, to script faults at run time.
func (s *Server) Faults() *Faults { return s.faults }

// Close stops remote-upload fetches and flushes persisted metadata.
// The Server must not be used afterwards.
func (s *Server) Close() error {
	s.cancel()
	s.remoteWG.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.saveLocked()
}

// dur scales a configured duration by TimeScale.
func (s *Server) dur(d time.Duration) time.Duration {
	return time.Duration(float64(d) / s.scale)
}

func (s *Server) tokenLifetime() time.Duration {
	d := s.opts.TokenLifetime
	if d == 0 {
		d = DefaultTokenLifetime
	}
	return s.dur(d)
}

func (s *Server) maxListItems() int {
	if s.opts.MaxListItems > 0 {
		return s.opts.MaxListItems
	}
	return DefaultMaxListItems
}

func (s *Server) maxFileSize() int64 {
	if s.opts.MaxFileSize > 0 {
		return s.opts.MaxFileSize
	}
	return DefaultMaxFileSize
}

// ---------------------------------------------------------------------
// Routing

// TimeScaleHeader is the answer header that tells a sped-up emulator's
// TimeScale (see the package doc): the emulator's own extension, which
// 1fichier never sends.
const TimeScaleHeader = "X-Time-Scale"

// ServeHTTP serves the whole emulator: API, upload node, download host,
// website and /debug/stats.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if s.scale != 1 {
		w.Header().Set(TimeScaleHeader, strconv.FormatFloat(s.scale, 'g', -1, 64))
	}
	endpoint, serve := s.route(r)
	if r.Body != nil {
		r.Body = &countingReader{r: r.Body, n: &s.stats.bytesIn}
	}
	s.watchBody(w, r)
	cw := &countingWriter{ResponseWriter: w, n: &s.stats.bytesOut}
	defer func() {
		s.logRequest(r, endpoint, cw.status, start)
	}()
	if endpoint == "" { // debug or unknown path: no stats, no faults
		serve(cw, r)
		return
	}
	s.stats.call(endpoint)
	// The rate rules count a call when it arrives, not when a slow-answer
	// fault lets it through.
	r = r.WithContext(context.WithValue(r.Context(), arrivalKey{}, s.now()))
	if p := s.faults.pick(endpoint); p != nil {
		if s.applyFault(cw, r, *p, serve) {
			return
		}
	}
	s.serveWithKill(cw, r, serve)
}

// route maps a request to its endpoint name (as used by Stats and
// Faults) and handler. Debug and unknown paths get an empty name.
func (s *Server) route(r *http.Request) (string, http.HandlerFunc) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/v1/"):
		name := strings.TrimPrefix(p, "/v1/")
		h, ok := apiRoutes[name]
		if !ok {
			return "", func(w http.ResponseWriter, r *http.Request) {
				writeKO(w, ko(http.StatusNotFound, "Resource not found #404"))
			}
		}
		return name, func(w http.ResponseWriter, r *http.Request) { s.serveAPI(w, r, name, h) }
	case p == "/upload.cgi":
		return "upload.cgi", s.serveUpload
	case p == "/end.pl":
		return "end.pl", s.serveEnd
	case strings.HasPrefix(p, "/dl/"):
		return "download", s.serveDownload
	case strings.HasPrefix(p, "/dir/"):
		return "dir", s.serveDir
	case p == "/debug/stats":
		return "", s.serveStats
	case p == "/debug/kill":
		return "", s.serveKill
	case p == "/debug/files":
		return "", s.serveFiles
	}
	return "", http.NotFound
}

// ---------------------------------------------------------------------
// The API envelope

// apiError is a KO answer.
type apiError struct {
	code      int    // HTTP status
	msg       string // "<text> #<n>"
	noMessage bool   // answer {"status":"KO"} without a message
	flood     bool   // a rate rule was broken: lock the key
}

func (e *apiError) Error() string { return e.msg }

func ko(code int, msg string) *apiError { return &apiError{code: code, msg: msg} }

// Error texts. Where the real number is known it is used; the others
// are our own numbers (the real service's numbers mark code locations,
// not error classes, so clients must match on the text).
var (
	errFlood          = &apiError{code: http.StatusForbidden, msg: "Flood detected: IP Locked #374", flood: true}
	errNotAuth        = ko(http.StatusUnauthorized, "Not authenticated #247")
	errNoSuchUser     = ko(http.StatusUnauthorized, "No such user #93")
	errNotCustomer    = ko(http.StatusForbidden, "Must be a customer (Premium, Access) #200")
	errNotFound       = ko(http.StatusNotFound, "Resource not found #469")
	errNotAllowed     = ko(http.StatusForbidden, "Resource not allowed #631")
	errBadPassword    = ko(http.StatusForbidden, "Invalid password. Resource not allowed #631")
	errNoPassword     = ko(http.StatusForbidden, "Password not provided. Resource not allowed #631")
	errNotRenamed     = ko(http.StatusBadRequest, "No file has been renamed #312")
	errBadJSON        = ko(http.StatusBadRequest, "Invalid request: a JSON body is required #14")
	errBadContentType = ko(http.StatusBadRequest, "Invalid request: Content-Type must be application/json #15")
	errMethod         = ko(http.StatusMethodNotAllowed, "Method not allowed #16")
)

func errBadParam(name string) *apiError {
	return ko(http.StatusBadRequest, fmt.Sprintf("Invalid parameter %s #17", name))
}

func errMissingParam(name string) *apiError {
	return ko(http.StatusBadRequest, fmt.Sprintf("Parameter %s must be defined #18", name))
}

// call is one authenticated API request.
type call struct {
	s        *Server
	r        *http.Request
	endpoint string
	acct     *Account // nil only for anonymous get_upload_server.cgi
	key      string
	ip       string
	body     []byte
	now      time.Time
}

// decode unmarshals the JSON body into v. A number may come as a
// numeric string unless Options.NumberStrings refuses it (see
// numbersFromStrings); any other wrong type is a bad parameter.
func (c *call) decode(v any) *apiError {
	if err := c.unmarshal(c.body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return errBadParam(te.Field)
		}
		return errBadJSON
	}
	return nil
}

// unmarshal is json.Unmarshal, taking numeric strings for numbers under
// NumberStringsAccept.
//
// What is known [§1 of the notes]: clients send ids as JSON numbers
// (rclone, the C# SDK) and as strings (1fichier-ts types remote/info.cgi's
// "id" as a string, the npm 1fichier-api package sends file/cp.cgi's
// "folder_id" as one), and no source shows the server refusing a numeric
// string; rclone #3359 was rclone failing to decode an answer, not the
// server refusing a request. Nothing is known field by field, so every
// numeric field takes a string (assumed: one decoder on the server
// side). Only a plain decimal integer ("5", "-1", "100000") counts: no
// source shows " 5", "+5", "05" or "5.0", and those stay refused.
func (c *call) unmarshal(data []byte, v any) error {
	if c.s.numberStrings == NumberStringsAccept {
		var tree any
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		if err := d.Decode(&tree); err == nil {
			if b, err := json.Marshal(numbersFromStrings(tree, reflect.TypeOf(v))); err == nil {
				data = b
			}
		}
	}
	return json.Unmarshal(data, v)
}

// numbersFromStrings turns the numeric strings in the decoded JSON value
// v that land in integer fields of type t into numbers, in place, and
// returns v.
func numbersFromStrings(v any, t reflect.Type) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[json.RawMessage]() {
		return v // decoded later, by a second unmarshal call
	}
	switch x := v.(type) {
	case string:
		if isInteger(t.Kind()) {
			if n, err := strconv.ParseInt(x, 10, 64); err == nil && strconv.FormatInt(n, 10) == x {
				return json.Number(x)
			}
		}
	case map[string]any:
		for k, val := range x {
			switch t.Kind() {
			case reflect.Struct:
				if f, ok := jsonField(t, k); ok {
					x[k] = numbersFromStrings(val, f.Type)
				}
			case reflect.Map:
				x[k] = numbersFromStrings(val, t.Elem())
			}
		}
	case []any:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for i := range x {
				x[i] = numbersFromStrings(x[i], t.Elem())
			}
		}
	}
	return v
}

func isInteger(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// jsonField finds the field of struct type t that encoding/json fills
// from key: by its tag name or else its Go name, an exact match first,
// then one that differs only in case. (No request struct embeds
// another.)
func jsonField(t reflect.Type, key string) (reflect.StructField, bool) {
	var folded *reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f, true
		}
		if folded == nil && strings.EqualFold(name, key) {
			folded = &f
		}
	}
	if folded != nil {
		return *folded, true
	}
	return reflect.StructField{}, false
}

type apiHandler struct {
	fn func(c *call) (any, *apiError)
	// emptyBodyOK: the endpoint accepts no body (user/info.cgi, observed
	// with rclone, which sends none).
	emptyBodyOK bool
	// getOK: GET is accepted (get_upload_server.cgi is documented as GET).
	getOK bool
	// anonymousOK: no Authorization header needed (anonymous uploads).
	anonymousOK bool
}

var apiRoutes map[string]apiHandler

func init() {
	apiRoutes = map[string]apiHandler{
		"file/ls.cgi":                  {fn: (*call).fileLs},
		"file/info.cgi":                {fn: (*call).fileInfo},
		"file/rm.cgi":                  {fn: (*call).fileRm},
		"file/mv.cgi":                  {fn: (*call).fileMv},
		"file/cp.cgi":                  {fn: (*call).fileCp},
		"file/rename.cgi":              {fn: (*call).fileRename},
		"file/chattr.cgi":              {fn: (*call).fileChattr},
		"file/scan.cgi":                {fn: (*call).fileScan},
		"folder/ls.cgi":                {fn: (*call).folderLs},
		"folder/mkdir.cgi":             {fn: (*call).folderMkdir},
		"folder/rm.cgi":                {fn: (*call).folderRm},
		"folder/mv.cgi":                {fn: (*call).folderMv},
		"folder/share.cgi":             {fn: (*call).folderShare},
		"download/get_token.cgi":       {fn: (*call).getToken},
		"upload/get_upload_server.cgi": {fn: (*call).getUploadServer, emptyBodyOK: true, getOK: true, anonymousOK: true},
		"remote/request.cgi":           {fn: (*call).remoteRequest},
		"remote/ls.cgi":                {fn: (*call).remoteLs, emptyBodyOK: true},
		"remote/info.cgi":              {fn: (*call).remoteInfo},
		"user/info.cgi":                {fn: (*call).userInfo, emptyBodyOK: true},
		"vouchers/ls.cgi":              {fn: (*call).voucherLs, emptyBodyOK: true},
		"vouchers/check.cgi":           {fn: (*call).voucherCheck},
		"vouchers/use.cgi":             {fn: (*call).voucherUse},
	}
}

// bearerKey returns the key of an "Authorization: Bearer <key>" header.
func bearerKey(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	const p = "Bearer "
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) {
		return "", false
	}
	return strings.TrimSpace(h[len(p):]), true
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// authenticate resolves the caller's account. It is shared by the API
// and the upload node.
func (s *Server) authenticate(r *http.Request) (*Account, string, *apiError) {
	key, ok := bearerKey(r)
	if !ok {
		return nil, "", errNotAuth
	}
	s.acctMu.RLock()
	acct := s.accounts[key]
	s.acctMu.RUnlock()
	if acct == nil {
		// Observed: a bad key answers "No such user #93" (rclone, JD).
		return nil, key, errNoSuchUser
	}
	if acct.Offer != OfferPremium && acct.Offer != OfferAccess {
		// Observed (JD, 2020): the API is for paying customers only.
		return nil, key, errNotCustomer
	}
	return acct, key, nil
}

// arrivalKey keys the time a request arrived in its context.
type arrivalKey struct{}

// arrival returns when r arrived (now for a request that did not go
// through ServeHTTP).
func (s *Server) arrival(r *http.Request) time.Time {
	if t, ok := r.Context().Value(arrivalKey{}).(time.Time); ok {
		return t
	}
	return s.now()
}

// gate applies the flood lock and the per-key call rate to r, counted at
// its arrival. It is called for every API, upload.cgi and end.pl request
// of a known key.
func (s *Server) gate(key string, r *http.Request) *apiError {
	at := s.arrival(r)
	s.acctMu.RLock()
	acct := s.accounts[key]
	s.acctMu.RUnlock()
	if acct != nil {
		s.stats.arrived(acct.Email, at)
	}
	locked, err := s.rates.admit(key, at)
	if locked {
		s.stats.duringLock()
	}
	if err != nil {
		s.stats.floodRejected()
		return err
	}
	return nil
}

// flood records a broken endpoint rule and locks the key.
func (s *Server) flood(key string) {
	s.rates.lock(key, s.now())
	s.stats.floodRejected()
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, name string, h apiHandler) {
	if r.Method != http.MethodPost && !(h.getOK && r.Method == http.MethodGet) {
		writeKO(w, errMethod)
		return
	}
	c := &call{s: s, r: r, endpoint: name, ip: remoteIP(r), now: s.now()}
	acct, key, aerr := s.authenticate(r)
	if aerr != nil && !(h.anonymousOK && aerr == errNotAuth) {
		writeKO(w, aerr)
		return
	}
	c.acct, c.key = acct, key
	if acct != nil {
		if e := s.gate(key, r); e != nil {
			writeKO(w, e)
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		if bodyTimedOut(r) {
			writeBodyTimeout(w)
		}
		return // otherwise the client went away
	}
	c.body = bytes.TrimSpace(body)
	// Observed: clients send Content-Type: application/json on every call,
	// even GET ("1Fichier API is bad", rclone); we require it.
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		writeKO(w, errBadContentType)
		return
	}
	switch {
	case len(c.body) == 0 || string(c.body) == `""`:
		// Users' guides: endpoints that need a body want valid JSON,
		// even {}. user/info.cgi accepts none (rclone) or "" (JD).
		if !h.emptyBodyOK {
			writeKO(w, errBadJSON)
			return
		}
		c.body = []byte("{}")
	case c.body[0] != '{' || !json.Valid(c.body):
		writeKO(w, errBadJSON)
		return
	}
	var p struct {
		Pretty int `json:"pretty"`
	}
	_ = c.unmarshal(c.body, &p)
	res, e := h.fn(c)
	if e != nil {
		if e.flood {
			s.flood(key)
		}
		writeKO(w, e)
		return
	}
	writeJSON(w, http.StatusOK, res, p.Pretty == 1)
}

// writeJSON writes v with the real service's content type.
func writeJSON(w http.ResponseWriter, code int, v any, pretty bool) {
	var b []byte
	var err error
	if pretty {
		b, err = json.MarshalIndent(v, "", "  ")
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)+1))
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// statusBody is the bare envelope: a status ("OK" or "KO") and a message.
type statusBody struct {
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// writeKO writes e as {"status":"KO","message":"..."} (the documented
// envelope) with e's HTTP code, or as a bare {"status":"KO"} when e has
// no message.
func writeKO(w http.ResponseWriter, e *apiError) {
	msg := e.msg
	if e.noMessage {
		msg = ""
	}
	writeJSON(w, e.code, statusBody{Status: "KO", Message: msg}, false)
}

// ---------------------------------------------------------------------
// Logging

// maskKey shows only the start of a key so logs never hold a full key.
func maskKey(k string) string {
	if k == "" {
		return "-"
	}
	n := 3
	if len(k) <= 6 {
		n = 1
	}
	if len(k) < n {
		n = len(k)
	}
	return k[:n] + "***"
}

func (s *Server) logRequest(r *http.Request, endpoint string, status int, start time.Time) {
	if s.opts.Log == nil {
		return
	}
	key, _ := bearerKey(r)
	if endpoint == "" {
		endpoint = r.URL.Path
	}
	if status == 0 {
		status = -1 // connection cut before a status was written
	}
	line := fmt.Sprintf("%s %s %s %d key=%s ip=%s %s\n",
		s.now().Format("2006-01-02T15:04:05.000"), r.Method, endpoint, status,
		maskKey(key), remoteIP(r), time.Since(start).Round(time.Microsecond))
	s.logMu.Lock()
	defer s.logMu.Unlock()
	_, _ = io.WriteString(s.opts.Log, line)
}
