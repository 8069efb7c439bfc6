package chaos

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"time"
)

// RoundSpan is the service time a round plans its timed faults in; a
// run of Duration has Duration/RoundSpan rounds (at least one).
const RoundSpan = 3 * time.Minute

// Folders are the top folders of each worker's folder on the remote.
var Folders = []string{"a", "b", "c"}

// Schedule is a whole run: the workers and their keys, and the rounds.
// It follows from the seed and the duration alone.
type Schedule struct {
	Seed       int64
	Duration   time.Duration
	Exclude    []string // fault rules left out of the draw
	WorkerKeys []int    // by worker (index = ID - 1): key 1 or 2
	Rounds     []Round
}

// Keys is how many keys (accounts) the workers use.
func (s *Schedule) Keys() int {
	keys := 1
	for _, k := range s.WorkerKeys {
		keys = max(keys, k)
	}
	return keys
}

// String prints the whole schedule.
func (s *Schedule) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d, duration %v, %d workers, keys %v", s.Seed, s.Duration, len(s.WorkerKeys), s.WorkerKeys)
	if len(s.Exclude) > 0 {
		fmt.Fprintf(&b, ", left out: %s", strings.Join(s.Exclude, " "))
	}
	b.WriteString("\n")
	for _, r := range s.Rounds {
		b.WriteString(r.String())
	}
	return b.String()
}

// generator draws a schedule from the seed, keeping the models of the
// workers so that every operation it draws is valid where it runs.
type generator struct {
	rng      *rand.Rand
	specs    []string      // the fault rules to draw from
	exclude  []string      // what Generate was asked to leave out
	delay    time.Duration // the listing delay of the round being drawn
	noMount  bool          // "mount" left out: no mount drawn
	diskFull bool          // the round being drawn fills the cache disk
	workers  []*Worker
	stale    map[int]map[string]bool // worker -> folders another client changed this round
}

// Generate draws the schedule of seed for duration (service time),
// leaving out the fault rules and the timed faults (sigstop,
// cpu-burn, state-lock, restart) that contain one of exclude, and the
// SIGKILLs of the operation kinds named "kill:KIND" in it ("kill" for
// all), to look past a bug already known. With "mount" in exclude (a
// machine that cannot mount: MachineExclude) no mount is drawn.
func Generate(seed int64, duration time.Duration, exclude ...string) *Schedule {
	g := &generator{rng: rand.New(rand.NewSource(seed))}
	s := &Schedule{Seed: seed, Duration: duration, Exclude: exclude}
	g.exclude = exclude
	g.noMount = containsAny(OpMount, exclude)
	for _, spec := range faultSpecs {
		if !containsAny(spec, exclude) {
			g.specs = append(g.specs, spec)
		}
	}
	keys := 1 + g.rng.Intn(2)
	n := 2 + g.rng.Intn(2)
	for i := 1; i <= n; i++ {
		key := 1 + (i-1)%keys
		s.WorkerKeys = append(s.WorkerKeys, key)
		g.workers = append(g.workers, NewWorker(i, key))
	}
	rounds := max(1, int(duration/RoundSpan))
	var forget []int
	for r := 1; r <= rounds; r++ {
		round := g.round(r, forget)
		forget = extKeys(round.Ext, g.workers)
		s.Rounds = append(s.Rounds, round)
	}
	return s
}

