//! How each kind of case is run. Every check returns `Err(message)` with
//! the first thing that did not hold.

use paygate::client::{ClientError, FINAL_STATUSES};
use paygate::gateway::{Country, Currency, DepositRequest, PaymentResponse, WithdrawalRequest};
use paygate::money::Amount;
use std::time::Duration;

use paygate::rules::{Direction, DirectionRule, Flow, ProviderRule, ProviderTable};
use paygate::signing::{sign_json, SecretKey, SigningKey};
use paygate::validate::Rule;
use serde_json::Value;

use super::cases::{valid_payment, CaseKind, MalformedBody, PaymentSpec, TEST_PROVIDER};
use super::receiver::{verify_body, Received};
use super::target::{Ctx, RawAnswer};
use crate::simulator::SimulatorConfig;

type Check = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

/// Runs one case.
pub(crate) async fn run_case(ctx: &Ctx, kind: &CaseKind) -> Check {
    match kind {
        CaseKind::SpecError(message) => Err(message.clone()),
        CaseKind::Hub2(case) => super::hub2::run(ctx.hub2.as_ref(), case).await,
        CaseKind::Accept { payment, flow } => accept(ctx, payment, *flow).await,
        CaseKind::Reject {
            payment,
            rule,
            field,
        } => reject(ctx, payment, *rule, field).await,
        CaseKind::BadOrderId { order_id, rule } => bad_order_id(ctx, order_id, *rule).await,
        CaseKind::OtpWrong { payment } => final_outcome(ctx, payment, 3).await,
        CaseKind::MagicOutcome { payment, status } => {
            if *status == 1 {
                stays_in_progress(ctx, payment).await
            } else {
                final_outcome(ctx, payment, *status).await
            }
        }
        CaseKind::Provider14NoCallback { payment } => provider14_no_callback(ctx, payment).await,
        CaseKind::SignatureTampered { payment } => signature_tampered(ctx, payment).await,
        CaseKind::SignatureMissing { payment } => signature_missing(ctx, payment).await,
        CaseKind::SignatureWrongKey { payment } => {
            let other = SigningKey::new(&SecretKey::new("not-the-merchant-secret-key"));
            let order = ctx.order_id();
            let body = ctx.signed_body_with(payment, &order, &other, &ctx.merchant_id)?;
            expect_error(
                ctx.post_raw(&ctx.url(payment.operation()), body).await?,
                401,
                10201,
                &[],
            )
        }
        CaseKind::WrongMerchantId { payment } => {
            let order = ctx.order_id();
            let body =
                ctx.signed_body_with(payment, &order, &ctx.key, "conformance-not-this-merchant")?;
            expect_error(
                ctx.post_raw(&ctx.url(payment.operation()), body).await?,
                401,
                10201,
                &[],
            )
        }
        CaseKind::UnknownPublicId { payment } => {
            let order = ctx.order_id();
            let body = ctx.signed_body(payment, &order)?;
            let url = ctx.url_for("conformance-unknown-public-id", payment.operation());
            expect_error(ctx.post_raw(&url, body).await?, 404, 10404, &[])
        }
        CaseKind::Malformed { variant, payment } => malformed(ctx, *variant, payment).await,
        CaseKind::IdempotentReplay { payment } => idempotent_replay(ctx, payment).await,
        CaseKind::OrderIdReuse { payment } => order_id_reuse(ctx, payment).await,
        CaseKind::CallbackSignature { payment } => callback_signature(ctx, payment).await,
        CaseKind::Redirect { payment } => redirect(ctx, payment).await,
        CaseKind::B2cConfirm {
            payment,
            own_simulator: false,
        } => b2c_confirm(ctx, payment).await,
        CaseKind::B2cConfirm {
            payment,
            own_simulator: true,
        } => b2c_confirm_own_simulator(ctx, payment).await,
        CaseKind::PosDeposit { payment } => pos_deposit(ctx, payment).await,
        CaseKind::PosWithdrawal { payment } => pos_withdrawal(ctx, payment).await,
        CaseKind::ForcedOutcome { payment, status } => forced_outcome(ctx, payment, *status).await,
    }
}

// ----- helpers --------------------------------------------------------------

async fn submit(
    ctx: &Ctx,
    payment: &PaymentSpec,
    order_id: &str,
) -> Result<PaymentResponse, String> {
    submit_raw_result(ctx, payment, order_id)
        .await?
        .map_err(|e| format!("{} {order_id} failed: {e}", payment.operation()))
}

