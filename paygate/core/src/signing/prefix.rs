//! The dotted prefix of the current level (`a.b.`), shared by the derive
//! path's `Canonicalizer` and the raw-JSON walk, and the nesting limit
//! ([`MAX_DEPTH`]) that bounds it.
//!
//! The prefix is kept decoded in a buffer on the stack, with the length it
//! had before each level was entered, so writing it before a nested scalar
//! is one piece and leaving a level is one store. A prefix too long for the
//! buffer keeps its remaining segments in a `Vec` that normal payloads never
//! allocate.

use core::ops::Range;

use super::segment::Segment;
use super::sink::ByteSink;
use super::stack_buf::StackBuf;

/// The recursion limit of the documented algorithm: the top-level object is
/// level 0, and opening a nested object or list at level 16 is an error.
pub const MAX_DEPTH: usize = 16;

/// The size of the window [`Prefix::push_plain_within`] copies.
const WINDOW: usize = 32;

/// Room for the decoded prefix on the stack.
const PREFIX_BYTES: usize = 128;

/// In [`Prefix::lens`]: that level's key went to [`Prefix::long`].
const OVERFLOWED: u16 = u16::MAX;

/// The keys of the enclosing levels, each followed by a dot.
pub(super) struct Prefix<'a> {
    depth: usize,
    /// The decoded prefix, as far as it fits.
    text: StackBuf<PREFIX_BYTES>,
    /// `text.len` before each level was entered, to restore on leaving it,
    /// or [`OVERFLOWED`] if that level's key went to `long`.
    lens: [u16; MAX_DEPTH],
    /// The segments after `text`, once the prefix no longer fits.
    long: Vec<Segment<'a>>,
}

impl<'a> Prefix<'a> {
    /// The top level: no prefix.
    #[inline]
    pub(super) fn new() -> Self {
        Prefix {
            depth: 0,
            text: StackBuf::new(),
            lens: [0; MAX_DEPTH],
            long: Vec::new(),
        }
    }

    /// The current nesting level (0 at the top-level object).
    #[inline(always)]
    pub(super) fn depth(&self) -> usize {
        self.depth
    }

    /// Opens a level under the plain (unescaped) key `raw` if `raw.` fits
    /// the buffer; false, changing nothing, if it does not. The caller has
    /// checked the level against [`MAX_DEPTH`].
    #[inline(always)]
    pub(super) fn push_plain(&mut self, raw: &[u8]) -> bool {
        let len = self.text.len;
        if !self.long.is_empty() || len + raw.len() + 1 > PREFIX_BYTES {
            return false;
        }
        self.text.write_pair(raw, b".");
        self.lens[self.depth] = len as u16;
        self.depth += 1;
        true
    }

    /// [`Prefix::push_plain`] for the plain key at `key` in `body`: a key
    /// shorter than [`WINDOW`] is copied as one fixed-size window of `body`
    /// (the bytes after it are overwritten by the dot, or never read).
    #[inline(always)]
    pub(super) fn push_plain_within(&mut self, body: &[u8], key: Range<usize>) -> bool {
        let len = self.text.len;
        let n = key.end.wrapping_sub(key.start);
        match body.get(key.start..key.start.wrapping_add(WINDOW)) {
            Some(window) if n < WINDOW && len + WINDOW <= PREFIX_BYTES && self.long.is_empty() => {
                self.text.buf[len..len + WINDOW].copy_from_slice(window);
                self.text.buf[len + n] = b'.';
                self.text.len = len + n + 1;
                self.lens[self.depth] = len as u16;
                self.depth += 1;
                true
            }
            _ => self.push_plain(&body[key]),
        }
    }

    /// Opens a level under `key`, whatever it is. The caller has checked
    /// the level against [`MAX_DEPTH`].
    #[inline(never)]
    pub(super) fn push(&mut self, key: Segment<'a>) {
        let len = self.text.len;
        if self.long.is_empty() {
            key.write_to(&mut self.text);
            self.text.write(b".");
        }
        self.lens[self.depth] = if self.long.is_empty() && !self.text.overflow {
            len as u16
        } else {
            self.push_long(key, len);
            OVERFLOWED
        };
        self.depth += 1;
    }

    /// Keeps `key` as a segment: the prefix no longer fits.
    #[cold]
    fn push_long(&mut self, key: Segment<'a>, len: usize) {
        self.text.len = len;
        self.text.overflow = false;
        self.long.push(key);
    }

    /// Closes the innermost level (nothing at the top level).
    #[inline(always)]
    pub(super) fn pop(&mut self) {
        let Some(depth) = self.depth.checked_sub(1) else {
            return;
        };
        self.depth = depth;
        match self.lens[depth] {
            OVERFLOWED => {
                self.long.pop();
            }
            len => self.text.len = usize::from(len),
        }
    }

    /// Writes the prefix (nothing at the top level).
    #[inline(always)]
    pub(super) fn write_to<S: ByteSink + ?Sized>(&self, sink: &mut S) {
        if self.depth > 0 {
            sink.write_within(&self.text.buf, 0..self.text.len);
            if !self.long.is_empty() {
                self.write_long(sink);
            }
        }
    }

    /// The segments that did not fit the buffer.
    #[cold]
    fn write_long<S: ByteSink + ?Sized>(&self, sink: &mut S) {
        for segment in &self.long {
            segment.write_to(sink);
            sink.write(b".");
        }
    }

    /// The prefix as text, for error messages (`a.b.`).
    #[cold]
    pub(super) fn to_text(&self) -> String {
        let mut text = Vec::new();
        text.extend_from_slice(self.text.as_bytes());
        self.write_long(&mut text);
        String::from_utf8_lossy(&text).into_owned()
    }
}
