//! The merchant suite tests something (issue 17): it passes against
//! paygate's own callback routers, and against merchants written in PHP and
//! Python, each with one classic mistake, exactly the cases naming that
//! mistake fail. `.ci/run` installs `php-cli`; Python is the machine's.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use paygate::gateway::callback::axum_handler::callback_router;
use paygate::gateway::callback::ReplayGuard;
use paygate::gateway::{PaymentCallback, PosCallback, Status};
use paygate::hub2::models::WebhookEvent;
use paygate::hub2::webhook::axum_handler::webhook_router;
use paygate::hub2::webhook::{WebhookSecret, WebhookSecrets};
use paygate::signing::{SecretKey, SigningKey};
use paygate_conformance::conform::{CaseResult, Outcome};
use paygate_conformance::merchant::faults::{
    all_faults, FaultPlan, PlannedDelivery, DEFAULT_ORDERS,
};
use paygate_conformance::merchant::hub2::Hub2WebhookTarget;
use paygate_conformance::merchant::{
    merchant_cases, run_merchant, run_merchant_timed, MerchantTarget,
};
use paygate_conformance::simulator::faults::{CallbackFault, FaultProfile};
use serde_json::{json, Value};

const SECRET: &str = "merchant-suite-fixture-secret";

fn key() -> SigningKey {
    SigningKey::new(&SecretKey::new(SECRET))
}

fn failed(results: &[CaseResult]) -> BTreeSet<String> {
    results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Fail(_)))
        .map(|r| r.id.clone())
        .collect()
}

/// The fault plan the whole-suite runs deliver by: every kind drawn.
fn fault_plan() -> FaultPlan {
    let plan = FaultPlan::new(FaultProfile::new(17, 40), DEFAULT_ORDERS);
    for fault in all_faults() {
        assert!(!plan.orders_with(fault).is_empty(), "{fault:?} never drawn");
    }
    plan
}

async fn run_against(url: String, lookup: String) -> Vec<CaseResult> {
    let mut target = MerchantTarget::new(url, key()).unwrap();
    target.order_lookup = Some(lookup);
    target.faults = Some(fault_plan());
    let results = run_merchant(target, merchant_cases(), 8, |_| {}).await;
    // With an order lookup and a fault profile only the HUB2 cases (no
    // webhook endpoint here) are skipped.
    for r in &results {
        assert_eq!(
            matches!(r.outcome, Outcome::Skip(_)),
            r.group == "merchant-hub2",
            "{}: {:?}",
            r.id,
            r.outcome
        );
    }
    results
}

type Orders = Arc<Mutex<HashMap<String, (u64, Option<i64>)>>>;

/// What a careful merchant does with a verified callback: a final status
/// stays, a success is credited once.
fn apply(orders: &Orders, order_id: &str, status: Status) {
    let mut orders = orders.lock().unwrap();
    let view = orders.entry(order_id.to_owned()).or_insert((0, None));
    if view.1.is_some_and(|s| Status::from(s).is_final()) {
        return;
    }
    view.1 = Some(status.code());
    if status == Status::Success {
        view.0 += 1;
    }
}

async fn lookup(
    State(orders): State<Orders>,
    Path(order_id): Path<String>,
) -> (StatusCode, Json<Value>) {
    match orders.lock().unwrap().get(&order_id) {
        Some((credited, status)) => (
            StatusCode::OK,
            Json(json!({"credited": credited, "status": status})),
        ),
        None => (StatusCode::NOT_FOUND, Json(json!({}))),
    }
}

