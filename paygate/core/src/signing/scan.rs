//! Finding the end of a run of plain JSON string content.
//!
//! Inside a string literal the reader only has to stop at a `"` (the end),
//! a `\` (an escape), a control byte (an error) and, until one has been
//! seen, a non-ASCII byte (the body is then UTF-8-checked once the walk is
//! over). Everything else is copied through untouched, so the scan for
//! those bytes is the inner loop of every key and every string value.
//!
//! On x86 and x86-64 the scan compares sixteen bytes at once with SSE2
//! (part of the x86-64 baseline; through `safe_arch`, so this crate stays
//! free of `unsafe`); elsewhere it works on two 64-bit words at a time. Both
//! give exactly the index a byte-by-byte loop would.

/// The index of the first byte at or after `i` that is a `"`, a `\\`, a
/// control byte or (if `ascii_only`) a non-ASCII byte, or `bytes.len()` if
/// there is none.
#[inline(always)]
pub(super) fn skip_plain(bytes: &[u8], i: usize, ascii_only: bool) -> usize {
    #[cfg(all(
        any(target_arch = "x86", target_arch = "x86_64"),
        target_feature = "sse2"
    ))]
    {
        sse2::skip_plain(bytes, i, ascii_only)
    }
    #[cfg(not(all(
        any(target_arch = "x86", target_arch = "x86_64"),
        target_feature = "sse2"
    )))]
    {
        words::skip_plain(bytes, i, ascii_only)
    }
}

/// Whether none of the first 128 bytes of `text` would stop a scan (a
/// `"`, a `\\`, a control byte or non-ASCII), looked at in one pass
/// without stopping early.
#[inline(always)]
pub(super) fn all_plain(text: &[u8; 129]) -> bool {
    let mut stops = 0;
    for chunk in text[..128].chunks_exact(16) {
        let chunk = chunk.first_chunk::<16>().unwrap_or(&[0; 16]);
        stops |= stop_mask(chunk);
    }
    stops == 0
}

/// Bit `i` set where byte `i` of `chunk` would stop a scan: a `"`, a `\\`,
/// a control byte or a non-ASCII byte.
#[inline(always)]
pub(super) fn stop_mask(chunk: &[u8; 16]) -> u32 {
    #[cfg(all(
        any(target_arch = "x86", target_arch = "x86_64"),
        target_feature = "sse2"
    ))]
    {
        sse2::stops(chunk, true)
    }
    #[cfg(not(all(
        any(target_arch = "x86", target_arch = "x86_64"),
        target_feature = "sse2"
    )))]
    {
        stop_mask_bytewise(chunk)
    }
}

/// [`stop_mask`] a byte at a time.
#[cfg(any(
    test,
    not(all(
        any(target_arch = "x86", target_arch = "x86_64"),
        target_feature = "sse2"
    ))
))]
#[inline(always)]
fn stop_mask_bytewise(chunk: &[u8; 16]) -> u32 {
    chunk.iter().enumerate().fold(0, |mask, (i, &b)| {
        let stops = matches!(b, b'"' | b'\\' | 0x00..=0x1f | 0x80..=0xff);
        mask | u32::from(stops) << i
    })
}

#[cfg(all(
    any(target_arch = "x86", target_arch = "x86_64"),
    target_feature = "sse2"
))]
mod sse2 {
    use safe_arch::{
        bitand_m128i, bitor_m128i, cmp_eq_mask_i8_m128i, cmp_gt_mask_i8_m128i,
        cmp_lt_mask_i8_m128i, load_unaligned_m128i, m128i, move_mask_i8_m128i, set_splat_i8_m128i,
    };

    /// One bit per byte of `chunk`, set where the byte stops the scan.
    #[inline(always)]
    pub(super) fn stops(chunk: &[u8; 16], ascii_only: bool) -> u32 {
        let v = load_unaligned_m128i(chunk);
        let quote = cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(b'"' as i8));
        let backslash = cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(b'\\' as i8));
        // As signed bytes, control bytes (0x00..=0x1f) and non-ASCII bytes
        // (0x80..=0xff, negative) are exactly the ones below 0x20.
        let mut low = cmp_lt_mask_i8_m128i(v, set_splat_i8_m128i(0x20));
        if !ascii_only {
            low = bitand_m128i(low, cmp_gt_mask_i8_m128i(v, set_splat_i8_m128i(-1)));
        }
        let hits: m128i = bitor_m128i(bitor_m128i(quote, backslash), low);
        move_mask_i8_m128i(hits) as u32
    }

    /// The first sixteen bytes inline (most keys and values end there),
    /// the rest out of line.
    #[inline(always)]
    pub(super) fn skip_plain(bytes: &[u8], i: usize, ascii_only: bool) -> usize {
        match bytes.get(i..).and_then(|rest| rest.first_chunk::<16>()) {
            Some(chunk) => match stops(chunk, ascii_only) {
                0 => skip_plain_long(bytes, i + 16, ascii_only),
                hits => i + hits.trailing_zeros() as usize,
            },
            None => tail(bytes, i, ascii_only),
        }
    }

    #[inline(never)]
    fn skip_plain_long(bytes: &[u8], mut i: usize, ascii_only: bool) -> usize {
        while let Some(chunk) = bytes.get(i..).and_then(|rest| rest.first_chunk::<16>()) {
            let hits = stops(chunk, ascii_only);
            if hits != 0 {
                return i + hits.trailing_zeros() as usize;
            }
            i += 16;
        }
        tail(bytes, i, ascii_only)
    }

    /// The last fifteen bytes or fewer: the body's last sixteen bytes,
    /// ignoring those before `i`.
    #[inline(never)]
    fn tail(bytes: &[u8], i: usize, ascii_only: bool) -> usize {
        match bytes.last_chunk::<16>() {
            Some(last) if i < bytes.len() => {
                let start = bytes.len() - 16;
                let hits = stops(last, ascii_only) >> (i - start);
                if hits != 0 {
                    i + hits.trailing_zeros() as usize
                } else {
                    bytes.len()
                }
            }
            // Shorter than sixteen bytes in all (or nothing left).
            _ => super::bytewise(bytes, i, ascii_only),
        }
    }
}

