//! Delivering callbacks: POST, retry with exponential backoff until the
//! merchant answers HTTP 200, record every attempt. Neither the key nor the
//! signature is logged or recorded.
//!
//! With a database, each callback is an outbox row (written with the
//! transaction's final state); every attempt updates it, and
//! [`resume_delivery`] picks up the rows still pending after a restart.

use std::time::Duration;

use bytes::Bytes;

use super::callback_http::CallbackHttp;
use super::clock::{format_timestamp, now_ms, now_timestamp};
use super::persist::{OutboxEntry, OutboxProgress};
use super::transaction::{CallbackAttempt, Transaction};
use super::SimulatorState;

/// One callback to deliver.
#[derive(Clone)]
pub(crate) struct Delivery {
    /// The outbox row (`None` in memory).
    pub(crate) outbox_id: Option<i64>,
    pub(crate) public_id: String,
    pub(crate) order_id: String,
    pub(crate) operation_type: i64,
    pub(crate) status: i64,
    pub(crate) url: String,
    pub(crate) body: Bytes,
    /// The number of the next attempt (1 for a new callback).
    pub(crate) next_attempt: u32,
    /// How long to wait before it.
    pub(crate) delay: Duration,
    /// Another callback to deliver once this one is done (delivered or
    /// given up): a fault profile's stale callback after the final one.
    pub(crate) then: Option<Box<Delivery>>,
}

impl Delivery {
    /// A new callback for `tx` in its current state.
    pub(crate) fn new(tx: &Transaction, url: String, body: Bytes) -> Self {
        Delivery {
            outbox_id: None,
            public_id: tx.public_id.clone(),
            order_id: tx.order_id.clone(),
            operation_type: tx.operation.operation_type(),
            status: tx.status,
            url,
            body,
            next_attempt: 1,
            delay: Duration::ZERO,
            then: None,
        }
    }
}

/// Resumes a delivery read back from the outbox: the next attempt keeps
/// counting from where it stopped and waits until it is due.
pub(crate) fn resume_delivery(state: &SimulatorState, entry: OutboxEntry) {
    let delay = Duration::from_millis(entry.next_attempt_ms.saturating_sub(now_ms()));
    spawn_delivery(
        state,
        Delivery {
            outbox_id: Some(entry.id),
            public_id: entry.public_id,
            order_id: entry.order_id,
            operation_type: entry.operation_type,
            status: entry.status,
            url: entry.url,
            body: entry.body,
            next_attempt: entry.attempts.saturating_add(1),
            delay,
            then: None,
        },
    );
}

/// Starts delivering in the background (and then its follow-up, if any).
///
/// Made inside work collecting a fence (see [`super::durability`]), the
/// first attempt waits until what that work wrote so far (the final state
/// and this callback's outbox row) is committed: no callback is sent for
/// an outcome the database might not have after a crash.
pub(crate) fn spawn_delivery(state: &SimulatorState, mut delivery: Delivery) {
    let fence = super::durability::current();
    let state = state.clone();
    let task_state = state.clone();
    task_state.spawn(async move {
        if let Err(err) = state.store().durable(&fence).await {
            tracing::error!(order_id = %delivery.order_id, error = %err,
                "the outcome was not saved; its callback is not sent");
            return;
        }
        let then = delivery.then.take();
        if deliver(&state, delivery).await {
            if let Some(next) = then {
                spawn_delivery(&state, *next);
            }
        }
    });
}

