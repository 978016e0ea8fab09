//! Forged HUB2 payment-intent tokens (issue 14, defect 2): the device-side
//! routes take an intent's JWT instead of an API key, so a token must be
//! exactly one the simulator issued for that intent, merchant and
//! environment, not expired, signed HS256 with this run's key. Each forgery
//! gets 401 (the status `spec/hub2/openapi.yaml` lists for
//! `/payment-intents/{id}/payments`), and a valid token still pays.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use paygate_conformance::simulator::hub2::TokenKey;
use paygate_conformance::simulator::{start, RunningSimulator, SimulatorConfig};
use serde_json::{json, Value};
use sha2::{Sha256, Sha512};

const KEY: &str = "demo-hub2-sandbox-key";
const MERCHANT: &str = "demo-hub2-merchant";
/// The key this test configures, so that it can sign forgeries.
const TEST_TOKEN_KEY: &str = "hostile-hub2-tokens-test-key";
/// The key every simulator used before keys were per run.
const OLD_CONSTANT_KEY: &str = "paygate-hub2-simulator-token-secret";

async fn sim(key: Option<&str>) -> RunningSimulator {
    let mut config = SimulatorConfig::demo();
    config.latency = Duration::from_millis(20);
    config.hub2.rate_limit.requests = 10_000;
    if let Some(key) = key {
        config.hub2.token_key = TokenKey::new(key);
    }
    start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn b64url(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn b64url_decode(text: &str) -> Vec<u8> {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0);
    for c in text.bytes() {
        acc = (acc << 6) | ABC.iter().position(|b| *b == c).unwrap() as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// A JWT with this header and payload, signed with `key` by `alg`
/// (`HS256`, `HS512`, or anything else: no signature).
fn jwt(header: &Value, payload: &Value, key: &str) -> String {
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(payload.to_string().as_bytes())
    );
    let signature = match header["alg"].as_str() {
        Some("HS256") => {
            let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        Some("HS512") => {
            let mut mac = Hmac::<Sha512>::new_from_slice(key.as_bytes()).unwrap();
            mac.update(input.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        _ => Vec::new(),
    };
    format!("{input}.{}", b64url(&signature))
}

fn payload_of(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&b64url_decode(part)).unwrap()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
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

    async fn intent(&self) -> Value {
        let response = self
            .http
            .post(format!("{}/payment-intents", self.base))
            .header("ApiKey", KEY)
            .header("MerchantId", MERCHANT)
            .header("Environment", "sandbox")
            .header("content-type", "application/json")
            .body(
                json!({"customerReference": "cust-1", "purchaseReference": "order-1",
                       "amount": 500, "currency": "XOF"})
                .to_string(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
    }

    /// Attempts a payment of intent `id` with `token`: the status and body.
    async fn pay(&self, id: &str, token: &str) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/payment-intents/{id}/payments", self.base))
            .header("Environment", "sandbox")
            .header("content-type", "application/json")
            .body(
                json!({"token": token, "paymentMethod": "mobile_money", "country": "CI",
                       "provider": "orange", "mobileMoney": {"msisdn": "0700000099"}})
                .to_string(),
            )
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
        (status, body)
    }
}

fn hs256() -> Value {
    json!({"alg": "HS256", "typ": "JWT"})
}

#[tokio::test]
async fn issued_tokens_carry_an_expiry_and_pay_their_own_intent() {
    let sim = sim(None).await;
    let api = Api::new(&sim);
    let intent = api.intent().await;
    let token = intent["token"].as_str().unwrap();
    let claims = payload_of(token);
    assert_eq!(claims["intentId"], intent["id"]);
    assert_eq!(claims["merchantId"], MERCHANT);
    assert_eq!(claims["mode"], "sandbox");
    let exp = claims["exp"].as_i64().expect("an exp claim");
    assert!(exp > now(), "{claims}");
    let (status, body) = api.pay(intent["id"].as_str().unwrap(), token).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn the_key_is_random_per_run_unless_configured() {
    let (a, b) = (sim(None).await, sim(None).await);
    let (ia, ib) = (Api::new(&a).intent().await, Api::new(&b).intent().await);
    // The same claims signed by two runs differ only if the keys do; a
    // token of one run does not pay on the other.
    let (status, body) = Api::new(&b)
        .pay(ib["id"].as_str().unwrap(), &{
            let claims = payload_of(ia["token"].as_str().unwrap());
            let mut forged = claims.clone();
            forged["intentId"] = ib["id"].clone();
            jwt(&hs256(), &forged, OLD_CONSTANT_KEY)
        })
        .await;
    assert_eq!(
        status, 401,
        "a token signed with the old constant key: {body}"
    );
    assert!(!format!("{:?}", a.state().config()).contains(OLD_CONSTANT_KEY));
}

/// The forgeries tried, each on a fresh intent (so that one accepted
/// forgery, which starts a payment, cannot hide the next one behind a 409).
const FORGERIES: [&str; 11] = [
    "expired",
    "no exp",
    "other merchant",
    "other mode",
    "other intent's token",
    "alg none",
    "HS512, same key",
    "RS256 header",
    "edited payload, issued signature",
    "old constant key",
    "not a JWT",
];

/// The forged token `what` for `intent` (`other`: another intent of the
/// same merchant), signed where it needs a key with [`TEST_TOKEN_KEY`].
fn forge(what: &str, intent: &Value, other: &Value) -> String {
    let issued = intent["token"].as_str().unwrap();
    let good = payload_of(issued);
    let with = |key: &str, value: Value| {
        let mut claims = good.clone();
        claims[key] = value;
        claims
    };
    match what {
        "expired" => jwt(&hs256(), &with("exp", json!(now() - 60)), TEST_TOKEN_KEY),
        "no exp" => {
            let mut claims = good.clone();
            claims.as_object_mut().unwrap().remove("exp");
            jwt(&hs256(), &claims, TEST_TOKEN_KEY)
        }
        "other merchant" => jwt(
            &hs256(),
            &with("merchantId", json!("someone-else")),
            TEST_TOKEN_KEY,
        ),
        "other mode" => jwt(&hs256(), &with("mode", json!("live")), TEST_TOKEN_KEY),
        "other intent's token" => other["token"].as_str().unwrap().to_owned(),
        "alg none" => jwt(&json!({"alg": "none", "typ": "JWT"}), &good, TEST_TOKEN_KEY),
        "HS512, same key" => jwt(
            &json!({"alg": "HS512", "typ": "JWT"}),
            &good,
            TEST_TOKEN_KEY,
        ),
        "RS256 header" => jwt(
            &json!({"alg": "RS256", "typ": "JWT"}),
            &good,
            TEST_TOKEN_KEY,
        ),
        "edited payload, issued signature" => {
            let header = issued.split('.').next().unwrap();
            let signature = issued.rsplit('.').next().unwrap();
            let payload = b64url(
                with("merchantId", json!("someone-else"))
                    .to_string()
                    .as_bytes(),
            );
            format!("{header}.{payload}.{signature}")
        }
        "old constant key" => jwt(&hs256(), &good, OLD_CONSTANT_KEY),
        _ => "not-a-token".to_owned(),
    }
}

#[tokio::test]
async fn every_forgery_is_refused_with_401() {
    let sim = sim(Some(TEST_TOKEN_KEY)).await;
    let api = Api::new(&sim);
    // Every forgery is tried, and every one not refused with 401 is
    // named, so that a run on a weaker simulator lists each hole.
    let mut holes = Vec::new();
    for what in FORGERIES {
        let (intent, other) = (api.intent().await, api.intent().await);
        let token = forge(what, &intent, &other);
        let (status, body) = api.pay(intent["id"].as_str().unwrap(), &token).await;
        if status != 401 {
            holes.push(format!("{what}: HTTP {status} {body}"));
        }
    }
    assert!(
        holes.is_empty(),
        "forged tokens not refused with 401:\n{}",
        holes.join("\n")
    );
    // The configured key never shows in the configuration's Debug.
    assert!(!format!("{:?}", sim.state().config()).contains(TEST_TOKEN_KEY));
    // Signed with the configured key, with every claim right: accepted.
    let intent = api.intent().await;
    let good = payload_of(intent["token"].as_str().unwrap());
    let (status, body) = api
        .pay(
            intent["id"].as_str().unwrap(),
            &jwt(&hs256(), &good, TEST_TOKEN_KEY),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}
