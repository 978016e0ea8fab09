//! Namespaces (issue 19, part 3): each `/ns/{name}/` is a simulator of its
//! own (transactions, idempotency, clock, delivery log), created only with
//! the admin token, deleted alone; fifty conformance runs share one
//! simulator, each in its namespace, and no row crosses.

mod simulator_support;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use paygate_conformance::simulator::{ClockMode, DEMO_PUBLIC_ID, DEMO_SECRET_KEY};
use reqwest::Method;
use serde_json::Value;
use simulator_support::*;

/// 2026-01-31 23:00:00 UTC, in ms.
const START_MS: u64 = 1_769_900_400_000;

async fn send(
    sim: &paygate_conformance::simulator::RunningSimulator,
    method: Method,
    url: &str,
) -> (u16, Value) {
    let response = control(sim, method, url).send().await.expect("answer");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn each_namespace_is_a_world_of_its_own() {
    let mut config = fast_config();
    config.clock = ClockMode::Manual {
        start_ms: Some(START_MS),
    };
    config.latency = Duration::from_secs(60);
    let sim = simulator(config).await;
    let base = sim.base_url();
    let tx = |ns: &str, order: &str| {
        format!("{base}/ns/{ns}/_sim/transactions/{DEMO_PUBLIC_ID}/{order}")
    };

    // Without the admin token a namespace is not created: a signed payment
    // to an unknown one is refused, and only its health answers.
    let client_a = client_with(
        &format!("{base}/ns/a"),
        DEMO_PUBLIC_ID,
        DEMO_SECRET_KEY,
        None,
    );
    let refused = client_a
        .payment_c2b(typed(kenya_c2b("ns-1", "254700000001", None)))
        .await;
    assert!(refused.is_err(), "{refused:?}");
    let (status, body) = get_json(&format!("{base}/ns/a/_sim/payment")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("namespace-unknown"))
    );
    let (status, health) = get_json(&format!("{base}/ns/a/_sim/health")).await;
    assert_eq!(status, 200);
    assert_eq!(health["namespace"]["exists"], false);
    let (_, list) = send(&sim, Method::GET, &format!("{base}/_sim/namespaces")).await;
    assert_eq!(
        list["namespaces"].as_array().map(Vec::len),
        Some(0),
        "{list}"
    );
    let (status, body) = get_json(&format!("{base}/ns/bad%name/_sim/health")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("namespace-invalid"))
    );

    // Created by PUT, or by a first request with the token.
    let (status, created) = send(&sim, Method::PUT, &format!("{base}/_sim/namespaces/a")).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["base_url"], format!("{base}/ns/a"));
    let (status, _) = send(&sim, Method::PUT, &format!("{base}/_sim/namespaces/a")).await;
    assert_eq!(status, 200);
    let (status, _) = send(&sim, Method::GET, &format!("{base}/ns/b/_sim/clock")).await;
    assert_eq!(status, 200);

    // The same order id with other bodies in a and b: both accepted
    // (idempotency is per namespace), with distinct transaction ids; the
    // root has neither.
    let in_a = client_a
        .payment_c2b(typed(kenya_c2b("ns-1", "254700000001", None)))
        .await
        .expect("accepted in a");
    let client_b = client_with(
        &format!("{base}/ns/b"),
        DEMO_PUBLIC_ID,
        DEMO_SECRET_KEY,
        None,
    );
    let in_b = client_b
        .payment_c2b(typed(payment(
            "ns-1",
            "254700000002",
            2390,
            "250.00",
            "KES",
            "KE",
            None,
            None,
        )))
        .await
        .expect("accepted in b");
    assert_ne!(in_a.transaction_id, in_b.transaction_id);
    let (status, _) = send(
        &sim,
        Method::GET,
        &format!("{base}/_sim/transactions/{DEMO_PUBLIC_ID}/ns-1"),
    )
    .await;
    assert_eq!(status, 404);
    let (_, a) = send(&sim, Method::GET, &tx("a", "ns-1")).await;
    let (_, b) = send(&sim, Method::GET, &tx("b", "ns-1")).await;
    assert_eq!(
        a["transaction_id"].as_str(),
        Some(in_a.transaction_id.as_str())
    );
    assert_eq!(
        b["transaction_id"].as_str(),
        Some(in_b.transaction_id.as_str())
    );

    // Each namespace has its clock: a minute in a settles a's payment
    // only.
    let (status, _) = control(
        &sim,
        Method::POST,
        &format!("{base}/ns/a/_sim/clock/advance"),
    )
    .header("content-type", "application/json")
    .body(r#"{"seconds":120}"#)
    .send()
    .await
    .map(|r| (r.status().as_u16(), ()))
    .expect("advance");
    assert_eq!(status, 200);
    let (_, a) = send(&sim, Method::GET, &tx("a", "ns-1")).await;
    let (_, b) = send(&sim, Method::GET, &tx("b", "ns-1")).await;
    assert_ne!(a["status"], 1, "{a}");
    assert_eq!(b["status"], 1, "{b}");
    let (_, clock_b) = send(&sim, Method::GET, &format!("{base}/ns/b/_sim/clock")).await;
    assert_eq!(clock_b["now_ms"], START_MS);

    // Deleting a resets a alone; a request with the token starts it
    // afresh, empty.
    let (status, deleted) = send(&sim, Method::DELETE, &format!("{base}/_sim/namespaces/a")).await;
    assert_eq!(status, 200);
    assert_eq!(deleted["transactions"], 1);
    let (status, _) = send(&sim, Method::GET, &tx("a", "ns-1")).await;
    assert_eq!(status, 404);
    let (status, _) = send(&sim, Method::GET, &tx("b", "ns-1")).await;
    assert_eq!(status, 200);
    let (status, _) = send(&sim, Method::DELETE, &format!("{base}/_sim/namespaces/zz")).await;
    assert_eq!(status, 404);

    // b's dashboard points at b's control API.
    let page = control(&sim, Method::GET, &format!("{base}/ns/b/_sim/ui"))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap_or_default();
    assert!(page.contains("\"/ns/b/_sim/ui/app.js\""), "{page}");
    let login = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("{base}/ns/b/_sim/ui"))
        .send()
        .await
        .expect("redirect");
    assert_eq!(
        login
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some("/ns/b/_sim/ui/login")
    );

    // Managing namespaces needs the token, and is for the root only.
    let (status, _) = get_json(&format!("{base}/_sim/namespaces")).await;
    assert_eq!(status, 401);
    let (status, body) = send(&sim, Method::GET, &format!("{base}/ns/b/_sim/namespaces")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("namespace-nested"))
    );
    sim.shutdown().await;
}