#[tokio::test]
async fn paygates_own_callback_routers_pass_every_case() {
    let orders: Orders = Arc::default();
    let guard = Arc::new(ReplayGuard::new());
    let (payments, pos) = (orders.clone(), orders.clone());
    let app = callback_router(
        "/callback",
        key(),
        guard.clone(),
        move |c: PaymentCallback| {
            let orders = payments.clone();
            async move {
                apply(&orders, &c.order_id, c.status);
                Ok::<(), &'static str>(())
            }
        },
    )
    .merge(callback_router(
        "/pos",
        key(),
        guard,
        move |c: PosCallback| {
            let orders = pos.clone();
            async move {
                apply(&orders, &c.order_id, c.status);
                Ok::<(), &'static str>(())
            }
        },
    ))
    .merge(
        Router::new()
            .route("/orders/{id}", get(lookup))
            .with_state(orders),
    )
    .merge(webhook_router(
        "/hub2",
        WebhookSecrets::new(WebhookSecret::new("hub2-current"))
            .with_previous(WebhookSecret::new("hub2-previous")),
        |_event: WebhookEvent| async { Ok::<(), &'static str>(()) },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut target = MerchantTarget::new(format!("{base}/callback"), key()).unwrap();
    target.pos_url = Some(format!("{base}/pos"));
    target.order_lookup = Some(format!("{base}/orders"));
    target.faults = Some(fault_plan());
    target.hub2 = Some(Hub2WebhookTarget {
        url: format!("{base}/hub2"),
        current: WebhookSecret::new("hub2-current"),
        previous: Some(WebhookSecret::new("hub2-previous")),
        // Rotated out more than 24 hours ago: not among the handler's
        // secrets, so its `s0` is refused.
        expired: Some(WebhookSecret::new("hub2-expired")),
    });
    let results = run_merchant(target, merchant_cases(), 8, |_| {}).await;
    let failures: Vec<String> = results
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Fail(m) => Some(format!("{}: {m}", r.id)),
            _ => None,
        })
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(results.len(), merchant_cases().len());
    assert!(results.iter().all(|r| matches!(r.outcome, Outcome::Pass)));
}

/// A child process killed when the test ends.
struct Fixture(Child);

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/merchants/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The Python fixture, running; its base URL.
fn python_fixture() -> (Fixture, String) {
    python_fixture_with("answers_before_verifying.py", &[])
}

/// A Python fixture with this environment, running; its base URL.
fn python_fixture_with(name: &str, env: &[(&str, String)]) -> (Fixture, String) {
    let mut child = Command::new("python3")
        .arg(fixture(name))
        .envs(env.iter().map(|(k, v)| (k, v.as_str())))
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs the fixture (.ci/run needs Python 3)");
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
    }
    let guard = Fixture(child);
    let port: u16 = line.trim().parse().expect("the fixture prints its port");
    (guard, format!("http://127.0.0.1:{port}"))
}

async fn wait_until_listening(port: u16) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the fixture never listened on {port}");
}

#[tokio::test]
async fn a_python_handler_that_answers_before_verifying_fails_exactly_the_tampered_cases() {
    let (_guard, base) = python_fixture();
    let results = run_against(format!("{base}/callback"), format!("{base}/orders")).await;
    let expected: BTreeSet<String> = merchant_cases()
        .into_iter()
        .filter(|c| c.group == "merchant-tampered")
        .map(|c| c.id)
        .collect();
    assert_eq!(expected.len(), 7);
    assert_eq!(failed(&results), expected);
}

