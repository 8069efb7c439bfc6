// Command fichier-emulator runs the 1fichier API emulator
// (package fstest/emulator) as a standalone server, for demos, scripts and
// clients that cannot be linked with the Go package.
//
// Usage:
//
//	fichier-emulator --listen 127.0.0.1:PORT --key KEY [--key KEY2 ...]
//	    [--offer premium|access|free] [--email E] [--time-scale F]
//	    [--data DIR] [--proxy ADDR --ca-out FILE] [--faults SPEC] [--seed N]
//	    [--listing-delay D] [--no-rate-limits] [--list-rule folder|endpoint]
//	    [--move-changes-url] [--query-switches ignore|honour]
//	    [--number-strings accept|refuse] [--header-timeout D]
//	    [--body-timeout D] [--idle-timeout D] [--seed-public N]
//	    [--quota SIZE] [-v]
//
// One listener serves every role of the service (API under /v1/, upload
// node, download host, website, /debug/stats). With --proxy, a second
// listener is an HTTP proxy that answers for 1fichier.com and
// *.1fichier.com over TLS, so that unmodified clients work with
// HTTPS_PROXY=http://ADDR and the CA written to --ca-out.
//
// Once both listeners are bound, the command prints key=value lines on
// standard output, ending with ready=1, for scripts to read:
//
//	url=http://127.0.0.1:PORT
//	api_url=http://127.0.0.1:PORT/v1
//	stats_url=http://127.0.0.1:PORT/debug/stats
//	key=KEY                      (one line per --key)
//	proxy=127.0.0.1:PPORT        (with --proxy)
//	proxy_url=http://127.0.0.1:PPORT
//	ca=/abs/path/ca.pem          (with --ca-out)
//	public=https://1fichier.com/?ID (one line per --seed-public file)
//	ready=1
//
// Port 0 in --listen or --proxy picks a free port; the printed lines show
// the real one. -v logs one line per request to standard error, keys
// masked. SIGINT or SIGTERM stops the server: connections are drained,
// persisted state (--data) is flushed, and the exit status is 0.
//
// Exit status: 0 after a clean stop (or --help), 1 on a run-time error
// (a port already in use, a failed flush), 2 on a bad command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
)

// shutdownTimeout bounds how long a stop waits for requests in flight.
const shutdownTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is the parsed command line.
type config struct {
	listen       string
	keys         []string
	offer        emulator.Offer
	email        string
	timeScale    float64
	dataDir      string
	proxy        string
	caOut        string
	faults       string
	seed         int64
	listingDelay time.Duration
	noRateLimits bool
	listRule     emulator.ListRule
	moveNewURL   bool
	querySwitch  emulator.QuerySwitches
	numStrings   emulator.NumberStrings
	endMemory    emulator.EndMemory
	headerTime   time.Duration // --header-timeout
	bodyTime     time.Duration // --body-timeout
	idleTime     time.Duration // --idle-timeout
	seedPublic   int
	quota        int64    // --quota in bytes; 0 = the emulator's default
	publicURLs   []string // set by serve from seedPublic
	verbose      bool
}

// usageError is a bad command line: the message names the flag, and the
// exit status is 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// parseOffer maps an --offer value to the emulator's Offer.
func parseOffer(s string) (emulator.Offer, error) {
	switch strings.ToLower(s) {
	case "premium":
		return emulator.OfferPremium, nil
	case "access":
		return emulator.OfferAccess, nil
	case "free":
		return emulator.OfferFree, nil
	}
	return 0, errors.New("want premium, access or free")
}

