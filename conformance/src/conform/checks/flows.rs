//! The checks of multi-step flows: confirmation rounds, the OTP sent by
//! `status`, POS deposits and withdrawals (with their pre-authorisation),
//! daily cumulative limits and bulk payouts.

use paygate::gateway::client::ClientError;
use paygate::gateway::rules::Direction;
use paygate::gateway::{
    BulkB2cItem, BulkB2cRequest, DepositRequest, OperationType, Status, WithdrawalRequest,
};
use paygate::money::Amount;
use serde_json::Value;

use super::super::cases::PaymentSpec;
use super::super::target::Ctx;
use super::check::{ensure, Check};
use super::support::*;

/// The second request of a payment whose first answer had a non-zero
/// `confirm_type`: the same request with `extra.otp`.
pub(crate) async fn confirm(
    ctx: &Ctx,
    payment: &PaymentSpec,
    order_id: &str,
) -> Result<Value, String> {
    let confirmed = payment.with_extra("otp", "1234");
    let response = match payment.direction {
        Direction::B2c => ctx
            .client
            .confirm_payment_b2c(ctx.b2c(payment, order_id)?, "1234")
            .await
            .map(|r| r.response),
        Direction::C2b => ctx
            .client
            .payment_c2b(ctx.c2b(&confirmed, order_id)?)
            .await
            .map(|r| r.response),
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

fn expect_confirmation_asked(v: &Value, what: &str) -> Check {
    ensure!(
        status_of(v) == Some(Status::Initiated)
            && v.get("confirm_type").and_then(Value::as_i64) == Some(1),
        "{what} should answer status 0 with confirm_type 1 (customer ending in 007): {}",
        compact(v)
    );
    Ok(())
}

/// A payout whose first answer asks for a confirmation.
pub(crate) async fn b2c_confirm(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    let first = to_json(&submit(ctx, payment, &order).await?)?;
    expect_confirmation_asked(&first, "the payout")?;
    let second = confirm(ctx, payment, &order).await?;
    ensure!(
        matches!(
            status_of(&second),
            Some(Status::InProgress | Status::Success)
        ),
        "the confirmation answered status {}: {}",
        show(status_of(&second)),
        compact(&second)
    );
    let last = complete(ctx, &order, false).await?;
    ensure!(
        status_of(&last) == Some(Status::Success),
        "final status {}, expected 2",
        show(status_of(&last))
    );
    expect_callback(
        ctx,
        &order,
        Status::Success,
        OperationType::PaymentB2c,
        Some(payment.amount),
    )
    .await?;
    Ok(())
}

/// An OTP payment sent without its OTP waits; the OTP sent with `status`
/// (customer_id and extra.otp, as seed 002 prints it) completes it.
pub(crate) async fn otp_via_status(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    let first = to_json(&submit(ctx, payment, &order).await?)?;
    ensure!(
        status_of(&first) == Some(Status::InProgress),
        "the payment without OTP answered status {}, expected 1: {}",
        show(status_of(&first)),
        compact(&first)
    );
    tokio::time::sleep(ctx.timing.no_callback).await;
    let waiting = to_json(
        &ctx.client
            .status(&order)
            .await
            .map_err(|e| format!("status: {e}"))?,
    )?;
    ensure!(
        status_of(&waiting) == Some(Status::InProgress),
        "the payment went on ({}) before the OTP came",
        show(status_of(&waiting))
    );
    ctx.client
        .status_with_otp(&order, &payment.customer_id, "1234")
        .await
        .map_err(|e| format!("status with customer_id and extra.otp: {e}"))?;
    let last = complete(ctx, &order, false).await?;
    ensure!(
        status_of(&last) == Some(Status::Success),
        "final status {} after the OTP, expected 2",
        show(status_of(&last))
    );
    expect_callback(
        ctx,
        &order,
        Status::Success,
        OperationType::PaymentC2b,
        Some(payment.amount),
    )
    .await?;
    Ok(())
}

fn deposit_request(ctx: &Ctx, payment: &PaymentSpec, order: &str) -> DepositRequest {
    let mut request = DepositRequest::new(
        ctx.merchant_id.clone(),
        payment.customer_id.clone(),
        order,
        payment.amount,
        payment.currency,
    )
    .with_destination_id("2133456");
    if let Some(country) = payment.country {
        request = request.with_country(country);
    }
    request
}

fn withdrawal_request(ctx: &Ctx, payment: &PaymentSpec, order: &str) -> WithdrawalRequest {
    let mut request = WithdrawalRequest::new(
        ctx.merchant_id.clone(),
        payment.customer_id.clone(),
        order,
        payment.amount,
        payment.currency,
    )
    .with_provider_id(i64::from(payment.provider_id));
    if let Some(country) = payment.country {
        request = request.with_country(country);
    }
    if let Some(url) = ctx.callback_url() {
        request = request.with_callback_url(url);
    }
    request
}

pub(crate) async fn pos_deposit(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    let response = ctx
        .client
        .deposit(deposit_request(ctx, payment, &order))
        .await
        .map_err(|e| format!("deposit: {e}"))?;
    let v = to_json(&response)?;
    ensure!(
        matches!(
            status_of(&v),
            Some(Status::Initiated | Status::InProgress | Status::Success)
        ),
        "deposit answered status {}: {}",
        show(status_of(&v)),
        compact(&v)
    );
    expect_callback(
        ctx,
        &order,
        Status::Success,
        OperationType::Deposit,
        Some(payment.amount),
    )
    .await?;
    Ok(())
}

pub(crate) async fn pos_withdrawal(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    let response = ctx
        .client
        .withdrawal(withdrawal_request(ctx, payment, &order))
        .await
        .map_err(|e| format!("withdrawal: {e}"))?;
    let v = to_json(&response)?;
    ensure!(
        status_of(&v) == Some(Status::InTransit),
        "withdrawal answered status {}, expected 7 (in transit): {}",
        show(status_of(&v)),
        compact(&v)
    );
    expect_callback(
        ctx,
        &order,
        Status::Success,
        OperationType::Withdrawal,
        Some(payment.amount),
    )
    .await?;
    Ok(())
}

/// A withdrawal whose first answer asks for a confirmation.
pub(crate) async fn pos_withdrawal_confirm(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let order = ctx.order_id();
    let request = withdrawal_request(ctx, payment, &order);
    let first = to_json(
        &ctx.client
            .withdrawal(request.clone())
            .await
            .map_err(|e| format!("withdrawal: {e}"))?
            .response,
    )?;
    expect_confirmation_asked(&first, "the withdrawal")?;
    let second = to_json(
        &ctx.client
            .confirm_withdrawal(request, "1234")
            .await
            .map_err(|e| format!("the confirmation (same withdrawal with extra.otp): {e}"))?
            .response,
    )?;
    ensure!(
        status_of(&second) == Some(Status::InTransit),
        "the confirmed withdrawal answered status {}, expected 7: {}",
        show(status_of(&second)),
        compact(&second)
    );
    expect_callback(
        ctx,
        &order,
        Status::Success,
        OperationType::Withdrawal,
        Some(payment.amount),
    )
    .await?;
    Ok(())
}

/// A C2B payment held (6) for a withdrawal; the withdrawal consumes the
/// hold, which then becomes a success (2).
pub(crate) async fn pre_authorised_withdrawal(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let hold = ctx.order_id();
    submit(ctx, payment, &hold).await?;
    wait_for_status(ctx, &hold, Status::SuccessHold).await?;
    expect_callback(
        ctx,
        &hold,
        Status::SuccessHold,
        OperationType::PaymentC2b,
        Some(payment.amount),
    )
    .await?;
    let order = ctx.order_id();
    let v = to_json(
        &ctx.client
            .withdrawal(withdrawal_request(ctx, payment, &order))
            .await
            .map_err(|e| format!("withdrawal: {e}"))?
            .response,
    )?;
    ensure!(
        status_of(&v) == Some(Status::InTransit),
        "the pre-authorised withdrawal answered status {}, expected 7: {}",
        show(status_of(&v)),
        compact(&v)
    );
    expect_callback(
        ctx,
        &order,
        Status::Success,
        OperationType::Withdrawal,
        Some(payment.amount),
    )
    .await?;
    wait_for_status(ctx, &hold, Status::Success).await?;
    expect_callback(
        ctx,
        &hold,
        Status::Success,
        OperationType::PaymentC2b,
        Some(payment.amount),
    )
    .await?;
    Ok(())
}

/// A POS deposit that does not succeed (failed, or cancelled partially)
/// ends in `status` and sends no callback.
pub(crate) async fn pos_without_callback(
    ctx: &Ctx,
    payment: &PaymentSpec,
    status: Status,
) -> Check {
    let order = ctx.order_id();
    ctx.client
        .deposit(deposit_request(ctx, payment, &order))
        .await
        .map_err(|e| format!("deposit: {e}"))?;
    wait_for_status(ctx, &order, status).await?;
    expect_no_callback(
        ctx,
        &order,
        "POS callbacks come after successful operations only",
    )
    .await
}

/// Payments to one customer up to the binding daily maximum are accepted;
/// the one that would pass it is refused with 422.
pub(crate) async fn daily_limit(ctx: &Ctx, payment: &PaymentSpec, daily_max: Amount) -> Check {
    let table = ctx.table;
    let provider = table
        .provider(payment.provider_id)
        .ok_or("the provider is not in the table")?;
    let limits = &provider.direction(payment.direction).limits;
    let step = limits.step.map_or(1, Amount::minor).max(1);
    let per_payment = limits
        .max
        .map_or(daily_max.minor(), Amount::minor)
        .min(daily_max.minor());
    let each = Amount::from_minor(per_payment / step * step);
    ensure!(each.minor() > 0, "no positive amount fits the limits");
    let customer = unique_customer(ctx, &payment.customer_id);
    let series = payment.with_amount(each).with_customer(&customer);
    let fits = daily_max.minor() / each.minor();
    for i in 0..fits {
        let order = ctx.order_id();
        send_as_is(ctx, &series, &order)
            .await?
            .map_err(|e| format!("payment {} of {fits} within the daily maximum: {e}", i + 1))?;
    }
    let order = ctx.order_id();
    match send_as_is(ctx, &series, &order).await? {
        Err(ClientError::Gateway {
            http_status: 422,
            message,
            ..
        }) if message.contains("amount_above_daily_maximum") => Ok(()),
        Err(other) => Err(format!(
            "payment {} (past the daily maximum {daily_max}): expected HTTP 422 naming amount_above_daily_maximum, got: {other}",
            fits + 1
        )),
        Ok(_) => Err(format!(
            "payment {} took the customer's day past its maximum {daily_max} and was accepted",
            fits + 1
        )),
    }
}

/// A bulk payout of two items (one that completes, one that stays
/// pending): created, detailed, cancelled.
pub(crate) async fn bulk_payout(ctx: &Ctx, payment: &PaymentSpec) -> Check {
    let bulk_id = ctx.order_id();
    let done = ctx.order_id();
    let open = ctx.order_id();
    let request = bulk_request(ctx, payment, &bulk_id, &done, &open);
    let created = ctx
        .client
        .bulk_payment_b2c(request)
        .await
        .map_err(|e| format!("payment_b2c/bulk: {e}"))?;
    ensure!(
        created.response.bulk_id == bulk_id,
        "the bulk answer names bulk {:?}, not {bulk_id:?}",
        created.response.bulk_id
    );
    let first = complete(ctx, &done, false).await?;
    ensure!(
        status_of(&first) == Some(Status::Success),
        "bulk item {done} ended {}, expected 2",
        show(status_of(&first))
    );
    expect_callback(
        ctx,
        &done,
        Status::Success,
        OperationType::PaymentB2c,
        Some(payment.amount),
    )
    .await?;
    let details = ctx
        .client
        .bulk_details(&bulk_id, 1, 10)
        .await
        .map_err(|e| format!("payment_b2c/bulk/details: {e}"))?;
    ensure!(
        details.total == 2 && details.items.len() == 2 && details.total_successed == 1,
        "bulk details: total {}, {} items listed, {} succeeded (expected 2, 2, 1)",
        details.total,
        details.items.len(),
        details.total_successed
    );
    cancel_bulk(ctx, &bulk_id, &open, &done).await
}

/// The bulk `bulk_id` of two payouts: `done` to the payment's customer,
/// `open` to the same number ending in `003` (never ends alone).
fn bulk_request(
    ctx: &Ctx,
    payment: &PaymentSpec,
    bulk_id: &str,
    done: &str,
    open: &str,
) -> BulkB2cRequest {
    let item = |order_id: &str, customer_id: String| {
        let mut item = BulkB2cItem::new(
            order_id,
            customer_id,
            payment.amount,
            i64::from(payment.provider_id),
        );
        if let Some(country) = payment.country {
            item = item.with_country(country);
        }
        if let Some(url) = ctx.callback_url() {
            item = item.with_callback_url(url);
        }
        item
    };
    let pending = match payment.customer_id.len() {
        n if n > 3 && payment.customer_id.is_char_boundary(n - 3) => {
            format!("{}003", &payment.customer_id[..n - 3])
        }
        _ => payment.customer_id.clone(),
    };
    BulkB2cRequest::new(
        String::new(),
        bulk_id,
        payment.currency,
        vec![item(done, payment.customer_id.clone()), item(open, pending)],
    )
}

/// Cancelling the bulk cancels it and its `open` item, and leaves the
/// executed item `done` successful.
async fn cancel_bulk(ctx: &Ctx, bulk_id: &str, open: &str, done: &str) -> Check {
    let cancelled = ctx
        .client
        .bulk_cancel(bulk_id)
        .await
        .map_err(|e| format!("payment_b2c/bulk/cancel: {e}"))?;
    ensure!(
        cancelled.status == Status::Cancelled,
        "the cancelled bulk has status {}, expected 4",
        cancelled.status.code()
    );
    let last = ctx
        .client
        .status(open)
        .await
        .map_err(|e| format!("status: {e}"))?;
    ensure!(
        last.status == Status::Cancelled,
        "the pending item of a cancelled bulk has status {}, expected 4",
        last.status.code()
    );
    let again = ctx
        .client
        .status(done)
        .await
        .map_err(|e| format!("status: {e}"))?;
    ensure!(
        again.status == Status::Success,
        "cancelling the bulk changed an executed item to {}",
        again.status.code()
    );
    Ok(())
}
