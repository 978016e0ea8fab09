//! The checks of single payments: accepted (with the warnings the
//! documentation's doubts give), refused (by the client and the target),
//! their outcomes, signatures, malformed bodies, idempotency.

use paygate::gateway::client::ClientError;
use paygate::gateway::rules::{Direction, Flow};
use paygate::gateway::validate::Rule;
use paygate::gateway::Status;
use paygate::money::Amount;
use paygate::signing::{SecretKey, SigningKey};
use serde_json::Value;

use super::super::cases::{MalformedBody, PaymentSpec, TEST_PROVIDER};
use super::super::payment_builders::valid_payment;
use super::super::receiver::verify_body;
use super::super::target::Ctx;
use super::check::{ensure, Check};
use super::flows::confirm;
use super::support::*;

/// A valid payment: the client sends it with exactly the `warned`
/// warnings, the target accepts it, and (with `lifecycle`) it ends final
/// with a verified callback.
pub(crate) async fn accept(
    ctx: &Ctx,
    payment: &PaymentSpec,
    flow: Flow,
    warned: &[Rule],
    lifecycle: bool,
) -> Check {
    let order = ctx.order_id();
    let reply = submit_raw_result(ctx, payment, &order)
        .await?
        .map_err(|e| format!("{} {order} failed: {e}", payment.operation()))?;
    let mut raised: Vec<Rule> = reply.warnings.iter().map(|w| w.rule).collect();
    raised.sort_by_key(|r| r.as_str());
    raised.dedup();
    ensure!(
        raised == warned,
        "the client warned about {:?}, expected {:?}: {}",
        raised.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        warned.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        reply
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    );
    let v = to_json(&reply.response)?;
    if payment.provider_id == TEST_PROVIDER {
        return expect_provider14(&v, "the synchronous response");
    }
    let status = status_of(&v);
    ensure!(
        matches!(
            status,
            Some(Status::Initiated | Status::InProgress | Status::Success)
        ),
        "a valid payment got status {}: {}",
        show(status),
        compact(&v)
    );
    if !lifecycle {
        return Ok(());
    }
    follow_to_success(ctx, payment, flow, &order, v).await
}

/// The rest of an accepted payment's life, as a merchant would go
/// through it: the confirmation round if asked, the bank details, the OTP
/// by `status`, the redirect page; then final success and its callback.
async fn follow_to_success(
    ctx: &Ctx,
    payment: &PaymentSpec,
    flow: Flow,
    order: &str,
    mut v: Value,
) -> Check {
    if v.get("confirm_type")
        .and_then(Value::as_i64)
        .is_some_and(|c| c != 0)
    {
        // The gateway asks for a confirmation: send the same request again
        // with the confirmation data (an OTP), as a merchant would.
        v = confirm(ctx, payment, order).await?;
    }
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
    if flow == Flow::Otp && !payment.extras.iter().any(|(n, _)| *n == "otp") {
        // The OTP comes after the payment, in a status request.
        ctx.client
            .status_with_otp(order, &payment.customer_id, "1234")
            .await
            .map_err(|e| format!("status with extra.otp: {e}"))?;
    }
    let follow = matches!(flow, Flow::Redirect | Flow::PaymentPage);
    let last = complete(ctx, order, follow).await?;
    ensure!(
        status_of(&last) == Some(Status::Success),
        "final status {}, expected 2 (success)",
        show(status_of(&last))
    );
    expect_callback(
        ctx,
        order,
        Status::Success,
        operation_type(payment.direction),
        Some(payment.amount),
    )
    .await?;
    Ok(())
}

