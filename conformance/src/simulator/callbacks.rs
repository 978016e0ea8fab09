//! Delivering callbacks: POST, retry with exponential backoff until the
//! merchant answers HTTP 200, record every attempt. Neither the key nor the
//! signature is logged or recorded.

use bytes::Bytes;

use super::state::{now_timestamp, CallbackAttempt, Transaction};
use super::SimulatorState;

/// Starts delivering `body` to `url` in the background.
pub(crate) fn spawn_delivery(state: &SimulatorState, tx: &Transaction, url: String, body: Bytes) {
    let state = state.clone();
    let public_id = tx.public_id.clone();
    let order_id = tx.order_id.clone();
    let operation_type = tx.operation.operation_type();
    let status = tx.status;
    tokio::spawn(async move {
        let retry = state.config().callback_retry;
        let attempts = retry.max_attempts.max(1);
        for attempt in 1..=attempts {
            let sent = state
                .0
                .http
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await;
            let (http_status, error) = match sent {
                Ok(response) => (Some(response.status().as_u16()), None),
                Err(err) => (None, Some(err.to_string())),
            };
            let delivered = http_status == Some(200);
            tracing::info!(
                %order_id, %url, attempt, http_status, error = error.as_deref(), delivered,
                "callback attempt"
            );
            state.store().record_attempt(CallbackAttempt {
                public_id: public_id.clone(),
                order_id: order_id.clone(),
                operation_type,
                status,
                url: url.clone(),
                attempt,
                http_status,
                error,
                delivered,
                at: now_timestamp(),
            });
            if delivered || attempt == attempts {
                if !delivered {
                    tracing::warn!(%order_id, %url, attempts, "callback not delivered; giving up");
                }
                return;
            }
            if !state.sleep(retry.backoff(attempt)).await {
                return;
            }
        }
    });
}
