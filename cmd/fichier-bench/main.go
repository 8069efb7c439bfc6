// Command fichier-bench compares bin/rclone (rclone with this
// repository's fichier backend) with upstream rclone built from the same
// module version, both talking to a standalone fichier-emulator at
// 1fichier's documented, unscaled limits, and writes the figures to
// BENCHMARKS.md. It also runs, one by one with -only, the measurements
// of bin/rclone alone that docs/measurements.md quotes: batched uploads
// (batch), large trees of small files (tree) and reads through rclone
// mount against a mount of a local directory (mountbench).
// docs/benchmarks.md explains the scenarios and how to read the report.
//
// Usage:
//
//	fichier-bench [flags]        (or: make bench, make bench-quick)
//	fichier-bench -only NAME[,NAME] [flags]
//
// In the comparison both binaries reach the emulator the same way:
// through its HTTPS proxy (HTTPS_PROXY and --ca-cert) with a plain
// "type = fichier" remote and the default api_url, so each sends exactly
// what it would send to 1fichier. Only loopback addresses are used. The
// API-bound scenarios run under both readings of the folder-listing rule
// (the emulator's --list-rule folder and endpoint). The program installs
// nothing: the mount scenarios need /dev/fuse and fusermount3, the curl
// baseline curl, and each is skipped, with the reason in the report,
// when missing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
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

// config is the command line.
type config struct {
	files, folders int
	bigMB          int
	timeout        time.Duration // each API-bound run
	timeoutBig     time.Duration // each transfer run
	scenarios      []string
	only           bool // -only was given
	listRules      []emulator.ListRule
	parallel       bool
	transfers      int // --transfers of the copy scenario; 0 = rclone's default
	extraFlags     []string
	mountFlags     []string // mountbench: extra flags of its mounts
	timeScale      float64  // batch, tree, mountbench: the emulator's --time-scale
	plainHTTP      bool     // mountbench: plain HTTP to the API URL, not the proxy
	batchTransfers []int    // batch: one copy per value
	treeCases      []treeCase
	out            string
	args           []string // the command line, for the report
	work           string
	keep           bool
	ours, upstream string
	emulatorBin    string
}

// mainScenarios are the scenarios of BENCHMARKS.md, ours against
// upstream, in report order: what runs without -only.
var mainScenarios = []string{"copy", "sync", "ls", "back", "big", "mount"}

// oneBinaryScenarios measure bin/rclone alone, for docs/measurements.md;
// they run only when -only names them.
var oneBinaryScenarios = []string{"batch", "tree", "mountbench", "serverside"}

// allScenarios are every scenario -only takes.
var allScenarios = append(slices.Clone(mainScenarios), oneBinaryScenarios...)

// defaultTreeCases are the tree scenario's copies (issue 21): 100 files
// per folder at --transfers 64, and a smaller tree at rclone's default.
const defaultTreeCases = "2000/20/64,50000/500/64,300/30/4"

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "fichier-bench: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, cfg)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "fichier-bench: %v\n", err)
		os.Exit(1)
	}
}

// parseFlags reads and checks the command line.
func parseFlags(args []string) (*config, error) {
	cfg := &config{args: args}
	fs := flag.NewFlagSet("fichier-bench", flag.ContinueOnError)
	lists := cfg.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	outSet := false
	fs.Visit(func(f *flag.Flag) {
		cfg.only = cfg.only || f.Name == "only"
		outSet = outSet || f.Name == "out"
	})
	if cfg.only && !outSet {
		cfg.out = "-" // a partial run must not overwrite BENCHMARKS.md
	}
	cfg.extraFlags = strings.Fields(lists.extra)
	cfg.mountFlags = strings.Fields(lists.mount)
	if err := cfg.setLists(lists); err != nil {
		return nil, err
	}
	return cfg, cfg.check()
}

// listFlags are the flags given as comma-separated lists or words.
type listFlags struct {
	only, rules, extra, mount, transfers, cases string
}