// extKeys returns the keys of the workers changes touch.
func extKeys(changes []ExtChange, workers []*Worker) []int {
	seen := map[int]bool{}
	var keys []int
	for _, x := range changes {
		k := workers[x.Worker-1].Key
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	sort.Ints(keys)
	return keys
}

// round draws round n.
func (g *generator) round(n int, forget []int) Round {
	r := Round{N: n, Forget: forget, Faults: g.faultSpec()}
	if g.rng.Float64() < 0.3 {
		// At most 90 s: the backend takes listings to lag at most
		// listingLag (2 minutes, backend/fichier/listings.go) behind
		// its own changes; a longer lag is outside what it promises.
		r.ListingDelay = time.Duration(1+g.rng.Intn(3)) * 30 * time.Second
	}
	g.delay = r.ListingDelay
	r.ClockStep = n > 1 && g.rng.Float64() < 0.15
	r.DiskFull = n > 1 && g.rng.Float64() < 0.12
	if r.DiskFull {
		// Processes that cannot write the shared state cannot tell the
		// next ones what they changed, and a lagging listing does not
		// show it yet: no client could know. A full cache disk comes
		// with listings that do not lag.
		r.ListingDelay, g.delay = 0, 0
	}
	g.diskFull = r.DiskFull
	g.stale = map[int]map[string]bool{}
	if n > 1 && !r.DiskFull && g.rng.Float64() < 0.4 {
		r.Ext = g.extChanges()
	}
	r.Ops = make([][]Op, len(g.workers))
	for i, w := range g.workers {
		if r.DiskFull && i > 0 {
			continue // one process at a time on a full disk: processes that cannot share a state may break the rules
		}
		for k := 8 + g.rng.Intn(9); k > 0; k-- {
			op := g.op(w)
			w.Apply(op)
			r.Ops[i] = append(r.Ops[i], op)
		}
	}
	r.Timed = g.timed()
	return r
}

// faultSpecs are the emulator fault rules a round draws from.
var faultSpecs = []string{
	"*=reset-after@0.03", "*=500@0.03", "*=503@0.02", "*=reset-before@0.03", "*=reset-during@0.02",
	"upload.cgi=reset-mid@0.05", "end.pl=end-html@0.05", "end.pl=end-empty@0.05", "end.pl=end-short@0.05",
	"file/cp.cgi=reset-after@0.1", "file/mv.cgi=reset-after@0.1", "file/rm.cgi=reset-after@0.1",
	"folder/mkdir.cgi=reset-after@0.2", "folder/mv.cgi=reset-after@0.2", "end.pl=reset-after@0.1",
	"upload.cgi=reset-after@0.05", "file/ls.cgi=502@0.05", "folder/ls.cgi=reset-after@0.1",
}

// faultSpec draws the emulator's faults for a round: none at times, else
// one to three rules.
func (g *generator) faultSpec() string {
	if g.rng.Float64() < 0.3 {
		return ""
	}
	picked := map[string]bool{}
	var rules []string
	for k := 1 + g.rng.Intn(3); k > 0; k-- {
		if len(g.specs) == 0 {
			break
		}
		spec := g.specs[g.rng.Intn(len(g.specs))]
		if !picked[spec] {
			picked[spec] = true
			rules = append(rules, spec)
		}
	}
	return strings.Join(rules, ",")
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// timed draws the faults timed within a round.
func (g *generator) timed() []Timed {
	var faults []Timed
	at := func() time.Duration { return time.Duration(g.rng.Int63n(int64(RoundSpan * 5 / 6))).Round(time.Second) }
	if g.rng.Float64() < 0.5 {
		faults = append(faults, Timed{At: at(), Kind: FaultStop, Worker: 1 + g.rng.Intn(len(g.workers)),
			Dur: time.Duration(20+g.rng.Intn(60)) * time.Second})
	}
	if g.rng.Float64() < 0.4 {
		faults = append(faults, Timed{At: at(), Kind: FaultBurn, Dur: time.Duration(30+g.rng.Intn(90)) * time.Second})
	}
	if g.rng.Float64() < 0.4 {
		faults = append(faults, Timed{At: at(), Kind: FaultLock, Dur: time.Duration(30+g.rng.Intn(90)) * time.Second})
	}
	if g.rng.Float64() < 0.2 {
		faults = append(faults, Timed{At: at(), Kind: FaultRestart, Dur: time.Duration(g.rng.Intn(40)) * time.Second})
	}
	sort.Slice(faults, func(i, j int) bool { return faults[i].At < faults[j].At })
	kept := faults[:0]
	for _, f := range faults {
		if !containsAny(f.Kind, g.exclude) {
			kept = append(kept, f) // drawn all the same: the rest of the schedule stays the seed's
		}
	}
	return kept
}

// pick returns one of choices.
func (g *generator) pick(choices []string) string { return choices[g.rng.Intn(len(choices))] }

// isStale reports whether another client changed folder dir of w this
// round (its stored listings may be wrong until forgotten).
func (g *generator) isStale(w *Worker, dir string) bool { return g.stale[w.ID][dir] }

func (g *generator) markStale(w *Worker, path string) {
	if g.stale[w.ID] == nil {
		g.stale[w.ID] = map[string]bool{}
	}
	dir, _, _ := strings.Cut(path, "/")
	g.stale[w.ID][dir] = true
}
