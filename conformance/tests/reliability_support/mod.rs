//! Shared parts of the reliability tests: a load generator of signed C2B
//! payments (new orders, exact replays, reused order ids), a merchant
//! callback endpoint that fails every third attempt and verifies every
//! callback, the `paygate simulate` binary as a child process, and the
//! checks every run ends with.
//!
//! Everything talks to 127.0.0.1 only, and every loop is bounded in count
//! and time.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use paygate::gateway::callback::verify_callback;
use paygate::gateway::client::sign_body;
use paygate::gateway::{PaymentC2bRequest, PaymentCallback};
use paygate::signing::{SecretKey, SigningKey};
use serde_json::{json, Value};

mod process;
// Not every test crate that includes this module starts a process.
#[allow(unused_imports)]
pub use process::*;

/// The merchant of the reliability runs.
pub const PUBLIC_ID: &str = "reliability-public-id";
/// Its merchant id.
pub const MERCHANT_ID: &str = "reliability-merchant";
/// Its secret key.
pub const SECRET: &str = "reliability-secret-key-not-a-real-one";
/// The admin token the simulator process is started with.
pub const ADMIN_TOKEN: &str = "reliability-admin-token-not-a-real-one";

/// GETs a control API URL with the admin token.
pub async fn admin_get(url: &str) -> reqwest::Result<reqwest::Response> {
    reqwest::Client::new()
        .get(url)
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
}

/// What the simulator at `base` says of `order`, for a failure message:
/// the transaction and its callback attempts, from the control API.
pub async fn explain_order(base: &str, order: &str) -> String {
    let get = |url: String| async move {
        match admin_get(&url).await {
            Ok(r) => String::from_utf8_lossy(&r.bytes().await.unwrap_or_default()).into_owned(),
            Err(err) => err.to_string(),
        }
    };
    format!(
        "{order} (as {base} sees it): {}; attempts {}",
        get(format!("{base}/_sim/transactions/{PUBLIC_ID}/{order}")).await,
        get(format!("{base}/_sim/callbacks?order_id={order}")).await
    )
}

/// POSTs to a control API URL with the admin token.
pub async fn admin_post(url: &str) -> reqwest::Result<reqwest::Response> {
    reqwest::Client::new()
        .post(url)
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
}

/// Callback attempts per callback. The endpoint fails a third of all
/// attempts, so a callback fails n attempts in a row with a probability
/// of about 3^-n: with 16,000 callbacks a run, 10 attempts would leave one
/// undelivered in about one run in four; 20 make it about one in 200,000.
pub const CALLBACK_ATTEMPTS: u32 = 20;

pub fn key() -> SigningKey {
    SigningKey::new(&SecretKey::new(SECRET))
}

// ---------------------------------------------------------------------------
// The merchant's callback endpoint.

/// One callback the endpoint verified and acknowledged with HTTP 200.
#[derive(Clone, Debug)]
pub struct Delivered {
    pub status: i64,
    pub transaction_id: String,
}

#[derive(Default)]
pub struct SinkState {
    /// Every attempt received (the counter that picks the failures).
    pub attempts: AtomicU64,
    /// Attempts answered 500 on purpose.
    pub failed_on_purpose: AtomicU64,
    /// Attempts whose signature or body did not verify.
    pub unverified: AtomicU64,
    /// order_id → every callback verified and answered 200.
    pub delivered: Mutex<HashMap<String, Vec<Delivered>>>,
}

/// A merchant callback endpoint on 127.0.0.1 that answers HTTP 500 to
/// every third attempt (a deterministic counter) and verifies every
/// callback with `paygate::gateway::callback::verify_callback` (401 if it fails).
#[derive(Clone)]
pub struct CallbackSink {
    pub url: String,
    pub state: Arc<SinkState>,
}

struct SinkShared {
    key: SigningKey,
    state: Arc<SinkState>,
}

impl CallbackSink {
    pub async fn start() -> CallbackSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener)
    }

    /// Serves on an already bound listener.
    pub fn serve(listener: tokio::net::TcpListener) -> CallbackSink {
        let state = Arc::new(SinkState::default());
        let shared = Arc::new(SinkShared {
            key: key(),
            state: state.clone(),
        });
        let app = Router::new()
            .route("/callback", post(receive))
            .with_state(shared);
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        CallbackSink {
            url: format!("http://{addr}/callback"),
            state,
        }
    }

    pub fn delivered(&self) -> HashMap<String, Vec<Delivered>> {
        self.state.delivered.lock().unwrap().clone()
    }

    pub fn delivered_orders(&self) -> usize {
        self.state.delivered.lock().unwrap().len()
    }
}

