//! "Your endpoint" of the README's merchant examples: a careful merchant
//! built from paygate's own callback routers (as `merchant_conform.rs`
//! does), keyed with the secret the example gives, on the address the
//! example names: payment callbacks at `/callback`, POS callbacks at
//! `/pos`, the order lookup at `/orders/{id}` (`{"credited", "status"}`,
//! 404 for an order never seen).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use paygate::gateway::callback::axum_handler::callback_router;
use paygate::gateway::callback::ReplayGuard;
use paygate::gateway::{PaymentCallback, PosCallback, Status};
use paygate::signing::{SecretKey, SigningKey};
use serde_json::{json, Value};

/// Per order: how many times a success was credited, the last status.
type Orders = Arc<Mutex<HashMap<String, (u64, Option<i64>)>>>;

/// A merchant served on its own thread until dropped.
pub struct Merchant {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Merchant {
    /// Serves on `address` with `secret`; an error when the address is taken.
    pub fn start(address: SocketAddr, secret: &str) -> Result<Merchant, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| format!("a runtime for the merchant: {e}"))?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(address))
            .map_err(|e| format!("the merchant cannot listen on {address}: {e}"))?;
        let app = app(SigningKey::new(&SecretKey::new(secret)));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await;
            })
        });
        Ok(Merchant {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Merchant {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn app(key: SigningKey) -> Router {
    let orders: Orders = Arc::default();
    let guard = Arc::new(ReplayGuard::new());
    let (payments, pos) = (orders.clone(), orders.clone());
    callback_router(
        "/callback",
        key.clone(),
        guard.clone(),
        move |c: PaymentCallback| {
            let orders = payments.clone();
            async move {
                apply(&orders, &c.order_id, c.status);
                Ok::<(), &'static str>(())
            }
        },
    )
    .merge(callback_router(
        "/pos",
        key,
        guard,
        move |c: PosCallback| {
            let orders = pos.clone();
            async move {
                apply(&orders, &c.order_id, c.status);
                Ok::<(), &'static str>(())
            }
        },
    ))
    .merge(
        Router::new()
            .route("/orders/{id}", get(lookup))
            .with_state(orders),
    )
}

/// What a careful merchant does with a verified callback: a final status
/// stays, a success is credited once.
fn apply(orders: &Orders, order_id: &str, status: Status) {
    let Ok(mut orders) = orders.lock() else {
        return;
    };
    let view = orders.entry(order_id.to_owned()).or_insert((0, None));
    if view.1.is_some_and(|s| Status::from(s).is_final()) {
        return;
    }
    view.1 = Some(status.code());
    if status == Status::Success {
        view.0 += 1;
    }
}

async fn lookup(
    State(orders): State<Orders>,
    Path(order_id): Path<String>,
) -> (StatusCode, Json<Value>) {
    let seen = orders
        .lock()
        .ok()
        .and_then(|orders| orders.get(&order_id).copied());
    match seen {
        Some((credited, status)) => (
            StatusCode::OK,
            Json(json!({"credited": credited, "status": status})),
        ),
        None => (StatusCode::NOT_FOUND, Json(json!({}))),
    }
}
