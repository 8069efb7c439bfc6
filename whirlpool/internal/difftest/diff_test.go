package difftest

import (
	"fmt"
	"hash"
	"math/rand/v2"
	"testing"

	original "github.com/jzelinskie/whirlpool"
	"github.com/stretchr/testify/require"

	"github.com/rclone-fichier/rclone-fichier/whirlpool"
)

// script drives both hashes through the same sequence of calls: data is
// cut into writes of the given sizes, and after the write at index
// sumAfter each hash's Sum appends to a non-empty prefix before the
// remaining writes go on without a Reset.
func script(t testing.TB, data []byte, splits []int, sumAfter int) {
	t.Helper()
	ours, theirs := whirlpool.New(), original.New()
	prefix := []byte("prefix")
	rest := data
	for i, n := range splits {
		n = min(n, len(rest))
		feed(t, ours, theirs, rest[:n])
		rest = rest[n:]
		if i == sumAfter {
			require.Equal(t, theirs.Sum(prefix[:len(prefix):len(prefix)]), ours.Sum(prefix[:len(prefix):len(prefix)]), "mid-stream Sum after write %d", i)
		}
	}
	feed(t, ours, theirs, rest)
	require.Equal(t, theirs.Sum(prefix), ours.Sum(prefix), "final Sum of %d bytes", len(data))
	require.Equal(t, theirs.Sum(nil), ours.Sum(nil), "second final Sum of %d bytes", len(data))
}

// feed writes p to both hashes.
func feed(t testing.TB, ours, theirs hash.Hash, p []byte) {
	n, err := ours.Write(p)
	require.NoError(t, err)
	require.Equal(t, len(p), n)
	_, _ = theirs.Write(p)
}

// randomSplits cuts n bytes into write sizes, mostly small and around the
// block size, sometimes large.
func randomSplits(rng *rand.Rand, n int) []int {
	var splits []int
	for n > 0 {
		var s int
		switch rng.IntN(4) {
		case 0:
			s = rng.IntN(8)
		case 1:
			s = 56 + rng.IntN(16)
		case 2:
			s = rng.IntN(200)
		default:
			s = rng.IntN(5000)
		}
		s = min(s, n)
		splits = append(splits, s)
		n -= s
	}
	return splits
}

// TestDifferentialRandom runs a fixed-seed series of random scripts in
// every go test run.
func TestDifferentialRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10118))
	for i := range 500 {
		size := rng.IntN(4 * 64)
		if i%10 == 0 {
			size = rng.IntN(100000)
		}
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		splits := randomSplits(rng, size)
		script(t, data, splits, rng.IntN(len(splits)+1))
	}
}

// TestDifferentialLengths covers every message length around the padding
// boundaries of the first few blocks.
func TestDifferentialLengths(t *testing.T) {
	data := make([]byte, 4*64+1)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for n := range data {
		script(t, data[:n], nil, -1)
	}
}

// FuzzDifferential lets the fuzzer choose the data, the write sizes (one
// byte of splits per write) and where to take a mid-stream Sum.
func FuzzDifferential(f *testing.F) {
	f.Add([]byte(""), []byte{}, 0)
	f.Add([]byte("abc"), []byte{1, 1}, 1)
	f.Add(make([]byte, 31), []byte{31}, 0)
	f.Add(make([]byte, 32), []byte{16, 16}, 1)
	f.Add(make([]byte, 33), []byte{1, 32}, 0)
	f.Add(make([]byte, 64), []byte{63}, 0)
	f.Add(make([]byte, 65), []byte{64, 1}, 1)
	f.Add(make([]byte, 1000), []byte{100, 200, 0, 255}, 2)
	f.Fuzz(func(t *testing.T, data, splitBytes []byte, sumAfter int) {
		splits := make([]int, len(splitBytes))
		for i, b := range splitBytes {
			splits[i] = int(b)
		}
		script(t, data, splits, sumAfter)
	})
}

// BenchmarkWhirlpool hashes 1 MiB buffers with this package and with the
// original side by side: go test -bench Whirlpool -run '^$'.
func BenchmarkWhirlpool(b *testing.B) {
	impls := []struct {
		name string
		new  func() hash.Hash
	}{
		{"ours", whirlpool.New},
		{"original", original.New},
	}
	for _, size := range []int{1 << 20, 1 << 10} {
		buf := make([]byte, size)
		for _, impl := range impls {
			b.Run(fmt.Sprintf("%s/%dKiB", impl.name, size>>10), func(b *testing.B) {
				h := impl.new()
				b.SetBytes(int64(size))
				for b.Loop() {
					h.Reset()
					_, _ = h.Write(buf)
					h.Sum(nil)
				}
			})
		}
	}
}