#[tokio::test]
async fn a_python_hub2_handler_that_keeps_old_secrets_fails_exactly_the_after_grace_case() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Rotated out two hours ago (still valid as `s0`) and three days ago
    // (no longer): the fixture accepts both.
    let retired = json!([
        {"secret": "hub2-previous", "rotated_out_at": now - 2 * 3600},
        {"secret": "hub2-expired", "rotated_out_at": now - 3 * 24 * 3600},
    ]);
    let (_guard, base) = python_fixture_with(
        "hub2_keeps_old_secrets.py",
        &[
            ("HUB2_WEBHOOK_SECRET", "hub2-current".into()),
            ("HUB2_WEBHOOK_RETIRED", retired.to_string()),
        ],
    );
    let mut target = MerchantTarget::new(format!("{base}/unused"), key()).unwrap();
    target.hub2 = Some(Hub2WebhookTarget {
        url: format!("{base}/webhook"),
        current: WebhookSecret::new("hub2-current"),
        previous: Some(WebhookSecret::new("hub2-previous")),
        expired: Some(WebhookSecret::new("hub2-expired")),
    });
    let cases: Vec<_> = merchant_cases()
        .into_iter()
        .filter(|c| c.group == "merchant-hub2")
        .collect();
    let results = run_merchant(target, cases, 8, |_| {}).await;
    assert!(
        results
            .iter()
            .all(|r| !matches!(r.outcome, Outcome::Skip(_))),
        "{results:#?}"
    );
    assert!(results.len() > 10, "{results:#?}");
    let expected: BTreeSet<String> =
        ["merchant/hub2/rotation/wrong_s1_right_s0_after_grace".to_owned()].into();
    assert_eq!(failed(&results), expected, "{results:#?}");
}

