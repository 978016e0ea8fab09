//! The HUB2 client against a tiny scripted HUB2 served by axum in the test.
#![cfg(feature = "axum")]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

use paygate::gateway::client::{PollPolicy, RetryPolicy};
use paygate::hub2::client::{
    validate_id, validate_reference, Environment, Hub2Client, Hub2Config, Hub2Error,
    Hub2PaymentClient,
};
use paygate::hub2::models::{
    AttemptPaymentRequest, AuthenticatePaymentRequest, Country, CreateDelegatedPaymentRequest,
    CreatePaymentIntentRequest, CreateTransferRequest, CreateWebhookRequest, Currency,
    DestinationType, MobileMoneyDetails, PaymentIntentStatus, PaymentMethod, Provider,
    TransferDestination, WebhookEventType,
};

const API_KEY: &str = "sk_test_VERYSECRETKEY123";
const MERCHANT: &str = "merchant-3";

#[derive(Clone, Debug)]
struct Seen {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// What the scripted server answers: (status, extra headers, body).
type Reply = (u16, Vec<(&'static str, String)>, String);
type Script = Arc<dyn Fn(&Seen, &[Seen]) -> Reply + Send + Sync>;

#[derive(Clone)]
struct Mock {
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Script,
}

async fn record(
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

struct Server {
    base_url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    async fn start(script: impl Fn(&Seen, &[Seen]) -> Reply + Send + Sync + 'static) -> Self {
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

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn count(&self, method: &str, path: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method.as_str() == method && s.path == path)
            .count()
    }

    fn client(&self) -> Hub2Client {
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

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_secs(2),
    }
}

fn reply(status: u16, body: Value) -> Reply {
    (status, Vec::new(), body.to_string())
}

fn error_body(status: u16, code: &str, message: &str) -> Value {
    json!({"status": status, "code": code, "message": message, "request_id": "req_test_1"})
}

fn intent(status: &str) -> Value {
    json!({
        "id": "pi_1", "createdAt": "2022-07-18T06:35:25.932Z",
        "updatedAt": "2022-07-18T06:35:25.944Z", "merchantId": "3",
        "purchaseReference": "order 1.2", "customerReference": "cust_1",
        "amount": 200, "currency": "XOF", "token": "jwt.token.here",
        "status": status, "payments": [], "mode": "sandbox"
    })
}

fn transfer() -> Value {
    json!({
        "id": "tr_1", "merchantId": "3", "createdAt": "2024-03-04T10:12:45.210Z",
        "updatedAt": "2024-03-04T10:12:45.210Z", "reference": "payout-1",
        "status": "pending", "amount": 2000, "currency": "XOF",
        "destination": {"type": "mobile_money", "country": "CI",
            "recipientName": "John Doe", "msisdn": "+225000000000", "provider": "orange"}
    })
}

fn webhook() -> Value {
    json!({"id": "wh_1", "url": "https://website.com/hook",
        "events": ["payment_intent.succeeded"], "secret": "s3cr3t"})
}

fn intent_request(purchase: &str) -> CreatePaymentIntentRequest {
    CreatePaymentIntentRequest::new("cust_1", purchase, 200, Currency::Xof)
}

fn transfer_request(reference: &str) -> CreateTransferRequest {
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

fn delegated_request() -> CreateDelegatedPaymentRequest {
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
fn happy(seen: &Seen, _: &[Seen]) -> Reply {
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

fn header<'a>(seen: &'a Seen, name: &str) -> Option<&'a str> {
    seen.headers.get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn merchant_calls_carry_the_three_headers() {
    let server = Server::start(happy).await;
    let client = server.client();

    let created = client
        .create_payment_intent(&intent_request("order 1.2"))
        .await
        .unwrap();
    assert_eq!(created.token, "jwt.token.here");
    assert_eq!(created.status, PaymentIntentStatus::PaymentRequired);
    assert_eq!(
        client.get_payment_intent("pi_1").await.unwrap().status,
        PaymentIntentStatus::Successful
    );
    assert_eq!(
        client
            .get_payment_intent_status("pi_1")
            .await
            .unwrap()
            .status,
        PaymentIntentStatus::Processing
    );
    assert_eq!(
        client
            .create_transfer(&transfer_request("payout-1"))
            .await
            .unwrap()
            .id,
        "tr_1"
    );
    assert_eq!(
        client.get_transfer("tr_1").await.unwrap().reference,
        "payout-1"
    );
    assert_eq!(
        client
            .get_transfer_status("tr_1")
            .await
            .unwrap()
            .status
            .as_str(),
        "pending"
    );
    assert_eq!(
        client.get_balance().await.unwrap().collection_account[0].amount,
        100
    );
    assert_eq!(
        client
            .create_delegated_payment(&delegated_request())
            .await
            .unwrap()
            .id,
        "pi_1"
    );
    assert_eq!(
        client
            .create_delegated_transfer(&transfer_request("payout-2"))
            .await
            .unwrap()
            .id,
        "tr_1"
    );
    let hook = client
        .create_webhook(&CreateWebhookRequest::new(
            "https://website.com/hook",
            vec![WebhookEventType::PaymentIntentSucceeded],
        ))
        .await
        .unwrap();
    assert_eq!(hook.secret.as_deref(), Some("s3cr3t"));
    assert_eq!(client.list_webhooks().await.unwrap().len(), 1);
    client.delete_webhook("wh_1").await.unwrap();

    let seen = server.seen();
    let routes: Vec<String> = seen
        .iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(
        routes,
        [
            "POST /hub2/payment-intents",
            "GET /hub2/payment-intents/pi_1",
            "GET /hub2/payment-intents/pi_1/status",
            "POST /hub2/transfers",
            "GET /hub2/transfers/tr_1",
            "GET /hub2/transfers/tr_1/status",
            "GET /hub2/balance",
            "POST /hub2/delegated/payments",
            "POST /hub2/delegated/transfers",
            "POST /hub2/webhooks",
            "GET /hub2/webhooks",
            "DELETE /hub2/webhooks/wh_1",
        ]
    );
    for s in &seen {
        assert_eq!(
            header(s, "ApiKey"),
            Some(API_KEY),
            "{} {}",
            s.method,
            s.path
        );
        assert_eq!(header(s, "MerchantId"), Some(MERCHANT));
        assert_eq!(header(s, "Environment"), Some("sandbox"));
        if s.method == Method::POST {
            assert_eq!(header(s, "content-type"), Some("application/json"));
        }
    }
    let body: Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(
        body,
        json!({"customerReference": "cust_1", "purchaseReference": "order 1.2",
            "amount": 200, "currency": "XOF"})
    );
}

#[tokio::test]
async fn live_environment_header() {
    let server = Server::start(happy).await;
    let mut config = Hub2Config::new(&server.base_url, API_KEY, MERCHANT, Environment::Live);
    config.retry = fast_retry();
    Hub2Client::new(config)
        .unwrap()
        .get_balance()
        .await
        .unwrap();
    assert_eq!(header(&server.seen()[0], "Environment"), Some("live"));
}

#[tokio::test]
async fn payment_client_sends_no_api_key() {
    let server = Server::start(happy).await;
    let payments = Hub2PaymentClient::new(&server.base_url, Duration::from_secs(5)).unwrap();
    let attempt =
        AttemptPaymentRequest::new("jwt.token.here", PaymentMethod::MobileMoney, Country::Ci)
            .with_provider(Provider::Orange)
            .with_mobile_money(MobileMoneyDetails::new("0700000001"));
    let intent = payments.attempt_payment("pi_1", &attempt).await.unwrap();
    assert_eq!(intent.status, PaymentIntentStatus::Processing);
    let otp = AuthenticatePaymentRequest::new("jwt.token.here", "1234");
    payments.authenticate_payment("pi_1", &otp).await.unwrap();
    // The same, derived from a merchant client.
    server
        .client()
        .payment_client()
        .authenticate_payment("pi_1", &otp)
        .await
        .unwrap();

    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].path, "/hub2/payment-intents/pi_1/payments");
    assert_eq!(seen[1].path, "/hub2/payment-intents/pi_1/authentication");
    for s in &seen {
        assert_eq!(header(s, "ApiKey"), None);
        assert_eq!(header(s, "MerchantId"), None);
        assert_eq!(header(s, "Environment"), None);
        let body = String::from_utf8_lossy(&s.body);
        assert!(body.contains("jwt.token.here"), "{body}");
        assert!(!body.contains(API_KEY));
    }
    let body: Value = serde_json::from_slice(&seen[1].body).unwrap();
    assert_eq!(
        body,
        json!({"token": "jwt.token.here", "confirmationCode": "1234"})
    );
}

#[tokio::test]
async fn error_bodies_become_api_errors() {
    let server = Server::start(|seen, _| match seen.path.as_str() {
        "/hub2/delegated/payments" => reply(
            403,
            error_body(
                403,
                "Forbidden",
                "Missing permission Api.delegated_payment_create",
            ),
        ),
        "/hub2/transfers" => reply(
            402,
            error_body(
                402,
                "insufficient-funds",
                "The account does not have enough funds",
            ),
        ),
        "/hub2/payment-intents/pi_404" => {
            reply(404, error_body(404, "Not Found", "Intent not found"))
        }
        "/hub2/balance" => (502, Vec::new(), "<html>bad gateway</html>".into()),
        "/hub2/webhooks" => (500, Vec::new(), "oops".into()),
        _ => reply(409, error_body(409, "Conflict", "duplicate")),
    })
    .await;
    let client = server.client();

    match client
        .create_delegated_payment(&delegated_request())
        .await
        .unwrap_err()
    {
        Hub2Error::Api {
            http_status,
            code,
            message,
            request_id,
        } => {
            assert_eq!(http_status, 403);
            assert_eq!(code, "Forbidden");
            assert!(message.contains("Api.delegated_payment_create"));
            assert_eq!(request_id, "req_test_1");
        }
        other => panic!("{other:?}"),
    }
    let err = client
        .create_transfer(&transfer_request("payout-1"))
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(402));
    assert_eq!(err.code(), Some("insufficient-funds"));
    assert_eq!(err.request_id(), Some("req_test_1"));
    let err = client.get_payment_intent("pi_404").await.unwrap_err();
    assert_eq!(
        (err.http_status(), err.code()),
        (Some(404), Some("Not Found"))
    );

    // A GET answered 5xx is retried (max_attempts), then a non-JSON error is Http.
    match client.get_balance().await.unwrap_err() {
        Hub2Error::Http {
            http_status: 502,
            body,
        } => assert!(body.contains("bad gateway")),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.count("GET", "/hub2/balance"), 3);
    // A POST answered 5xx is never re-sent.
    let err = client
        .create_webhook(&CreateWebhookRequest::new(
            "https://website.com/hook",
            vec![WebhookEventType::PaymentSucceeded],
        ))
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(500));
    assert_eq!(server.count("POST", "/hub2/webhooks"), 1);
    // Business errors are not retried either.
    assert_eq!(server.count("POST", "/hub2/transfers"), 1);
    assert_eq!(server.count("POST", "/hub2/delegated/payments"), 1);
}

#[tokio::test]
async fn get_waits_for_retry_after_on_429_then_succeeds() {
    let server = Server::start(|seen, all| {
        let earlier = all.iter().filter(|s| s.path == seen.path).count();
        if earlier == 1 {
            (
                429,
                vec![("retry-after", "1".into())],
                error_body(429, "Too Many Requests", "slow down").to_string(),
            )
        } else {
            reply(200, json!({"id": "tr_1", "status": "successful"}))
        }
    })
    .await;
    let started = Instant::now();
    let status = server.client().get_transfer_status("tr_1").await.unwrap();
    assert_eq!(status.status.as_str(), "successful");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.count("GET", "/hub2/transfers/tr_1/status"), 2);
}

#[tokio::test]
async fn rate_limits_surface_as_rate_limited() {
    let server = Server::start(|seen, _| {
        let retry_after = if seen.method == Method::GET {
            "120"
        } else {
            "1"
        };
        (
            429,
            vec![("retry-after", retry_after.into())],
            String::new(),
        )
    })
    .await;
    let client = server.client();
    // POST: never re-sent after a response.
    match client
        .create_payment_intent(&intent_request("o1"))
        .await
        .unwrap_err()
    {
        Hub2Error::RateLimited { retry_after } => {
            assert_eq!(retry_after, Some(Duration::from_secs(1)))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.count("POST", "/hub2/payment-intents"), 1);
    // GET with a Retry-After longer than the retry policy's max_backoff:
    // handed to the caller at once instead of hammering HUB2.
    let started = Instant::now();
    let err = client.get_balance().await.unwrap_err();
    assert!(
        matches!(err, Hub2Error::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(120))
    );
    assert_eq!(err.http_status(), Some(429));
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(server.count("GET", "/hub2/balance"), 1);
}

#[tokio::test]
async fn wait_returns_at_once_for_statuses_that_must_not_be_polled() {
    for status in ["successful", "failed", "payment_required"] {
        let server = Server::start(move |seen, _| {
            if seen.path.ends_with("/status") {
                reply(200, json!({"id": "pi_1", "status": "processing"}))
            } else {
                reply(200, intent(status))
            }
        })
        .await;
        let intent = server
            .client()
            .wait_for_payment_intent("pi_1", Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(intent.status.as_str(), status);
        assert_eq!(server.seen().len(), 1, "{status}");
        assert_eq!(server.count("GET", "/hub2/payment-intents/pi_1/status"), 0);
    }
}

#[tokio::test]
async fn wait_polls_status_while_processing_or_action_required() {
    let server = Server::start(|seen, all| {
        let polls = all.iter().filter(|s| s.path.ends_with("/status")).count();
        if seen.path.ends_with("/status") {
            let status = match polls {
                1 => "processing",
                2 => "action_required",
                _ => "successful",
            };
            reply(200, json!({"id": "pi_1", "status": status}))
        } else if polls == 0 {
            reply(200, intent("processing"))
        } else {
            reply(200, intent("successful"))
        }
    })
    .await;
    let intent = server
        .client()
        .wait_for_payment_intent("pi_1", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(intent.status, PaymentIntentStatus::Successful);
    assert_eq!(server.count("GET", "/hub2/payment-intents/pi_1/status"), 3);
    // One read before polling, one after the status became final.
    assert_eq!(server.count("GET", "/hub2/payment-intents/pi_1"), 2);
    for s in server.seen() {
        assert_eq!(header(&s, "ApiKey"), Some(API_KEY));
    }
}

#[tokio::test]
async fn wait_honours_429_while_polling() {
    let server = Server::start(|seen, all| {
        let polls = all.iter().filter(|s| s.path.ends_with("/status")).count();
        if seen.path.ends_with("/status") {
            match polls {
                1 => (429, vec![("retry-after", "1".into())], String::new()),
                _ => reply(200, json!({"id": "pi_1", "status": "failed"})),
            }
        } else if polls == 0 {
            reply(200, intent("action_required"))
        } else {
            reply(200, intent("failed"))
        }
    })
    .await;
    let started = Instant::now();
    let intent = server
        .client()
        .wait_for_payment_intent("pi_1", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(intent.status, PaymentIntentStatus::Failed);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(server.count("GET", "/hub2/payment-intents/pi_1/status"), 2);
}

#[tokio::test]
async fn wait_gives_up_at_the_deadline_with_the_last_status() {
    let server = Server::start(|seen, _| {
        if seen.path.ends_with("/status") {
            reply(200, json!({"id": "pi_1", "status": "action_required"}))
        } else {
            reply(200, intent("processing"))
        }
    })
    .await;
    let started = Instant::now();
    match server
        .client()
        .wait_for_payment_intent("pi_1", Duration::from_millis(300))
        .await
        .unwrap_err()
    {
        Hub2Error::Deadline { id, last_status } => {
            assert_eq!(id, "pi_1");
            assert_eq!(last_status.as_deref(), Some("action_required"));
        }
        other => panic!("{other:?}"),
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    // Backed off (20, 40, 50, 50... ms), not a busy loop.
    let polls = server.count("GET", "/hub2/payment-intents/pi_1/status");
    assert!((3..=10).contains(&polls), "{polls}");
}

#[tokio::test]
async fn invalid_requests_are_never_sent() {
    let server = Server::start(happy).await;
    let client = server.client();
    match client
        .create_payment_intent(&intent_request("order#1"))
        .await
        .unwrap_err()
    {
        Hub2Error::Invalid { field, message } => {
            assert_eq!(field, "purchaseReference");
            assert!(message.contains("^[A-Za-z0-9_. -]+$"), "{message}");
            assert!(message.contains("'#'"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let mut bad_customer = intent_request("ok");
    bad_customer.customer_reference = String::new();
    assert!(matches!(
        client.create_payment_intent(&bad_customer).await,
        Err(Hub2Error::Invalid { field, .. }) if field == "customerReference"
    ));
    assert!(matches!(
        client.create_transfer(&transfer_request("payout/1")).await,
        Err(Hub2Error::Invalid { field, .. }) if field == "reference"
    ));
    assert!(matches!(
        client.create_delegated_transfer(&transfer_request("é")).await,
        Err(Hub2Error::Invalid { field, .. }) if field == "reference"
    ));
    let mut delegated = delegated_request();
    delegated.purchase_reference = "a&b".into();
    assert!(matches!(
        client.create_delegated_payment(&delegated).await,
        Err(Hub2Error::Invalid { field, .. }) if field == "purchaseReference"
    ));
    for id in [
        "",
        ".",
        "..",
        "pi_1/../x",
        "pi 1",
        "pi_1?x=1",
        "pi%2F1",
        "pi#1",
        "pï",
    ] {
        assert!(
            matches!(client.get_payment_intent(id).await, Err(Hub2Error::Invalid { ref field, .. }) if field == "id"),
            "{id:?}"
        );
        assert!(client.delete_webhook(id).await.is_err());
        assert!(client.get_transfer_status(id).await.is_err());
        assert!(client
            .wait_for_payment_intent(id, Duration::from_secs(1))
            .await
            .is_err());
    }
    let payments = client.payment_client();
    let otp = AuthenticatePaymentRequest::new("t", "1234");
    assert!(matches!(
        payments.authenticate_payment("../webhooks", &otp).await,
        Err(Hub2Error::Invalid { field, .. }) if field == "intent_id"
    ));
    assert!(server.seen().is_empty());
}

#[test]
fn reference_rule() {
    for ok in [
        "Test_01",
        "Test_YYYY_MM_DD_01",
        "order 1.2-a_b",
        "A",
        "0",
        " ",
        "...",
    ] {
        assert!(
            validate_reference("purchaseReference", ok).is_ok(),
            "{ok:?}"
        );
    }
    for bad in [
        "", "a#b", "a/b", "é", "a\tb", "a\nb", "a,b", "a:b", "a+b", "a'b", "a\"b", "a@b", "€",
        "a\u{a0}b",
    ] {
        match validate_reference("customerReference", bad) {
            Err(Hub2Error::Invalid { field, message }) => {
                assert_eq!(field, "customerReference");
                assert!(
                    message.starts_with("must match /^[A-Za-z0-9_. -]+$/"),
                    "{message}"
                );
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    let shown = validate_reference("purchaseReference", "x#")
        .unwrap_err()
        .to_string();
    assert!(shown.contains("purchaseReference must match"), "{shown}");
    assert!(validate_id("id", "pi_tffiDaXyWQu203rIXhujW").is_ok());
    assert!(validate_id("id", "a.b~c-d").is_ok());
}

#[tokio::test]
async fn decode_errors_name_the_path() {
    let server = Server::start(|_, _| {
        let mut body = intent("processing");
        body["amount"] = json!("two hundred");
        reply(200, body)
    })
    .await;
    match server
        .client()
        .get_payment_intent("pi_1")
        .await
        .unwrap_err()
    {
        Hub2Error::Decode { path, .. } => assert_eq!(path, "amount"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn posts_are_resent_only_after_connection_errors() {
    // Nothing listens on this port: every attempt is a connect error, which
    // proves the request never reached HUB2, so POSTs are retried too.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let mut config = Hub2Config::new(
        format!("http://{addr}"),
        API_KEY,
        MERCHANT,
        Environment::Sandbox,
    );
    config.retry = fast_retry();
    let client = Hub2Client::new(config).unwrap();
    match client
        .create_payment_intent(&intent_request("o1"))
        .await
        .unwrap_err()
    {
        Hub2Error::Transport {
            attempts,
            source,
            url,
        } => {
            assert_eq!(attempts, 3);
            assert!(source.is_connect());
            assert!(url.ends_with("/payment-intents"));
        }
        other => panic!("{other:?}"),
    }
}

/// A server that counts requests and answers each `answer` after 300 ms.
async fn slow_server(answer: Value) -> (String, Arc<Mutex<u32>>) {
    let hits = Arc::new(Mutex::new(0u32));
    let counter = hits.clone();
    let router = Router::new().fallback(move || {
        let counter = counter.clone();
        let answer = answer.clone();
        async move {
            *counter.lock().unwrap() += 1;
            tokio::time::sleep(Duration::from_millis(300)).await;
            (StatusCode::CREATED, answer.to_string())
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}"), hits)
}

fn impatient(base_url: String) -> Hub2Client {
    let mut config = Hub2Config::new(base_url, API_KEY, MERCHANT, Environment::Sandbox);
    config.retry = fast_retry();
    config.timeout = Duration::from_millis(100);
    Hub2Client::new(config).unwrap()
}

#[tokio::test]
async fn a_transfer_that_times_out_is_not_resent_and_is_ambiguous() {
    let (base_url, hits) = slow_server(transfer()).await;
    let err = impatient(base_url)
        .create_transfer(&transfer_request("payout-1"))
        .await
        .unwrap_err();
    match &err {
        Hub2Error::Ambiguous {
            call,
            reference,
            attempts: 1,
            last,
        } => {
            assert_eq!((*call, reference.as_str()), ("createTransfer", "payout-1"));
            assert!(matches!(**last, Hub2Error::Transport { .. }), "{last:?}");
        }
        other => panic!("{other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(*hits.lock().unwrap(), 1);
}

#[tokio::test]
async fn an_intent_creation_that_times_out_is_sent_again_since_it_moves_no_money() {
    let (base_url, hits) = slow_server(intent("payment_required")).await;
    let err = impatient(base_url)
        .create_payment_intent(&intent_request("o1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Hub2Error::Ambiguous { attempts: 3, .. }),
        "{err:?}"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(*hits.lock().unwrap(), 3);
}

#[test]
fn debug_never_shows_the_api_key() {
    let config = Hub2Config::new(
        "http://127.0.0.1:1/hub2",
        API_KEY,
        MERCHANT,
        Environment::Sandbox,
    );
    let shown = format!("{config:?}");
    assert!(!shown.contains("VERYSECRET"), "{shown}");
    assert!(shown.contains(MERCHANT));
    let client = Hub2Client::new(config).unwrap();
    let shown = format!("{client:?} {:#?}", client.clone());
    assert!(!shown.contains("VERYSECRET"), "{shown}");
    let payments = Hub2PaymentClient::new("http://127.0.0.1:1", Duration::from_secs(1)).unwrap();
    assert!(!format!("{payments:?}").contains("VERYSECRET"));
}

#[test]
fn configuration_is_checked() {
    assert_eq!(Environment::Sandbox.as_str(), "sandbox");
    assert_eq!(Environment::Live.to_string(), "live");
    assert_eq!("live".parse::<Environment>(), Ok(Environment::Live));
    let config = Hub2Config::new("not a url", API_KEY, MERCHANT, Environment::Sandbox);
    assert_eq!(config.timeout, Duration::from_secs(30));
    assert_eq!(config.retry, RetryPolicy::default());
    assert_eq!(config.poll.initial_delay, Duration::from_secs(1));
    assert_eq!(config.poll.max_delay, Duration::from_secs(10));
    assert!(
        matches!(Hub2Client::new(config), Err(Hub2Error::Invalid { field, .. }) if field == "base_url")
    );
    let bad_merchant = Hub2Config::new("http://h", API_KEY, "m\n1", Environment::Sandbox);
    assert!(
        matches!(Hub2Client::new(bad_merchant), Err(Hub2Error::Invalid { field, .. }) if field == "merchant_id")
    );
    let no_key = Hub2Config::new("http://h", "", MERCHANT, Environment::Sandbox);
    assert!(
        matches!(Hub2Client::new(no_key), Err(Hub2Error::Invalid { field, .. }) if field == "api_key")
    );
    assert!(Hub2PaymentClient::new("ftp://h", Duration::from_secs(1)).is_err());
}
