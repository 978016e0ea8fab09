//! Signing and verifying received JSON payloads straight from their bytes.
//!
//! The gateway signs `calculateSignature(json_decode($body, true), $key)`:
//! the decoded values in document order, rendered the way PHP 8 prints them
//! when concatenated to a string. This module walks the raw body once, with
//! a hand-written strict (RFC 8259) JSON reader, and feeds every key and
//! scalar to the sink as it goes; nothing is decoded into a tree, and the
//! normal path allocates nothing.
//!
//! PHP renderings after `json_decode(..., true)`:
//!
//! * strings: their decoded UTF-8 bytes;
//! * `true`: `1`; `false` and `null`: nothing;
//! * integers within the i64 range: plain decimal (`-0` is the int `0`);
//! * every other number (fractions, exponents, integers outside i64): a PHP
//!   float, printed with `precision=14` (see [`super::php_number`]).
//!
//! Differences from what PHP would accept, all deliberate: the top level must
//! be an object (PHP would also sign a top-level list), and a key that occurs
//! twice in one object is an error (PHP silently keeps the last value at the
//! first key's position, which lets one signed payload be read two ways).
//!
//! How the walk stays cheap (it runs next to the HMAC on every callback):
//!
//! * UTF-8 is checked lazily: outside strings the reader accepts only ASCII,
//!   and the string scanner notes the first non-ASCII byte, so the body is
//!   validated (with `core::str::from_utf8`, whose error takes precedence
//!   over every other, as if it ran first) only if it holds non-ASCII text
//!   or fails to parse;
//! * strings are scanned sixteen bytes at a time for `"`, `\` and control
//!   (and, until one is seen, non-ASCII) bytes, so a typical key or value
//!   ends in the first step;
//! * the dotted prefix of a nested level is kept decoded in a buffer on the
//!   stack, so each nested scalar costs one prefix write.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;

use super::canonical::SignError;
use super::json_string::{decode_escape, hex4, unescaped_eq, write_unescaped};
use super::key::SigningKey;
use super::php_number::write_php_json_number;
use super::prefix::{Prefix, MAX_DEPTH};
use super::scan::{all_plain, skip_plain, stop_mask};
use super::segment::Segment;
use super::signature::Signature;
use super::sink::ByteSink;
use super::stack_buf::StackBuf;

/// Why a received body cannot be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// The body is not well-formed JSON.
    #[error("invalid JSON at byte {offset}: {reason}")]
    Syntax {
        /// Byte offset of the offending input.
        offset: usize,
        /// What was wrong there.
        reason: &'static str,
    },
    /// The body is not valid UTF-8.
    #[error("invalid UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// A key occurs twice in the same object.
    #[error("duplicate key `{path}`: a signed payload must not repeat a key within one object")]
    DuplicateKey {
        /// Dotted path of the repeated key.
        path: String,
    },
    /// The payload nests deeper than the signature algorithm allows.
    #[error("`{path}` is nested {depth} levels deep; the signature algorithm allows at most {max} (recursion level exceeded)", max = MAX_DEPTH - 1)]
    TooDeep {
        /// Dotted path of the object or list that went too deep.
        path: String,
        /// Its nesting level (the top-level object is 0).
        depth: usize,
    },
    /// The body is a JSON value other than an object.
    #[error("the payload must be a JSON object")]
    NotAnObject,
}

impl From<SignError> for JsonError {
    fn from(err: SignError) -> Self {
        match err {
            SignError::TooDeep { path, depth } => JsonError::TooDeep { path, depth },
        }
    }
}

impl JsonError {
    /// Places the path of a duplicate key or a level too deep under the
    /// enclosing key.
    #[cold]
    fn under(self, key: Seg<'_>) -> Self {
        match self {
            JsonError::DuplicateKey { path } => JsonError::DuplicateKey {
                path: format!("{}.{path}", key.segment()),
            },
            JsonError::TooDeep { path, depth } => JsonError::TooDeep {
                path: format!("{}.{path}", key.segment()),
                depth,
            },
            other => other,
        }
    }
}

/// Why a received payload fails verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The body cannot be signed.
    #[error(transparent)]
    Json(#[from] JsonError),
    /// The payload has no top-level `signature` field.
    #[error("the payload has no top-level `signature` field")]
    MissingSignature,
    /// The top-level `signature` field is not a JSON string.
    #[error("the top-level `signature` field is not a string")]
    SignatureNotAString,
    /// The signature does not match the payload.
    #[error("the signature does not match the payload")]
    Mismatch,
}

/// Streams the canonical string of a raw JSON object into `sink`; returns the raw contents of the top-level "signature" string if present.
///
/// The returned contents are the bytes between the quotes, still
/// JSON-escaped if the sender escaped them. A top-level `signature` that is
/// not a string gives `None` (a scalar is skipped like any `signature`
/// scalar; an object or list is signed as its entries).
// The lifetime is spelled out: the signature borrows from `body`.
#[allow(clippy::needless_lifetimes)]
pub fn canonical_json<'a, S: ByteSink>(
    body: &'a [u8],
    sink: S,
) -> Result<(S, Option<&'a [u8]>), JsonError> {
    let (sink, signature) = walk(body, sink)?;
    let signature = match signature {
        SignatureField::String(raw, _) => Some(raw),
        SignatureField::Missing | SignatureField::NotAString => None,
    };
    Ok((sink, signature))
}

/// Signs a received JSON object exactly as the gateway's PHP does.
pub fn sign_json(key: &SigningKey, body: &[u8]) -> Result<Signature, JsonError> {
    let mut mac = key.mac();
    walk(body, &mut mac)?;
    Ok(mac.finish_in_place())
}

/// Verifies the top-level "signature" of a received payload against its other fields, in constant time.
pub fn verify_json(key: &SigningKey, body: &[u8]) -> Result<(), VerifyError> {
    let mut mac = key.mac();
    let (_, signature) = walk(body, &mut mac)?;
    let (received, escaped) = match signature {
        SignatureField::String(raw, escaped) => (raw, escaped),
        SignatureField::Missing => return Err(VerifyError::MissingSignature),
        SignatureField::NotAString => return Err(VerifyError::SignatureNotAString),
    };
    let expected = mac.finish_in_place();
    let matches = if escaped {
        // Escaped hex (`\u0061`) is still hex once decoded; decode it on the
        // stack. Anything longer than a signature cannot match.
        let mut decoded = StackBuf::<128>::new();
        write_unescaped(received, &mut decoded);
        !decoded.overflow && expected.matches_hex(decoded.as_bytes())
    } else {
        expected.matches_hex(received)
    };
    if matches {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

/// What the top-level `signature` field held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SignatureField<'a> {
    Missing,
    /// The raw contents of the string (between the quotes), and whether
    /// they contain escapes.
    String(&'a [u8], bool),
    NotAString,
}

/// Validates `body`, streams its canonical string into `sink` and reports
/// the top-level `signature` field.
#[inline(always)]
fn walk<'a, S: ByteSink>(body: &'a [u8], sink: S) -> Result<(S, SignatureField<'a>), JsonError> {
    walk_with::<S, true>(body, sink)
}

/// [`walk`], with (`FAST`) or without the fast path for common members;
/// the tests check that it never changes the outcome.
#[inline(always)]
fn walk_with<'a, S: ByteSink, const FAST: bool>(
    body: &'a [u8],
    sink: S,
) -> Result<(S, SignatureField<'a>), JsonError> {
    let mut reader = Reader::<FAST> {
        bytes: body,
        ascii_only: true,
    };
    let result = reader.document(sink);
    // The reader accepts non-ASCII bytes only inside strings, and noted
    // whether it saw any: validate UTF-8 when it did, and before reporting
    // any other error (an invalid body is reported as such, whatever else is
    // wrong with it, as if it had been checked first).
    if result.is_err() || !reader.ascii_only {
        if let Err(e) = core::str::from_utf8(body) {
            return Err(JsonError::InvalidUtf8 {
                offset: e.valid_up_to(),
            });
        }
    }
    result
}

/// A key of the canonical string: an object key (the contents of its
/// string literal, and whether they contain escapes) or a list index.
#[derive(Clone, Copy, Debug)]
enum Seg<'a> {
    Key(&'a [u8], bool),
    Index(usize),
}