async fn submit_raw_result(
    ctx: &Ctx,
    payment: &PaymentSpec,
    order_id: &str,
) -> Result<Result<PaymentResponse, ClientError>, String> {
    Ok(match payment.direction {
        Direction::C2b => ctx.client.payment_c2b(ctx.c2b(payment, order_id)?).await,
        Direction::B2c => ctx.client.payment_b2c(ctx.b2c(payment, order_id)?).await,
    })
}

fn to_json(response: &PaymentResponse) -> Result<Value, String> {
    serde_json::to_value(response).map_err(|e| format!("cannot re-encode the response: {e}"))
}

fn status_of(v: &Value) -> Option<i64> {
    v.get("status").and_then(Value::as_i64)
}

fn compact(v: &Value) -> String {
    let text = v.to_string();
    if text.len() > 400 {
        format!("{}...", &text[..text.floor_char_boundary_compat(400)])
    } else {
        text
    }
}

trait FloorBoundary {
    fn floor_char_boundary_compat(&self, index: usize) -> usize;
}

impl FloorBoundary for str {
    fn floor_char_boundary_compat(&self, mut index: usize) -> usize {
        index = index.min(self.len());
        while !self.is_char_boundary(index) {
            index -= 1;
        }
        index
    }
}

fn extra_str<'v>(v: &'v Value, field: &str) -> Option<&'v str> {
    v.get("extra")?
        .get(field)?
        .as_str()
        .filter(|s| !s.is_empty())
}

/// Minor units of a JSON amount (number or string), read from its text.
fn minor_units(v: &Value) -> Option<u64> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    let (major, frac) = text.split_once('.').unwrap_or((&text, ""));
    let major: u64 = major.parse().ok()?;
    let frac = frac.trim_end_matches('0');
    if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let cents: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    major.checked_mul(100)?.checked_add(cents)
}

fn expect_error(answer: RawAnswer, http: u16, code: i64, mentions: &[&str]) -> Check {
    ensure!(
        answer.status == http && answer.code() == Some(code),
        "expected HTTP {http} with result.code {code}, got {}",
        answer.describe()
    );
    let message = answer.message();
    for needle in mentions {
        ensure!(
            message.contains(needle),
            "the error message {message:?} does not mention `{needle}`"
        );
    }
    Ok(())
}

/// Polls `status` until final, visiting `extra.customer_redirect` when the
/// gateway offers one.
async fn complete(ctx: &Ctx, order_id: &str, follow_redirect: bool) -> Result<Value, String> {
    if !follow_redirect {
        let response = ctx
            .client
            .wait_for_final_status(order_id, ctx.timing.final_status)
            .await
            .map_err(|e| format!("status polling: {e}"))?;
        return to_json(&response);
    }
    let deadline = tokio::time::Instant::now() + ctx.timing.final_status;
    let mut visited = false;
    loop {
        let response = ctx
            .client
            .status(order_id)
            .await
            .map_err(|e| format!("status {order_id}: {e}"))?;
        let v = to_json(&response)?;
        if status_of(&v).is_some_and(|s| FINAL_STATUSES.contains(&s)) {
            return Ok(v);
        }
        if !visited {
            if let Some(url) = extra_str(&v, "customer_redirect") {
                let answer = ctx.get_raw(url).await?;
                ensure!(
                    (200..400).contains(&answer.status),
                    "visiting customer_redirect {url}: {}",
                    answer.describe()
                );
                visited = true;
                continue;
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "no final status before the deadline{}; last status response {}",
                if visited {
                    ""
                } else {
                    " and no extra.customer_redirect to visit"
                },
                compact(&v)
            ));
        }
        tokio::time::sleep(ctx.client.config().poll.initial_delay).await;
    }
}

