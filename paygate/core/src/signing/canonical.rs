//! The gateway's canonical "string for signature", written as a stream
//! (the algorithm is described in the `signing` module's documentation).
//!
//! [`Canonicalizer`] never builds that string: it keeps the current prefix as
//! a fixed stack of segments and streams every piece straight into a
//! [`ByteSink`] (the HMAC, or a `Vec<u8>` when the string itself is wanted).

use super::prefix::{Prefix, MAX_DEPTH};
use super::segment::Segment;
use super::sink::ByteSink;

/// Why a payload cannot be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The payload nests deeper than the algorithm allows.
    #[error("`{path}` is nested {depth} levels deep; the signature algorithm allows at most {max} (recursion level exceeded)", max = MAX_DEPTH - 1)]
    TooDeep {
        /// Dotted path of the object or list that went too deep.
        path: String,
        /// Its nesting level (the top-level object is 0).
        depth: usize,
    },
}

/// Streams the canonical string of one payload into a [`ByteSink`].
pub struct Canonicalizer<'a, S: ByteSink> {
    sink: S,
    prefix: Prefix<'a>,
}

impl<'a, S: ByteSink> Canonicalizer<'a, S> {
    /// Starts at the top-level object (level 0).
    #[inline]
    pub fn new(sink: S) -> Self {
        Canonicalizer {
            sink,
            prefix: Prefix::new(),
        }
    }

    /// The current nesting level (0 at the top-level object).
    #[inline]
    pub fn depth(&self) -> usize {
        self.prefix.depth()
    }

    /// Opens the nested object or list `key`; its fields are then written
    /// under the prefix `key.`. Fails like the PHP does when the new level
    /// reaches [`MAX_DEPTH`], even if the nested value is empty.
    #[inline]
    pub fn enter(&mut self, key: Segment<'a>) -> Result<(), SignError> {
        if self.prefix.depth() + 1 >= MAX_DEPTH {
            return Err(self.too_deep(key));
        }
        // A field name that fits the buffer inline; any other through `push`.
        match key {
            Segment::Name(name) if self.prefix.push_plain(name.as_bytes()) => {}
            _ => self.prefix.push(key),
        }
        Ok(())
    }

    /// Closes the innermost nested object or list.
    #[inline]
    pub fn leave(&mut self) {
        self.prefix.pop();
    }

    /// Appends `prefix + key + value` for a scalar (skipped if the key is
    /// `signature`).
    #[inline(always)]
    pub fn scalar(&mut self, key: Segment<'_>, value: &[u8]) {
        if key.is_signature() {
            return;
        }
        self.prefix.write_to(&mut self.sink);
        match key {
            // A field name (known at the call site on the derive path) and
            // its value in one write, so the sink checks its room once.
            Segment::Name(name) => self.sink.write_pair(name.as_bytes(), value),
            _ => {
                key.write_to(&mut self.sink);
                self.sink.write(value);
            }
        }
    }

    /// Writes an integer scalar: `key` and the integer's decimal digits.
    pub fn integer(&mut self, key: Segment<'_>, value: i64) {
        let mut buf = itoa::Buffer::new();
        self.scalar(key, buf.format(value).as_bytes());
    }

    /// Like [`Canonicalizer::scalar`], for a value that writes itself in
    /// pieces (an escaped string, a number rendered on the stack).
    #[inline]
    pub fn scalar_with(&mut self, key: Segment<'_>, value: impl FnOnce(&mut S)) {
        if self.write_key(key) {
            value(&mut self.sink);
        }
    }

    /// Writes `prefix + key`; returns false (writing nothing) for `signature`.
    #[inline(always)]
    fn write_key(&mut self, key: Segment<'_>) -> bool {
        if key.is_signature() {
            return false;
        }
        self.prefix.write_to(&mut self.sink);
        key.write_to(&mut self.sink);
        true
    }

