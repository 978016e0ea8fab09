//! The suite's HUB2 webhook endpoint: receives the deliveries of the
//! webhooks the cases register and verifies each one with the secrets set
//! for its endpoint.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use paygate::hub2::webhook::{verify_webhook_event, WebhookSecrets};
use serde_json::Value;
use tokio::sync::{oneshot, Notify};

/// One delivery the receiver got.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// `Hub2-Signature`.
    pub signature: String,
    /// The raw body.
    pub body: Bytes,
    /// Whether it verified with the secrets registered for its endpoint.
    pub verified: Result<(), String>,
}

#[derive(Default)]
struct Inbox {
    secrets: Mutex<HashMap<String, WebhookSecrets>>,
    deliveries: Mutex<HashMap<String, Vec<Delivery>>>,
    notify: Notify,
}

/// The suite's HUB2 webhook endpoint: `POST /hub2-webhooks/{name}`,
/// verifying each delivery with the [`WebhookSecrets`] set for `name`
/// (200 if it verifies, 401 otherwise).
pub struct WebhookReceiver {
    inbox: Arc<Inbox>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl WebhookReceiver {
    /// Starts on `127.0.0.1:0`.
    pub async fn start() -> std::io::Result<WebhookReceiver> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let inbox = Arc::new(Inbox::default());
        let app = Router::new()
            .route("/hub2-webhooks/{name}", post(receive))
            .with_state(Arc::clone(&inbox));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(WebhookReceiver {
            inbox,
            addr,
            stop: Some(stop),
        })
    }

    /// The URL of endpoint `name`.
    pub fn url(&self, name: &str) -> String {
        format!("http://{}/hub2-webhooks/{name}", self.addr)
    }

    /// Sets the secrets endpoint `name` verifies with.
    pub fn set_secrets(&self, name: &str, secrets: WebhookSecrets) {
        lock(&self.inbox.secrets).insert(name.to_owned(), secrets);
    }

    /// Waits for a delivery to `name` whose event satisfies `pred`.
    pub async fn wait_for(
        &self,
        name: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Option<Delivery> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inbox.notify.notified();
            let found = lock(&self.inbox.deliveries).get(name).and_then(|list| {
                list.iter()
                    .find(|d| serde_json::from_slice::<Value>(&d.body).is_ok_and(|v| pred(&v)))
                    .cloned()
            });
            if found.is_some() {
                return found;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }

    /// Stops the server.
    pub fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn receive(
    State(inbox): State<Arc<Inbox>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let signature = headers
        .get("hub2-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let secrets = lock(&inbox.secrets).get(&name).cloned();
    let verified = match secrets {
        None => Err(format!("no secrets for endpoint {name}")),
        Some(secrets) => verify_webhook_event(&secrets, &signature, &body)
            .map(drop)
            .map_err(|e| e.to_string()),
    };
    let status = if verified.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::UNAUTHORIZED
    };
    lock(&inbox.deliveries)
        .entry(name)
        .or_default()
        .push(Delivery {
            signature,
            body,
            verified,
        });
    inbox.notify.notify_waiters();
    status
}
