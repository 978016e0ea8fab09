//! Seeded faults on HUB2 answers: the same [`FaultProfile`]s as the
//! gateway's (see `simulator::faults`), for a HUB2 merchant (merchants
//! file `hub2.merchants[].faults`, or
//! `PUT /hub2/_sim/merchants/{merchant_id}/faults`).
//!
//! Only the calls that create something can go wrong, and only after the
//! handler accepted and stored it, so the caller truly cannot tell from
//! what it received whether it happened:
//!
//! | call | the draw is keyed by |
//! |---|---|
//! | `POST /payment-intents`, `/delegated/payments` | `purchaseReference` |
//! | `POST /payment-intents/{id}/payments` | the intent's `purchaseReference` |
//! | `POST /transfers`, `/delegated/transfers` | `reference` |
//!
//! Keys are what the merchant chose (never the simulator's random ids), so
//! the same seed and the same requests give the same faults. `error_body`
//! answers HTTP 200 with a body that is not the spec's object.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::super::error::Hub2ApiError;
use crate::simulator::fault_control::hub2_fault_key;
use crate::simulator::SimulatorState;

/// The calls that can go wrong, by the last segments of their path.
fn faulty_call(path: &str) -> Option<&'static str> {
    let path = path.trim_end_matches('/');
    if path.ends_with("/delegated/payments") {
        Some("createDelegatedPayment")
    } else if path.ends_with("/delegated/transfers") {
        Some("createDelegatedTransfer")
    } else if path.ends_with("/payment-intents") {
        Some("createPaymentIntent")
    } else if path.ends_with("/transfers") {
        Some("createTransfer")
    } else if path.ends_with("/payments") && path.contains("/payment-intents/") {
        Some("attemptPayment")
    } else {
        None
    }
}

/// The merchant's references in a creating body.
#[derive(Deserialize)]
struct References {
    #[serde(rename = "purchaseReference")]
    purchase_reference: Option<String>,
    reference: Option<String>,
}

/// Whose call it is and what keys its draw: `(merchant_id, key)`.
fn owner_of(
    state: &SimulatorState,
    call: &str,
    request: &Request,
    body: &[u8],
) -> Option<(String, String)> {
    if call == "attemptPayment" {
        let mut segments = request.uri().path().trim_end_matches('/').rsplit('/');
        segments.next()?; // "payments"
        let intent_id = segments.next()?;
        let store = state.hub2_store();
        let record = store.intents.get(intent_id)?;
        return Some((
            record.intent.merchant_id.clone(),
            record.intent.purchase_reference.clone(),
        ));
    }
    let merchant_id = request
        .headers()
        .get("MerchantId")
        .and_then(|v| v.to_str().ok())?
        .to_owned();
    let refs: References = serde_json::from_slice(body).ok()?;
    let key = refs.purchase_reference.or(refs.reference)?;
    Some((merchant_id, key))
}

/// The middleware: passes every request through, then disrupts the answer
/// of an accepted creating call when the merchant's profile draws a fault.
pub(super) async fn answer_faults(
    State(state): State<SimulatorState>,
    request: Request,
    next: Next,
) -> Response {
    let call = match faulty_call(request.uri().path()) {
        Some(call) if request.method() == Method::POST && state.0.faults.has_profiles() => call,
        _ => return next.run(request).await,
    };
    let (parts, body) = request.into_parts();
    let max = state.config().max_body_bytes;
    let Ok(bytes) = axum::body::to_bytes(body, max).await else {
        return Hub2ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body could not be read, or is larger than {max} bytes"),
        )
        .into_response();
    };
    let request = Request::from_parts(parts, Body::from(bytes.clone()));
    let owner = owner_of(&state, call, &request, &bytes);
    let response = next.run(request).await;
    let Some((merchant_id, reference)) = owner else {
        return response;
    };
    let fault_key = hub2_fault_key(&merchant_id);
    if !response.status().is_success() || !state.0.faults.any_for(&fault_key) {
        return response;
    }
    // The order key also names the call, so an intent's creation and its
    // attempts are counted apart.
    let order = format!("{call}:{reference}");
    let Some(fault) = state.0.faults.answer_fault(&fault_key, call, &order) else {
        return response;
    };
    let slow = state
        .0
        .faults
        .profile(&fault_key)
        .map_or(0, |profile| profile.slow_ms);
    crate::simulator::faults::disrupt(response, fault, std::time::Duration::from_millis(slow)).await
}

#[cfg(test)]
mod tests {
    use super::faulty_call;

    #[test]
    fn only_creating_calls_can_go_wrong() {
        assert_eq!(faulty_call("/payment-intents"), Some("createPaymentIntent"));
        assert_eq!(
            faulty_call("/hub2/payment-intents/pi_1/payments"),
            Some("attemptPayment")
        );
        assert_eq!(faulty_call("/transfers"), Some("createTransfer"));
        assert_eq!(
            faulty_call("/delegated/transfers"),
            Some("createDelegatedTransfer")
        );
        assert_eq!(
            faulty_call("/delegated/payments"),
            Some("createDelegatedPayment")
        );
        assert_eq!(faulty_call("/payment-intents/pi_1/authentication"), None);
        assert_eq!(faulty_call("/payment-intents/pi_1"), None);
        assert_eq!(faulty_call("/transfers/tr_1/status"), None);
    }
}
