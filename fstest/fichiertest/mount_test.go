package fichiertest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outcomeTB records whether a test helper skipped or failed its test.
// Like testing.T, Skip and Fatalf end the goroutine they run on.
type outcomeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (o *outcomeTB) Helper()      {}
func (o *outcomeTB) Name() string { return "TestFake" }
func (o *outcomeTB) Skip(args ...any) {
	o.skipped, o.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}
func (o *outcomeTB) Fatalf(format string, args ...any) {
	o.failed, o.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// requireMountOutcome runs RequireMount on a recorder and returns it with
// what RequireMount returned.
func requireMountOutcome() (*outcomeTB, string) {
	o := &outcomeTB{}
	var path string
	done := make(chan struct{})
	go func() {
		defer close(done)
		path = RequireMount(o)
	}()
	<-done
	return o, path
}

// fakeMachine points the FUSE lookups at a temporary device and a PATH
// holding only the given programs.
func fakeMachine(t *testing.T, device bool, programs ...string) string {
	dir := t.TempDir()
	fuseDevice = filepath.Join(dir, "fuse")
	t.Cleanup(func() { fuseDevice = "/dev/fuse" })
	if device {
		require.NoError(t, os.WriteFile(fuseDevice, nil, 0o600))
	}
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.Mkdir(bin, 0o755))
	for _, p := range programs {
		require.NoError(t, os.WriteFile(filepath.Join(bin, p), []byte("#!/bin/sh\n"), 0o755))
	}
	t.Setenv("PATH", bin)
	return bin
}

func TestRequireMountSkipsLoudlyWithoutFusermount(t *testing.T) {
	fakeMachine(t, true)
	t.Setenv(RequireMountEnv, "")
	o, _ := requireMountOutcome()
	assert.True(t, o.skipped, "skipped")
	assert.False(t, o.failed)
	assert.Contains(t, o.msg, "WARNING: TestFake: ")
	assert.Contains(t, o.msg, "fusermount3 (or fusermount), which is not installed: apt-get install fuse3")
	assert.Contains(t, o.msg, RequireMountEnv+"=1")
}

func TestRequireMountFailsWhenRequired(t *testing.T) {
	for _, c := range []struct {
		name     string
		device   bool
		programs []string
		want     string
	}{
		{"no fusermount", true, nil, "fusermount3 (or fusermount), which is not installed"},
		{"no device", false, []string{"fusermount3"}, "lacks"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fakeMachine(t, c.device, c.programs...)
			t.Setenv(RequireMountEnv, "1")
			o, _ := requireMountOutcome()
			assert.True(t, o.failed, "failed")
			assert.False(t, o.skipped)
			assert.Contains(t, o.msg, c.want)
		})
	}
}

func TestRequireMountFindsFusermount(t *testing.T) {
	for _, program := range []string{"fusermount3", "fusermount"} {
		t.Run(program, func(t *testing.T) {
			bin := fakeMachine(t, true, program)
			t.Setenv(RequireMountEnv, "1")
			o, path := requireMountOutcome()
			assert.False(t, o.failed || o.skipped, o.msg)
			assert.Equal(t, filepath.Join(bin, program), path)
		})
	}
}
