// Copyright 2017 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package argon2id

import (
	"encoding/binary"
	"sync"

	"golang.org/x/crypto/blake2b"
)

// Version is the Argon2 version computed: 0x13 (19).
const Version = 0x13

// argon2id is Argon2's type number for argon2id, part of H0 and of the address blocks.
const argon2id = 2

const (
	blockLength = 128
	syncPoints  = 4
)

type block [blockLength]uint64

// Memory is the working memory of argon2id key derivations, kept from one to the next so
// that a derivation neither allocates nor zeroes nor faults in its memory. The zero
// Memory is ready to use and holds nothing until its first derivation.
//
// A Memory is not safe for concurrent use. Between derivations it holds the blocks of the
// last one (values derived from its password by BLAKE2b, as garbage from x/crypto's
// argon2 would until the runtime reuses it); Release drops them.
type Memory struct {
	blocks []block
}

// Size is how many bytes of memory m holds.
func (m *Memory) Size() int { return len(m.blocks) * blockLength * 8 }

// Release lets go of m's memory; the next derivation allocates it again.
func (m *Memory) Release() { m.blocks = nil }

// IDKey returns the argon2id key of password and salt, exactly as
// golang.org/x/crypto/argon2.IDKey(password, salt, time, memory, threads, keyLen) does,
// computed in m. When m holds less than the memory the parameters need (memory KiB,
// rounded down to a multiple of 4 × threads, at least 8 × threads), m grows to that first;
// it never shrinks.
//
// IDKey panics, as x/crypto does, when time or threads is 0 or keyLen is 0.
func (m *Memory) IDKey(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	return m.deriveKey(password, salt, nil, nil, time, memory, threads, keyLen)
}

// IDKey returns the argon2id key of password and salt in memory of its own, which it
// drops when done: the same as golang.org/x/crypto/argon2.IDKey.
func IDKey(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	var m Memory
	return m.IDKey(password, salt, time, memory, threads, keyLen)
}

// deriveKey is x/crypto's deriveKey for argon2id, in m's blocks; secret and data are the
// optional key and associated data of RFC 9106, which the tests use for its test vector.
func (m *Memory) deriveKey(password, salt, secret, data []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	if time < 1 {
		panic("argon2: number of rounds too small")
	}
	if threads < 1 {
		panic("argon2: parallelism degree too low")
	}
	h0 := initHash(password, salt, secret, data, time, memory, uint32(threads), keyLen)

	memory = memory / (syncPoints * uint32(threads)) * (syncPoints * uint32(threads))
	if memory < 2*syncPoints*uint32(threads) {
		memory = 2 * syncPoints * uint32(threads)
	}
	if uint32(len(m.blocks)) < memory {
		m.blocks = nil // let the old blocks go before the new ones are allocated
		m.blocks = make([]block, memory)
	}
	B := m.blocks[:memory]
	initBlocks(&h0, B, uint32(threads))
	processBlocks(B, time, memory, uint32(threads))
	return extractKey(B, memory, uint32(threads), keyLen)
}

func initHash(password, salt, key, data []byte, time, memory, threads, keyLen uint32) [blake2b.Size + 8]byte {
	var (
		h0     [blake2b.Size + 8]byte
		params [24]byte
		tmp    [4]byte
	)

	b2, _ := blake2b.New512(nil)
	binary.LittleEndian.PutUint32(params[0:4], threads)
	binary.LittleEndian.PutUint32(params[4:8], keyLen)
	binary.LittleEndian.PutUint32(params[8:12], memory)
	binary.LittleEndian.PutUint32(params[12:16], time)
	binary.LittleEndian.PutUint32(params[16:20], uint32(Version))
	binary.LittleEndian.PutUint32(params[20:24], uint32(argon2id))
	b2.Write(params[:])
	binary.LittleEndian.PutUint32(tmp[:], uint32(len(password)))
	b2.Write(tmp[:])
	b2.Write(password)
	binary.LittleEndian.PutUint32(tmp[:], uint32(len(salt)))
	b2.Write(tmp[:])
	b2.Write(salt)
	binary.LittleEndian.PutUint32(tmp[:], uint32(len(key)))
	b2.Write(tmp[:])
	b2.Write(key)
	binary.LittleEndian.PutUint32(tmp[:], uint32(len(data)))
	b2.Write(tmp[:])
	b2.Write(data)
	b2.Sum(h0[:0])
	return h0
}

