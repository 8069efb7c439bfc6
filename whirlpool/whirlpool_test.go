package whirlpool

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// isoVectors are the test vectors of ISO/IEC 10118-3 and the NESSIE
// submission of Whirlpool.
var isoVectors = []struct {
	in  string
	sum string
}{
	{"", "19fa61d75522a4669b44e39c1d2e1726c530232130d407f89afee0964997f7a73e83be698b288febcf88e3e03c4f0757ea8964e59b63d93708b138cc42a66eb3"},
	{"a", "8aca2602792aec6f11a67206531fb7d7f0dff59413145e6973c45001d0087b42d11bc645413aeff63a42391a39145a591a92200d560195e53b478584fdae231a"},
	{"abc", "4e2448a4c6f486bb16b6562c73b4020bf3043e3a731bce721ae1b303d97e6d4c7181eebdb6c57e277d0e34957114cbd6c797fc9d95d8b582d225292076d4eef5"},
	{"message digest", "378c84a4126e2dc6e56dcc7458377aac838d00032230f53ce1f5700c0ffb4d3b8421557659ef55c106b4b52ac5a4aaa692ed920052838f3362e86dbd37a8903e"},
	{"abcdefghijklmnopqrstuvwxyz", "f1d754662636ffe92c82ebb9212a484a8d38631ead4238f5442ee13b8054e41b08bf2a9251c30b6a0b8aae86177ab4a6f68f673e7207865d5d9819a3dba4eb3b"},
	{"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "dc37e008cf9ee69bf11f00ed9aba26901dd7c28cdec066cc6af42e40f82f3a1e08eba26629129d8fb7cb57211b9281a65517cc879d7b962142c65f5a7af01467"},
	{strings.Repeat("1234567890", 8), "466ef18babb0154d25b9d38a6414f5c08784372bccb204d6549c4afadb6014294d5bd8df2a6c44e538cd047b2681a51a2c60481e88c5a20b2c2a80cf3a9a083b"},
	{"abcdbcdecdefdefgefghfghighijhijk", "2a987ea40f917061f5d6f0a0e4644f488a7a5a52deee656207c562f988e95c6916bdc8031bc5be1b7b947639fe050b56939baaa0adff9ae6745b7b181c3be3fd"},
	{strings.Repeat("a", 1000000), "0c99005beb57eff50a7cf005560ddf5d29057fd86b20bfd62deca0f1ccea4af51fc15490eddc47af32bb2b66c34ff9ad8c6008ad677f77126953b226e4ed8b01"},
}

func TestVectors(t *testing.T) {
	for _, v := range isoVectors {
		name := v.in
		if len(name) > 16 {
			name = name[:16] + "..."
		}
		t.Run(name, func(t *testing.T) {
			h := New()
			_, err := h.Write([]byte(v.in))
			require.NoError(t, err)
			assert.Equal(t, v.sum, hex.EncodeToString(h.Sum(nil)))
		})
	}
}

// TestVectorsByteAtATime feeds the vectors one byte per Write, so every
// message crosses the buffered path.
func TestVectorsByteAtATime(t *testing.T) {
	for _, v := range isoVectors[:8] {
		h := New()
		for i := range len(v.in) {
			_, _ = h.Write([]byte{v.in[i]})
		}
		assert.Equal(t, v.sum, hex.EncodeToString(h.Sum(nil)), "%q", v.in)
	}
}

func TestSizes(t *testing.T) {
	h := New()
	assert.Equal(t, 64, h.Size())
	assert.Equal(t, 64, h.BlockSize())
	assert.Len(t, h.Sum(nil), 64)
}

func TestResetAndSumKeepState(t *testing.T) {
	h := New()
	_, _ = h.Write([]byte("message "))
	first := h.Sum([]byte("prefix"))
	assert.Equal(t, "prefix", string(first[:6]))
	_, _ = h.Write([]byte("digest"))
	assert.Equal(t, isoVectors[3].sum, hex.EncodeToString(h.Sum(nil)))
	h.Reset()
	_, _ = h.Write([]byte("abc"))
	assert.Equal(t, isoVectors[2].sum, hex.EncodeToString(h.Sum(nil)))
}

// TestLengthField checks the high word of the 256-bit length: a message of
// 2^61 bytes or more has a bit count above 2^64.
func TestLengthField(t *testing.T) {
	d := &digest{len: 1<<61 + 3}
	d.finish()
	small := &digest{len: 3}
	small.finish()
	assert.NotEqual(t, small.h, d.h)
}
