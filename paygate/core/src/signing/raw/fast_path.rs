//! The fast path: members in their most common shape (a plain key, `:`
//! and a plain string, a plain integer or a small flat object, with a bare
//! `,` between them) read in as few steps as possible, in a loop that never
//! recurses. Anything else is left, before anything is written or noted,
//! to the general reader (`reader.rs`), the reference the tests hold this
//! path to.

use super::error::JsonError;
use super::key_set::{key_head, Key, KeySet, HEAD_MASKS};
use super::output::{Out, Seg, SignatureField};
use super::tokens::Reader;
use crate::signing::prefix::MAX_DEPTH;
use crate::signing::scan::{all_plain, skip_plain, stop_mask};
use crate::signing::sink::ByteSink;

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
pub(super) enum Fast {
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

impl<'a, const FAST: bool> Reader<'a, FAST> {
    /// Reads members in their most common shape (see
    /// [`Reader::member_fast`]) and the plain `,` between them, from the
    /// key at `pos`, for as long as they come.
    #[inline(never)]
    pub(super) fn members_fast<S: ByteSink>(
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
}