// parseFlags reads the command line. Flag syntax errors are reported by the
// flag package (which names the flag) on stderr, with the usage text;
// checks across flags come back as a *usageError. flag.ErrHelp means help
// was asked for and printed.
func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{offer: emulator.OfferPremium, timeScale: 1, listRule: emulator.ListRuleFolder, querySwitch: emulator.QuerySwitchesIgnore, numStrings: emulator.NumberStringsAccept}
	fs := cfg.flagSet(stderr)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q (every option is a flag)", fs.Arg(0))
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// flagSet defines the command's flags, each writing into cfg.
func (cfg *config) flagSet(stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("fichier-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:0", "`host:port` to serve the emulator on (port 0 picks a free port)")
	fs.Func("key", "API `KEY` of an account; repeat for more accounts (at least one)", cfg.addKey)
	fs.Func("offer", "`OFFER` of every account: premium, access or free (default premium)", func(s string) error {
		o, err := parseOffer(s)
		cfg.offer = o
		return err
	})
	fs.StringVar(&cfg.email, "email", "", "e-mail of the first account; further accounts get `E` with +2, +3... before the @ (default: the emulator's userN@emulator.invalid)")
	fs.Float64Var(&cfg.timeScale, "time-scale", 1, "divide every rate-rule, token and listing-delay duration by `F` (100 = rules run 100 times faster); "+
		"every answer then carries the header X-Time-Scale: F")
	fs.StringVar(&cfg.dataDir, "data", "", "persist files and metadata in `DIR` (default: memory only)")
	fs.StringVar(&cfg.proxy, "proxy", "", "also run an HTTPS-intercepting proxy for *.1fichier.com on `host:port`")
	fs.StringVar(&cfg.caOut, "ca-out", "", "write the proxy's CA certificate (PEM) to `FILE`; needs --proxy")
	fs.StringVar(&cfg.faults, "faults", "", "inject failures as `SPEC` says (grammar, kinds and endpoints below)")
	fs.Func("quota", "every account may store `SIZE` at most: 100M, 1G, 1T, ... (rclone's binary units; "+
		"a bare number is bytes) (default 100 TB); user/info.cgi reports what is stored against it, and uploads past it are refused",
		func(s string) error {
			n, err := parseSize(s)
			cfg.quota = n
			return err
		})
	fs.Int64Var(&cfg.seed, "seed", 0, "`N` seeds ids, tokens and random faults")
	fs.DurationVar(&cfg.listingDelay, "listing-delay", 0, "new uploads appear in listings only after `D` (eventual consistency)")
	fs.BoolVar(&cfg.noRateLimits, "no-rate-limits", false, "turn every flood rule off")
	fs.Func("list-rule", "`READING` of the one-listing-per-folder-per-30s rule: folder (folder/ls.cgi and file/ls.cgi of a folder share one slot) or endpoint (each endpoint has its own slot) (default folder)", func(s string) error {
		r, err := emulator.ParseListRule(s)
		cfg.listRule = r
		return err
	})
	fs.Func("query-switches", "`READING` of end.pl's JSON and EXPORT switches sent as query parameters (end.pl?xid=...&JSON=1) rather than headers: ignore (answer the HTML page, as only the header form is seen working) or honour (default ignore)", func(s string) error {
		q, err := emulator.ParseQuerySwitches(s)
		cfg.querySwitch = q
		return err
	})
	fs.Func("number-strings", "`READING` of numbers sent as strings in API requests ({\"id\":\"100000\"}): accept (clients send ids both ways and no source shows a refusal) or refuse (the strict reading: an invalid parameter) (default accept)", func(s string) error {
		n, err := emulator.ParseNumberStrings(s)
		cfg.numStrings = n
		return err
	})
	fs.Func("end-memory", "`READING` of how long end.pl answers for an upload session: minutes (the result page's own words, the strict reading: 2 minutes after the last upload, divided by --time-scale) or hours (2 hours, as documented) (default minutes)", func(s string) error {
		m, err := emulator.ParseEndMemory(s)
		cfg.endMemory = m
		return err
	})
	fs.BoolVar(&cfg.moveNewURL, "move-changes-url", false, "file/mv.cgi gives a moved file a new URL and the old one stops working (default: a move keeps the URL, as the evidence says the service does)")
	fs.DurationVar(&cfg.headerTime, "header-timeout", emulator.DefaultReadHeaderTimeout, "close a connection whose request headers take longer than `D` (0 = never)")
	fs.DurationVar(&cfg.bodyTime, "body-timeout", emulator.DefaultBodyIdleTimeout, "close a connection whose request body sends nothing for `D`; a body that keeps moving is never cut (0 = never)")
	fs.DurationVar(&cfg.idleTime, "idle-timeout", emulator.DefaultIdleTimeout, "close a keep-alive connection idle for `D` between requests (0 = never)")
	fs.IntVar(&cfg.seedPublic, "seed-public", 0, "give another user `N` public files that every --key can import or download by URL (printed as public= lines)")
	fs.BoolVar(&cfg.verbose, "v", false, "log one line per request to standard error")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: fichier-emulator --listen 127.0.0.1:PORT --key KEY [flags]\n\nRuns the 1fichier API emulator as a server.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), readingsHelp)
		fmt.Fprint(fs.Output(), "\n"+emulator.FaultsHelp())
	}
	return fs
}

