//! Everything that can go wrong when talking to HUB2, as types.

use std::time::Duration;

/// Why a HUB2 client call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Hub2Error {
    /// A field of the request (or an id, or the configuration) breaks a rule
    /// HUB2 enforces; nothing was sent. `message` says which rule.
    #[error("request rejected before sending: {field} {message}")]
    Invalid {
        /// The field at fault, under its JSON name (`purchaseReference`,
        /// `id`, `base_url`, ...).
        field: String,
        /// The rule it broke and what was found.
        message: String,
    },
    /// The HTTP stack could not be started.
    #[error("client configuration: {0}")]
    Config(String),
    /// No HTTP response after every attempt.
    #[error("no response from {url} after {attempts} attempt(s): {source}")]
    Transport {
        /// The URL called.
        url: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last transport error.
        #[source]
        source: reqwest::Error,
    },
    /// HUB2 refused the request with an `Error` body.
    #[error("HUB2 error {code} (HTTP {http_status}): {message} [request_id {request_id}]")]
    Api {
        /// The HTTP status of the response.
        http_status: u16,
        /// `code`: the reason phrase (`Not Found`) or a business code
        /// (`insufficient-funds`).
        code: String,
        /// `message`.
        message: String,
        /// `request_id`, to quote to HUB2 support.
        request_id: String,
    },
    /// An HTTP error status without an `Error` body.
    #[error("HTTP {http_status} from HUB2: {body}")]
    Http {
        /// The HTTP status.
        http_status: u16,
        /// The start of the body, for diagnosis.
        body: String,
    },
    /// HTTP 429: HUB2 throttles the caller (after the retries the request
    /// allows). `retry_after` is HUB2's `Retry-After`, if it sent one.
    #[error("rate limited by HUB2 (HTTP 429), retry after {retry_after:?}")]
    RateLimited {
        /// How long HUB2 asked to wait.
        retry_after: Option<Duration>,
    },
    /// A success response that does not match the spec.
    #[error("response does not match the spec at `{path}`: {message}")]
    Decode {
        /// Where in the JSON the mismatch is.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The request may or may not have been carried out, and the client
    /// could not tell (see the client's `recovery` docs): a timeout or a
    /// connection lost after sending, a body cut short, an HTTP 5xx, or a
    /// 2xx that is not the spec's object. For a transfer, HUB2's
    /// `transfer.*` webhook with this `reference` settles it; do **not**
    /// create it again under a new reference before then.
    #[error("outcome of {call} for {reference:?} unknown after {attempts} request(s): {last}")]
    Ambiguous {
        /// The call (`createTransfer`, `attemptPayment`, ...).
        call: &'static str,
        /// The merchant's reference (or the intent id for an attempt).
        reference: String,
        /// Requests sent.
        attempts: u32,
        /// What the last request came to.
        #[source]
        last: Box<Hub2Error>,
    },
    /// A payment attempt sent again after an ambiguous outcome was refused
    /// with HTTP 409: the earlier request *was* taken (an attempt is in
    /// progress, or the intent is paid). Nothing more was sent; the
    /// intent (read by the merchant's server) or its webhook says how it
    /// ends.
    #[error("payment attempt on {intent_id} already taken (HUB2 refused the replay with 409 after {attempts} request(s))")]
    AttemptTaken {
        /// The intent.
        intent_id: String,
        /// Requests sent.
        attempts: u32,
    },
    /// `wait_for_payment_intent` reached its deadline while the intent was
    /// still `processing` or `action_required`.
    #[error("payment intent {id} still pending at the deadline (last status {last_status:?})")]
    Deadline {
        /// The payment intent.
        id: String,
        /// The last status seen, if any.
        last_status: Option<String>,
    },
}

impl Hub2Error {
    /// The HTTP status of the answer behind this error, if there was one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Hub2Error::Api { http_status, .. } | Hub2Error::Http { http_status, .. } => {
                Some(*http_status)
            }
            Hub2Error::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// HUB2's error `code`, if HUB2 sent an `Error` body.
    pub fn code(&self) -> Option<&str> {
        match self {
            Hub2Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// HUB2's `request_id`, if HUB2 sent an `Error` body.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Hub2Error::Api { request_id, .. } => Some(request_id),
            _ => None,
        }
    }
}
