//! The signing engine: one streaming HMAC-SHA512 over the gateway's
//! canonical string, fed either by a typed value (`#[derive(Signable)]`) or
//! by the raw bytes of a received JSON payload, in document order.
//!
//! * typed payloads: [`sign`] (and [`canonical_string`], to see the bytes
//!   signed), for any type that implements [`Signable`];
//! * received payloads, over their raw bytes: [`verify_json`] (in constant
//!   time), [`sign_json`] and [`canonical_json`];
//! * keys: a [`SecretKey`] as issued, keyed once into a [`SigningKey`] that
//!   every signature reuses; a [`Signature`] is the result.
//!
//! Both paths produce the same bytes for the same payload.
//!
//! # The canonical string
//!
//! The documented algorithm (Payment API Gateway v5.7.2, PHP
//! `calculateSignature`) walks the payload in the order it is sent and, for
//! every scalar, appends `prefix + key + value`; a nested object or list
//! contributes its entries under the prefix `parent.` (lists by index, so
//! `items.0.sku`). Scalars whose key is `signature` are skipped at every
//! level; a nested object or list named `signature` is *not* skipped, because
//! the PHP checks `is_array` first. Recursion level 16 ([`MAX_DEPTH`]) is an
//! error.
//!
//! The published PHP returns `$StringForSignature` (capital S, an undefined
//! variable) from nested levels, which raises a `TypeError` on any nested
//! payload. paygate implements the evidently intended behaviour: nested
//! levels return the string they built.
//!
//! # Received JSON
//!
//! The gateway signs `calculateSignature(json_decode($body, true), $key)`:
//! the decoded values in document order, rendered the way PHP 8 prints them
//! when concatenated to a string. [`canonical_json`], [`sign_json`] and
//! [`verify_json`] walk the raw body once, with a strict (RFC 8259) JSON
//! reader, and feed every key and scalar to the MAC as they go; nothing is
//! decoded into a tree, and the normal path allocates nothing.
//!
//! PHP renderings after `json_decode(..., true)`:
//!
//! * strings: their decoded UTF-8 bytes;
//! * `true`: `1`; `false` and `null`: nothing;
//! * integers within the i64 range: plain decimal (`-0` is the int `0`);
//! * every other number (fractions, exponents, integers outside i64): a PHP
//!   float, printed as PHP 8 prints one with the default `precision=14`
//!   (`100.1`, `0.0001`, `1.0E-5`, `1.0E+25`, `-0`, `INF`).
//!
//! Differences from what PHP would accept, all deliberate: the top level must
//! be an object (PHP would also sign a top-level list), and a key that occurs
//! twice in one object is an error (PHP silently keeps the last value at the
//! first key's position, which lets one signed payload be read two ways).

mod canonical;
mod copy;
mod json_string;
mod key;
mod php_number;
mod prefix;
mod raw;
mod scan;
mod segment;
mod signature;
mod sink;
mod stack_buf;
mod value;

pub use canonical::SignError;
pub use key::{SecretKey, SigningKey};
pub use prefix::MAX_DEPTH;
pub use raw::{canonical_json, sign_json, verify_json, JsonError, VerifyError};
pub use signature::Signature;
pub use value::{SignValue, Signable};

use canonical::Canonicalizer;

/// The engine's internals that `#[derive(Signable)]`, the generated
/// bindings and paygate's own tests, benchmarks and fuzz targets name: the
/// types in the [`Signable`] and [`SignValue`] method signatures
/// ([`Canonicalizer`](__private::Canonicalizer),
/// [`Segment`](__private::Segment), [`ByteSink`](__private::ByteSink)) and
/// PHP's rendering of numbers.
///
/// Not part of the public API: no stability promise, anything here may
/// change in any release. Implement [`Signable`] with `#[derive(Signable)]`.
#[doc(hidden)]
pub mod __private {
    pub use super::canonical::Canonicalizer;
    pub use super::php_number::{write_php_float, write_php_json_number};
    pub use super::segment::Segment;
    pub use super::sink::ByteSink;
}

/// Signs a typed payload: its fields in declaration order, `signature`
/// excluded. Allocates nothing.
pub fn sign<T: Signable + ?Sized>(key: &SigningKey, payload: &T) -> Result<Signature, SignError> {
    // The sink stays in place; the canonicalizer writes through a reference.
    let mut mac = key.mac();
    payload.write_fields(&mut Canonicalizer::new(&mut mac))?;
    Ok(mac.finish_in_place())
}

/// The canonical string of a typed payload, for debugging and tests.
pub fn canonical_string<T: Signable + ?Sized>(payload: &T) -> Result<Vec<u8>, SignError> {
    let mut out = Canonicalizer::new(Vec::new());
    payload.write_fields(&mut out)?;
    Ok(out.into_sink())
}
