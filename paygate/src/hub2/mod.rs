//! HUB2: payment intents, payments, transfers, balance, Processing Only
//! (`/delegated/`) mode and webhooks.
//!
//! [`models`] is generated from `spec/hub2/openapi.yaml` and [`providers`]
//! from `spec/hub2/providers.yaml` (`paygate-generated`).

/// Typed models of the HUB2 API, generated from `spec/hub2/openapi.yaml`:
/// request and response bodies, their open enums and the operation table.
pub mod models {
    pub use paygate_generated::hub2::*;
}

/// Which (country, provider) pairs and methods HUB2 serves, in which
/// currency, and what Processing Only mode supports: typed tables generated
/// from `spec/hub2/providers.yaml`, each with its [`Provenance`](providers::Provenance).
pub mod providers {
    pub use paygate_core::rules::{Certainty, Provenance, Quote};
    pub use paygate_generated::hub2::providers::*;
}

pub mod client;
pub mod webhook;

pub use client::{Environment, Hub2Client, Hub2Config, Hub2Error, Hub2PaymentClient};
pub use webhook::{
    verify_webhook, verify_webhook_event, WebhookError, WebhookSecret, WebhookSecrets,
};
