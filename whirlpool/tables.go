package whirlpool

//go:generate go run gen.go

// The Whirlpool constants, derived at start-up from their definitions in the
// Whirlpool specification (ISO/IEC 10118-3, and Barreto and Rijmen's paper):
// the S-box is built from two 4-bit mini-boxes, the round constants are rows
// of that S-box, and the diffusion layer multiplies each state row by the
// circulant matrix cir(1, 1, 4, 1, 8, 5, 2, 9) over GF(2^8).

// rounds is the number of rounds of the block cipher W.
const rounds = 10

// miniE is the exponential 4-bit mini-box E of the S-box construction.
var miniE = [16]byte{0x1, 0xb, 0x9, 0xc, 0xd, 0x6, 0xf, 0x3, 0xe, 0x8, 0x7, 0x4, 0xa, 0x2, 0x5, 0x0}

// miniR is the pseudo-randomly chosen 4-bit mini-box R of the S-box construction.
var miniR = [16]byte{0x7, 0xc, 0xb, 0xd, 0xe, 0x4, 0x9, 0xf, 0x6, 0x3, 0x8, 0xa, 0x2, 0x5, 0x1, 0x0}

// mdsRow is the first row of the circulant diffusion matrix; row k is this
// row rotated right by k places.
var mdsRow = [8]byte{1, 1, 4, 1, 8, 5, 2, 9}

// gfPoly is the reduction polynomial x^8 + x^4 + x^3 + x^2 + 1 of GF(2^8),
// without its x^8 term.
const gfPoly = 0x1d

// Rows of the state are held as uint64 with column j in bits 8j..8j+7, so
// that a little-endian load of eight message bytes gives one row.
var (
	// table[k][x] is the row contributed by byte x in column k of the
	// round's input: S[x] times row k of the diffusion matrix, the column
	// permutation π being applied by where the round reads x from.
	table [8][256]uint64
	// rc[r] is row 0 of the constant that keys round r+1 of the key
	// schedule; the other rows of the constant are zero.
	rc [rounds]uint64
)

func init() {
	sbox := makeSbox()
	for x := range 256 {
		for k := range 8 {
			var row uint64
			for j := range 8 {
				row |= uint64(gfMul(sbox[x], mdsRow[(j-k+8)%8])) << (8 * j)
			}
			table[k][x] = row
		}
	}
	for r := range rounds {
		for j := range 8 {
			rc[r] |= uint64(sbox[8*r+j]) << (8 * j)
		}
	}
}

// makeSbox builds the 8-bit S-box: the input's high nibble goes through E
// and its low nibble through E's inverse, R mixes the two, and E and its
// inverse are applied again to give the output's high and low nibbles.
func makeSbox() (s [256]byte) {
	var inv [16]byte
	for i, v := range miniE {
		inv[v] = byte(i)
	}
	for x := range 256 {
		hi, lo := miniE[x>>4], inv[x&0xf]
		mix := miniR[hi^lo]
		s[x] = miniE[hi^mix]<<4 | inv[lo^mix]
	}
	return s
}

// gfMul multiplies a and b in GF(2^8) modulo x^8 + x^4 + x^3 + x^2 + 1.
func gfMul(a, b byte) byte {
	var p byte
	for b != 0 {
		if b&1 != 0 {
			p ^= a
		}
		carry := a & 0x80
		a <<= 1
		if carry != 0 {
			a ^= gfPoly
		}
		b >>= 1
	}
	return p
}
