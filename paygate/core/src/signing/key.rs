//! Secret keys and the keyed HMAC-SHA512 state derived from them.
//!
//! HMAC (RFC 2104) is written here directly over SHA-512's compression
//! function (`sha2::compress512`), because the canonical string arrives in
//! dozens of pieces of a few bytes each: the sink gathers them in one block
//! on the stack and the hash only ever sees whole blocks, so a signature
//! costs its compressions and little else. The construction is the textbook
//! one, checked against the `hmac` crate on every length across block
//! boundaries and every kind of key (see the tests below).

use core::fmt;
use core::ops::Range;

use sha2::digest::generic_array::GenericArray;
use sha2::{Digest, Sha512};

use super::copy::{copy_piece, word};
use super::signature::Signature;
use super::sink::ByteSink;

/// SHA-512's block size: the unit the hash compresses.
const BLOCK: usize = 128;

/// SHA-512's initial hash value (FIPS 180-4, 5.3.5).
const SHA512_IV: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// Room after the MAC's block for fixed-size copies that run past it.
const SLACK: usize = 2 * WINDOW;

/// The fixed size of the copies of [`ByteSink::write_pair_within`].
const WINDOW: usize = 32;

/// Compresses one block (exactly [`BLOCK`] bytes) into `state`.
#[inline(always)]
fn compress(state: &mut [u64; 8], block: &[u8]) {
    sha2::compress512(
        state,
        core::slice::from_ref(GenericArray::from_slice(block)),
    );
}

