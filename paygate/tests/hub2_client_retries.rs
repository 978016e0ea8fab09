//! The HUB2 client's re-sending: POSTs after connection errors only,
//! except where a second request cannot pay twice; ambiguous outcomes.
#![cfg(feature = "axum")]

mod hub2_client_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::Router;
use serde_json::Value;

use paygate::hub2::client::{Environment, Hub2Client, Hub2Config, Hub2Error};

use hub2_client_support::*;

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
