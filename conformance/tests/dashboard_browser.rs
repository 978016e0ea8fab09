//! The dashboard in a real browser: headless Chromium driven through
//! chromedriver (WebDriver) signs in with the admin token, sees a payment
//! appear in the live list, opens its timeline, forces an outcome and sees
//! the callback attempt with the body the merchant received, then advances
//! the manual clock. Screenshots go to `target/dashboard-screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` packages (or
//! `PAYGATE_CHROMIUM` and `PAYGATE_CHROMEDRIVER` naming the binaries), so
//! it is `#[ignore]`d in a plain `cargo test`; `.ci/run` installs both and
//! runs it with `--ignored`.

mod simulator_support;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use paygate::gateway::Status;
use paygate_conformance::simulator::{ClockMode, DEMO_PUBLIC_ID};
use simulator_support::*;

const WAIT: Duration = Duration::from_secs(15);

fn binary(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_owned())
}

fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("dashboard-screenshots");
    std::fs::create_dir_all(&dir).expect("a screenshot directory");
    dir
}

async fn shoot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(screenshots().join(name), png).expect("the screenshot written");
}

/// Waits until the text of the element `css` contains `wanted`.
async fn text_contains(browser: &Client, css: &str, wanted: &str) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let text = match browser.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(wanted) {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{css} never showed {wanted:?}; last text: {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// chromedriver on a free port, killed when dropped.
async fn chromedriver() -> (Killed, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let path = binary("PAYGATE_CHROMEDRIVER", "/usr/bin/chromedriver");
    let child = std::process::Command::new(&path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(Killed)
        .unwrap_or_else(|e| panic!("cannot start {path} (apt-get install chromium-driver): {e}"));
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "chromedriver never listened"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, port)
}

async fn browser(port: u16) -> Client {
    let chromium = binary("PAYGATE_CHROMIUM", "/usr/bin/chromium");
    let profile = std::env::temp_dir().join(format!("paygate-chromium-{}", std::process::id()));
    let capabilities = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1400,900",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!("an object literal")
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Debian's chromium and chromium-driver: .ci/run installs them and runs it"]
async fn the_dashboard_shows_a_payment_its_timeline_a_forced_outcome_and_its_callback() {
    let receiver = Receiver::start(Some(0)).await;
    let mut config = fast_config();
    // On the manual clock the payment stays in progress until forced.
    config.clock = ClockMode::Manual { start_ms: None };
    let sim = simulator(config).await;
    let base = sim.base_url();
    let token = sim.admin_token().expect("a token").reveal().to_owned();
    let (_driver, port) = chromedriver().await;
    let browser = browser(port).await;

    // Without the token the page sends the browser to the sign-in form.
    browser.goto(&format!("{base}/_sim/ui")).await.unwrap();
    let field = browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Id("token"))
        .await
        .expect("the sign-in form");
    assert!(browser
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/_sim/ui/login"));
    field.send_keys(&token).await.unwrap();
    browser
        .find(Locator::Id("sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Id("transactions"))
        .await
        .expect("the dashboard after signing in");

    // A payment made now appears in the live list.
    client(&sim)
        .payment_c2b(typed(kenya_c2b(
            "browser-1",
            "254700000001",
            Some(&receiver.url),
        )))
        .await
        .expect("payment accepted");
    let row = browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("tr.tx[data-order-id='browser-1']"))
        .await
        .expect("the payment in the list");
    let listed = row.text().await.unwrap();
    assert!(
        listed.contains(DEMO_PUBLIC_ID) && listed.contains("100.00"),
        "{listed}"
    );
    row.click().await.unwrap();
    text_contains(&browser, "#timeline-title", "Order browser-1").await;
    text_contains(&browser, "#history", "status 1").await;
    text_contains(
        &browser,
        "#callback-body",
        "sent when the transaction becomes final",
    )
    .await;
    shoot(&browser, "1-payment-timeline.png").await;

    // Force success: the callback goes out and its attempt shows up.
    browser
        .find(Locator::Id("force-2"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let attempt = text_contains(&browser, "#attempts tbody tr.attempt", "yes").await;
    assert!(
        attempt.contains("200"),
        "the merchant's HTTP status: {attempt}"
    );
    assert_eq!(receiver.count(), 1);
    let delivered = receiver.all()[0]
        .callback
        .clone()
        .expect("a verified callback");
    assert_eq!(
        (delivered.order_id.as_str(), delivered.status),
        ("browser-1", Status::Success)
    );
    let body = text_contains(&browser, "#callback-body", "\"order_id\":\"browser-1\"").await;
    let sent = String::from_utf8(receiver.all()[0].body.to_vec()).unwrap();
    assert!(
        body.contains(&sent),
        "the body shown is the one received: {body}"
    );
    text_contains(&browser, "#history", "status 2").await;
    text_contains(&browser, "#actions", "Resend callback").await;
    shoot(&browser, "2-forced-outcome-and-callback.png").await;

    // Resend: a second attempt reaches the merchant.
    browser
        .find(Locator::Id("resend"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    text_contains(&browser, "#message", "callback sent again").await;
    eventually("the callback sent again", || receiver.count() == 2).await;

    // The manual clock moves from the page.
    let seconds = browser.find(Locator::Id("advance-seconds")).await.unwrap();
    seconds.clear().await.unwrap();
    seconds.send_keys("30").await.unwrap();
    browser
        .find(Locator::Id("advance"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    text_contains(&browser, "#message", "clock advanced 30 s").await;
    shoot(&browser, "3-clock-advanced.png").await;

    browser.close().await.unwrap();
    sim.shutdown().await;
}
