//! The conformance suite against a simulator whose state is in PostgreSQL
//! (`paygate simulate --db postgres://...`): the same cases pass on both
//! backends, and the database then holds what the suite did. Every group
//! runs but the two fault-load groups: their clients give up after 250 ms
//! on purpose (a slow answer must count as lost), which measures the
//! client's recovery rather than the store, and a loaded CI machine with
//! an fsync per commit turns that into noise; they run against the
//! embedded simulator in the main job.

mod postgres_support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const TOKEN: &str = "postgres-suite-token";

/// Every group of the suite but `faults` and `hub2-faults`.
const GROUPS: [&str; 20] = [
    "callbacks",
    "country",
    "examples",
    "extras",
    "flows",
    "happy-path",
    "hub2-delegated",
    "hub2-flows",
    "hub2-happy-path",
    "hub2-security",
    "hub2-throttle",
    "hub2-validation",
    "hub2-webhooks",
    "idempotency",
    "limits",
    "order-id",
    "phone",
    "provider-14",
    "security",
    "warnings",
];

#[test]
#[ignore = "needs PostgreSQL: scripts/postgres-tests.sh"]
fn the_whole_suite_passes_against_a_simulator_on_postgres() {
    let db = postgres_support::fresh_database("suite");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let _sim = Killed(
        Command::new(env!("CARGO_BIN_EXE_paygate"))
            .args([
                "simulate",
                "--latency-ms",
                "50",
                "--callback-backoff-ms",
                "20",
            ])
            .args(["--hub2-rate-limit", "1000000", "--db"])
            .arg(&db)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .env("PAYGATE_ADMIN_TOKEN", TOKEN)
            .stderr(Stdio::null())
            .spawn()
            .expect("simulator starts"),
    );
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "simulator listens"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_paygate"))
        .args(["conform", "--base-url", &format!("http://127.0.0.1:{port}")])
        .args(GROUPS.iter().flat_map(|group| ["--filter", group]))
        .env("PAYGATE_PUBLIC_ID", "demo-public-id")
        .env("PAYGATE_MERCHANT_ID", "demo-merchant")
        .env("PAYGATE_SECRET_KEY", "demo-secret-key-change-me")
        .env("PAYGATE_ADMIN_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        .output()
        .expect("conform runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    let passed: usize = last
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(passed > 2_000, "{last}");
    assert!(
        !stdout.contains("faults/"),
        "the fault groups are not run here"
    );
    assert!(last.ends_with(" passed, 0 failed, 1 skipped"), "{last}");

    // What the suite did is in the database.
    let url = db.to_string_lossy().into_owned();
    let (transactions, hub2) = std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let count = |client: &mut postgres::Client, sql: &str| -> i64 {
            client.query_one(sql, &[]).expect(sql).get(0)
        };
        (
            count(&mut client, "SELECT count(*) FROM transactions"),
            count(
                &mut client,
                "SELECT count(*) FROM hub2_objects WHERE kind = 'intent'",
            ),
        )
    })
    .join()
    .expect("counted");
    assert!(transactions > 500, "{transactions} transactions");
    assert!(hub2 > 50, "{hub2} HUB2 intents");
}