#[cfg(any(
    test,
    not(all(
        any(target_arch = "x86", target_arch = "x86_64"),
        target_feature = "sse2"
    ))
))]
mod words {
    /// The high bit of every byte of a word.
    const HIGH: u64 = 0x8080_8080_8080_8080;

    /// For each byte of `word`, the high bit set if the byte stops the
    /// scan. Borrows can also flag bytes above a real hit, never below one,
    /// so the lowest flagged byte is the first real hit.
    #[inline(always)]
    pub(super) fn stops(word: u64, ascii_only: bool) -> u64 {
        const ONES: u64 = 0x0101_0101_0101_0101;
        // The high bit of `x - 1 & !x` is set if the byte of `x` is zero (and
        // `x - n & !x` if it is below `n`).
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let high = if ascii_only { word } else { 0 };
        ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(ONES * 0x20) & !word)
            | high)
            & HIGH
    }

    #[inline(always)]
    pub(super) fn skip_plain(bytes: &[u8], mut i: usize, ascii_only: bool) -> usize {
        while let Some(chunk) = bytes.get(i..).and_then(|rest| rest.first_chunk::<16>()) {
            let (lo, hi) = chunk.split_at(8);
            let lo = stops(super::le_u64(lo), ascii_only);
            let hi = stops(super::le_u64(hi), ascii_only);
            if lo | hi != 0 {
                let hits = u128::from(hi) << 64 | u128::from(lo);
                return i + (hits.trailing_zeros() / 8) as usize;
            }
            i += 16;
        }
        if let Some(chunk) = bytes.get(i..).and_then(|rest| rest.first_chunk::<8>()) {
            let hits = stops(u64::from_le_bytes(*chunk), ascii_only);
            if hits != 0 {
                return i + (hits.trailing_zeros() / 8) as usize;
            }
            i += 8;
        }
        super::bytewise(bytes, i, ascii_only)
    }
}

/// Eight bytes (exactly) as a little-endian number.
#[cfg(any(
    test,
    not(all(
        any(target_arch = "x86", target_arch = "x86_64"),
        target_feature = "sse2"
    ))
))]
#[inline(always)]
fn le_u64(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().unwrap_or_default())
}

/// [`skip_plain`] one byte at a time, for the last few bytes.
#[cold]
fn bytewise(bytes: &[u8], mut i: usize, ascii_only: bool) -> usize {
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 || (ascii_only && b >= 0x80) {
            break;
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_plain_means_no_byte_would_stop_a_scan() {
        let mut text = [b'a'; 129];
        text[128] = b'"';
        assert!(all_plain(&text));
        for i in 0..128 {
            for b in [b'"', b'\\', 0x00, 0x1f, 0x80, 0xff] {
                let mut bad = text;
                bad[i] = b;
                assert!(!all_plain(&bad), "{b:#x} at {i}");
            }
        }
    }

    #[test]
    fn the_stop_mask_has_one_bit_per_stopping_byte() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            let mut chunk = [0u8; 16];
            for b in &mut chunk {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *b = match seed % 3 {
                    0 => {
                        [b'"', b'\\', 0x00, 0x1f, 0x20, 0x7f, 0x80, 0xff][(seed >> 8) as usize % 8]
                    }
                    _ => (seed >> 16) as u8,
                };
            }
            let expected = chunk
                .iter()
                .enumerate()
                .filter(|&(_, &b)| matches!(b, b'"' | b'\\' | 0x00..=0x1f | 0x80..=0xff))
                .fold(0u32, |mask, (i, _)| mask | 1 << i);
            assert_eq!(stop_mask(&chunk), expected, "{chunk:?}");
            assert_eq!(stop_mask_bytewise(&chunk), expected, "bytewise: {chunk:?}");
        }
    }

    #[test]
    fn every_scan_stops_at_the_first_quote_backslash_or_control_byte() {
        // With `ascii_only`, non-ASCII bytes stop the scan too.
        let naive = |bytes: &[u8], i: usize, ascii_only: bool| {
            (i..bytes.len())
                .find(|&j| {
                    matches!(bytes[j], b'"' | b'\\' | 0x00..=0x1f)
                        || (ascii_only && bytes[j] >= 0x80)
                })
                .unwrap_or(bytes.len().max(i))
        };
        let alphabet = [
            b'a', b'"', b'\\', 0x00, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0xa2, 0xdc, 0xff,
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in 0..48 {
            for _ in 0..200 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        // Mostly plain bytes, so runs are long enough to matter.
                        if seed.is_multiple_of(4) {
                            alphabet[(seed >> 8) as usize % alphabet.len()]
                        } else {
                            b'a' + (seed >> 8) as u8 % 26
                        }
                    })
                    .collect();
                for start in 0..=len {
                    for ascii_only in [true, false] {
                        let expected = naive(&bytes, start, ascii_only);
                        let context = format!("{bytes:?} from {start}, ascii_only {ascii_only}");
                        assert_eq!(skip_plain(&bytes, start, ascii_only), expected, "{context}");
                        assert_eq!(
                            words::skip_plain(&bytes, start, ascii_only),
                            expected,
                            "word-wise: {context}"
                        );
                    }
                }
            }
        }
    }
}
