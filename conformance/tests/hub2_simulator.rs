//! The HUB2 simulator over raw HTTP: authentication, intents and their
//! flows, tokens, throttling, transfers and balance, Processing Only mode,
//! webhooks and their signatures.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use paygate_conformance::simulator::hub2::{hmac_sha256_hex, DEMO_HUB2_WEBHOOK_SECRET};
use paygate_conformance::simulator::{start, CallbackRetry, RunningSimulator, SimulatorConfig};
use serde_json::{json, Value};

const KEY: &str = "demo-hub2-sandbox-key";
const LIMITED: &str = "demo-hub2-limited-key";
const LIVE: &str = "demo-hub2-live-key";
const MERCHANT: &str = "demo-hub2-merchant";

fn fast_config() -> SimulatorConfig {
    let mut config = SimulatorConfig::demo();
    config.latency = Duration::from_millis(40);
    config.callback_retry = CallbackRetry {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
    };
    config.hub2.rate_limit.requests = 10_000;
    config
}

async fn sim(config: SimulatorConfig) -> RunningSimulator {
    start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

struct Api {
    http: reqwest::Client,
    base: String,
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Api {
    /// Its client sends the simulator's admin token with every request
    /// (the control API under `/_sim/` needs it; the API ignores it).
    fn new(sim: &RunningSimulator) -> Api {
        let mut headers = HeaderMap::new();
        if let Some(token) = sim.admin_token() {
            headers.insert(reqwest::header::AUTHORIZATION, token.bearer_header());
        }
        Api {
            http: reqwest::Client::builder()
                .default_headers(headers)
                .build()
                .unwrap(),
            base: format!("{}/hub2", sim.base_url()),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        env: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("MerchantId", MERCHANT)
            .header("Environment", env);
        if let Some(key) = key {
            request = request.header("ApiKey", key);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(
            reqwest::Method::POST,
            path,
            Some(KEY),
            "sandbox",
            Some(body),
        )
        .await
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, Some(KEY), "sandbox", None)
            .await
    }

    async fn intent(&self, amount: i64) -> Value {
        let answer = self
            .post(
                "/payment-intents",
                json!({"customerReference": "cust-1", "purchaseReference": "order 1.a_b", "amount": amount, "currency": "XOF"}),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        answer.body
    }

    async fn pay(&self, intent: &Value, msisdn: &str, otp: Option<&str>) -> Answer {
        let mut mm = json!({"msisdn": msisdn});
        if let Some(otp) = otp {
            mm["otp"] = json!(otp);
        }
        let id = intent["id"].as_str().unwrap();
        self.send(
            reqwest::Method::POST,
            &format!("/payment-intents/{id}/payments"),
            None,
            "sandbox",
            Some(json!({"token": intent["token"], "paymentMethod": "mobile_money", "country": "CI", "provider": "orange", "mobileMoney": mm})),
        )
        .await
    }

    /// Polls the status (allowed while processing / action_required).
    async fn wait_status(&self, id: &str, wanted: &str) -> Value {
        for _ in 0..100 {
            let answer = self.get(&format!("/payment-intents/{id}/status")).await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            if answer.body["status"] == wanted {
                let intent = self.get(&format!("/payment-intents/{id}")).await;
                assert_eq!(intent.status, 200, "{}", intent.body);
                return intent.body;
            }
            let status = answer.body["status"].as_str().unwrap().to_owned();
            assert!(
                status == "processing" || status == "action_required",
                "{id} is {status}, waiting for {wanted}"
            );
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        panic!("{id} never became {wanted}");
    }
}

async fn json_of(response: reqwest::Response) -> Value {
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

fn assert_error(answer: &Answer, status: u16) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.body["status"], status, "{}", answer.body);
    assert!(answer.body["code"].is_string(), "{}", answer.body);
    assert!(answer.body["message"].is_string(), "{}", answer.body);
    assert!(
        answer.body["request_id"]
            .as_str()
            .unwrap()
            .starts_with("req_"),
        "{}",
        answer.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_and_environment() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    let body = json!({"customerReference": "c", "purchaseReference": "p", "amount": 100, "currency": "XOF"});
    let missing = api
        .send(
            reqwest::Method::POST,
            "/payment-intents",
            None,
            "sandbox",
            Some(body.clone()),
        )
        .await;
    assert_error(&missing, 401);
    let unknown = api
        .send(
            reqwest::Method::POST,
            "/payment-intents",
            Some("nope"),
            "sandbox",
            Some(body.clone()),
        )
        .await;
    assert_error(&unknown, 401);
    let mismatch = api
        .send(
            reqwest::Method::POST,
            "/payment-intents",
            Some(KEY),
            "live",
            Some(body.clone()),
        )
        .await;
    assert_error(&mismatch, 403);
    assert!(mismatch.body["message"]
        .as_str()
        .unwrap()
        .contains("sandbox"));
    let live = api
        .send(
            reqwest::Method::POST,
            "/payment-intents",
            Some(LIVE),
            "live",
            Some(body.clone()),
        )
        .await;
    assert_eq!(live.status, 201, "{}", live.body);
    assert_eq!(live.body["mode"], "live");
    // A live intent does not exist in the sandbox.
    let id = live.body["id"].as_str().unwrap();
    assert_error(&api.get(&format!("/payment-intents/{id}")).await, 404);
    // Request ids are unique.
    let again = api
        .send(
            reqwest::Method::POST,
            "/payment-intents",
            None,
            "sandbox",
            Some(body),
        )
        .await;
    assert_ne!(again.body["request_id"], missing.body["request_id"]);
    // Unknown HUB2 paths answer the Error schema; the gateway is untouched.
    assert_error(&api.get("/nothing-here").await, 404);
    let gateway = reqwest::get(format!("{}/_sim/health", sim.base_url()))
        .await
        .unwrap();
    assert_eq!(gateway.status(), 200);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_input_never_gives_a_5xx() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    for body in [
        "",
        "{",
        "[]",
        "null",
        r#"{"customerReference":"c"}"#,
        r#"{"customerReference":"c","purchaseReference":"p","amount":"x","currency":"XOF"}"#,
        r#"{"customerReference":"c","purchaseReference":"p","amount":-5,"currency":"XOF"}"#,
        r#"{"customerReference":"c","purchaseReference":"p","amount":5,"currency":"EUR"}"#,
    ] {
        for path in [
            "/payment-intents",
            "/transfers",
            "/webhooks",
            "/delegated/payments",
            "/payment-intents/pi_x/payments",
            "/payment-intents/pi_x/authentication",
        ] {
            let response = api
                .http
                .post(format!("{}{path}", api.base))
                .header("ApiKey", KEY)
                .header("MerchantId", MERCHANT)
                .header("Environment", "sandbox")
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            assert!((400..500).contains(&status), "{path} {body:?}: {status}");
            let error: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
            assert_eq!(error["status"], status);
        }
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_with_forbidden_characters_are_refused_naming_the_field() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    let answer = api
        .post(
            "/payment-intents",
            json!({"customerReference": "c", "purchaseReference": "order#1", "amount": 100, "currency": "XOF"}),
        )
        .await;
    assert_error(&answer, 400);
    assert_eq!(answer.body["code"], "invalid-purchaseReference");
    assert!(answer.body["message"]
        .as_str()
        .unwrap()
        .contains("purchaseReference"));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msisdn_table_drives_the_outcome() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);

    let ok = api.intent(500).await;
    assert_eq!(ok["status"], "payment_required");
    assert_eq!(ok["token"].as_str().unwrap().split('.').count(), 3);
    let attempt = api.pay(&ok, "0700000099", None).await;
    assert_eq!(attempt.status, 201, "{}", attempt.body);
    assert_eq!(attempt.body["status"], "processing");
    assert_eq!(attempt.body["payments"][0]["status"], "pending");
    let done = api
        .wait_status(ok["id"].as_str().unwrap(), "successful")
        .await;
    assert_eq!(done["payments"][0]["status"], "successful");

    let failed = api.intent(500).await;
    api.pay(&failed, "0700000001", None).await;
    let done = api
        .wait_status(failed["id"].as_str().unwrap(), "failed")
        .await;
    assert_eq!(done["payments"][0]["status"], "failed");

    // OTP: action_required, then the authentication endpoint.
    let otp = api.intent(500).await;
    let id = otp["id"].as_str().unwrap();
    api.pay(&otp, "0700000011", None).await;
    let waiting = api.wait_status(id, "action_required").await;
    let action = &waiting["payments"][0]["nextAction"];
    assert_eq!(action["type"], "otp");
    assert!(action["message"]
        .as_str()
        .unwrap()
        .starts_with("Mode Sandbox. Entrez un numéro à 4 chiffres"));
    let auth = |code: &str, token: &Value| {
        let api = &api;
        let body = json!({"token": token, "confirmationCode": code});
        async move {
            api.send(
                reqwest::Method::POST,
                &format!("/payment-intents/{id}/authentication"),
                None,
                "sandbox",
                Some(body),
            )
            .await
        }
    };
    assert_error(&auth("12a4", &otp["token"]).await, 400);
    let other = api.intent(10).await;
    assert_error(&auth("1234", &other["token"]).await, 401);
    assert_error(&auth("1234", &json!("not.a.token")).await, 401);
    let accepted = auth("1234", &otp["token"]).await;
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    api.wait_status(id, "successful").await;

    // Wrong OTP.
    let wrong = api.intent(500).await;
    let wid = wrong["id"].as_str().unwrap();
    api.pay(&wrong, "0700000011", None).await;
    api.wait_status(wid, "action_required").await;
    let answer = api
        .send(
            reqwest::Method::POST,
            &format!("/payment-intents/{wid}/authentication"),
            None,
            "sandbox",
            Some(json!({"token": wrong["token"], "confirmationCode": "0000"})),
        )
        .await;
    assert_eq!(answer.status, 201);
    api.wait_status(wid, "failed").await;

    // OTP up front.
    let upfront = api.intent(500).await;
    api.pay(&upfront, "0700000011", Some("4321")).await;
    api.wait_status(upfront["id"].as_str().unwrap(), "successful")
        .await;

    // Redirection: opening the page completes it.
    let redirect = api.intent(500).await;
    let rid = redirect["id"].as_str().unwrap();
    api.pay(&redirect, "0700000012", None).await;
    let waiting = api.wait_status(rid, "action_required").await;
    let action = &waiting["payments"][0]["nextAction"];
    assert_eq!(action["type"], "redirection");
    let url = action["data"]["url"].as_str().unwrap();
    assert!(
        url.ends_with(&format!("/hub2/_sim/redirect/{rid}")),
        "{url}"
    );
    let page = reqwest::get(url).await.unwrap();
    assert_eq!(page.status(), 200);
    api.wait_status(rid, "successful").await;

    // USSD.
    let ussd = api.intent(500).await;
    let uid = ussd["id"].as_str().unwrap();
    api.pay(&ussd, "0700000013", None).await;
    let waiting = api.wait_status(uid, "action_required").await;
    assert_eq!(waiting["payments"][0]["nextAction"]["type"], "ussd");
    api.wait_status(uid, "successful").await;

    // A second attempt on a final intent conflicts.
    assert_error(&api.pay(&ok, "0700000099", None).await, 409);
    // A token of another intent is refused.
    let mut stolen = api.intent(10).await;
    stolen["token"] = other["token"].clone();
    assert_error(&api.pay(&stolen, "0700000099", None).await, 401);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bank_transfers_carry_unique_references() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    let mut references = Vec::new();
    for _ in 0..2 {
        let intent = api.intent(1000).await;
        let id = intent["id"].as_str().unwrap();
        let answer = api
            .send(
                reqwest::Method::POST,
                &format!("/payment-intents/{id}/payments"),
                None,
                "sandbox",
                Some(json!({"token": intent["token"], "paymentMethod": "bank_transfer", "country": "CI"})),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        assert_eq!(answer.body["status"], "processing");
        let details = &answer.body["payments"][0]["bankTransferDetails"];
        references.push(details["reference"].as_str().unwrap().to_owned());
        let forced = api
            .http
            .post(format!("{}/_sim/payment-intents/{id}/outcome", api.base))
            .header("content-type", "application/json")
            .body(json!({"status": "successful"}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(forced.status(), 200);
    }
    assert_ne!(references[0], references[1]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_a_final_intent_is_throttled_and_the_global_limit_applies() {
    let mut config = fast_config();
    config.hub2.rate_limit.requests = 50;
    let sim = sim(config).await;
    let api = Api::new(&sim);
    let intent = api.intent(100).await;
    let id = intent["id"].as_str().unwrap();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let answer = api.get(&format!("/payment-intents/{id}/status")).await;
        statuses.push(answer.status);
        if answer.status == 429 {
            assert_error(&answer, 429);
            let retry: u64 = answer.headers["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=5).contains(&retry));
        }
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    // The global limit: 50 requests per 5 s per IP (6 used so far).
    let mut first_429 = None;
    for i in 0..60 {
        let answer = api.get("/balance").await;
        if answer.status == 429 {
            assert!(answer.headers.contains_key("retry-after"));
            first_429 = Some(i);
            break;
        }
    }
    assert_eq!(first_429, Some(44));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_debit_the_balance_and_refund_failures() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    let available = |b: &Value| {
        b["transferAccount"][0]["availableBalance"]
            .as_i64()
            .unwrap()
    };
    let start = api.get("/balance?currency=XOF").await;
    assert_eq!(start.status, 200, "{}", start.body);
    assert_eq!(available(&start.body), 1_000_000);
    let transfer = |amount: i64, msisdn: &str| {
        json!({"reference": "payout-1", "amount": amount, "currency": "XOF", "description": "Refund",
               "destination": {"type": "mobile_money", "country": "CI", "recipientName": "Awa", "msisdn": msisdn, "provider": "mtn"}})
    };
    let too_much = api
        .post("/transfers", transfer(2_000_000, "0500000099"))
        .await;
    assert_error(&too_much, 402);
    assert_eq!(too_much.body["code"], "insufficient-funds");
    assert_eq!(
        available(&api.get("/balance?currency=XOF").await.body),
        1_000_000
    );

    let ok = api.post("/transfers", transfer(1000, "0500000099")).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(ok.body["status"], "pending");
    let failed = api.post("/transfers", transfer(5000, "0500000001")).await;
    assert_eq!(failed.status, 201);
    assert_eq!(
        available(&api.get("/balance?currency=XOF").await.body),
        994_000
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let id = ok.body["id"].as_str().unwrap();
    assert_eq!(
        api.get(&format!("/transfers/{id}/status")).await.body["status"],
        "successful"
    );
    let fid = failed.body["id"].as_str().unwrap();
    assert_eq!(
        api.get(&format!("/transfers/{fid}")).await.body["status"],
        "failed"
    );
    assert_eq!(
        available(&api.get("/balance?currency=XOF").await.body),
        999_000
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processing_only_needs_the_permission_and_validated_credentials() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    let body = json!({"customerReference": "c", "purchaseReference": "p", "amount": 120, "currency": "XOF",
                      "paymentMethod": "mobile_money", "country": "CI", "provider": "orange", "mobileMoney": {"msisdn": "0700000099"}});
    let limited = api
        .send(
            reqwest::Method::POST,
            "/delegated/payments",
            Some(LIMITED),
            "sandbox",
            Some(body.clone()),
        )
        .await;
    assert_error(&limited, 403);
    assert!(limited.body["message"]
        .as_str()
        .unwrap()
        .contains("Api.delegated_payment_create"));
    let no_credentials = api.post("/delegated/payments", body.clone()).await;
    assert_error(&no_credentials, 400);
    assert_eq!(no_credentials.body["code"], "provider-credentials-missing");

    let register = |provider: &str, country: &str, credentials: Value| {
        let http = api.http.clone();
        let url = format!("{}/_sim/provider-credentials", api.base);
        let body = json!({"provider": provider, "country": country, "transactionType": "payment", "credentials": credentials});
        async move { http.post(url).body(body.to_string()).send().await.unwrap() }
    };
    let bad = register("orange", "CI", json!({"apiKey": "invalid"})).await;
    assert_eq!(bad.status(), 400);
    let message = json_of(bad).await["message"].as_str().unwrap().to_owned();
    assert!(message.contains("authentication token"), "{message}");
    assert_eq!(register("orange", "CI", json!({})).await.status(), 400);
    assert_eq!(
        register("wave", "SN", json!({"apiKey": "k"}))
            .await
            .status(),
        400
    );
    assert_eq!(
        register("orange", "CI", json!({"apiKey": "k"}))
            .await
            .status(),
        201
    );

    let paid = api.post("/delegated/payments", body).await;
    assert_eq!(paid.status, 201, "{}", paid.body);
    api.wait_status(paid.body["id"].as_str().unwrap(), "successful")
        .await;

    let transfer = json!({"reference": "p-1", "amount": 100, "currency": "XOF",
        "destination": {"type": "mobile_money", "country": "CI", "recipientName": "A", "msisdn": "0500000099", "provider": "mtn"}});
    let limited = api
        .send(
            reqwest::Method::POST,
            "/delegated/transfers",
            Some(LIMITED),
            "sandbox",
            Some(transfer.clone()),
        )
        .await;
    assert_error(&limited, 403);
    assert!(limited.body["message"]
        .as_str()
        .unwrap()
        .contains("Api.delegated_transfer_create"));
    assert_error(&api.post("/delegated/transfers", transfer).await, 400);
    sim.shutdown().await;
}

type Inbox = Arc<Mutex<Vec<(String, Bytes)>>>;

async fn receiver() -> (String, Inbox) {
    let inbox: Inbox = Arc::default();
    let app = Router::new()
        .route(
            "/hook",
            post(
                |State(inbox): State<Inbox>, headers: HeaderMap, body: Bytes| async move {
                    let signature = headers
                        .get("hub2-signature")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    inbox.lock().unwrap().push((signature, body));
                    "ok"
                },
            ),
        )
        .with_state(Arc::clone(&inbox));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, inbox)
}

async fn wait_for(inbox: &Inbox, pred: impl Fn(&Value) -> bool) -> (String, Bytes) {
    for _ in 0..200 {
        if let Some(found) = inbox
            .lock()
            .unwrap()
            .iter()
            .find(|(_, b)| pred(&serde_json::from_slice(b).unwrap()))
        {
            return found.clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no such webhook delivery");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_signed_with_the_current_and_previous_secret() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    let (url, inbox) = receiver().await;
    let created = api
        .post(
            "/webhooks",
            json!({"url": url, "events": ["payment_intent.succeeded", "payment_intent.created"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["secret"], DEMO_HUB2_WEBHOOK_SECRET);
    let webhook_id = created.body["id"].as_str().unwrap().to_owned();
    let listed = api.get("/webhooks").await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert!(listed.body[0].get("secret").is_none());

    let intent = api.intent(300).await;
    let id = intent["id"].as_str().unwrap().to_owned();
    let (signature, body) = wait_for(&inbox, |e| {
        e["type"] == "payment_intent.created" && e["data"]["id"] == id
    })
    .await;
    assert_eq!(
        signature,
        format!(
            "s1={}",
            hmac_sha256_hex(DEMO_HUB2_WEBHOOK_SECRET.as_bytes(), &body)
        )
    );

    let rotated = json_of(
        api.http
            .post(format!("{}/_sim/webhooks/{webhook_id}/rotate", api.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let new_secret = rotated["secret"].as_str().unwrap();
    assert_ne!(new_secret, DEMO_HUB2_WEBHOOK_SECRET);
    api.pay(&intent, "0700000099", None).await;
    let (signature, body) = wait_for(&inbox, |e| {
        e["type"] == "payment_intent.succeeded" && e["data"]["id"] == id
    })
    .await;
    assert_eq!(
        signature,
        format!(
            "s1={},s0={}",
            hmac_sha256_hex(new_secret.as_bytes(), &body),
            hmac_sha256_hex(DEMO_HUB2_WEBHOOK_SECRET.as_bytes(), &body)
        )
    );
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert!(event["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(event["data"]["status"], "successful");
    assert!(event["data"].get("token").is_none());

    let deliveries = json_of(
        api.http
            .get(format!(
                "{}/_sim/webhook-deliveries?object_id={id}",
                api.base
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(deliveries["deliveries"].as_array().unwrap().len() >= 2);
    let deleted = api
        .send(
            reqwest::Method::DELETE,
            &format!("/webhooks/{webhook_id}"),
            Some(KEY),
            "sandbox",
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_webhook_deliveries_are_retried_and_recorded() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    // Nobody listens there.
    let created = api
        .post(
            "/webhooks",
            json!({"url": "http://127.0.0.1:9/none", "events": ["payment_intent.created"]}),
        )
        .await;
    assert_eq!(created.status, 201);
    let intent = api.intent(300).await;
    let id = intent["id"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let attempts: Vec<_> = sim
        .state()
        .hub2_deliveries()
        .into_iter()
        .filter(|d| d.object_id == id)
        .collect();
    assert_eq!(attempts.len(), 4, "{attempts:#?}");
    assert!(attempts.iter().all(|a| !a.delivered));
    sim.shutdown().await;
}

#[test]
fn yaml_hub2_section_is_optional_and_checked() {
    let old = "merchants:\n  - public_id: a\n    merchant_id: b\n    secret_key: s\n";
    let config = SimulatorConfig::from_yaml_str(old, "m.yaml").unwrap();
    assert!(config.hub2.merchants.is_empty());
    let with = format!(
        "{old}hub2:\n  rate_limit: {{requests: 5, window_ms: 1000}}\n  merchants:\n    - merchant_id: m\n      webhook_secret: w\n      api_keys:\n        - key: k\n          environment: sandbox\n          permissions: [Api.delegated_payment_create]\n"
    );
    let config = SimulatorConfig::from_yaml_str(&with, "m.yaml").unwrap();
    assert_eq!(config.hub2.merchants[0].api_keys[0].key, "k");
    assert_eq!(config.hub2.rate_limit.requests, 5);
    assert!(!format!("{config:?}").contains("\"k\""));
    let bad = format!("{old}hub2:\n  merchants:\n    - merchant_id: m\n      api_keys:\n        - key: ''\n          environment: sandbox\n");
    let err = SimulatorConfig::from_yaml_str(&bad, "m.yaml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("hub2.merchants[0].api_keys[0].key"), "{err}");
}

// ----- more than one payment attempt on one intent ----------------------------

impl Api {
    async fn authenticate(&self, intent: &Value, code: &str) -> Answer {
        let id = intent["id"].as_str().unwrap();
        self.send(
            reqwest::Method::POST,
            &format!("/payment-intents/{id}/authentication"),
            None,
            "sandbox",
            Some(json!({"token": intent["token"], "confirmationCode": code})),
        )
        .await
    }

    async fn force(&self, id: &str, status: &str) -> u16 {
        self.http
            .post(format!("{}/_sim/payment-intents/{id}/outcome", self.base))
            .header("content-type", "application/json")
            .body(json!({"status": status}).to_string())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

fn statuses(intent: &Value) -> Vec<String> {
    intent["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_attempt_may_follow_a_failed_one() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    let (url, inbox) = receiver().await;
    let hook = api
        .post(
            "/webhooks",
            json!({"url": url, "events": ["payment.created", "payment.failed", "payment.succeeded",
                                           "payment_intent.failed", "payment_intent.succeeded"]}),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.body);
    let intent = api.intent(500).await;
    let id = intent["id"].as_str().unwrap();

    api.pay(&intent, "0700000001", None).await;
    // The intent shows `failed` (the seed lists it among the statuses
    // polling sees), with the failed attempt in `payments`.
    let failed = api.wait_status(id, "failed").await;
    assert_eq!(statuses(&failed), ["failed"]);
    let first_id = failed["payments"][0]["id"].as_str().unwrap().to_owned();

    // A second attempt is taken: 201, the intent follows it.
    let second = api.pay(&intent, "0700000099", None).await;
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(second.body["status"], "processing");
    assert_eq!(statuses(&second.body), ["failed", "pending"]);
    assert_eq!(second.body["payments"][0]["id"], first_id.as_str());
    let second_id = second.body["payments"][1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(second_id, first_id);
    assert!(second_id.starts_with("pay_"));

    // It ends successful; the failed attempt stays first, unchanged.
    // (wait_status reads the final intent twice: the polling throttle
    // counted the reads of the failed intent before the new attempt, and
    // must not refuse these.)
    let done = api.wait_status(id, "successful").await;
    assert_eq!(statuses(&done), ["failed", "successful"]);
    assert_eq!(done["payments"][0]["id"], first_id.as_str());
    assert_eq!(done["payments"][1]["id"], second_id.as_str());

    // Once successful, no more attempts.
    let third = api.pay(&intent, "0700000099", None).await;
    assert_error(&third, 409);
    // Polling the successful intent is throttled again after 3 reads
    // (2 made by wait_status).
    assert_eq!(
        api.get(&format!("/payment-intents/{id}/status"))
            .await
            .status,
        200
    );
    assert_error(
        &api.get(&format!("/payment-intents/{id}/status")).await,
        429,
    );

    // Webhooks: one payment.created per attempt, each attempt's own end,
    // and the intent's events carrying both attempts.
    let (_, body) = wait_for(&inbox, |e| {
        e["type"] == "payment_intent.succeeded" && e["data"]["id"] == id
    })
    .await;
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(statuses(&event["data"]), ["failed", "successful"]);
    for (kind, payment) in [
        ("payment.created", &first_id),
        ("payment.failed", &first_id),
        ("payment.created", &second_id),
        ("payment.succeeded", &second_id),
    ] {
        wait_for(&inbox, |e| {
            e["type"] == kind && e["data"]["id"] == payment.as_str()
        })
        .await;
    }
    let (_, body) = wait_for(&inbox, |e| {
        e["type"] == "payment_intent.failed" && e["data"]["id"] == id
    })
    .await;
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(statuses(&event["data"]), ["failed"]);
    // Nothing says the second attempt failed.
    assert!(!inbox.lock().unwrap().iter().any(|(_, b)| {
        let e: Value = serde_json::from_slice(b).unwrap();
        e["type"] == "payment.failed" && e["data"]["id"] == second_id.as_str()
    }));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_wrong_otp_the_new_attempt_gets_its_own_otp_step() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    let intent = api.intent(500).await;
    let id = intent["id"].as_str().unwrap();
    api.pay(&intent, "0700000011", None).await;
    api.wait_status(id, "action_required").await;
    assert_eq!(api.authenticate(&intent, "0000").await.status, 201);
    api.wait_status(id, "failed").await;
    // The failed attempt waits for no OTP any more.
    assert_error(&api.authenticate(&intent, "1234").await, 409);

    let second = api.pay(&intent, "0700000011", None).await;
    assert_eq!(second.status, 201, "{}", second.body);
    let waiting = api.wait_status(id, "action_required").await;
    assert_eq!(statuses(&waiting), ["failed", "action_required"]);
    assert!(waiting["payments"][0].get("nextAction").is_none());
    assert_eq!(waiting["payments"][1]["nextAction"]["type"], "otp");

    // The code goes to the current (second) attempt.
    let accepted = api.authenticate(&intent, "1234").await;
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    assert_eq!(accepted.body["status"], "processing");
    assert_eq!(statuses(&accepted.body), ["failed", "processing"]);
    let done = api.wait_status(id, "successful").await;
    assert_eq!(statuses(&done), ["failed", "successful"]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_new_attempt_while_one_is_pending_and_actions_follow_the_current_one() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);

    // Processing (msisdn 03 stays processing): a new attempt conflicts.
    let stay = api.intent(500).await;
    let sid = stay["id"].as_str().unwrap();
    let first = api.pay(&stay, "0700000003", None).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let refused = api.pay(&stay, "0700000099", None).await;
    assert_error(&refused, 409);
    assert_eq!(
        statuses(&api.get(&format!("/payment-intents/{sid}")).await.body),
        ["pending"]
    );
    assert_eq!(api.force(sid, "failed").await, 200);
    assert_eq!(api.pay(&stay, "0700000003", None).await.status, 201);
    // The control API forces the current attempt only.
    assert_eq!(api.force(sid, "successful").await, 200);
    let done = api.get(&format!("/payment-intents/{sid}")).await.body;
    assert_eq!(done["status"], "successful");
    assert_eq!(statuses(&done), ["failed", "successful"]);

    // Redirection: action_required refuses a new attempt; after a failure
    // the page completes the current attempt.
    let redirect = api.intent(500).await;
    let rid = redirect["id"].as_str().unwrap();
    api.pay(&redirect, "0700000012", None).await;
    api.wait_status(rid, "action_required").await;
    assert_error(&api.pay(&redirect, "0700000099", None).await, 409);
    assert_eq!(api.force(rid, "failed").await, 200);
    api.pay(&redirect, "0700000012", None).await;
    let waiting = api.wait_status(rid, "action_required").await;
    assert_eq!(statuses(&waiting), ["failed", "action_required"]);
    let url = waiting["payments"][1]["nextAction"]["data"]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
    let done = api.wait_status(rid, "successful").await;
    assert_eq!(statuses(&done), ["failed", "successful"]);

    // USSD: the first attempt is failed before the customer finished
    // dialing; its pending completion must not touch the next attempt.
    let ussd = api.intent(500).await;
    let uid = ussd["id"].as_str().unwrap();
    api.pay(&ussd, "0700000013", None).await;
    api.wait_status(uid, "action_required").await;
    assert_eq!(api.force(uid, "failed").await, 200);
    api.pay(&ussd, "0700000003", None).await;
    // The USSD completion was due 500 ms after the action.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let still = api.get(&format!("/payment-intents/{uid}")).await.body;
    assert_eq!(still["status"], "processing");
    assert_eq!(statuses(&still), ["failed", "pending"]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_processing_only_intent_is_retried_under_processing_only_rules() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    let registered = api
        .http
        .post(format!("{}/_sim/provider-credentials", api.base))
        .body(json!({"provider": "orange", "country": "CI", "transactionType": "payment", "credentials": {"apiKey": "k"}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let body = json!({"customerReference": "c", "purchaseReference": "p", "amount": 120, "currency": "XOF",
                      "paymentMethod": "mobile_money", "country": "CI", "provider": "orange", "mobileMoney": {"msisdn": "0700000001"}});
    let paid = api.post("/delegated/payments", body).await;
    assert_eq!(paid.status, 201, "{}", paid.body);
    let id = paid.body["id"].as_str().unwrap();
    api.wait_status(id, "failed").await;
    let attempt = |provider: &str| {
        json!({"token": paid.body["token"], "paymentMethod": "mobile_money", "country": "CI",
               "provider": provider, "mobileMoney": {"msisdn": "0700000099"}})
    };
    let path = format!("/payment-intents/{id}/payments");
    // Moov CI is served by HUB2 but not in Processing Only mode.
    let moov = api
        .send(
            reqwest::Method::POST,
            &path,
            None,
            "sandbox",
            Some(attempt("moov")),
        )
        .await;
    assert_error(&moov, 400);
    assert_eq!(moov.body["code"], "provider-not-supported");
    let orange = api
        .send(
            reqwest::Method::POST,
            &path,
            None,
            "sandbox",
            Some(attempt("orange")),
        )
        .await;
    assert_eq!(orange.status, 201, "{}", orange.body);
    let done = api.wait_status(id, "successful").await;
    assert_eq!(statuses(&done), ["failed", "successful"]);
    sim.shutdown().await;
}

// ----- fees ------------------------------------------------------------------------

fn fees(payment: &Value) -> Value {
    payment["fees"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_attempts_carry_a_fee_at_the_default_rate() {
    let sim = sim(fast_config()).await;
    let api = Api::new(&sim);
    let (url, inbox) = receiver().await;
    let hook = api
        .post(
            "/webhooks",
            json!({"url": url, "events": ["payment.created", "payment.succeeded", "payment.failed",
                                           "payment_intent.succeeded"]}),
        )
        .await;
    assert_eq!(hook.status, 201, "{}", hook.body);
    let collected = || async {
        api.get("/balance?currency=XOF").await.body["collectionAccount"][0]["availableBalance"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(collected().await, 0);

    // 2 % (200 basis points) of 1025 is 20.5: rounded halves up, 21.
    let intent = api.intent(1025).await;
    let id = intent["id"].as_str().unwrap();
    let expected = json!([{"amount": 21, "currency": "XOF"}]);
    let attempt = api.pay(&intent, "0700000099", None).await;
    assert_eq!(attempt.status, 201, "{}", attempt.body);
    assert_eq!(fees(&attempt.body["payments"][0]), expected);
    // The spec gives the intent no `fees` of its own: they are on its
    // payments.
    assert!(attempt.body.get("fees").is_none(), "{}", attempt.body);
    let done = api.wait_status(id, "successful").await;
    assert_eq!(fees(&done["payments"][0]), expected);
    // The collection account gets the amount less the fee.
    assert_eq!(collected().await, 1025 - 21);

    let payment_id = done["payments"][0]["id"].as_str().unwrap();
    for kind in ["payment.created", "payment.succeeded"] {
        let (_, body) = wait_for(&inbox, |e| {
            e["type"] == kind && e["data"]["id"] == payment_id
        })
        .await;
        let event: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(fees(&event["data"]), expected, "{kind}");
    }
    let (_, body) = wait_for(&inbox, |e| {
        e["type"] == "payment_intent.succeeded" && e["data"]["id"] == id
    })
    .await;
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(fees(&event["data"]["payments"][0]), expected);

    // A failed attempt carries its fee but moves no money; the next attempt
    // carries its own.
    let retried = api.intent(490).await;
    let rid = retried["id"].as_str().unwrap();
    api.pay(&retried, "0700000001", None).await;
    let failed = api.wait_status(rid, "failed").await;
    let ten = json!([{"amount": 10, "currency": "XOF"}]); // 9.8
    assert_eq!(fees(&failed["payments"][0]), ten);
    let (_, body) = wait_for(&inbox, |e| {
        e["type"] == "payment.failed" && e["data"]["intentId"] == rid
    })
    .await;
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(fees(&event["data"]), ten);
    assert_eq!(collected().await, 1004);
    api.pay(&retried, "0700000099", None).await;
    let done = api.wait_status(rid, "successful").await;
    assert_eq!(fees(&done["payments"][0]), ten);
    assert_eq!(fees(&done["payments"][1]), ten);
    assert_eq!(collected().await, 1004 + 480);
    sim.shutdown().await;
}

const GATEWAY_MERCHANTS: &str =
    "merchants:\n  - public_id: a\n    merchant_id: b\n    secret_key: s\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fee_rate_comes_from_the_merchants_file() {
    // A merchant's own rate wins over the file's.
    let yaml = format!(
        "{GATEWAY_MERCHANTS}hub2:\n  fees: {{rate_bps: 0}}\n  merchants:\n    - merchant_id: {MERCHANT}\n      fees: {{rate_bps: 175}}\n      api_keys:\n        - key: {KEY}\n          environment: sandbox\n"
    );
    let mut config = SimulatorConfig::from_yaml_str(&yaml, "m.yaml").unwrap();
    config.latency = Duration::from_millis(40);
    let sim = sim(config).await;
    let api = Api::new(&sim);
    // 1.75 % of 200 is 3.5: 4. Of 199, 3.4825: 3. In XAF for a CM payment.
    for (amount, fee) in [(200, 4), (199, 3)] {
        let intent = api.intent(amount).await;
        let answer = api.pay(&intent, "0700000099", None).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        assert_eq!(
            fees(&answer.body["payments"][0]),
            json!([{"amount": fee, "currency": "XOF"}])
        );
    }
    let xaf = api
        .post(
            "/payment-intents",
            json!({"customerReference": "c", "purchaseReference": "p", "amount": 1000, "currency": "XAF"}),
        )
        .await;
    let id = xaf.body["id"].as_str().unwrap();
    let answer = api
        .send(
            reqwest::Method::POST,
            &format!("/payment-intents/{id}/payments"),
            None,
            "sandbox",
            Some(
                json!({"token": xaf.body["token"], "paymentMethod": "mobile_money", "country": "CM",
                        "provider": "mtn", "mobileMoney": {"msisdn": "670000099"}}),
            ),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(
        fees(&answer.body["payments"][0]),
        json!([{"amount": 18, "currency": "XAF"}]) // 17.5
    );
    // The control API tells the rate.
    let model = json_of(
        api.http
            .get(format!("{}/_sim/fees", api.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(model["fees"][0]["merchantId"], MERCHANT);
    assert_eq!(model["fees"][0]["rateBps"], 175);
    sim.shutdown().await;

    // Without a merchant rate the file's applies; rates above 100 % are
    // refused naming the field.
    let yaml = format!(
        "{GATEWAY_MERCHANTS}hub2:\n  fees: {{rate_bps: 0}}\n  merchants:\n    - merchant_id: m\n      api_keys:\n        - key: k\n          environment: sandbox\n"
    );
    let config = SimulatorConfig::from_yaml_str(&yaml, "m.yaml").unwrap();
    let sim = crate::sim(config).await;
    let model = json_of(
        Api::new(&sim)
            .http
            .get(format!("{}/hub2/_sim/fees", sim.base_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(model["fees"][0]["rateBps"], 0);
    sim.shutdown().await;
    for (bad, path) in [
        ("hub2:\n  fees: {rate_bps: 10001}\n", "hub2.fees.rate_bps"),
        (
            "hub2:\n  merchants:\n    - merchant_id: m\n      fees: {rate_bps: 20000}\n      api_keys:\n        - key: k\n          environment: sandbox\n",
            "hub2.merchants[0].fees.rate_bps",
        ),
    ] {
        let err = SimulatorConfig::from_yaml_str(&format!("{GATEWAY_MERCHANTS}{bad}"), "m.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains(path), "{err}");
    }
}

/// On a manual clock (issue 16): the previous webhook secret still signs
/// (`s0`) until 24 hours of the clock have passed since the rotation, and
/// a payment-intent token stops working 24 hours after it was issued;
/// neither needs a day of real time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_grace_period_and_token_lifetime_follow_the_manual_clock() {
    let mut config = fast_config();
    config.clock = paygate_conformance::simulator::ClockMode::Manual {
        start_ms: Some(1_769_900_400_000),
    };
    let sim = sim(config).await;
    let api = Api::new(&sim);
    let advance = |seconds: u64| {
        let api = &api;
        let base = sim.base_url();
        async move {
            let answer = api
                .http
                .post(format!("{base}/_sim/clock/advance"))
                .header("content-type", "application/json")
                .body(json!({ "seconds": seconds }).to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200);
        }
    };
    let (url, inbox) = receiver().await;
    let created = api
        .post(
            "/webhooks",
            json!({"url": url, "events": ["payment_intent.created"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let webhook_id = created.body["id"].as_str().unwrap().to_owned();
    let rotated = json_of(
        api.http
            .post(format!("{}/_sim/webhooks/{webhook_id}/rotate", api.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(rotated["secret"].is_string());

    async fn signature_of_new_intent(api: &Api, inbox: &Inbox) -> (Value, String) {
        let intent = api.intent(300).await;
        let id = intent["id"].as_str().unwrap().to_owned();
        let (signature, _) = wait_for(inbox, |e| e["data"]["id"] == id).await;
        (intent, signature)
    }
    // 23 h 59 min after the rotation: still signed with both.
    advance(23 * 3600 + 59 * 60).await;
    let (intent, signature) = signature_of_new_intent(&api, &inbox).await;
    assert!(signature.contains(",s0="), "{signature}");
    // 24 h after: the new secret alone.
    advance(60).await;
    let (_, signature) = signature_of_new_intent(&api, &inbox).await;
    assert!(
        signature.starts_with("s1=") && !signature.contains("s0="),
        "{signature}"
    );

    // The first intent's token, issued 1 min before the 24 h mark: valid
    // for another minute of the clock, then expired.
    advance(59).await;
    let answer = api.pay(&intent, "0700000099", None).await;
    assert_ne!(answer.status, 401, "{}", answer.body);
    let late = api.intent(300).await;
    advance(24 * 3600).await;
    let answer = api.pay(&late, "0700000099", None).await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert!(
        answer.body.to_string().contains("expired"),
        "{}",
        answer.body
    );
    sim.shutdown().await;
}