// readingsHelp ends the usage text: every reading of the service the
// command can switch, and what its default means. Keep it in step with
// the flags above and with README.md ("Try it without an account").
const readingsHelp = `
Readings: where the evidence leaves the service's behaviour open, the
emulator takes the stricter reading unless the evidence points the other
way, and these flags switch to the other one:
  --list-rule folder|endpoint
	default folder: folder/ls.cgi and file/ls.cgi of one folder share one
	30-second slot (stricter); endpoint gives each endpoint its own slot.
  --move-changes-url
	default off: file/mv.cgi keeps the file's URL (a client's tests run
	against the live service read a moved file by its old URL); on, a
	moved file gets a new URL and the old one answers "Resource not found".
  --query-switches ignore|honour
	default ignore: end.pl's JSON and EXPORT switches work only as request
	headers, the form clients are seen to send (stricter); honour also
	takes them as query parameters (end.pl?xid=...&JSON=1).
  --number-strings accept|refuse
	default accept: a number may be sent as a decimal string
	({"id":"100000"}), as some clients do, with no refusal on record;
	refuse answers "Invalid parameter" (the strict reading).
  --end-memory minutes|hours
	default minutes: end.pl forgets an upload session 2 minutes after its
	last upload (divided by --time-scale), as the result page warns
	(stricter); hours keeps it 2 hours, as the API documentation says.
`

// addKey takes one --key.
func (cfg *config) addKey(s string) error {
	if strings.TrimSpace(s) == "" || strings.ContainsAny(s, " \t\r\n") {
		return errors.New("a key must be non-empty and contain no white space")
	}
	if slices.Contains(cfg.keys, s) {
		return errors.New("key given twice")
	}
	cfg.keys = append(cfg.keys, s)
	return nil
}

// check applies the checks that span flags, or that the flag package
// cannot make.
func (cfg *config) check() error {
	if len(cfg.keys) == 0 {
		return usagef("--key is required")
	}
	if _, _, err := net.SplitHostPort(cfg.listen); err != nil {
		return usagef("--listen %q: want host:port: %v", cfg.listen, err)
	}
	if cfg.proxy != "" {
		if _, _, err := net.SplitHostPort(cfg.proxy); err != nil {
			return usagef("--proxy %q: want host:port: %v", cfg.proxy, err)
		}
	}
	if cfg.caOut != "" && cfg.proxy == "" {
		return usagef("--ca-out needs --proxy")
	}
	if !(cfg.timeScale > 0) || cfg.timeScale > 1e9 {
		return usagef("--time-scale %v: want a number above 0", cfg.timeScale)
	}
	if cfg.seedPublic < 0 || cfg.seedPublic > 999 {
		return usagef("--seed-public %d: want 0 to 999", cfg.seedPublic)
	}
	if cfg.listingDelay < 0 {
		return usagef("--listing-delay %v: must not be negative", cfg.listingDelay)
	}
	for name, d := range map[string]time.Duration{"--header-timeout": cfg.headerTime, "--body-timeout": cfg.bodyTime, "--idle-timeout": cfg.idleTime} {
		if d < 0 {
			return usagef("%s %v: must not be negative", name, d)
		}
	}
	if cfg.email != "" && strings.Count(cfg.email, "@") != 1 {
		return usagef("--email %q: want one address", cfg.email)
	}
	if cfg.faults != "" {
		if _, err := emulator.ParseFaults(cfg.faults); err != nil {
			return usagef("--faults %q: %v", cfg.faults, err)
		}
	}
	return nil
}

