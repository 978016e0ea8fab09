//! The control plane is safe by default (issue 14, defect 1).
//!
//! A merchant request must never reach the simulator's control API: the
//! control API (`/_sim/...`, `/hub2/_sim/...`) needs the admin token;
//! callback and webhook URLs that point back at the simulator are refused;
//! callbacks never carry the token. Each test runs the `paygate simulate`
//! binary (the release artefact an attacker would face), on 127.0.0.1 only,
//! with bounded waits.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use paygate::signing::{sign_json, SecretKey, SigningKey};
use paygate_conformance::simulator::hub2::{DEMO_HUB2_MERCHANT_ID, DEMO_HUB2_SANDBOX_KEY};
use paygate_conformance::simulator::{DEMO_MERCHANT_ID, DEMO_PUBLIC_ID, DEMO_SECRET_KEY};
use serde_json::Value;

/// A distinctive admin token, to look for in the logs.
const TOKEN: &str = "adm1n-t0ken-canary-5d4c3b2a19f8e7d6";
const ENV_TOKEN: &str = "PAYGATE_ADMIN_TOKEN";

/// A fresh scratch directory under the target directory.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "control-plane-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A free port on 127.0.0.1 (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `paygate simulate` as a child process, stderr in a file; killed on drop.
struct Sim {
    child: Child,
    log: PathBuf,
    port: u16,
}