/// Waits for a callback for `order_id` with `status` and checks it.
async fn expect_callback(
    ctx: &Ctx,
    order_id: &str,
    status: i64,
    operation_type: i64,
    amount: Option<Amount>,
) -> Result<Option<Received>, String> {
    let Some(receiver) = ctx.receiver.as_ref() else {
        return Ok(None);
    };
    let found = receiver
        .wait_for(order_id, ctx.timing.callback, |r| {
            r.int("status") == Some(status)
        })
        .await;
    let Some(callback) = found else {
        let got: Vec<String> = receiver
            .received(order_id)
            .iter()
            .map(|r| {
                r.json
                    .as_ref()
                    .map_or_else(|| "<not JSON>".to_owned(), compact)
            })
            .collect();
        return Err(format!(
            "no callback with status {status} for {order_id} within {:?} (received: {got:?})",
            ctx.timing.callback
        ));
    };
    if let Err(e) = &callback.verified {
        return Err(format!("the callback for {order_id} does not verify: {e}"));
    }
    ensure!(
        callback.int("operation_type") == Some(operation_type),
        "callback operation_type is {:?}, expected {operation_type}",
        callback.json.as_ref().and_then(|v| v.get("operation_type"))
    );
    if let Some(amount) = amount {
        let got = callback
            .json
            .as_ref()
            .and_then(|v| v.get("amount"))
            .and_then(minor_units);
        ensure!(
            got == Some(amount.minor()),
            "callback amount {:?} differs from the requested {amount}",
            callback.json.as_ref().and_then(|v| v.get("amount"))
        );
    }
    Ok(Some(callback))
}

fn operation_type(direction: Direction) -> i64 {
    match direction {
        Direction::C2b => 17,
        Direction::B2c => 16,
    }
}

/// Cuts `,"signature":"..."` off a serialized body; returns the body
/// without it (still a valid object).
fn strip_signature(body: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    let at = text
        .rfind(",\"signature\":")
        .ok_or("the serialized request has no signature field")?;
    Ok(format!("{}}}", &text[..at]))
}

/// Signs a raw body (without signature) over its bytes and appends the
/// signature.
fn resign(ctx: &Ctx, unsigned: &str) -> Result<Vec<u8>, String> {
    let signature =
        sign_json(&ctx.key, unsigned.as_bytes()).map_err(|e| format!("cannot sign: {e}"))?;
    let body = unsigned.strip_suffix('}').ok_or("not an object")?;
    Ok(format!("{body},\"signature\":\"{signature}\"}}").into_bytes())
}

fn replace_once(text: &str, from: &str, to: &str) -> Result<String, String> {
    ensure!(
        text.contains(from),
        "the serialized request has no `{from}`"
    );
    Ok(text.replacen(from, to, 1))
}

// ----- the checks -----------------------------------------------------------

async fn accept(ctx: &Ctx, payment: &PaymentSpec, flow: Flow) -> Check {
    let order = ctx.order_id();
    let response = submit(ctx, payment, &order).await?;
    let mut v = to_json(&response)?;
    if payment.provider_id == TEST_PROVIDER {
        return expect_provider14(&v, "the synchronous response");
    }
    if v.get("confirm_type")
        .and_then(Value::as_i64)
        .is_some_and(|c| c != 0)
    {
        // The gateway asks for a confirmation: send the same request again
        // with the confirmation data (an OTP), as a merchant would.
        v = confirm(ctx, payment, &order).await?;
    }
    let status = status_of(&v);
    ensure!(
        matches!(status, Some(0..=2)),
        "a valid payment got status {status:?}: {}",
        compact(&v)
    );
    if flow == Flow::BankTransfer {
        for field in [
            "transfer_amount",
            "account_name",
            "account_number",
            "bank_name",
        ] {
            ensure!(
                v.get("extra")
                    .and_then(|e| e.get(field))
                    .is_some_and(|x| !x.is_null()),
                "bank-transfer response lacks extra.{field}: {}",
                compact(&v)
            );
        }
    }
    let follow = matches!(flow, Flow::Redirect | Flow::PaymentPage);
    let last = complete(ctx, &order, follow).await?;
    ensure!(
        status_of(&last) == Some(2),
        "final status {:?}, expected 2 (success)",
        status_of(&last)
    );
    expect_callback(
        ctx,
        &order,
        2,
        operation_type(payment.direction),
        Some(payment.amount),
    )
    .await?;
    Ok(())
}

fn expect_provider14(v: &Value, what: &str) -> Check {
    ensure!(
        status_of(v) == Some(1),
        "{what} of provider 14 has status {:?}, expected 1: {}",
        status_of(v),
        compact(v)
    );
    let pr = v.get("provider_result");
    let code = pr.and_then(|p| p.get("code")).and_then(Value::as_i64);
    let message = pr.and_then(|p| p.get("message")).and_then(Value::as_str);
    ensure!(
        code == Some(-8888) && message == Some("Good"),
        "{what} of provider 14 has provider_result {:?}, expected {{-8888, \"Good\"}}",
        pr
    );
    Ok(())
}

