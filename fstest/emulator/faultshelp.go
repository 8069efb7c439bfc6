package emulator

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// faultHelp says what each fault kind does, for FaultsHelp. Every kind
// in faultNames has a line (a test checks it).
var faultHelp = map[FaultKind]string{
	FaultHTTP500:        "HTTP 500 with nginx's HTML error page, before any work",
	FaultHTTP502:        "HTTP 502, HTML page, before any work",
	FaultHTTP503:        "HTTP 503, HTML page, before any work",
	FaultResetBefore:    "the connection is reset before any work (\"reset\" is the same)",
	FaultResetDuring:    "the work is done, half the answer is sent, then the connection closes",
	FaultResetAfter:     "the work is done, then a reset instead of the answer",
	FaultResetMidUpload: "upload.cgi only: a reset after half the body was read; nothing is stored",
	FaultEndHTML:        "end.pl only: the HTML page even when \"JSON: 1\" is sent",
	FaultEndEmptyLinks:  "end.pl only: {\"incoming\":0,\"links\":[]} although the files were stored",
	FaultEndShort:       "end.pl only: one link fewer than the files stored (the last left out)",
	FaultSlow:           "wait D, then answer normally (adds to any other fault that strikes)",
}

// FaultsHelp is the fault-spec grammar, every fault kind and every
// endpoint a rule may name, as the CLI's --faults help shows it. It
// says what ParseFaults accepts.
func FaultsHelp() string {
	var b strings.Builder
	b.WriteString(`Faults: --faults SPEC injects failures, rule by rule.
  SPEC   = RULE{,RULE}
  RULE   = TARGET=KIND[:COUNT][@PROBABILITY]  or  slow=DURATION
  TARGET = an endpoint below, or * for every endpoint
  COUNT strikes that many times, then stops (default: no limit);
  PROBABILITY in (0,1] strikes each matching call with that chance,
  drawn from --seed (default: every call); slow=D is *=slow(D);
  DURATION is a Go duration (200ms, 2s). The first non-slow rule that
  strikes wins; every slow rule that strikes adds its delay.
  Example: upload.cgi=reset-mid:1,file/ls.cgi=503:2,*=500@0.05,slow=200ms
Kinds:
`)
	kinds := slices.Sorted(maps.Keys(faultNames))
	for _, k := range kinds {
		name := k.String()
		if k == FaultSlow {
			name = "slow(D)"
		}
		fmt.Fprintf(&b, "  %-13s %s\n", name, faultHelp[k])
	}
	b.WriteString("Endpoints, as /debug/stats counts them (a leading /v1/ is allowed; download is a file's\n" +
		"download, dir a shared folder's page):\n")
	endpoints := append(slices.Sorted(maps.Keys(apiRoutes)), "upload.cgi", "end.pl", "download", "dir")
	writeWrapped(&b, "  ", endpoints, 72)
	return b.String()
}

// writeWrapped writes words separated by spaces, in lines of at most
// width characters, each starting with indent.
func writeWrapped(b *strings.Builder, indent string, words []string, width int) {
	line := indent
	for _, w := range words {
		if len(line) > len(indent) && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += w
	}
	b.WriteString(line + "\n")
}