fn paygate() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_paygate"));
    cmd.env_remove("PAYGATE_ADMIN_TOKEN")
        .env("NO_COLOR", "1")
        .env("PAYGATE_PUBLIC_ID", DEMO_PUBLIC_ID)
        .env("PAYGATE_MERCHANT_ID", "demo-merchant")
        .env("PAYGATE_SECRET_KEY", DEMO_SECRET_KEY);
    cmd
}

const RUNS: usize = 50;
const TOKEN: &str = "namespaces-test-token";

/// GET with the admin token from a plain thread.
fn get_blocking(url: &str) -> Value {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let answer = reqwest::Client::new()
            .get(url)
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("answer");
        assert_eq!(answer.status(), 200, "{url}");
        serde_json::from_slice(&answer.bytes().await.expect("body")).expect("JSON")
    })
}

#[test]
fn fifty_conformance_runs_share_one_simulator_without_crossing() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let _sim = Killed(
        paygate()
            // Fifty runs keep more than the default 1 024 connections
            // open (each case's client has its pool); the USSD window is
            // 4x the latency, left at its default of 300 ms so that a
            // loaded machine still polls inside it.
            .args(["simulate", "--max-connections", "4096"])
            .args(["--callback-backoff-ms", "20"])
            .args(["--hub2-rate-limit", "1000000", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .env("PAYGATE_ADMIN_TOKEN", TOKEN)
            .stderr(Stdio::null())
            .spawn()
            .expect("simulator starts"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "simulator listens"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // Fifty runs at once, each in its namespace: gateway payments with
    // callbacks, idempotency, the gateway's flows, HUB2 intents and
    // webhooks. Not HUB2's USSD flow: its action_required lasts 1.2 s by
    // design, and fifty suites on two cores can poll past it.
    let runs: Vec<(String, std::process::Child)> = (0..RUNS)
        .map(|i| {
            let name = format!("run-{i:02}");
            let child = paygate()
                .args(["conform", "--base-url", &format!("{base}/ns/{name}")])
                .args(["--filter", "flows/*", "--filter", "idempotency"])
                .args(["--filter", "c2b/2303/*", "--filter", "hub2-happy-path"])
                .args(["--filter", "hub2-webhooks"])
                .env("PAYGATE_ADMIN_TOKEN", TOKEN)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("conform starts");
            (name, child)
        })
        .collect();
    let mut last_lines = BTreeSet::new();
    for (name, child) in runs {
        let out = child.wait_with_output().expect("conform ends");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{name}:\n{stdout}");
        last_lines.insert(stdout.lines().last().unwrap_or_default().to_owned());
    }
    // Every run saw the same suite with the same result.
    assert_eq!(last_lines.len(), 1, "{last_lines:?}");

    // No row crosses: the root holds nothing, every namespace holds the
    // same number of transactions, each order id once, and every callback
    // attempt of a namespace is about one of its own orders.
    let root = get_blocking(&format!("{base}/_sim/health"));
    assert_eq!(root["transactions"], 0, "{root}");
    assert_eq!(root["namespaces"], RUNS);
    let mut counts = BTreeSet::new();
    let mut transaction_ids = BTreeSet::new();
    for i in 0..RUNS {
        let ns = format!("{base}/ns/run-{i:02}");
        let listed = get_blocking(&format!("{ns}/_sim/transactions?limit=1000"));
        let rows = listed["transactions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let gateway: Vec<&Value> = rows.iter().filter(|r| r["order_id"].is_string()).collect();
        let orders: BTreeSet<&str> = gateway
            .iter()
            .filter_map(|r| r["order_id"].as_str())
            .collect();
        assert_eq!(orders.len(), gateway.len(), "run-{i:02}: an order twice");
        assert_eq!(listed["total"].as_u64(), Some(rows.len() as u64));
        for row in &gateway {
            let serial = row["serial"].as_u64().unwrap_or_default();
            assert!(
                transaction_ids.insert(serial),
                "transaction id {serial} in two namespaces"
            );
        }
        counts.insert(rows.len());
        let attempts = get_blocking(&format!("{ns}/_sim/callbacks"));
        let attempts = attempts["callbacks"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(!attempts.is_empty(), "run-{i:02}: no callback");
        for attempt in &attempts {
            let order = attempt["order_id"].as_str().unwrap_or_default();
            assert!(
                orders.contains(order),
                "run-{i:02}: a callback for {order}, not its order"
            );
        }
    }
    assert_eq!(counts.len(), 1, "{counts:?}");
    assert!(counts.iter().all(|n| *n > 20), "{counts:?}");
}