/// Provider 14's documented test behaviour: status 1 with provider result
/// -8888 "Good".
pub(crate) fn expect_provider14(v: &Value, what: &str) -> Check {
    ensure!(
        status_of(v) == Some(Status::InProgress),
        "{what} of provider 14 has status {}, expected 1: {}",
        show(status_of(v)),
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

pub(crate) async fn reject(ctx: &Ctx, payment: &PaymentSpec, rule: Rule, field: &str) -> Check {
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
        Ok(reply) => {
            return Err(format!(
                "the client sent it and the target accepted it (expected {rule}): {}",
                compact(&to_json(&reply.response)?)
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

pub(crate) async fn bad_order_id(ctx: &Ctx, order_id: &str, rule: Rule) -> Check {
    let provider = ctx
        .table
        .provider(TEST_PROVIDER)
        .or_else(|| ctx.table.providers.first());
    let payment = provider
        .and_then(|p| valid_payment(ctx.table, p, Direction::C2b))
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

pub(crate) async fn final_outcome(ctx: &Ctx, payment: &PaymentSpec, expected: Status) -> Check {
    let order = ctx.order_id();
    submit(ctx, payment, &order).await?;
    let last = if expected.is_final() {
        complete(ctx, &order, false).await?
    } else {
        wait_for_status(ctx, &order, expected).await?
    };
    ensure!(
        status_of(&last) == Some(expected),
        "final status {}, expected {expected}",
        show(status_of(&last))
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

pub(crate) async fn stays_in_progress(ctx: &Ctx, payment: &PaymentSpec) -> Check {
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
        status_of(&v) == Some(Status::InProgress),
        "status {}, expected to stay 1",
        show(status_of(&v))
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

pub(crate) async fn provider14_no_callback(ctx: &Ctx, payment: &PaymentSpec) -> Check {
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

pub(crate) async fn signature_tampered(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    let body = String::from_utf8(ctx.signed_body(payment, &order)?).map_err(|e| e.to_string())?;
    let from = format!("\"amount\":\"{}\"", payment.amount);
    let to = format!(
        "\"amount\":\"{}\"",
        // One cent more (one less at the very top: never wraps).
        Amount::from_minor(
            payment
                .amount
                .minor()
                .checked_add(1)
                .unwrap_or(u64::MAX - 1)
        )
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

pub(crate) async fn signature_missing(ctx: &Ctx, payment: &PaymentSpec) -> Check {
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

/// A body signed with another key is refused with 10201.
pub(crate) async fn signature_wrong_key(ctx: &Ctx, payment: &PaymentSpec) -> Check {
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

/// A correctly signed body with another merchant id is refused with 10201.
pub(crate) async fn wrong_merchant_id(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    let body = ctx.signed_body_with(payment, &order, &ctx.key, "conformance-not-this-merchant")?;
    expect_error(
        ctx.post_raw(&ctx.url(payment.operation()), body).await?,
        401,
        10201,
        &[],
    )
}

/// A signed body to an unknown public id is refused with 10404.
pub(crate) async fn unknown_public_id(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    let body = ctx.signed_body(payment, &order)?;
    let url = ctx.url_for("conformance-unknown-public-id", payment.operation());
    expect_error(ctx.post_raw(&url, body).await?, 404, 10404, &[])
}

pub(crate) async fn malformed(ctx: &Ctx, variant: MalformedBody, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    let signed = ctx.signed_body(payment, &order)?;
    let unsigned = strip_signature(&signed)?;
    let amount = format!("\"amount\":\"{}\"", payment.amount);
    let body: Vec<u8> = match variant {
        MalformedBody::Truncated => signed[..signed.len() / 2].to_vec(),
        MalformedBody::NotJson => b"merchant_id=demo&amount=100.00".to_vec(),
        MalformedBody::NotAnObject => b"[1,2,3]".to_vec(),
        MalformedBody::AmountThreeDecimals => resign(
            ctx,
            &replace_once(
                &unsigned,
                &amount,
                &format!("\"amount\":\"{}0\"", payment.amount),
            )?,
        )?,
        MalformedBody::AmountNegative => resign(
            ctx,
            &replace_once(
                &unsigned,
                &amount,
                &format!("\"amount\":\"-{}\"", payment.amount),
            )?,
        )?,
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

pub(crate) async fn idempotent_replay(ctx: &Ctx, payment: &PaymentSpec) -> Check {
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

pub(crate) async fn order_id_reuse(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    let url = ctx.url(payment.operation());
    let first_body = ctx.signed_body(payment, &order)?;
    let first = ctx.post_raw(&url, first_body.clone()).await?;
    ensure!(
        first.status == 200 && first.code() == Some(0),
        "the first request was refused: {}",
        first.describe()
    );
    // 100.00 more (less at the very top: never wraps).
    let minor = payment.amount.minor();
    let other = payment.with_amount(Amount::from_minor(
        minor
            .checked_add(10_000)
            .unwrap_or_else(|| minor.saturating_sub(10_000)),
    ));
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

pub(crate) async fn callback_signature(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    submit(ctx, payment, &order).await?;
    let callback = expect_callback(
        ctx,
        &order,
        Status::Success,
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

pub(crate) async fn redirect(ctx: &Ctx, payment: &PaymentSpec) -> Check {
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
        !status_of(&v).is_some_and(|s| s.is_final()),
        "the payment became final ({}) before the customer visited the redirect page",
        show(status_of(&v))
    );
    let answer = ctx.get_raw(&url).await?;
    ensure!(
        (200..400).contains(&answer.status),
        "visiting {url}: {}",
        answer.describe()
    );
    let last = complete(ctx, &order, false).await?;
    ensure!(
        status_of(&last) == Some(Status::Success),
        "final status {} after the redirect, expected 2",
        show(status_of(&last))
    );
    expect_callback(
        ctx,
        &order,
        Status::Success,
        operation_type(payment.direction),
        Some(payment.amount),
    )
    .await?;
    Ok(())
}

pub(crate) async fn forced_outcome(ctx: &Ctx, payment: &PaymentSpec, status: Status) -> Check {
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
        "status after forcing {status}: {}",
        show(status_of(&v))
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
