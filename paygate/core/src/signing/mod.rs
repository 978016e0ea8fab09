//! The signing engine: one streaming HMAC-SHA512 over the gateway's
//! canonical string, fed either by a typed value (`#[derive(Signable)]`) or
//! by the raw bytes of a received JSON payload, in document order.
//!
//! Both paths produce the same bytes for the same payload; see
//! [`canonical`] for the algorithm and [`raw`] for the PHP rendering rules
//! applied to received JSON.

pub mod canonical;
mod copy;
mod json_string;
mod key;
pub mod php_number;
mod prefix;
pub mod raw;
mod scan;
mod segment;
mod signature;
mod sink;
mod stack_buf;
mod value;

pub use canonical::{Canonicalizer, SignError};
pub use key::{MacSink, SecretKey, SigningKey};
pub use prefix::MAX_DEPTH;
pub use raw::{canonical_json, sign_json, verify_json, JsonError, VerifyError};
pub use segment::Segment;
pub use signature::Signature;
pub use sink::ByteSink;
pub use value::{SignValue, Signable};

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
