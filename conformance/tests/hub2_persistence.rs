//! HUB2 state in the database (issue 19, part 1, SQLite): a simulator
//! killed with SIGKILL and started again on the same `--db` file finds
//! every HUB2 intent, payment attempt, transfer, balance and webhook it
//! had answered for, signs with the same secrets (the previous one still
//! inside its grace period), and finishes the attempts and transfers that
//! were in progress.

mod postgres_support;
mod reliability_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderMap;
use paygate::hub2::webhook::{verify_webhook, WebhookSecret, WebhookSecrets};
use reliability_support::*;
use serde_json::{json, Value};

const HUB2_MERCHANT: &str = "persist-merchant";
const HUB2_KEY: &str = "persist-sandbox-key";

type Received = Arc<Mutex<Vec<(String, Bytes)>>>;

/// A webhook endpoint that keeps every delivery it accepts (signature,
/// body), and answers 503 to all while `accepting` is false.
async fn receiver(accepting: Arc<AtomicBool>) -> (String, Received) {
    let received: Received = Arc::default();
    let kept = Arc::clone(&received);
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let kept = Arc::clone(&kept);
            let accepting = Arc::clone(&accepting);
            async move {
                if !accepting.load(Ordering::SeqCst) {
                    return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                }
                let signature = headers
                    .get("hub2-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                kept.lock().unwrap().push((signature, body));
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, received)
}

struct Hub2 {
    base: String,
    http: reqwest::Client,
}

impl Hub2 {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}/hub2{path}", self.base))
            .header("ApiKey", HUB2_KEY)
            .header("MerchantId", HUB2_MERCHANT)
            .header("Environment", "sandbox");
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let answer = request.send().await.expect("HUB2 answers");
        let status = answer.status().as_u16();
        let bytes = answer.bytes().await.unwrap_or_default();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn admin(&self, method: reqwest::Method, path: &str) -> (u16, Value) {
        self.admin_with(method, path, None).await
    }

    async fn admin_with(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}/hub2/_sim{path}", self.base))
            .bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let answer = request.send().await.expect("control API answers");
        let status = answer.status().as_u16();
        let bytes = answer.bytes().await.unwrap_or_default();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn intent(&self, reference: &str) -> Value {
        let (status, intent) = self
            .call(
                reqwest::Method::POST,
                "/payment-intents",
                Some(json!({
                    "customerReference": "customer-1",
                    "purchaseReference": reference,
                    "amount": 5000,
                    "currency": "XOF",
                })),
            )
            .await;
        assert_eq!(status, 201, "{intent}");
        intent
    }

    async fn attempt(&self, intent: &Value, msisdn: &str) {
        let id = intent["id"].as_str().unwrap();
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                &format!("/payment-intents/{id}/payments"),
                Some(json!({
                    "token": intent["token"],
                    "paymentMethod": "mobile_money",
                    "country": "CI",
                    "provider": "orange",
                    "mobileMoney": {"msisdn": msisdn},
                })),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }

    async fn intent_status(&self, id: &str) -> String {
        let (status, intent) = self
            .call(
                reqwest::Method::GET,
                &format!("/payment-intents/{id}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{intent}");
        intent["status"].as_str().unwrap_or_default().to_owned()
    }

    async fn transfer_status(&self, id: &str) -> String {
        let (status, transfer) = self
            .call(reqwest::Method::GET, &format!("/transfers/{id}"), None)
            .await;
        assert_eq!(status, 200, "{transfer}");
        transfer["status"].as_str().unwrap_or_default().to_owned()
    }

    async fn xof_transfer_account(&self) -> Value {
        let (status, balance) = self.call(reqwest::Method::GET, "/balance", None).await;
        assert_eq!(status, 200, "{balance}");
        balance["transferAccount"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["currency"] == "XOF")
            .cloned()
            .unwrap_or(Value::Null)
    }
}

async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn hub2_state_survives_sigkill_and_pending_work_resumes() {
    survives(None).await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL: scripts/postgres-tests.sh"]
async fn on_postgres_hub2_state_survives_sigkill_and_pending_work_resumes() {
    survives(Some(postgres_support::fresh_database("hub2"))).await;
}

/// With `db` (a PostgreSQL URL), or else an SQLite file.
async fn survives(db: Option<std::path::PathBuf>) {
    let dir = scratch("hub2-persist");
    let merchants = dir.join("merchants.yaml");
    std::fs::write(
        &merchants,
        format!(
            "merchants:\n  - public_id: {PUBLIC_ID}\n    merchant_id: {MERCHANT_ID}\n    secret_key: {SECRET}\n\
             hub2:\n  rate_limit: {{requests: 100000, window_ms: 5000}}\n  merchants:\n    - merchant_id: {HUB2_MERCHANT}\n      \
             api_keys:\n        - key: {HUB2_KEY}\n          environment: sandbox\n"
        ),
    )
    .unwrap();
    // The latency is long enough to kill the simulator while an attempt
    // and a transfer are still in progress; webhook retries 1 s apart, so
    // events refused before the kill are still in the outbox.
    let mut sim = SimProcess::new(&dir, merchants, 1_500, 1_000);
    if let Some(db) = db {
        sim.db = db;
    }
    sim.start().await;
    let hub2 = Hub2 {
        base: sim.base_url(),
        http: reqwest::Client::new(),
    };
    // The merchant's endpoint is down until after the restart.
    let accepting = Arc::new(AtomicBool::new(false));
    let (url, received) = receiver(Arc::clone(&accepting)).await;

    // A webhook, rotated once: both secrets must sign after the restart.
    let (status, webhook) = hub2
        .call(
            reqwest::Method::POST,
            "/webhooks",
            Some(json!({"url": url, "events": ["payment_intent.created"]})),
        )
        .await;
    assert_eq!(status, 201, "{webhook}");
    let webhook_id = webhook["id"].as_str().unwrap().to_owned();
    let first_secret = webhook["secret"].as_str().unwrap().to_owned();
    let (status, rotated) = hub2
        .admin(
            reqwest::Method::POST,
            &format!("/webhooks/{webhook_id}/rotate"),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let second_secret = rotated["secret"].as_str().unwrap().to_owned();

    // Paid before the kill; stays processing until forced; in progress at
    // the kill.
    let paid = hub2.intent("persist-paid").await;
    hub2.attempt(&paid, "0700000000").await;
    let paid_id = paid["id"].as_str().unwrap().to_owned();
    until("the first payment", async || {
        hub2.intent_status(&paid_id).await == "successful"
    })
    .await;
    let staying = hub2.intent("persist-staying").await;
    hub2.attempt(&staying, "0700000003").await;
    let pending = hub2.intent("persist-pending").await;
    hub2.attempt(&pending, "0700000000").await;
    let (status, transfer) = hub2
        .call(
            reqwest::Method::POST,
            "/transfers",
            Some(json!({
                "reference": "persist-payout",
                "amount": 1000,
                "currency": "XOF",
                "destination": {
                    "type": "mobile_money", "country": "CI", "provider": "orange",
                    "msisdn": "0700000099", "recipientName": "Awa",
                },
            })),
        )
        .await;
    assert_eq!(status, 201, "{transfer}");
    let transfer_id = transfer["id"].as_str().unwrap().to_owned();
    let account_before = hub2.xof_transfer_account().await;
    let (_, deliveries_before) = hub2
        .admin(reqwest::Method::GET, "/webhook-deliveries")
        .await;
    let deliveries_before = deliveries_before["deliveries"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(deliveries_before > 0);
    assert_eq!(
        hub2.intent_status(pending["id"].as_str().unwrap()).await,
        "processing"
    );

    sim.kill();
    sim.start().await;
    accepting.store(true, Ordering::SeqCst);

    // Everything answered is there, as it was.
    assert_eq!(hub2.intent_status(&paid_id).await, "successful");
    assert_eq!(
        hub2.intent_status(staying["id"].as_str().unwrap()).await,
        "processing"
    );
    let staying_id = staying["id"].as_str().unwrap().to_owned();
    let (status, forced) = hub2
        .admin_with(
            reqwest::Method::POST,
            &format!("/payment-intents/{staying_id}/outcome"),
            Some(json!({"status": "successful"})),
        )
        .await;
    assert_eq!(status, 200, "{forced}");
    assert_eq!(hub2.intent_status(&staying_id).await, "successful");
    assert_eq!(
        hub2.xof_transfer_account().await["availableBalance"],
        account_before["availableBalance"]
    );
    let (_, listed) = hub2.call(reqwest::Method::GET, "/webhooks", None).await;
    assert!(listed.to_string().contains(&webhook_id), "{listed}");
    let (_, deliveries_after) = hub2
        .admin(reqwest::Method::GET, "/webhook-deliveries")
        .await;
    assert!(
        deliveries_after["deliveries"]
            .as_array()
            .map_or(0, Vec::len)
            >= deliveries_before
    );

    // The attempt and the transfer in progress at the kill finish.
    let pending_id = pending["id"].as_str().unwrap().to_owned();
    until("the attempt in progress at the kill", async || {
        hub2.intent_status(&pending_id).await == "successful"
    })
    .await;
    until("the transfer in progress at the kill", async || {
        hub2.transfer_status(&transfer_id).await == "successful"
    })
    .await;

    // The events refused before the kill are delivered after the restart,
    // their attempt count going on, each once.
    let created_before_kill = ["persist-paid", "persist-staying", "persist-pending"];
    until("the events refused before the kill", async || {
        let got = received.lock().unwrap().clone();
        created_before_kill.iter().all(|reference| {
            got.iter().any(|(_, body)| {
                String::from_utf8_lossy(body).contains(&format!("\"{reference}\""))
            })
        })
    })
    .await;
    let (_, log) = hub2
        .admin(reqwest::Method::GET, "/webhook-deliveries")
        .await;
    let paid_deliveries: Vec<&Value> = log["deliveries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["objectId"] == paid_id.as_str() || d["object_id"] == paid_id.as_str())
        .collect();
    let delivered: Vec<&&Value> = paid_deliveries
        .iter()
        .filter(|d| d["delivered"] == true)
        .collect();
    assert_eq!(delivered.len(), 1, "{paid_deliveries:?}");
    assert!(
        delivered[0]["attempt"].as_u64().unwrap_or(0) >= 2,
        "{paid_deliveries:?}"
    );

    // A new event is signed with the current secret (s1) and the previous
    // one (s0), rotated before the kill.
    let before = received.lock().unwrap().len();
    hub2.intent("persist-after").await;
    until("the webhook after the restart", async || {
        received.lock().unwrap().len() > before
    })
    .await;
    let (signature, body) = received.lock().unwrap().last().cloned().unwrap();
    let only = |secret: &str| WebhookSecrets::new(WebhookSecret::new(secret));
    verify_webhook(&only(&second_secret), &signature, &body).expect("s1: the current secret");
    verify_webhook(&only(&first_secret), &signature, &body).expect("s0: the previous secret");
    sim.kill();
}
