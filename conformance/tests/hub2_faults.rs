//! Seeded faults on HUB2 answers (issue 16) and what the HUB2 clients do
//! with them: an attempt resolved by reading the intent, a replay refused
//! with 409 on the device, a transfer never sent twice, recovery disabled
//! reported as ambiguous; the control API that sets the profiles; the
//! same seed drawing the same faults.

use std::time::Duration;

use paygate::hub2::client::{Hub2Recovery, Hub2Resolution, RetryPolicy};
use paygate::hub2::models::{
    AttemptPaymentRequest, Country, CreatePaymentIntentRequest, CreateTransferRequest, Currency,
    DestinationType, MobileMoneyDetails, PaymentIntentStatus, PaymentMethod, Provider,
    TransferDestination,
};
use paygate::hub2::{Environment, Hub2Client, Hub2Config, Hub2Error};
use paygate_conformance::simulator::{start, RunningSimulator, SimulatorConfig};
use serde_json::{json, Value};

const TWIN: &str = "demo-hub2-merchant-faults";
const TWIN_KEY: &str = "demo-hub2-faults-key";

async fn sim() -> RunningSimulator {
    let mut config = SimulatorConfig::demo();
    config.latency = Duration::from_millis(300);
    config.hub2.rate_limit.requests = 10_000;
    start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn client(sim: &RunningSimulator, recovery: Hub2Recovery) -> Hub2Client {
    let mut config = Hub2Config::new(
        format!("{}/hub2", sim.base_url()),
        TWIN_KEY,
        TWIN,
        Environment::Sandbox,
    );
    config.timeout = Duration::from_secs(5);
    config.retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
    };
    config.recovery = recovery;
    Hub2Client::new(config).unwrap()
}

