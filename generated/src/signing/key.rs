//! Secret keys and the keyed HMAC-SHA512 state derived from them.

use core::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha512;
use subtle::ConstantTimeEq;

use super::canonical::ByteSink;

type HmacSha512 = Hmac<Sha512>;

/// A merchant's secret key, as issued by the gateway with the other credentials.
///
/// The bytes never appear in `Debug` output, and the key is only used through
/// [`SigningKey`], which keeps the HMAC pads precomputed.
#[derive(Clone)]
pub struct SecretKey(Box<[u8]>);

impl SecretKey {
    /// Wraps the key exactly as issued (the gateway's keys are hex text; the
    /// text itself, not its decoded bytes, is the HMAC key).
    pub fn new(key: impl AsRef<[u8]>) -> Self {
        SecretKey(key.as_ref().into())
    }

    /// The number of bytes in the key; the key itself is never exposed.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the key is empty (the gateway never issues empty keys).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(<redacted, {} bytes>)", self.0.len())
    }
}

/// The HMAC-SHA512 state keyed once per secret; every signature starts from a
/// clone of it, so the two key-pad compressions are paid once, not per call.
#[derive(Clone)]
pub struct SigningKey {
    keyed: HmacSha512,
}

impl SigningKey {
    /// Precomputes the keyed state for `secret`.
    pub fn new(secret: &SecretKey) -> Self {
        SigningKey::from_bytes(&secret.0)
    }

    /// Precomputes the keyed state for raw key bytes.
    pub fn from_bytes(secret: &[u8]) -> Self {
        // HMAC accepts keys of any length (longer ones are hashed first), so
        // `new_from_slice` cannot fail for HMAC-SHA512.
        let keyed = match HmacSha512::new_from_slice(secret) {
            Ok(mac) => mac,
            Err(_) => unreachable_hmac_key_error(),
        };
        SigningKey { keyed }
    }

    /// A fresh streaming MAC over an empty message.
    pub fn mac(&self) -> MacSink {
        MacSink {
            mac: self.keyed.clone(),
        }
    }
}

#[cold]
fn unreachable_hmac_key_error() -> ! {
    // `Hmac::new_from_slice` only rejects keys for MACs with a fixed key size;
    // HMAC has none. Reaching this would be a bug in the `hmac` crate.
    panic!("HMAC-SHA512 rejected a key; HMAC accepts keys of every length")
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

/// A running HMAC-SHA512 over the canonical string: the byte sink that the
/// derive path and the raw-JSON path both write into.
#[derive(Clone)]
pub struct MacSink {
    mac: HmacSha512,
}

impl MacSink {
    /// Finishes the MAC.
    pub fn finish(self) -> Signature {
        let out = self.mac.finalize().into_bytes();
        let mut bytes = [0u8; 64];
        bytes.copy_from_slice(&out);
        Signature(bytes)
    }
}

impl ByteSink for MacSink {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.mac.update(bytes);
    }
}

/// An HMAC-SHA512 signature. `Display` gives the gateway's lowercase hex form.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature([u8; 64]);

impl Signature {
    /// The raw 64 bytes.
    pub fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }

    /// The lowercase hex form as 128 ASCII bytes, without allocating.
    pub fn to_hex(&self) -> [u8; 128] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 128];
        for (i, b) in self.0.iter().enumerate() {
            out[2 * i] = HEX[usize::from(b >> 4)];
            out[2 * i + 1] = HEX[usize::from(b & 0x0f)];
        }
        out
    }

    /// Compares with a hex signature as received (either letter case), in
    /// time that does not depend on where the first difference is.
    pub fn matches_hex(&self, received: &[u8]) -> bool {
        if received.len() != 128 {
            return false;
        }
        let mut decoded = [0u8; 64];
        let mut valid = 1u8;
        for (i, pair) in received.chunks_exact(2).enumerate() {
            let (hi, hi_ok) = hex_digit(pair[0]);
            let (lo, lo_ok) = hex_digit(pair[1]);
            valid &= hi_ok & lo_ok;
            decoded[i] = (hi << 4) | lo;
        }
        let equal = self.0.ct_eq(&decoded);
        bool::from(equal & subtle::Choice::from(valid))
    }
}

/// Decodes one hex digit without branching on its value; returns the nibble
/// and 1 if the byte was a hex digit, else 0.
#[inline]
fn hex_digit(c: u8) -> (u8, u8) {
    let digit = c.wrapping_sub(b'0');
    let lower = (c | 0x20).wrapping_sub(b'a');
    let is_digit = ((digit < 10) as u8) & 1;
    let is_alpha = ((lower < 6) as u8) & 1;
    let value =
        (digit & is_digit.wrapping_neg()) | (lower.wrapping_add(10) & is_alpha.wrapping_neg());
    (value & 0x0f, is_digit | is_alpha)
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

    #[test]
    fn debug_never_shows_the_key() {
        let key = SecretKey::new("cf11635572c1e8d7");
        let shown = format!("{key:?} {:?}", SigningKey::new(&key));
        assert!(!shown.contains("cf11"), "{shown}");
    }

    #[test]
    fn hex_round_trip_accepts_either_case_and_rejects_garbage() {
        let mut mac = SigningKey::from_bytes(b"k").mac();
        mac.write(b"abc");
        let sig = mac.finish();
        let hex = sig.to_hex();
        assert!(sig.matches_hex(&hex));
        assert!(sig.matches_hex(hex.to_ascii_uppercase().as_slice()));
        let mut wrong = hex;
        wrong[127] = if wrong[127] == b'0' { b'1' } else { b'0' };
        assert!(!sig.matches_hex(&wrong));
        let mut not_hex = hex;
        not_hex[0] = b'g';
        assert!(!sig.matches_hex(&not_hex));
        assert!(!sig.matches_hex(&hex[..126]));
    }
}
