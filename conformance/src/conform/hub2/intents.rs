//! HUB2 cases about one mobile-money payment on an intent: successful on
//! every served pair, failed for the documented failure number, and the
//! polling throttle on an intent that is not in progress.

use paygate::hub2::models::PaymentIntentStatus;
use paygate::hub2::Hub2Error;

use super::context::Hub2Ctx;
use super::facts::country_currency;
use super::support::{ensure, expect_final, msisdn_for};

/// A mobile-money payment on a served pair: processing with one attempt,
/// then successful.
pub(super) async fn pay(ctx: &Hub2Ctx, country: &str, provider: &str) -> Result<(), String> {
    let currency = country_currency(country).unwrap_or("XOF");
    let intent = ctx.intent(200, currency).await?;
    let attempted = ctx
        .attempt(&intent, country, provider, &msisdn_for(country, "99"), None)
        .await
        .map_err(|e| format!("attemptPayment: {e}"))?;
    ensure(
        attempted.status == PaymentIntentStatus::Processing && attempted.payments.len() == 1,
        format!(
            "after the attempt the intent is {} with {} payment(s)",
            attempted.status,
            attempted.payments.len()
        ),
    )?;
    expect_final(
        &ctx.wait(&intent.id).await?,
        PaymentIntentStatus::Successful,
    )
}

/// The documented failure number: the intent ends failed.
pub(super) async fn payment_fails(ctx: &Hub2Ctx) -> Result<(), String> {
    let intent = ctx.intent(200, "XOF").await?;
    ctx.attempt(&intent, "CI", "orange", &msisdn_for("CI", "01"), None)
        .await
        .map_err(|e| format!("attemptPayment: {e}"))?;
    expect_final(&ctx.wait(&intent.id).await?, PaymentIntentStatus::Failed)
}

/// Reading the status of an intent that is not in progress again and
/// again: 429 (the spec's Error) with a numeric Retry-After, not on the
/// first read.
pub(super) async fn poll_final_intent(ctx: &Hub2Ctx) -> Result<(), String> {
    // A fresh intent is payment_required: not a status to poll.
    let intent = ctx.intent(200, "XOF").await?;
    for attempt in 1..=20 {
        match ctx.client.get_payment_intent_status(&intent.id).await {
            Ok(_) => {}
            Err(Hub2Error::RateLimited { .. }) => {
                // The raw answer: the spec's Error and Retry-After.
                let raw = ctx
                    .raw(
                        "GET",
                        &format!("/payment-intents/{}/status", intent.id),
                        Some(&ctx.api_key),
                        None,
                        None,
                    )
                    .await?;
                raw.expect_error(429)?;
                ensure(
                    raw.retry_after
                        .as_deref()
                        .and_then(|r| r.parse::<u64>().ok())
                        .is_some(),
                    format!("429 without a numeric Retry-After: {:?}", raw.retry_after),
                )?;
                return ensure(attempt > 1, "throttled on the first read".into());
            }
            Err(e) => return Err(format!("read {attempt}: {e}")),
        }
    }
    Err("20 reads of a payment_required intent were never throttled".into())
}
