//! A key of the canonical string: a field name, a field name still in its
//! JSON-escaped form, or a list index, written out as PHP prints it.

use core::fmt;

use super::json_string::{unescaped_eq, write_unescaped};
use super::sink::ByteSink;

/// A key in the payload: a field name, a list index, or a field name still
/// in its JSON-escaped form (written out decoded, without allocating).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment<'a> {
    /// A field name, as sent.
    Name(&'a str),
    /// The contents of a JSON string literal (between the quotes) that
    /// contains escapes; it has been validated by the JSON reader.
    Escaped(&'a [u8]),
    /// A list position.
    Index(usize),
}

impl Segment<'_> {
    /// Writes the key as PHP would print it.
    // Always inlined: a field name known at the call site (the derive's
    // `Segment::Name("order_id")`) then costs a constant-size copy.
    #[inline(always)]
    pub(crate) fn write_to<S: ByteSink + ?Sized>(&self, sink: &mut S) {
        match *self {
            Segment::Name(name) => sink.write(name.as_bytes()),
            Segment::Escaped(raw) => write_unescaped(raw, sink),
            Segment::Index(i) => write_index(i, sink),
        }
    }

    /// Whether this key is `signature`, the one scalar key the algorithm skips.
    #[inline(always)]
    pub(crate) fn is_signature(&self) -> bool {
        match *self {
            Segment::Name(name) => name == "signature",
            Segment::Escaped(raw) => unescaped_eq(raw, b"signature"),
            Segment::Index(_) => false,
        }
    }
}

/// A list index, in decimal.
fn write_index<S: ByteSink + ?Sized>(i: usize, sink: &mut S) {
    let mut buf = itoa::Buffer::new();
    sink.write(buf.format(i).as_bytes());
}

impl fmt::Display for Segment<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = Vec::new();
        self.write_to(&mut buf);
        f.write_str(&String::from_utf8_lossy(&buf))
    }
}