// initBlocks writes the first two blocks of every lane of B from h0. Unlike x/crypto's,
// it does not allocate B.
func initBlocks(h0 *[blake2b.Size + 8]byte, B []block, threads uint32) {
	var block0 [1024]byte
	memory := uint32(len(B))
	for lane := uint32(0); lane < threads; lane++ {
		j := lane * (memory / threads)
		binary.LittleEndian.PutUint32(h0[blake2b.Size+4:], lane)

		binary.LittleEndian.PutUint32(h0[blake2b.Size:], 0)
		blake2bHash(block0[:], h0[:])
		for i := range B[j+0] {
			B[j+0][i] = binary.LittleEndian.Uint64(block0[i*8:])
		}

		binary.LittleEndian.PutUint32(h0[blake2b.Size:], 1)
		blake2bHash(block0[:], h0[:])
		for i := range B[j+1] {
			B[j+1][i] = binary.LittleEndian.Uint64(block0[i*8:])
		}
	}
}

// processBlocks fills B: time passes of syncPoints slices, the lanes of a slice in
// parallel (in this goroutine when there is one lane).
func processBlocks(B []block, time, memory, threads uint32) {
	for n := uint32(0); n < time; n++ {
		for slice := uint32(0); slice < syncPoints; slice++ {
			if threads == 1 {
				processSegment(B, time, memory, threads, n, slice, 0)
				continue
			}
			var wg sync.WaitGroup
			for lane := uint32(0); lane < threads; lane++ {
				wg.Go(func() { processSegment(B, time, memory, threads, n, slice, lane) })
			}
			wg.Wait()
		}
	}
}

// processSegment computes the blocks of one lane in one slice of pass n. In pass 0 it
// writes each block (processBlock); in later passes it XORs into the block of the pass
// before (processBlockXOR). x/crypto XORs in pass 0 too, into zeroed memory.
func processSegment(B []block, time, memory, threads, n, slice, lane uint32) {
	lanes := memory / threads
	segments := lanes / syncPoints
	dataIndependent := n == 0 && slice < syncPoints/2

	var addresses, in, zero block
	if dataIndependent {
		in[0] = uint64(n)
		in[1] = uint64(lane)
		in[2] = uint64(slice)
		in[3] = uint64(memory)
		in[4] = uint64(time)
		in[5] = uint64(argon2id)
	}

	index := uint32(0)
	if n == 0 && slice == 0 {
		index = 2 // we have already generated the first two blocks
		in[6]++
		processBlock(&addresses, &in, &zero)
		processBlock(&addresses, &addresses, &zero)
	}

	offset := lane*lanes + slice*segments + index
	var random uint64
	for index < segments {
		prev := offset - 1
		if index == 0 && slice == 0 {
			prev += lanes // last block in lane
		}
		if dataIndependent {
			if index%blockLength == 0 {
				in[6]++
				processBlock(&addresses, &in, &zero)
				processBlock(&addresses, &addresses, &zero)
			}
			random = addresses[index%blockLength]
		} else {
			random = B[prev][0]
		}
		newOffset := indexAlpha(random, lanes, segments, threads, n, slice, lane, index)
		if n == 0 {
			processBlock(&B[offset], &B[prev], &B[newOffset])
		} else {
			processBlockXOR(&B[offset], &B[prev], &B[newOffset])
		}
		index, offset = index+1, offset+1
	}
}

func extractKey(B []block, memory, threads, keyLen uint32) []byte {
	lanes := memory / threads
	for lane := uint32(0); lane < threads-1; lane++ {
		for i, v := range B[(lane*lanes)+lanes-1] {
			B[memory-1][i] ^= v
		}
	}

	var block [1024]byte
	for i, v := range B[memory-1] {
		binary.LittleEndian.PutUint64(block[i*8:], v)
	}
	key := make([]byte, keyLen)
	blake2bHash(key, block[:])
	return key
}

func indexAlpha(rand uint64, lanes, segments, threads, n, slice, lane, index uint32) uint32 {
	refLane := uint32(rand>>32) % threads
	if n == 0 && slice == 0 {
		refLane = lane
	}
	m, s := 3*segments, ((slice+1)%syncPoints)*segments
	if lane == refLane {
		m += index
	}
	if n == 0 {
		m, s = slice*segments, 0
		if slice == 0 || lane == refLane {
			m += index
		}
	}
	if index == 0 || lane == refLane {
		m--
	}
	return phi(rand, uint64(m), uint64(s), refLane, lanes)
}

func phi(rand, m, s uint64, lane, lanes uint32) uint32 {
	p := rand & 0xFFFFFFFF
	p = (p * p) >> 32
	p = (p * m) >> 32
	return lane*lanes + uint32((s+m-(p+1))%uint64(lanes))
}
