package fichier

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/rclone/rclone/fs"
)

// 1fichier keeps no modification times (Precision is
// fs.ModTimeNotSupported), so when rclone decides what to copy it
// compares sizes only, unless --checksum is given: a file edited without
// changing its size is silently not copied. The Whirlpool hashes come
// with the listings, so --checksum costs no API call here.
//
// Where to say so: rclone gives a backend no sign of which command runs
// (a listing for ls and one for sync look the same, and the size-only
// comparison itself calls nothing of the destination's but Precision,
// which has no context and is called by ls, lsjson and mount too). So
// the rclone binary tells the backend, before the command runs, that the
// command is one that compares files to decide what to send (see
// ComparingCommand), and NewFs, which every such command calls with the
// command's context, reads rclone's config from that context and says it
// once per process.

var (
	// comparing is set when the process runs copy, sync, move, copyto
	// or moveto.
	comparing atomic.Bool
	// sizeOnlyOnce makes the NOTICE once per process.
	sizeOnlyOnce sync.Once
)

// ComparingCommand tells the backend that this process runs a command
// that compares source and destination files to decide what to copy
// (copy, sync, move, copyto, moveto). The rclone binary calls it.
func ComparingCommand() {
	comparing.Store(true)
}

// sizeOnlyCompare reports whether rclone's config ci makes a copy or a
// sync compare files of this backend by size only. --size-only is asked
// for and not warned about; --ignore-times and --ignore-existing compare
// nothing.
func sizeOnlyCompare(ci *fs.ConfigInfo) bool {
	return !ci.CheckSum && !ci.SizeOnly && !ci.IgnoreTimes && !ci.IgnoreExisting
}

// noteSizeOnly logs, once per process, that rclone compares sizes only,
// when the process runs a comparing command and its config makes it so.
func noteSizeOnly(ctx context.Context, f *Fs) {
	if !comparing.Load() || !sizeOnlyCompare(fs.GetConfig(ctx)) {
		return
	}
	sizeOnlyOnce.Do(func() {
		fs.Logf(f, "1fichier keeps no modification times, so files are compared by size only: "+
			"a file edited without changing its size is not copied. Add --checksum to compare Whirlpool hashes, "+
			"which 1fichier's listings carry: it costs no API call here (local files are read to hash them)")
	})
}