// accounts builds one account per key, all with the same offer.
func (cfg *config) accounts() []emulator.Account {
	accts := make([]emulator.Account, len(cfg.keys))
	for i, k := range cfg.keys {
		accts[i] = emulator.Account{Key: k, Offer: cfg.offer, ColdQuota: cfg.quota}
		if cfg.email != "" {
			accts[i].Email = nthEmail(cfg.email, i)
		}
	}
	return accts
}

// sizeUnits are the multipliers of parseSize's suffixes: rclone's, in
// powers of 1024.
var sizeUnits = map[string]int64{"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50}

// parseSize reads a --quota size as rclone writes sizes: a number and a
// suffix K, M, G, T or P (also as Ki, KiB, ...: powers of 1024) or B,
// e.g. 100M, 1.5G, 75MiB. Unlike rclone's --max-size, a bare number is
// bytes, as the flag's name says.
func parseSize(s string) (int64, error) {
	num := strings.TrimRight(s, "KMGTPkmgtpiBb")
	unit := strings.ToUpper(s[len(num):])
	if len(unit) > 1 && strings.Contains(unit, "I") {
		// KiB, Ki: the letter before "i" or "iB" (rclone's long forms;
		// like rclone, "MB" is refused, as it might mean 10^6).
		unit = strings.TrimSuffix(strings.TrimSuffix(unit, "B"), "I")
		if len(unit) != 1 || unit == "B" {
			unit = "?" // "iB", "BiB": no unit letter
		}
	}
	mult, ok := sizeUnits[unit]
	f, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || !(f >= 1) || f*float64(mult) >= 1<<62 {
		return 0, fmt.Errorf("%q: want a size of at least 1 byte, such as 100M, 1G or 5000000 (bytes)", s)
	}
	return int64(f * float64(mult)), nil
}

// nthEmail is the e-mail of the (i+1)th account when the first one's is
// email: emails must differ, so the others get a +N tag.
func nthEmail(email string, i int) string {
	if i == 0 {
		return email
	}
	local, domain, _ := strings.Cut(email, "@")
	return local + "+" + strconv.Itoa(i+1) + "@" + domain
}

// run is the whole command; it returns the exit status. It stops when ctx
// is cancelled (main cancels it on SIGINT and SIGTERM).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "fichier-emulator: %v\n", err)
			fmt.Fprintf(stderr, "Run fichier-emulator --help for the flags.\n")
		}
		// Other errors were printed by the flag package already.
		return 2
	}
	if err := serve(ctx, cfg, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "fichier-emulator: %v\n", err)
		return 1
	}
	return 0
}

// serve runs the emulator (and proxy) until ctx is done.
func serve(ctx context.Context, cfg *config, stdout, stderr io.Writer) (err error) {
	emu, err := emulator.New(cfg.options(stderr))
	if err != nil {
		return err
	}
	if cfg.publicURLs, err = emu.SeedPublic(cfg.seedPublic); err != nil {
		_ = emu.Close()
		return fmt.Errorf("--seed-public: %w", err)
	}
	defer func() {
		// Flush persisted state last, once no request can reach it.
		if cerr := emu.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("saving state: %w", cerr)
		}
	}()

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	// The emulator's own timeouts: stalled headers, stalled bodies and
	// idle keep-alive connections are closed (see emulator.NewHTTPServer).
	srv := emu.NewHTTPServer()
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	servers := []*http.Server{srv}

	var proxy *emulator.Proxy
	var proxyLn net.Listener
	if cfg.proxy != "" {
		if proxy, proxyLn, err = cfg.startProxy(emu, stderr); err != nil {
			_ = srv.Close()
			return err
		}
		// Only a header timeout: a tunnel lives inside one request to this
		// server and sets its own timeouts.
		psrv := &http.Server{Handler: proxy, ReadHeaderTimeout: 30 * time.Second}
		go func() { errc <- psrv.Serve(proxyLn) }()
		servers = append([]*http.Server{psrv}, servers...)
	}

	// Tell the script where everything is. Listeners are bound, so a
	// client may connect as soon as it reads these lines.
	if _, werr := io.WriteString(stdout, cfg.startLines(ln, proxyLn)); werr != nil {
		fmt.Fprintf(stderr, "fichier-emulator: writing start-up lines: %v\n", werr)
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc: // a listener failed on its own
	}
	if cfg.verbose {
		fmt.Fprintln(stderr, "fichier-emulator: stopping")
	}
	shutdown(servers, proxy)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", serveErr)
	}
	return nil
}

