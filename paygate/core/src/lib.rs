//! paygate-core: what paygate's generated bindings are built on.
//!
//! * [`money`]: amounts without floats ([`money::Amount`] for requests,
//!   [`money::Decimal`] for what gateways send back);
//! * [`signing`]: one streaming HMAC-SHA512 engine for the Payment API
//!   Gateway's signatures, fed by a typed value (`#[derive(Signable)]`) or
//!   by the raw bytes of a received payload, in document order;
//! * [`rules`]: the types of the provider tables (every fact with its
//!   source and certainty);
//! * [`lenient`]: reading wire values as the documentation writes them;
//! * [`operation`]: the operation table's types.
//!
//! Merchants depend on the `paygate` crate, which re-exports all of this;
//! `paygate-generated` (the bindings written by `paygate-codegen` from
//! `spec/`) depends on this crate alone.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod lenient;
pub mod money;
pub mod operation;
pub mod rules;
pub mod signing;

/// `#[derive(Signable)]`: writes a struct's fields, in declaration order and
/// under their serde names, into the signing engine.
pub use paygate_derive::Signable;

/// Lets the code `#[derive(Signable)]` generates (which names
/// `::paygate::signing`) compile inside this crate too.
extern crate self as paygate;