async fn reject(ctx: &Ctx, payment: &PaymentSpec, rule: Rule, field: &str) -> Check {
    let order = ctx.order_id();
    // 1. The client's pre-flight refuses it without sending.
    match submit_raw_result(ctx, payment, &order).await? {
        Err(ClientError::Invalid(violations)) => {
            ensure!(
                violations
                    .0
                    .iter()
                    .any(|v| v.rule == rule && v.field == field),
                "the client refused it, but not for {rule} on `{field}`: {violations}"
            );
        }
        Err(other) => {
            return Err(format!(
                "the client did not refuse it before sending ({rule}): {other}"
            ))
        }
        Ok(response) => {
            return Err(format!(
                "the client sent it and the target accepted it (expected {rule}): {}",
                compact(&to_json(&response)?)
            ))
        }
    }
    if ctx.control_api {
        if let Some(stored) = ctx.sim_transaction(&order).await? {
            return Err(format!(
                "the client refused it but the target received it: {}",
                compact(&stored)
            ));
        }
    }
    // 2. The target refuses the same body signed and sent directly.
    let body = ctx.signed_body(payment, &order)?;
    let answer = ctx.post_raw(&ctx.url(payment.operation()), body).await?;
    expect_error(answer, 422, 10422, &[rule.as_str(), field]).map_err(|e| format!("sent raw: {e}"))
}

async fn bad_order_id(ctx: &Ctx, order_id: &str, rule: Rule) -> Check {
    let provider = ctx
        .table
        .provider(TEST_PROVIDER)
        .or_else(|| ctx.table.providers.first());
    let payment = provider
        .and_then(|p| valid_payment(&ctx.table, p, Direction::C2b))
        .ok_or("the provider table has no provider for C2B")?;
    let request = ctx.c2b(&payment, order_id)?;
    match ctx.client.payment_c2b(request).await {
        Err(ClientError::Invalid(v)) if v.has(rule) => {}
        Err(other) => {
            return Err(format!(
                "payment_c2b: expected a pre-flight refusal for {rule}, got: {other}"
            ))
        }
        Ok(_) => {
            return Err(format!(
                "payment_c2b: the client sent order id {order_id:?} ({rule})"
            ))
        }
    }
    match ctx.client.status(order_id).await {
        Err(ClientError::Invalid(v)) if v.has(rule) => Ok(()),
        Err(other) => Err(format!(
            "status: expected a pre-flight refusal for {rule}, got: {other}"
        )),
        Ok(_) => Err(format!(
            "status: the client sent order id {order_id:?} ({rule})"
        )),
    }
}

async fn final_outcome(ctx: &Ctx, payment: &PaymentSpec, expected: i64) -> Check {
    let order = ctx.order_id();
    submit(ctx, payment, &order).await?;
    let last = complete(ctx, &order, false).await?;
    ensure!(
        status_of(&last) == Some(expected),
        "final status {:?}, expected {expected}",
        status_of(&last)
    );
    expect_callback(
        ctx,
        &order,
        expected,
        operation_type(payment.direction),
        Some(payment.amount),
    )
    .await?;
    Ok(())
}

async fn stays_in_progress(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    submit(ctx, payment, &order).await?;
    tokio::time::sleep(ctx.timing.no_callback).await;
    let v = to_json(
        &ctx.client
            .status(&order)
            .await
            .map_err(|e| format!("status: {e}"))?,
    )?;
    ensure!(
        status_of(&v) == Some(1),
        "status {:?}, expected to stay 1",
        status_of(&v)
    );
    if let Some(receiver) = ctx.receiver.as_ref() {
        let got = receiver.received(&order);
        ensure!(
            got.is_empty(),
            "{} callback(s) for a payment still in progress",
            got.len()
        );
    }
    Ok(())
}

async fn provider14_no_callback(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    let v = to_json(&submit(ctx, payment, &order).await?)?;
    expect_provider14(&v, "the synchronous response")?;
    tokio::time::sleep(ctx.timing.no_callback).await;
    let v = to_json(
        &ctx.client
            .status(&order)
            .await
            .map_err(|e| format!("status: {e}"))?,
    )?;
    expect_provider14(&v, "the status response")?;
    if let Some(receiver) = ctx.receiver.as_ref() {
        let got = receiver.received(&order);
        ensure!(
            got.is_empty(),
            "provider 14 sent {} callback(s); it must send none",
            got.len()
        );
    }
    Ok(())
}