#[tokio::test]
async fn a_php_handler_without_idempotency_fails_exactly_the_repeated_delivery_cases() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let state =
        std::env::temp_dir().join(format!("paygate-php-fixture-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&state).unwrap();
    let child = Command::new("php")
        .args([
            "-S",
            &format!("127.0.0.1:{port}"),
            &fixture("no_idempotency.php"),
        ])
        .env("MERCHANT_SECRET", SECRET)
        .env("MERCHANT_STATE_DIR", &state)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("php runs the fixture (.ci/run installs php-cli)");
    let _guard = Fixture(child);
    wait_until_listening(port).await;
    let base = format!("http://127.0.0.1:{port}");
    let results = run_against(format!("{base}/callback"), format!("{base}/orders")).await;
    let _ = std::fs::remove_dir_all(&state);
    let expected: BTreeSet<String> = [
        "merchant/delivery/replay_credited_once",
        "merchant/delivery/concurrent_duplicates_credited_once",
        "merchant/delivery/late_in_progress_keeps_success",
        "merchant/timing/retried_after_gateway_timeout_credited_once",
        "merchant/timing/full_retry_schedule_credited_once",
        "merchant/faults/duplicate_credited_once",
        "merchant/faults/reorder_keeps_success",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(failed(&results), expected);
}

#[test]
fn the_command_runs_the_merchant_suite_and_exits_1_on_the_named_failures() {
    let (_guard, base) = python_fixture();
    let junit = std::env::temp_dir().join(format!("merchant-junit-{}.xml", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_paygate"))
        .args(["conform", "--merchant", &format!("{base}/callback")])
        .args(["--order-lookup", &format!("{base}/orders")])
        .args(["--fault-seed", "17", "--fault-rate", "40"])
        .arg("--junit")
        .arg(&junit)
        .env("PAYGATE_SECRET_KEY", SECRET)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let cases = merchant_cases().len();
    let hub2 = merchant_cases()
        .iter()
        .filter(|c| c.group == "merchant-hub2")
        .count();
    assert!(
        stdout.contains(&format!(
            "{} passed, 7 failed, {hub2} skipped",
            cases - 7 - hub2
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("merchant/tampered/missing_signature"),
        "{stdout}"
    );
    assert!(stdout.contains("slowest answer: "), "{stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<failure").count(), 7);
    let _ = std::fs::remove_file(&junit);

    // Without the secret: a usage error naming the variable, nothing sent.
    let output = Command::new(env!("CARGO_BIN_EXE_paygate"))
        .args(["conform", "--merchant", &format!("{base}/callback")])
        .env_remove("PAYGATE_SECRET_KEY")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("PAYGATE_SECRET_KEY"));
    // Listing needs no secret; the lookup cases say why they would skip.
    let output = Command::new(env!("CARGO_BIN_EXE_paygate"))
        .args([
            "conform",
            "--merchant",
            "http://127.0.0.1:9/callback",
            "--list",
        ])
        .env_remove("PAYGATE_SECRET_KEY")
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&output.stdout);
    assert_eq!(listed.lines().count(), cases);
    // Three delivery and two timing cases; the fault cases need a fault
    // profile first.
    assert_eq!(
        listed
            .matches("skip: needs the merchant's order lookup")
            .count(),
        5,
        "{listed}"
    );
    assert_eq!(
        listed.matches("skip: needs a fault profile").count(),
        5,
        "{listed}"
    );
    assert_eq!(
        listed
            .matches("skip: needs the merchant's HUB2 webhook")
            .count(),
        hub2
    );
}

type Deliveries = Arc<Mutex<Vec<(String, i64)>>>;

/// What one run of the merchant-faults cases delivered, per order (the
/// run's prefix taken off the order ids): the statuses, in order.
async fn delivered_by(profile: FaultProfile) -> BTreeMap<String, Vec<i64>> {
    let orders: Orders = Arc::default();
    let log: Deliveries = Arc::default();
    let (apply_to, log_to) = (orders.clone(), log.clone());
    let app = Router::new()
        .route(
            "/callback",
            post(move |body: String| async move {
                let value: Value = serde_json::from_str(&body).unwrap();
                let order = value["order_id"].as_str().unwrap().to_owned();
                let status = value["status"].as_i64().unwrap();
                log_to.lock().unwrap().push((order.clone(), status));
                apply(&apply_to, &order, Status::from(status));
                "OK"
            }),
        )
        .merge(
            Router::new()
                .route("/orders/{id}", get(lookup))
                .with_state(orders),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut target = MerchantTarget::new(format!("{base}/callback"), key()).unwrap();
    target.order_lookup = Some(format!("{base}/orders"));
    target.faults = Some(FaultPlan::new(profile, 60));
    let cases: Vec<_> = merchant_cases()
        .into_iter()
        .filter(|c| c.group == "merchant-faults")
        .collect();
    let results = run_merchant(target, cases, 8, |_| {}).await;
    assert!(
        results.iter().all(|r| r.outcome == Outcome::Pass),
        "{results:#?}"
    );
    let mut per_order: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (order, status) in log.lock().unwrap().iter() {
        let (head, index) = order.rsplit_once("-o").unwrap();
        let name = if head.starts_with("never-sent-") {
            format!("never-sent-o{index}")
        } else {
            format!("o{index}")
        };
        per_order.entry(name).or_default().push(*status);
    }
    per_order
}

#[tokio::test]
async fn the_same_fault_seed_delivers_the_same_callbacks_and_another_seed_others() {
    let profile = FaultProfile::new(5, 50);
    let first = delivered_by(profile.clone()).await;
    let second = delivered_by(profile.clone()).await;
    assert_eq!(first, second);
    // What was planned is what was delivered.
    let plan = FaultPlan::new(profile.clone(), 60);
    let planned_callbacks = plan
        .deliveries()
        .iter()
        .flat_map(|(_, d)| d)
        .filter(|d| !matches!(d, PlannedDelivery::Wait(_)))
        .count();
    assert_eq!(
        first.values().map(Vec::len).sum::<usize>(),
        planned_callbacks
    );
    assert_eq!(
        first.len(),
        60 + plan.orders_with(Some(CallbackFault::UnknownOrder)).len()
    );
    let other = delivered_by(FaultProfile { seed: 6, ..profile }).await;
    assert_ne!(first, other);
}

#[test]
fn bad_fault_profiles_and_secrets_are_usage_errors_naming_the_field() {
    let dir = std::env::temp_dir().join(format!("merchant-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let output = Command::new(env!("CARGO_BIN_EXE_paygate"))
            .args(["conform", "--merchant", "http://127.0.0.1:9/callback"])
            .args(args)
            .env("PAYGATE_SECRET_KEY", SECRET)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    for (text, field) in [
        ("seed: 7\nrate_percent: 101\n", "rate_percent"),
        (
            "{\"seed\": 7, \"rate_percent\": 5, \"callbacks\": [\"explode\"]}",
            "callbacks",
        ),
        ("seed: 7\n", "rate_percent"),
    ] {
        let file = dir.join("profile.yaml");
        std::fs::write(&file, text).unwrap();
        let (code, stderr) = run(&["--fault-profile", file.to_str().unwrap()], &[]);
        assert_eq!(code, Some(2), "{text}: {stderr}");
        assert!(stderr.contains(field), "{text}: {stderr}");
    }
    let (code, stderr) = run(&["--fault-profile", "/nonexistent/profile.yaml"], &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("/nonexistent/profile.yaml"), "{stderr}");
    let (code, stderr) = run(&["--fault-orders", "10"], &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("fault profile"), "{stderr}");
    let (code, _) = run(&["--fault-seed", "3", "--fault-rate", "101"], &[]);
    assert_eq!(code, Some(2));
    let (code, _) = run(&["--fault-seed", "3"], &[]);
    assert_eq!(code, Some(2));
    // A listed profile says which fault it drew for no order.
    let file = dir.join("profile.json");
    std::fs::write(
        &file,
        r#"{"seed": 7, "rate_percent": 100, "callbacks": ["duplicate"]}"#,
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_paygate"))
        .args([
            "conform",
            "--merchant",
            "http://127.0.0.1:9/callback",
            "--list",
        ])
        .args(["--order-lookup", "http://127.0.0.1:9/orders"])
        .arg("--fault-profile")
        .arg(&file)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&output.stdout);
    let faults: Vec<&str> = listed
        .lines()
        .filter(|l| l.contains("merchant-faults"))
        .collect();
    assert_eq!(faults.len(), 5, "{listed}");
    assert_eq!(
        faults
            .iter()
            .filter(|l| l.contains("skip: the fault profile (seed 7, 100 %) drew none"))
            .count(),
        4,
        "{listed}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    // The expired webhook secret must not be one the merchant still has.
    let (code, stderr) = run(
        &["--hub2-webhook", "http://127.0.0.1:9/webhook"],
        &[
            ("PAYGATE_HUB2_WEBHOOK_SECRET", "s3cr3t-value"),
            ("PAYGATE_HUB2_WEBHOOK_EXPIRED_SECRET", "s3cr3t-value"),
        ],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("PAYGATE_HUB2_WEBHOOK_EXPIRED_SECRET"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("s3cr3t-value"),
        "a secret in the message: {stderr}"
    );
}

#[tokio::test]
async fn a_merchant_slower_than_the_deadline_fails_saying_the_gateway_would_retry() {
    let app = Router::new().route(
        "/callback",
        post(|| async {
            tokio::time::sleep(Duration::from_millis(150)).await;
            "OK"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut target = MerchantTarget::new(format!("{base}/callback"), key()).unwrap();
    // The gateway's 5 s, scaled down for the test.
    target.deadline = Duration::from_millis(50);
    let cases: Vec<_> = merchant_cases()
        .into_iter()
        .filter(|c| c.id == "merchant/valid/c2b/status_2/plain")
        .collect();
    let run = run_merchant_timed(target, cases, 1, |_| {}).await;
    let [result] = run.results.as_slice() else {
        panic!("{:?}", run.results);
    };
    let Outcome::Fail(message) = &result.outcome else {
        panic!("{result:?}");
    };
    assert!(
        message.contains("the gateway would abandon this attempt and retry it")
            && message.contains("5 attempts"),
        "{message}"
    );
    let (slowest, case) = run.slowest.expect("an answer was timed");
    assert!(slowest >= Duration::from_millis(150), "{slowest:?}");
    assert_eq!(case, "merchant/valid/c2b/status_2/plain");
}
