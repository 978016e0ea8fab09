//! An HMAC-SHA512 signature: the gateway's lowercase hex form, and the
//! comparison with a received hex signature in constant time.

use core::fmt;

use subtle::ConstantTimeEq;

/// An HMAC-SHA512 signature. `Display` gives the gateway's lowercase hex form.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub(super) [u8; 64]);

impl Signature {
    /// The raw 64 bytes.
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }

    /// The lowercase hex form as 128 ASCII bytes, without allocating.
    pub fn to_hex(&self) -> [u8; 128] {
        // Arithmetic rather than a table lookup, so it vectorises: a nibble
        // above 9 gets the 39 that takes `'0' + 10` to `'a'`.
        let hex = |n: u8| n + b'0' + (((9u8.wrapping_sub(n)) >> 7) * 39);
        let mut out = [0u8; 128];
        for (pair, b) in out.chunks_exact_mut(2).zip(&self.0) {
            pair[0] = hex(b >> 4);
            pair[1] = hex(b & 0x0f);
        }
        out
    }

    /// Compares with a hex signature as received (either letter case), in
    /// time that does not depend on where the first difference is.
    pub fn matches_hex(&self, received: &[u8]) -> bool {
        match <&[u8; 128]>::try_from(received) {
            Ok(received) => hex_matches(&self.0, received),
            Err(_) => false,
        }
    }
}

/// Whether `received` is exactly the lowercase hex form of `digest` (as
/// the documentation computes it: `strtolower(hash_hmac(...))`; the
/// gateway never sends another form, so upper-case hex is refused like any
/// other wrong signature), in time that does not depend on the data: every
/// byte is looked at and the differences are folded together before one
/// final test.
#[cfg(all(
    any(target_arch = "x86", target_arch = "x86_64"),
    target_feature = "sse2"
))]
fn hex_matches(digest: &[u8; 64], received: &[u8; 128]) -> bool {
    use safe_arch::{
        add_i8_m128i, bitand_m128i, bitor_m128i, bitxor_m128i, cmp_eq_mask_i8_m128i,
        cmp_gt_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i, set_i64_m128i,
        set_splat_i8_m128i, shr_imm_u16_m128i, unpack_high_i8_m128i, unpack_low_i8_m128i,
        zeroed_m128i,
    };
    let nibble = set_splat_i8_m128i(0x0f);
    let mut diff = zeroed_m128i();
    for (bytes, hex) in digest.chunks_exact(16).zip(received.chunks_exact(32)) {
        // Two 8-byte loads, each the size of one store of the digest just
        // written (a 16-byte load over two such stores waits for them to
        // reach the cache instead of taking them from the store buffer).
        let word = |at: usize| {
            let word = bytes.get(at..at + 8).and_then(|w| w.first_chunk::<8>());
            i64::from_le_bytes(*word.unwrap_or(&[0; 8]))
        };
        let bytes = set_i64_m128i(word(8), word(0));
        let high = bitand_m128i(shr_imm_u16_m128i::<4>(bytes), nibble);
        let low = bitand_m128i(bytes, nibble);
        // The nibbles in text order, sixteen at a time, as lowercase hex:
        // `'0' + n`, plus 39 more for the letters.
        let halves = [
            unpack_low_i8_m128i(high, low),
            unpack_high_i8_m128i(high, low),
        ];
        for (nibbles, hex) in halves.into_iter().zip(hex.chunks_exact(16)) {
            let letters = cmp_gt_mask_i8_m128i(nibbles, set_splat_i8_m128i(9));
            let expected = add_i8_m128i(
                add_i8_m128i(nibbles, set_splat_i8_m128i(b'0' as i8)),
                bitand_m128i(letters, set_splat_i8_m128i(39)),
            );
            let got = load_unaligned_m128i(hex.first_chunk().unwrap_or(&[0; 16]));
            diff = bitor_m128i(diff, bitxor_m128i(got, expected));
        }
    }
    let same = move_mask_i8_m128i(cmp_eq_mask_i8_m128i(diff, zeroed_m128i())) as u16;
    bool::from(same.ct_eq(&0xffff))
}

/// [`hex_matches`] without SSE2: straight passes the compiler vectorises.
#[cfg(any(
    test,
    not(all(
        any(target_arch = "x86", target_arch = "x86_64"),
        target_feature = "sse2"
    ))
))]
fn hex_matches_bytewise(digest: &[u8; 64], received: &[u8; 128]) -> bool {
    let expected = Signature(*digest).to_hex();
    let mut diff = 0u8;
    for (&c, &e) in received.iter().zip(&expected) {
        diff |= c ^ e;
    }
    bool::from(diff.ct_eq(&0))
}

#[cfg(not(all(
    any(target_arch = "x86", target_arch = "x86_64"),
    target_feature = "sse2"
)))]
fn hex_matches(digest: &[u8; 64], received: &[u8; 128]) -> bool {
    hex_matches_bytewise(digest, received)
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.to_hex();
        // `to_hex` only produces ASCII hex digits.
        match core::str::from_utf8(&hex) {
            Ok(s) => f.write_str(s),
            Err(_) => Err(fmt::Error),
        }
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: the `hmac` crate's HMAC-SHA512 of `message`.
    fn reference(key: &[u8], message: &[u8]) -> [u8; 64] {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha512>::new_from_slice(key).unwrap();
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    #[test]
    fn hex_round_trip_accepts_lowercase_only_and_rejects_garbage() {
        let sig = Signature(reference(b"k", b"abc"));
        let hex = sig.to_hex();
        assert!(sig.matches_hex(&hex));
        assert!(hex.iter().any(u8::is_ascii_lowercase));
        assert!(!sig.matches_hex(hex.to_ascii_uppercase().as_slice()));
        let mut wrong = hex;
        wrong[127] = if wrong[127] == b'0' { b'1' } else { b'0' };
        assert!(!sig.matches_hex(&wrong));
        let mut not_hex = hex;
        not_hex[0] = b'g';
        assert!(!sig.matches_hex(&not_hex));
        // Control bytes that a case fold (`| 0x20`) would map onto a digit.
        for (i, &c) in hex
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_ascii_digit())
            .take(3)
        {
            let mut control = hex;
            control[i] = c - 0x20;
            assert!(!sig.matches_hex(&control));
        }
        // Every other byte in place of a digit or a letter, in every
        // sixteen-byte lane of the comparison.
        for i in [0, 1, 15, 16, 31, 32, 63, 64, 100, 126, 127] {
            for c in 0..=255u8 {
                let mut other = hex;
                other[i] = c;
                let same = c == hex[i];
                assert_eq!(sig.matches_hex(&other), same, "byte {c:#x} at {i}");
                assert_eq!(
                    hex_matches_bytewise(sig.as_bytes(), &other),
                    same,
                    "bytewise: byte {c:#x} at {i}"
                );
            }
        }
        assert!(!sig.matches_hex(&hex[..126]));
        assert!(!sig.matches_hex(&[&hex[..], b"0"].concat()));
    }
}
