//! Signing and verifying received JSON payloads straight from their bytes.
//!
//! The gateway signs `calculateSignature(json_decode($body, true), $key)`;
//! how PHP renders each value, and where this reader deliberately refuses
//! what PHP would accept, is described in the `signing` module's
//! documentation. This module walks the raw body once, with a hand-written
//! strict (RFC 8259) JSON reader, and feeds every key and scalar to the
//! sink as it goes; nothing is decoded into a tree, and the normal path
//! allocates nothing. Numbers other than i64 integers are printed as PHP
//! floats by `php_number`.
//!
//! How the walk stays cheap (it runs next to the HMAC on every callback):
//!
//! * UTF-8 is checked lazily: outside strings the reader accepts only ASCII,
//!   and the string scanner notes the first non-ASCII byte, so the body is
//!   validated (with `core::str::from_utf8`, whose error takes precedence
//!   over every other, as if it ran first) only if it holds non-ASCII text
//!   or fails to parse;
//! * strings are scanned sixteen bytes at a time for `"`, `\` and control
//!   (and, until one is seen, non-ASCII) bytes, so a typical key or value
//!   ends in the first step;
//! * the dotted prefix of a nested level is kept decoded in a buffer on the
//!   stack, so each nested scalar costs one prefix write.
//!
//! The pieces, each in its own file: `error` (why a body cannot be signed
//! or fails verification), `tokens` (the reader's state and its token
//! level: whitespace, strings, escapes, numbers), `reader` (the reference
//! reader: objects, lists, members and values in document order),
//! `fast_path` (the common members' shortcut, held to the reference reader
//! by the tests), `key_set` (duplicate keys), `output` (the canonical
//! string's writer and the top-level `signature` field), `tests`.

mod error;
mod fast_path;
mod key_set;
mod output;
mod reader;
mod tokens;

#[cfg(test)]
mod tests;

pub use error::{JsonError, VerifyError};

use super::json_string::write_unescaped;
use super::key::SigningKey;
use super::signature::Signature;
use super::sink::ByteSink;
use super::stack_buf::StackBuf;
use output::SignatureField;
use reader::walk;

/// Streams the canonical string of a raw JSON object into `sink`; returns the raw contents of the top-level "signature" string if present.
///
/// The returned contents are the bytes between the quotes, still
/// JSON-escaped if the sender escaped them. A top-level `signature` that is
/// not a string gives `None` (a scalar is skipped like any `signature`
/// scalar; an object or list is signed as its entries).
// The lifetime is spelled out: the signature borrows from `body`.
#[allow(clippy::needless_lifetimes)]
pub fn canonical_json<'a, S: ByteSink>(
    body: &'a [u8],
    sink: S,
) -> Result<(S, Option<&'a [u8]>), JsonError> {
    let (sink, signature) = walk(body, sink)?;
    let signature = match signature {
        SignatureField::String(raw, _) => Some(raw),
        SignatureField::Missing | SignatureField::NotAString => None,
    };
    Ok((sink, signature))
}

/// Signs a received JSON object exactly as the gateway's PHP does.
pub fn sign_json(key: &SigningKey, body: &[u8]) -> Result<Signature, JsonError> {
    let mut mac = key.mac();
    walk(body, &mut mac)?;
    Ok(mac.finish_in_place())
}

/// Verifies the top-level "signature" of a received payload against its other fields, in constant time.
pub fn verify_json(key: &SigningKey, body: &[u8]) -> Result<(), VerifyError> {
    let mut mac = key.mac();
    let (_, signature) = walk(body, &mut mac)?;
    let (received, escaped) = match signature {
        SignatureField::String(raw, escaped) => (raw, escaped),
        SignatureField::Missing => return Err(VerifyError::MissingSignature),
        SignatureField::NotAString => return Err(VerifyError::SignatureNotAString),
    };
    let expected = mac.finish_in_place();
    let matches = if escaped {
        // Escaped hex (`\u0061`) is still hex once decoded; decode it on the
        // stack. Anything longer than a signature cannot match.
        let mut decoded = StackBuf::<128>::new();
        write_unescaped(received, &mut decoded);
        !decoded.overflow && expected.matches_hex(decoded.as_bytes())
    } else {
        expected.matches_hex(received)
    };
    if matches {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}
