//! A merchant takes a C2B payment against the simulator and receives its
//! verified callback, end to end over real HTTP on loopback:
//!
//! ```sh
//! cargo run -p paygate-conformance --example take_c2b_payment
//! ```
//!
//! Against a running `paygate simulate` (or a brand's sandbox), the client
//! part is the same: only the base URL and the credentials change.

use std::sync::Arc;
use std::time::Duration;

use paygate::gateway::callback::axum_handler::callback_router;
use paygate::gateway::callback::ReplayGuard;
use paygate::gateway::client::{BrandProfile, ClientConfig, Credentials, GatewayClient};
use paygate::gateway::{Country, Currency, PaymentC2bRequest, PaymentCallback};
use paygate::signing::{SecretKey, SigningKey};
use paygate_conformance::simulator::{
    self, SimulatorConfig, DEMO_MERCHANT_ID, DEMO_PUBLIC_ID, DEMO_SECRET_KEY,
};
use tokio::sync::mpsc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. The gateway: the simulator, with the demo merchant.
    let gateway = simulator::start(SimulatorConfig::demo(), "127.0.0.1:0".parse()?).await?;
    println!("gateway simulator at {}", gateway.base_url());

    // 2. The merchant's callback endpoint: answers 200 only once the
    //    signature over the raw body is verified; each (order, status) once.
    let secret = SecretKey::new(DEMO_SECRET_KEY);
    let (tx, mut callbacks) = mpsc::unbounded_channel::<PaymentCallback>();
    let app = callback_router(
        "/payments/callback",
        SigningKey::new(&secret),
        Arc::new(ReplayGuard::new()),
        move |callback: PaymentCallback| {
            let tx = tx.clone();
            async move { tx.send(callback).map_err(|_| "merchant shutting down") }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let callback_url = format!("http://{}/payments/callback", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    // 3. The client: brand profile (base URL + provider table) and credentials.
    let client = GatewayClient::new(ClientConfig::new(
        BrandProfile::new("simulator", gateway.base_url()),
        Credentials {
            public_id: DEMO_PUBLIC_ID.into(),
            merchant_id: DEMO_MERCHANT_ID.into(),
            secret_key: secret,
        },
    ))?;

    // 4. The payment: MTN Ivory Coast (provider 2303). The client checks it
    //    against the provider rules, fills merchant_id and signature, sends.
    let order_id = format!("order-{}", std::process::id());
    let response = client
        .payment_c2b(
            PaymentC2bRequest::new(
                "",
                "2250705145655",
                &order_id,
                "1100.00".parse()?,
                Currency::Xof,
                2303,
            )
            .with_country(Country::Ci)
            .with_callback_url(callback_url),
        )
        .await?;
    println!(
        "accepted: order {} transaction {} status {}",
        response.order_id,
        response.transaction_id,
        response.status.code()
    );

    // 5. The verified callback with the final status.
    let callback = tokio::time::timeout(Duration::from_secs(10), callbacks.recv())
        .await?
        .ok_or("callback channel closed")?;
    println!(
        "callback verified: order {} status {} amount {}",
        callback.order_id,
        callback.status.code(),
        callback.amount
    );
    assert_eq!(callback.order_id, order_id);
    gateway.shutdown().await;
    Ok(())
}
