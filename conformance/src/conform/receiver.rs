//! The suite's own merchant callback receiver: an axum server on an
//! ephemeral port that verifies every delivery with
//! [`paygate::gateway::callback::verify_callback`] and keeps it, by `order_id`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use paygate::gateway::callback::{verify_callback, CallbackError};
use paygate::gateway::{OperationType, PaymentCallback, PosCallback};
use paygate::signing::SigningKey;
use tokio::sync::{oneshot, Notify};

/// One delivery the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    /// The body exactly as received.
    pub raw: Bytes,
    /// `Ok` if the signature verified and the body decoded as the spec's
    /// callback type for its operation type; else why not.
    pub verified: Result<(), String>,
    /// The body as JSON (for the checks), if it parses.
    pub json: Option<serde_json::Value>,
}

impl Received {
    /// A top-level integer field of the callback.
    pub fn int(&self, field: &str) -> Option<i64> {
        self.json.as_ref()?.get(field)?.as_i64()
    }
}

#[derive(Default)]
struct Inbox {
    by_order: Mutex<HashMap<String, Vec<Received>>>,
    notify: Notify,
}

/// A running callback receiver.
pub struct CallbackReceiver {
    inbox: Arc<Inbox>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

struct ReceiverState {
    key: SigningKey,
    inbox: Arc<Inbox>,
}

impl CallbackReceiver {
    /// Starts a receiver on `127.0.0.1:0` verifying with `key`.
    pub async fn start(key: SigningKey) -> std::io::Result<CallbackReceiver> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let inbox = Arc::new(Inbox::default());
        let state = Arc::new(ReceiverState {
            key,
            inbox: Arc::clone(&inbox),
        });
        let app = Router::new()
            .route("/callback", post(receive))
            .route("/callback/{*rest}", post(receive))
            .with_state(state);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(CallbackReceiver {
            inbox,
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The URL to put in `callback_url`.
    pub fn url(&self) -> String {
        format!("http://{}/callback", self.addr)
    }

    /// Every delivery so far for `order_id`.
    pub fn received(&self, order_id: &str) -> Vec<Received> {
        let map = match self.inbox.by_order.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.get(order_id).cloned().unwrap_or_default()
    }

    /// Every order id a delivery was received for.
    pub fn orders(&self) -> Vec<String> {
        let map = match self.inbox.by_order.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.keys().cloned().collect()
    }

    /// Waits up to `timeout` for a delivery for `order_id` that satisfies
    /// `pred`; returns it, or `None` on timeout.
    pub async fn wait_for(
        &self,
        order_id: &str,
        timeout: Duration,
        pred: impl Fn(&Received) -> bool,
    ) -> Option<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inbox.notify.notified();
            if let Some(found) = self.received(order_id).into_iter().find(|r| pred(r)) {
                return Some(found);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.received(order_id).into_iter().find(|r| pred(r));
            }
        }
    }

    /// Stops the server.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// Verifies a callback body as the merchant would: signature over the raw
/// bytes, then the spec's type for its `operation_type` (20 and 21 are POS
/// callbacks, anything else a payment callback).
pub fn verify_body(key: &SigningKey, body: &[u8]) -> Result<(), String> {
    let operation_type = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("operation_type").and_then(serde_json::Value::as_i64))
        .map(OperationType::from);
    let result: Result<(), CallbackError> = match operation_type {
        Some(OperationType::Deposit | OperationType::Withdrawal) => {
            verify_callback::<PosCallback>(key, body).map(drop)
        }
        _ => verify_callback::<PaymentCallback>(key, body).map(drop),
    };
    result.map_err(|e| e.to_string())
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let verified = verify_body(&state.key, &body);
    let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    let order_id = json
        .as_ref()
        .and_then(|v| v.get("order_id"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or("")
        .to_owned();
    let answer = if verified.is_ok() {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::UNAUTHORIZED, "invalid callback")
    };
    {
        let mut map = match state.inbox.by_order.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(order_id).or_default().push(Received {
            raw: body,
            verified,
            json,
        });
    }
    state.inbox.notify.notify_waiters();
    answer
}
