//! Signing and verifying received JSON payloads straight from their bytes.
//!
//! The gateway signs `calculateSignature(json_decode($body, true), $key)`:
//! the decoded values in document order, rendered the way PHP 8 prints them
//! when concatenated to a string. This module walks the raw body once, with
//! a hand-written strict (RFC 8259) JSON reader, and feeds every key and
//! scalar to a [`Canonicalizer`] as it goes; nothing is decoded into a tree,
//! and the normal path allocates nothing.
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

use std::borrow::Cow;
use std::collections::HashSet;

use super::canonical::{ByteSink, Canonicalizer, Segment, SignError, MAX_DEPTH};
use super::json_string::{decode_escape, hex4, write_unescaped};
use super::key::{Signature, SigningKey};
use super::php_number::write_php_json_number;

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
    /// Places a duplicate-key path under the enclosing key.
    #[cold]
    fn under(self, key: Segment<'_>) -> Self {
        match self {
            JsonError::DuplicateKey { path } => JsonError::DuplicateKey {
                path: format!("{key}.{path}"),
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
        SignatureField::String(raw) => Some(raw),
        SignatureField::Missing | SignatureField::NotAString => None,
    };
    Ok((sink, signature))
}

/// Signs a received JSON object exactly as the gateway's PHP does.
pub fn sign_json(key: &SigningKey, body: &[u8]) -> Result<Signature, JsonError> {
    let mut mac = key.mac();
    walk(body, &mut mac)?;
    Ok(mac.finish())
}

/// Verifies the top-level "signature" of a received payload against its other fields, in constant time.
pub fn verify_json(key: &SigningKey, body: &[u8]) -> Result<(), VerifyError> {
    let mut mac = key.mac();
    let (_, signature) = walk(body, &mut mac)?;
    let received = match signature {
        SignatureField::String(raw) => raw,
        SignatureField::Missing => return Err(VerifyError::MissingSignature),
        SignatureField::NotAString => return Err(VerifyError::SignatureNotAString),
    };
    let expected = mac.finish();
    let matches = if received.contains(&b'\\') {
        // Escaped hex (`\u0061`) is still hex once decoded; decode it on the
        // stack. Anything longer than a signature cannot match.
        let mut decoded = HexBuf {
            buf: [0; 128],
            len: 0,
            overflow: false,
        };
        write_unescaped(received, &mut decoded);
        !decoded.overflow && expected.matches_hex(&decoded.buf[..decoded.len])
    } else {
        expected.matches_hex(received)
    };
    if matches {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

/// A decoded signature, at most 128 bytes, on the stack.
struct HexBuf {
    buf: [u8; 128],
    len: usize,
    overflow: bool,
}

impl ByteSink for HexBuf {
    fn write(&mut self, bytes: &[u8]) {
        match self.buf.get_mut(self.len..self.len + bytes.len()) {
            Some(dst) if !self.overflow => {
                dst.copy_from_slice(bytes);
                self.len += bytes.len();
            }
            _ => self.overflow = true,
        }
    }
}

/// What the top-level `signature` field held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SignatureField<'a> {
    Missing,
    /// The raw contents of the string (between the quotes).
    String(&'a [u8]),
    NotAString,
}

/// Validates `body`, streams its canonical string into `sink` and reports
/// the top-level `signature` field.
fn walk<'a, S: ByteSink>(body: &'a [u8], sink: S) -> Result<(S, SignatureField<'a>), JsonError> {
    let text = core::str::from_utf8(body).map_err(|e| JsonError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    let mut reader = Reader {
        text,
        bytes: body,
        pos: 0,
    };
    reader.skip_ws();
    match reader.peek() {
        Some(b'{') => reader.pos += 1,
        Some(b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
            return Err(JsonError::NotAnObject)
        }
        Some(_) => return Err(reader.syntax("expected a JSON object")),
        None => return Err(reader.syntax("empty body; expected a JSON object")),
    }
    let mut out = Canonicalizer::new(sink);
    let mut signature = SignatureField::Missing;
    reader.object(&mut out, Some(&mut signature))?;
    reader.skip_ws();
    if reader.pos != body.len() {
        return Err(reader.syntax("trailing characters after the JSON object"));
    }
    Ok((out.into_sink(), signature))
}

/// A key of the object being read, for duplicate detection.
#[derive(Clone, Copy)]
struct Key<'a> {
    /// The contents of the key's string literal.
    raw: &'a [u8],
    /// Whether `raw` contains escapes.
    escaped: bool,
    /// A cheap fingerprint of `raw` (its length and first and last eight
    /// bytes): two unescaped keys with different fingerprints differ.
    fingerprint: u64,
}

impl<'a> Key<'a> {
    #[inline]
    fn new(raw: &'a [u8], escaped: bool) -> Self {
        // Whole-word loads straight from the body (two overlapping ones for
        // short keys): no byte-wise assembly through the stack.
        let n = raw.len();
        let (first, last) = match n {
            8.. => (le_u64(&raw[..8]), le_u64(&raw[n - 8..])),
            4..=7 => (le_u32(&raw[..4]), le_u32(&raw[n - 4..])),
            1..=3 => (
                u64::from(raw[0]) | u64::from(raw[n / 2]) << 8 | u64::from(raw[n - 1]) << 16,
                0,
            ),
            0 => (0, 0),
        };
        let fingerprint =
            (first ^ last.rotate_left(23) ^ n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
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

/// Eight bytes (exactly) as a little-endian number.
#[inline(always)]
fn le_u64(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().unwrap_or_default())
}

/// Four bytes (exactly) as a little-endian number.
#[inline(always)]
fn le_u32(bytes: &[u8]) -> u64 {
    u64::from(u32::from_le_bytes(bytes.try_into().unwrap_or_default()))
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

/// Keys inline per object before spilling to the heap (at most 32: one bit
/// each in [`KeySet::escaped`]).
const INLINE_KEYS: usize = 32;

/// The keys seen so far in one object: inline up to [`INLINE_KEYS`], then a
/// hash set of decoded keys (so huge objects stay linear).
///
/// The inline keys are kept column by column (contents, fingerprints,
/// escaped flags) so that adding one is a few plain stores.
struct KeySet<'a> {
    raws: [&'a [u8]; INLINE_KEYS],
    fingerprints: [u64; INLINE_KEYS],
    /// Bit `i` is set if key `i` contains escapes.
    escaped: u32,
    len: usize,
    /// One bit per key seen, picked by its fingerprint: a key whose bit is
    /// clear is new without looking at the others.
    seen_bits: u64,
    spill: Option<HashSet<Cow<'a, [u8]>>>,
}

impl<'a> KeySet<'a> {
    fn new() -> Self {
        KeySet {
            raws: [b""; INLINE_KEYS],
            fingerprints: [0; INLINE_KEYS],
            escaped: 0,
            len: 0,
            seen_bits: 0,
            spill: None,
        }
    }

    /// The inline key at `i`.
    #[inline]
    fn key(&self, i: usize) -> Key<'a> {
        Key {
            raw: self.raws[i],
            escaped: self.escaped & (1 << i) != 0,
            fingerprint: self.fingerprints[i],
        }
    }

    /// Adds `key`; false if it was already there.
    #[inline]
    fn insert(&mut self, key: Key<'a>) -> bool {
        if let Some(spill) = &mut self.spill {
            return spill.insert(key.decoded_bytes());
        }
        let bit = 1u64 << (key.fingerprint >> 58);
        // Escaped keys have no usable fingerprint: compare them in full.
        let maybe_seen = key.escaped || self.escaped != 0 || self.seen_bits & bit != 0;
        if maybe_seen && (0..self.len).any(|i| self.key(i).same(&key)) {
            return false;
        }
        self.seen_bits |= bit;
        if self.len < INLINE_KEYS {
            self.raws[self.len] = key.raw;
            self.fingerprints[self.len] = key.fingerprint;
            self.escaped |= u32::from(key.escaped) << self.len;
            self.len += 1;
        } else {
            self.spill_with(key);
        }
        true
    }

    #[cold]
    fn spill_with(&mut self, key: Key<'a>) {
        let mut set = HashSet::with_capacity(INLINE_KEYS * 4);
        for i in 0..self.len {
            set.insert(self.key(i).decoded_bytes());
        }
        set.insert(key.decoded_bytes());
        self.spill = Some(set);
    }
}

/// The strict JSON reader.
struct Reader<'a> {
    /// The body, already checked to be UTF-8.
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    #[cold]
    fn syntax(&self, reason: &'static str) -> JsonError {
        self.syntax_at(self.pos, reason)
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

    /// Reads the members of an object whose `{` has been consumed. `signature`
    /// is given for the top-level object only.
    fn object<S: ByteSink>(
        &mut self,
        out: &mut Canonicalizer<'a, S>,
        mut signature: Option<&mut SignatureField<'a>>,
    ) -> Result<(), JsonError> {
        let mut keys = KeySet::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.syntax("expected a string key"));
            }
            let (raw, escaped) = self.string()?;
            let key = self.segment(raw, escaped);
            if !keys.insert(Key::new(raw, escaped)) {
                return Err(JsonError::DuplicateKey {
                    path: key.to_string(),
                });
            }
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.syntax("expected `:` after an object key"));
            }
            self.pos += 1;
            self.skip_ws();
            match signature.as_deref_mut() {
                Some(field) if key.is_signature() => {
                    let start = self.pos;
                    let is_string = self.peek() == Some(b'"');
                    self.value(out, key)?;
                    *field = if is_string {
                        // Between the quotes of the string just read.
                        SignatureField::String(&self.bytes[start + 1..self.pos - 1])
                    } else {
                        SignatureField::NotAString
                    };
                }
                _ => self.value(out, key)?,
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        return Err(self.syntax("trailing comma in object"));
                    }
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.syntax("expected `,` or `}` after an object member")),
            }
        }
    }

    /// Reads the items of a list whose `[` has been consumed.
    fn array<S: ByteSink>(&mut self, out: &mut Canonicalizer<'a, S>) -> Result<(), JsonError> {
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        let mut index = 0usize;
        loop {
            self.value(out, Segment::Index(index))?;
            index += 1;
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        return Err(self.syntax("trailing comma in list"));
                    }
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.syntax("expected `,` or `]` after a list item")),
            }
        }
    }

    /// Reads one value (whitespace before it already skipped) under `key`.
    ///
    /// Recursion into nested objects and lists happens only after
    /// [`Canonicalizer::enter`] accepted the new level, so it is bounded by
    /// [`MAX_DEPTH`] whatever the input.
    fn value<S: ByteSink>(
        &mut self,
        out: &mut Canonicalizer<'a, S>,
        key: Segment<'a>,
    ) -> Result<(), JsonError> {
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                out.enter(key)?;
                self.object(out, None).map_err(|e| e.under(key))?;
                out.leave();
            }
            Some(b'[') => {
                self.pos += 1;
                out.enter(key)?;
                self.array(out).map_err(|e| e.under(key))?;
                out.leave();
            }
            Some(b'"') => {
                let (raw, escaped) = self.string()?;
                if escaped {
                    out.scalar_with(key, |sink| write_unescaped(raw, sink));
                } else {
                    out.scalar(key, raw);
                }
            }
            Some(b't') => {
                self.literal(b"true")?;
                out.scalar(key, b"1");
            }
            Some(b'f') => {
                self.literal(b"false")?;
                out.scalar(key, b"");
            }
            Some(b'n') => {
                self.literal(b"null")?;
                out.scalar(key, b"");
            }
            Some(b'-' | b'0'..=b'9') => {
                let raw = self.number()?;
                if is_plain_php_int(raw) {
                    out.scalar(key, raw);
                } else {
                    out.scalar_with(key, |sink| write_php_json_number(raw, sink));
                }
            }
            _ => return Err(self.syntax("expected a JSON value")),
        }
        Ok(())
    }

    /// The key segment for a string literal's contents.
    fn segment(&self, raw: &'a [u8], escaped: bool) -> Segment<'a> {
        if escaped {
            return Segment::Escaped(raw);
        }
        // `raw` lies between two ASCII quotes of a UTF-8 body, so it is on
        // char boundaries; fall back to the byte form if it somehow is not.
        let start = raw.as_ptr() as usize - self.bytes.as_ptr() as usize;
        match self.text.get(start..start + raw.len()) {
            Some(name) => Segment::Name(name),
            None => Segment::Escaped(raw),
        }
    }

    /// Reads a string literal at `"`; returns its contents and whether they
    /// contain escapes.
    fn string(&mut self) -> Result<(&'a [u8], bool), JsonError> {
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            i = skip_plain(self.bytes, i);
            match self.bytes.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok((&self.bytes[start..i], escaped));
                }
                Some(b'\\') => {
                    escaped = true;
                    i = self.escape(i)?;
                }
                Some(0x00..=0x1f) => {
                    return Err(self.syntax_at(i, "control character in string (must be escaped)"))
                }
                Some(_) => i += 1,
                None => return Err(self.syntax_at(i, "unterminated string")),
            }
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

    fn literal(&mut self, word: &'static [u8]) -> Result<(), JsonError> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.syntax("invalid literal (expected true, false or null)"))
        }
    }

    /// Reads a number token (RFC 8259 grammar) and returns it.
    fn number(&mut self) -> Result<&'a [u8], JsonError> {
        let start = self.pos;
        let mut i = start;
        let digit_at = |i: usize| self.bytes.get(i).is_some_and(u8::is_ascii_digit);
        if self.bytes.get(i) == Some(&b'-') {
            i += 1;
        }
        match self.bytes.get(i) {
            Some(b'0') => {
                i += 1;
                if digit_at(i) {
                    return Err(self.syntax_at(i, "leading zeros are not allowed in numbers"));
                }
            }
            Some(b'1'..=b'9') => {
                while digit_at(i) {
                    i += 1;
                }
            }
            _ => return Err(self.syntax_at(i, "expected a digit")),
        }
        if self.bytes.get(i) == Some(&b'.') {
            i += 1;
            if !digit_at(i) {
                return Err(self.syntax_at(i, "expected a digit after the decimal point"));
            }
            while digit_at(i) {
                i += 1;
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = self.bytes.get(i) {
                i += 1;
            }
            if !digit_at(i) {
                return Err(self.syntax_at(i, "expected a digit in the exponent"));
            }
            while digit_at(i) {
                i += 1;
            }
        }
        self.pos = i;
        Ok(&self.bytes[start..i])
    }
}

