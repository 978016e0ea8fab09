//! A test with the simulator's clock and a fault profile: the payment's
//! answer is lost after the gateway stored it, its callback is delivered
//! twice, and time moves only when the test says so. The client learns the
//! outcome without paying twice; the merchant's handler sees the callback
//! once.
//!
//! ```sh
//! cargo run -p paygate-conformance --example clock_and_faults
//! ```

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use paygate::gateway::callback::axum_handler::callback_router;
use paygate::gateway::callback::ReplayGuard;
use paygate::gateway::client::{
    BrandProfile, ClientConfig, Credentials, GatewayClient, Resolution,
};
use paygate::gateway::{Country, Currency, PaymentC2bRequest, PaymentCallback};
use paygate::signing::{SecretKey, SigningKey};
use paygate_conformance::simulator::faults::{AnswerFault, CallbackFault, FaultProfile};
use paygate_conformance::simulator::{
    self, ClockMode, SimulatorConfig, DEMO_MERCHANT_ID, DEMO_PUBLIC_ID, DEMO_SECRET_KEY,
};

#[allow(dead_code)] // a test runs `run` without `main`
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    run().await
}

/// The whole scenario; an error says what did not happen as expected.
pub async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // 1. The gateway on a manual clock (1 March 2026, 09:00 UTC); every
    //    answer of the demo merchant's payments is dropped after it is
    //    stored, every callback delivered twice. Same seed, same faults.
    let mut config = SimulatorConfig::demo();
    config.clock = ClockMode::Manual {
        start_ms: Some(1_772_355_600_000),
    };
    config.latency = Duration::from_secs(30);
    config.faults.insert(
        DEMO_PUBLIC_ID.into(),
        FaultProfile {
            answers: vec![AnswerFault::Drop],
            callbacks: vec![CallbackFault::Duplicate],
            ..FaultProfile::new(7, 100)
        },
    );
    let gateway = simulator::start(config, "127.0.0.1:0".parse()?).await?;

    // 2. The merchant's callback endpoint: verifies the raw body, and its
    //    replay guard lets each (order, status) through once.
    let secret = SecretKey::new(DEMO_SECRET_KEY);
    let handled = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&handled);
    let app = callback_router(
        "/callback",
        SigningKey::new(&secret),
        Arc::new(ReplayGuard::new()),
        move |_: PaymentCallback| {
            let counter = Arc::clone(&counter);
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                Ok::<(), &'static str>(())
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let callback_url = format!("http://{}/callback", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    // 3. The client, with its default recovery: replay the same bytes,
    //    then ask `status`.
    let client = GatewayClient::new(ClientConfig::new(
        BrandProfile::new("simulator", gateway.base_url()),
        Credentials {
            public_id: DEMO_PUBLIC_ID.into(),
            merchant_id: DEMO_MERCHANT_ID.into(),
            secret_key: secret,
        },
    ))?;
    let reply = client
        .payment_c2b(
            PaymentC2bRequest::new(
                "",
                "2250705145655",
                "order-clock-faults-1",
                "1100.00".parse()?,
                Currency::Xof,
                2303,
            )
            .with_country(Country::Ci)
            .with_callback_url(callback_url),
        )
        .await?;
    println!(
        "every answer dropped, yet resolved: {:?}, transaction {}, status {}",
        reply.resolution,
        reply.transaction_id,
        reply.status.code()
    );
    if !matches!(reply.resolution, Resolution::ByStatus { .. }) {
        return Err(format!(
            "expected a resolution by status, got {:?}",
            reply.resolution
        )
        .into());
    }

    // 4. Nothing happens until the clock moves: then the outcome, and the
    //    callback twice.
    let state = gateway.state().clone();
    let before = state.callback_attempts(None).len();
    state.clock().advance(Duration::from_secs(30)).await;
    let log = state.callback_attempts(None);
    println!(
        "callbacks before the advance: {before}; after 30 virtual seconds: {} deliveries at {}",
        log.len(),
        log.first().map_or("-", |a| a.at.as_str())
    );
    let seen = handled.load(Ordering::SeqCst);
    println!("the merchant's handler ran {seen} time(s)");
    gateway.shutdown().await;
    if before != 0 || log.len() != 2 || seen != 1 {
        return Err(format!(
            "expected 0 callbacks before, 2 deliveries after and one handled: {before}, {}, {seen}",
            log.len()
        )
        .into());
    }
    Ok(())
}
