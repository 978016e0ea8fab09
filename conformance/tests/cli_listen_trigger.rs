//! `paygate trigger` and `paygate listen`, end to end (issue 17, part 2):
//! a signed callback of the chosen kind reaches the merchant's endpoint
//! and its answer is printed; the simulator under `listen` forwards every
//! callback to the developer's endpoint and prints each delivery.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use paygate::gateway::callback::axum_handler::callback_router;
use paygate::gateway::callback::ReplayGuard;
use paygate::gateway::client::{BrandProfile, ClientConfig, Credentials, GatewayClient};
use paygate::gateway::{Country, Currency, PaymentC2bRequest, PaymentCallback};
use paygate::signing::{SecretKey, SigningKey};
use paygate_conformance::simulator::{DEMO_MERCHANT_ID, DEMO_PUBLIC_ID, DEMO_SECRET_KEY};

type Seen = Arc<Mutex<Vec<PaymentCallback>>>;

/// A merchant endpoint (paygate's router) that verifies with `secret`.
async fn merchant(secret: &str) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let store = seen.clone();
    let app = callback_router(
        "/callback",
        SigningKey::new(&SecretKey::new(secret)),
        Arc::new(ReplayGuard::new()),
        move |callback: PaymentCallback| {
            let store = store.clone();
            async move {
                store.lock().unwrap().push(callback);
                Ok::<(), &'static str>(())
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/callback", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

async fn paygate(args: &[&str], secret: Option<&str>) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let secret = secret.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_paygate"));
        command.args(&args).env_remove("PAYGATE_SECRET_KEY");
        if let Some(secret) = secret {
            command.env("PAYGATE_SECRET_KEY", secret);
        }
        command.output().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn trigger_sends_the_chosen_callback_and_prints_the_answer() {
    let (url, seen) = merchant("trigger-secret").await;
    let out = paygate(
        &["trigger", "c2b.success", "--url", &url, "--order-id", "t-1"],
        Some("trigger-secret"),
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("order t-1 -> HTTP 200"), "{stdout}");
    let out = paygate(
        &["trigger", "b2c.3", "--url", &url, "--order-id", "t-2"],
        Some("trigger-secret"),
    )
    .await;
    assert_eq!(out.status.code(), Some(0));
    {
        let seen = seen.lock().unwrap();
        let got: Vec<(String, i64, i64)> = seen
            .iter()
            .map(|c| (c.order_id.clone(), c.operation_type.code(), c.status.code()))
            .collect();
        assert_eq!(got, [("t-1".into(), 17, 2), ("t-2".into(), 16, 3)]);
    }
    // Another secret: the merchant refuses it, and trigger says so (exit 1).
    let out = paygate(
        &["trigger", "c2b.failed", "--url", &url],
        Some("not-the-secret"),
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("HTTP 401"));
    // A bad event is a usage error listing what is allowed.
    let out = paygate(&["trigger", "c2b.paid", "--url", &url], Some("x")).await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("in_progress") && stderr.contains("pos_withdrawal"),
        "{stderr}"
    );
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_forwards_every_callback_and_prints_each_delivery() {
    let (forward_to, seen) = merchant(DEMO_SECRET_KEY).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_paygate"))
        .args(["listen", "--forward-to", &forward_to])
        .args(["--listen", &format!("127.0.0.1:{port}"), "--no-admin-token"])
        .args(["--latency-ms", "50", "--log-format", "json"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let _running = Running(child);
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    let base = format!("http://127.0.0.1:{port}");
    let client = GatewayClient::new(ClientConfig::new(
        BrandProfile::new("listen", base.clone()),
        Credentials {
            public_id: DEMO_PUBLIC_ID.into(),
            merchant_id: DEMO_MERCHANT_ID.into(),
            secret_key: SecretKey::new(DEMO_SECRET_KEY),
        },
    ))
    .unwrap();
    let started = Instant::now();
    loop {
        // The request names another callback URL: listen sends it to ours.
        let request = PaymentC2bRequest::new(
            "",
            "2250705145655",
            "listen-1",
            "1100.00".parse().unwrap(),
            Currency::Xof,
            2303,
        )
        .with_country(Country::Ci)
        .with_callback_url("https://merchant.example/callback");
        match client.payment_c2b(request).await {
            Ok(_) => break,
            Err(_) if started.elapsed() < Duration::from_secs(10) => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(err) => panic!("the simulator never answered: {err}"),
        }
    }
    let line = loop {
        let found = lines
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.contains("callback forwarded to"))
            .cloned();
        if let Some(line) = found {
            break line;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{:?}",
            lines.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let event: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(event["fields"]["http_status"], 200, "{line}");
    assert_eq!(event["fields"]["order_id"], "listen-1", "{line}");
    assert!(line.contains(&forward_to), "{line}");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].order_id, "listen-1");
    assert_eq!(seen[0].status.code(), 2);
}
