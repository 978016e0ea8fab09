//! Shared helpers of the HUB2 simulator tests: a simulator with the demo
//! merchants, raw HTTP with the demo keys, a webhook receiver.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use paygate_conformance::simulator::{start, CallbackRetry, RunningSimulator, SimulatorConfig};
use serde_json::{json, Value};

pub const KEY: &str = "demo-hub2-sandbox-key";
pub const LIMITED: &str = "demo-hub2-limited-key";
pub const LIVE: &str = "demo-hub2-live-key";
pub const MERCHANT: &str = "demo-hub2-merchant";

pub fn fast_config() -> SimulatorConfig {
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

pub async fn sim(config: SimulatorConfig) -> RunningSimulator {
    start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
}

pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Api {
    /// Its client sends the simulator's admin token with every request
    /// (the control API under `/_sim/` needs it; the API ignores it).
    pub fn new(sim: &RunningSimulator) -> Api {
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

    pub async fn send(
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

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(
            reqwest::Method::POST,
            path,
            Some(KEY),
            "sandbox",
            Some(body),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, Some(KEY), "sandbox", None)
            .await
    }

    pub async fn intent(&self, amount: i64) -> Value {
        let answer = self
            .post(
                "/payment-intents",
                json!({"customerReference": "cust-1", "purchaseReference": "order 1.a_b", "amount": amount, "currency": "XOF"}),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        answer.body
    }

    pub async fn pay(&self, intent: &Value, msisdn: &str, otp: Option<&str>) -> Answer {
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
    pub async fn wait_status(&self, id: &str, wanted: &str) -> Value {
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

pub async fn json_of(response: reqwest::Response) -> Value {
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

pub fn assert_error(answer: &Answer, status: u16) {
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

pub type Inbox = Arc<Mutex<Vec<(String, Bytes)>>>;

pub async fn receiver() -> (String, Inbox) {
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

pub async fn wait_for(inbox: &Inbox, pred: impl Fn(&Value) -> bool) -> (String, Bytes) {
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

// ----- more than one payment attempt on one intent ----------------------------

impl Api {
    pub async fn authenticate(&self, intent: &Value, code: &str) -> Answer {
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

    pub async fn force(&self, id: &str, status: &str) -> u16 {
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

pub fn statuses(intent: &Value) -> Vec<String> {
    intent["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap().to_owned())
        .collect()
}
