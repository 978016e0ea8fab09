//! HUB2 input the target must refuse with 400: a pair it does not serve,
//! an OTP that is not 4 digits, a reference with a forbidden character
//! (which the client's pre-flight refuses first).

use paygate::hub2::models::{CreatePaymentIntentRequest, Currency};
use paygate::hub2::Hub2Error;
use serde_json::json;

use super::context::Hub2Ctx;
use super::facts::country_currency;
use super::support::{ensure, msisdn_for};
use super::transfers::transfer_request;

/// An attempt on a pair the target does not serve: 400 with the spec's
/// Error body.
pub(super) async fn unsupported_pair(
    ctx: &Hub2Ctx,
    country: &str,
    provider: &str,
) -> Result<(), String> {
    let currency = country_currency(country).unwrap_or("XOF");
    let intent = ctx.intent(200, currency).await?;
    let body = json!({"token": intent.token, "paymentMethod": "mobile_money", "country": country,
                      "provider": provider, "mobileMoney": {"msisdn": msisdn_for(country, "99")}});
    ctx.raw(
        "POST",
        &format!("/payment-intents/{}/payments", intent.id),
        None,
        None,
        Some(&body),
    )
    .await?
    .expect_error(400)
}

/// An OTP that is not 4 digits: 400 naming `confirmationCode`.
pub(super) async fn otp_bad_format(ctx: &Hub2Ctx) -> Result<(), String> {
    let intent = ctx.intent(200, "XOF").await?;
    ctx.attempt(&intent, "CI", "orange", &msisdn_for("CI", "11"), None)
        .await
        .map_err(|e| format!("attemptPayment: {e}"))?;
    ctx.wait_action(&intent.id).await?;
    let body = json!({"token": intent.token, "confirmationCode": "12a"});
    let raw = ctx
        .raw(
            "POST",
            &format!("/payment-intents/{}/authentication", intent.id),
            None,
            None,
            Some(&body),
        )
        .await?;
    raw.expect_error(400)?;
    ensure(
        raw.body.to_string().contains("confirmationCode"),
        format!(
            "the error does not name confirmationCode: {}",
            raw.describe()
        ),
    )
}

/// A reference with a forbidden character in `field`: the client refuses
/// it without sending, the target answers 400 naming the field.
pub(super) async fn forbidden_reference(ctx: &Hub2Ctx, field: &str) -> Result<(), String> {
    let bad = "order#1042/é";
    let (client_result, path, body) = if field == "reference" {
        let mut request = transfer_request(ctx, 100, "0500000099");
        request.reference = bad.into();
        let body = serde_json::to_value(&request).map_err(|e| e.to_string())?;
        (
            ctx.client.create_transfer(&request).await.map(drop),
            "/transfers",
            body,
        )
    } else {
        let mut request =
            CreatePaymentIntentRequest::new("customer-1", "order-1", 100, Currency::Xof);
        if field == "customerReference" {
            request.customer_reference = bad.into();
        } else {
            request.purchase_reference = bad.into();
        }
        let body = serde_json::to_value(&request).map_err(|e| e.to_string())?;
        (
            ctx.client.create_payment_intent(&request).await.map(drop),
            "/payment-intents",
            body,
        )
    };
    match client_result {
        Err(Hub2Error::Invalid { field: named, .. }) if named == field => {}
        other => {
            return Err(format!(
                "the client's pre-flight did not refuse {field}: {other:?}"
            ))
        }
    }
    let raw = ctx
        .raw("POST", path, Some(&ctx.api_key), None, Some(&body))
        .await?;
    raw.expect_error(400)?;
    ensure(
        raw.body["code"].as_str().is_some_and(|c| c.contains(field))
            || raw.body["message"]
                .as_str()
                .is_some_and(|m| m.contains(field)),
        format!("the 400 does not name {field}: {}", raw.describe()),
    )
}
