//! Everything that can go wrong when talking to the gateway, as types.

use crate::gateway::validate::Violations;
use crate::signing::SignError;

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The request broke a provider rule; nothing was sent.
    #[error("request rejected before sending: {0}")]
    Invalid(#[from] Violations),
    /// The request could not be signed (nesting too deep).
    #[error("request cannot be signed: {0}")]
    Sign(#[from] SignError),
    /// The configuration is unusable (for example a malformed base URL).
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
    /// The gateway answered with a non-zero `result.code` (under any HTTP
    /// status, 200 included).
    #[error("gateway error {code} (HTTP {http_status}): {message}")]
    Gateway {
        /// The HTTP status of the response.
        http_status: u16,
        /// `result.code`.
        code: i64,
        /// `result.message`.
        message: String,
    },
    /// The gateway kept answering HTTP 429 or 5xx until the retries ran out,
    /// or answered an HTTP error without a `result` body.
    #[error("HTTP {http_status} from the gateway: {body}")]
    Http {
        /// The HTTP status.
        http_status: u16,
        /// The start of the body, for diagnosis.
        body: String,
    },
    /// The response is not what the spec says.
    #[error("response does not match the spec at `{path}`: {message}")]
    Decode {
        /// Where in the JSON the mismatch is.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A payment request may or may not have been taken, and recovery (see
    /// [`Recovery`](super::Recovery)) could not tell: nothing answered it,
    /// and `status` could not be asked or did not answer. Re-send the same
    /// request (same `order_id`) later, or ask `status`; never send the
    /// payment under a new `order_id`.
    #[error("outcome of order {order_id} unknown after {attempts} request(s): {last}")]
    Ambiguous {
        /// The order whose outcome is unknown.
        order_id: String,
        /// Payment requests sent.
        attempts: u32,
        /// The last thing that went wrong.
        last: Box<ClientError>,
    },
    /// `wait_for_final_status` reached its deadline; the last status seen
    /// is kept.
    #[error(
        "no final status for order {order_id} before the deadline (last status {last_status:?})"
    )]
    Deadline {
        /// The order polled.
        order_id: String,
        /// The last status code seen, if any.
        last_status: Option<i64>,
    },
}

impl ClientError {
    /// The HTTP status of the answer behind this error, if there was one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            ClientError::Gateway { http_status, .. } | ClientError::Http { http_status, .. } => {
                Some(*http_status)
            }
            _ => None,
        }
    }

    /// Whether the payment may have been taken although the call failed
    /// ([`ClientError::Ambiguous`]).
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, ClientError::Ambiguous { .. })
    }

    /// The gateway's `result.code`, if the gateway gave one.
    pub fn gateway_code(&self) -> Option<i64> {
        match self {
            ClientError::Gateway { code, .. } => Some(*code),
            _ => None,
        }
    }
}
