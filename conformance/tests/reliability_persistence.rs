//! Persistence (`paygate simulate --db FILE`): what a simulator killed
//! with SIGKILL finds again when it starts on the same file: accepted
//! transactions (status finds them, replays get the stored bytes), the
//! outcome timers of transactions not yet final, and callbacks that were
//! still pending. Loopback only; each wait is bounded.

mod postgres_support;
mod reliability_support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use paygate::gateway::client::sign_body;
use paygate::gateway::StatusRequest;
use paygate::signing::SecretKey;
use paygate_conformance::simulator::{start, Merchant, SimulatorConfig};
use reliability_support::*;
use serde_json::{json, Value};

async fn post(base_url: &str, method: &str, body: Vec<u8>) -> (u16, Bytes) {
    let response = reqwest::Client::new()
        .post(format!("{base_url}/{PUBLIC_ID}/{method}"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("simulator answers");
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap())
}

fn status_request(order_id: &str) -> Vec<u8> {
    let mut request: StatusRequest = serde_json::from_value(json!({
        "merchant_id": "", "order_id": order_id, "signature": ""
    }))
    .expect("typed");
    sign_body(&key(), MERCHANT_ID, &mut request).expect("sign");
    serde_json::to_vec(&request).unwrap()
}

/// GETs a control API URL (with the admin token) as JSON.
async fn get_json(url: &str) -> Value {
    let bytes = admin_get(url).await.unwrap().bytes().await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

async fn wait_for<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_accepted_transaction_survives_sigkill() {
    accepted_survives(None).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: scripts/postgres-tests.sh"]
async fn on_postgres_an_accepted_transaction_survives_sigkill() {
    accepted_survives(Some(postgres_support::fresh_database("accepted"))).await;
}

/// With `db` (a PostgreSQL URL), or else an SQLite file.
async fn accepted_survives(db: Option<PathBuf>) {
    let dir = scratch("persist-accepted");
    let sink = CallbackSink::start().await;
    let mut sim = SimProcess::new(&dir, merchants_file(&dir, &sink.url), 5, 5);
    if let Some(db) = db {
        sim.db = db;
    }
    sim.start().await;

    // Customer ...003: stays in progress, so the state after the restart
    // is the state before it.
    let request = signed_c2b("persist-1", "2250705145003", "1100.00", None);
    let (status, first) = post(&sim.base_url(), "payment_c2b", request.clone()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&first));
    let transaction_id = json_of(&first)["transaction_id"]
        .as_str()
        .unwrap()
        .to_owned();

    sim.kill();
    sim.start().await;

    let (status, answer) = post(&sim.base_url(), "status", status_request("persist-1")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let answer = json_of(&answer);
    assert_eq!(answer["transaction_id"], transaction_id.as_str());
    assert_eq!(answer["status"], 1);
    let (status, replay) = post(&sim.base_url(), "payment_c2b", request).await;
    assert_eq!(status, 200);
    assert_eq!(
        replay, first,
        "a replay after the restart gets the stored bytes"
    );
    let (status, reused) = post(
        &sim.base_url(),
        "payment_c2b",
        signed_c2b("persist-1", "2250705145003", "1200.00", None),
    )
    .await;
    assert_eq!(status, 409, "{}", String::from_utf8_lossy(&reused));

    // A new order after the restart gets a new id: serials are not reused.
    let (status, second) = post(
        &sim.base_url(),
        "payment_c2b",
        signed_c2b("persist-2", "2250705145003", "1100.00", None),
    )
    .await;
    assert_eq!(status, 200);
    assert_ne!(json_of(&second)["transaction_id"], transaction_id.as_str());

    // Reset is kept too.
    let reset = admin_post(&format!("{}/_sim/reset", sim.base_url()))
        .await
        .unwrap();
    assert_eq!(reset.status().as_u16(), 200);
    sim.kill();
    sim.start().await;
    assert_eq!(sim.transaction_count().await, 0);
    // No transaction is left to say how far the serials went: a new
    // order still gets an id never handed out before.
    let (status, third) = post(
        &sim.base_url(),
        "payment_c2b",
        signed_c2b("persist-3", "2250705145003", "1100.00", None),
    )
    .await;
    assert_eq!(status, 200);
    let third = json_of(&third)["transaction_id"].clone();
    assert_ne!(third, transaction_id.as_str());
    assert_ne!(third, json_of(&second)["transaction_id"]);
    sim.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_transaction_not_yet_final_reaches_its_outcome_after_a_restart() {
    timer_resumes(None).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: scripts/postgres-tests.sh"]
async fn on_postgres_a_transaction_not_yet_final_reaches_its_outcome_after_a_restart() {
    timer_resumes(Some(postgres_support::fresh_database("timer"))).await;
}

/// With `db` (a PostgreSQL URL), or else an SQLite file.
async fn timer_resumes(db: Option<PathBuf>) {
    let dir = scratch("persist-timer");
    let sink = CallbackSink::start().await;
    // 1.5 s latency: killed well before its outcome.
    let mut sim = SimProcess::new(&dir, merchants_file(&dir, &sink.url), 1500, 5);
    if let Some(db) = db {
        sim.db = db;
    }
    sim.start().await;
    let (status, first) = post(
        &sim.base_url(),
        "payment_c2b",
        signed_c2b("timer-1", "2250705145001", "1100.00", None),
    )
    .await;
    assert_eq!(status, 200);
    let first = json_of(&first);
    assert_eq!(first["status"], 1);
    sim.kill();
    assert_eq!(sink.delivered_orders(), 0, "killed before the outcome");
    sim.start().await;

    wait_for(
        "the callback after the restart",
        Duration::from_secs(20),
        || {
            let n = sink.delivered_orders();
            async move { n == 1 }
        },
    )
    .await;
    let delivered = sink.delivered();
    let callbacks = &delivered["timer-1"];
    assert_eq!(callbacks.len(), 1);
    assert_eq!(callbacks[0].status, 3, "customer ...001 fails");
    assert_eq!(
        callbacks[0].transaction_id,
        first["transaction_id"].as_str().unwrap()
    );
    let tx = get_json(&format!(
        "{}/_sim/transactions/{PUBLIC_ID}/timer-1",
        sim.base_url()
    ))
    .await;
    let statuses: Vec<i64> = tx["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [0, 1, 3], "one outcome: {tx}");
    sim.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_pending_callback_is_delivered_after_a_restart() {
    outbox_resumes(None).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: scripts/postgres-tests.sh"]
async fn on_postgres_a_pending_callback_is_delivered_after_a_restart() {
    outbox_resumes(Some(postgres_support::fresh_database("outbox"))).await;
}

/// With `db` (a PostgreSQL URL), or else an SQLite file.
async fn outbox_resumes(db: Option<PathBuf>) {
    let dir = scratch("persist-outbox");
    // The merchant's endpoint is down at first: a port nobody listens on.
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/callback");
    // 1 s backoff: the second attempt is due after the kill.
    let mut sim = SimProcess::new(&dir, merchants_file(&dir, &url), 5, 1000);
    if let Some(db) = db {
        sim.db = db;
    }
    sim.start().await;
    let (status, first) = post(
        &sim.base_url(),
        "payment_c2b",
        signed_c2b("outbox-1", "2250705145655", "1100.00", None),
    )
    .await;
    assert_eq!(status, 200);
    let attempts_url = format!("{}/_sim/callbacks?order_id=outbox-1", sim.base_url());
    wait_for("the first, failed attempt", Duration::from_secs(10), || {
        let url = attempts_url.clone();
        async move {
            get_json(&url).await["callbacks"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        }
    })
    .await;
    sim.kill();

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("the endpoint's port is still free");
    let sink = CallbackSink::serve(listener);
    sim.start().await;
    wait_for("the resumed delivery", Duration::from_secs(20), || {
        let n = sink.delivered_orders();
        async move { n == 1 }
    })
    .await;
    let delivered = sink.delivered();
    assert_eq!(delivered["outbox-1"][0].status, 2);
    assert_eq!(
        delivered["outbox-1"][0].transaction_id,
        json_of(&first)["transaction_id"].as_str().unwrap()
    );
    wait_for("the delivery recorded", Duration::from_secs(10), || {
        let url = attempts_url.clone();
        async move {
            get_json(&url).await["callbacks"]
                .as_array()
                .is_some_and(|a| a.iter().any(|a| a["delivered"] == true))
        }
    })
    .await;
    let attempts = get_json(&attempts_url).await;
    let attempts = attempts["callbacks"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(attempts[0]["attempt"], 1);
    assert!(attempts[0]["error"].is_string(), "{attempts:?}");
    assert_eq!(attempts[1]["attempt"], 2, "the attempt count goes on");
    assert_eq!(attempts[1]["http_status"], 200);
    sim.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_in_process_simulator_reopens_its_database() {
    let dir = scratch("persist-in-process");
    let mut config = SimulatorConfig {
        merchants: vec![Merchant {
            public_id: PUBLIC_ID.into(),
            merchant_id: MERCHANT_ID.into(),
            secret_key: SecretKey::new(SECRET),
            callback_url: None,
        }],
        ..SimulatorConfig::default()
    };
    config.db = Some(dir.join("gateway.db"));
    let sim = start(config.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    assert!(sim.state().store().is_persistent());
    let (status, first) = post(
        &sim.base_url(),
        "payment_c2b",
        signed_c2b("in-process-1", "2250705145003", "1100.00", None),
    )
    .await;
    assert_eq!(status, 200);
    sim.shutdown().await;

    let sim = start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let tx = sim
        .state()
        .transaction(PUBLIC_ID, "in-process-1")
        .expect("read back");
    assert_eq!(
        tx.transaction_id,
        json_of(&first)["transaction_id"].as_str().unwrap()
    );
    assert_eq!(tx.replies.len(), 1);
    assert_eq!(tx.replies[0].body, first);
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_second_simulator_on_the_same_file_refuses_to_start() {
    let dir = scratch("persist-locked");
    let config = SimulatorConfig {
        db: Some(dir.join("gateway.db")),
        ..SimulatorConfig::demo()
    };
    let sim = start(config.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let err = start(config.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect_err("the file is in use");
    assert!(err.to_string().contains("locked"), "{err}");
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: scripts/postgres-tests.sh"]
async fn on_postgres_a_second_simulator_on_the_same_database_refuses_to_start() {
    let config = SimulatorConfig {
        db: Some(postgres_support::fresh_database("locked")),
        ..SimulatorConfig::demo()
    };
    let sim = start(config.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let err = start(config.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .expect_err("the database is in use");
    assert!(
        err.to_string().contains("another paygate simulator"),
        "{err}"
    );
    sim.shutdown().await;
    // Once the first one has stopped, the database opens again.
    let again = start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("free again");
    again.shutdown().await;
}