impl Sim {
    /// Starts the binary on a free port with `args` and `env`, and waits
    /// (at most 30 s) for its `listening on` line.
    fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Sim {
        let port = free_port();
        let log = dir.join(format!("simulator-{port}.log"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_paygate"));
        command
            .args(["simulate", "--latency-ms", "50", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .args(args)
            .env_remove(ENV_TOKEN)
            .env("RUST_LOG", "trace")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join(format!("stdout-{port}.log"))).unwrap())
            .stderr(std::fs::File::create(&log).unwrap());
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().expect("paygate simulate runs");
        let mut sim = Sim { child, log, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = sim.log_text();
            if text.contains("paygate simulator listening on ") {
                return sim;
            }
            if let Ok(Some(status)) = sim.child.try_wait() {
                panic!("paygate simulate exited ({status}): {text}");
            }
            assert!(Instant::now() < deadline, "did not start: {text}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    /// SIGINT, wait for the exit (at most 15 s), and the whole log.
    fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.log_text()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn demo_key() -> SigningKey {
    SigningKey::new(&SecretKey::new(DEMO_SECRET_KEY))
}

/// Signs raw JSON text (an object without `signature`, not empty) with the
/// demo key and appends the signature as the last field.
fn signed(text: &str) -> Vec<u8> {
    let signature = sign_json(&demo_key(), text.as_bytes()).expect("signable");
    let trimmed = text.trim_end();
    let body = &trimmed[..trimmed.len() - 1];
    format!("{body},\"signature\":\"{signature}\"}}").into_bytes()
}

/// A Kenyan M-Pesa C2B or B2C body (provider 2390, KES 100.00).
fn kenya_payment(order_id: &str, callback_url: Option<&str>) -> Vec<u8> {
    let callback = callback_url
        .map(|url| format!(",\"callback_url\":{}", Value::from(url)))
        .unwrap_or_default();
    signed(&format!(
        "{{\"merchant_id\":\"{DEMO_MERCHANT_ID}\",\"customer_id\":\"254700000100\",\
         \"order_id\":\"{order_id}\",\"amount\":\"100.00\",\"currency\":\"KES\",\
         \"country\":\"KE\"{callback},\"provider_id\":2390}}"
    ))
}

struct Answer {
    status: u16,
    body: Value,
    text: String,
}

async fn send(
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Option<Vec<u8>>,
) -> Answer {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body);
    }
    let response = request.send().await.expect("the simulator answers");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap_or_default();
    Answer {
        status,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(url: &str, token: Option<&str>) -> Answer {
    send(reqwest::Method::GET, url, token, None).await
}

async fn post_json(url: &str, token: Option<&str>, body: &str) -> Answer {
    send(
        reqwest::Method::POST,
        url,
        token,
        Some(body.as_bytes().to_vec()),
    )
    .await
}

async fn gateway(base: &str, method: &str, body: Vec<u8>) -> Answer {
    send(
        reqwest::Method::POST,
        &format!("{base}/{DEMO_PUBLIC_ID}/{method}"),
        None,
        Some(body),
    )
    .await
}

/// `POST /hub2{path}` as the HUB2 demo merchant (sandbox key).
async fn hub2_post(base: &str, path: &str, body: &str) -> Answer {
    let response = reqwest::Client::new()
        .post(format!("{base}/hub2{path}"))
        .header("ApiKey", DEMO_HUB2_SANDBOX_KEY)
        .header("MerchantId", DEMO_HUB2_MERCHANT_ID)
        .header("Environment", "sandbox")
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("the simulator answers");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap_or_default();
    Answer {
        status,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// Accepts a payment and returns its order id.
async fn accepted_payment(base: &str, order_id: &str) -> String {
    let answer = gateway(base, "payment_c2b", kenya_payment(order_id, None)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["result"]["code"], 0, "{}", answer.text);
    order_id.to_owned()
}

fn transaction_url(base: &str, order_id: &str) -> String {
    format!("{base}/_sim/transactions/{DEMO_PUBLIC_ID}/{order_id}")
}

/// A 401 from the control plane: JSON naming the `Authorization` header.
fn assert_refused(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 401, "{what}: {}", answer.text);
    let message = answer.body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("Authorization") && message.contains("Bearer"),
        "{what}: the 401 must name the header it needs: {}",
        answer.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_api_needs_the_admin_token() {
    let dir = scratch("token");
    let sim = Sim::start(&dir, &[], &[(ENV_TOKEN, TOKEN)]);
    let base = sim.base_url();
    let order = accepted_payment(&base, "cp-token-1").await;

    // The liveness probe stays open.
    let health = get(&format!("{base}/_sim/health"), None).await;
    assert_eq!(health.status, 200, "{}", health.text);

    let reads = [
        transaction_url(&base, &order),
        format!("{base}/_sim/callbacks"),
        format!("{base}/hub2/_sim/fees"),
        format!("{base}/hub2/_sim/webhook-deliveries"),
        format!("{base}/hub2/_sim/provider-credentials"),
    ];
    let writes = [
        (format!("{base}/_sim/reset"), "{}".to_owned()),
        (
            format!("{}/outcome", transaction_url(&base, &order)),
            "{\"status\":3}".to_owned(),
        ),
        (format!("{base}/hub2/_sim/reset"), "{}".to_owned()),
        (
            format!("{base}/hub2/_sim/payment-intents/x/outcome"),
            "{\"status\":\"failed\"}".to_owned(),
        ),
    ];
    for wrong in [None, Some("wrong-token"), Some(&TOKEN[..TOKEN.len() - 1])] {
        for url in &reads {
            assert_refused(&get(url, wrong).await, &format!("GET {url} with {wrong:?}"));
        }
        for (url, body) in &writes {
            assert_refused(
                &post_json(url, wrong, body).await,
                &format!("POST {url} with {wrong:?}"),
            );
        }
    }
    // A scheme other than Bearer is refused too.
    let basic = reqwest::Client::new()
        .post(format!("{base}/_sim/reset"))
        .header("authorization", format!("Basic {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status().as_u16(), 401);

    // Nothing changed: the transaction is still there and still in
    // progress (no forced outcome), read with the token.
    let seen = get(&transaction_url(&base, &order), Some(TOKEN)).await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert_eq!(seen.body["order_id"], order.as_str());
    let callbacks = get(&format!("{base}/_sim/callbacks"), Some(TOKEN)).await;
    assert_eq!(callbacks.status, 200, "{}", callbacks.text);

    // With the token the control API works.
    let reset = post_json(&format!("{base}/_sim/reset"), Some(TOKEN), "{}").await;
    assert_eq!(reset.status, 200, "{}", reset.text);
    assert_eq!(
        get(&transaction_url(&base, &order), Some(TOKEN))
            .await
            .status,
        404
    );
    let fees = get(&format!("{base}/hub2/_sim/fees"), Some(TOKEN)).await;
    assert_eq!(fees.status, 200, "{}", fees.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_url_pointing_at_the_simulator_is_refused_and_nothing_is_lost() {
    let dir = scratch("self-callback");
    let db = dir.join("gateway.db");
    let db = db.to_str().unwrap();
    let sim = Sim::start(&dir, &["--db", db], &[(ENV_TOKEN, TOKEN)]);
    let base = sim.base_url();
    let port = sim.port;
    let before = accepted_payment(&base, "cp-self-before").await;

    let targets = [
        format!("{base}/_sim/reset"),
        format!("http://localhost:{port}/_sim/reset"),
        format!("http://LOCALHOST.:{port}/_sim/reset"),
        format!("http://0.0.0.0:{port}/_sim/reset"),
        format!("http://[::1]:{port}/_sim/reset"),
        format!("http://[::ffff:127.0.0.1]:{port}/_sim/reset"),
        format!("http://127.1:{port}/_sim/reset"),
        format!("http://2130706433:{port}/_sim/reset"),
        format!("http://127.0.0.2:{port}/hub2/_sim/reset"),
        format!("http://user@127.0.0.1:{port}/anything"),
    ];
    for (n, target) in targets.iter().enumerate() {
        for method in ["payment_c2b", "payment_b2c"] {
            let order = format!("cp-self-{method}-{n}");
            let answer = gateway(&base, method, kenya_payment(&order, Some(target))).await;
            assert!(
                (400..500).contains(&answer.status),
                "{method} with callback_url {target}: HTTP {} {}",
                answer.status,
                answer.text
            );
            let message = answer.body["result"]["message"].as_str().unwrap_or("");
            assert!(
                message.contains("callback_url") && message.contains("simulator"),
                "{method} with callback_url {target}: the refusal must name the field and the rule: {}",
                answer.text
            );
        }
    }
    let reset = format!("{base}/_sim/reset");
    let withdrawal = signed(&format!(
        "{{\"merchant_id\":\"{DEMO_MERCHANT_ID}\",\"customer_id\":\"254700000100\",\
         \"order_id\":\"cp-self-withdrawal\",\"amount\":\"100.00\",\"currency\":\"KES\",\
         \"provider_id\":2390,\"callback_url\":\"{reset}\"}}"
    ));
    let bulk = signed(&format!(
        "{{\"merchant_id\":\"{DEMO_MERCHANT_ID}\",\"bulk_id\":\"cp-self-bulk\",\"currency\":\"KES\",\
         \"items\":[{{\"order_id\":\"cp-self-bulk-1\",\"customer_id\":\"254700000100\",\
         \"amount\":\"100.00\",\"country\":\"KE\",\"callback_url\":\"{reset}\",\"provider_id\":2390}}]}}"
    ));
    for (method, body) in [("withdrawal", withdrawal), ("payment_b2c/bulk", bulk)] {
        let answer = gateway(&base, method, body).await;
        assert!(
            (400..500).contains(&answer.status)
                && answer.text.contains("callback_url")
                && answer.text.contains("simulator"),
            "{method} with callback_url {reset}: HTTP {} {}",
            answer.status,
            answer.text
        );
    }

    // A merchant endpoint on another loopback port still works.
    let other = format!("http://127.0.0.1:{}/callback", free_port());
    let answer = gateway(
        &base,
        "payment_c2b",
        kenya_payment("cp-self-other-port", Some(&other)),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);

    // Give any callback time to run (latency 50 ms), then check nothing
    // was wiped: the earlier transaction is still in the database.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let seen = get(&transaction_url(&base, &before), Some(TOKEN)).await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    let log = sim.stop();
    assert!(
        !log.contains("simulator state reset"),
        "the simulator was reset: {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_configured_callback_to_the_simulator_stops_the_start() {
    let dir = scratch("merchant-file");
    let port = free_port();
    let merchants = dir.join("merchants.yaml");
    std::fs::write(
        &merchants,
        format!(
            "merchants:\n  - public_id: good-merchant\n    merchant_id: g\n    secret_key: k1\n    \
             callback_url: http://127.0.0.1:{}/callback\n  - public_id: evil-merchant\n    \
             merchant_id: e\n    secret_key: k2\n    callback_url: http://localhost:{port}/_sim/reset\n",
            free_port()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_paygate"))
        .args(["simulate", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--merchants")
        .arg(&merchants)
        .env(ENV_TOKEN, TOKEN)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the simulator started with a merchant calling back its own control API");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains("evil-merchant")
            && stderr.contains("callback_url")
            && stderr.contains("simulator"),
        "the error must name the merchant, the field and the rule: {stderr}"
    );
    assert!(!stderr.contains("good-merchant"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub2_webhook_on_the_simulators_control_api_is_refused() {
    let dir = scratch("webhook");
    let sim = Sim::start(&dir, &[], &[(ENV_TOKEN, TOKEN)]);
    let base = sim.base_url();
    let port = sim.port;
    for url in [
        format!("{base}/hub2/_sim/reset"),
        format!("http://localhost:{port}/hub2/_sim/reset"),
        format!("http://[::1]:{port}/_sim/reset"),
    ] {
        let answer = hub2_post(
            &base,
            "/webhooks",
            &format!("{{\"url\":\"{url}\",\"events\":[\"payment_intent.succeeded\"]}}"),
        )
        .await;
        // createWebhook lists 400 (BadRequest) for invalid input.
        assert_eq!(answer.status, 400, "webhook {url}: {}", answer.text);
        assert_eq!(answer.body["code"], "invalid-url", "{}", answer.text);
        assert!(
            answer.body["message"]
                .as_str()
                .unwrap_or("")
                .contains("simulator"),
            "{}",
            answer.text
        );
    }
    // Another loopback port is a merchant's endpoint: accepted.
    let answer = hub2_post(
        &base,
        "/webhooks",
        &format!(
            "{{\"url\":\"http://127.0.0.1:{}/hook\",\"events\":[\"payment_intent.succeeded\"]}}",
            free_port()
        ),
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
}

#[test]
fn no_admin_token_is_refused_unless_the_simulator_listens_on_loopback() {
    for listen in ["0.0.0.0:0", "[::]:0", "192.0.2.1:0"] {
        let out = Command::new(env!("CARGO_BIN_EXE_paygate"))
            .args(["simulate", "--no-admin-token", "--listen", listen])
            .env_remove(ENV_TOKEN)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{listen}: {stderr}");
        assert!(
            stderr.contains("--no-admin-token") && stderr.contains("loopback"),
            "{listen}: the error must name the flag and the rule: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_admin_token_on_loopback_opens_the_control_api_with_a_warning() {
    let dir = scratch("open");
    let sim = Sim::start(&dir, &["--no-admin-token"], &[]);
    let base = sim.base_url();
    let answer = get(&format!("{base}/_sim/callbacks"), None).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let log = sim.stop();
    assert!(
        log.contains("WARN") && log.contains("without an admin token"),
        "{log}"
    );
}

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(HeaderMap, Bytes)>>>);

async fn receive(
    State(received): State<Received>,
    headers: HeaderMap,
    body: Bytes,
) -> &'static str {
    received.0.lock().unwrap().push((headers, body));
    "OK"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_printed_token_works_and_is_logged_once_and_never_sent_in_callbacks() {
    let received = Received::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/callback", post(receive))
        .with_state(received.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let dir = scratch("printed");
    let sim = Sim::start(&dir, &[], &[]);
    let base = sim.base_url();
    let log = sim.log_text();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("admin token: "))
        .collect();
    assert_eq!(lines.len(), 1, "one start-up line gives the token: {log}");
    let token = lines[0]
        .split("admin token: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the token after `admin token: `")
        .to_owned();
    assert!(token.len() >= 32, "a generated token is long: {token}");

    assert_refused(
        &get(&format!("{base}/_sim/callbacks"), None).await,
        "no token",
    );
    assert_refused(
        &get(&format!("{base}/_sim/callbacks"), Some("not-the-token")).await,
        "wrong token",
    );
    let answer = get(&format!("{base}/_sim/callbacks"), Some(&token)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);

    // A payment calling back the local receiver, and a HUB2 webhook there.
    let hook = format!("http://{addr}/callback");
    let webhook = hub2_post(
        &base,
        "/webhooks",
        &format!("{{\"url\":\"{hook}\",\"events\":[\"payment_intent.created\"]}}"),
    )
    .await;
    assert_eq!(webhook.status, 201, "{}", webhook.text);
    let intent = hub2_post(
        &base,
        "/payment-intents",
        "{\"customerReference\":\"cp-1\",\"purchaseReference\":\"cp-1\",\"amount\":1000,\"currency\":\"XOF\"}",
    )
    .await;
    assert_eq!(intent.status, 201, "{}", intent.text);
    let answer = gateway(
        &base,
        "payment_c2b",
        kenya_payment("cp-printed-1", Some(&hook)),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let deadline = Instant::now() + Duration::from_secs(10);
    while received.0.lock().unwrap().len() < 2 {
        assert!(Instant::now() < deadline, "callback and webhook delivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for (headers, body) in received.0.lock().unwrap().iter() {
        assert!(headers.get("authorization").is_none(), "{headers:?}");
        let all = format!("{headers:?} {}", String::from_utf8_lossy(body));
        assert!(!all.contains(&token), "a delivery carried the token: {all}");
    }

    let log = sim.stop();
    assert_eq!(
        log.matches(token.as_str()).count(),
        1,
        "the token appears only in its start-up line: {log}"
    );
    assert!(
        !log.contains("not-the-token"),
        "a presented token was logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_given_token_never_appears_in_the_logs() {
    let dir = scratch("given");
    let sim = Sim::start(&dir, &["--admin-token", TOKEN], &[]);
    let base = sim.base_url();
    assert_eq!(
        get(&format!("{base}/_sim/callbacks"), Some(TOKEN))
            .await
            .status,
        200
    );
    assert_refused(&get(&format!("{base}/_sim/callbacks"), None).await, "none");
    let _ = post_json(&format!("{base}/_sim/reset"), Some(TOKEN), "{}").await;
    let log = sim.stop();
    assert!(!log.contains(TOKEN), "the given token was logged: {log}");
    assert!(
        !log.contains("admin token: "),
        "a given token is not printed: {log}"
    );
}