/// A SHA-512 state, as the big-endian bytes of its digest.
#[inline(always)]
fn digest_bytes(state: &[u64; 8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (chunk, word) in out.chunks_exact_mut(8).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// A merchant's secret key, as issued by the gateway with the other credentials.
///
/// The bytes never appear in `Debug` output, and the key is only used through
/// [`SigningKey`], which keeps the HMAC pads precomputed.
#[derive(Clone)]
pub struct SecretKey(Box<[u8]>);

impl SecretKey {
    /// Wraps the key exactly as issued (the gateway's keys are hex text; the
    /// text itself, not its decoded bytes, is the HMAC key).
    pub fn new(key: impl AsRef<[u8]>) -> Self {
        SecretKey(key.as_ref().into())
    }

    /// The number of bytes in the key; the key itself is never exposed.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the key is empty (the gateway never issues empty keys).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(<redacted, {} bytes>)", self.0.len())
    }
}

/// The HMAC-SHA512 state keyed once per secret: the SHA-512 states after
/// the key's inner and outer pad blocks. Every signature starts from a copy
/// of them, so the two key-pad compressions are paid once, not per call.
#[derive(Clone)]
pub struct SigningKey {
    /// After `key ^ ipad`.
    inner: [u64; 8],
    /// After `key ^ opad`.
    outer: [u64; 8],
}

impl SigningKey {
    /// Precomputes the keyed state for `secret`.
    pub fn new(secret: &SecretKey) -> Self {
        SigningKey::from_bytes(&secret.0)
    }

    /// Precomputes the keyed state for raw key bytes.
    pub fn from_bytes(secret: &[u8]) -> Self {
        // RFC 2104: a key longer than the block is replaced by its hash, a
        // shorter one is padded with zeros to the block size.
        let mut key = [0u8; BLOCK];
        if secret.len() > BLOCK {
            key[..64].copy_from_slice(&Sha512::digest(secret));
        } else {
            key[..secret.len()].copy_from_slice(secret);
        }
        let mut inner = SHA512_IV;
        compress(&mut inner, &key.map(|b| b ^ 0x36));
        let mut outer = SHA512_IV;
        compress(&mut outer, &key.map(|b| b ^ 0x5c));
        key.fill(0);
        SigningKey { inner, outer }
    }

    /// A fresh streaming MAC over an empty message.
    #[inline]
    pub(crate) fn mac(&self) -> MacSink {
        MacSink {
            state: self.inner,
            outer: self.outer,
            block: [0; BLOCK + SLACK],
            len: 0,
            blocks: 0,
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

/// A running HMAC-SHA512 over the canonical string: the byte sink that the
/// derive path and the raw-JSON path both write into.
///
/// The canonical string arrives in many tiny pieces (a key, a value, a
/// `.`), so the sink gathers them in a block on the stack and compresses
/// only whole blocks; the per-piece cost is a bounds check and a short copy.
#[derive(Clone)]
pub(crate) struct MacSink {
    /// The inner hash's state: the key's inner pad and `blocks` message
    /// blocks compressed.
    state: [u64; 8],
    /// The outer hash's state after the key's outer pad.
    outer: [u64; 8],
    /// Message bytes not yet compressed in `block[..len]`, `len < BLOCK`
    /// between calls; the [`SLACK`] bytes after the block take the
    /// overshoot of [`ByteSink::write_pair_within`]'s fixed-size copies.
    block: [u8; BLOCK + SLACK],
    len: usize,
    /// Whole message blocks compressed so far.
    blocks: u64,
}

impl MacSink {
    /// Finishes the MAC, taking the sink (the tests' shorthand).
    #[cfg(test)]
    fn finish(mut self) -> Signature {
        self.finish_in_place()
    }

    /// Finishes the MAC without moving the sink (its 272 bytes would be
    /// copied to a new stack slot); the sink is spent afterwards.
    #[inline(always)]
    pub(crate) fn finish_in_place(&mut self) -> Signature {
        // The inner hash's padding (FIPS 180-4, 5.1.2): 0x80, zeros, and the
        // length in bits of everything hashed (the pad block included) as a
        // 128-bit big-endian number in the last 16 bytes of a block.
        let bits = (u128::from(self.blocks + 1) * BLOCK as u128 + self.len as u128) * 8;
        let len = self.len;
        // Zero everything after the 0x80 up to the end of the block in
        // fixed-size stores (the bytes after `len` may hold the overshoot
        // of windowed writes): 64 bytes from `len + 1` (inside the slack),
        // and the block's second half if that starts beyond them.
        let len = len & (BLOCK - 1);
        self.block[len] = 0x80;
        self.block[len + 1..len + 1 + SLACK].fill(0);
        if len < BLOCK / 2 {
            self.block[BLOCK / 2..BLOCK].fill(0);
        }
        let block = &mut self.block[..BLOCK];
        if len + 1 > BLOCK - 16 {
            compress(&mut self.state, block);
            block.fill(0);
        }
        block[BLOCK - 16..].copy_from_slice(&bits.to_be_bytes());
        compress(&mut self.state, block);

        // The outer hash: the pad block (precomputed), then the inner digest
        // and its padding, which fit in one block.
        let mut last = [0u8; BLOCK];
        last[..64].copy_from_slice(&digest_bytes(&self.state));
        last[64] = 0x80;
        last[BLOCK - 16..].copy_from_slice(&(((BLOCK + 64) * 8) as u128).to_be_bytes());
        compress(&mut self.outer, &last);
        Signature(digest_bytes(&self.outer))
    }

    /// Fills the block with the head of `bytes` and compresses it, then the
    /// whole blocks of the rest straight from `bytes`, and keeps the tail.
    /// Only called when `bytes` reaches the end of the block.
    #[inline(never)]
    fn write_spanning(&mut self, bytes: &[u8]) {
        let (head, rest) = bytes.split_at((BLOCK - self.len).min(bytes.len()));
        copy_piece(&mut self.block[self.len..self.len + head.len()], head);
        compress(&mut self.state, &self.block[..BLOCK]);
        let mut blocks = rest.chunks_exact(BLOCK);
        for block in &mut blocks {
            compress(&mut self.state, block);
        }
        let tail = blocks.remainder();
        copy_piece(&mut self.block[..tail.len()], tail);
        self.len = tail.len();
        self.blocks += 1 + (rest.len() / BLOCK) as u64;
    }
}

impl ByteSink for MacSink {
    // Always inlined: at a call site with a known piece (a field name from
    // the derive, `.`), the copy below folds into a couple of moves.
    #[inline(always)]
    fn write(&mut self, bytes: &[u8]) {
        // `self.len < BLOCK`, so the fast path leaves at least one byte free
        // and the MAC only ever sees whole blocks until `finish`.
        match self.block.get_mut(self.len..self.len + bytes.len()) {
            Some(free) if self.len + bytes.len() < BLOCK => {
                copy_piece(free, bytes);
                self.len += bytes.len();
            }
            _ => self.write_spanning(bytes),
        }
    }

    // A key and its value: one room check for both, then two short copies.
    #[inline(always)]
    fn write_pair(&mut self, first: &[u8], second: &[u8]) {
        // `self.len < BLOCK` always; the mask lets the compiler see it, so
        // with both pieces shorter than a block nothing below can overflow.
        let len = self.len & (BLOCK - 1);
        if first.len() < BLOCK && second.len() < BLOCK {
            let mid = len + first.len();
            let end = mid + second.len();
            if end < BLOCK {
                copy_piece(&mut self.block[len..mid], first);
                copy_piece(&mut self.block[mid..end], second);
                self.len = end;
                return;
            }
        }
        self.write_pair_spanning(first, second);
    }

    // Two pieces of one buffer, each copied as a fixed 32-byte window (no
    // length dispatch) into the block, whose slack takes the overshoot;
    // the bytes past each piece are overwritten by the next one or by the
    // padding.
    #[inline(always)]
    fn write_pair_within(&mut self, buf: &[u8], first: Range<usize>, second: Range<usize>) {
        // A reversed range wraps to a huge length and takes the exact path,
        // which rejects it as slicing does. With `first` starting no later
        // than `second`, the second window in range puts the first in range.
        let (n1, n2) = (
            first.end.wrapping_sub(first.start),
            second.end.wrapping_sub(second.start),
        );
        match buf.get(second.start..second.start.wrapping_add(WINDOW)) {
            Some(b) if first.start <= second.start && n1 <= WINDOW && n2 <= WINDOW => {
                let a = &buf[first.start..first.start + WINDOW];
                // `len < BLOCK`, so both windows fall inside the slack.
                let len = self.len & (BLOCK - 1);
                let mid = len + n1;
                self.block[len..len + WINDOW].copy_from_slice(a);
                self.block[mid..mid + WINDOW].copy_from_slice(b);
                self.advance_to(mid + n2);
            }
            _ => self.write_pair(&buf[first], &buf[second]),
        }
    }

    // One piece of a buffer, copied as a fixed window like the pairs above.
    #[inline(always)]
    fn write_within(&mut self, buf: &[u8], piece: Range<usize>) {
        let n = piece.end.wrapping_sub(piece.start);
        match buf.get(piece.start..piece.start.wrapping_add(WINDOW)) {
            Some(window) if n <= WINDOW => {
                let len = self.len & (BLOCK - 1);
                self.block[len..len + WINDOW].copy_from_slice(window);
                self.advance_to(len + n);
            }
            _ => self.write(&buf[piece]),
        }
    }
}

impl MacSink {
    /// Moves the end of the message in the block to `end` after a windowed
    /// write, compressing the block if the write filled it.
    #[inline(always)]
    fn advance_to(&mut self, end: usize) {
        if end < BLOCK {
            self.len = end;
        } else {
            self.compress_overshoot(end);
        }
    }

    /// Compresses the full block after a write that ran `end - BLOCK`
    /// bytes into the slack, and moves those bytes to the front.
    #[inline(never)]
    fn compress_overshoot(&mut self, end: usize) {
        compress(&mut self.state, &self.block[..BLOCK]);
        self.blocks += 1;
        // The whole slack, a fixed-size move (no `memmove` call); only the
        // first `end - BLOCK` bytes of it are message.
        let slack: [u8; SLACK] = word(&self.block, BLOCK);
        self.block[..SLACK].copy_from_slice(&slack);
        self.len = end - BLOCK;
    }

    /// [`ByteSink::write_pair`] when the pair reaches the end of the block:
    /// through the slack when it fits there (one compression, no second
    /// pass over the pieces), else piece by piece.
    #[inline(never)]
    fn write_pair_spanning(&mut self, first: &[u8], second: &[u8]) {
        let len = self.len & (BLOCK - 1);
        let mid = len + first.len();
        let end = mid + second.len();
        if end <= BLOCK + SLACK {
            copy_piece(&mut self.block[len..mid], first);
            copy_piece(&mut self.block[mid..end], second);
            self.compress_overshoot(end);
        } else {
            self.write(first);
            self.write(second);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let key = SecretKey::new("cf11635572c1e8d7");
        let shown = format!("{key:?} {:?}", SigningKey::new(&key));
        assert!(!shown.contains("cf11"), "{shown}");
    }

    /// The reference: the `hmac` crate over the whole message at once.
    fn reference(key: &[u8], message: &[u8]) -> [u8; 64] {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<Sha512>::new_from_slice(key).unwrap();
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    #[test]
    fn hmac_matches_the_reference_on_every_length_and_key_kind() {
        let message: Vec<u8> = (0..700u32).map(|i| (i * 7 + 3) as u8).collect();
        let keys: [&[u8]; 7] = [
            b"",
            b"k",
            &[0xa5; 64],
            &[0x11; 127],
            &[0x22; 128],
            &[0x33; 129],
            &[0x44; 300],
        ];
        for key in keys {
            let signing = SigningKey::from_bytes(key);
            for len in 0..message.len() {
                let message = &message[..len];
                let expected = reference(key, message);
                // In one piece.
                let mut mac = signing.mac();
                mac.write(message);
                assert_eq!(mac.finish().0, expected, "key {} len {len}", key.len());
                // In pieces of every size from 0 to 12 bytes, and one large
                // piece spanning several blocks.
                let mut mac = signing.mac();
                let mut rest = message;
                let mut size = 0;
                while !rest.is_empty() {
                    let (piece, tail) = rest.split_at(size.min(rest.len()));
                    mac.write(piece);
                    rest = tail;
                    size = (size + 1) % 13;
                    if size == 5 && rest.len() > 300 {
                        let (big, tail) = rest.split_at(290);
                        mac.write(big);
                        rest = tail;
                    }
                }
                assert_eq!(
                    mac.finish().0,
                    expected,
                    "key {} len {len} in pieces",
                    key.len()
                );
            }
        }
    }

    #[test]
    fn pairs_match_the_reference_across_block_boundaries() {
        let message: Vec<u8> = (0..400u32).map(|i| (i * 11 + 5) as u8).collect();
        let signing = SigningKey::from_bytes(b"pair key");
        for len in 0..message.len() {
            let message = &message[..len];
            let expected = reference(b"pair key", message);
            for step in [1usize, 3, 7, 40, 127, 128, 200] {
                let mut mac = signing.mac();
                let mut rest = message;
                let mut first = 0;
                while !rest.is_empty() {
                    let (a, tail) = rest.split_at(first.min(rest.len()));
                    let (b, tail) = tail.split_at(step.min(tail.len()));
                    mac.write_pair(a, b);
                    rest = tail;
                    first = (first + 5) % 23;
                }
                assert_eq!(mac.finish().0, expected, "len {len} step {step}");
            }
        }
    }

    #[test]
    fn pairs_within_a_buffer_match_the_reference() {
        // The message is taken from a larger buffer in pairs of pieces with
        // gaps between them (as keys and values sit in a JSON body), mixed
        // with plain writes: windowed copies near the block end, pieces
        // longer than a window, and pieces too close to the buffer's end
        // for a window all have to give the same MAC.
        let buf: Vec<u8> = (0..900u32).map(|i| (i * 13 + 1) as u8).collect();
        let signing = SigningKey::from_bytes(b"window key");
        for seed in 0..400usize {
            let mut mac = signing.mac();
            let mut message = Vec::new();
            let mut at = seed % 7;
            let mut i = seed;
            while at < buf.len() {
                i = i.wrapping_mul(31).wrapping_add(17);
                let first = i % 37;
                let gap = 1 + i % 3;
                let second = (i / 7) % 45;
                if at + first + gap + second > buf.len() {
                    break;
                }
                let a = at..at + first;
                let b = at + first + gap..at + first + gap + second;
                message.extend_from_slice(&buf[a.clone()]);
                message.extend_from_slice(&buf[b.clone()]);
                mac.write_pair_within(&buf, a, b.clone());
                if i % 5 == 0 {
                    mac.write(b".");
                    message.push(b'.');
                }
                if i % 3 == 0 && b.end + 40 <= buf.len() {
                    let piece = b.end + 1..b.end + 1 + i % 40;
                    message.extend_from_slice(&buf[piece.clone()]);
                    mac.write_within(&buf, piece.clone());
                    at = piece.end;
                }
                at = at.max(b.end + 1);
            }
            assert_eq!(
                mac.finish().0,
                reference(b"window key", &message),
                "seed {seed}, {} bytes",
                message.len()
            );
        }
    }
}