// register defines the flags on fs.
func (cfg *config) register(fs *flag.FlagSet) *listFlags {
	l := &listFlags{}
	fs.IntVar(&cfg.files, "files", 300, "small files in the copy, sync, ls, batch and serverside scenarios")
	fs.IntVar(&cfg.folders, "folders", 30, "folders the small files are spread over")
	fs.IntVar(&cfg.bigMB, "big-mb", 1024, "size of the big file in MiB (big, mount, mountbench)")
	fs.DurationVar(&cfg.timeout, "timeout", 20*time.Minute, "bound on each API-bound run: copy, sync, ls, each back-to-back command, each batch and tree copy")
	fs.DurationVar(&cfg.timeoutBig, "timeout-big", 10*time.Minute, "bound on each transfer run: upload, download, mount, each mountbench step")
	fs.StringVar(&l.only, "only", strings.Join(mainScenarios, ","), "scenarios to run, comma separated, from "+strings.Join(allScenarios, ",")+
		"; with -only the report goes to standard output unless -out is given")
	fs.StringVar(&l.rules, "list-rules", "folder,endpoint", "emulator readings of the listing rule the API-bound scenarios run under")
	fs.BoolVar(&cfg.parallel, "parallel", true, "run the API-bound scenarios at the same time, each with its own emulator")
	fs.IntVar(&cfg.transfers, "transfers", 0, "--transfers for the copy scenario (0 = rclone's default, 4)")
	fs.StringVar(&l.extra, "flags", "", "extra rclone flags, given to every rclone command")
	fs.StringVar(&l.mount, "mount-flags", "", "mountbench: extra flags of its rclone mount commands")
	fs.Float64Var(&cfg.timeScale, "time-scale", 1, "batch, tree, mountbench, serverside: run the emulator's rules `F` times faster (--time-scale) and pace the remote to match")
	fs.BoolVar(&cfg.plainHTTP, "plain-http", false, "mountbench: reach the emulator over plain HTTP at its API URL, not HTTPS through its proxy")
	fs.StringVar(&l.transfers, "batch-transfers", "32,4", "batch, serverside: --transfers of each run of -files files, comma separated")
	fs.StringVar(&l.cases, "tree-cases", defaultTreeCases, "tree: copies as FILES/FOLDERS/TRANSFERS, comma separated (TRANSFERS 0 = rclone's default)")
	fs.StringVar(&cfg.out, "out", "BENCHMARKS.md", "report file (- for standard output)")
	fs.StringVar(&cfg.work, "work", "", "scratch directory (default: a new one under $TMPDIR)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the scratch directory (logs, stats)")
	fs.StringVar(&cfg.ours, "rclone", "bin/rclone", "our rclone binary")
	fs.StringVar(&cfg.upstream, "upstream", "bin/rclone-upstream", "upstream rclone binary")
	fs.StringVar(&cfg.emulatorBin, "emulator", "bin/fichier-emulator", "the emulator binary")
	return l
}

// setLists parses the comma-separated lists.
func (cfg *config) setLists(l *listFlags) error {
	for _, sc := range strings.Split(l.only, ",") {
		if !slices.Contains(allScenarios, sc) {
			return fmt.Errorf("-only: unknown scenario %q (want some of %s)", sc, strings.Join(allScenarios, ","))
		}
		if !slices.Contains(cfg.scenarios, sc) {
			cfg.scenarios = append(cfg.scenarios, sc)
		}
	}
	for _, r := range strings.Split(l.rules, ",") {
		rule, err := emulator.ParseListRule(r)
		if err != nil {
			return fmt.Errorf("-list-rules: %w", err)
		}
		cfg.listRules = append(cfg.listRules, rule)
	}
	for _, t := range strings.Split(l.transfers, ",") {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			return fmt.Errorf("-batch-transfers: %q is not a count", t)
		}
		cfg.batchTransfers = append(cfg.batchTransfers, n)
	}
	cases, err := parseTreeCases(l.cases)
	if err != nil {
		return fmt.Errorf("-tree-cases: %w", err)
	}
	cfg.treeCases = cases
	return nil
}

// check checks sizes and binaries.
func (cfg *config) check() error {
	if cfg.files < 1 || cfg.folders < 1 || cfg.bigMB < 1 || cfg.folders > cfg.files {
		return errors.New("-files, -folders and -big-mb must be positive, and -folders at most -files")
	}
	if cfg.transfers < 0 {
		return errors.New("-transfers must not be negative")
	}
	if !(cfg.timeScale > 0) {
		return errors.New("-time-scale must be more than 0")
	}
	bins := []*string{&cfg.ours, &cfg.emulatorBin}
	if cfg.wantUpstream() {
		bins = append(bins, &cfg.upstream)
	}
	for _, p := range bins {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		if _, err := os.Stat(abs); err != nil {
			return fmt.Errorf("%s is missing: run make build and make bin/rclone-upstream (or make bench)", *p)
		}
		*p = abs
	}
	return nil
}

// want reports whether scenario sc was asked for.
func (cfg *config) want(sc string) bool { return slices.Contains(cfg.scenarios, sc) }

// wantMain reports whether any scenario of BENCHMARKS.md was asked for.
func (cfg *config) wantMain() bool {
	return slices.ContainsFunc(mainScenarios, cfg.want)
}

// wantUpstream reports whether a scenario asked for runs upstream rclone.
func (cfg *config) wantUpstream() bool { return cfg.wantMain() }
