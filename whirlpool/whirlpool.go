// Package whirlpool implements the Whirlpool hash function of ISO/IEC
// 10118-3:2004 in pure Go.
//
// It has the API of github.com/jzelinskie/whirlpool, which the
// rclone-fichier module replaces with this package: New returns a
// hash.Hash with a 64-byte digest and a 64-byte block.
package whirlpool

import (
	"encoding/binary"
	"hash"
)

const (
	// size is the size of a Whirlpool digest in bytes.
	size = 64
	// blockSize is the block size of Whirlpool in bytes.
	blockSize = 64
	// lengthOffset is where the padded last block holds the message
	// length, a 256-bit big-endian count of bits.
	lengthOffset = blockSize - 32
)

// digest is the running state of a Whirlpool hash.
type digest struct {
	h    [8]uint64       // chaining value, one row per word
	buf  [blockSize]byte // bytes not yet hashed
	nbuf int             // number of bytes in buf
	len  uint64          // number of bytes written
}

// New returns a new hash.Hash computing the Whirlpool digest.
func New() hash.Hash {
	return new(digest)
}

// Size returns the digest size, 64 bytes.
func (d *digest) Size() int { return size }

// BlockSize returns the block size, 64 bytes.
func (d *digest) BlockSize() int { return blockSize }

// Reset returns the hash to its initial state.
func (d *digest) Reset() { *d = digest{} }

// Write adds p to the running hash. It never returns an error.
func (d *digest) Write(p []byte) (int, error) {
	n := len(p)
	d.len += uint64(n)
	if d.nbuf > 0 {
		c := copy(d.buf[d.nbuf:], p)
		d.nbuf += c
		p = p[c:]
		if d.nbuf < blockSize {
			return n, nil
		}
		blocks(&d.h, d.buf[:])
		d.nbuf = 0
	}
	if whole := len(p) &^ (blockSize - 1); whole > 0 {
		blocks(&d.h, p[:whole])
		p = p[whole:]
	}
	d.nbuf = copy(d.buf[:], p)
	return n, nil
}

// Sum appends the digest of the data written so far to b, leaving the
// running hash unchanged.
func (d *digest) Sum(b []byte) []byte {
	c := *d
	sum := c.finish()
	return append(b, sum[:]...)
}

// finish pads the message (a one bit, zeros, and the 256-bit length in
// bits) and returns the digest.
func (d *digest) finish() (sum [size]byte) {
	bitsHi, bitsLo := d.len>>61, d.len<<3
	d.buf[d.nbuf] = 0x80
	clear(d.buf[d.nbuf+1:])
	if d.nbuf+1 > lengthOffset {
		blocks(&d.h, d.buf[:])
		clear(d.buf[:])
	}
	clear(d.buf[lengthOffset:])
	binary.BigEndian.PutUint64(d.buf[blockSize-16:], bitsHi)
	binary.BigEndian.PutUint64(d.buf[blockSize-8:], bitsLo)
	blocks(&d.h, d.buf[:])
	for i, row := range d.h {
		binary.LittleEndian.PutUint64(sum[8*i:], row)
	}
	return sum
}
