//! Callback delivery: retries, give-up, POS callbacks, forced outcomes.

mod simulator_support;

use std::time::Duration;

use paygate::gateway::callback::verify_callback;
use paygate::gateway::{DepositRequest, PosCallback, WithdrawalRequest};
use paygate_conformance::simulator::{CallbackRetry, Merchant, DEMO_PUBLIC_ID};
use serde_json::json;
use simulator_support::*;

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_third_attempt() {
    let sim = simulator(fast_config()).await;
    let receiver = Receiver::start(Some(2)).await;
    client(&sim)
        .payment_c2b(typed(kenya_c2b(
            "retry-1",
            "254700000000",
            Some(&receiver.url),
        )))
        .await
        .unwrap();
    eventually("three deliveries", || receiver.count() >= 3).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        receiver
            .all()
            .iter()
            .map(|r| r.answered)
            .collect::<Vec<_>>(),
        [500, 500, 200]
    );
    let attempts = sim.state().callback_attempts(Some("retry-1"));
    assert_eq!(
        attempts.iter().map(|a| a.attempt).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(
        attempts.iter().map(|a| a.http_status).collect::<Vec<_>>(),
        [Some(500), Some(500), Some(200)]
    );
    assert_eq!(
        attempts.iter().map(|a| a.delivered).collect::<Vec<_>>(),
        [false, false, true]
    );
    assert!(attempts
        .iter()
        .all(|a| a.url == receiver.url && a.order_id == "retry-1"));
    sim.shutdown().await;
}

#[tokio::test]
async fn attempts_stop_at_max_attempts() {
    let mut config = fast_config();
    config.callback_retry = CallbackRetry {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(10),
    };
    let sim = simulator(config).await;
    let receiver = Receiver::start(None).await;
    client(&sim)
        .payment_c2b(typed(kenya_c2b(
            "never-1",
            "254700000000",
            Some(&receiver.url),
        )))
        .await
        .unwrap();
    eventually("three deliveries", || receiver.count() >= 3).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.count(), 3);
    let attempts = sim.state().callback_attempts(Some("never-1"));
    assert_eq!(attempts.len(), 3);
    assert!(attempts.iter().all(|a| !a.delivered));
    sim.shutdown().await;
}

#[tokio::test]
async fn unreachable_callback_urls_are_recorded_as_errors() {
    let mut config = fast_config();
    config.callback_retry.max_attempts = 2;
    let sim = simulator(config).await;
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/callback", listener.local_addr().unwrap())
    };
    client(&sim)
        .payment_c2b(typed(kenya_c2b("dead-1", "254700000000", Some(&dead))))
        .await
        .unwrap();
    eventually("two attempts", || {
        sim.state().callback_attempts(Some("dead-1")).len() >= 2
    })
    .await;
    let attempts = sim.state().callback_attempts(Some("dead-1"));
    assert!(attempts
        .iter()
        .all(|a| a.http_status.is_none() && a.error.is_some()));
    sim.shutdown().await;
}

