//! Payment-intent tokens: an HS256 JWT keyed with the simulator's secret,
//! handed out with each intent, that the device-side routes
//! (`/payment-intents/{id}/payments` and `/authentication`) take in the
//! body instead of an API key. [`IntentToken`] reads such a body and
//! checks its token against the intent of the path.

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use paygate::hub2::models::{AttemptPaymentRequest, AuthenticatePaymentRequest};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::auth::constant_time_eq;
use super::input::read_json;
use crate::simulator::hub2::config::Hub2Environment;
use crate::simulator::hub2::error::Hub2ApiError;
use crate::simulator::hub2::mac_bytes;
use crate::simulator::SimulatorState;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64url without padding.
fn b64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 3);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Decodes base64url without padding; `None` on a character outside the
/// alphabet.
fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let v = B64.iter().position(|b| *b == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// A payment-intent token: an HS256 JWT keyed with the simulator's secret,
/// whose payload holds `intentId`, `merchantId`, `mode` and `iat`.
pub(super) fn make_token(
    state: &SimulatorState,
    intent_id: &str,
    merchant_id: &str,
    env: Hub2Environment,
) -> String {
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let iat = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let payload = json!({
        "intentId": intent_id,
        "merchantId": merchant_id,
        "mode": env.as_str(),
        "iat": iat,
    });
    let payload = b64url(payload.to_string().as_bytes());
    let signing_input = format!("{header}.{payload}");
    let signature = mac_bytes(
        state.config().hub2.token_secret.as_bytes(),
        signing_input.as_bytes(),
    );
    format!("{signing_input}.{}", b64url(&signature))
}

/// Checks a token for intent `intent_id`: 401 if it is not a valid token,
/// 403 if it is one of another intent.
fn check_token(state: &SimulatorState, token: &str, intent_id: &str) -> Result<(), Hub2ApiError> {
    let invalid = || Hub2ApiError::unauthorized("Invalid payment intent token");
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let expected = mac_bytes(
        state.config().hub2.token_secret.as_bytes(),
        format!("{header}.{payload}").as_bytes(),
    );
    let given = b64url_decode(signature).ok_or_else(invalid)?;
    if !constant_time_eq(&expected, &given) {
        return Err(invalid());
    }
    let payload: serde_json::Value = b64url_decode(payload)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(invalid)?;
    let token_intent = payload
        .get("intentId")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(invalid)?;
    if token_intent != intent_id {
        return Err(Hub2ApiError::forbidden(
            "This token was issued for another payment intent",
        ));
    }
    Ok(())
}

/// A request body that carries a payment-intent token.
pub(super) trait CarriesToken {
    /// The token.
    fn token(&self) -> &str;
}

impl CarriesToken for AttemptPaymentRequest {
    fn token(&self) -> &str {
        &self.token
    }
}

impl CarriesToken for AuthenticatePaymentRequest {
    fn token(&self) -> &str {
        &self.token
    }
}

/// The JSON body `T` of a device-side route, whose token is the one of the
/// intent `{id}` of the path: the body is read first (413 / 400 as
/// [`read_json`]), then the token checked (401 / 403 as [`check_token`]).
pub(super) struct IntentToken<T>(pub(super) T);

impl<T> FromRequest<SimulatorState> for IntentToken<T>
where
    T: DeserializeOwned + CarriesToken,
{
    type Rejection = Hub2ApiError;

    async fn from_request(
        request: Request,
        state: &SimulatorState,
    ) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        // The handler took the same `Path` before this extractor runs, so
        // this does not fail; if it did, no token could match.
        let Path(intent_id) = Path::<String>::from_request_parts(&mut parts, state)
            .await
            .map_err(|rejection| Hub2ApiError::not_found(rejection.body_text()))?;
        let value: T = read_json(state, body).await?;
        check_token(state, value.token(), &intent_id)?;
        Ok(IntentToken(value))
    }
}