impl<'a> Seg<'a> {
    /// Whether this key is `signature`, the one scalar key the algorithm skips.
    #[inline(always)]
    fn is_signature(self) -> bool {
        match self {
            Seg::Key(raw, false) => raw == b"signature",
            Seg::Key(raw, true) => unescaped_eq(raw, b"signature"),
            Seg::Index(_) => false,
        }
    }

    /// Writes the key as PHP prints it.
    #[inline(always)]
    fn write_to<S: ByteSink + ?Sized>(self, sink: &mut S) {
        match self {
            Seg::Key(raw, false) => sink.write(raw),
            Seg::Key(raw, true) => write_unescaped(raw, sink),
            Seg::Index(i) => sink.write(itoa::Buffer::new().format(i).as_bytes()),
        }
    }

    /// The key as the canonicalizer's segment, for error messages.
    fn segment(self) -> Segment<'a> {
        match self {
            // `Escaped` writes unescaped contents as they are.
            Seg::Key(raw, _) => Segment::Escaped(raw),
            Seg::Index(i) => Segment::Index(i),
        }
    }
}

/// The canonical string's writer for the raw walk: the sink and the current
/// prefix (`a.b.`), kept decoded on the stack.
struct Out<'a, S: ByteSink> {
    sink: S,
    prefix: Prefix<'a>,
}

impl<'a, S: ByteSink> Out<'a, S> {
    #[inline]
    fn new(sink: S) -> Self {
        Out {
            sink,
            prefix: Prefix::new(),
        }
    }

    /// Opens the nested object or list `key` (see `Canonicalizer::enter`).
    #[inline(always)]
    fn enter(&mut self, key: Seg<'a>) -> Result<(), JsonError> {
        let depth = self.prefix.depth() + 1;
        if depth >= MAX_DEPTH {
            // The enclosing levels put their keys in front (`JsonError::under`).
            return Err(JsonError::TooDeep {
                path: key.segment().to_string(),
                depth,
            });
        }
        // A plain key that fits the buffer inline; any other through `push`.
        match key {
            Seg::Key(raw, false) if self.prefix.push_plain(raw) => {}
            _ => self.prefix.push(key.segment()),
        }
        Ok(())
    }

    /// Closes the innermost nested object or list.
    #[inline]
    fn leave(&mut self) {
        self.prefix.pop();
    }

    /// Appends `prefix + key + value` for a scalar.
    #[inline(always)]
    fn scalar(&mut self, key: Seg<'_>, value: &[u8]) {
        self.write_prefix();
        match key {
            Seg::Key(raw, false) => self.sink.write_pair(raw, value),
            _ => {
                key.write_to(&mut self.sink);
                self.sink.write(value);
            }
        }
    }

    /// [`Out::scalar`] for a value at `value` in `body`, under a key whose
    /// contents (if it is an object key) start at `key_at` in `body`.
    #[inline(always)]
    fn scalar_within(&mut self, body: &[u8], key: Seg<'_>, key_at: usize, value: Range<usize>) {
        self.write_prefix();
        match key {
            Seg::Key(raw, false) => {
                self.sink
                    .write_pair_within(body, key_at..key_at + raw.len(), value)
            }
            _ => {
                key.write_to(&mut self.sink);
                self.sink.write(&body[value]);
            }
        }
    }

    /// `prefix + key + value` for a plain key and a value, both in `body`.
    #[inline(always)]
    fn pair_within(&mut self, body: &[u8], key: Range<usize>, value: Range<usize>) {
        self.write_prefix();
        self.sink.write_pair_within(body, key, value);
    }

    /// Like [`Out::scalar`], for a value that writes itself in pieces.
    #[inline(always)]
    fn scalar_with(&mut self, key: Seg<'_>, value: impl FnOnce(&mut S)) {
        self.write_prefix();
        key.write_to(&mut self.sink);
        value(&mut self.sink);
    }

    /// Writes the prefix of the current level (nothing at the top level).
    #[inline(always)]
    fn write_prefix(&mut self) {
        self.prefix.write_to(&mut self.sink);
    }
}

