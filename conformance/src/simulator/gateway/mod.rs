//! The gateway methods: `POST /{public_id}/{method}`.
//!
//! * this module: routing, reading and authenticating the body, errors;
//! * [`payments`]: `payment_c2b`, `payment_b2c`, `status` (with the OTP a
//!   status request may carry), `banks`;
//! * [`pos`]: POS `deposit` and `withdrawal` (confirmation, holds);
//! * [`bulk`]: bulk payouts.

mod bulk;
mod payments;
mod pos;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value as Json;

use paygate::signing::{verify_json, VerifyError};

use super::codes;
use super::request_rules;
use super::wire;
use super::{MerchantEntry, SimulatorState, WorkError};

/// A refusal: HTTP status, `result.code` and message.
#[derive(Debug)]
pub(crate) struct ApiError {
    http: StatusCode,
    code: i64,
    message: String,
}

impl ApiError {
    pub(crate) fn new(http: StatusCode, code: i64, message: impl Into<String>) -> Self {
        ApiError {
            http,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, message)
    }

    pub(crate) fn authentication(detail: impl std::fmt::Display) -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            codes::AUTHENTICATION,
            format!("{}: {detail}", codes::AUTHENTICATION_PREFIX),
        )
    }

    pub(crate) fn rules(messages: Vec<String>) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            codes::RULE_VIOLATION,
            messages.join("; "),
        )
    }

    pub(crate) fn conflict(order_id: &str) -> Self {
        ApiError::new(
            StatusCode::CONFLICT,
            codes::CONFLICT,
            format!("order_id already used with a different request (order_id {order_id:?})"),
        )
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, codes::NOT_FOUND, message)
    }

    /// The database refused a write: nothing was accepted.
    pub(crate) fn storage(err: impl std::fmt::Display) -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL,
            format!("the simulator could not save the request: {err}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.http.is_server_error() {
            tracing::error!(code = self.code, message = %self.message, "simulator error");
        } else {
            tracing::info!(http = self.http.as_u16(), code = self.code, message = %self.message, "request refused");
        }
        json_response(self.http, wire::error_body(self.code, &self.message))
    }
}

/// A JSON answer with exactly these bytes.
pub(crate) fn json_response(status: StatusCode, body: Bytes) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Any path that is not a route.
pub(crate) async fn not_found() -> Response {
    ApiError::not_found("no such endpoint; gateway methods are POST /{public_id}/{method}")
        .into_response()
}

/// A route called with the wrong HTTP method.
pub(crate) async fn method_not_allowed() -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        codes::METHOD_NOT_ALLOWED,
        "method not allowed on this path",
    )
    .into_response()
}