async fn receive(State(shared): State<Arc<SinkShared>>, body: Bytes) -> StatusCode {
    let n = shared.state.attempts.fetch_add(1, Ordering::SeqCst);
    if n % 3 == 2 {
        shared
            .state
            .failed_on_purpose
            .fetch_add(1, Ordering::SeqCst);
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    match verify_callback::<PaymentCallback>(&shared.key, &body) {
        Ok(callback) => {
            shared
                .state
                .delivered
                .lock()
                .unwrap()
                .entry(callback.order_id.clone())
                .or_default()
                .push(Delivered {
                    status: callback.status.code(),
                    transaction_id: callback.transaction_id.clone(),
                });
            StatusCode::OK
        }
        Err(_) => {
            shared.state.unverified.fetch_add(1, Ordering::SeqCst);
            StatusCode::UNAUTHORIZED
        }
    }
}

// ---------------------------------------------------------------------------
// The workload.

/// What a request of the run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A new order.
    New,
    /// The very bytes of an earlier accepted request again.
    Replay,
    /// An earlier accepted order id with a different body.
    Conflict,
}

/// The final status the magic-number table gives a customer number.
pub fn expected_status(customer_id: &str) -> i64 {
    if customer_id.ends_with("001") {
        3
    } else if customer_id.ends_with("002") {
        4
    } else {
        2
    }
}

/// A customer number for order `n`: one in ten fails, one in ten is
/// cancelled, the rest succeed (never `003`, which stays in progress).
pub fn customer_for(n: usize) -> String {
    let suffix = match n % 10 {
        7 => "001".to_owned(),
        8 => "002".to_owned(),
        _ => format!("{:03}", 100 + n % 800),
    };
    format!("2250705145{suffix}")
}

/// A signed MTN Côte d'Ivoire C2B payment (provider 2303, XOF).
pub fn signed_c2b(
    order_id: &str,
    customer_id: &str,
    amount: &str,
    callback_url: Option<&str>,
) -> Vec<u8> {
    let mut body = json!({
        "merchant_id": "",
        "customer_id": customer_id,
        "order_id": order_id,
        "amount": amount,
        "currency": "XOF",
        "country": "CI",
    });
    if let Some(url) = callback_url {
        body["callback_url"] = url.into();
    }
    body["provider_id"] = 2303.into();
    body["signature"] = "".into();
    let mut request: PaymentC2bRequest = serde_json::from_value(body).expect("typed request");
    sign_body(&key(), MERCHANT_ID, &mut request).expect("sign");
    serde_json::to_vec(&request).unwrap()
}

/// The parameters of a run.
#[derive(Clone, Debug)]
pub struct Plan {
    pub clients: usize,
    pub requests: usize,
    /// Put the sink's URL in each request (else the merchant's configured
    /// callback URL is used).
    pub callback_url: Option<String>,
    /// Order ids are `{prefix}-{client}-{n}`.
    pub prefix: String,
    /// How long a request may keep being retried after transport errors.
    pub retry_for: Duration,
}

/// One accepted new order.
#[derive(Clone, Debug)]
pub struct Accepted {
    pub order_id: String,
    pub customer_id: String,
    pub request: Arc<Vec<u8>>,
    pub response: Bytes,
    pub transaction_id: String,
    /// The simulator generation (restarts before the answer) it was
    /// accepted in.
    pub generation: u64,
}

/// What a run saw.
#[derive(Debug, Default)]
pub struct Report {
    pub sent: usize,
    pub elapsed: Duration,
    pub accepted: Vec<Accepted>,
    pub by_kind: HashMap<&'static str, usize>,
    /// HTTP 5xx answers, with what they said.
    pub server_errors: Vec<String>,
    /// Answers other than the one expected of the kind.
    pub unexpected: Vec<String>,
    /// Replays answered with other bytes than the original answer.
    pub replay_mismatches: Vec<String>,
    /// Replays sent after a restart of orders accepted before it.
    pub replays_across_restart: usize,
    /// Sends that failed at the transport level and were sent again.
    pub transport_retries: usize,
    /// Every transaction id seen in a 200 answer, per order.
    pub transaction_ids: HashMap<String, HashSet<String>>,
}

