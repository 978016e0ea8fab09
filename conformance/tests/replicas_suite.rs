//! The conformance suite through three replicas: three
//! `paygate simulate --db postgres://... --replica` processes on one
//! database, behind the round-robin front of `replica_support`, and
//! `paygate conform --base-url` the front. Every group runs but the two
//! fault-load groups (2 000 cases and more: limits, countries, phones,
//! flows with confirmations, OTPs and held payments, idempotency,
//! callbacks, security, and HUB2's payment intents, transfers and
//! webhooks): the suite's connections are spread over the replicas, so a
//! payment, its replay, its OTP and its status read often reach different
//! ones, and HUB2 requests reaching a replica that does not serve HUB2 are
//! forwarded to the one that does; all pass.
//!
//! Needs PostgreSQL (`#[ignore]`d otherwise): `scripts/postgres-tests.sh`
//! runs it. Loopback only; bounded: each replica has 20 s to start, the
//! suite runs with its own per-case timeouts.

mod postgres_support;
mod replica_support;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use replica_support::RoundRobin;

const TOKEN: &str = "replicas-suite-token";

/// The gateway's groups, each as a glob matching the whole group name
/// (plain text would also match the HUB2 group of the same name).
const GROUPS: [&str; 20] = [
    "[c]allbacks",
    "[c]ountry",
    "[e]xamples",
    "[e]xtras",
    "[f]lows",
    "[h]appy-path",
    "[i]dempotency",
    "[l]imits",
    "[o]rder-id",
    "[p]hone",
    "[p]rovider-14",
    "[s]ecurity",
    "[w]arnings",
    "hub2-delegated",
    "hub2-flows",
    "hub2-happy-path",
    "hub2-security",
    "hub2-throttle",
    "hub2-validation",
    "hub2-webhooks",
];

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Starts `paygate simulate --replica` on `db` (the demo merchants) and
/// waits (20 s at most) until it answers.
async fn replica(db: &std::path::Path, more: &[&str]) -> (Killed, SocketAddr) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_paygate"))
        .args([
            "simulate",
            "--latency-ms",
            "50",
            "--callback-backoff-ms",
            "20",
        ])
        .args(["--hub2-rate-limit", "1000000", "--replica"])
        .args(more)
        .arg("--db")
        .arg(db)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .env("PAYGATE_ADMIN_TOKEN", TOKEN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("paygate simulate starts");
    let child = Killed(child);
    let backend = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if health(backend).await.is_some() {
            return (child, backend);
        }
        assert!(Instant::now() < deadline, "replica {backend} did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `GET /_sim/health`, if it answers 200.
async fn health(backend: SocketAddr) -> Option<serde_json::Value> {
    let response = reqwest::get(format!("http://{backend}/_sim/health"))
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    serde_json::from_slice(&response.bytes().await.ok()?).ok()
}

/// A HUB2 call with the demo merchant's sandbox key; status and JSON.
async fn hub2(
    backend: SocketAddr,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<(u16, serde_json::Value), String> {
    let mut request = reqwest::Client::new()
        .request(method, format!("http://{backend}/hub2{path}"))
        .header("ApiKey", "demo-hub2-sandbox-key")
        .header("MerchantId", "demo-hub2-merchant")
        .header("Environment", "sandbox")
        .timeout(Duration::from_secs(10));
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let answer = request.send().await.map_err(|e| e.to_string())?;
    let status = answer.status().as_u16();
    let bytes = answer.bytes().await.map_err(|e| e.to_string())?;
    Ok((status, serde_json::from_slice(&bytes).unwrap_or_default()))
}

async fn new_intent(backend: SocketAddr, reference: &str) -> serde_json::Value {
    let body = serde_json::json!({
        "customerReference": "customer-1",
        "purchaseReference": reference,
        "amount": 5000,
        "currency": "XOF",
    });
    let (status, intent) = hub2(
        backend,
        reqwest::Method::POST,
        "/payment-intents",
        Some(body),
    )
    .await
    .expect("HUB2 answers");
    assert_eq!(status, 201, "{intent}");
    intent
}

/// HUB2 outlives the replica serving it: an intent created through the
/// other replica (forwarded) is there, through the survivor, after the
/// serving one is SIGKILLed, and new intents are taken; the survivor then
/// says it serves HUB2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/postgres-tests.sh"]
async fn hub2_moves_to_another_replica_when_the_serving_one_dies() {
    let db = postgres_support::fresh_database("replicas_hub2");
    let mut started = Vec::new();
    for _ in 0..2 {
        started.push(replica(&db, &["--replica-timeout-ms", "1000"]).await);
    }
    let mut serving = None;
    for (i, (_, backend)) in started.iter().enumerate() {
        let body = health(*backend).await.expect("health");
        if body["replica"]["hub2"] == "serves" {
            assert!(serving.is_none(), "two replicas serve HUB2");
            serving = Some(i);
        }
    }
    let serving = serving.expect("one replica serves HUB2");
    let other = started[1 - serving].1;
    let intent = new_intent(other, "moved-1").await;
    let id = intent["id"].as_str().expect("an intent id").to_owned();

    drop(started.remove(serving));
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let read = hub2(
            other,
            reqwest::Method::GET,
            &format!("/payment-intents/{id}"),
            None,
        )
        .await;
        if let Ok((200, found)) = read {
            assert_eq!(found["id"], id.as_str());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "intent {id} not served by the survivor within 15 s: {read:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    new_intent(other, "moved-2").await;
    let body = health(other).await.expect("health");
    assert_eq!(body["replica"]["hub2"], "serves", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/postgres-tests.sh"]
async fn the_suite_passes_through_three_replicas() {
    let db = postgres_support::fresh_database("replicas_suite");
    let mut replicas = Vec::new();
    let mut backends = Vec::new();
    for _ in 0..3 {
        let (child, backend) = replica(&db, &[]).await;
        replicas.push(child);
        backends.push(backend);
    }
    let front = RoundRobin::start(backends.clone()).await;

    let (passed, last) = conform(front.url(), &GROUPS).await;
    assert!(passed >= 2_000, "{last}");
    let served = front.served();
    println!("replicas_suite: {last}; connections per replica {served:?}");
    assert!(
        served.iter().all(|n| *n > 0),
        "every replica served the suite: {served:?}"
    );

    // A namespace behind replicas: created by the suite's first request
    // (with the admin token), served by one replica whichever gets the
    // request, and listed by all.
    let (passed, last) = conform(
        format!("{}/ns/replicas-run", front.url()),
        &["[i]dempotency", "[c]allbacks", "[f]lows", "hub2-webhooks"],
    )
    .await;
    assert!(passed >= 30, "{last}");
    println!("replicas_suite: in namespace replicas-run: {last}");
    for backend in &backends {
        let listed = reqwest::Client::new()
            .get(format!("http://{backend}/_sim/namespaces"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("the namespaces list answers")
            .text()
            .await
            .unwrap_or_default();
        assert!(
            listed.contains("replicas-run"),
            "{backend} lists the namespace: {listed}"
        );
    }
    drop(replicas);
}

/// Runs `paygate conform --base-url url` on the cases `filters` pick;
/// asserts none failed; the number passed and the summary line.
async fn conform(url: String, filters: &'static [&'static str]) -> (usize, String) {
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_paygate"))
            .args(["conform", "--base-url", &url])
            .args(filters.iter().flat_map(|filter| ["--filter", filter]))
            .env("PAYGATE_PUBLIC_ID", "demo-public-id")
            .env("PAYGATE_MERCHANT_ID", "demo-merchant")
            .env("PAYGATE_SECRET_KEY", "demo-secret-key-change-me")
            .env("PAYGATE_ADMIN_TOKEN", TOKEN)
            .env("NO_COLOR", "1")
            .output()
            .expect("conform runs")
    })
    .await
    .expect("conform finished");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Each failure with the lines that explain it.
    let lines: Vec<&str> = stdout.lines().chain(stderr.lines()).collect();
    let failures: Vec<String> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("FAIL"))
        .map(|(i, _)| lines[i..(i + 4).min(lines.len())].join(" | "))
        .collect();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{} cases failed through the replicas, the first: {:?}",
        failures.len(),
        failures.iter().take(20).collect::<Vec<_>>(),
    );
    assert!(
        !stdout.contains("faults/"),
        "the fault-load groups are not run here"
    );
    let last = stdout.lines().last().unwrap_or_default().to_owned();
    let passed = last
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(last.contains(" passed, 0 failed"), "{last}");
    (passed, last)
}
