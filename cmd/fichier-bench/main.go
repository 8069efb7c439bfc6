// Command fichier-bench compares bin/rclone (rclone with this
// repository's fichier backend) with upstream rclone built from the same
// module version, both talking to a standalone fichier-emulator at
// 1fichier's documented, unscaled limits, and writes the figures to
// BENCHMARKS.md. docs/benchmarks.md explains the scenarios and how to
// read the report.
//
// Usage:
//
//	fichier-bench [flags]        (or: make bench, make bench-quick)
//
// Both binaries reach the emulator the same way: through its HTTPS proxy
// (HTTPS_PROXY and --ca-cert) with a plain "type = fichier" remote and
// the default api_url, so each sends exactly what it would send to
// 1fichier. Only loopback addresses are used. The API-bound scenarios
// run under both readings of the folder-listing rule (the emulator's
// --list-rule folder and endpoint). The program installs nothing: the
// mount scenario needs /dev/fuse and fusermount3, the curl baseline
// curl, and each is skipped, with the reason in the report, when
// missing.
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
	listRules      []emulator.ListRule
	parallel       bool
	transfers      int // --transfers of the copy scenario; 0 = rclone's default
	extraFlags     []string
	out            string
	work           string
	keep           bool
	ours, upstream string
	emulatorBin    string
}

// allScenarios are the scenario names, in report order.
var allScenarios = []string{"copy", "sync", "ls", "back", "big", "mount"}

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
	cfg := &config{}
	var scenarios, rules, extra string
	fs := flag.NewFlagSet("fichier-bench", flag.ContinueOnError)
	fs.IntVar(&cfg.files, "files", 300, "small files in the copy, sync, ls scenarios")
	fs.IntVar(&cfg.folders, "folders", 30, "folders the small files are spread over")
	fs.IntVar(&cfg.bigMB, "big-mb", 1024, "size of the big file in MiB (big, mount)")
	fs.DurationVar(&cfg.timeout, "timeout", 20*time.Minute, "bound on each API-bound run: copy, sync, ls, each back-to-back command")
	fs.DurationVar(&cfg.timeoutBig, "timeout-big", 10*time.Minute, "bound on each transfer run: upload, download, mount")
	fs.StringVar(&scenarios, "scenarios", strings.Join(allScenarios, ","), "scenarios to run, comma separated")
	fs.StringVar(&rules, "list-rules", "folder,endpoint", "emulator readings of the listing rule the API-bound scenarios run under")
	fs.BoolVar(&cfg.parallel, "parallel", true, "run the API-bound scenarios at the same time, each with its own emulator")
	fs.IntVar(&cfg.transfers, "transfers", 0, "--transfers for the copy scenario (0 = rclone's default, 4)")
	fs.StringVar(&extra, "flags", "", "extra rclone flags, given to both binaries")
	fs.StringVar(&cfg.out, "out", "BENCHMARKS.md", "report file")
	fs.StringVar(&cfg.work, "work", "", "scratch directory (default: a new one under $TMPDIR)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the scratch directory (logs, stats)")
	fs.StringVar(&cfg.ours, "rclone", "bin/rclone", "our rclone binary")
	fs.StringVar(&cfg.upstream, "upstream", "bin/rclone-upstream", "upstream rclone binary")
	fs.StringVar(&cfg.emulatorBin, "emulator", "bin/fichier-emulator", "the emulator binary")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg.extraFlags = strings.Fields(extra)
	if err := cfg.setLists(scenarios, rules); err != nil {
		return nil, err
	}
	return cfg, cfg.check()
}

// setLists parses the comma-separated scenario and listing-rule lists.
func (cfg *config) setLists(scenarios, rules string) error {
	for _, sc := range strings.Split(scenarios, ",") {
		if !slices.Contains(allScenarios, sc) {
			return fmt.Errorf("-scenarios: unknown scenario %q (want some of %s)", sc, strings.Join(allScenarios, ","))
		}
		cfg.scenarios = append(cfg.scenarios, sc)
	}
	for _, r := range strings.Split(rules, ",") {
		rule, err := emulator.ParseListRule(r)
		if err != nil {
			return fmt.Errorf("-list-rules: %w", err)
		}
		cfg.listRules = append(cfg.listRules, rule)
	}
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
	for _, p := range []*string{&cfg.ours, &cfg.upstream, &cfg.emulatorBin} {
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
