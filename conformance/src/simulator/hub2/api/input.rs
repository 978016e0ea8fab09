//! Reading HUB2 requests: the [`Hub2Json`] body extractor (413 over the
//! size limit, 400 naming the JSON path) and the format checks of single
//! fields (references, amounts, currencies, wallet numbers, OTPs).

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use paygate::hub2::models::Currency;
use serde::de::DeserializeOwned;

use crate::simulator::hub2::error::Hub2ApiError;
use crate::simulator::hub2::MAX_HUB2_AMOUNT;
use crate::simulator::request_rules;
use crate::simulator::SimulatorState;

/// A JSON request body of type `T`, read as [`read_json`] does.
pub(super) struct Hub2Json<T>(pub(super) T);

impl<T: DeserializeOwned> FromRequest<SimulatorState> for Hub2Json<T> {
    type Rejection = Hub2ApiError;

    async fn from_request(
        request: Request,
        state: &SimulatorState,
    ) -> Result<Self, Self::Rejection> {
        read_json(state, request.into_body()).await.map(Hub2Json)
    }
}

/// Reads `body` as a `T`: 413 over [`max_body_bytes`], 400 if empty or
/// malformed, 400 `invalid-<field>` naming the JSON path of a wrong value
/// or of one that breaks its schema's constraints (`null` where the spec
/// does not mark it nullable, lengths, enums: [`request_rules`]).
///
/// [`max_body_bytes`]: crate::simulator::SimulatorConfig::max_body_bytes
pub(super) async fn read_json<T: DeserializeOwned>(
    state: &SimulatorState,
    body: Body,
) -> Result<T, Hub2ApiError> {
    let max = state.config().max_body_bytes;
    let bytes = axum::body::to_bytes(body, max).await.map_err(|err| {
        let err = err.into_inner();
        if crate::simulator::serve::is_body_timeout(err.as_ref()) {
            Hub2ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive within the body timeout",
            )
        } else if err.is::<http_body_util::LengthLimitError>() {
            Hub2ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {max} bytes"),
            )
        } else {
            Hub2ApiError::bad_request(format!("the body could not be read to its end: {err}"))
        }
    })?;
    if bytes.is_empty() {
        return Err(Hub2ApiError::bad_request("a JSON body is required"));
    }
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() || path == "." {
            Hub2ApiError::bad_request(format!("malformed JSON body: {inner}"))
        } else {
            let field = path.split(['.', '[']).next().unwrap_or(&path).to_owned();
            Hub2ApiError::invalid(&field, format!("{path}: {inner}"))
        }
    })?;
    de.end()
        .map_err(|e| Hub2ApiError::bad_request(format!("malformed JSON body: {e}")))?;
    request_rules::check(
        request_rules::Api::Hub2,
        request_rules::schema_name_of::<T>(),
        &bytes,
    )
    .map_err(|violation| Hub2ApiError::invalid(violation.field(), violation.to_string()))?;
    Ok(value)
}

/// Whether `value` is a valid merchant reference (`^[A-Za-z0-9_. -]+$`).
fn reference_is_valid(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b' ' | b'-'))
}

/// 400 `invalid-<field>` unless `value` is a valid reference (paygate's
/// own check, then the pattern).
pub(super) fn check_reference(field: &'static str, value: &str) -> Result<(), Hub2ApiError> {
    match paygate::hub2::client::validate_reference(field, value) {
        Ok(()) if reference_is_valid(value) => Ok(()),
        Err(paygate::hub2::Hub2Error::Invalid { message, .. }) => {
            Err(Hub2ApiError::invalid(field, format!("{field} {message}")))
        }
        _ => Err(Hub2ApiError::invalid(
            field,
            format!("{field} must match /^[A-Za-z0-9_. -]+$/: {value:?}"),
        )),
    }
}

/// 400 `invalid-amount` unless the amount is positive and at most
/// [`MAX_HUB2_AMOUNT`].
pub(super) fn check_amount(amount: i64) -> Result<(), Hub2ApiError> {
    if amount <= 0 {
        return Err(Hub2ApiError::invalid(
            "amount",
            format!("amount must be a positive integer, not {amount}"),
        ));
    }
    if amount > MAX_HUB2_AMOUNT {
        return Err(Hub2ApiError::invalid(
            "amount",
            format!(
                "amount must be at most {MAX_HUB2_AMOUNT} (the simulator's maximum; HUB2 documents none), not {amount}"
            ),
        ));
    }
    Ok(())
}

/// 400 `invalid-currency` for a currency HUB2 does not list.
pub(super) fn check_currency(currency: &Currency) -> Result<(), Hub2ApiError> {
    if matches!(currency, Currency::Unknown(_)) {
        return Err(Hub2ApiError::invalid(
            "currency",
            format!("currency {currency} is not supported (XOF, XAF, GNF, CDF)"),
        ));
    }
    Ok(())
}

/// 400 `invalid-<field>` unless `msisdn` is 6 to 15 digits (a leading `+`
/// allowed).
pub(super) fn check_msisdn(field: &str, msisdn: &str) -> Result<(), Hub2ApiError> {
    let digits = msisdn.strip_prefix('+').unwrap_or(msisdn);
    if digits.len() < 6 || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Hub2ApiError::invalid(
            field,
            format!("{field} must be a phone number of 6 to 15 digits, not {msisdn:?}"),
        ));
    }
    Ok(())
}

/// Whether `code` is an OTP: 4 digits.
pub(super) fn is_otp(code: &str) -> bool {
    code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit())
}