    /// The sink, once the payload is written.
    #[inline]
    pub fn into_sink(self) -> S {
        self.sink
    }

    #[cold]
    fn too_deep(&self, key: Segment<'_>) -> SignError {
        SignError::TooDeep {
            path: format!("{}{key}", self.prefix.to_text()),
            depth: self.prefix.depth() + 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(
        f: impl FnOnce(&mut Canonicalizer<'_, Vec<u8>>) -> Result<(), SignError>,
    ) -> String {
        let mut c = Canonicalizer::new(Vec::new());
        f(&mut c).unwrap();
        String::from_utf8(c.into_sink()).unwrap()
    }

    #[test]
    fn a_prefix_longer_than_the_stack_buffer_is_written_whole() {
        // Three levels of 60-byte names: the third no longer fits the
        // 128-byte buffer and is kept as a segment; leaving restores it.
        let names: Vec<String> = ["a", "b", "c"].iter().map(|c| c.repeat(60)).collect();
        let mut out = Canonicalizer::new(Vec::new());
        out.enter(Segment::Name(&names[0])).unwrap();
        out.enter(Segment::Name(&names[1])).unwrap();
        out.enter(Segment::Name(&names[2])).unwrap();
        out.enter(Segment::Index(7)).unwrap();
        out.scalar(Segment::Name("k"), b"v");
        out.leave();
        out.leave();
        out.scalar(Segment::Name("x"), b"1");
        out.leave();
        out.scalar(Segment::Name("y"), b"2");
        out.leave();
        out.scalar(Segment::Name("z"), b"3");
        let s = String::from_utf8(out.into_sink()).unwrap();
        let (a, b, c) = (&names[0], &names[1], &names[2]);
        assert_eq!(s, format!("{a}.{b}.{c}.7.kv{a}.{b}.x1{a}.y2z3"));
        // A too-deep error names the whole path, long segments included.
        let mut deep = Canonicalizer::new(Vec::new());
        for name in &names {
            deep.enter(Segment::Name(name)).unwrap();
        }
        for i in 3..MAX_DEPTH - 1 {
            deep.enter(Segment::Index(i)).unwrap();
        }
        let SignError::TooDeep { path, depth } = deep.enter(Segment::Name("last")).unwrap_err();
        assert_eq!(depth, MAX_DEPTH);
        let indexes: Vec<String> = (3..MAX_DEPTH - 1).map(|i| i.to_string()).collect();
        assert_eq!(path, format!("{a}.{b}.{c}.{}.last", indexes.join(".")));
    }

    #[test]
    fn nested_fields_carry_their_dotted_prefix() {
        let s = canonical(|c| {
            c.scalar(Segment::Name("a"), b"1");
            c.enter(Segment::Name("items"))?;
            c.enter(Segment::Index(0))?;
            c.scalar(Segment::Name("sku"), b"x");
            c.leave();
            c.leave();
            c.scalar(Segment::Name("b"), b"2");
            Ok(())
        });
        assert_eq!(s, "a1items.0.skuxb2");
    }

    #[test]
    fn signature_scalars_are_skipped_at_every_level() {
        let s = canonical(|c| {
            c.scalar(Segment::Name("signature"), b"top");
            c.enter(Segment::Name("signature"))?;
            c.scalar(Segment::Name("signature"), b"nested");
            c.scalar(Segment::Name("k"), b"v");
            c.leave();
            Ok(())
        });
        assert_eq!(s, "signature.kv");
    }

    #[test]
    fn level_sixteen_is_rejected_with_its_path() {
        let mut c = Canonicalizer::new(Vec::new());
        for _ in 0..15 {
            c.enter(Segment::Name("n")).unwrap();
        }
        let err = c.enter(Segment::Name("n")).unwrap_err();
        assert_eq!(
            err,
            SignError::TooDeep {
                path: "n.n.n.n.n.n.n.n.n.n.n.n.n.n.n.n".into(),
                depth: 16
            }
        );
    }
}
