//! The merchant suite tests something (issue 17): it passes against
//! paygate's own callback routers, and against merchants written in PHP and
//! Python, each with one classic mistake, exactly the cases naming that
//! mistake fail. `.ci/run` installs `php-cli`; Python is the machine's.

use std::collections::{BTreeSet, HashMap};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use paygate::gateway::callback::axum_handler::callback_router;
use paygate::gateway::callback::ReplayGuard;
use paygate::gateway::{PaymentCallback, PosCallback, Status};
use paygate::hub2::models::WebhookEvent;
use paygate::hub2::webhook::axum_handler::webhook_router;
use paygate::hub2::webhook::{WebhookSecret, WebhookSecrets};
use paygate::signing::{SecretKey, SigningKey};
use paygate_conformance::conform::{CaseResult, Outcome};
use paygate_conformance::merchant::hub2::Hub2WebhookTarget;
use paygate_conformance::merchant::{merchant_cases, run_merchant, MerchantTarget};
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

async fn run_against(url: String, lookup: String) -> Vec<CaseResult> {
    let mut target = MerchantTarget::new(url, key()).unwrap();
    target.order_lookup = Some(lookup);
    let results = run_merchant(target, merchant_cases(), 8, |_| {}).await;
    // With an order lookup only the HUB2 cases (no webhook endpoint here)
    // are skipped.
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
async fn a_php_handler_without_idempotency_fails_exactly_the_delivery_cases() {
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
    assert_eq!(
        listed
            .matches("skip: needs the merchant's order lookup")
            .count(),
        3
    );
    assert_eq!(
        listed
            .matches("skip: needs the merchant's HUB2 webhook")
            .count(),
        hub2
    );
}
