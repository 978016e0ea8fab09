//! A merchant takes a HUB2 mobile-money payment with an OTP against the
//! simulator, and receives the verified webhook, end to end over real HTTP
//! on loopback:
//!
//! ```sh
//! cargo run -p paygate-conformance --example hub2_otp_payment
//! ```
//!
//! Against HUB2 itself only the base URL and the credentials change.

use std::time::Duration;

use paygate::hub2::models::{
    AttemptPaymentRequest, AuthenticatePaymentRequest, Country, CreatePaymentIntentRequest,
    CreateWebhookRequest, Currency, MobileMoneyDetails, PaymentIntentStatus, PaymentMethod,
    Provider, WebhookEvent, WebhookEventType,
};
use paygate::hub2::webhook::axum_handler::webhook_router;
use paygate::hub2::webhook::{WebhookSecret, WebhookSecrets};
use paygate::hub2::{Environment, Hub2Client, Hub2Config, Hub2PaymentClient};
use paygate_conformance::simulator::hub2::{
    DEMO_HUB2_MERCHANT_ID, DEMO_HUB2_SANDBOX_KEY, DEMO_HUB2_WEBHOOK_SECRET,
};
use paygate_conformance::simulator::{self, SimulatorConfig};
use tokio::sync::mpsc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. HUB2: the simulator, with the demo HUB2 merchant.
    let sim = simulator::start(SimulatorConfig::demo(), "127.0.0.1:0".parse()?).await?;
    let hub2_url = format!("{}/hub2", sim.base_url());
    println!("HUB2 simulator at {hub2_url}");

    // 2. The merchant's webhook endpoint: 200 only once Hub2-Signature is
    //    verified over the raw body (current secret, or the previous one
    //    during 24 h after a rotation).
    let secrets = WebhookSecrets::new(WebhookSecret::new(DEMO_HUB2_WEBHOOK_SECRET));
    let (tx, mut events) = mpsc::unbounded_channel::<WebhookEvent>();
    let app = webhook_router("/hub2/webhook", secrets, move |event: WebhookEvent| {
        let tx = tx.clone();
        async move { tx.send(event).map_err(|_| "merchant shutting down") }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let webhook_url = format!("http://{}/hub2/webhook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    // 3. The merchant's server: ApiKey + MerchantId + Environment.
    let mut config = Hub2Config::new(
        hub2_url.clone(),
        DEMO_HUB2_SANDBOX_KEY,
        DEMO_HUB2_MERCHANT_ID,
        Environment::Sandbox,
    );
    config.poll.initial_delay = Duration::from_millis(100);
    config.poll.max_delay = Duration::from_millis(500);
    let hub2 = Hub2Client::new(config)?;
    let webhook = hub2
        .create_webhook(
            &CreateWebhookRequest::new(webhook_url, vec![WebhookEventType::PaymentIntentSucceeded])
                .with_description("pay-in notifications"),
        )
        .await?;
    println!("webhook {} registered", webhook.id);

    // 4. The intent, created on the merchant's server; id and token go to
    //    the customer's device.
    let intent = hub2
        .create_payment_intent(&CreatePaymentIntentRequest::new(
            "customer-5531",
            format!("order-{}", std::process::id()),
            200,
            Currency::Xof,
        ))
        .await?;
    println!("intent {} {}", intent.id, intent.status);

    // 5. The customer's device attempts the payment with the token (no API
    //    key): Orange Money Côte d'Ivoire. In the simulator a number ending
    //    in 11 asks for an OTP.
    let device = Hub2PaymentClient::new(&hub2_url, Duration::from_secs(30))?;
    let attempted = device
        .attempt_payment(
            &intent.id,
            &AttemptPaymentRequest::new(
                intent.token.clone(),
                PaymentMethod::MobileMoney,
                Country::Ci,
            )
            .with_provider(Provider::Orange)
            .with_mobile_money(MobileMoneyDetails::new("0700000011")),
        )
        .await?;
    println!("payment attempted: intent {}", attempted.status);

    // 6. Poll while processing (allowed) until the OTP is asked for.
    let waiting = loop {
        let status = hub2.get_payment_intent_status(&intent.id).await?;
        if status.status == PaymentIntentStatus::ActionRequired {
            break hub2.get_payment_intent(&intent.id).await?;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    if let Some(action) = waiting.payments.last().and_then(|p| p.next_action.as_ref()) {
        println!("action required ({}): {}", action.r#type, action.message);
    }

    // 7. The customer types the code; the device sends it with the token.
    device
        .authenticate_payment(
            &intent.id,
            &AuthenticatePaymentRequest::new(intent.token.clone(), "1234"),
        )
        .await?;
    let done = hub2
        .wait_for_payment_intent(&intent.id, Duration::from_secs(30))
        .await?;
    println!("final: intent {} {}", done.id, done.status);

    // 8. The verified webhook.
    let event = tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await?
        .ok_or("no webhook")?;
    println!(
        "webhook verified: {} {} {} {} {}",
        event.r#type,
        event.data.id,
        event.data.status,
        event.data.amount.unwrap_or_default(),
        event
            .data
            .currency
            .map(|c| c.to_string())
            .unwrap_or_default()
    );
    sim.shutdown().await;
    Ok(())
}
