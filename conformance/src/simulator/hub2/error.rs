//! HUB2's refusals: [`Hub2ApiError`], rendered as the spec's `Error` body
//! `{status, code, message, request_id}` (with `Retry-After` when rate
//! limited). Every HUB2 handler, extractor and middleware refuses with it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// A refusal in the spec's `Error` shape.
#[derive(Debug)]
pub(crate) struct Hub2ApiError {
    /// The HTTP status, also the body's `status`.
    pub(crate) status: StatusCode,
    /// The body's `code`: the reason phrase, `invalid-<field>` or a
    /// business code.
    pub(crate) code: String,
    /// The body's `message`.
    pub(crate) message: String,
    /// `Retry-After` (seconds), for 429.
    pub(crate) retry_after: Option<u64>,
}

impl Hub2ApiError {
    /// `status` with its reason phrase as `code`.
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Hub2ApiError {
            status,
            code: status.canonical_reason().unwrap_or("Error").to_owned(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same refusal with a business `code`.
    pub(crate) fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = code.into();
        self
    }

    /// 400.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Hub2ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 400 with code `invalid-<field>`.
    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        Hub2ApiError::bad_request(message).with_code(format!("invalid-{field}"))
    }

    /// 401.
    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Hub2ApiError::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 403.
    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Hub2ApiError::new(StatusCode::FORBIDDEN, message)
    }

    /// 404.
    /// 500: the simulator could not save the change (`--db`).
    pub(crate) fn storage(err: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the simulator could not save the request: {err}"),
        )
        .with_code("storage")
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Hub2ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// 409.
    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        Hub2ApiError::new(StatusCode::CONFLICT, message)
    }

    /// 429 with `Retry-After: retry_after` (seconds).
    pub(crate) fn too_many(message: impl Into<String>, retry_after: u64) -> Self {
        let mut err = Hub2ApiError::new(StatusCode::TOO_MANY_REQUESTS, message);
        err.retry_after = Some(retry_after);
        err
    }
}

static REQUEST_SERIAL: AtomicU64 = AtomicU64::new(0);

/// A unique `request_id`.
fn request_id() -> String {
    let n = REQUEST_SERIAL.fetch_add(1, Ordering::Relaxed);
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    format!("req_{:x}{n:06}", started & 0xffff_ffff)
}

impl IntoResponse for Hub2ApiError {
    fn into_response(self) -> Response {
        let request_id = request_id();
        tracing::info!(http = self.status.as_u16(), code = %self.code, message = %self.message, %request_id, "HUB2 request refused");
        let body = paygate::hub2::models::Error {
            status: i64::from(self.status.as_u16()),
            code: self.code,
            message: self.message,
            request_id,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}