async fn signature_tampered(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    let body = String::from_utf8(ctx.signed_body(payment, &order)?).map_err(|e| e.to_string())?;
    let from = format!("\"amount\":\"{}\"", payment.amount);
    let to = format!(
        "\"amount\":\"{}\"",
        Amount::from_minor(payment.amount.minor() + 1)
    );
    let tampered = replace_once(&body, &from, &to)?;
    expect_error(
        ctx.post_raw(&ctx.url(payment.operation()), tampered.into_bytes())
            .await?,
        401,
        10201,
        &[],
    )?;
    // Nothing was stored for it: the untampered body is still accepted.
    let answer = ctx
        .post_raw(&ctx.url(payment.operation()), body.into_bytes())
        .await?;
    ensure!(
        answer.status == 200 && answer.code() == Some(0),
        "the untampered body was refused after the tampered one: {}",
        answer.describe()
    );
    Ok(())
}

async fn signature_missing(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    let body = strip_signature(&ctx.signed_body(payment, &order)?)?;
    expect_error(
        ctx.post_raw(&ctx.url(payment.operation()), body.into_bytes())
            .await?,
        401,
        10201,
        &[],
    )
}

async fn malformed(ctx: &Ctx, variant: MalformedBody, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    let signed = ctx.signed_body(payment, &order)?;
    let unsigned = strip_signature(&signed)?;
    let amount = format!("\"amount\":\"{}\"", payment.amount);
    let body: Vec<u8> = match variant {
        MalformedBody::Truncated => signed[..signed.len() / 2].to_vec(),
        MalformedBody::NotJson => b"merchant_id=demo&amount=100.00".to_vec(),
        MalformedBody::NotAnObject => b"[1,2,3]".to_vec(),
        MalformedBody::AmountAsNumber => resign(
            ctx,
            &replace_once(
                &unsigned,
                &amount,
                &format!("\"amount\":{}", payment.amount),
            )?,
        )?,
        MalformedBody::AmountOneDecimal => {
            let one = format!("{}", payment.amount);
            let one = &one[..one.len() - 1];
            resign(
                ctx,
                &replace_once(&unsigned, &amount, &format!("\"amount\":\"{one}\""))?,
            )?
        }
        MalformedBody::MissingOrderId => resign(
            ctx,
            &replace_once(&unsigned, &format!("\"order_id\":\"{order}\","), "")?,
        )?,
    };
    let answer = ctx.post_raw(&ctx.url(payment.operation()), body).await?;
    ensure!(
        answer.status < 500,
        "a malformed body caused a server error: {}",
        answer.describe()
    );
    let mentions: Vec<&str> = variant.path().into_iter().collect();
    expect_error(answer, 400, 10400, &mentions)
}

async fn idempotent_replay(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    let body = ctx.signed_body(payment, &order)?;
    let url = ctx.url(payment.operation());
    let first = ctx.post_raw(&url, body.clone()).await?;
    ensure!(
        first.status == 200 && first.code() == Some(0),
        "the first request was refused: {}",
        first.describe()
    );
    let second = ctx.post_raw(&url, body).await?;
    ensure!(
        second.status == first.status && second.body == first.body,
        "the replay's answer differs:\n  first:  {}\n  replay: {}",
        first.describe(),
        second.describe()
    );
    // The client sends the very same bytes, so it must decode the same answer.
    let via_client = to_json(&submit(ctx, payment, &order).await?)?;
    let first_json = first.json().ok_or("the first answer is not JSON")?;
    ensure!(
        via_client.get("transaction_id") == first_json.get("transaction_id")
            && via_client.get("status") == first_json.get("status"),
        "the client's replay decoded another answer: {} vs {}",
        compact(&via_client),
        compact(&first_json)
    );
    Ok(())
}

async fn order_id_reuse(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    let url = ctx.url(payment.operation());
    let first_body = ctx.signed_body(payment, &order)?;
    let first = ctx.post_raw(&url, first_body.clone()).await?;
    ensure!(
        first.status == 200 && first.code() == Some(0),
        "the first request was refused: {}",
        first.describe()
    );
    let other = payment.with_amount(Amount::from_minor(payment.amount.minor() + 10_000));
    let second = ctx.post_raw(&url, ctx.signed_body(&other, &order)?).await?;
    expect_error(second, 409, 10409, &[])
        .map_err(|e| format!("same order_id, other amount: {e}"))?;
    let again = ctx.post_raw(&url, first_body).await?;
    ensure!(
        again.body == first.body,
        "after the conflict, the original body gets another answer: {}",
        again.describe()
    );
    Ok(())
}

