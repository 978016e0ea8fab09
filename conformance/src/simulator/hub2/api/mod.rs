//! The HUB2 API: its routes, rate limited per client IP.
//!
//! * this module: the route table, and the answers to paths and methods
//!   that are not routes;
//! * [`limit`]: the global per-IP limit (middleware) and the polling
//!   throttle;
//! * [`auth`]: the [`Caller`](auth::Caller) extractor (`ApiKey`,
//!   `MerchantId`, `Environment`) and the permission of `/delegated/`
//!   routes;
//! * [`token`]: the payment-intent token of the device-side routes and its
//!   extractor;
//! * [`input`]: the JSON body extractor and the format checks of fields;
//! * [`rules`]: what HUB2 serves (pairs, currencies, bank transfer,
//!   Processing Only mode) and the plan an attempt gets;
//! * [`intents`]: creating and reading payment intents;
//! * [`payments`]: payment attempts, the OTP step, `/delegated/payments`;
//! * [`transfers`]: transfers, `/delegated/transfers`, their end;
//! * [`balance`]: `GET /balance`;
//! * [`webhooks`]: registering, listing and deleting webhooks;
//! * [`faults`]: a merchant's seeded faults on the answers to creating
//!   calls (middleware).
//!
//! Handlers return `Result<_, Hub2ApiError>`; extractors refuse with
//! [`Hub2ApiError`] too, so every refusal has the spec's `Error` body.

mod auth;
mod balance;
mod faults;
mod input;
mod intents;
mod limit;
mod payments;
mod rules;
mod token;
mod transfers;
mod webhooks;

use axum::http::{StatusCode, Uri};
use axum::routing::{delete, get, post};
use axum::Router;

use super::error::Hub2ApiError;
use crate::simulator::SimulatorState;

pub(crate) use transfers::{finish_transfer, schedule_transfer};

/// The API routes, behind the global rate limit.
pub(super) fn routes(state: SimulatorState) -> Router<SimulatorState> {
    Router::new()
        .route("/payment-intents", post(intents::create_intent))
        .route("/payment-intents/{id}", get(intents::get_intent))
        .route(
            "/payment-intents/{id}/status",
            get(intents::get_intent_status),
        )
        .route(
            "/payment-intents/{id}/payments",
            post(payments::attempt_payment),
        )
        .route(
            "/payment-intents/{id}/authentication",
            post(payments::authenticate_payment),
        )
        .route("/transfers", post(transfers::create_transfer))
        .route("/transfers/{id}", get(transfers::get_transfer))
        .route(
            "/transfers/{id}/status",
            get(transfers::get_transfer_status),
        )
        .route("/balance", get(balance::get_balance))
        .route("/delegated/payments", post(payments::delegated_payment))
        .route("/delegated/transfers", post(transfers::delegated_transfer))
        .route(
            "/webhooks",
            post(webhooks::create_webhook).get(webhooks::list_webhooks),
        )
        .route("/webhooks/{id}", delete(webhooks::delete_webhook))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::answer_faults,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            limit::rate_limit,
        ))
}

/// Any path under `/hub2` that is not a route.
pub(super) async fn not_found(uri: Uri) -> Hub2ApiError {
    Hub2ApiError::not_found(format!("Cannot find {} in the HUB2 API", uri.path()))
}

/// A route called with the wrong HTTP method.
pub(super) async fn method_not_allowed(uri: Uri) -> Hub2ApiError {
    Hub2ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method not allowed on {}", uri.path()),
    )
}