/// A key of the object being read, for duplicate detection.
#[derive(Clone, Copy)]
struct Key<'a> {
    /// The contents of the key's string literal.
    raw: &'a [u8],
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
    fn in_body(body: &[u8], start: usize, raw: &'a [u8], escaped: bool) -> Self {
        Key::with_head(raw, escaped, key_head(body, start, raw.len()))
    }

    /// `head`: the first eight bytes of `raw` (zero-padded) as a number.
    #[inline(always)]
    fn with_head(raw: &'a [u8], escaped: bool, head: u64) -> Self {
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
fn key_head(body: &[u8], start: usize, len: usize) -> u64 {
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
struct KeySet<'a> {
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
    fn new(body: &'a [u8], start: usize) -> Self {
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
    fn insert(&mut self, offset: usize, key: Key<'a>) -> bool {
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
const HEAD_MASKS: [u64; 16] = {
    let mut masks = [u64::MAX; 16];
    let mut n = 0;
    while n < 8 {
        masks[n] = (1 << (8 * n)) - 1;
        n += 1;
    }
    masks
};

/// Members of a nested object that [`Reader::flat_object`] takes at most.
const FLAT_OBJECT_MEMBERS: usize = 8;

/// A small flat nested object, checked by [`Reader::flat_object`].
struct FlatObject {
    /// Each member's key contents (start, end) and value text (start, end:
    /// a string's contents) in the body.
    members: [[u32; 4]; FLAT_OBJECT_MEMBERS],
    len: usize,
    /// The index after the object's `}`.
    end: usize,
}

/// Where [`Reader::members_fast`] stopped.
enum Fast {
    /// After the object's `}`.
    End(usize),
    /// At a member (its key's quote) for the general reader.
    Member(usize),
    /// After a member, at a separator for the general reader.
    Separator(usize),
}

/// The end of the plain scalar at `at` in `bytes`, whose first byte is
/// `first`: a string without escapes or non-ASCII bytes (the index after
/// its closing quote), or an integer that PHP prints as written. `None` for
/// any other value.
#[inline(always)]
fn plain_scalar(bytes: &[u8], at: usize, first: u8) -> Option<usize> {
    match first {
        b'"' => {
            let close = skip_plain(bytes, at + 1, true);
            (bytes.get(close) == Some(&b'"')).then_some(close + 1)
        }
        b'1'..=b'9' => {
            let mut i = at + 1;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            // Longer integers and fractions are printed as PHP floats.
            let plain = i - at <= 18 && !matches!(bytes.get(i), Some(b'.' | b'e' | b'E'));
            plain.then_some(i)
        }
        b'0' => {
            let plain = !matches!(bytes.get(at + 1), Some(b'0'..=b'9' | b'.' | b'e' | b'E'));
            plain.then_some(at + 1)
        }
        _ => None,
    }
}

/// The strict JSON reader. Positions are passed in and returned by value,
/// so the walk keeps them in registers; every method that reads a token
/// takes the index of its first byte and returns the index after it.
///
/// With `FAST`, members in the most common shape are read by
/// [`Reader::member_fast`]; without, every member goes through the general
/// [`Reader::member`] (used by the tests as the reference).
struct Reader<'a, const FAST: bool> {
    bytes: &'a [u8],
    /// True until the string scanner meets a non-ASCII byte (the body is
    /// then validated as UTF-8 once the walk is over).
    ascii_only: bool,
}

impl<'a, const FAST: bool> Reader<'a, FAST> {
    /// The byte at `i`, or 0 past the end: 0 is never valid where a token
    /// is expected, so running off the end takes the error path, which
    /// reports it as the end of input.
    #[inline(always)]
    fn at(&self, i: usize) -> u8 {
        self.bytes.get(i).copied().unwrap_or(0)
    }

    /// Skips whitespace from `i`.
    #[inline(always)]
    fn ws(&self, i: usize) -> usize {
        // Compact JSON has none: one test for the usual case.
        if self.at(i) > b' ' {
            i
        } else {
            self.ws_slow(i)
        }
    }

    #[inline(never)]
    fn ws_slow(&self, mut i: usize) -> usize {
        while let b' ' | b'\t' | b'\n' | b'\r' = self.at(i) {
            i += 1;
        }
        i
    }

    #[cold]
    fn syntax_at(&self, offset: usize, reason: &'static str) -> JsonError {
        let reason = if offset >= self.bytes.len() {
            "unexpected end of input"
        } else {
            reason
        };
        JsonError::Syntax { offset, reason }
    }

    /// The whole body: one object, surrounded by whitespace.
    #[inline(always)]
    fn document<S: ByteSink>(&mut self, sink: S) -> Result<(S, SignatureField<'a>), JsonError> {
        let pos = self.ws(0);
        match self.at(pos) {
            b'{' => {}
            b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                return Err(JsonError::NotAnObject)
            }
            _ if pos >= self.bytes.len() => {
                return Err(self.syntax_at(pos, "empty body; expected a JSON object"))
            }
            _ => return Err(self.syntax_at(pos, "expected a JSON object")),
        }
        let mut out = Out::new(sink);
        let mut signature = SignatureField::Missing;
        let end = self.object(pos + 1, &mut out, Some(&mut signature))?;
        let pos = self.ws(end);
        if pos < self.bytes.len() {
            return Err(self.syntax_at(pos, "trailing characters after the JSON object"));
        }
        Ok((out.sink, signature))
    }

    /// Reads the members of an object whose `{` is just before `pos`.
    /// `signature` is given for the top-level object only.
    fn object<S: ByteSink>(
        &mut self,
        pos: usize,
        out: &mut Out<'a, S>,
        mut signature: Option<&mut SignatureField<'a>>,
    ) -> Result<usize, JsonError> {
        let mut keys = KeySet::new(self.bytes, pos);
        let mut pos = self.ws(pos);
        if self.at(pos) == b'}' {
            return Ok(pos + 1);
        }
        loop {
            pos = match self.members_fast(pos, out, &mut keys, signature.as_deref_mut())? {
                Fast::End(end) => return Ok(end),
                Fast::Member(at) => self.member(at, out, &mut keys, signature.as_deref_mut())?,
                Fast::Separator(at) => at,
            };
            let mut next = self.at(pos);
            if next <= b' ' {
                pos = self.ws(pos);
                next = self.at(pos);
            }
            match next {
                b',' => {
                    pos = self.ws(pos + 1);
                    if self.at(pos) == b'}' {
                        return Err(self.syntax_at(pos, "trailing comma in object"));
                    }
                }
                b'}' => return Ok(pos + 1),
                _ => return Err(self.syntax_at(pos, "expected `,` or `}` after an object member")),
            }
        }
    }

    /// Reads members in their most common shape (see
    /// [`Reader::member_fast`]) and the plain `,` between them, from the
    /// key at `pos`, for as long as they come.
    #[inline(never)]
    fn members_fast<S: ByteSink>(
        &mut self,
        mut pos: usize,
        out: &mut Out<'a, S>,
        keys: &mut KeySet<'a>,
        mut signature: Option<&mut SignatureField<'a>>,
    ) -> Result<Fast, JsonError> {
        if self.bytes.get(pos) != Some(&b'"') {
            return Ok(Fast::Member(pos));
        }
        loop {
            // `pos` is at a quote: checked above, then by the separator.
            let Some(end) = self.member_fast(pos, out, keys, signature.as_deref_mut())? else {
                return Ok(Fast::Member(pos));
            };
            match self.bytes.get(end..end + 2) {
                Some(b",\"") => pos = end + 1,
                Some([b'}', ..]) => return Ok(Fast::End(end + 1)),
                _ if self.bytes.get(end) == Some(&b'}') => return Ok(Fast::End(end + 1)),
                _ => return Ok(Fast::Separator(end)),
            }
        }
    }

    /// Reads the member whose key's quote is at `pos` if it has its most
    /// common shape, with as few steps as possible: a plain key other than
    /// `signature`, `:` right after it, and right after that a plain
    /// string, a plain integer, or a small flat object (see
    /// [`Reader::flat_member`]). Anything else (or a repeated key) gives
    /// `Ok(None)` before anything is written or noted, and
    /// [`Reader::member`] reads the member again from `pos`, so every error
    /// comes from one place. Nothing here recurses.
    #[inline(always)]
    fn member_fast<S: ByteSink>(
        &mut self,
        pos: usize,
        out: &mut Out<'a, S>,
        keys: &mut KeySet<'a>,
        signature: Option<&mut SignatureField<'a>>,
    ) -> Result<Option<usize>, JsonError> {
        let bytes = self.bytes;
        // `pos` is at the key's quote. The scans below stop at non-ASCII
        // bytes too, leaving such strings to the general reader (which
        // notes them for the UTF-8 check).
        if !FAST {
            return Ok(None);
        }
        if let Some(window) = bytes.get(pos..).and_then(|rest| rest.first_chunk::<64>()) {
            let key = window[1..17].first_chunk::<16>().unwrap_or(&[0; 16]);
            let key_len = (stop_mask(key) | 1 << 16).trailing_zeros() as usize;
            if key_len < 16 {
                return self.member_in_window(pos, window, key_len, out, keys, signature);
            }
        }
        let start = pos + 1;
        let end = skip_plain(bytes, start, true);
        let Some(&[b'"', b':', first]) = bytes.get(end..).and_then(|rest| rest.first_chunk::<3>())
        else {
            return Ok(None);
        };
        let raw = &bytes[start..end];
        let at = end + 2;
        if raw == b"signature" {
            return Ok(self.signature_fast(start, at, keys, signature));
        }
        let value_end = match first {
            b'{' => {
                let key = Key::in_body(bytes, start, raw, false);
                return Ok(self.flat_member(at, out, keys, key, start));
            }
            _ => match plain_scalar(bytes, at, first) {
                Some(value_end) => value_end,
                None => return Ok(None),
            },
        };
        if !keys.insert(start, Key::in_body(bytes, start, raw, false)) {
            return Ok(None);
        }
        match first {
            b'"' => out.pair_within(bytes, start..end, at + 1..value_end - 1),
            _ => out.pair_within(bytes, start..end, at..value_end),
        }
        Ok(Some(value_end))
    }

    /// [`Reader::member_fast`] for a member whose key is shorter than 16
    /// bytes (`key_len`, up to the first byte that stops a scan), with the
    /// 64 bytes from its quote at `pos` in `window`. Everything up to a
    /// short value's end lies in the window, so it is read there without a
    /// bounds check per step; longer values are read from the body.
    #[inline(always)]
    fn member_in_window<S: ByteSink>(
        &mut self,
        pos: usize,
        window: &'a [u8; 64],
        key_len: usize,
        out: &mut Out<'a, S>,
        keys: &mut KeySet<'a>,
        signature: Option<&mut SignatureField<'a>>,
    ) -> Result<Option<usize>, JsonError> {
        // In the window: the key's contents at 1..quote, then `":`, then the
        // value from `quote + 2`.
        let quote = key_len + 1;
        let &[b'"', b':', first] = window[quote..].first_chunk::<3>().unwrap_or(&[0; 3]) else {
            return Ok(None);
        };
        let raw = &window[1..quote];
        let start = pos + 1;
        // The key's first eight bytes, zero-padded (its fingerprint's base).
        let head = u64::from_le_bytes(*window[1..9].first_chunk::<8>().unwrap_or(&[0; 8]))
            & HEAD_MASKS[key_len & 15];
        if head == u64::from_le_bytes(*b"signatur") && key_len == 9 && window[9] == b'e' {
            return Ok(self.signature_fast(start, pos + quote + 2, keys, signature));
        }
        let at = quote + 2;
        // The value's text (its contents for a string) and its end, in the
        // window.
        let (value, end) = match first {
            b'"' => {
                let text = window[at + 1..].first_chunk::<16>().unwrap_or(&[0; 16]);
                let hits = stop_mask(text);
                if hits == 0 {
                    // Longer than the window holds: read on in the body.
                    let close = skip_plain(self.bytes, pos + at + 17, true);
                    if self.bytes.get(close) != Some(&b'"') {
                        return Ok(None);
                    }
                    if !keys.insert(start, Key::with_head(raw, false, head)) {
                        return Ok(None);
                    }
                    out.pair_within(self.bytes, start..pos + quote, pos + at + 1..close);
                    return Ok(Some(close + 1));
                }
                let close = at + 1 + hits.trailing_zeros() as usize;
                if window.get(close) != Some(&b'"') {
                    return Ok(None);
                }
                (at + 1..close, close + 1)
            }
            // An integer that runs to the window's end is longer than PHP
            // prints as written, so the window's end is as good as the body's.
            b'0'..=b'9' => match plain_scalar(window, at, first) {
                Some(end) => (at..end, end),
                None => return Ok(None),
            },
            b'{' => {
                let key = Key::with_head(raw, false, head);
                return Ok(self.flat_member(pos + at, out, keys, key, start));
            }
            _ => return Ok(None),
        };
        if !keys.insert(start, Key::with_head(raw, false, head)) {
            return Ok(None);
        }
        out.pair_within(window, 1..quote, value);
        Ok(Some(pos + end))
    }

    /// A member whose value is the object at `open`, under the plain key
    /// `key` (contents at `key_at`): read here if it is a small flat one
    /// (see [`Reader::flat_object`]), else (`None`, nothing written or
    /// noted) left to the general reader, which recurses into it. The fast
    /// loop itself never recurses, so its frame is never on the stack twice.
    #[inline(always)]
    fn flat_member<S: ByteSink>(
        &self,
        open: usize,
        out: &mut Out<'a, S>,
        keys: &mut KeySet<'a>,
        key: Key<'a>,
        key_at: usize,
    ) -> Option<usize> {
        // One level too deep, a repeated key or any other object: the
        // general reader reports or reads it.
        if out.prefix.depth() + 1 >= MAX_DEPTH {
            return None;
        }
        let mut object = FlatObject {
            members: [[0; 4]; FLAT_OBJECT_MEMBERS],
            len: 0,
            end: 0,
        };
        self.flat_object(open, &mut object)?;
        if !keys.insert(key_at, key) {
            return None;
        }
        Some(self.write_flat(&object, out, key.raw, key_at))
    }

    /// Checks the nested object whose `{` is at `open` for the shape
    /// [`Reader::write_flat`] writes: small and flat, at most
    /// [`FLAT_OBJECT_MEMBERS`] members, each a plain key other than
    /// `signature`, `:` and a plain scalar (see [`plain_scalar`]),
    /// with a bare `,` between them and no key repeated. `None` for any
    /// other object, which the general reader then reads (so every error
    /// still comes from one place).
    ///
    /// Reading such objects here saves the recursion, and the key set, that
    /// a nested object otherwise costs: the keys are compared pairwise.
    ///
    /// Fills `object` in place (returned by value, it would be copied by a
    /// `memcpy` call).
    #[inline(always)]
    fn flat_object(&self, open: usize, object: &mut FlatObject) -> Option<()> {
        let bytes = self.bytes;
        // Positions are kept in 32 bits (a smaller record to set up).
        if bytes.len() > u32::MAX as usize {
            return None;
        }
        object.end = open + 2;
        // The keys' first eight bytes.
        let mut heads = [0u64; FLAT_OBJECT_MEMBERS];
        let mut pos = open + 1;
        if bytes.get(pos) == Some(&b'}') {
            return Some(());
        }
        loop {
            let n = object.len;
            if bytes.get(pos) != Some(&b'"') || n == FLAT_OBJECT_MEMBERS {
                return None;
            }
            let start = pos + 1;
            let key_end = skip_plain(bytes, start, true);
            let Some(&[b'"', b':', first]) = bytes.get(key_end..)?.first_chunk::<3>() else {
                return None;
            };
            let key = &bytes[start..key_end];
            if key == b"signature" {
                return None;
            }
            let at = key_end + 2;
            let value_end = plain_scalar(bytes, at, first)?;
            let head = key_head(bytes, start, key.len());
            for (&seen, &[seen_start, seen_end, ..]) in heads[..n].iter().zip(&object.members) {
                let seen_key = bytes.get(seen_start as usize..seen_end as usize);
                if seen == head && seen_key == Some(key) {
                    return None;
                }
            }
            let value = if first == b'"' {
                [at + 1, value_end - 1]
            } else {
                [at, value_end]
            };
            object.members[n] = [start, key_end, value[0], value[1]].map(|i| i as u32);
            heads[n] = head;
            object.len = n + 1;
            match bytes.get(value_end) {
                Some(b',') => pos = value_end + 1,
                Some(b'}') => {
                    object.end = value_end + 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Writes a nested object that [`Reader::flat_object`] checked, under
    /// the plain key `raw` (at `key_at` in the body). The caller has checked
    /// the new level against [`MAX_DEPTH`].
    #[inline(always)]
    fn write_flat<S: ByteSink>(
        &self,
        object: &FlatObject,
        out: &mut Out<'a, S>,
        raw: &'a [u8],
        key_at: usize,
    ) -> usize {
        let bytes = self.bytes;
        if !out
            .prefix
            .push_plain_within(bytes, key_at..key_at + raw.len())
        {
            out.prefix.push(Seg::Key(raw, false).segment());
        }
        for member in &object.members[..object.len] {
            let [start, key_end, value_start, value_end] = member.map(|i| i as usize);
            out.pair_within(bytes, start..key_end, value_start..value_end);
        }
        out.leave();
        object.end
    }

    /// [`Reader::member_fast`] for a plain `signature` key (contents at
    /// `start`) whose value at `at` is a plain string: not signed, and
    /// kept as the payload's signature at the top level (`signature`).
    #[inline(never)]
    fn signature_fast(
        &mut self,
        start: usize,
        at: usize,
        keys: &mut KeySet<'a>,
        signature: Option<&mut SignatureField<'a>>,
    ) -> Option<usize> {
        let bytes = self.bytes;
        if bytes.get(at) != Some(&b'"') {
            return None;
        }
        // The gateway's signatures are 128 hex digits: check that shape
        // in one pass, and scan for the end of anything else.
        let close = match bytes
            .get(at + 1..)
            .and_then(|rest| rest.first_chunk::<129>())
        {
            Some(text) if text[128] == b'"' && all_plain(text) => at + 129,
            _ => skip_plain(bytes, at + 1, true),
        };
        if bytes.get(close) != Some(&b'"') {
            return None;
        }
        let raw = &bytes[start..start + b"signature".len()];
        if !keys.insert(start, Key::in_body(bytes, start, raw, false)) {
            return None;
        }
        if let Some(field) = signature {
            *field = SignatureField::String(&bytes[at + 1..close], false);
        }
        Some(close + 1)
    }

    /// Reads one member at `pos` (whitespace before it skipped), whatever
    /// its shape; returns the index after its value. `signature` is given
    /// for the top-level object only.
    #[inline(never)]
    fn member<S: ByteSink>(
        &mut self,
        pos: usize,
        out: &mut Out<'a, S>,
        keys: &mut KeySet<'a>,
        signature: Option<&mut SignatureField<'a>>,
    ) -> Result<usize, JsonError> {
        {
            if self.at(pos) != b'"' {
                return Err(self.syntax_at(pos, "expected a string key"));
            }
            let start = pos + 1;
            let (end, escaped) = self.string(start)?;
            let raw = &self.bytes[start..end];
            if !keys.insert(start, Key::in_body(self.bytes, start, raw, escaped)) {
                return Err(JsonError::DuplicateKey {
                    path: Seg::Key(raw, escaped).segment().to_string(),
                });
            }
            let mut pos = end + 1;
            if self.at(pos) != b':' {
                pos = self.ws(pos);
                if self.at(pos) != b':' {
                    return Err(self.syntax_at(pos, "expected `:` after an object key"));
                }
            }
            pos = self.ws(pos + 1);
            let key = Seg::Key(raw, escaped);
            let skip = key.is_signature();
            match signature {
                Some(field) if skip => {
                    if self.at(pos) == b'"' {
                        // A `signature` string is not signed: just read it.
                        let (end, escaped) = self.string(pos + 1)?;
                        *field = SignatureField::String(&self.bytes[pos + 1..end], escaped);
                        Ok(end + 1)
                    } else {
                        *field = SignatureField::NotAString;
                        self.value(pos, out, key, start, skip)
                    }
                }
                _ => self.value(pos, out, key, start, skip),
            }
        }
    }

    /// Reads the items of a list whose `[` is just before `pos`.
    fn array<S: ByteSink>(&mut self, pos: usize, out: &mut Out<'a, S>) -> Result<usize, JsonError> {
        let mut pos = self.ws(pos);
        if self.at(pos) == b']' {
            return Ok(pos + 1);
        }
        let mut index = 0usize;
        loop {
            let end = self.value(pos, out, Seg::Index(index), 0, false)?;
            pos = self.ws(end);
            index += 1;
            match self.at(pos) {
                b',' => {
                    pos = self.ws(pos + 1);
                    if self.at(pos) == b']' {
                        return Err(self.syntax_at(pos, "trailing comma in list"));
                    }
                }
                b']' => return Ok(pos + 1),
                _ => return Err(self.syntax_at(pos, "expected `,` or `]` after a list item")),
            }
        }
    }

    /// Reads one value at `pos` (whitespace before it already skipped)
    /// under `key`; a scalar is not written if `skip` (its key is
    /// `signature`).
    ///
    /// Recursion into nested objects and lists happens only after
    /// [`Out::enter`] accepted the new level, so it is bounded by
    /// [`MAX_DEPTH`] whatever the input.
    #[inline(always)]
    fn value<S: ByteSink>(
        &mut self,
        pos: usize,
        out: &mut Out<'a, S>,
        key: Seg<'a>,
        key_at: usize,
        skip: bool,
    ) -> Result<usize, JsonError> {
        match self.at(pos) {
            b'"' => {
                let (end, escaped) = self.string(pos + 1)?;
                if !skip {
                    if escaped {
                        let raw = &self.bytes[pos + 1..end];
                        out.scalar_with(key, |sink| write_unescaped(raw, sink));
                    } else {
                        out.scalar_within(self.bytes, key, key_at, pos + 1..end);
                    }
                }
                Ok(end + 1)
            }
            b'-' | b'0'..=b'9' => {
                let (end, plain) = self.number(pos)?;
                if !skip {
                    if plain {
                        out.scalar_within(self.bytes, key, key_at, pos..end);
                    } else {
                        let raw = &self.bytes[pos..end];
                        out.scalar_with(key, |sink| write_php_json_number(raw, sink));
                    }
                }
                Ok(end)
            }
            b'{' => {
                out.enter(key)?;
                let end = self.object(pos + 1, out, None).map_err(|e| e.under(key))?;
                out.leave();
                Ok(end)
            }
            b'[' => {
                out.enter(key)?;
                let end = self.array(pos + 1, out).map_err(|e| e.under(key))?;
                out.leave();
                Ok(end)
            }
            b't' => self.literal(pos, b"true", b"1", out, key, skip),
            b'f' => self.literal(pos, b"false", b"", out, key, skip),
            b'n' => self.literal(pos, b"null", b"", out, key, skip),
            _ => Err(self.syntax_at(pos, "expected a JSON value")),
        }
    }

    /// Reads the literal `word` at `pos`, which PHP prints as `printed`.
    fn literal<S: ByteSink>(
        &self,
        pos: usize,
        word: &'static [u8],
        printed: &'static [u8],
        out: &mut Out<'a, S>,
        key: Seg<'_>,
        skip: bool,
    ) -> Result<usize, JsonError> {
        if !self.bytes[pos..].starts_with(word) {
            return Err(self.syntax_at(pos, "invalid literal (expected true, false or null)"));
        }
        if !skip {
            out.scalar(key, printed);
        }
        Ok(pos + word.len())
    }

    /// Reads the contents of a string literal starting at `start` (after
    /// the opening quote); returns the index of the closing quote and
    /// whether the contents contain escapes.
    #[inline(always)]
    fn string(&mut self, start: usize) -> Result<(usize, bool), JsonError> {
        let i = skip_plain(self.bytes, start, self.ascii_only);
        if self.at(i) == b'"' {
            return Ok((i, false));
        }
        self.string_slow(i)
    }

    /// The rest of a string literal after its first non-plain byte at `i`.
    #[inline(never)]
    fn string_slow(&mut self, mut i: usize) -> Result<(usize, bool), JsonError> {
        let mut escaped = false;
        loop {
            match self.bytes.get(i) {
                Some(b'"') => return Ok((i, escaped)),
                Some(b'\\') => {
                    escaped = true;
                    i = self.escape(i)?;
                }
                Some(0x00..=0x1f) => {
                    return Err(self.syntax_at(i, "control character in string (must be escaped)"))
                }
                Some(0x80..) => {
                    // Checked as UTF-8 once the walk is over.
                    self.ascii_only = false;
                    i += 1;
                }
                Some(_) => i += 1,
                None => return Err(self.syntax_at(i, "unterminated string")),
            }
            i = skip_plain(self.bytes, i, self.ascii_only);
        }
    }

    /// Validates the escape at `i` (a backslash); returns the index after it.
    fn escape(&self, i: usize) -> Result<usize, JsonError> {
        match self.bytes.get(i + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(i + 2),
            Some(b'u') => {
                let Some(unit) = hex4(self.bytes.get(i + 2..i + 6)) else {
                    return Err(self.syntax_at(i, "invalid \\u escape (expected four hex digits)"));
                };
                if (0xDC00..0xE000).contains(&unit) {
                    return Err(self.syntax_at(i, "unpaired UTF-16 low surrogate in \\u escape"));
                }
                if (0xD800..0xDC00).contains(&unit) {
                    let paired = self.bytes.get(i + 6..i + 8) == Some(b"\\u")
                        && hex4(self.bytes.get(i + 8..i + 12))
                            .is_some_and(|low| (0xDC00..0xE000).contains(&low));
                    if !paired {
                        return Err(
                            self.syntax_at(i, "unpaired UTF-16 high surrogate in \\u escape")
                        );
                    }
                    return Ok(i + 12);
                }
                Ok(i + 6)
            }
            Some(_) => Err(self.syntax_at(i, "invalid escape in string")),
            None => Err(self.syntax_at(i + 1, "unterminated string")),
        }
    }

    /// Reads a number token (RFC 8259 grammar) at `start`; returns the
    /// index after it and whether PHP prints it exactly as sent: an integer
    /// with no fraction or exponent, not `-0`, and short enough to fit in
    /// an i64.
    #[inline(always)]
    fn number(&self, start: usize) -> Result<(usize, bool), JsonError> {
        let negative = self.at(start) == b'-';
        let int_start = start + usize::from(negative);
        let mut i = int_start;
        match self.at(i) {
            b'0' => {
                i += 1;
                if self.at(i).is_ascii_digit() {
                    return Err(self.syntax_at(i, "leading zeros are not allowed in numbers"));
                }
            }
            b'1'..=b'9' => {
                i += 1;
                while self.at(i).is_ascii_digit() {
                    i += 1;
                }
            }
            _ => return Err(self.syntax_at(i, "expected a digit")),
        }
        if let b'.' | b'e' | b'E' = self.at(i) {
            return self.number_tail(i);
        }
        let plain = i - int_start <= 18 && !(negative && self.at(int_start) == b'0');
        Ok((i, plain))
    }

    /// The fraction and exponent of a number token from `i`.
    #[inline(never)]
    fn number_tail(&self, mut i: usize) -> Result<(usize, bool), JsonError> {
        if self.at(i) == b'.' {
            i += 1;
            if !self.at(i).is_ascii_digit() {
                return Err(self.syntax_at(i, "expected a digit after the decimal point"));
            }
            while self.at(i).is_ascii_digit() {
                i += 1;
            }
        }
        if let b'e' | b'E' = self.at(i) {
            i += 1;
            if let b'+' | b'-' = self.at(i) {
                i += 1;
            }
            if !self.at(i).is_ascii_digit() {
                return Err(self.syntax_at(i, "expected a digit in the exponent"));
            }
            while self.at(i).is_ascii_digit() {
                i += 1;
            }
        }
        Ok((i, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mutations of typical and unusual bodies: byte deletions, flips,
    /// insertions of JSON-significant pieces and copied segments.
    fn mutated_bodies(per_base: usize) -> impl Iterator<Item = Vec<u8>> {
        let sig = "0123456789abcdef".repeat(8);
        let bases: Vec<String> = vec![
            String::from(r#"{"merchant_id":"e0fecd91fcb24f348048193b3fb34875ba3722b4","operation_type":17,"customer_id":"2250705145655","amount":1100,"order_id":"order_16280954971628","transaction_id":"1234567","status":2,"destination_id":"","result":{"code":0,"message":"OK"},"provider_result":{"code":0,"message":"OK"},"service_version":"1.03/1.14|1.0/1.26||1.01/1.27","service_date_time":"2020-11-25 10:08:32.832969","signature":"SIG"}"#).replace("SIG", &sig),
            r#"{ "a" : [1, 2.5, -0, 1e3, true, false, null, "x\u00e9\n", {"b": [ ]}, {}] , "signature" : {"c": "d"}, "k\u0061y": "v\/w", "é": "ü" }"#.into(),
            r#"{"a":{"b":{"c":{"d":[[[["x"]]]]}}},"signature":"AB\u0063","n":12345678901234567890,"f":0.1,"e":-1.5E-7}"#.into(),
            r#"{"x":"0123456789abcdef0123456789abcdef","y":"\ud83d\ude00","z":"\"q\" \\ b","signature":5,"s":{"signature":"x","t":1}}"#.into(),
            format!(
                "{{{}}}",
                (0..40)
                    .map(|i| format!(r#""k{i}":{i}"#))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            r#"{"K":{"Kx":{"Ky":{"z":1,"w":"v"},"q":2},"r":[1,{"s":3}]},"t":4}"#
                .replace('K', &"k".repeat(70)),
            r#"{"x\u0041K":{"K\n":{"c":[{"K":1}]}}}"#.replace('K', &"k".repeat(70)),
            r#"{"a":{"x":"1","y":2,"z":"q","w":0,"v":"","u":10,"t":"s","s":3},"b":{},"e":{"signature":"s","f":1},"g":{"h":1.5,"k":"\u0041"},"i":{"j":{"k":1}},"l":{"m":"n","n":"m"},"p":{"a1":1,"a2":2,"a3":3,"a4":4,"a5":5,"a6":6,"a7":7,"a8":8,"a9":9}}"#.into(),
            format!("{}1{}", r#"{"a":"#.repeat(15), "}".repeat(15)),
            format!("{}{{}}{}", r#"{"a":"#.repeat(15), "}".repeat(15)),
            format!("{}{{\"b\":1}}{}", r#"{"a":"#.repeat(14), "}".repeat(14)),
            format!("{}1{}", r#"{"b":["#.repeat(8), "]}".repeat(8)),
        ];
        let pieces: &[&[u8]] = &[
            b"\"",
            b"\\",
            b"{",
            b"}",
            b"[",
            b"]",
            b",",
            b":",
            b" ",
            b"\n",
            b"0",
            b"-",
            b"1e",
            b".",
            b"\\u00",
            b"\\ud83d",
            b"\xc3\xa9",
            b"\xff",
            b"\x01",
            b"true",
            b"nul",
            b"\"a\":1,",
            b"\"signature\"",
            b"\"a\"",
            b"{\"a\":{\"b\":1}}",
            b"[1,[2]]",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        bases.into_iter().flat_map(move |base| {
            let base = base.into_bytes();
            (0..per_base)
                .map(|_| {
                    let mut body = base.clone();
                    for _ in 0..(next() % 4 + 1) {
                        let at = (next() as usize) % (body.len() + 1);
                        match next() % 5 {
                            0 if !body.is_empty() => {
                                body.remove(at.min(body.len() - 1));
                            }
                            1 if !body.is_empty() => {
                                let at = at.min(body.len() - 1);
                                body[at] = (next() >> 8) as u8;
                            }
                            2 => {
                                let piece = pieces[(next() as usize) % pieces.len()];
                                body.splice(at..at, piece.iter().copied());
                            }
                            3 if !body.is_empty() => {
                                let at = at.min(body.len() - 1);
                                let len = ((next() as usize) % 20).min(body.len() - at);
                                let segment = body[at..at + len].to_vec();
                                let to = (next() as usize) % (body.len() + 1);
                                body.splice(to..to, segment);
                            }
                            _ => {}
                        }
                    }
                    body
                })
                .collect::<Vec<_>>()
        })
    }

    #[test]
    fn the_fast_path_never_changes_the_outcome() {
        let (mut cases, mut valid) = (0, 0);
        for body in mutated_bodies(4_000) {
            let fast = walk_with::<_, true>(&body, Vec::new());
            let general = walk_with::<_, false>(&body, Vec::new());
            let shown = String::from_utf8_lossy(&body);
            match (&fast, &general) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{shown}"),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{shown}"),
                _ => panic!(
                    "{:?} vs {:?} on {shown}",
                    fast.map(|_| ()),
                    general.map(|_| ())
                ),
            }
            cases += 1;
            valid += usize::from(fast.is_ok());
        }
        // The mutations keep a fair share of bodies valid, so both
        // outcomes are compared often.
        assert!(valid * 10 > cases, "{valid} of {cases} valid");
    }

    const SEED_SECRET: &str = "cf11635572c1e8d77297207152dc0791ad91f22b32d23c758ce3ba2637202ad8f7290ba41f2243cccf32edde1dfb8bf0f5dea62525309e293b3adb2c76eed6a5";

    fn canonical(body: &str) -> Result<String, JsonError> {
        let (out, _) = canonical_json(body.as_bytes(), Vec::new())?;
        Ok(String::from_utf8(out).unwrap())
    }

    fn ok(body: &str) -> String {
        canonical(body).unwrap_or_else(|e| panic!("{body}: {e}"))
    }

    fn syntax_error(body: &[u8]) -> &'static str {
        match canonical_json(body, Vec::new()) {
            Err(JsonError::Syntax { reason, .. }) => reason,
            other => panic!(
                "{:?}: expected a syntax error, got {other:?}",
                String::from_utf8_lossy(body)
            ),
        }
    }

    fn key() -> SigningKey {
        SigningKey::from_bytes(SEED_SECRET.as_bytes())
    }

    /// The walk recurses once per nesting level, up to [`MAX_DEPTH`]; its
    /// frames must fit the 2 MiB stack that std and tokio give spawned
    /// threads, in debug builds too (where inlined helpers do not share
    /// stack slots: the fast loop's frame alone is tens of KiB there, which
    /// is why it never recurses).
    #[test]
    fn the_deepest_bodies_fit_a_small_stack() {
        let levels = MAX_DEPTH - 1;
        let bodies = [
            format!("{}1{}", r#"{"a":"#.repeat(levels), "}".repeat(levels)),
            format!(
                "{}{}{}",
                r#"{"a":"#.repeat(levels),
                r#"{"b":1}"#,
                "}".repeat(levels)
            ),
            format!(
                r#"{{"a":{}1{}}}"#,
                "[".repeat(levels - 1),
                "]".repeat(levels - 1)
            ),
            format!(
                "{}{{}}{}",
                r#"{"a":"#.repeat(levels + 1),
                "}".repeat(levels + 1)
            ),
        ];
        let outcomes = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                bodies.map(|body| {
                    // Through the MAC too: its sink inlines into the walk.
                    let signed = sign_json(&key(), body.as_bytes()).map_err(|e| e.to_string());
                    let canonical = canonical(&body).map_err(|e| e.to_string());
                    assert_eq!(signed.is_ok(), canonical.is_ok(), "{body}");
                    canonical
                })
            })
            .expect("a thread")
            .join()
            .expect("no stack overflow");
        assert_eq!(
            outcomes[0].as_deref(),
            Ok(format!("{}a1", "a.".repeat(levels - 1)).as_str())
        );
        assert_eq!(
            outcomes[1].as_deref(),
            Ok(format!("{}b1", "a.".repeat(levels)).as_str())
        );
        assert_eq!(
            outcomes[2].as_deref(),
            Ok(format!("a.{}01", "0.".repeat(levels - 2)).as_str())
        );
        assert!(
            outcomes[3]
                .as_ref()
                .is_err_and(|e| e.contains("levels deep")),
            "{outcomes:?}"
        );
    }

    #[test]
    fn seed_002_example_matches_openssl() {
        let body = br#"{"merchant_id":"fffed61be9780b97c5e4c65e4e07bb6b","provider_id":10,"client_id":"254000000000","country":"KE","order_id":"order_3444298767545","amount":1000,"currency":"KES","callback_url":"https://my.callback.url"}"#;
        let (canon, sig) = canonical_json(body, Vec::new()).unwrap();
        assert_eq!(
            String::from_utf8(canon).unwrap(),
            "merchant_idfffed61be9780b97c5e4c65e4e07bb6bprovider_id10client_id254000000000countryKEorder_idorder_3444298767545amount1000currencyKEScallback_urlhttps://my.callback.url"
        );
        assert_eq!(sig, None);
        // printf '%s' "<canonical>" | openssl dgst -sha512 -hmac "<secret>"
        assert_eq!(
            sign_json(&key(), body).unwrap().to_string(),
            "a724c9ebe2b15fca52cf5ad427164db7acef0f7c3f4ea1b3c8a3d07706ac4c2e6d0125a452d86e220f5c21686f6239434a490279e61641d33de5fb213e4ef8f2"
        );
    }

    #[test]
    fn scalars_render_like_php() {
        assert_eq!(
            ok(r#"{"s":"x","t":true,"f":false,"n":null,"i":-12}"#),
            "sxt1fni-12"
        );
        assert_eq!(ok(r#"{"z":-0,"zf":-0.0,"e":-0e0}"#), "z0zf-0e-0");
        assert_eq!(
            ok(r#"{"a":100.10,"b":"100.10","c":100.0,"d":1e3}"#),
            "a100.1b100.10c100d1000"
        );
        assert_eq!(
            ok(r#"{"a":1e25,"b":1.5e-7,"c":0.0001,"d":0.00001}"#),
            "a1.0E+25b1.5E-7c0.0001d1.0E-5"
        );
        assert_eq!(ok(r#"{"a":1e400,"b":-1e400,"c":2e-400}"#), "aINFb-INFc0");
        assert_eq!(
            ok(r#"{"max":9223372036854775807,"min":-9223372036854775808,"over":9223372036854775808,"under":-9223372036854775809}"#),
            "max9223372036854775807min-9223372036854775808over9.2233720368548E+18under-9.2233720368548E+18"
        );
        assert_eq!(
            ok(r#"{"big":123456789012345678901234567890}"#),
            "big1.2345678901235E+29"
        );
        assert_eq!(
            ok(r#"{"a":0,"b":123456789012345678}"#),
            "a0b123456789012345678"
        );
    }

    #[test]
    fn strings_and_keys_are_decoded() {
        assert_eq!(
            ok(
                r#"{"e":"caf\u00e9","q":"say \"hi\"","sl":"a\/b","emoji":"\uD83D\uDE00","raw":"日本"}"#
            ),
            "ecaféqsay \"hi\"sla/bemoji😀raw日本"
        );
        assert_eq!(ok(r#"{"a\"b":"1","\u00e9":{"t\tk":"2"}}"#), "a\"b1é.t\tk2");
        assert_eq!(ok(r#"{"":"v","x":{"":"w"}}"#), "vx.w");
    }

    #[test]
    fn nesting_uses_dotted_prefixes_and_indexes() {
        assert_eq!(
            ok(
                r#"{"items":[{"sku":"A1","qty":2},{"sku":"B2","qty":1}],"m":[[1,2],[3,[4]]],"e":{},"l":[]}"#
            ),
            "items.0.skuA1items.0.qty2items.1.skuB2items.1.qty1m.0.01m.0.12m.1.03m.1.1.04"
        );
    }

    #[test]
    fn whitespace_around_tokens_is_ignored() {
        assert_eq!(
            ok(" \t\r\n{ \"a\" :\"1\" ,\r\n\"n\":{ \"x\" : 1 , \"y\" : [ true , null ] } , \"f\" : 1.5 }\n "),
            "a1n.x1n.y.01n.y.1f1.5"
        );
    }

    #[test]
    fn signature_scalars_are_skipped_but_signature_containers_are_not() {
        assert_eq!(
            ok(r#"{"signature":"abc","a":"1","extra":{"signature":"z","o":"1"}}"#),
            "a1extra.o1"
        );
        assert_eq!(
            ok(r#"{"a":"1","signature":{"x":"1","signature":"s"}}"#),
            "a1signature.x1"
        );
        assert_eq!(
            ok(r#"{"a":"1","signature":["p","q"]}"#),
            "a1signature.0psignature.1q"
        );
        assert_eq!(
            ok(r#"{"a":"1","signature":12,"Signature":"k"}"#),
            "a1Signaturek"
        );
        assert_eq!(ok(r#"{"signatur\u0065":"x","a":"1"}"#), "a1");
    }

    #[test]
    fn top_level_signature_location_is_reported() {
        let body = br#"{"a":"1","signature":"ab\u0063d"}"#;
        let (_, sig) = canonical_json(body, Vec::new()).unwrap();
        assert_eq!(sig, Some(&br"ab\u0063d"[..]));
        let (_, sig) = canonical_json(br#"{"x":{"signature":"n"}}"#, Vec::new()).unwrap();
        assert_eq!(sig, None);
        let (_, sig) = canonical_json(br#"{"signature":7}"#, Vec::new()).unwrap();
        assert_eq!(sig, None);
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let dup = |body: &str| match canonical(body) {
            Err(JsonError::DuplicateKey { path }) => path,
            other => panic!("{body}: {other:?}"),
        };
        assert_eq!(dup(r#"{"a":"1","b":"2","a":"3"}"#), "a");
        assert_eq!(dup(r#"{"a":"1","\u0061":"3"}"#), "a");
        assert_eq!(dup(r#"{"\u0061":"1","a":"3"}"#), "a");
        assert_eq!(dup(r#"{"\u0061b":"1","a\u0062":"3"}"#), "ab");
        assert_eq!(dup(r#"{"x":{"k":"1","k":"2"},"y":"z"}"#), "x.k");
        assert_eq!(dup(r#"{"l":[{"k":1},{"k":1,"k":2}]}"#), "l.1.k");
        assert_eq!(
            dup(r#"{"signature":"x","a":"1","signature":{"s":"2"}}"#),
            "signature"
        );
        assert_eq!(dup(r#"{"a":"1","b":"2","a":{"c":"3"}}"#), "a");
        // Distinct keys that merely look alike are fine.
        assert_eq!(
            ok(r#"{"a":"1","A":"2","a ":"3","\u00e9":"4","é ":"5"}"#),
            "a1A2a 3é4é 5"
        );
        assert_eq!(ok(r#"{"x":{"k":"1"},"y":{"k":"2"}}"#), "x.k1y.k2");
    }

    #[test]
    fn duplicate_keys_are_found_beyond_the_inline_capacity() {
        let mut body = String::from("{");
        for i in 0..100 {
            body.push_str(&format!("\"k{i}\":{i},"));
        }
        body.push_str("\"k\\u0030\":0}");
        assert_eq!(
            canonical(&body),
            Err(JsonError::DuplicateKey { path: "k0".into() })
        );
        let mut body = String::from("{");
        for i in 0..100 {
            body.push_str(&format!("\"k{i}\":{i},"));
        }
        body.push_str("\"k99\":0}");
        assert_eq!(
            canonical(&body),
            Err(JsonError::DuplicateKey { path: "k99".into() })
        );
        let mut body = String::from("{");
        for i in 0..100 {
            body.push_str(&format!("\"k\\u00e9{i}\":{i},"));
        }
        body.push_str("\"last\":0}");
        assert!(canonical(&body).is_ok());
    }

    fn nested(levels: usize, open: &str, inner: &str, close: &str) -> String {
        format!(
            "{{\"top\":\"t\",\"a\":{}{}{}}}",
            open.repeat(levels),
            inner,
            close.repeat(levels)
        )
    }

    #[test]
    fn depth_fifteen_is_accepted_and_sixteen_rejected() {
        // "a" is level 1; 14 more objects put the leaf's object at level 15.
        let mut body = String::from("{\"top\":\"t\"");
        body.push_str(",\"a\":{");
        for _ in 0..14 {
            body.push_str("\"a\":{");
        }
        body.push_str("\"leaf\":\"v\"");
        body.push_str(&"}".repeat(15));
        body.push('}');
        assert_eq!(ok(&body), format!("topt{}leafv", "a.".repeat(15)));

        let mut deep = String::from("{\"top\":\"t\",\"a\":{");
        for _ in 0..15 {
            deep.push_str("\"a\":{");
        }
        deep.push_str("\"leaf\":\"v\"");
        deep.push_str(&"}".repeat(17));
        match canonical(&deep) {
            Err(JsonError::TooDeep { path, depth }) => {
                assert_eq!(depth, 16);
                assert_eq!(path, format!("a{}", ".a".repeat(15)));
            }
            other => panic!("{other:?}"),
        }

        // An empty container at level 16 is rejected too, like the PHP does.
        assert!(ok(&nested(14, "[", "[]", "]")).starts_with("topt"));
        assert!(matches!(
            canonical(&nested(15, "[", "[]", "]")),
            Err(JsonError::TooDeep { depth: 16, .. })
        ));
        assert_eq!(
            ok(&nested(14, "[", "[\"v\"]", "]")),
            format!("topta.{}0v", "0.".repeat(14))
        );
    }

    #[test]
    fn a_hundred_thousand_brackets_fail_at_level_sixteen() {
        let mut body = String::from("{\"a\":");
        body.push_str(&"[".repeat(100_000));
        assert!(matches!(
            canonical(&body),
            Err(JsonError::TooDeep { depth: 16, .. })
        ));
        let body = "{".repeat(100_000);
        assert!(canonical(&body).is_err());
        let body = "[".repeat(100_000);
        assert_eq!(canonical(&body), Err(JsonError::NotAnObject));
        let mut body = String::from("{\"a\":");
        body.push_str(&"{\"a\":".repeat(100_000));
        assert!(matches!(
            canonical(&body),
            Err(JsonError::TooDeep { depth: 16, .. })
        ));
    }

    #[test]
    fn invalid_utf8_is_rejected() {
        assert_eq!(
            canonical_json(b"{\"a\":\"\xff\"}", Vec::new()).unwrap_err(),
            JsonError::InvalidUtf8 { offset: 6 }
        );
        // Overlong encoding, encoded surrogate, truncated sequence, in a key.
        for body in [
            &b"{\"a\":\"\xc0\xaf\"}"[..],
            b"{\"a\":\"\xed\xa0\x80\"}",
            b"{\"\xe6\x97\":1}",
            b"{\"a\":1}\xff",
        ] {
            assert!(matches!(
                canonical_json(body, Vec::new()),
                Err(JsonError::InvalidUtf8 { .. })
            ));
        }
    }

    #[test]
    fn lone_surrogates_are_rejected() {
        assert!(syntax_error(br#"{"a":"\ud800"}"#).contains("surrogate"));
        assert!(syntax_error(br#"{"a":"\ud800x"}"#).contains("surrogate"));
        assert!(syntax_error(br#"{"a":"\ud800\u0041"}"#).contains("surrogate"));
        assert!(syntax_error(br#"{"a":"\ud800\ud800"}"#).contains("surrogate"));
        assert!(syntax_error(br#"{"a":"\udc00"}"#).contains("surrogate"));
        assert!(syntax_error(br#"{"\ude00":"1"}"#).contains("surrogate"));
        assert!(syntax_error(br#"{"a":"x\uDBFF"}"#).contains("surrogate"));
        assert_eq!(ok(r#"{"a":"\udbff\udfff"}"#), "a\u{10FFFF}");
    }

    #[test]
    fn malformed_json_is_rejected() {
        let cases: &[&[u8]] = &[
            b"",
            b"   ",
            b"{",
            b"{\"a\":\"1\"",
            b"{\"a\":\"1\",}",
            b"{\"a\":[1,2,]}",
            b"{,}",
            b"{\"a\":}",
            b"{\"a\" \"1\"}",
            b"{\"a\":\"1\" \"b\":\"2\"}",
            b"{'a':'1'}",
            b"{a:1}",
            b"{\"a\":01}",
            b"{\"a\":-01}",
            b"{\"a\":1.}",
            b"{\"a\":.5}",
            b"{\"a\":+1}",
            b"{\"a\":1e}",
            b"{\"a\":1e+}",
            b"{\"a\":-}",
            b"{\"a\":0x10}",
            b"{\"a\":NaN}",
            b"{\"a\":Infinity}",
            b"{\"a\":-Infinity}",
            b"{\"a\":tru}",
            b"{\"a\":nul}",
            b"{\"a\":True}",
            b"{\"a\":\"1\"} x",
            b"{\"a\":\"1\"}{}",
            b"{\"a\":\"1\"}}",
            b"\xef\xbb\xbf{\"a\":\"1\"}",
            b"{\"a\":\"tab\there\"}",
            b"{\"a\":\"nl\nhere\"}",
            b"{\"a\":\"nul\x00\"}",
            b"{\"a\":\"bad \\x escape\"}",
            b"{\"a\":\"bad \\u12 escape\"}",
            b"{\"a\":\"bad \\u12G4 escape\"}",
            b"{\"a\":\"unterminated \\",
            b"{\"a\":[1 2]}",
            b"{\"a\":\"1\"]",
            b"{\"a\":[1}",
            b"{\"a\"\x0c:1}",
            b"{\"a\":1}\x00",
        ];
        for body in cases {
            let _ = syntax_error(body);
        }
    }

    #[test]
    fn non_object_top_levels_are_rejected() {
        for body in [
            "[]", "[1,2]", "\"s\"", "42", "-1", "true", "false", "null", " [ ] ",
        ] {
            assert_eq!(canonical(body), Err(JsonError::NotAnObject), "{body}");
        }
    }

    #[test]
    fn errors_say_where_and_why() {
        let err = canonical("{\"a\":01}").unwrap_err();
        assert_eq!(
            err,
            JsonError::Syntax {
                offset: 6,
                reason: "leading zeros are not allowed in numbers"
            }
        );
        assert_eq!(
            err.to_string(),
            "invalid JSON at byte 6: leading zeros are not allowed in numbers"
        );
        let err = canonical("{\"a\":\"1\"").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid JSON at byte 8: unexpected end of input"
        );
        let err: Box<dyn std::error::Error> = Box::new(VerifyError::from(JsonError::NotAnObject));
        assert_eq!(err.to_string(), "the payload must be a JSON object");
    }

    fn signed(body_without_sig: &str) -> String {
        let sig = sign_json(&key(), body_without_sig.as_bytes()).unwrap();
        let trimmed = body_without_sig.trim_end().strip_suffix('}').unwrap();
        format!("{trimmed},\"signature\":\"{sig}\"}}")
    }

    #[test]
    fn verification_accepts_a_correct_signature() {
        let body = signed(r#"{"a":"1","extra":{"otp":"7374","signature":"ignored"},"n":1.5}"#);
        assert_eq!(verify_json(&key(), body.as_bytes()), Ok(()));
        // The signature may come first, and in upper case.
        let sig = sign_json(&key(), br#"{"a":"1"}"#)
            .unwrap()
            .to_string()
            .to_uppercase();
        let body = format!("{{\"signature\":\"{sig}\",\"a\":\"1\"}}");
        assert_eq!(verify_json(&key(), body.as_bytes()), Ok(()));
        // Escaped hex still decodes to the signature.
        let sig = sign_json(&key(), br#"{"a":"1"}"#).unwrap().to_string();
        let body = format!(
            "{{\"a\":\"1\",\"signature\":\"\\u00{:x}{}\"}}",
            sig.as_bytes()[0],
            &sig[1..]
        );
        assert!(body.contains("\\u00"));
        assert_eq!(verify_json(&key(), body.as_bytes()), Ok(()));
    }

    #[test]
    fn verification_rejects_tampering() {
        let body = signed(r#"{"a":"1","amount":"100.00"}"#);
        let tampered = body.replace("100.00", "900.00");
        assert_eq!(
            verify_json(&key(), tampered.as_bytes()),
            Err(VerifyError::Mismatch)
        );
        let other_key = SigningKey::from_bytes(b"another key");
        assert_eq!(
            verify_json(&other_key, body.as_bytes()),
            Err(VerifyError::Mismatch)
        );
        // A number where the string was signed changes the payload too.
        let retyped = signed(r#"{"amount":"100.00"}"#).replace("\"100.00\"", "100.00");
        assert_eq!(
            verify_json(&key(), retyped.as_bytes()),
            Err(VerifyError::Mismatch)
        );
        let short = r#"{"a":"1","signature":"abc"}"#;
        assert_eq!(
            verify_json(&key(), short.as_bytes()),
            Err(VerifyError::Mismatch)
        );
        let long = format!(
            "{{\"a\":\"1\",\"signature\":\"{}\"}}",
            "\\u0030".repeat(200)
        );
        assert_eq!(
            verify_json(&key(), long.as_bytes()),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn verification_needs_a_string_signature() {
        assert_eq!(
            verify_json(&key(), br#"{"a":"1"}"#),
            Err(VerifyError::MissingSignature)
        );
        assert_eq!(
            verify_json(&key(), br#"{"a":"1","x":{"signature":"nested"}}"#),
            Err(VerifyError::MissingSignature)
        );
        for sig in ["null", "12", "true", "{\"x\":\"1\"}", "[\"a\"]"] {
            let body = format!("{{\"a\":\"1\",\"signature\":{sig}}}");
            assert_eq!(
                verify_json(&key(), body.as_bytes()),
                Err(VerifyError::SignatureNotAString),
                "{body}"
            );
        }
        let body = signed(r#"{"a":"1"}"#);
        let twice = body.replace("\"a\":\"1\"", "\"signature\":\"x\",\"a\":\"1\"");
        assert_eq!(
            verify_json(&key(), twice.as_bytes()),
            Err(VerifyError::Json(JsonError::DuplicateKey {
                path: "signature".into()
            }))
        );
        assert!(matches!(
            verify_json(&key(), b"{\"a\":"),
            Err(VerifyError::Json(JsonError::Syntax { .. }))
        ));
    }
}