async fn callback_signature(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    submit(ctx, payment, &order).await?;
    let callback = expect_callback(
        ctx,
        &order,
        2,
        operation_type(payment.direction),
        Some(payment.amount),
    )
    .await?
    .ok_or("no callback receiver")?;
    let raw =
        std::str::from_utf8(&callback.raw).map_err(|e| format!("callback is not UTF-8: {e}"))?;
    verify_body(&ctx.key, raw.as_bytes())
        .map_err(|e| format!("the received callback does not verify: {e}"))?;
    let tampered = replace_once(raw, &format!("\"{order}\""), &format!("\"{order}x\""))?;
    ensure!(
        verify_body(&ctx.key, tampered.as_bytes()).is_err(),
        "a callback with a changed order_id still verifies"
    );
    let status_changed = raw.replacen("\"status\":2", "\"status\":3", 1);
    ensure!(
        status_changed == raw || verify_body(&ctx.key, status_changed.as_bytes()).is_err(),
        "a callback with a changed status still verifies"
    );
    let other_key = SigningKey::new(&SecretKey::new("not-the-merchant-secret-key"));
    ensure!(
        verify_body(&other_key, raw.as_bytes()).is_err(),
        "the callback verifies under another key"
    );
    Ok(())
}

async fn redirect(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    submit(ctx, payment, &order).await?;
    let v = to_json(
        &ctx.client
            .status(&order)
            .await
            .map_err(|e| format!("status: {e}"))?,
    )?;
    let url = extra_str(&v, "customer_redirect")
        .ok_or_else(|| {
            format!(
                "the status response has no extra.customer_redirect: {}",
                compact(&v)
            )
        })?
        .to_owned();
    tokio::time::sleep(ctx.timing.no_callback).await;
    let v = to_json(
        &ctx.client
            .status(&order)
            .await
            .map_err(|e| format!("status: {e}"))?,
    )?;
    ensure!(
        !status_of(&v).is_some_and(|s| FINAL_STATUSES.contains(&s)),
        "the payment became final ({:?}) before the customer visited the redirect page",
        status_of(&v)
    );
    let answer = ctx.get_raw(&url).await?;
    ensure!(
        (200..400).contains(&answer.status),
        "visiting {url}: {}",
        answer.describe()
    );
    let last = complete(ctx, &order, false).await?;
    ensure!(
        status_of(&last) == Some(2),
        "final status {:?} after the redirect, expected 2",
        status_of(&last)
    );
    expect_callback(
        ctx,
        &order,
        2,
        operation_type(payment.direction),
        Some(payment.amount),
    )
    .await?;
    Ok(())
}

/// The second request of a payment whose first answer had a non-zero
/// `confirm_type`: the same request with `extra.otp`.
async fn confirm(ctx: &Ctx, payment: &PaymentSpec, order_id: &str) -> Result<Value, String> {
    let confirmed = payment.with_extra("otp", "1234");
    let response = match payment.direction {
        Direction::B2c => {
            ctx.client
                .confirm_payment_b2c(ctx.b2c(payment, order_id)?, "1234")
                .await
        }
        Direction::C2b => ctx.client.payment_c2b(ctx.c2b(&confirmed, order_id)?).await,
    };
    let v = to_json(
        &response
            .map_err(|e| format!("the confirmation (same request with extra.otp) failed: {e}"))?,
    )?;
    ensure!(
        v.get("confirm_type").and_then(Value::as_i64).unwrap_or(0) == 0,
        "the confirmation still asks for a confirmation: {}",
        compact(&v)
    );
    Ok(v)
}