/// A control call with the admin token: (status, body).
async fn control(
    sim: &RunningSimulator,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(
        reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
        format!("{}/hub2/_sim{path}", sim.base_url()),
    );
    if let Some(token) = sim.admin_token() {
        request = request.header(reqwest::header::AUTHORIZATION, token.bearer_header());
    }
    if let Some(body) = body {
        request = request
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Every creating answer of the twin is a 502 after HUB2 acted.
async fn always_bad_gateway(sim: &RunningSimulator) {
    let profile = json!({"seed": 1, "rate_percent": 100, "answers": ["bad_gateway"]});
    let (status, body) = control(
        sim,
        "PUT",
        &format!("/merchants/{TWIN}/faults"),
        Some(profile),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

async fn stored(sim: &RunningSimulator, reference: &str) -> Vec<Value> {
    let (status, body) = control(
        sim,
        "GET",
        &format!("/transactions?merchant_id={TWIN}&reference={reference}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["transactions"].as_array().cloned().unwrap_or_default()
}

fn attempt(token: &str) -> AttemptPaymentRequest {
    AttemptPaymentRequest::new(token.to_owned(), PaymentMethod::MobileMoney, "CI")
        .with_provider("orange")
        .with_mobile_money(MobileMoneyDetails::new("0700000099"))
}

fn intent_request(reference: &str) -> CreatePaymentIntentRequest {
    CreatePaymentIntentRequest::new("customer-1", reference, 200, "XOF")
}

#[tokio::test]
async fn an_attempt_whose_answer_is_lost_is_resolved_by_reading_the_intent() {
    let sim = sim().await;
    let client = client(&sim, Hub2Recovery::Resolve);
    let intent = client
        .create_payment_intent(&intent_request("cart-1"))
        .await
        .unwrap();
    always_bad_gateway(&sim).await;

    let reply = client
        .attempt_payment(&intent.id, &attempt(&intent.token))
        .await
        .unwrap();
    assert_eq!(reply.resolution, Hub2Resolution::ByIntent { attempts: 1 });
    assert_eq!(reply.value.id, intent.id);
    assert_eq!(reply.value.status, PaymentIntentStatus::Processing);
    assert_eq!(reply.value.payments.len(), 1, "one attempt, taken once");
}

#[tokio::test]
async fn on_the_device_a_replay_refused_with_409_says_the_attempt_was_taken() {
    let sim = sim().await;
    let client = client(&sim, Hub2Recovery::Resolve);
    let intent = client
        .create_payment_intent(&intent_request("cart-2"))
        .await
        .unwrap();
    always_bad_gateway(&sim).await;

    let device = client.payment_client();
    match device
        .attempt_payment(&intent.id, &attempt(&intent.token))
        .await
    {
        Err(Hub2Error::AttemptTaken {
            intent_id,
            attempts,
        }) => {
            assert_eq!(intent_id, intent.id);
            assert_eq!(attempts, 2);
        }
        other => panic!("expected AttemptTaken, got {other:?}"),
    }
    let rows = stored(&sim, "cart-2").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["payments"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn with_recovery_disabled_a_lost_answer_is_ambiguous_and_nothing_is_sent_again() {
    let sim = sim().await;
    let client = client(&sim, Hub2Recovery::Disabled);
    let intent = client
        .create_payment_intent(&intent_request("cart-3"))
        .await
        .unwrap();
    always_bad_gateway(&sim).await;

    match client
        .attempt_payment(&intent.id, &attempt(&intent.token))
        .await
    {
        Err(Hub2Error::Ambiguous {
            call,
            reference,
            attempts,
            ..
        }) => {
            assert_eq!(
                (call, reference.as_str(), attempts),
                ("attemptPayment", intent.id.as_str(), 1)
            );
        }
        other => panic!("expected Ambiguous, got {other:?}"),
    }
    match client
        .create_payment_intent(&intent_request("cart-3b"))
        .await
    {
        Err(Hub2Error::Ambiguous { attempts: 1, .. }) => {}
        other => panic!("expected Ambiguous after one request, got {other:?}"),
    }
    assert_eq!(stored(&sim, "cart-3b").await.len(), 1);
}

#[tokio::test]
async fn a_transfer_whose_answer_is_lost_is_never_sent_twice() {
    let sim = sim().await;
    let client = client(&sim, Hub2Recovery::Resolve);
    always_bad_gateway(&sim).await;
    let destination = TransferDestination::new(
        DestinationType::MobileMoney,
        Country::Ci,
        "Awa Kone",
        "0500000099",
        Provider::Mtn,
    );
    let request = CreateTransferRequest::new("payout-1", 100, Currency::Xof, destination);
    match client.create_transfer(&request).await {
        Err(Hub2Error::Ambiguous {
            call,
            reference,
            attempts,
            ..
        }) => {
            assert_eq!(
                (call, reference.as_str(), attempts),
                ("createTransfer", "payout-1", 1)
            );
        }
        other => panic!("expected Ambiguous, got {other:?}"),
    }
    let rows = stored(&sim, "payout-1").await;
    assert_eq!(rows.len(), 1, "exactly one transfer: {rows:?}");
}

#[tokio::test]
async fn an_intent_is_created_again_after_a_lost_answer_since_it_moves_no_money() {
    let sim = sim().await;
    let client = client(&sim, Hub2Recovery::Resolve);
    // Half the answers fail: some creation needs a second request.
    let profile = json!({"seed": 7, "rate_percent": 50, "answers": ["drop"]});
    let (status, _) = control(
        &sim,
        "PUT",
        &format!("/merchants/{TWIN}/faults"),
        Some(profile),
    )
    .await;
    assert_eq!(status, 200);
    let mut replayed = 0;
    for n in 0..20 {
        let reference = format!("cart-r{n}");
        match client
            .create_payment_intent_reply(&intent_request(&reference))
            .await
        {
            Ok(reply) => {
                if let Hub2Resolution::Replayed { attempts } = reply.resolution {
                    replayed += 1;
                    // Every request made an intent; only the answered one
                    // is the client's, the others stay unpaid.
                    assert_eq!(stored(&sim, &reference).await.len(), attempts as usize);
                }
            }
            Err(Hub2Error::Ambiguous { attempts: 3, .. }) => {}
            Err(other) => panic!("{other}"),
        }
    }
    assert!(replayed > 0, "no creation was replayed at 50 % faults");
}

#[tokio::test]
async fn the_control_api_sets_hub2_profiles_names_bad_fields_and_knows_its_merchants() {
    let sim = sim().await;
    let (status, body) = control(&sim, "GET", &format!("/merchants/{TWIN}/faults"), None).await;
    assert_eq!(
        (status, &body["merchant_id"], &body["profile"]),
        (200, &json!(TWIN), &Value::Null)
    );
    let (status, body) = control(
        &sim,
        "PUT",
        &format!("/merchants/{TWIN}/faults"),
        Some(json!({"seed": 1, "rate_percent": 101})),
    )
    .await;
    assert_eq!(
        (status, &body["field"]),
        (400, &json!("rate_percent")),
        "{body}"
    );
    let (status, _) = control(&sim, "GET", "/merchants/nobody/faults", None).await;
    assert_eq!(status, 404);
    // Without the admin token: refused.
    let response = reqwest::Client::new()
        .put(format!(
            "{}/hub2/_sim/merchants/{TWIN}/faults",
            sim.base_url()
        ))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(json!({"seed": 1, "rate_percent": 100}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let (_, body) = control(&sim, "GET", &format!("/merchants/{TWIN}/faults"), None).await;
    assert_eq!(
        body["profile"],
        Value::Null,
        "the refused PUT changed nothing"
    );
}

/// The kinds of fault each reference got, in order, for a run of
/// creations on a fresh simulator with `seed`.
async fn faults_drawn(seed: u64) -> Vec<(String, bool)> {
    let sim = sim().await;
    let profile = json!({"seed": seed, "rate_percent": 30, "answers": ["bad_gateway"]});
    control(
        &sim,
        "PUT",
        &format!("/merchants/{TWIN}/faults"),
        Some(profile),
    )
    .await;
    let client = client(&sim, Hub2Recovery::Disabled);
    let mut out = Vec::new();
    for n in 0..30 {
        let reference = format!("cart-s{n}");
        let faulted = client
            .create_payment_intent(&intent_request(&reference))
            .await
            .is_err();
        out.push((reference, faulted));
    }
    out
}

#[tokio::test]
async fn the_same_seed_draws_the_same_faults_and_another_seed_others() {
    let first = faults_drawn(11).await;
    assert_eq!(first, faults_drawn(11).await);
    assert!(
        first.iter().any(|(_, f)| *f) && first.iter().any(|(_, f)| !*f),
        "{first:?}"
    );
    assert_ne!(first, faults_drawn(12).await);
}
