//! HUB2 Processing Only mode (`/delegated/...`): the permission it needs,
//! the validation of the provider credentials a merchant registers, and a
//! payment or transfer on every supported pair.

use paygate::hub2::models::{
    Country, CreateDelegatedPaymentRequest, Currency, MobileMoneyDetails, PaymentIntentStatus,
    PaymentMethod, Provider, TransferStatus,
};
use serde_json::json;

use super::context::Hub2Ctx;
use super::facts::country_currency;
use super::support::{ensure, expect_final, msisdn_for};
use super::transfers::{transfer_json, transfer_request, wait_transfer};

/// `/delegated/{what}` with a key lacking the permission: 403 naming it.
pub(super) async fn no_permission(ctx: &Hub2Ctx, what: &str) -> Result<(), String> {
    let key = ctx
        .limited_key
        .as_deref()
        .ok_or("no key without the permission")?;
    let body = if what == "payments" {
        json!({"customerReference": "c", "purchaseReference": "p", "amount": 100, "currency": "XOF",
               "paymentMethod": "mobile_money", "country": "CI", "provider": "orange", "mobileMoney": {"msisdn": "0700000099"}})
    } else {
        transfer_json(100, "0500000099", "mtn")
    };
    let raw = ctx
        .raw(
            "POST",
            &format!("/delegated/{what}"),
            Some(key),
            None,
            Some(&body),
        )
        .await?;
    raw.expect_error(403)?;
    let permission = if what == "payments" {
        "Api.delegated_payment_create"
    } else {
        "Api.delegated_transfer_create"
    };
    ensure(
        raw.body["message"]
            .as_str()
            .is_some_and(|m| m.contains(permission)),
        format!("the message does not name {permission}: {}", raw.describe()),
    )
}

/// Credentials that fail validation, or an unsupported provider, are
/// refused by the registration with 400.
pub(super) async fn credentials_validation(ctx: &Hub2Ctx) -> Result<(), String> {
    for (credentials, what) in [
        (json!({}), "apiKey missing"),
        (json!({"apiKey": ""}), "apiKey empty"),
        (json!({"apiKey": "invalid"}), "authentication refused"),
        (
            json!({"apiKey": "no-balance-access"}),
            "GET /balance refused",
        ),
    ] {
        let raw = ctx
            .control(
                "/provider-credentials",
                &json!({"provider": "orange", "country": "CI", "transactionType": "payment", "credentials": credentials}),
            )
            .await?;
        raw.expect_error(400).map_err(|e| format!("{what}: {e}"))?;
    }
    let raw = ctx
        .control(
            "/provider-credentials",
            &json!({"provider": "wave", "country": "SN", "transactionType": "payment", "credentials": {"apiKey": "k"}}),
        )
        .await?;
    raw.expect_error(400)
        .map_err(|e| format!("unsupported provider: {e}"))
}

/// Processing Only on a supported pair: register credentials, then a
/// payment or a transfer that ends successful.
pub(super) async fn delegated(
    ctx: &Hub2Ctx,
    country: &str,
    provider: &str,
    transaction_type: &str,
) -> Result<(), String> {
    let raw = ctx
        .control(
            "/provider-credentials",
            &json!({"provider": provider, "country": country, "transactionType": transaction_type,
                    "credentials": {"apiKey": "conformance-provider-key", "username": "merchant"}}),
        )
        .await?;
    ensure(
        raw.status == 201,
        format!("registering credentials: {}", raw.describe()),
    )?;
    let currency = country_currency(country).unwrap_or("XOF");
    if transaction_type == "payment" {
        let intent = ctx
            .client
            .create_delegated_payment(
                &CreateDelegatedPaymentRequest::new(
                    ctx.unique("customer"),
                    ctx.unique("order"),
                    120,
                    currency,
                    PaymentMethod::MobileMoney,
                    country,
                    provider,
                )
                .with_mobile_money(MobileMoneyDetails::new(msisdn_for(country, "99"))),
            )
            .await
            .map_err(|e| format!("createDelegatedPayment: {e}"))?;
        expect_final(
            &ctx.wait(&intent.id).await?,
            PaymentIntentStatus::Successful,
        )
    } else {
        let mut request = transfer_request(ctx, 100, &msisdn_for(country, "99"));
        request.currency = Currency::from(currency);
        request.destination.country = Country::from(country);
        request.destination.provider = Provider::from(provider);
        let transfer = ctx
            .client
            .create_delegated_transfer(&request)
            .await
            .map_err(|e| format!("createDelegatedTransfer: {e}"))?;
        ensure(
            matches!(
                transfer.status,
                TransferStatus::Created | TransferStatus::Pending
            ),
            format!("a new delegated transfer is {}", transfer.status),
        )?;
        wait_transfer(ctx, &transfer.id).await
    }
}
