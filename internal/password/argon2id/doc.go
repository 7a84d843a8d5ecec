// Copyright 2017 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package argon2id computes argon2id (RFC 9106, version 0x13) in working memory that the
// caller keeps between key derivations, instead of allocating it afresh for every one.
//
// It is golang.org/x/crypto/argon2 at v0.59.0 (argon2.go, blake2b.go, blamka_amd64.go,
// blamka_amd64.s, blamka_generic.go, blamka_ref.go; BSD licence, LICENSE), cut down to
// argon2id, without the loong64 assembly, and changed where it matters:
//
//   - the memory is a [Memory] the caller owns: [Memory.IDKey] uses the blocks it holds
//     and grows them only when the parameters need more;
//   - the first pass writes every block instead of XOR-ing into it. x/crypto XORs in every
//     pass and relies on freshly allocated, zeroed memory, so that in the first pass the
//     XOR is a write; with reused memory it would mix in the previous derivation's blocks.
//     Argon2 version 0x13 specifies exactly this (overwrite in the first pass, XOR in later
//     ones), and the first pass never reads a block before writing it: the first two blocks
//     of each lane are written from H0, every other block from the block before it and a
//     reference block the reference set draws only from blocks already written in this
//     pass, and the address blocks of argon2i's half are computed, not read;
//   - one lane is computed in the calling goroutine (x/crypto starts a goroutine per lane
//     and slice), and amd64 without SSE4.1 runs the generic Go code.
//
// The output is byte for byte that of x/crypto's argon2.IDKey for the same inputs; the
// tests compare them over the RFC 9106 test vector and random inputs with dirty memory
// reused across parameters, and FuzzIDKey does so for any input. The amd64 assembly
// (SSE4.1 BlaMka) is x/crypto's unchanged; other architectures, and builds with the
// purego tag, use the generic Go code.
package argon2id
