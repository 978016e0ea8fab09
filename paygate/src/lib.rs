//! paygate: typed clients for African mobile-money gateways, with
//! pre-flight validation against each provider's documented rules,
//! idempotent retries, and callback and webhook verification over the raw
//! bytes, in constant time.
//!
//! Two gateways, one module tree each:
//!
//! * [`gateway`]: the **Payment API Gateway** (the white-label API sold under
//!   several brand names): typed models generated from its OpenAPI spec, the
//!   provider table ([`gateway::PROVIDER_TABLE`]), pre-flight validation
//!   ([`gateway::validate`]), the client ([`gateway::client::GatewayClient`])
//!   and callback verification ([`gateway::callback`]);
//! * [`hub2`]: **HUB2**: models, the client ([`hub2::Hub2Client`]) and webhook
//!   verification ([`hub2::webhook`]).
//!
//! Shared pieces: [`money`] (amounts without floats), [`signing`] (the
//! gateway's HMAC-SHA512, `#[derive(Signable)]`), [`http`] (retry and polling
//! policies both clients use).
//!
//! # Quick start
//!
//! ```no_run
//! use paygate::gateway::client::{BrandProfile, ClientConfig, Credentials, GatewayClient};
//! use paygate::gateway::{Country, Currency, PaymentC2bRequest};
//! use paygate::signing::SecretKey;
//!
//! # async fn pay() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ClientConfig::new(
//!     BrandProfile::new("my brand", "https://gateway.example"),
//!     Credentials {
//!         public_id: "your-public-id".into(),
//!         merchant_id: "your-merchant-id".into(),
//!         secret_key: SecretKey::new("your-secret-key"),
//!     },
//! );
//! let client = GatewayClient::new(config)?;
//! let request = PaymentC2bRequest::new(
//!     "your-merchant-id",
//!     "2250705145655",
//!     "order-1",
//!     "1100.00".parse()?,
//!     Currency::Xof,
//!     2303,
//! )
//! .with_country(Country::Ci)
//! .with_callback_url("https://merchant.example/callback");
//! // Validated against provider 2303's rules, signed, sent, retried safely.
//! let reply = client.payment_c2b(request).await?;
//! for warning in &reply.warnings {
//!     println!("the documentation is unsure: {warning}");
//! }
//! println!("status {}", reply.status);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use paygate_core::{lenient, money, operation};

/// The gateway's signing engine: `#[derive(Signable)]` streams a typed
/// payload into HMAC-SHA512 in field order; received payloads are checked
/// over their raw bytes, in document order, in constant time.
pub mod signing {
    pub use paygate_core::signing::*;
}

/// `#[derive(Signable)]`: writes a struct's fields, in declaration order and
/// under their serde names, into the signing engine.
pub use paygate_core::Signable;
pub use signing::{SecretKey, Signature, SigningKey};

/// Lets the code `#[derive(Signable)]` generates (which names
/// `::paygate::signing`) compile inside this crate too.
extern crate self as paygate;

pub mod gateway;
pub mod http;
pub mod hub2;

/// The README's Rust examples, compiled and run as doctests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
