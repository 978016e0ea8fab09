//! The HUB2 client against a tiny scripted HUB2 served by axum in the test
//! (what is re-sent after what, and ambiguous outcomes:
//! `hub2_client_retries.rs`).
#![cfg(feature = "axum")]

mod hub2_client_support;

use std::time::{Duration, Instant};

use axum::http::Method;
use serde_json::{json, Value};

use paygate::gateway::client::RetryPolicy;
use paygate::hub2::client::{
    validate_id, validate_reference, Environment, Hub2Client, Hub2Config, Hub2Error,
    Hub2PaymentClient,
};
use paygate::hub2::models::{
    AttemptPaymentRequest, AuthenticatePaymentRequest, Country, CreateWebhookRequest,
    MobileMoneyDetails, PaymentIntentStatus, PaymentMethod, Provider, WebhookEventType,
};

use hub2_client_support::*;

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