// options are the emulator's Options for this command line.
func (cfg *config) options(stderr io.Writer) emulator.Options {
	opts := emulator.Options{
		Accounts:       cfg.accounts(),
		NoRateLimits:   cfg.noRateLimits,
		TimeScale:      cfg.timeScale,
		ListingDelay:   cfg.listingDelay,
		DataDir:        cfg.dataDir,
		Faults:         cfg.faults,
		Seed:           cfg.seed,
		ListRule:       cfg.listRule,
		MoveChangesURL: cfg.moveNewURL,
		QuerySwitches:  cfg.querySwitch,
		NumberStrings:  cfg.numStrings,
		EndMemory:      cfg.endMemory,
	}
	opts.ReadHeaderTimeout = offIfZero(cfg.headerTime)
	opts.BodyIdleTimeout = offIfZero(cfg.bodyTime)
	opts.IdleTimeout = offIfZero(cfg.idleTime)
	if cfg.verbose {
		opts.Log = stderr
	}
	return opts
}

// offIfZero maps a timeout flag to Options: on the command line 0 turns
// a timeout off, which Options spell as a negative value (0 there is the
// default).
func offIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// startProxy builds the proxy in front of emu, binds --proxy and writes
// the CA to --ca-out. On error nothing is left open.
func (cfg *config) startProxy(emu *emulator.Server, stderr io.Writer) (*emulator.Proxy, net.Listener, error) {
	popts := emulator.ProxyOptions{}
	if cfg.verbose {
		popts.Log = stderr
	}
	proxy, err := emulator.NewProxy(emu, popts)
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", cfg.proxy)
	if err != nil {
		return nil, nil, fmt.Errorf("--proxy: %w", err)
	}
	if cfg.caOut != "" {
		if err := proxy.WriteCA(cfg.caOut); err != nil {
			_ = ln.Close()
			return nil, nil, err
		}
	}
	return proxy, ln, nil
}

// startLines are the key=value lines printed once the listeners are
// bound, ending with ready=1.
func (cfg *config) startLines(ln, proxyLn net.Listener) string {
	base := "http://" + printableAddr(ln.Addr())
	lines := []string{
		"url=" + base,
		"api_url=" + base + "/v1",
		"stats_url=" + base + "/debug/stats",
	}
	for _, k := range cfg.keys {
		lines = append(lines, "key="+k)
	}
	if proxyLn != nil {
		pa := printableAddr(proxyLn.Addr())
		lines = append(lines, "proxy="+pa, "proxy_url=http://"+pa)
		if cfg.caOut != "" {
			ca, aerr := filepath.Abs(cfg.caOut)
			if aerr != nil {
				ca = cfg.caOut
			}
			lines = append(lines, "ca="+ca)
		}
	}
	for _, u := range cfg.publicURLs {
		lines = append(lines, "public="+u)
	}
	lines = append(lines, "ready=1")
	return strings.Join(lines, "\n") + "\n"
}

// shutdown stops the servers, waiting up to shutdownTimeout for the
// requests in flight, then the proxy.
func shutdown(servers []*http.Server, proxy *emulator.Proxy) {
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	for _, s := range servers {
		if serr := s.Shutdown(sctx); serr != nil {
			_ = s.Close() // requests still running past the timeout are cut
		}
	}
	if proxy != nil {
		_ = proxy.Close()
	}
}

// printableAddr is addr as a client should dial it: a wildcard address
// (--listen :PORT) becomes 127.0.0.1.
func printableAddr(addr net.Addr) string {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	ip := ta.IP
	if ip == nil || ip.IsUnspecified() {
		// Go's wildcard listeners take IPv4 too, so this always works.
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(ta.Port))
}
