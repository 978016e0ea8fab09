//! What the walk produces: the canonical string, written through [`Out`]
//! (the sink and the current dotted prefix) under [`Seg`] keys, and what
//! the top-level `signature` field held ([`SignatureField`]).

use std::ops::Range;

use super::error::JsonError;
use crate::signing::json_string::{unescaped_eq, write_unescaped};
use crate::signing::prefix::{Prefix, MAX_DEPTH};
use crate::signing::segment::Segment;
use crate::signing::sink::ByteSink;

/// What the top-level `signature` field held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SignatureField<'a> {
    Missing,
    /// The raw contents of the string (between the quotes), and whether
    /// they contain escapes.
    String(&'a [u8], bool),
    NotAString,
}

/// A key of the canonical string: an object key (the contents of its
/// string literal, and whether they contain escapes) or a list index.
#[derive(Clone, Copy, Debug)]
pub(super) enum Seg<'a> {
    Key(&'a [u8], bool),
    Index(usize),
}

impl<'a> Seg<'a> {
    /// Whether this key is `signature`, the one scalar key the algorithm skips.
    #[inline(always)]
    pub(super) fn is_signature(self) -> bool {
        match self {
            Seg::Key(raw, false) => raw == b"signature",
            Seg::Key(raw, true) => unescaped_eq(raw, b"signature"),
            Seg::Index(_) => false,
        }
    }

    /// Writes the key as PHP prints it.
    #[inline(always)]
    pub(super) fn write_to<S: ByteSink + ?Sized>(self, sink: &mut S) {
        match self {
            Seg::Key(raw, false) => sink.write(raw),
            Seg::Key(raw, true) => write_unescaped(raw, sink),
            Seg::Index(i) => sink.write(itoa::Buffer::new().format(i).as_bytes()),
        }
    }

    /// The key as the canonicalizer's segment, for error messages.
    pub(super) fn segment(self) -> Segment<'a> {
        match self {
            // `Escaped` writes unescaped contents as they are.
            Seg::Key(raw, _) => Segment::Escaped(raw),
            Seg::Index(i) => Segment::Index(i),
        }
    }
}

/// The canonical string's writer for the raw walk: the sink and the current
/// prefix (`a.b.`), kept decoded on the stack.
pub(super) struct Out<'a, S: ByteSink> {
    pub(super) sink: S,
    pub(super) prefix: Prefix<'a>,
}

impl<'a, S: ByteSink> Out<'a, S> {
    #[inline]
    pub(super) fn new(sink: S) -> Self {
        Out {
            sink,
            prefix: Prefix::new(),
        }
    }

    /// Opens the nested object or list `key` (see `Canonicalizer::enter`).
    #[inline(always)]
    pub(super) fn enter(&mut self, key: Seg<'a>) -> Result<(), JsonError> {
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
    pub(super) fn leave(&mut self) {
        self.prefix.pop();
    }

    /// Appends `prefix + key + value` for a scalar.
    #[inline(always)]
    pub(super) fn scalar(&mut self, key: Seg<'_>, value: &[u8]) {
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
    pub(super) fn scalar_within(
        &mut self,
        body: &[u8],
        key: Seg<'_>,
        key_at: usize,
        value: Range<usize>,
    ) {
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
    pub(super) fn pair_within(&mut self, body: &[u8], key: Range<usize>, value: Range<usize>) {
        self.write_prefix();
        self.sink.write_pair_within(body, key, value);
    }

    /// Like [`Out::scalar`], for a value that writes itself in pieces.
    #[inline(always)]
    pub(super) fn scalar_with(&mut self, key: Seg<'_>, value: impl FnOnce(&mut S)) {
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
