//! HUB2 transfers: the request and body the cases send, waiting for a
//! transfer to end, the balance it is debited from; a transfer that ends
//! successful, one above the balance that is refused.

use std::time::Duration;

use paygate::hub2::models::{
    Country, CreateTransferRequest, Currency, DestinationType, Provider, TransferDestination,
    TransferStatus,
};
use paygate::hub2::Hub2Error;
use serde_json::{json, Value};

use super::context::Hub2Ctx;
use super::support::ensure;

/// A mobile-money transfer body to `msisdn` in CI, as raw JSON.
pub(super) fn transfer_json(amount: i64, msisdn: &str, provider: &str) -> Value {
    json!({"reference": "payout-conformance", "amount": amount, "currency": "XOF", "description": "conformance",
           "destination": {"type": "mobile_money", "country": "CI", "recipientName": "Awa Kone", "msisdn": msisdn, "provider": provider}})
}

/// A typed XOF transfer to `msisdn` with MTN in CI, with a unique reference.
pub(super) fn transfer_request(ctx: &Hub2Ctx, amount: i64, msisdn: &str) -> CreateTransferRequest {
    let destination = TransferDestination::new(
        DestinationType::MobileMoney,
        Country::Ci,
        "Awa Kone",
        msisdn,
        Provider::Mtn,
    );
    CreateTransferRequest::new(ctx.unique("payout"), amount, Currency::Xof, destination)
        .with_description("conformance")
}

/// Polls the transfer status (allowed while created / pending) until it
/// is final; it must be successful.
pub(super) async fn wait_transfer(ctx: &Hub2Ctx, id: &str) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + ctx.final_status;
    loop {
        let status = ctx
            .client
            .get_transfer_status(id)
            .await
            .map_err(|e| format!("getTransferStatus: {e}"))?;
        match status.status {
            TransferStatus::Successful => return Ok(()),
            TransferStatus::Created | TransferStatus::Pending => {}
            other => return Err(format!("transfer {id} ended {other}")),
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("transfer {id} never ended"));
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

/// The available XOF balance of the transfer account.
async fn transfer_available(ctx: &Hub2Ctx) -> Result<i64, String> {
    transfer_available_in(ctx, &Currency::Xof).await
}

/// The available balance of the transfer account in `currency`.
async fn transfer_available_in(ctx: &Hub2Ctx, currency: &Currency) -> Result<i64, String> {
    let balance = ctx
        .client
        .get_balance()
        .await
        .map_err(|e| format!("getBalance: {e}"))?;
    balance
        .transfer_account
        .iter()
        .find(|a| &a.currency == currency)
        .map(|a| a.available_balance)
        .ok_or_else(|| format!("no {currency} transfer account in the balance"))
}

/// A transfer ends successful and is debited from the balance.
pub(super) async fn transfer(ctx: &Hub2Ctx) -> Result<(), String> {
    let before = transfer_available(ctx).await?;
    let transfer = ctx
        .client
        .create_transfer(&transfer_request(ctx, 1500, "0500000099"))
        .await
        .map_err(|e| format!("createTransfer: {e}"))?;
    let after = transfer_available(ctx).await?;
    ensure(
        after == before - 1500,
        format!("balance {before} -> {after} after a transfer of 1500"),
    )?;
    wait_transfer(ctx, &transfer.id).await
}

/// A transfer above the available balance is refused, saying why, and
/// the balance does not change.
pub(super) async fn transfer_above_balance(ctx: &Hub2Ctx) -> Result<(), String> {
    // In GNF, which no other case moves, so the balance is stable.
    let before = transfer_available_in(ctx, &Currency::Gnf).await?;
    let mut request = transfer_request(ctx, before + 1, "620000099");
    request.currency = Currency::Gnf;
    request.destination.country = Country::Gn;
    request.destination.provider = Provider::Orange;
    let result = ctx.client.create_transfer(&request).await;
    match result {
        Err(Hub2Error::Api {
            http_status: 400 | 402 | 409,
            code,
            message,
            ..
        }) => {
            ensure(
                code == "insufficient-funds" || message.contains("funds"),
                format!("the refusal does not say why: {code} {message}"),
            )?;
        }
        other => {
            return Err(format!(
                "a transfer above the balance: expected 402, got {other:?}"
            ))
        }
    }
    let after = transfer_available_in(ctx, &Currency::Gnf).await?;
    ensure(
        after == before,
        format!("balance changed {before} -> {after}"),
    )
}
