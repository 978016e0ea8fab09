//! Shared helpers of the simulator tests: a simulator on a free port, a
//! client for it, signed raw requests and a merchant callback receiver.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use paygate::gateway::callback::verify_callback;
use paygate::gateway::client::{
    sign_body, BrandProfile, ClientConfig, Credentials, GatewayClient, PollPolicy, RetryPolicy,
    SignedBody,
};
use paygate::gateway::rules::ProviderTable;
use paygate::gateway::PaymentCallback;
use paygate::signing::{sign_json, SecretKey, SigningKey};
use paygate_conformance::simulator::{
    start, CallbackRetry, RunningSimulator, SimulatorConfig, DEMO_MERCHANT_ID, DEMO_PUBLIC_ID,
    DEMO_SECRET_KEY,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A fast simulator: 20 ms latency, 10 ms callback backoff.
pub fn fast_config() -> SimulatorConfig {
    let mut config = SimulatorConfig::demo();
    config.latency = Duration::from_millis(20);
    config.callback_retry = CallbackRetry {
        max_attempts: 5,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
    };
    config.callback_timeout = Duration::from_secs(2);
    config
}

pub async fn simulator(config: SimulatorConfig) -> RunningSimulator {
    start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts")
}

pub fn client_with(
    base_url: &str,
    public_id: &str,
    secret: &str,
    providers: Option<&'static ProviderTable>,
) -> GatewayClient {
    let mut brand = BrandProfile::new("simulator", base_url);
    if let Some(table) = providers {
        brand = brand.with_providers(table);
    }
    let mut config = ClientConfig::new(
        brand,
        Credentials {
            public_id: public_id.into(),
            merchant_id: DEMO_MERCHANT_ID.into(),
            secret_key: SecretKey::new(secret),
        },
    );
    config.timeout = Duration::from_secs(5);
    config.retry = RetryPolicy {
        max_attempts: 1,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(10),
    };
    config.poll = PollPolicy {
        initial_delay: Duration::from_millis(10),
        factor: 1,
        max_delay: Duration::from_millis(20),
    };
    GatewayClient::new(config).expect("client")
}

pub fn client(sim: &RunningSimulator) -> GatewayClient {
    client_with(
        &sim.base_url(),
        DEMO_PUBLIC_ID,
        DEMO_SECRET_KEY,
        Some(sim.state().config().providers),
    )
}

pub fn demo_key() -> SigningKey {
    SigningKey::new(&SecretKey::new(DEMO_SECRET_KEY))
}

/// A typed value from JSON (robust to how the generator spells optional
/// fields).
pub fn typed<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("typed request")
}

/// A C2B/B2C request body (merchant_id and signature are filled when signed).
#[allow(clippy::too_many_arguments)]
pub fn payment(
    order_id: &str,
    customer_id: &str,
    provider_id: i64,
    amount: &str,
    currency: &str,
    country: &str,
    callback_url: Option<&str>,
    extra: Option<Value>,
) -> Value {
    let mut body = serde_json::json!({
        "merchant_id": "",
        "customer_id": customer_id,
        "order_id": order_id,
        "amount": amount,
        "currency": currency,
        "country": country,
    });
    let map = body.as_object_mut().unwrap();
    if let Some(url) = callback_url {
        map.insert("callback_url".into(), url.into());
    }
    map.insert("provider_id".into(), provider_id.into());
    if let Some(extra) = extra {
        map.insert("extra".into(), extra);
    }
    map.insert("signature".into(), "".into());
    body
}

/// A Kenyan M-Pesa C2B body (provider 2390, KES 100.00).
pub fn kenya_c2b(order_id: &str, customer_id: &str, callback_url: Option<&str>) -> Value {
    payment(
        order_id,
        customer_id,
        2390,
        "100.00",
        "KES",
        "KE",
        callback_url,
        None,
    )
}

