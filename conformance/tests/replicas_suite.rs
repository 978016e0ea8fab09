//! The gateway's conformance suite through three replicas: three
//! `paygate simulate --db postgres://... --replica` processes on one
//! database, behind the round-robin front of `replica_support`, and
//! `paygate conform --base-url` the front. Every gateway group runs (2 000
//! cases and more: limits, countries, phones, flows with confirmations and
//! OTPs, idempotency, callbacks, security): the suite's connections are
//! spread over the replicas, so a payment, its replay, its OTP and its
//! status read often reach different ones, and all pass. HUB2's groups are
//! left out: HUB2's state is still served from one replica's memory (see
//! the README's "Replicas").
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
const GROUPS: [&str; 13] = [
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/postgres-tests.sh"]
async fn the_gateway_suite_passes_through_three_replicas() {
    let db = postgres_support::fresh_database("replicas_suite");
    let mut replicas = Vec::new();
    let mut backends = Vec::new();
    for _ in 0..3 {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_paygate"))
            .args([
                "simulate",
                "--latency-ms",
                "50",
                "--callback-backoff-ms",
                "20",
            ])
            .arg("--db")
            .arg(&db)
            .arg("--replica")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .env("PAYGATE_ADMIN_TOKEN", TOKEN)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("paygate simulate starts");
        replicas.push(Killed(child));
        backends.push(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    let http = reqwest::Client::new();
    for backend in &backends {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let health = http.get(format!("http://{backend}/_sim/health")).send();
            if let Ok(response) = health.await {
                if response.status().is_success() {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "replica {backend} did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let front = RoundRobin::start(backends).await;

    let url = front.url();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_paygate"))
            .args(["conform", "--base-url", &url])
            .args(GROUPS.iter().flat_map(|group| ["--filter", group]))
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
    let failures: Vec<&str> = stdout
        .lines()
        .chain(stderr.lines())
        .filter(|l| l.starts_with("FAIL"))
        .collect();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{} cases failed through the replicas, the first: {:?}",
        failures.len(),
        failures.iter().take(20).collect::<Vec<_>>(),
    );
    let last = stdout.lines().last().unwrap_or_default();
    let passed: usize = last
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(passed >= 2_000, "{last}");
    assert!(last.contains(" passed, 0 failed"), "{last}");
    assert!(!stdout.contains("hub2/"), "HUB2's groups are not run here");
    let served = front.served();
    println!("replicas_suite: {last}; connections per replica {served:?}");
    assert!(
        served.iter().all(|n| *n > 0),
        "every replica served the suite: {served:?}"
    );
    drop(replicas);
}
