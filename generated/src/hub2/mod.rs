//! HUB2: payment intents, payments, transfers, balance, Processing Only
//! (`/delegated/`) mode and webhooks.
//!
//! [`models`] is generated at build time from `spec/hub2/openapi.yaml`.

/// Typed models of the HUB2 API, generated from `spec/hub2/openapi.yaml`:
/// request and response bodies, their open enums and the operation table.
#[deny(warnings)]
pub mod models {
    include!(concat!(env!("OUT_DIR"), "/hub2.rs"));
}

pub mod client;
pub mod webhook;

pub use client::{Environment, Hub2Client, Hub2Config, Hub2Error, Hub2PaymentClient};
pub use webhook::{
    verify_webhook, verify_webhook_event, WebhookError, WebhookSecret, WebhookSecrets,
};