/// Counters shared with whoever watches the run (the fault test kills
/// the simulator when `done` reaches half the requests).
#[derive(Default)]
pub struct Progress {
    pub done: AtomicUsize,
    /// Incremented by the fault test after each restart.
    pub generation: AtomicU64,
}

fn transaction_id_of(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    value["transaction_id"].as_str().map(str::to_owned)
}

fn code_of(body: &[u8]) -> Option<i64> {
    let value: Value = serde_json::from_slice(body).ok()?;
    value["result"]["code"].as_i64()
}

/// POSTs `body`, sending it again (same bytes) after a transport error
/// until an HTTP answer comes or `retry_for` has passed.
async fn send(
    http: &reqwest::Client,
    url: &str,
    body: &Arc<Vec<u8>>,
    retry_for: Duration,
    retries: &mut usize,
) -> Result<(u16, Bytes), String> {
    let deadline = Instant::now() + retry_for;
    loop {
        let sent = http
            .post(url)
            .header("content-type", "application/json")
            .body(body.as_ref().clone())
            .send()
            .await;
        let error = match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.bytes().await {
                    Ok(bytes) => return Ok((status, bytes)),
                    Err(err) => err.to_string(),
                }
            }
            Err(err) => err.to_string(),
        };
        if Instant::now() >= deadline {
            return Err(error);
        }
        *retries += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[derive(Default)]
struct ClientLog {
    accepted: Vec<Accepted>,
    by_kind: HashMap<&'static str, usize>,
    server_errors: Vec<String>,
    unexpected: Vec<String>,
    replay_mismatches: Vec<String>,
    replays_across_restart: usize,
    transport_retries: usize,
    transaction_ids: Vec<(String, String)>,
}

