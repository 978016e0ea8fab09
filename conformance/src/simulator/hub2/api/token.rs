//! Payment-intent tokens: an HS256 JWT keyed with this run's token key,
//! handed out with each intent, that the device-side routes
//! (`/payment-intents/{id}/payments` and `/authentication`) take in the
//! body instead of an API key. [`IntentToken`] reads such a body and
//! checks its token against the intent of the path, its merchant, its
//! environment and its expiry.

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use paygate::hub2::models::{AttemptPaymentRequest, AuthenticatePaymentRequest};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::input::read_json;
use crate::simulator::hub2::config::Hub2Environment;
use crate::simulator::hub2::error::Hub2ApiError;
use crate::simulator::SimulatorState;

/// What a payment-intent token says.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Claims {
    intent_id: String,
    merchant_id: String,
    mode: String,
    iat: u64,
    exp: u64,
}

/// Seconds since the epoch on the simulator's clock (virtual with
/// `--clock manual`).
fn unix_now() -> u64 {
    crate::simulator::clock::now_ms() / 1000
}

/// A payment-intent token: an HS256 JWT keyed with this run's
/// [`TokenKey`](crate::simulator::hub2::TokenKey), whose payload holds
/// `intentId`, `merchantId`, `mode`, `iat` and `exp`.
pub(super) fn make_token(
    state: &SimulatorState,
    intent_id: &str,
    merchant_id: &str,
    env: Hub2Environment,
) -> Result<String, Hub2ApiError> {
    let hub2 = &state.config().hub2;
    let iat = unix_now();
    let claims = Claims {
        intent_id: intent_id.to_owned(),
        merchant_id: merchant_id.to_owned(),
        mode: env.as_str().to_owned(),
        iat,
        exp: iat.saturating_add(hub2.token_lifetime.as_secs()),
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(hub2.token_key.as_bytes()),
    )
    .map_err(|e| {
        tracing::error!(error = %e, "cannot sign a payment-intent token");
        // HS256 over these claims cannot fail (no key parsing, plain
        // serialisation); answered as HUB2's listed 5XX should it ever.
        Hub2ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "the payment-intent token could not be signed",
        )
    })
}

/// Checks a token for intent `intent_id`: 401 (the status HUB2's spec
/// lists for the device-side routes) unless it is an HS256 token signed
/// with this run's key, not expired, for this intent, its merchant and its
/// environment. The algorithm is pinned (`alg: none`, HS512 or RS256
/// headers are refused), `exp` is required and checked without leeway.
fn check_token(state: &SimulatorState, token: &str, intent_id: &str) -> Result<(), Hub2ApiError> {
    let invalid =
        |why: &str| Hub2ApiError::unauthorized(format!("Invalid payment intent token: {why}"));
    let hub2 = &state.config().hub2;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp"]);
    // `exp` is checked below against the simulator's clock (the crate's
    // check reads the system clock, which a manual clock does not move).
    validation.validate_exp = false;
    let claims = decode::<Claims>(
        token,
        &DecodingKey::from_secret(hub2.token_key.as_bytes()),
        &validation,
    )
    .map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => invalid("it has expired"),
        _ => invalid("not a token this simulator issued"),
    })?
    .claims;
    if claims.exp <= unix_now() {
        return Err(invalid("it has expired"));
    }
    if claims.intent_id != intent_id {
        return Err(invalid("it was issued for another payment intent"));
    }
    let owner = {
        let store = state.hub2_store();
        store
            .intents
            .get(intent_id)
            .map(|record| (record.intent.merchant_id.clone(), record.env))
    };
    match owner {
        Some((merchant, env)) if merchant == claims.merchant_id && env.as_str() == claims.mode => {
            Ok(())
        }
        Some(_) => Err(invalid("its merchant or mode is not the intent's")),
        // The handler answers 404 for an unknown intent.
        None => Ok(()),
    }
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
/// [`read_json`]), then the token checked (401 as [`check_token`]).
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
