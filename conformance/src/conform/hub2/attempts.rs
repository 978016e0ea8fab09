//! HUB2 cases about the payment attempts of one intent: a new attempt after
//! a failed one (HUB2: "more than one payment may be attempted for one
//! `PaymentIntent`"), none while one is in progress, and the fee each
//! attempt carries (the simulator's model, rate from `GET /_sim/fees`).

use paygate::hub2::models::{
    AuthenticatePaymentRequest, NextActionType, PaymentIntent, PaymentIntentStatus, PaymentStatus,
};
use serde_json::json;

use super::context::{Hub2Ctx, Raw};
use super::support::{ensure, expect_final, msisdn_for};

/// The statuses of the intent's attempts, oldest first.
fn statuses(intent: &PaymentIntent) -> Vec<PaymentStatus> {
    intent.payments.iter().map(|p| p.status.clone()).collect()
}

fn expect_statuses(
    intent: &PaymentIntent,
    wanted: &[PaymentStatus],
    when: &str,
) -> Result<(), String> {
    let got = statuses(intent);
    ensure(
        got == wanted,
        format!(
            "{when}: intent {} has attempts {got:?}, expected {wanted:?}",
            intent.id
        ),
    )
}

/// A mobile-money attempt in CI with Orange, sent raw (to read a refusal's
/// `Error` body).
async fn attempt_raw(ctx: &Hub2Ctx, intent: &PaymentIntent, suffix: &str) -> Result<Raw, String> {
    let body = json!({"token": intent.token, "paymentMethod": "mobile_money", "country": "CI",
                      "provider": "orange", "mobileMoney": {"msisdn": msisdn_for("CI", suffix)}});
    ctx.raw(
        "POST",
        &format!("/payment-intents/{}/payments", intent.id),
        None,
        None,
        Some(&body),
    )
    .await
}

async fn authenticate(
    ctx: &Hub2Ctx,
    intent: &PaymentIntent,
    code: &str,
) -> Result<PaymentIntent, paygate::hub2::Hub2Error> {
    ctx.payments
        .authenticate_payment(
            &intent.id,
            &AuthenticatePaymentRequest::new(intent.token.clone(), code),
        )
        .await
}

/// A second attempt after a failed one: taken, the intent follows it, both
/// attempts stay in `payments` in order; then no third one.
pub(super) async fn retry_after_failure(ctx: &Hub2Ctx) -> Result<(), String> {
    let intent = ctx.intent(200, "XOF").await?;
    ctx.attempt(&intent, "CI", "orange", &msisdn_for("CI", "01"), None)
        .await
        .map_err(|e| format!("attemptPayment: {e}"))?;
    let failed = ctx.wait(&intent.id).await?;
    expect_final(&failed, PaymentIntentStatus::Failed)?;
    expect_statuses(&failed, &[PaymentStatus::Failed], "after the first attempt")?;
    let first_id = failed.payments[0].id.clone();

    let second = ctx
        .attempt(&intent, "CI", "orange", &msisdn_for("CI", "99"), None)
        .await
        .map_err(|e| format!("a second attempt after a failed one: {e}"))?;
    ensure(
        second.status == PaymentIntentStatus::Processing,
        format!(
            "after the second attempt the intent is {}, not processing",
            second.status
        ),
    )?;
    expect_statuses(
        &second,
        &[PaymentStatus::Failed, PaymentStatus::Pending],
        "after the second attempt",
    )?;
    ensure(
        second.payments[0].id == first_id && second.payments[1].id != first_id,
        format!(
            "the attempts are not the first one then a new one: {} then {}",
            second.payments[0].id, second.payments[1].id
        ),
    )?;

    let done = ctx.wait(&intent.id).await?;
    expect_final(&done, PaymentIntentStatus::Successful)?;
    expect_statuses(
        &done,
        &[PaymentStatus::Failed, PaymentStatus::Successful],
        "at the end",
    )?;
    ensure(
        done.payments[0].id == first_id && done.payments[1].id == second.payments[1].id,
        "the attempts changed ids or order".into(),
    )?;
    attempt_raw(ctx, &intent, "99")
        .await?
        .expect_error(409)
        .map_err(|e| format!("an attempt on a successful intent: {e}"))
}

