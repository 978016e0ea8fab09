//! Webhook events: built from the objects, signed with `Hub2-Signature`,
//! delivered with retries, every attempt recorded; with `--db`, each event
//! is in an outbox until delivered or given up, so a restart sends it
//! again.

use bytes::Bytes;
use paygate::hub2::models::{
    Payment, PaymentIntent, Transfer, WebhookEvent, WebhookEventData, WebhookEventType,
};

use super::config::Hub2Environment;
use super::persist::{self, Change};
use super::store::{PendingWebhook, WebhookDelivery};
use paygate::hub2::webhook::WebhookSecret;

use super::iso_now;
use crate::simulator::callback_http::{CallbackHttp, NoAnswer};
use crate::simulator::SimulatorState;
use hyper::header::{HeaderName, HeaderValue};

/// The data of a `payment_intent.*` event (the intent without its token).
pub(crate) fn intent_data(intent: &PaymentIntent) -> serde_json::Value {
    let mut value = serde_json::to_value(intent).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.remove("token");
    }
    value
}

/// The data of a `payment.*` event.
pub(crate) fn payment_data(payment: &Payment) -> serde_json::Value {
    serde_json::to_value(payment).unwrap_or_default()
}

/// The data of a `transfer.*` event.
pub(crate) fn transfer_data(transfer: &Transfer) -> serde_json::Value {
    serde_json::to_value(transfer).unwrap_or_default()
}

/// `Hub2-Signature` for `body`: `s1=<hex>` with the current secret, and
/// `,s0=<hex>` with the previous one when given (paygate's own
/// [`paygate::hub2::webhook::signature_header`]).
pub fn signature_header(current: &str, previous: Option<&str>, body: &[u8]) -> String {
    let previous = previous.map(WebhookSecret::new);
    paygate::hub2::webhook::signature_header(&WebhookSecret::new(current), previous.as_ref(), body)
}

/// Sends the event to every webhook of the merchant (same environment)
/// subscribed to `event_type`.
pub(crate) fn emit(
    state: &SimulatorState,
    merchant_id: &str,
    env: Hub2Environment,
    event_type: WebhookEventType,
    data: serde_json::Value,
) {
    let targets: Vec<(String, String)> = state
        .hub2_store()
        .webhooks
        .values()
        .filter(|w| {
            w.merchant_id == merchant_id && w.env == env && w.webhook.events.contains(&event_type)
        })
        .map(|w| (w.webhook.id.clone(), w.webhook.url.clone()))
        .collect();
    if targets.is_empty() {
        return;
    }
    let data: WebhookEventData = match serde_json::from_value(data) {
        Ok(data) => data,
        Err(err) => {
            tracing::error!(error = %err, "cannot build a HUB2 webhook event");
            return;
        }
    };
    let event = WebhookEvent {
        id: state.hub2_id("evt_"),
        r#type: event_type,
        created_at: iso_now(),
        data,
    };
    let body = match serde_json::to_string(&event) {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(error = %err, "cannot serialize a HUB2 webhook event");
            return;
        }
    };
    for (webhook_id, url) in targets {
        let pending = PendingWebhook {
            webhook_id,
            url,
            body: body.clone(),
            event_id: event.id.clone(),
            event_type: event.r#type.as_str().to_owned(),
            object_id: event.data.id.clone(),
            status: event.data.status.clone(),
            attempts_made: 0,
        };
        // In the outbox (with `--db`) until delivered or given up: a
        // restart sends it again (see `persist`).
        {
            let _store = state.hub2_store();
            persist::record(state, &[Change::Outbox(&pending)]).detach();
        }
        deliver(state, pending);
    }
}

/// Delivers `pending` on a task of its own: the attempts after the ones
/// already made, with the retry policy's backoff, each recorded; the
/// outbox row follows the attempt count and goes when the event is
/// delivered or given up (it stays if the simulator stops first).
pub(crate) fn deliver(state: &SimulatorState, mut pending: PendingWebhook) {
    let state = state.clone();
    let task_state = state.clone();
    let body = Bytes::from(pending.body.clone().into_bytes());
    task_state.spawn(async move {
        let retry = state.config().callback_retry;
        let attempts = retry.max_attempts.max(1);
        let PendingWebhook {
            webhook_id,
            url,
            event_id,
            event_type,
            object_id,
            status,
            ..
        } = pending.clone();
        for attempt in pending.attempts_made.saturating_add(1)..=attempts {
            // The secrets are read at each attempt: a rotation between
            // attempts signs the retry with the new secret (and s0).
            let secrets = state
                .hub2_store()
                .webhooks
                .get(&webhook_id)
                .map(|w| (w.secret.clone(), w.live_previous().map(str::to_owned)));
            let Some((current, previous)) = secrets else {
                // Deleted: nothing to deliver to any more.
                let _store = state.hub2_store();
                persist::record(&state, &[Change::OutboxDone(pending.key())]).detach();
                return;
            };
            let signature = signature_header(&current, previous.as_deref(), &body);
            let Ok(slot) = state.0.deliveries.acquire().await else {
                return;
            };
            let sent = match (CallbackHttp::uri(&url), HeaderValue::try_from(signature)) {
                (Ok(uri), Ok(signature)) => {
                    let signed = [(HeaderName::from_static("hub2-signature"), signature)];
                    state.0.http.post_json(uri, &signed, body.clone()).await
                }
                (Err(bad), _) => Err(bad),
                (_, Err(e)) => Err(NoAnswer::Failed(format!("cannot send the signature: {e}"))),
            };
            drop(slot);
            let (http_status, error) = match sent {
                Ok(response) => (Some(response.status), None),
                Err(err) => (None, Some(err.to_string())),
            };
            let delivered = http_status.is_some_and(|s| (200..300).contains(&s));
            if delivered {
                tracing::debug!(%webhook_id, %event_type, %object_id, attempt, http_status, "HUB2 webhook delivered");
            } else {
                tracing::info!(%webhook_id, %event_type, %object_id, attempt, http_status, error = error.as_deref(), "HUB2 webhook attempt failed");
            }
            let delivery = WebhookDelivery {
                webhook_id: webhook_id.clone(),
                event_id: event_id.clone(),
                event_type: event_type.clone(),
                object_id: object_id.clone(),
                status: status.clone(),
                url: url.clone(),
                attempt,
                http_status,
                error,
                delivered,
                signed_with_previous: previous.is_some(),
                at: iso_now(),
            };
            let done = delivered || attempt == attempts;
            pending.attempts_made = attempt;
            {
                let mut store = state.hub2_store();
                let progress = if done {
                    Change::OutboxDone(pending.key())
                } else {
                    Change::Outbox(&pending)
                };
                persist::record(&state, &[Change::Delivery(&delivery), progress]).detach();
                store.deliveries.push(delivery);
            }
            if done {
                return;
            }
            if !state.sleep(retry.backoff(attempt)).await {
                return;
            }
        }
    });
}
