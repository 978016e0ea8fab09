//! The Payment API Gateway.
//!
//! The models, their open enums, the operation table ([`OPERATIONS`], one
//! marker type per operation in [`operations`]) and the provider table
//! ([`PROVIDER_TABLE`], [`ProviderId`]) are generated from
//! `spec/gateway/openapi.yaml` and `spec/gateway/providers.yaml`
//! (`paygate-generated`); beside them, the hand-written runtime:
//!
//! * [`rules`]: the types the provider table is made of;
//! * [`validate`]: pre-flight validation (refusals and warnings);
//! * [`client`]: the typed client;
//! * [`callback`]: callback verification and replay detection.

pub use paygate_generated::gateway::*;

pub mod callback;
pub mod client;
pub mod validate;

/// The provider table's types (every fact with its source and certainty).
pub mod rules {
    pub use paygate_core::rules::*;
}
