//! Helpers the checks share: sending a case's payment through the client,
//! reading answers, waiting for statuses and callbacks, editing signed
//! bodies.

use paygate::gateway::client::{ClientError, Reply};
use paygate::gateway::rules::Direction;
use paygate::gateway::{OperationType, PaymentResponse, Status};
use paygate::money::Amount;
use paygate::signing::sign_json;
use serde_json::Value;

use super::super::cases::PaymentSpec;
use super::super::receiver::Received;
use super::super::target::{Ctx, RawAnswer};
use super::check::{ensure, Check};

pub(crate) async fn submit(
    ctx: &Ctx,
    payment: &PaymentSpec,
    order_id: &str,
) -> Result<PaymentResponse, String> {
    submit_raw_result(ctx, payment, order_id)
        .await?
        .map(Reply::into_inner)
        .map_err(|e| format!("{} {order_id} failed: {e}", payment.operation()))
}

pub(crate) async fn submit_raw_result(
    ctx: &Ctx,
    payment: &PaymentSpec,
    order_id: &str,
) -> Result<Result<Reply<PaymentResponse>, ClientError>, String> {
    // A provider with a daily maximum counts per customer and day: each
    // case pays a customer of its own, so cases never add up.
    let daily = ctx
        .table
        .provider(payment.provider_id)
        .is_some_and(|p| p.direction(payment.direction).limits.daily_max.is_some());
    let magic = payment
        .customer_id
        .get(payment.customer_id.len().saturating_sub(3)..)
        .is_some_and(|end| end.starts_with("00") && end != "000");
    let own;
    let payment = if daily && !magic {
        own = payment.with_customer(&unique_customer(ctx, &payment.customer_id));
        &own
    } else {
        payment
    };
    send_as_is(ctx, payment, order_id).await
}

/// Sends the payment through the client exactly as given.
pub(crate) async fn send_as_is(
    ctx: &Ctx,
    payment: &PaymentSpec,
    order_id: &str,
) -> Result<Result<Reply<PaymentResponse>, ClientError>, String> {
    Ok(match payment.direction {
        Direction::C2b => ctx.client.payment_c2b(ctx.c2b(payment, order_id)?).await,
        Direction::B2c => ctx.client.payment_b2c(ctx.b2c(payment, order_id)?).await,
    })
}

pub(crate) fn to_json(response: &PaymentResponse) -> Result<Value, String> {
    serde_json::to_value(response).map_err(|e| format!("cannot re-encode the response: {e}"))
}

/// The `status` of a response or callback, as the spec's [`Status`].
pub(crate) fn status_of(v: &Value) -> Option<Status> {
    v.get("status").and_then(Value::as_i64).map(Status::from)
}

/// A status for failure messages: its code and name (`3 (Failed)`), or
/// `none`.
pub(crate) fn show(status: Option<Status>) -> String {
    status.map_or_else(|| "none".to_owned(), |s| format!("{} ({s:?})", s.code()))
}

pub(crate) fn compact(v: &Value) -> String {
    let text = v.to_string();
    if text.len() > 400 {
        format!("{}...", &text[..text.floor_char_boundary_compat(400)])
    } else {
        text
    }
}

pub(crate) fn extra_str<'v>(v: &'v Value, field: &str) -> Option<&'v str> {
    v.get("extra")?
        .get(field)?
        .as_str()
        .filter(|s| !s.is_empty())
}

