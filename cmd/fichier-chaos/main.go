// Command fichier-chaos is the randomized fault explorer: from a seed it
// draws a schedule of rclone commands (several processes at once, on one
// or two keys) and of faults, runs it with the real rclone binary
// against the real fichier-emulator, time-scaled, and checks after each
// command and each round what is stored, the rate rules, exit codes and
// hangs. A failure prints its seed and its schedule; the same seed
// draws the same schedule. See docs/testing.md.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rclone-fichier/rclone-fichier/fstest/chaos"
)

func main() {
	var cfg chaos.Config
	bin := flag.String("bin", "bin", "directory of the rclone and fichier-emulator binaries (make build)")
	flag.Int64Var(&cfg.Seed, "seed", 1, "seed of the schedule")
	flag.DurationVar(&cfg.Duration, "duration", 30*time.Minute, "service time to run (one round per 3 min)")
	flag.Float64Var(&cfg.Scale, "time-scale", 20, "run 1fichier's rules this many times faster")
	flag.DurationVar(&cfg.Bound, "bound", 4*time.Minute, "longest a command may run (wall time) before it counts as a hang")
	flag.StringVar(&cfg.WorkDir, "work", "", "work directory, kept (default: a temporary one, kept only after a failure)")
	flag.BoolVar(&cfg.KeepGoing, "keep-going", false, "run every round even after a failure")
	printOnly := flag.Bool("print", false, "print the schedule and exit")
	rcloneFlags := flag.String("rclone-flags", "", "more flags for every rclone command, space separated (-vv shows the calls)")
	exclude := flag.String("exclude", "", "leave out the fault rules and timed faults containing any of these words, comma separated, "+
		"the SIGKILLs of kill:KIND operations (kill: all of them), and mount operations (mount: the schedules of before mount was added), "+
		"e.g. folder/mv.cgi,state-lock,kill:delete to look past known bugs")
	flag.Parse()
	cfg.RcloneFlags = strings.Fields(*rcloneFlags)
	if *exclude != "" {
		cfg.Exclude = strings.Split(*exclude, ",")
	}
	if *printOnly {
		exclude, note := chaos.MachineExclude(cfg.Exclude)
		if note != "" {
			fmt.Fprintln(os.Stderr, "note:", note)
		}
		fmt.Print(chaos.Generate(cfg.Seed, cfg.Duration, exclude...))
		return
	}
	if cfg.Scale < 1 || cfg.Duration <= 0 || cfg.Bound <= 0 {
		fmt.Fprintln(os.Stderr, "fichier-chaos: --time-scale must be at least 1, --duration and --bound positive")
		os.Exit(2)
	}
	cfg.RcloneBin, cfg.EmulatorBin = filepath.Join(*bin, "rclone"), filepath.Join(*bin, "fichier-emulator")
	for _, p := range []string{cfg.RcloneBin, cfg.EmulatorBin} {
		if _, err := os.Stat(p); err != nil {
			fmt.Fprintf(os.Stderr, "fichier-chaos: %v (run make build, or give --bin)\n", err)
			os.Exit(2)
		}
	}
	if cfg.WorkDir == "" {
		dir, err := os.MkdirTemp("", "fichier-chaos-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "fichier-chaos:", err)
			os.Exit(2)
		}
		cfg.WorkDir, cfg.RemoveWork = dir, true
	}
	cleanUpOnSignal(cfg.WorkDir)
	cfg.Log = os.Stdout
	os.Exit(report(chaos.Run(cfg)))
}

// cleanUpOnSignal unmounts the cache disk the run may have mounted when
// the run is interrupted, then exits.
func cleanUpOnSignal(workDir string) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		chaos.CleanUp()
		fmt.Fprintf(os.Stderr, "fichier-chaos: %v; work directory kept: %s\n", s, workDir)
		os.Exit(3)
	}()
}

// report prints the outcome and returns the exit status.
func report(res *chaos.Result, err error) int {
	s := res.Schedule
	fmt.Printf("\nseed %d, %v service time: %d of %d rounds, %d rclone runs (%d killed), of which %d mounts (%d killed)\n",
		s.Seed, s.Duration, res.Rounds, len(s.Rounds), res.Commands, res.Killed, res.Mounts, res.MountsKilled)
	for _, n := range res.Notes {
		fmt.Println("note:", n)
	}
	if err != nil {
		fmt.Printf("ERROR seed=%d: %v\nwork directory: %s\nschedule:\n%s", s.Seed, err, res.WorkDir, s)
		return 2
	}
	if len(res.Failures) == 0 {
		fmt.Println("PASS: no invariant broken")
		return 0
	}
	fmt.Printf("FAIL seed=%d duration=%v: %d invariant(s) broken:\n", s.Seed, s.Duration, len(res.Failures))
	for _, f := range res.Failures {
		fmt.Println(" -", f)
	}
	fmt.Printf("work directory (logs): %s\nschedule:\n%s", res.WorkDir, s)
	return 1
}
