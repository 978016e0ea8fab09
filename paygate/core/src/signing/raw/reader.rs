//! The reference reader: a received body read as one JSON object, member by
//! member and value by value in document order, with every key and scalar
//! fed to the canonical string as it goes. Members in the most common shape
//! take the fast path (`fast_path.rs`) first; everything else, and every
//! error, comes from here.

use super::error::JsonError;
use super::fast_path::Fast;
use super::key_set::{Key, KeySet};
use super::output::{Out, Seg, SignatureField};
use super::tokens::Reader;
use crate::signing::json_string::write_unescaped;
use crate::signing::php_number::write_php_json_number;
use crate::signing::sink::ByteSink;

/// Validates `body`, streams its canonical string into `sink` and reports
/// the top-level `signature` field.
#[inline(always)]
pub(super) fn walk<'a, S: ByteSink>(
    body: &'a [u8],
    sink: S,
) -> Result<(S, SignatureField<'a>), JsonError> {
    walk_with::<S, true>(body, sink)
}

/// [`walk`], with (`FAST`) or without the fast path for common members;
/// the tests check that it never changes the outcome.
#[inline(always)]
pub(super) fn walk_with<'a, S: ByteSink, const FAST: bool>(
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

impl<'a, const FAST: bool> Reader<'a, FAST> {
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
    /// [`MAX_DEPTH`](crate::signing::prefix::MAX_DEPTH) whatever the input.
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
                let end = self
                    .object(pos + 1, out, None)
                    .map_err(|e| e.under(key.segment()))?;
                out.leave();
                Ok(end)
            }
            b'[' => {
                out.enter(key)?;
                let end = self
                    .array(pos + 1, out)
                    .map_err(|e| e.under(key.segment()))?;
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
}
