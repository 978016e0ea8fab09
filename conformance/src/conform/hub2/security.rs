//! HUB2 authentication: intent tokens (another intent's, a forged one),
//! every operation of the spec without credentials, a key used with the
//! other environment.

use paygate::hub2::models::PaymentIntent;
use serde_json::json;

use super::context::Hub2Ctx;
use super::support::{ensure, msisdn_for};

/// The token of another intent and a forged token: 401, the status the
/// spec lists for the device-side routes.
pub(super) async fn wrong_token(ctx: &Hub2Ctx) -> Result<(), String> {
    let intent = ctx.intent(200, "XOF").await?;
    let other = ctx.intent(200, "XOF").await?;
    let stolen = PaymentIntent {
        token: other.token.clone(),
        ..intent.clone()
    };
    match ctx
        .attempt(&stolen, "CI", "orange", &msisdn_for("CI", "99"), None)
        .await
    {
        Err(e) if e.http_status() == Some(401) => {}
        other => {
            return Err(format!(
                "the token of another intent: expected 401, got {other:?}"
            ))
        }
    }
    let forged = PaymentIntent {
        token: format!("{}x", intent.token),
        ..intent.clone()
    };
    match ctx
        .attempt(&forged, "CI", "orange", &msisdn_for("CI", "99"), None)
        .await
    {
        Err(e) if e.http_status() == Some(401) => Ok(()),
        other => Err(format!("a forged token: expected 401, got {other:?}")),
    }
}

/// Operation `operation` (`method` `path`) without credentials: its
/// documented 401 with the spec's Error body.
pub(super) async fn no_credentials(
    ctx: &Hub2Ctx,
    operation: &str,
    method: &str,
    path: &str,
) -> Result<(), String> {
    let path = path.replace("{id}", "pi_conformance0000000001");
    // A well-formed body, so that only the credentials are wrong.
    let body = (method == "POST").then(|| {
        json!({"token": "not.a.token", "confirmationCode": "1234", "paymentMethod": "mobile_money",
               "country": "CI", "provider": "orange", "mobileMoney": {"msisdn": "0700000099"}})
    });
    let raw = ctx.raw(method, &path, None, None, body.as_ref()).await?;
    raw.expect_error(401)
        .map_err(|e| format!("{operation}: {e}"))
}

/// A key of one environment sent with the other `Environment`: 401 or
/// 403 with the spec's Error body.
pub(super) async fn wrong_environment(ctx: &Hub2Ctx) -> Result<(), String> {
    let other = if ctx.env_str() == "live" {
        "sandbox"
    } else {
        "live"
    };
    let raw = ctx
        .raw("GET", "/balance", Some(&ctx.api_key), Some(other), None)
        .await?;
    ensure(
        matches!(raw.status, 401 | 403),
        format!(
            "a {} key with Environment {other}: expected 401 or 403, got {}",
            ctx.env_str(),
            raw.describe()
        ),
    )?;
    raw.expect_error(raw.status)
}
