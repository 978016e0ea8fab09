//! Secrets never reach the logs.
//!
//! Runs the `paygate simulate` binary with `RUST_LOG=trace` and a merchants
//! file holding distinctive secrets, drives it (a valid payment whose
//! callback goes to a local receiver, a POS deposit, a bad signature, a
//! status query), stops it with SIGINT and checks that neither a secret nor
//! any request or callback signature appears in its stdout or stderr. Also
//! checks the `Debug` output of every configuration type that holds a
//! secret.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use paygate::gateway::client::{BrandProfile, ClientConfig, Credentials, GatewayClient};
use paygate::signing::{sign_json, SecretKey, SigningKey};
use paygate_conformance::simulator::{Merchant, SimulatorConfig};

const SECRET: &str = "S3CRET-leak-canary-7f1b2c9d4e5a6b70";
const HUB2_API_KEY: &str = "HUB2KEY-leak-canary-0c1d2e3f";
const HUB2_WEBHOOK_SECRET: &str = "HUB2WHS-leak-canary-9a8b7c6d";
const PUBLIC_ID: &str = "leak-public-id";
const MERCHANT_ID: &str = "leak-merchant";

fn secrets() -> [&'static str; 3] {
    [SECRET, HUB2_API_KEY, HUB2_WEBHOOK_SECRET]
}

fn merchants_yaml(callback_url: &str) -> String {
    format!(
        r#"merchants:
  - public_id: {PUBLIC_ID}
    merchant_id: {MERCHANT_ID}
    secret_key: {SECRET}
    callback_url: {callback_url}
hub2:
  merchants:
    - merchant_id: leak-hub2-merchant
      webhook_secret: {HUB2_WEBHOOK_SECRET}
      api_keys:
        - key: {HUB2_API_KEY}
          environment: sandbox
          permissions: [Api.delegated_payment_create, Api.delegated_transfer_create]
"#
    )
}

fn key() -> SigningKey {
    SigningKey::new(&SecretKey::new(SECRET))
}