/// Every attempt of one callback; `false` when the simulator stopped first.
async fn deliver(state: &SimulatorState, delivery: Delivery) -> bool {
    let Delivery {
        outbox_id,
        public_id,
        order_id,
        operation_type,
        status,
        url,
        body,
        next_attempt,
        delay,
        then: _,
    } = delivery;
    if !delay.is_zero() && !state.sleep(delay).await {
        return false;
    }
    // `paygate listen`: every callback to the developer's endpoint, and
    // each delivery told.
    let forwarding = state.config().forward_callbacks_to.clone();
    let url = forwarding.clone().unwrap_or(url);
    let retry = state.config().callback_retry;
    // A resumed delivery past the configured count still gets one try.
    let attempts = retry.max_attempts.max(next_attempt);
    // Defence in depth: a URL accepted before this check existed (an
    // outbox read back from an older database) is never called.
    // Parsed once for the check and every attempt's request (a URL that
    // does not parse is handed to the client as text, which reports it).
    let parsed = url::Url::parse(url.trim()).ok();
    let refused = match &parsed {
        Some(parsed) => state.0.self_address.check_parsed(parsed).err(),
        None => None,
    };
    // The request's URI, once for every attempt (a URL that cannot be
    // called fails each attempt with the reason).
    let uri = match &parsed {
        Some(parsed) => CallbackHttp::uri_of(parsed),
        None => CallbackHttp::uri(&url),
    };
    let attempts = if refused.is_some() {
        next_attempt
    } else {
        attempts
    };
    for attempt in next_attempt..=attempts {
        // When the request left (the simulator's clock): the latency
        // recorded is the merchant's answer time on that clock (0 on a
        // manual clock, so that its delivery log stays byte-identical).
        let mut sent_at = None;
        // Never with the admin token: a callback carries the body, its
        // content type, and nothing else.
        let (http_status, error) = if let Some(why) = &refused {
            (None, Some(format!("not sent: the callback URL {why}")))
        } else {
            // A slot of the delivery pool for the send only (not for
            // the wait before a retry).
            let Ok(_slot) = state.0.deliveries.acquire().await else {
                return false;
            };
            sent_at = Some(now_ms());
            let sent = match &uri {
                Ok(uri) => state.0.http.post_json(uri.clone(), &[], body.clone()).await,
                Err(bad) => Err(bad.clone()),
            };
            match sent {
                Ok(response) => {
                    let http_status = response.status;
                    if forwarding.is_some() {
                        let answer = String::from_utf8_lossy(&response.body);
                        let answer: String = answer.chars().take(200).collect();
                        tracing::info!(
                            target: "paygate::listen",
                            %order_id, status, attempt, http_status, %answer,
                            "callback forwarded to {url}"
                        );
                    }
                    (Some(http_status), None)
                }
                Err(err) => {
                    if forwarding.is_some() {
                        tracing::info!(
                            target: "paygate::listen",
                            %order_id, status, attempt, error = %err,
                            "callback forwarded to {url}: no answer"
                        );
                    }
                    (None, Some(err.to_string()))
                }
            }
        };
        let delivered = http_status == Some(200);
        // A delivered callback is routine (`debug`); a failed attempt is
        // what an operator wants to see (`info`).
        if delivered {
            tracing::debug!(%order_id, %url, attempt, http_status, "callback delivered");
        } else {
            tracing::info!(
                %order_id, %url, attempt, http_status, error = error.as_deref(),
                "callback attempt failed"
            );
        }
        let backoff = retry.backoff(attempt);
        let progress = if delivered {
            OutboxProgress::Delivered
        } else if attempt == attempts {
            OutboxProgress::Abandoned
        } else {
            OutboxProgress::Retry {
                next_attempt_ms: now_ms()
                    .saturating_add(u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX)),
            }
        };
        let record = CallbackAttempt {
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
            latency_ms: sent_at.map(|at| now_ms().saturating_sub(at)),
            body: Some(body.clone()),
            next_attempt_at: match progress {
                OutboxProgress::Retry { next_attempt_ms } => Some(timestamp_of_ms(next_attempt_ms)),
                _ => None,
            },
        };
        let outbox = outbox_id.map(|id| (id, progress));
        state.store().record_outbox_attempt(record, outbox);
        if delivered || attempt == attempts {
            if !delivered {
                tracing::warn!(%order_id, %url, attempts, "callback not delivered; giving up");
            }
            return true;
        }
        if !state.sleep(backoff).await {
            return false;
        }
    }
    true
}

/// Milliseconds since the epoch as `YYYY-MM-DD hh:mm:ss.ffffff` (UTC).
fn timestamp_of_ms(ms: u64) -> String {
    let micros = u32::try_from(ms % 1000 * 1000).unwrap_or(0);
    format_timestamp(ms / 1000, micros)
}
