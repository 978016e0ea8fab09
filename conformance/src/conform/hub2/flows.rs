//! HUB2 payment flows with a next action or another payment method: OTP
//! (confirmed, wrong, given up front), redirection, USSD, and bank
//! transfers with their unique references.

use paygate::hub2::models::{
    AttemptPaymentRequest, AuthenticatePaymentRequest, NextActionType, PaymentIntentStatus,
    PaymentMethod,
};
use serde_json::json;

use super::context::Hub2Ctx;
use super::facts::country_currency;
use super::support::{ensure, expect_final, msisdn_for};

/// OTP flow: action_required with an `otp` nextAction, then `code`
/// decides the outcome.
pub(super) async fn otp(
    ctx: &Hub2Ctx,
    code: &str,
    expected: PaymentIntentStatus,
) -> Result<(), String> {
    let intent = ctx.intent(200, "XOF").await?;
    ctx.attempt(&intent, "CI", "orange", &msisdn_for("CI", "11"), None)
        .await
        .map_err(|e| format!("attemptPayment: {e}"))?;
    let waiting = ctx.wait_action(&intent.id).await?;
    let action = waiting
        .payments
        .last()
        .and_then(|p| p.next_action.clone())
        .ok_or("action_required without nextAction")?;
    ensure(
        action.r#type == NextActionType::Otp && action.message.starts_with("Mode Sandbox"),
        format!("nextAction is {} {:?}", action.r#type, action.message),
    )?;
    ctx.payments
        .authenticate_payment(
            &intent.id,
            &AuthenticatePaymentRequest::new(intent.token.clone(), code),
        )
        .await
        .map_err(|e| format!("authenticatePayment: {e}"))?;
    expect_final(&ctx.wait(&intent.id).await?, expected)
}

/// OTP given up front in `mobileMoney.otp`: successful without a next
/// action.
pub(super) async fn otp_up_front(ctx: &Hub2Ctx) -> Result<(), String> {
    let intent = ctx.intent(200, "XOF").await?;
    ctx.attempt(
        &intent,
        "CI",
        "orange",
        &msisdn_for("CI", "11"),
        Some("4321"),
    )
    .await
    .map_err(|e| format!("attemptPayment: {e}"))?;
    let done = ctx.wait(&intent.id).await?;
    expect_final(&done, PaymentIntentStatus::Successful)
}

/// Redirection flow: opening the page of the `redirection` nextAction
/// completes the payment.
pub(super) async fn redirection(ctx: &Hub2Ctx) -> Result<(), String> {
    let intent = ctx.intent(200, "XOF").await?;
    ctx.attempt(&intent, "SN", "wave", &msisdn_for("SN", "12"), None)
        .await
        .map_err(|e| format!("attemptPayment: {e}"))?;
    let waiting = ctx.wait_action(&intent.id).await?;
    let action = waiting
        .payments
        .last()
        .and_then(|p| p.next_action.clone())
        .ok_or("action_required without nextAction")?;
    ensure(
        action.r#type == NextActionType::Redirection,
        format!("nextAction is {}, not redirection", action.r#type),
    )?;
    let url = action
        .data
        .map(|d| d.url)
        .ok_or("redirection without data.url")?;
    let page = ctx
        .http
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    ensure(
        page.status().is_success(),
        format!("{url}: HTTP {}", page.status()),
    )?;
    expect_final(
        &ctx.wait(&intent.id).await?,
        PaymentIntentStatus::Successful,
    )
}

/// USSD flow: action_required with a `ussd` nextAction and its message,
/// then successful.
pub(super) async fn ussd(ctx: &Hub2Ctx) -> Result<(), String> {
    let intent = ctx.intent(200, "XOF").await?;
    ctx.attempt(&intent, "CI", "mtn", &msisdn_for("CI", "13"), None)
        .await
        .map_err(|e| format!("attemptPayment: {e}"))?;
    let waiting = ctx.wait_action(&intent.id).await?;
    ensure(
        waiting
            .payments
            .last()
            .and_then(|p| p.next_action.as_ref())
            .is_some_and(|a| a.r#type == NextActionType::Ussd && !a.message.is_empty()),
        "action_required without a ussd nextAction and message".into(),
    )?;
    expect_final(
        &ctx.wait(&intent.id).await?,
        PaymentIntentStatus::Successful,
    )
}

/// Two bank-transfer payments in `country`: each carries bank details, the
/// control API settles them, and their references differ.
pub(super) async fn bank_transfer(ctx: &Hub2Ctx, country: &str) -> Result<(), String> {
    let currency = country_currency(country).unwrap_or("XOF");
    let mut references = Vec::new();
    for _ in 0..2 {
        let intent = ctx.intent(5000, currency).await?;
        let answer = ctx
            .payments
            .attempt_payment(
                &intent.id,
                &AttemptPaymentRequest::new(
                    intent.token.clone(),
                    PaymentMethod::BankTransfer,
                    country,
                ),
            )
            .await
            .map_err(|e| format!("attemptPayment: {e}"))?;
        let details = answer
            .payments
            .last()
            .and_then(|p| p.bank_transfer_details.clone())
            .ok_or("a bank_transfer payment without bankTransferDetails")?;
        ensure(!details.reference.is_empty(), "empty bank reference".into())?;
        references.push(details.reference);
        let raw = ctx
            .control(
                &format!("/payment-intents/{}/outcome", intent.id),
                &json!({"status": PaymentIntentStatus::Successful.as_str()}),
            )
            .await?;
        ensure(
            raw.status == 200,
            format!("forcing the outcome: {}", raw.describe()),
        )?;
        expect_final(
            &ctx.wait(&intent.id).await?,
            PaymentIntentStatus::Successful,
        )?;
    }
    ensure(
        references[0] != references[1],
        format!("two bank transfers share the reference {}", references[0]),
    )
}
