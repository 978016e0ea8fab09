//! Shared helpers of the HUB2 client tests: a tiny scripted HUB2 served by
//! axum, recording what it was sent, and the requests and answers the
//! tests use.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

use paygate::gateway::client::{PollPolicy, RetryPolicy};
use paygate::hub2::client::{Environment, Hub2Client, Hub2Config};
use paygate::hub2::models::{
    Country, CreateDelegatedPaymentRequest, CreatePaymentIntentRequest, CreateTransferRequest,
    Currency, DestinationType, MobileMoneyDetails, PaymentMethod, Provider, TransferDestination,
};

pub const API_KEY: &str = "sk_test_VERYSECRETKEY123";
pub const MERCHANT: &str = "merchant-3";

#[derive(Clone, Debug)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// What the scripted server answers: (status, extra headers, body).
pub type Reply = (u16, Vec<(&'static str, String)>, String);
pub type Script = Arc<dyn Fn(&Seen, &[Seen]) -> Reply + Send + Sync>;

#[derive(Clone)]
pub struct Mock {
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub script: Script,
}

pub async fn record(
    State(mock): State<Mock>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let seen = Seen {
        method,
        path: uri.path().to_owned(),
        headers,
        body,
    };
    let (status, extra, body) = {
        let mut all = mock.seen.lock().unwrap();
        all.push(seen.clone());
        (mock.script)(&seen, &all)
    };
    let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    for (name, value) in extra {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

pub struct Server {
    pub base_url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub async fn start(script: impl Fn(&Seen, &[Seen]) -> Reply + Send + Sync + 'static) -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mock = Mock {
            seen: seen.clone(),
            script: Arc::new(script),
        };
        let router = Router::new().fallback(record).with_state(mock);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        Server {
            base_url: format!("http://{addr}/hub2/"),
            seen,
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn count(&self, method: &str, path: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method.as_str() == method && s.path == path)
            .count()
    }

    pub fn client(&self) -> Hub2Client {
        let mut config = Hub2Config::new(&self.base_url, API_KEY, MERCHANT, Environment::Sandbox);
        config.retry = fast_retry();
        config.poll = PollPolicy {
            initial_delay: Duration::from_millis(20),
            factor: 2,
            max_delay: Duration::from_millis(50),
        };
        Hub2Client::new(config).unwrap()
    }
}

pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_secs(2),
    }
}

pub fn reply(status: u16, body: Value) -> Reply {
    (status, Vec::new(), body.to_string())
}

pub fn error_body(status: u16, code: &str, message: &str) -> Value {
    json!({"status": status, "code": code, "message": message, "request_id": "req_test_1"})
}

pub fn intent(status: &str) -> Value {
    json!({
        "id": "pi_1", "createdAt": "2022-07-18T06:35:25.932Z",
        "updatedAt": "2022-07-18T06:35:25.944Z", "merchantId": "3",
        "purchaseReference": "order 1.2", "customerReference": "cust_1",
        "amount": 200, "currency": "XOF", "token": "jwt.token.here",
        "status": status, "payments": [], "mode": "sandbox"
    })
}

pub fn transfer() -> Value {
    json!({
        "id": "tr_1", "merchantId": "3", "createdAt": "2024-03-04T10:12:45.210Z",
        "updatedAt": "2024-03-04T10:12:45.210Z", "reference": "payout-1",
        "status": "pending", "amount": 2000, "currency": "XOF",
        "destination": {"type": "mobile_money", "country": "CI",
            "recipientName": "John Doe", "msisdn": "+225000000000", "provider": "orange"}
    })
}

pub fn webhook() -> Value {
    json!({"id": "wh_1", "url": "https://website.com/hook",
        "events": ["payment_intent.succeeded"], "secret": "s3cr3t"})
}

pub fn intent_request(purchase: &str) -> CreatePaymentIntentRequest {
    CreatePaymentIntentRequest::new("cust_1", purchase, 200, Currency::Xof)
}

pub fn transfer_request(reference: &str) -> CreateTransferRequest {
    let destination = TransferDestination::new(
        DestinationType::MobileMoney,
        Country::Ci,
        "John Doe",
        "+225000000000",
        Provider::Orange,
    );
    CreateTransferRequest::new(reference, 2000, Currency::Xof, destination)
        .with_description("Refund")
}

pub fn delegated_request() -> CreateDelegatedPaymentRequest {
    CreateDelegatedPaymentRequest::new(
        "customer-5531",
        "order-1042",
        120,
        Currency::Xof,
        PaymentMethod::MobileMoney,
        Country::Ci,
        Provider::Orange,
    )
    .with_mobile_money(MobileMoneyDetails::new("00000001"))
}

/// A well-behaved HUB2 for every merchant endpoint.
pub fn happy(seen: &Seen, _: &[Seen]) -> Reply {
    let path = seen.path.trim_start_matches("/hub2");
    match (seen.method.as_str(), path) {
        ("POST", "/payment-intents") | ("POST", "/delegated/payments") => {
            reply(201, intent("payment_required"))
        }
        ("GET", "/payment-intents/pi_1") => reply(200, intent("successful")),
        ("GET", "/payment-intents/pi_1/status") => {
            reply(200, json!({"id": "pi_1", "status": "processing"}))
        }
        ("POST", "/payment-intents/pi_1/payments")
        | ("POST", "/payment-intents/pi_1/authentication") => reply(201, intent("processing")),
        ("POST", "/transfers") | ("POST", "/delegated/transfers") => reply(201, transfer()),
        ("GET", "/transfers/tr_1") => reply(200, transfer()),
        ("GET", "/transfers/tr_1/status") => reply(200, json!({"id": "tr_1", "status": "pending"})),
        ("GET", "/balance") => reply(
            200,
            json!({"collectionAccount": [{"amount": 100, "availableBalance": 100,
                "currency": "XOF", "date": "2023-10-01T00:00:00.000Z"}],
                "transferAccount": []}),
        ),
        ("POST", "/webhooks") => reply(201, webhook()),
        ("GET", "/webhooks") => reply(200, json!([webhook()])),
        ("DELETE", "/webhooks/wh_1") => (204, Vec::new(), String::new()),
        _ => reply(404, error_body(404, "Not Found", "no route")),
    }
}

pub fn header<'a>(seen: &'a Seen, name: &str) -> Option<&'a str> {
    seen.headers.get(name).map(|v| v.to_str().unwrap())
}