/// Appends `"signature":"<hex>"` to a JSON object written as text; returns
/// the body and the signature.
fn signed(text: &str) -> (Vec<u8>, String) {
    let signature = sign_json(&key(), text.as_bytes())
        .expect("signable")
        .to_string();
    let body = &text.trim_end()[..text.trim_end().len() - 1];
    (
        format!("{body},\"signature\":\"{signature}\"}}").into_bytes(),
        signature,
    )
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "paygate-secrets-in-logs-{}-{}",
            std::process::id(),
            Instant::now().elapsed().as_nanos()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The simulator process; killed on drop if still running.
struct Simulator {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Simulator {
    fn start(dir: &Path, merchants: &Path) -> (Simulator, String) {
        let stdout = dir.join("stdout.log");
        let stderr = dir.join("stderr.log");
        let child = Command::new(env!("CARGO_BIN_EXE_paygate"))
            .args(["simulate", "--listen", "127.0.0.1:0", "--latency-ms", "20"])
            .arg("--merchants")
            .arg(merchants)
            .env("RUST_LOG", "trace")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("paygate simulate runs");
        let mut sim = Simulator {
            child,
            stdout,
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let log = std::fs::read_to_string(&sim.stderr).unwrap_or_default();
            if let Some(line) = log
                .lines()
                .find(|l| l.contains("paygate simulator listening on "))
            {
                let url = line
                    .split("listening on ")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                    .expect("the URL after `listening on`")
                    .to_owned();
                return (sim, url);
            }
            if let Ok(Some(status)) = sim.child.try_wait() {
                panic!("paygate simulate exited ({status}): {log}");
            }
            assert!(
                Instant::now() < deadline,
                "the simulator did not start: {log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGINT (what Ctrl-C sends), then waits for a clean exit.
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
        let stdout = std::fs::read(&self.stdout).unwrap_or_default();
        let stderr = std::fs::read(&self.stderr).unwrap_or_default();
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        )
    }
}

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Bytes>>>);

async fn receive(State(received): State<Received>, body: Bytes) -> &'static str {
    received.0.lock().unwrap().push(body);
    "OK"
}

fn assert_absent(log: &str, what: &str, needle: &str) {
    assert!(!needle.is_empty());
    for form in [
        needle.to_owned(),
        needle.to_ascii_uppercase(),
        needle.to_ascii_lowercase(),
    ] {
        if let Some(at) = log.find(&form) {
            let start = log[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = log[at..].find('\n').map_or(log.len(), |i| at + i);
            panic!(
                "{what} appears in the simulator's output: {}",
                &log[start..end]
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_at_trace_level_never_logs_secrets_or_signatures() {
    // The merchant's callback receiver, on loopback.
    let received = Received::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let receiver_url = format!("http://{}/callback", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/callback", post(receive))
        .with_state(received.clone());
    let receiver = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let dir = TempDir::new();
    let merchants = dir.0.join("merchants.yaml");
    std::fs::write(&merchants, merchants_yaml(&receiver_url)).expect("merchants file");
    let (sim, base_url) = Simulator::start(&dir.0, &merchants);

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let post_json = |method: &str, body: Vec<u8>| {
        http.post(format!("{base_url}/{PUBLIC_ID}/{method}"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let mut signatures = Vec::new();

    // A valid C2B payment with a callback to the receiver.
    let (body, signature) = signed(&format!(
        r#"{{"merchant_id":"{MERCHANT_ID}","customer_id":"254700000000","order_id":"leak-1","amount":"100.00","currency":"KES","country":"KE","callback_url":"{receiver_url}","provider_id":2390}}"#
    ));
    signatures.push(signature);
    let answer = post_json("payment_c2b", body).await.expect("answer");
    assert_eq!(answer.status(), 200, "{:?}", answer.text().await);

    // A POS deposit: its callback goes to the merchant's configured URL.
    let (body, signature) = signed(&format!(
        r#"{{"merchant_id":"{MERCHANT_ID}","customer_id":"254700000000","order_id":"leak-2","amount":"100.00"}}"#
    ));
    signatures.push(signature);
    let answer = post_json("deposit", body).await.expect("answer");
    let deposit_status = answer.status();
    let deposit_text = answer.text().await.unwrap_or_default();

    // A bad signature (a real signature of another body, so it is valid hex
    // the log must not echo).
    let (_, other_signature) = signed(r#"{"another":"body"}"#);
    let bad = format!(
        r#"{{"merchant_id":"{MERCHANT_ID}","customer_id":"254700000000","order_id":"leak-3","amount":"100.00","currency":"KES","country":"KE","provider_id":2390,"signature":"{other_signature}"}}"#
    );
    signatures.push(other_signature);
    let answer = post_json("payment_c2b", bad.into_bytes())
        .await
        .expect("answer");
    assert_eq!(answer.status(), 401);

    // A signature that is not hex, and one in the wrong field type.
    for tail in [
        r#""signature":"not-hex-leak-canary-signature""#,
        r#""signature":["leak-canary-list-signature"]"#,
    ] {
        let body = format!(r#"{{"merchant_id":"{MERCHANT_ID}",{tail}}}"#);
        let answer = post_json("status", body.into_bytes())
            .await
            .expect("answer");
        assert!(answer.status().is_client_error());
    }

    // A status query.
    let (body, signature) = signed(&format!(
        r#"{{"merchant_id":"{MERCHANT_ID}","order_id":"leak-1"}}"#
    ));
    signatures.push(signature);
    let answer = post_json("status", body).await.expect("answer");
    assert_eq!(answer.status(), 200);

    // Wait for the callbacks (C2B, and the deposit's if it was accepted).
    let wanted = if deposit_status == 200 { 2 } else { 1 };
    let deadline = Instant::now() + Duration::from_secs(15);
    while received.0.lock().unwrap().len() < wanted {
        assert!(
            Instant::now() < deadline,
            "callbacks not received (deposit answered {deposit_status}: {deposit_text})"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for callback in received.0.lock().unwrap().iter() {
        let value: serde_json::Value = serde_json::from_slice(callback).expect("JSON callback");
        let signature = value["signature"].as_str().expect("signed callback");
        signatures.push(signature.to_owned());
    }

    let log = tokio::task::spawn_blocking(move || sim.stop())
        .await
        .expect("stop");
    receiver.abort();

    // The run really logged at trace level.
    assert!(
        log.contains("TRACE") || log.contains("DEBUG"),
        "RUST_LOG=trace produced no trace or debug line:\n{log}"
    );
    assert!(
        log.contains("leak-1"),
        "the payment is not in the log:\n{log}"
    );
    for secret in secrets() {
        assert_absent(&log, "a secret key", secret);
    }
    for signature in &signatures {
        assert_eq!(signature.len(), 128);
        assert_absent(&log, "a signature", signature);
        // Nor a long piece of one.
        assert_absent(&log, "a signature prefix", &signature[..32]);
    }
    assert_absent(
        &log,
        "a non-hex signature value",
        "not-hex-leak-canary-signature",
    );
    assert_absent(&log, "a list signature value", "leak-canary-list-signature");
}

#[test]
fn debug_output_of_configurations_holds_no_secret() {
    let config =
        SimulatorConfig::from_yaml_str(&merchants_yaml("http://127.0.0.1:9/cb"), "test.yaml")
            .expect("valid merchants file");
    let mut outputs = vec![
        format!("{config:?}"),
        format!("{config:#?}"),
        format!("{:?}", config.merchants),
        format!("{:?}", SecretKey::new(SECRET)),
        format!("{:?}", key()),
    ];
    let merchant = Merchant {
        public_id: PUBLIC_ID.into(),
        merchant_id: MERCHANT_ID.into(),
        secret_key: SecretKey::new(SECRET),
        callback_url: None,
    };
    outputs.push(format!("{merchant:?}"));
    outputs.push(format!("{merchant:#?}"));

    let credentials = Credentials {
        public_id: PUBLIC_ID.into(),
        merchant_id: MERCHANT_ID.into(),
        secret_key: SecretKey::new(SECRET),
    };
    let client_config = ClientConfig::new(
        BrandProfile::new("leak-test", "http://127.0.0.1:9"),
        credentials.clone(),
    );
    outputs.push(format!("{credentials:?}"));
    outputs.push(format!("{client_config:?}"));
    outputs.push(format!("{client_config:#?}"));
    let client = GatewayClient::new(client_config).expect("client");
    outputs.push(format!("{client:?}"));

    for output in &outputs {
        for secret in secrets() {
            assert!(!output.contains(secret), "secret in Debug output: {output}");
        }
    }
    // The merchant's non-secret fields are still there (the Debug output is
    // useful, just redacted).
    assert!(outputs[0].contains(PUBLIC_ID), "{}", outputs[0]);
}