/// Entry point of every gateway method.
pub(crate) async fn handle(
    State(state): State<SimulatorState>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Ok(Path((public_id, method))) = path else {
        return ApiError::not_found("the path is not /{public_id}/{method}").into_response();
    };
    match dispatch(&state, &public_id, &method, &headers, body).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

/// `POST /{public_id}/payment_b2c/bulk[/details|/cancel]`.
pub(crate) async fn handle_bulk(
    State(state): State<SimulatorState>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Ok(Path((public_id, what))) = path else {
        return ApiError::not_found("the path is not /{public_id}/payment_b2c/bulk/...")
            .into_response();
    };
    let method = match what.as_str() {
        "bulk" => "payment_b2c/bulk",
        "details" => "payment_b2c/bulk/details",
        "cancel" => "payment_b2c/bulk/cancel",
        _ => "",
    };
    match dispatch(&state, &public_id, method, &headers, body).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

const METHODS: [&str; 9] = [
    "payment_c2b",
    "payment_b2c",
    "status",
    "deposit",
    "withdrawal",
    "banks",
    "payment_b2c/bulk",
    "payment_b2c/bulk/details",
    "payment_b2c/bulk/cancel",
];

async fn dispatch(
    state: &SimulatorState,
    public_id: &str,
    method: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if !METHODS.contains(&method) {
        return Err(ApiError::not_found(format!(
            "unknown method {method:?}; the simulator serves {}",
            METHODS.join(", ")
        )));
    }
    check_content_type(headers)?;
    let bytes = read_body(headers, body, state.config().max_body_bytes).await?;
    let merchant = state
        .0
        .merchants
        .get(public_id)
        .ok_or_else(|| ApiError::not_found(format!("unknown public_id {public_id:?}")))?;
    authenticate(merchant, &bytes)?;
    // The body as a JSON tree, parsed once for the two checks that walk it:
    // the callback URLs here, the spec's request rules in `decode`. A body
    // that is not JSON has neither (the typed decoding refuses it).
    let json: Option<Json> = serde_json::from_slice(&bytes).ok();
    // A callback to the simulator itself could reach its control API.
    if let Some(refusal) = json
        .as_ref()
        .and_then(|json| super::self_url::self_pointing_callback(&state.0.self_address, json))
    {
        return Err(ApiError::rules(vec![refusal]));
    }
    tracing::debug!(public_id, method, "authenticated request");
    let method = METHODS.iter().copied().find(|m| *m == method).unwrap_or("");
    let owned_id = public_id.to_owned();
    let body = bytes.clone();
    let response = state
        .blocking(move |state| run_method(state, &owned_id, method, &body, json.as_ref()))
        .await
        .unwrap_or_else(|err| match err {
            WorkError::Storage(err) => Err(ApiError::storage(err)),
            WorkError::Stopped => Err(ApiError::storage("the request's work stopped unexpectedly")),
        })?;
    Ok(with_fault(state, public_id, method, &bytes, response).await)
}

/// The methods whose accepted answers a fault profile may disrupt: those
/// that commit a payment.
const FAULTY_METHODS: [&str; 4] = ["payment_c2b", "payment_b2c", "deposit", "withdrawal"];

#[derive(Deserialize)]
struct OrderProbe {
    order_id: String,
}

/// The answer as the merchant's fault profile makes it (see
/// [`super::faults`]): only an answer that accepted the request, which is
/// already stored, so the outcome is truly ambiguous to the client.
async fn with_fault(
    state: &SimulatorState,
    public_id: &str,
    method: &str,
    bytes: &[u8],
    response: Response,
) -> Response {
    if !FAULTY_METHODS.contains(&method)
        || !response.status().is_success()
        || !state.0.faults.any_for(public_id)
    {
        return response;
    }
    let Ok(OrderProbe { order_id }) = serde_json::from_slice(bytes) else {
        return response;
    };
    let Some(fault) = state.0.faults.answer_fault(public_id, method, &order_id) else {
        return response;
    };
    let slow = state
        .0
        .faults
        .profile(public_id)
        .map_or(0, |profile| profile.slow_ms);
    super::faults::disrupt(response, fault, std::time::Duration::from_millis(slow)).await
}

/// The method itself, on an authenticated body: the part that reads and
/// changes the store (see [`SimulatorState::blocking`]).
fn run_method(
    state: &SimulatorState,
    public_id: &str,
    method: &str,
    bytes: &[u8],
    json: Option<&Json>,
) -> Result<Response, ApiError> {
    let merchant = state
        .0
        .merchants
        .get(public_id)
        .ok_or_else(|| ApiError::not_found(format!("unknown public_id {public_id:?}")))?;
    match method {
        "payment_c2b" => payments::payment_c2b(state, merchant, decode(bytes, json)?),
        "payment_b2c" => payments::payment_b2c(state, merchant, decode(bytes, json)?),
        "status" => payments::status(state, merchant, &decode(bytes, json)?),
        "banks" => payments::banks(state, &decode(bytes, json)?),
        "deposit" => pos::deposit(state, merchant, decode(bytes, json)?),
        "withdrawal" => pos::withdrawal(state, merchant, decode(bytes, json)?),
        "payment_b2c/bulk" => bulk::create(state, merchant, decode(bytes, json)?),
        "payment_b2c/bulk/details" => bulk::details(state, merchant, &decode(bytes, json)?),
        _ => bulk::cancel(state, merchant, &decode(bytes, json)?),
    }
}

fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json")) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type must be application/json, not {value:?}"),
        ))
    }
}

async fn read_body(headers: &HeaderMap, body: Body, max: usize) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {max} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, max).await.map_err(|err| {
        let err = err.into_inner();
        if err.is::<http_body_util::LengthLimitError>() {
            too_large()
        } else if crate::simulator::serve::is_body_timeout(err.as_ref()) {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                codes::REQUEST_TIMEOUT,
                "the body did not arrive within the body timeout",
            )
        } else {
            // The client stopped sending (a cut connection, a short
            // Content-Length, a broken chunk): not a size problem.
            ApiError::new(
                StatusCode::BAD_REQUEST,
                codes::BAD_REQUEST,
                format!("the body could not be read to its end: {err}"),
            )
        }
    })
}

#[derive(Deserialize)]
struct MerchantProbe {
    #[serde(default)]
    merchant_id: Option<Loose>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Loose {
    Text(String),
    #[allow(dead_code)]
    Other(serde::de::IgnoredAny),
}

/// Verifies the signature over the raw bytes, then the merchant id.
fn authenticate(merchant: &MerchantEntry, bytes: &[u8]) -> Result<(), ApiError> {
    match verify_json(&merchant.key, bytes) {
        Ok(()) => {}
        Err(VerifyError::Json(err)) => {
            return Err(ApiError::bad_request(format!("malformed body: {err}")))
        }
        Err(err) => return Err(ApiError::authentication(err)),
    }
    if let Ok(MerchantProbe {
        merchant_id: Some(Loose::Text(id)),
    }) = serde_json::from_slice(bytes)
    {
        if id != merchant.merchant.merchant_id {
            return Err(ApiError::authentication(format!(
                "merchant_id {id:?} is unknown for this public_id"
            )));
        }
    }
    Ok(())
}

/// Decodes the typed request, then holds it to its schema's constraints
/// (`null`, lengths, enums: [`request_rules`]); errors name the JSON path.
fn decode<T: DeserializeOwned>(bytes: &[u8], json: Option<&Json>) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if path == "." {
            ApiError::bad_request(format!("request: {inner}"))
        } else {
            ApiError::bad_request(format!("{path}: {inner}"))
        }
    })?;
    // The typed decoding took the body, so it is JSON and `json` is its
    // tree (`None` only for a body that is not JSON, which never gets here).
    if let Some(json) = json {
        request_rules::check_value(
            request_rules::Api::Gateway,
            request_rules::schema_name_of::<T>(),
            json,
        )
        .map_err(|violation| ApiError::bad_request(violation.to_string()))?;
    }
    Ok(value)
}