#[tokio::test]
async fn pos_deposit_and_withdrawal_call_back_with_20_and_21() {
    let receiver = Receiver::start(Some(0)).await;
    let mut config = fast_config();
    config.merchants[0].callback_url = Some(receiver.url.clone());
    let sim = simulator(config).await;
    let client = client(&sim);
    let deposit: DepositRequest = typed(json!({
        "merchant_id": "", "customer_id": "0900000010", "order_id": "pos-dep-1", "amount": "100.00",
        "currency": "CDF", "country": "CD", "destination_id": "2133456", "signature": ""
    }));
    let response = client.deposit(deposit).await.expect("deposit accepted");
    assert_eq!(response.status.code(), 1);

    let other = Receiver::start(Some(0)).await;
    let withdrawal: WithdrawalRequest = typed(json!({
        "merchant_id": "", "customer_id": "0900000010", "order_id": "pos-wd-1", "amount": "50.00",
        "currency": "CDF", "country": "CD", "provider_id": 1003, "callback_url": other.url, "signature": ""
    }));
    let response = client
        .withdrawal(withdrawal)
        .await
        .expect("withdrawal accepted");
    assert_eq!(response.status.code(), 7, "in transit");

    eventually("deposit callback", || receiver.count() >= 1).await;
    eventually("withdrawal callback", || other.count() >= 1).await;
    let key = demo_key();
    let dep: PosCallback = verify_callback(&key, &receiver.all()[0].body).expect("verified");
    assert_eq!((dep.operation_type.code(), dep.status.code()), (20, 2));
    assert_eq!(dep.order_id, "pos-dep-1");
    assert_eq!(dep.destination_id, "2133456");
    let raw: serde_json::Value = serde_json::from_slice(&receiver.all()[0].body).unwrap();
    assert!(
        raw.get("provider_result").is_none(),
        "POS callbacks have no provider_result"
    );
    let wd: PosCallback = verify_callback(&key, &other.all()[0].body).expect("verified");
    assert_eq!(
        (wd.operation_type.code(), wd.status.code(), wd.provider_id),
        (21, 2, 1003)
    );
    assert_eq!(client.status("pos-wd-1").await.unwrap().status.code(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn forcing_an_outcome_finishes_now_and_calls_back() {
    let sim = simulator(fast_config()).await;
    let receiver = Receiver::start(Some(0)).await;
    client(&sim)
        .payment_c2b(typed(kenya_c2b(
            "force-1",
            "254700000003",
            Some(&receiver.url),
        )))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert_eq!(receiver.count(), 0, "003 stays in progress");
    let url = format!(
        "{}/_sim/transactions/{DEMO_PUBLIC_ID}/force-1/outcome",
        sim.base_url()
    );
    let post = |url: &str| control(&sim, reqwest::Method::POST, url);
    let bad = post(&url)
        .header("content-type", "application/json")
        .body(r#"{"status":7}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let forced = post(&url)
        .header("content-type", "application/json")
        .body(r#"{"status":4}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(forced.status().as_u16(), 200);
    let body: serde_json::Value = serde_json::from_slice(&forced.bytes().await.unwrap()).unwrap();
    assert_eq!(body["status"], 4);
    eventually("the callback", || receiver.count() >= 1).await;
    assert_eq!(
        receiver.all()[0].callback.as_ref().unwrap().status.code(),
        4
    );
    let again = post(&url).body(r#"{"status":2}"#).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 409);
    let missing = post(&format!(
        "{}/_sim/transactions/{DEMO_PUBLIC_ID}/nope/outcome",
        sim.base_url()
    ))
    .body(r#"{"status":2}"#)
    .send()
    .await
    .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    sim.shutdown().await;
}

#[tokio::test]
async fn callbacks_go_to_the_merchants_url_when_the_request_has_none() {
    let receiver = Receiver::start(Some(0)).await;
    let mut config = fast_config();
    config.merchants.push(Merchant {
        public_id: "second".into(),
        merchant_id: "second-merchant".into(),
        secret_key: paygate::SecretKey::new("second-key"),
        callback_url: None,
    });
    config.merchants[0].callback_url = Some(receiver.url.clone());
    let sim = simulator(config).await;
    client(&sim)
        .payment_c2b(typed(kenya_c2b("default-url-1", "254700000000", None)))
        .await
        .unwrap();
    eventually("the callback", || receiver.count() >= 1).await;
    assert!(receiver.all()[0].callback.is_some());
    sim.shutdown().await;
}

/// A callback endpoint that takes 200 ms per callback and counts how many
/// it is answering at once.
async fn slow_receiver() -> (
    String,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let now = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/slow", listener.local_addr().unwrap());
    let app = {
        let (now, peak, done) = (now.clone(), peak.clone(), done.clone());
        axum::Router::new().route(
            "/slow",
            axum::routing::post(move || {
                let (now, peak, done) = (now.clone(), peak.clone(), done.clone());
                async move {
                    let at_once = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(at_once, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                    done.fetch_add(1, Ordering::SeqCst);
                    "ok"
                }
            }),
        )
    };
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, peak, done)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_deliveries_in_flight_never_exceed_the_pool() {
    use std::sync::atomic::Ordering;
    let mut config = fast_config();
    config.callback_concurrency = 3;
    let sim = simulator(config).await;
    let (url, peak, done) = slow_receiver().await;
    let client = client(&sim);
    for n in 0..12 {
        client
            .payment_c2b(typed(kenya_c2b(
                &format!("pool-{n}"),
                "254700000000",
                Some(&url),
            )))
            .await
            .unwrap();
    }
    eventually("twelve callbacks", || done.load(Ordering::SeqCst) >= 12).await;
    assert_eq!(
        peak.load(Ordering::SeqCst),
        3,
        "at most --callback-concurrency callbacks in flight, and the pool is used"
    );
    sim.shutdown().await;
}