/// Runs the plan against `base_url`: `plan.clients` concurrent clients
/// share `plan.requests` requests; in each client's sequence, request
/// n with n % 10 == 3 replays an earlier accepted request of that client
/// (exact bytes), n % 10 == 7 reuses an earlier accepted order id with
/// another amount, the rest are new orders (~80/10/10).
pub async fn run(plan: &Plan, base_url: &str, progress: Arc<Progress>) -> Report {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(plan.clients)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let url = format!("{base_url}/{PUBLIC_ID}/payment_c2b");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..plan.clients {
        let share =
            plan.requests / plan.clients + usize::from(client < plan.requests % plan.clients);
        let http = http.clone();
        let url = url.clone();
        let plan = plan.clone();
        let progress = progress.clone();
        tasks.push(tokio::spawn(async move {
            let mut log = ClientLog::default();
            for n in 0..share {
                let kind = match n % 10 {
                    3 if !log.accepted.is_empty() => Kind::Replay,
                    7 if !log.accepted.is_empty() => Kind::Conflict,
                    _ => Kind::New,
                };
                // Deterministic pick of an earlier accepted order.
                let earlier = (!log.accepted.is_empty())
                    .then(|| log.accepted[(n * 7919) % log.accepted.len()].clone());
                let (body, order_id, customer_id) = match kind {
                    Kind::New => {
                        let order_id = format!("{}-{client}-{n}", plan.prefix);
                        let customer_id = customer_for(client * 1000 + n);
                        let body = signed_c2b(
                            &order_id,
                            &customer_id,
                            "1100.00",
                            plan.callback_url.as_deref(),
                        );
                        (Arc::new(body), order_id, customer_id)
                    }
                    Kind::Replay => {
                        let e = earlier.clone().unwrap();
                        (e.request.clone(), e.order_id, e.customer_id)
                    }
                    Kind::Conflict => {
                        let e = earlier.clone().unwrap();
                        let body = signed_c2b(
                            &e.order_id,
                            &e.customer_id,
                            "1200.00",
                            plan.callback_url.as_deref(),
                        );
                        (Arc::new(body), e.order_id, e.customer_id)
                    }
                };
                let generation = progress.generation.load(Ordering::SeqCst);
                let answer = send(
                    &http,
                    &url,
                    &body,
                    plan.retry_for,
                    &mut log.transport_retries,
                )
                .await;
                *log.by_kind
                    .entry(match kind {
                        Kind::New => "new",
                        Kind::Replay => "replay",
                        Kind::Conflict => "conflict",
                    })
                    .or_default() += 1;
                progress.done.fetch_add(1, Ordering::SeqCst);
                let (status, bytes) = match answer {
                    Ok(answer) => answer,
                    Err(err) => {
                        log.unexpected
                            .push(format!("{kind:?} {order_id}: no answer: {err}"));
                        continue;
                    }
                };
                if status >= 500 {
                    log.server_errors.push(format!(
                        "{kind:?} {order_id}: HTTP {status} {}",
                        String::from_utf8_lossy(&bytes)
                    ));
                    continue;
                }
                if status == 200 {
                    if let Some(id) = transaction_id_of(&bytes) {
                        log.transaction_ids.push((order_id.clone(), id));
                    }
                }
                match kind {
                    Kind::New => {
                        let transaction_id = transaction_id_of(&bytes);
                        match (status, code_of(&bytes), transaction_id) {
                            (200, Some(0), Some(transaction_id)) => log.accepted.push(Accepted {
                                order_id,
                                customer_id,
                                request: body,
                                response: bytes,
                                transaction_id,
                                generation: progress.generation.load(Ordering::SeqCst),
                            }),
                            _ => log.unexpected.push(format!(
                                "new {order_id}: HTTP {status} {}",
                                String::from_utf8_lossy(&bytes)
                            )),
                        }
                    }
                    Kind::Replay => {
                        let e = earlier.unwrap();
                        if generation > e.generation {
                            log.replays_across_restart += 1;
                        }
                        if status != 200 || bytes != e.response {
                            log.replay_mismatches.push(format!(
                                "replay {order_id}: HTTP {status} {} (first answer {})",
                                String::from_utf8_lossy(&bytes),
                                String::from_utf8_lossy(&e.response)
                            ));
                        }
                    }
                    Kind::Conflict => {
                        if status != 409 || code_of(&bytes) != Some(10409) {
                            log.unexpected.push(format!(
                                "reused order_id {order_id}: HTTP {status} {}",
                                String::from_utf8_lossy(&bytes)
                            ));
                        }
                    }
                }
            }
            log
        }));
    }
    let mut report = Report::default();
    for task in tasks {
        let log = task.await.expect("client task");
        report.sent += log.by_kind.values().sum::<usize>();
        for (kind, n) in log.by_kind {
            *report.by_kind.entry(kind).or_default() += n;
        }
        report.accepted.extend(log.accepted);
        report.server_errors.extend(log.server_errors);
        report.unexpected.extend(log.unexpected);
        report.replay_mismatches.extend(log.replay_mismatches);
        report.replays_across_restart += log.replays_across_restart;
        report.transport_retries += log.transport_retries;
        for (order, id) in log.transaction_ids {
            report.transaction_ids.entry(order).or_default().insert(id);
        }
    }
    report.elapsed = started.elapsed();
    report
}

fn first<T: std::fmt::Debug>(items: &[T]) -> Vec<&T> {
    items.iter().take(5).collect()
}

/// The checks on the answers: no 5xx, every answer the one its kind
/// expects, every replay the stored bytes, one transaction id per order,
/// distinct transaction ids.
pub fn check_answers(report: &Report) {
    assert!(
        report.server_errors.is_empty(),
        "{} answers were HTTP 5xx: {:?}",
        report.server_errors.len(),
        first(&report.server_errors)
    );
    assert!(
        report.unexpected.is_empty(),
        "{} unexpected answers: {:?}",
        report.unexpected.len(),
        first(&report.unexpected)
    );
    assert!(
        report.replay_mismatches.is_empty(),
        "{} replays did not get the stored answer: {:?}",
        report.replay_mismatches.len(),
        first(&report.replay_mismatches)
    );
    let twice: Vec<_> = report
        .transaction_ids
        .iter()
        .filter(|(_, ids)| ids.len() != 1)
        .collect();
    assert!(
        twice.is_empty(),
        "orders with more than one transaction id: {:?}",
        twice.iter().take(5).collect::<Vec<_>>()
    );
    let ids: HashSet<&str> = report
        .accepted
        .iter()
        .map(|a| a.transaction_id.as_str())
        .collect();
    assert_eq!(
        ids.len(),
        report.accepted.len(),
        "transaction ids are unique"
    );
    let orders: HashSet<&str> = report
        .accepted
        .iter()
        .map(|a| a.order_id.as_str())
        .collect();
    assert_eq!(orders.len(), report.accepted.len(), "order ids are unique");
}