/// A wrong OTP fails the first attempt; the second attempt asks for its
/// own OTP, and the code goes to it.
pub(super) async fn retry_after_wrong_otp(ctx: &Hub2Ctx) -> Result<(), String> {
    let intent = ctx.intent(200, "XOF").await?;
    ctx.attempt(&intent, "CI", "orange", &msisdn_for("CI", "11"), None)
        .await
        .map_err(|e| format!("attemptPayment: {e}"))?;
    ctx.wait_action(&intent.id).await?;
    authenticate(ctx, &intent, "0000")
        .await
        .map_err(|e| format!("authenticatePayment 0000: {e}"))?;
    expect_final(&ctx.wait(&intent.id).await?, PaymentIntentStatus::Failed)?;

    ctx.attempt(&intent, "CI", "orange", &msisdn_for("CI", "11"), None)
        .await
        .map_err(|e| format!("a second attempt after a wrong OTP: {e}"))?;
    let waiting = ctx.wait_action(&intent.id).await?;
    expect_statuses(
        &waiting,
        &[PaymentStatus::Failed, PaymentStatus::ActionRequired],
        "waiting for the second OTP",
    )?;
    ensure(
        waiting.payments[1]
            .next_action
            .as_ref()
            .is_some_and(|a| a.r#type == NextActionType::Otp)
            && waiting.payments[0].next_action.is_none(),
        "the otp nextAction is not on the second attempt only".into(),
    )?;
    let accepted = authenticate(ctx, &intent, "1234")
        .await
        .map_err(|e| format!("authenticatePayment 1234: {e}"))?;
    expect_statuses(
        &accepted,
        &[PaymentStatus::Failed, PaymentStatus::Processing],
        "after the second OTP",
    )?;
    let done = ctx.wait(&intent.id).await?;
    expect_final(&done, PaymentIntentStatus::Successful)?;
    expect_statuses(
        &done,
        &[PaymentStatus::Failed, PaymentStatus::Successful],
        "at the end",
    )
}

/// No new attempt while one is in progress (409, the `Error` body); the
/// control API fails it, then a new attempt is taken.
pub(super) async fn no_attempt_while_pending(ctx: &Hub2Ctx) -> Result<(), String> {
    let intent = ctx.intent(200, "XOF").await?;
    // `03` stays processing until forced.
    ctx.attempt(&intent, "CI", "orange", &msisdn_for("CI", "03"), None)
        .await
        .map_err(|e| format!("attemptPayment: {e}"))?;
    attempt_raw(ctx, &intent, "99")
        .await?
        .expect_error(409)
        .map_err(|e| format!("an attempt while one is processing: {e}"))?;
    let forced = ctx
        .control(
            &format!("/payment-intents/{}/outcome", intent.id),
            &json!({"status": PaymentIntentStatus::Failed.as_str()}),
        )
        .await?;
    ensure(
        forced.status == 200,
        format!("forcing the outcome: {}", forced.describe()),
    )?;
    let again = attempt_raw(ctx, &intent, "99").await?;
    ensure(
        again.status == 201,
        format!("an attempt after the forced failure: {}", again.describe()),
    )?;
    let done = ctx.wait(&intent.id).await?;
    expect_final(&done, PaymentIntentStatus::Successful)?;
    expect_statuses(
        &done,
        &[PaymentStatus::Failed, PaymentStatus::Successful],
        "at the end",
    )
}

/// The fee the simulator's documented model gives: `amount × rate_bps /
/// 10 000`, nearest unit, halves up (computed here independently).
fn expected_fee(amount: i64, rate_bps: i64) -> Option<i64> {
    let exact = i128::from(amount).checked_mul(i128::from(rate_bps))?;
    i64::try_from(exact.checked_add(5_000)? / 10_000).ok()
}

fn expect_fees(intent: &PaymentIntent, fee: i64, when: &str) -> Result<(), String> {
    for payment in &intent.payments {
        let fees = payment.fees.as_deref().unwrap_or_default();
        let ok = matches!(fees, [only] if only.amount == fee && only.currency == intent.currency);
        ensure(
            ok,
            format!(
                "{when}: payment {} has fees {fees:?}, expected one fee of {fee} {}",
                payment.id, intent.currency
            ),
        )?;
    }
    Ok(())
}

/// Every attempt carries one fee at the rate `GET /_sim/fees` gives for the
/// merchant, in the intent's currency, from its creation on; a failed
/// attempt keeps its fee, the next attempt has its own.
pub(super) async fn fees(ctx: &Hub2Ctx) -> Result<(), String> {
    let model = ctx.raw("GET", "/_sim/fees", None, None, None).await?;
    ensure(
        model.status == 200,
        format!("GET /_sim/fees: {}", model.describe()),
    )?;
    let rate = model.body["fees"]
        .as_array()
        .and_then(|list| {
            list.iter()
                .find(|m| m["merchantId"] == ctx.merchant_id.as_str())
        })
        .and_then(|m| m["rateBps"].as_i64())
        .ok_or_else(|| {
            format!(
                "GET /_sim/fees names no rate for {}: {}",
                ctx.merchant_id,
                model.describe()
            )
        })?;
    // An amount whose fee needs rounding at most rates.
    let amount = 1025;
    let fee = expected_fee(amount, rate).ok_or("the fee overflows")?;
    let intent = ctx.intent(amount, "XOF").await?;
    let attempted = ctx
        .attempt(&intent, "CI", "orange", &msisdn_for("CI", "01"), None)
        .await
        .map_err(|e| format!("attemptPayment: {e}"))?;
    expect_fees(&attempted, fee, "in the attempt's answer")?;
    let failed = ctx.wait(&intent.id).await?;
    expect_final(&failed, PaymentIntentStatus::Failed)?;
    expect_fees(&failed, fee, "after the failed attempt")?;
    ctx.attempt(&intent, "CI", "orange", &msisdn_for("CI", "99"), None)
        .await
        .map_err(|e| format!("a second attempt: {e}"))?;
    let done = ctx.wait(&intent.id).await?;
    expect_final(&done, PaymentIntentStatus::Successful)?;
    ensure(
        done.payments.len() == 2,
        format!("{} attempts, expected 2", done.payments.len()),
    )?;
    expect_fees(&done, fee, "at the end")
}
