//! The strict JSON reader's state ([`Reader`]) and its token level: bytes
//! and whitespace, string literals and their escapes, number tokens, and
//! syntax errors at a byte offset. The structure (objects, lists, members)
//! is read in `reader.rs`, the common members' shortcut in `fast_path.rs`.

use super::error::JsonError;
use crate::signing::json_string::hex4;
use crate::signing::scan::skip_plain;

/// The strict JSON reader. Positions are passed in and returned by value,
/// so the walk keeps them in registers; every method that reads a token
/// takes the index of its first byte and returns the index after it.
///
/// With `FAST`, members in the most common shape are read by
/// [`Reader::member_fast`]; without, every member goes through the general
/// [`Reader::member`] (used by the tests as the reference).
pub(super) struct Reader<'a, const FAST: bool> {
    pub(super) bytes: &'a [u8],
    /// True until the string scanner meets a non-ASCII byte (the body is
    /// then validated as UTF-8 once the walk is over).
    pub(super) ascii_only: bool,
}

impl<'a, const FAST: bool> Reader<'a, FAST> {
    /// The byte at `i`, or 0 past the end: 0 is never valid where a token
    /// is expected, so running off the end takes the error path, which
    /// reports it as the end of input.
    #[inline(always)]
    pub(super) fn at(&self, i: usize) -> u8 {
        self.bytes.get(i).copied().unwrap_or(0)
    }

    /// Skips whitespace from `i`.
    #[inline(always)]
    pub(super) fn ws(&self, i: usize) -> usize {
        // Compact JSON has none: one test for the usual case.
        if self.at(i) > b' ' {
            i
        } else {
            self.ws_slow(i)
        }
    }

    #[inline(never)]
    pub(super) fn ws_slow(&self, mut i: usize) -> usize {
        while let b' ' | b'\t' | b'\n' | b'\r' = self.at(i) {
            i += 1;
        }
        i
    }

    #[cold]
    pub(super) fn syntax_at(&self, offset: usize, reason: &'static str) -> JsonError {
        let reason = if offset >= self.bytes.len() {
            "unexpected end of input"
        } else {
            reason
        };
        JsonError::Syntax { offset, reason }
    }

    /// Reads the contents of a string literal starting at `start` (after
    /// the opening quote); returns the index of the closing quote and
    /// whether the contents contain escapes.
    #[inline(always)]
    pub(super) fn string(&mut self, start: usize) -> Result<(usize, bool), JsonError> {
        let i = skip_plain(self.bytes, start, self.ascii_only);
        if self.at(i) == b'"' {
            return Ok((i, false));
        }
        self.string_slow(i)
    }

    /// The rest of a string literal after its first non-plain byte at `i`.
    #[inline(never)]
    pub(super) fn string_slow(&mut self, mut i: usize) -> Result<(usize, bool), JsonError> {
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
    pub(super) fn escape(&self, i: usize) -> Result<usize, JsonError> {
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
    pub(super) fn number(&self, start: usize) -> Result<(usize, bool), JsonError> {
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
    pub(super) fn number_tail(&self, mut i: usize) -> Result<(usize, bool), JsonError> {
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
