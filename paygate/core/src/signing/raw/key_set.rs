//! Duplicate keys: the keys seen so far in one object ([`KeySet`]), kept
//! as positions in the body behind a small Bloom filter, and the key
//! fingerprints ([`Key`]) the fast path compares too.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::signing::json_string::{decode_escape, write_unescaped};

/// A key of the object being read, for duplicate detection.
#[derive(Clone, Copy)]
pub(super) struct Key<'a> {
    /// The contents of the key's string literal.
    pub(super) raw: &'a [u8],
    /// Whether `raw` contains escapes.
    escaped: bool,
    /// A cheap fingerprint of `raw` (its length and first eight bytes):
    /// two unescaped keys with different fingerprints differ.
    fingerprint: u64,
}

impl<'a> Key<'a> {
    #[inline]
    fn new(raw: &'a [u8], escaped: bool) -> Self {
        let head = match raw.first_chunk::<8>() {
            Some(word) => u64::from_le_bytes(*word),
            None => {
                let mut word = [0; 8];
                word[..raw.len()].copy_from_slice(raw);
                u64::from_le_bytes(word)
            }
        };
        Key::with_head(raw, escaped, head)
    }

    /// The key whose contents `raw` start at `start` in `body`.
    #[inline(always)]
    pub(super) fn in_body(body: &[u8], start: usize, raw: &'a [u8], escaped: bool) -> Self {
        Key::with_head(raw, escaped, key_head(body, start, raw.len()))
    }

    /// `head`: the first eight bytes of `raw` (zero-padded) as a number.
    #[inline(always)]
    pub(super) fn with_head(raw: &'a [u8], escaped: bool, head: u64) -> Self {
        let fingerprint =
            (head ^ (raw.len() as u64).rotate_right(8)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        Key {
            raw,
            escaped,
            fingerprint,
        }
    }

    /// Whether two keys decode to the same bytes.
    #[inline]
    fn same(&self, other: &Key<'_>) -> bool {
        match (self.escaped, other.escaped) {
            (false, false) => self.fingerprint == other.fingerprint && self.raw == other.raw,
            _ => decoded(self.raw).eq(decoded(other.raw)),
        }
    }

    fn decoded_bytes(&self) -> Cow<'a, [u8]> {
        if self.escaped {
            let mut out = Vec::with_capacity(self.raw.len());
            write_unescaped(self.raw, &mut out);
            Cow::Owned(out)
        } else {
            Cow::Borrowed(self.raw)
        }
    }
}

/// The first eight bytes (zero-padded) of the `len` bytes at `start` in
/// `body`, as a little-endian number: one load from the body when it has
/// eight bytes there.
#[inline(always)]
pub(super) fn key_head(body: &[u8], start: usize, len: usize) -> u64 {
    match body.get(start..).and_then(|rest| rest.first_chunk::<8>()) {
        Some(word) => u64::from_le_bytes(*word) & HEAD_MASKS[len.min(15)],
        None => {
            let mut word = [0; 8];
            let n = len.min(8);
            if let Some(key) = body.get(start..start + n) {
                word[..n].copy_from_slice(key);
            }
            u64::from_le_bytes(word)
        }
    }
}

/// The decoded bytes of a validated JSON string literal's contents, one at a
/// time.
fn decoded(raw: &[u8]) -> Decoded<'_> {
    Decoded {
        rest: raw,
        pending: [0; 4],
        len: 0,
        next: 0,
    }
}

struct Decoded<'a> {
    rest: &'a [u8],
    pending: [u8; 4],
    len: u8,
    next: u8,
}

impl Iterator for Decoded<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        if self.next < self.len {
            let b = self.pending[usize::from(self.next)];
            self.next += 1;
            return Some(b);
        }
        let (&first, rest) = self.rest.split_first()?;
        if first != b'\\' {
            self.rest = rest;
            return Some(first);
        }
        let (ch, used) = decode_escape(self.rest);
        self.rest = self.rest.get(used.max(1)..).unwrap_or(&[]);
        let encoded = ch.encode_utf8(&mut self.pending).len();
        self.len = encoded as u8;
        self.next = 1;
        Some(self.pending[0])
    }
}

/// Keys per object checked inline before spilling to a hash set (at most 32:
/// one bit each in [`KeySet::escaped`]).
const INLINE_KEYS: usize = 32;