/// Runs [`b2c_confirm`] against a simulator of its own whose provider
/// table gives the payment's provider a B2C OTP flow.
async fn b2c_confirm_own_simulator(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let providers: Vec<ProviderRule> = ctx
        .table
        .providers
        .iter()
        .map(|p| {
            let mut p = *p;
            if p.id == payment.provider_id {
                p.b2c = p.b2c.map(|rule| DirectionRule {
                    flow: Flow::Otp,
                    ..rule
                });
            }
            p
        })
        .collect();
    // A few hundred bytes, once per run: leaked because the table type
    // holds `'static` slices.
    let table = ProviderTable {
        countries: ctx.table.countries,
        providers: Vec::leak(providers),
    };
    let mut config = SimulatorConfig::demo();
    config.latency = Duration::from_millis(20);
    config.providers = table;
    let (own, running) = super::runner::embedded(config, table)
        .await
        .map_err(|e| e.to_string())?;
    let result = b2c_confirm(&own, payment).await;
    running.shutdown().await;
    if let Some(receiver) = own.receiver {
        receiver.shutdown().await;
    }
    result.map_err(|e| {
        format!(
            "(own simulator, {} B2C as OTP flow) {e}",
            payment.provider_id
        )
    })
}

async fn b2c_confirm(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    let first = to_json(&submit(ctx, payment, &order).await?)?;
    ensure!(
        status_of(&first) == Some(0)
            && first.get("confirm_type").and_then(Value::as_i64) == Some(1),
        "a payout without OTP should answer status 0 with confirm_type 1: {}",
        compact(&first)
    );
    let second = confirm(ctx, payment, &order).await?;
    ensure!(
        matches!(status_of(&second), Some(1 | 2)),
        "the confirmation answered status {:?}: {}",
        status_of(&second),
        compact(&second)
    );
    let last = complete(ctx, &order, false).await?;
    ensure!(
        status_of(&last) == Some(2),
        "final status {:?}, expected 2",
        status_of(&last)
    );
    expect_callback(ctx, &order, 2, 16, Some(payment.amount)).await?;
    Ok(())
}

async fn pos_deposit(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    let request = DepositRequest {
        merchant_id: ctx.merchant_id.clone(),
        customer_id: payment.customer_id.clone(),
        order_id: order.clone(),
        amount: payment.amount,
        currency: Currency::from(payment.currency),
        country: payment.country.map(Country::from),
        destination_id: Some("2133456".into()),
        signature: String::new(),
    };
    let response = ctx
        .client
        .deposit(request)
        .await
        .map_err(|e| format!("deposit: {e}"))?;
    let v = to_json(&response)?;
    ensure!(
        matches!(status_of(&v), Some(0..=2)),
        "deposit answered status {:?}: {}",
        status_of(&v),
        compact(&v)
    );
    expect_callback(ctx, &order, 2, 20, Some(payment.amount)).await?;
    Ok(())
}

async fn pos_withdrawal(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    let request = WithdrawalRequest {
        merchant_id: ctx.merchant_id.clone(),
        customer_id: payment.customer_id.clone(),
        order_id: order.clone(),
        amount: payment.amount,
        currency: Currency::from(payment.currency),
        country: payment.country.map(Country::from),
        provider_id: Some(i64::from(payment.provider_id)),
        callback_url: ctx.callback_url().map(|url| url.to_string()),
        signature: String::new(),
    };
    let response = ctx
        .client
        .withdrawal(request)
        .await
        .map_err(|e| format!("withdrawal: {e}"))?;
    let v = to_json(&response)?;
    ensure!(
        status_of(&v) == Some(7),
        "withdrawal answered status {:?}, expected 7 (in transit): {}",
        status_of(&v),
        compact(&v)
    );
    expect_callback(ctx, &order, 2, 21, Some(payment.amount)).await?;
    Ok(())
}

async fn forced_outcome(ctx: &Ctx, payment: &PaymentSpec, status: i64) -> Check {
    let order = ctx.order_id();
    submit(ctx, payment, &order).await?;
    ctx.sim_force_outcome(&order, status).await?;
    let v = to_json(
        &ctx.client
            .status(&order)
            .await
            .map_err(|e| format!("status: {e}"))?,
    )?;
    ensure!(
        status_of(&v) == Some(status),
        "status after forcing {status}: {:?}",
        status_of(&v)
    );
    expect_callback(
        ctx,
        &order,
        status,
        operation_type(payment.direction),
        Some(payment.amount),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn minor_units_reads_numbers_and_strings() {
        assert_eq!(minor_units(&json!(100)), Some(10_000));
        assert_eq!(minor_units(&json!(100.5)), Some(10_050));
        assert_eq!(minor_units(&json!("100.00")), Some(10_000));
        assert_eq!(minor_units(&json!("1.234")), None);
    }
}