/// Signs a typed request as the client would and returns the wire bytes.
pub fn signed_bytes<T: SignedBody>(mut request: T) -> Vec<u8> {
    sign_body(&demo_key(), DEMO_MERCHANT_ID, &mut request).expect("sign");
    serde_json::to_vec(&request).unwrap()
}

/// Signs raw JSON text (an object without `signature`) and appends the
/// signature as the last field.
pub fn sign_raw(text: &str) -> Vec<u8> {
    let signature = sign_json(&demo_key(), text.as_bytes()).expect("signable");
    let trimmed = text.trim_end();
    let body = &trimmed[..trimmed.len() - 1];
    let sep = if body.trim_end().ends_with('{') {
        ""
    } else {
        ","
    };
    format!("{body}{sep}\"signature\":\"{signature}\"}}").into_bytes()
}

/// POSTs bytes to `/{public_id}/{method}`; returns (HTTP status, body).
pub async fn post_raw(
    sim: &RunningSimulator,
    method: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Bytes) {
    let url = format!("{}/{}/{}", sim.base_url(), DEMO_PUBLIC_ID, method);
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("simulator answers");
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap())
}

/// `result.code` and `result.message` of an answer.
pub fn result_of(body: &[u8]) -> (i64, String) {
    let value: Value = serde_json::from_slice(body).expect("JSON answer");
    (
        value["result"]["code"].as_i64().expect("result.code"),
        value["result"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

pub async fn get_json(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.expect("GET");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// A request to the control API carrying the simulator's admin token.
pub fn control(
    sim: &RunningSimulator,
    method: reqwest::Method,
    url: &str,
) -> reqwest::RequestBuilder {
    let request = reqwest::Client::new().request(method, url);
    match sim.admin_token() {
        Some(token) => request.header(reqwest::header::AUTHORIZATION, token.bearer_header()),
        None => request,
    }
}

/// GETs a control API URL with the admin token: (HTTP status, JSON).
pub async fn control_get(sim: &RunningSimulator, url: &str) -> (u16, Value) {
    let response = control(sim, reqwest::Method::GET, url)
        .send()
        .await
        .expect("GET");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Waits until `check` holds (at most 5 s).
pub async fn eventually<F: FnMut() -> bool>(what: &str, mut check: F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One callback the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub body: Bytes,
    /// The callback, verified with the demo key (None if verification failed).
    pub callback: Option<PaymentCallback>,
    pub answered: u16,
}

/// A merchant's callback endpoint that answers HTTP 500 to the first
/// `fail_first` deliveries (all of them if `None`).
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
}

struct ReceiverState {
    key: SigningKey,
    fail_first: Option<usize>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start(fail_first: Option<usize>) -> Receiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new(ReceiverState {
            key: demo_key(),
            fail_first,
            received: received.clone(),
        });
        let app = Router::new()
            .route("/callback", post(receive))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url: format!("http://{addr}/callback"),
            received,
        }
    }

    pub fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }
}

async fn receive(State(state): State<Arc<ReceiverState>>, body: Bytes) -> StatusCode {
    let callback = verify_callback::<PaymentCallback>(&state.key, &body).ok();
    let mut received = state.received.lock().unwrap();
    let answered = match state.fail_first {
        Some(n) if received.len() >= n && callback.is_some() => 200,
        _ => 500,
    };
    received.push(Received {
        body,
        callback,
        answered,
    });
    StatusCode::from_u16(answered).unwrap()
}

/// Advances the simulator's manual clock by `seconds` through the control
/// API; the answer (new time, timers fired).
pub async fn advance(sim: &RunningSimulator, seconds: u64) -> Value {
    let response = control(
        sim,
        reqwest::Method::POST,
        &format!("{}/_sim/clock/advance", sim.base_url()),
    )
    .header("content-type", "application/json")
    .body(serde_json::json!({ "seconds": seconds }).to_string())
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

/// A child process killed (and reaped) when dropped, also when the test
/// fails: a simulator, chromedriver.
pub struct Killed(pub std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