/// The keys seen so far in one object: up to [`INLINE_KEYS`] as positions
/// in the body behind a small Bloom filter, then a hash set of decoded keys
/// (so huge objects stay linear).
///
/// Setting one up is a few stores (it happens for every object), and a new
/// key is compared with the earlier ones only when the filter says it may
/// have been seen: for the distinct keys of a normal payload, rarely.
pub(super) struct KeySet<'a> {
    /// The body from the object's first member on, which starts at `start`.
    members: &'a [u8],
    start: usize,
    /// `(offset in members, length)` of each inline key's contents.
    spans: [(u16, u16); INLINE_KEYS],
    len: usize,
    /// Bit `i` is set if inline key `i` contains escapes.
    escaped: u32,
    /// One bit per key seen, picked by its fingerprint: a key whose bit is
    /// clear is new. All bits are set once an escaped key is in (escaped
    /// keys are compared in full).
    bloom: [u64; 4],
    spill: Option<HashSet<Cow<'a, [u8]>>>,
}

impl<'a> KeySet<'a> {
    /// The keys of the object whose members start at `start` in `body`.
    #[inline(always)]
    pub(super) fn new(body: &'a [u8], start: usize) -> Self {
        KeySet {
            members: body.get(start..).unwrap_or_default(),
            start,
            spans: [(0, 0); INLINE_KEYS],
            len: 0,
            escaped: 0,
            bloom: [0; 4],
            spill: None,
        }
    }

    /// The inline key at `i`.
    fn key(&self, i: usize) -> Key<'a> {
        let (offset, len) = self.spans[i];
        let (offset, len) = (usize::from(offset), usize::from(len));
        Key::new(
            &self.members[offset..offset + len],
            self.escaped & (1 << i) != 0,
        )
    }

    /// Adds `key`, whose contents start at `offset` in the body; false if
    /// it was already there.
    #[inline(always)]
    pub(super) fn insert(&mut self, offset: usize, key: Key<'a>) -> bool {
        let Key {
            raw,
            escaped,
            fingerprint,
        } = key;
        // Offsets and lengths are kept in 16 bits: the keys of an object
        // beyond 64 KiB go to the hash set (as do all keys once it exists:
        // `len` then stays at `INLINE_KEYS`).
        let offset = offset - self.start;
        if self.len >= INLINE_KEYS || (offset | raw.len()) > usize::from(u16::MAX) {
            return self.insert_spilled(raw, escaped);
        }
        let (word, bit) = (
            (fingerprint >> 62) as usize,
            1u64 << ((fingerprint >> 56) & 63),
        );
        let maybe_seen = self.bloom[word] & bit != 0;
        self.bloom[word] |= bit;
        // Escaped keys have no usable fingerprint: compare them in full,
        // and every key after one (the filter is then full).
        if (maybe_seen || escaped) && self.contains(raw, escaped) {
            return false;
        }
        if escaped {
            self.bloom = [u64::MAX; 4];
        }
        self.spans[self.len] = (offset as u16, raw.len() as u16);
        self.escaped |= u32::from(escaped) << self.len;
        self.len += 1;
        true
    }

    /// Whether a key is among the inline ones.
    #[cold]
    #[inline(never)]
    fn contains(&self, raw: &[u8], escaped: bool) -> bool {
        let key = Key::new(raw, escaped);
        (0..self.len).any(|i| self.key(i).same(&key))
    }

    #[cold]
    #[inline(never)]
    fn insert_spilled(&mut self, raw: &'a [u8], escaped: bool) -> bool {
        if self.spill.is_none() {
            let mut set = HashSet::with_capacity(INLINE_KEYS * 4);
            for i in 0..self.len {
                set.insert(self.key(i).decoded_bytes());
            }
            self.spill = Some(set);
            self.len = INLINE_KEYS;
        }
        let key = Key::new(raw, escaped).decoded_bytes();
        self.spill.as_mut().is_some_and(|set| set.insert(key))
    }
}

/// For a key of `n` bytes (index `n`, up to 15), the mask that keeps its
/// first `n` bytes (at most eight) of a little-endian word.
pub(super) const HEAD_MASKS: [u64; 16] = {
    let mut masks = [u64::MAX; 16];
    let mut n = 0;
    while n < 8 {
        masks[n] = (1 << (8 * n)) - 1;
        n += 1;
    }
    masks
};
