package fichiertest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rclone-fichier/rclone-fichier/fstest/emulator"
)

func TestApplyReadings(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want emulator.Options
	}{
		{"", emulator.Options{}},
		{"list-rule=endpoint,move-changes-url,query-switches=honour,number-strings=refuse,end-memory=hours", emulator.Options{
			ListRule: emulator.ListRuleEndpoint, MoveChangesURL: true,
			QuerySwitches: emulator.QuerySwitchesHonour, NumberStrings: emulator.NumberStringsRefuse,
			EndMemory: emulator.EndMemoryHours,
		}},
		{"end-memory=minutes", emulator.Options{EndMemory: emulator.EndMemoryMinutes}},
		{" list-rule = folder , , move-changes-url=false ", emulator.Options{ListRule: emulator.ListRuleFolder}},
		{"move-changes-url=true", emulator.Options{MoveChangesURL: true}},
		{"query-switches=ignore,number-strings=accept", emulator.Options{
			QuerySwitches: emulator.QuerySwitchesIgnore, NumberStrings: emulator.NumberStringsAccept,
		}},
	} {
		var got emulator.Options
		require.NoError(t, ApplyReadings(&got, tc.spec), tc.spec)
		assert.Equal(t, tc.want, got, tc.spec)
	}
}

func TestApplyReadingsNamesTheBadWord(t *testing.T) {
	for spec, want := range map[string]string{
		"list-rules=endpoint":      `unknown reading "list-rules" (want list-rule, move-changes-url, query-switches, number-strings or end-memory)`,
		"list-rule=endpoints":      `list-rule=endpoints: emulator: unknown listing rule "endpoints"`,
		"query-switches":           `"query-switches" needs a value`,
		"move-changes-url=perhaps": `move-changes-url=perhaps: strconv.ParseBool`,
		"number-strings=refuse,x":  `unknown reading "x"`,
	} {
		err := ApplyReadings(&emulator.Options{}, spec)
		require.Error(t, err, spec)
		assert.Contains(t, err.Error(), ReadingsEnv+": ", spec)
		assert.Contains(t, err.Error(), want, spec)
	}
}

func TestOptionsHonourReadingsEnv(t *testing.T) {
	t.Setenv(ReadingsEnv, "list-rule=endpoint,query-switches=honour")
	opts := Options()
	assert.Equal(t, emulator.ListRuleEndpoint, opts.ListRule)
	assert.Equal(t, emulator.QuerySwitchesHonour, opts.QuerySwitches)
	assert.Equal(t, float64(TimeScale), opts.TimeScale)

	t.Setenv(ReadingsEnv, "")
	assert.Equal(t, emulator.Options{TimeScale: TimeScale}, Options())

	t.Setenv(ReadingsEnv, "list-rule=sometimes")
	assert.PanicsWithValue(t, `fichiertest: FICHIER_EMULATOR_READINGS: list-rule=sometimes: emulator: `+
		`unknown listing rule "sometimes" (want "folder" or "endpoint")`, func() { Options() })
}