/// The index of the first byte at or after `i` that is a `"`, a `\\` or a
/// control character (or `bytes.len()`): the end of a run of plain string
/// content. Looks at eight bytes at a time.
#[inline]
fn skip_plain(bytes: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let word = le_u64(chunk);
        // For each byte, the high bit of `x - 1 & !x` is set if the byte of
        // `x` is zero (and `x - n & !x` if it is below `n`); borrows can also
        // flag bytes above a real hit, never below one, so the lowest flagged
        // byte is the first real hit.
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let hits = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(ONES * 0x20) & !word))
            & HIGH;
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

/// Whether a validated number token is an integer PHP prints exactly as sent:
/// no fraction or exponent, not `-0`, and short enough to fit in an i64.
#[inline]
fn is_plain_php_int(raw: &[u8]) -> bool {
    let digits = match raw.split_first() {
        Some((b'-', rest)) => {
            if rest == b"0" {
                return false;
            }
            rest
        }
        _ => raw,
    };
    digits.len() <= 18 && digits.iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn skip_plain_stops_at_the_first_quote_backslash_or_control_byte() {
        let naive = |bytes: &[u8], i: usize| {
            (i..bytes.len())
                .find(|&j| matches!(bytes[j], b'"' | b'\\' | 0x00..=0x1f))
                .unwrap_or(bytes.len())
        };
        let alphabet = [
            b'a', b'"', b'\\', 0x00, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0xa2, 0xdc, 0xff,
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in 0..40 {
            for _ in 0..200 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        // Mostly plain bytes, so runs are long enough to matter.
                        if seed % 4 == 0 {
                            alphabet[(seed >> 8) as usize % alphabet.len()]
                        } else {
                            b'a' + (seed >> 8) as u8 % 26
                        }
                    })
                    .collect();
                for start in 0..=len {
                    assert_eq!(
                        skip_plain(&bytes, start),
                        naive(&bytes, start),
                        "{bytes:?} from {start}"
                    );
                }
            }
        }
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
