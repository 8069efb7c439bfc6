package fichiertest

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
)

// ReadingsEnv is the environment variable that puts the emulator of every
// test using Options under other readings of what the notes leave
// uncertain, so one test suite runs under both: a comma-separated list of
// the fichier-emulator flags' words,
//
//	list-rule=folder|endpoint
//	move-changes-url[=true|false]
//	query-switches=ignore|honour
//	number-strings=accept|refuse
//	end-memory=minutes|hours
//
// e.g. "list-rule=endpoint,move-changes-url,query-switches=honour,number-strings=refuse,end-memory=hours"
// (the non-default reading of each). Unset or empty, the emulator's
// defaults hold.
const ReadingsEnv = "FICHIER_EMULATOR_READINGS"

// ApplyReadings sets in opts the readings spec names (ReadingsEnv's
// form). An unknown word or value is an error naming it and what is
// allowed.
func ApplyReadings(opts *emulator.Options, spec string) error {
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		word, value, hasValue := strings.Cut(item, "=")
		word, value = strings.TrimSpace(word), strings.TrimSpace(value)
		var err error
		switch word {
		case "list-rule":
			opts.ListRule, err = emulator.ParseListRule(value)
		case "move-changes-url":
			opts.MoveChangesURL = true
			if hasValue {
				opts.MoveChangesURL, err = strconv.ParseBool(value)
			}
		case "query-switches":
			opts.QuerySwitches, err = emulator.ParseQuerySwitches(value)
		case "number-strings":
			opts.NumberStrings, err = emulator.ParseNumberStrings(value)
		case "end-memory":
			opts.EndMemory, err = emulator.ParseEndMemory(value)
		default:
			return fmt.Errorf("%s: unknown reading %q (want list-rule, move-changes-url, query-switches, number-strings or end-memory)", ReadingsEnv, word)
		}
		if !hasValue && word != "move-changes-url" {
			return fmt.Errorf("%s: %q needs a value (%s=...)", ReadingsEnv, word, word)
		}
		if err != nil {
			return fmt.Errorf("%s: %s: %w", ReadingsEnv, item, err)
		}
	}
	return nil
}

// envReadings applies ReadingsEnv to opts. A bad value stops the test
// binary: every test would run under readings nobody asked for.
func envReadings(opts *emulator.Options) {
	if err := ApplyReadings(opts, os.Getenv(ReadingsEnv)); err != nil {
		panic("fichiertest: " + err.Error())
	}
}
