//! HUB2 money arithmetic under hostile amounts: an amount above the
//! simulator's maximum is refused naming the field and the maximum, and no
//! balance ever wraps (issue 14, defect 3: an intent of `i64::MAX` XOF was
//! accepted and, after two payments, the collection balance read -2).

use std::time::Duration;

use paygate_conformance::simulator::hub2::{Hub2Environment, MAX_HUB2_AMOUNT};
use paygate_conformance::simulator::{start, RunningSimulator, SimulatorConfig};
use serde_json::{json, Value};

const KEY: &str = "demo-hub2-sandbox-key";
const MERCHANT: &str = "demo-hub2-merchant";

async fn sim() -> RunningSimulator {
    let mut config = SimulatorConfig::demo();
    config.latency = Duration::from_millis(20);
    config.hub2.rate_limit.requests = 10_000;
    start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn new(sim: &RunningSimulator) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: format!("{}/hub2", sim.base_url()),
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("ApiKey", KEY)
            .header("MerchantId", MERCHANT)
            .header("Environment", "sandbox");
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
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

    async fn intent(&self, amount: i64) -> (u16, Value) {
        self.send(
            reqwest::Method::POST,
            "/payment-intents",
            Some(
                json!({"customerReference": "cust-1", "purchaseReference": "order-1",
                        "amount": amount, "currency": "XOF"}),
            ),
        )
        .await
    }

    async fn pay_and_wait(&self, intent: &Value) {
        let status = self.pay_and_settle(intent).await;
        assert_eq!(status, "successful", "{} never succeeded", intent["id"]);
    }

    /// Pays `intent` and waits for its final status (`successful` or
    /// `failed`).
    async fn pay_and_settle(&self, intent: &Value) -> String {
        let id = intent["id"].as_str().unwrap();
        let (status, body) = self
            .send(
                reqwest::Method::POST,
                &format!("/payment-intents/{id}/payments"),
                Some(
                    json!({"token": intent["token"], "paymentMethod": "mobile_money",
                            "country": "CI", "provider": "orange",
                            "mobileMoney": {"msisdn": "0700000099"}}),
                ),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        for _ in 0..200 {
            let (_, now) = self
                .send(
                    reqwest::Method::GET,
                    &format!("/payment-intents/{id}/status"),
                    None,
                )
                .await;
            if let Some(status @ ("successful" | "failed")) = now["status"].as_str() {
                return status.to_owned();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{id} never reached a final status");
    }

    async fn balances(&self) -> Value {
        let (status, body) = self
            .send(reqwest::Method::GET, "/balance?currency=XOF", None)
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

fn every_amount(balance: &Value) -> Vec<i64> {
    ["collectionAccount", "transferAccount"]
        .iter()
        .flat_map(|account| balance[account].as_array().cloned().unwrap_or_default())
        .flat_map(|entry| {
            ["amount", "availableBalance", "reservedBalance"]
                .iter()
                .filter_map(|k| entry[k].as_i64())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn an_amount_above_the_maximum_is_refused_naming_the_field_and_the_maximum() {
    let sim = sim().await;
    let api = Api::new(&sim);
    for amount in [i64::MAX, MAX_HUB2_AMOUNT + 1] {
        let (status, body) = api.intent(amount).await;
        assert_eq!(status, 400, "intent of {amount}: {body}");
        let text = body.to_string();
        assert!(text.contains("amount"), "{text}");
        assert!(text.contains(&MAX_HUB2_AMOUNT.to_string()), "{text}");
        let (status, body) = api
            .send(
                reqwest::Method::POST,
                "/transfers",
                Some(
                    json!({"reference": "t-1", "amount": amount, "currency": "XOF",
                            "description": "payout",
                            "destination": {"type": "mobile_money", "country": "CI",
                                            "recipientName": "Awa", "msisdn": "0500000099",
                                            "provider": "mtn"}}),
                ),
            )
            .await;
        assert_eq!(status, 400, "transfer of {amount}: {body}");
        assert!(
            body.to_string().contains(&MAX_HUB2_AMOUNT.to_string()),
            "{body}"
        );
    }
    // The maximum itself is a valid amount.
    let (status, body) = api.intent(MAX_HUB2_AMOUNT).await;
    assert_eq!(status, 201, "{body}");
}

/// The reproduction, at the largest amount now allowed: payments
/// of the maximum, again and again, never make a balance negative.
#[tokio::test]
async fn balances_never_wrap() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let mut before = 0;
    for amount in [i64::MAX, MAX_HUB2_AMOUNT, MAX_HUB2_AMOUNT, MAX_HUB2_AMOUNT] {
        let (status, intent) = api.intent(amount).await;
        if amount > MAX_HUB2_AMOUNT {
            assert_eq!(status, 400, "{intent}");
            continue;
        }
        assert_eq!(status, 201, "{intent}");
        api.pay_and_wait(&intent).await;
        let balance = api.balances().await;
        for amount in every_amount(&balance) {
            assert!(amount >= 0, "a balance wrapped: {balance}");
        }
        let collected = balance["collectionAccount"][0]["availableBalance"]
            .as_i64()
            .unwrap();
        assert!(collected > before, "nothing credited: {balance}");
        before = collected;
    }
}

/// A collection account near the top of `i64` (9 223 372 036 854 775 797
/// XOF, reached after nine million maximal payments): a payment whose
/// credit would overflow it fails as a payment, with a `payment.failed`
/// webhook; it never wraps the balance nor reports `successful` while
/// crediting nothing.
#[tokio::test]
async fn a_credit_that_would_overflow_the_collection_account_fails_the_payment() {
    let sim = sim().await;
    let api = Api::new(&sim);
    let near_full = i64::MAX - 10;
    sim.state()
        .hub2_store()
        .accounts(MERCHANT, Hub2Environment::Sandbox, "XOF")
        .collection = near_full;
    let (status, intent) = api.intent(500).await;
    assert_eq!(status, 201, "{intent}");
    let outcome = api.pay_and_settle(&intent).await;
    let balance = api.balances().await;
    let collected = balance["collectionAccount"][0]["availableBalance"].as_i64();
    assert_eq!(collected, Some(near_full), "the balance moved: {balance}");
    assert_eq!(
        outcome, "failed",
        "a payment whose 490 XOF credit does not fit in the collection account was reported {outcome}"
    );
    // A payment that fits still succeeds and is credited.
    sim.state()
        .hub2_store()
        .accounts(MERCHANT, Hub2Environment::Sandbox, "XOF")
        .collection = near_full - 1_000;
    let (status, intent) = api.intent(500).await;
    assert_eq!(status, 201, "{intent}");
    api.pay_and_wait(&intent).await;
    let balance = api.balances().await;
    assert_eq!(
        balance["collectionAccount"][0]["availableBalance"].as_i64(),
        Some(near_full - 1_000 + 490),
        "{balance}"
    );
}
