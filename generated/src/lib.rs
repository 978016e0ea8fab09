//! paygate: typed bindings, the signing engine and a client for African
//! mobile-money gateways.
//!
//! The models, enums, provider tables and operation table are generated at
//! build time from `spec/` by `paygate-codegen`; the runtime beside them is
//! hand-written.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod signing;

/// `#[derive(Signable)]`: writes a struct's fields, in declaration order and
/// under their serde names, into the signing engine.
pub use paygate_derive::Signable;
pub use signing::{SecretKey, Signature, SigningKey};
pub mod callback;
pub mod client;
pub mod lenient;
pub mod money;
pub mod operation;
pub mod rules;
pub mod validate;

/// Lets the code `#[derive(Signable)]` generates (which names
/// `::paygate::signing`) compile inside this crate too.
extern crate self as paygate;

#[deny(warnings)]
pub mod gateway;
pub mod hub2;

/// The README's Rust examples, compiled and run as doctests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