/// Minor units of a JSON amount (number or string), read from its text.
pub(crate) fn minor_units(v: &Value) -> Option<u64> {
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

pub(crate) fn expect_error(answer: RawAnswer, http: u16, code: i64, mentions: &[&str]) -> Check {
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
pub(crate) async fn complete(
    ctx: &Ctx,
    order_id: &str,
    follow_redirect: bool,
) -> Result<Value, String> {
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
        if status_of(&v).is_some_and(|s| s.is_final()) {
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
pub(crate) async fn expect_callback(
    ctx: &Ctx,
    order_id: &str,
    status: Status,
    operation_type: OperationType,
    amount: Option<Amount>,
) -> Result<Option<Received>, String> {
    let Some(receiver) = ctx.receiver.as_ref() else {
        return Ok(None);
    };
    let found = receiver
        .wait_for(order_id, ctx.timing.callback, |r| {
            r.int("status").map(Status::from) == Some(status)
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
        callback.int("operation_type").map(OperationType::from) == Some(operation_type),
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

/// The `operation_type` of a payment's callbacks.
pub(crate) fn operation_type(direction: Direction) -> OperationType {
    match direction {
        Direction::C2b => OperationType::PaymentC2b,
        Direction::B2c => OperationType::PaymentB2c,
    }
}

/// Cuts `,"signature":"..."` off a serialized body; returns the body
/// without it (still a valid object).
pub(crate) fn strip_signature(body: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    let at = text
        .rfind(",\"signature\":")
        .ok_or("the serialized request has no signature field")?;
    Ok(format!("{}}}", &text[..at]))
}

/// Signs a raw body (without signature) over its bytes and appends the
/// signature.
pub(crate) fn resign(ctx: &Ctx, unsigned: &str) -> Result<Vec<u8>, String> {
    let signature =
        sign_json(&ctx.key, unsigned.as_bytes()).map_err(|e| format!("cannot sign: {e}"))?;
    let body = unsigned.strip_suffix('}').ok_or("not an object")?;
    Ok(format!("{body},\"signature\":\"{signature}\"}}").into_bytes())
}

pub(crate) fn replace_once(text: &str, from: &str, to: &str) -> Result<String, String> {
    ensure!(
        text.contains(from),
        "the serialized request has no `{from}`"
    );
    Ok(text.replacen(from, to, 1))
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

/// Polls `status` until it reads `expected` (or the deadline passes).
pub(crate) async fn wait_for_status(
    ctx: &Ctx,
    order_id: &str,
    expected: Status,
) -> Result<Value, String> {
    let deadline = tokio::time::Instant::now() + ctx.timing.final_status;
    loop {
        let v = to_json(
            &ctx.client
                .status(order_id)
                .await
                .map_err(|e| format!("status {order_id}: {e}"))?,
        )?;
        if status_of(&v) == Some(expected) {
            return Ok(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "status {order_id} did not reach {expected} before the deadline; last {}",
                compact(&v)
            ));
        }
        tokio::time::sleep(ctx.client.config().poll.initial_delay).await;
    }
}

/// Checks that no callback arrived for `order_id` (after waiting the
/// no-callback delay).
pub(crate) async fn expect_no_callback(ctx: &Ctx, order_id: &str, why: &str) -> Check {
    tokio::time::sleep(ctx.timing.no_callback).await;
    if let Some(receiver) = ctx.receiver.as_ref() {
        let got = receiver.received(order_id);
        if !got.is_empty() {
            return Err(format!("{} callback(s) for {order_id}: {why}", got.len()));
        }
    }
    Ok(())
}

/// A customer number unique to this run, in the shape of `base` (same
/// length and prefix), never ending in one of the simulator's outcome
/// suffixes (`001`..`009`).
pub(crate) fn unique_customer(ctx: &Ctx, base: &str) -> String {
    let digits = ctx
        .order_id()
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .fold(0u64, |acc, b| {
            acc.wrapping_mul(16)
                .wrapping_add(u64::from(char::from(b).to_digit(16).unwrap_or(0)))
        });
    // The last three digits stay at 100 or above: never an outcome suffix.
    let tail = format!("{:03}{:03}", digits % 1000, 100 + (digits / 1000) % 900);
    if base.len() <= tail.len() || !base.is_char_boundary(base.len() - tail.len()) {
        return base.to_owned();
    }
    format!("{}{tail}", &base[..base.len() - tail.len()])
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

    #[test]
    fn status_of_is_exactly_the_code_sent() {
        assert_eq!(status_of(&json!({"status": 2})), Some(Status::Success));
        // A hold (6) is a success to `is_success`, never `Success` itself.
        assert_ne!(status_of(&json!({"status": 6})), Some(Status::Success));
        assert_eq!(status_of(&json!({"status": 9})), Some(Status::Unknown(9)));
        assert_eq!(status_of(&json!({"status": "2"})), None);
        assert_eq!(show(Some(Status::Failed)), "3 (Failed)");
    }
}