/// Waits (at most `within`) until every accepted order has a verified,
/// acknowledged callback, then checks them: the expected final status, the
/// transaction id of the answer, never two different statuses, nothing for
/// an order that was not accepted. `explain` describes a missing order
/// (what the simulator knows of it) in the failure message.
pub async fn check_callbacks<F, Fut>(
    report: &Report,
    sink: &CallbackSink,
    within: Duration,
    explain: F,
) where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let deadline = Instant::now() + within;
    while sink.delivered_orders() < report.accepted.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let delivered = sink.delivered();
    assert_eq!(
        sink.state.unverified.load(Ordering::SeqCst),
        0,
        "every callback verifies"
    );
    let accepted: HashMap<&str, &Accepted> = report
        .accepted
        .iter()
        .map(|a| (a.order_id.as_str(), a))
        .collect();
    let missing: Vec<&str> = accepted
        .keys()
        .filter(|order| !delivered.contains_key(**order))
        .copied()
        .collect();
    if !missing.is_empty() {
        let mut details = Vec::new();
        for order in missing.iter().take(3) {
            details.push(explain((*order).to_owned()).await);
        }
        panic!(
            "{} of {} accepted orders got no callback within {within:?}: {:?}; {details:#?}",
            missing.len(),
            accepted.len(),
            missing.iter().take(5).collect::<Vec<_>>()
        );
    }
    for (order, callbacks) in &delivered {
        let a = accepted
            .get(order.as_str())
            .unwrap_or_else(|| panic!("callback for {order}, which was never accepted"));
        let want = expected_status(&a.customer_id);
        for c in callbacks {
            assert_eq!(c.status, want, "final status of {order}: {callbacks:?}");
            assert_eq!(
                c.transaction_id, a.transaction_id,
                "transaction id of {order}'s callback"
            );
        }
    }
}

/// Prints the figures of a run.
pub fn print_figures(name: &str, report: &Report, sink: &CallbackSink) {
    let secs = report.elapsed.as_secs_f64();
    let delivered: usize = sink.delivered().values().map(Vec::len).sum();
    println!(
        "{name}: {} requests ({:?}) from 64 clients in {:.2} s = {:.0} req/s; {} accepted; \
         callbacks: {} attempts, {} answered 500 on purpose, {} acknowledged for {} orders; \
         {} transport retries",
        report.sent,
        report.by_kind,
        secs,
        report.sent as f64 / secs.max(1e-9),
        report.accepted.len(),
        sink.state.attempts.load(Ordering::SeqCst),
        sink.state.failed_on_purpose.load(Ordering::SeqCst),
        delivered,
        sink.delivered_orders(),
        report.transport_retries,
    );
}

// ---------------------------------------------------------------------------
// `paygate simulate` as a child process.

/// `GET /_sim/transactions/{public_id}/{order_id}` for every accepted
/// order (16 at a time); returns the orders missing or with another
/// transaction id.
pub async fn missing_transactions(base_url: &str, accepted: &[Accepted]) -> Vec<String> {
    let http = reqwest::Client::new();
    let chunks: Vec<Vec<Accepted>> = accepted
        .chunks(accepted.len().div_ceil(16).max(1))
        .map(<[Accepted]>::to_vec)
        .collect();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let http = http.clone();
        let base_url = base_url.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut bad = Vec::new();
            for a in chunk {
                let url = format!("{base_url}/_sim/transactions/{PUBLIC_ID}/{}", a.order_id);
                let value: Value = match http.get(&url).bearer_auth(ADMIN_TOKEN).send().await {
                    Ok(r) => r
                        .bytes()
                        .await
                        .map(|b| serde_json::from_slice(&b).unwrap_or(Value::Null))
                        .unwrap_or(Value::Null),
                    Err(err) => {
                        bad.push(format!("{}: {err}", a.order_id));
                        continue;
                    }
                };
                if value["transaction_id"].as_str() != Some(a.transaction_id.as_str()) {
                    bad.push(format!("{}: {value}", a.order_id));
                }
            }
            bad
        }));
    }
    let mut bad = Vec::new();
    for task in tasks {
        bad.extend(task.await.unwrap());
    }
    bad
}
