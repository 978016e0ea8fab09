//! HUB2: payment intents, payments, transfers, balance, Processing Only
//! (`/delegated/`) mode and webhooks.
//!
//! [`models`] is generated from `spec/hub2/openapi.yaml`
//! (`paygate-generated`).

/// Typed models of the HUB2 API, generated from `spec/hub2/openapi.yaml`:
/// request and response bodies, their open enums and the operation table.
pub mod models {
    pub use paygate_generated::hub2::*;
}

pub mod client;
pub mod webhook;

pub use client::{Environment, Hub2Client, Hub2Config, Hub2Error, Hub2PaymentClient};
pub use webhook::{
    verify_webhook, verify_webhook_event, WebhookError, WebhookSecret, WebhookSecrets,
};
