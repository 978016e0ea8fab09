//! Payments that are never taken twice: what the client does when an
//! answer does not say whether the payment was taken.
//!
//! An outcome is *ambiguous* when the request may have reached the
//! gateway but no answer says what happened: a timeout or a connection
//! lost after the request left (not a refused connection), a body cut
//! short, an HTTP 5xx, or an HTTP 2xx that is not a success answer (an
//! error code, or a body that does not decode). HTTP 4xx and 429 answers
//! are not ambiguous: the request was refused.
//!
//! The client never sends a new `order_id` on its own. Under the default
//! [`Recovery::ReplayThenStatus`] it re-sends the *identical bytes* (the
//! gateway is idempotent by `order_id`: a replay is answered with the
//! original outcome and takes nothing again) within the
//! [`RetryPolicy`](super::RetryPolicy); a 2xx error answer is not
//! replayed. If the outcome is still unknown it asks `status` for the
//! order: a status answer is the outcome. If `status` does not know the
//! order (HTTP 404), the payment was not taken when it asked, and the same
//! bytes are sent once more (a request still on its way would be
//! recognised as a replay). Only what is left after that is
//! [`ClientError::Ambiguous`].
//!
//! [`Reply::resolution`](super::Reply::resolution) says how the outcome was
//! learned.

use super::{decode_response, ClientError, GatewayClient};
use crate::gateway::PaymentResponse;
use crate::http::retry_after;

/// What a payment call does with an ambiguous outcome (see the module
/// docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recovery {
    /// Re-send the identical bytes, then ask `status`. The default.
    #[default]
    ReplayThenStatus,
    /// Re-send the identical bytes only.
    Replay,
    /// Nothing: the first ambiguous outcome is
    /// [`ClientError::Ambiguous`]. For tests that prove a caller's own
    /// recovery, or the lack of one.
    Disabled,
}

/// How the outcome of a payment call was learned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resolution {
    /// The first answer said it.
    #[default]
    Answered,
    /// The answer to a re-sent identical request said it (`attempts`
    /// requests in all).
    Replayed {
        /// Requests sent, the first included.
        attempts: u32,
    },
    /// No answer said it; the order's `status` did (`attempts` payment
    /// requests had been sent).
    ByStatus {
        /// Payment requests sent.
        attempts: u32,
    },
}

/// What one send produced.
enum Sent {
    /// A definite answer: success, or a refusal.
    Definite(Box<Result<PaymentResponse, ClientError>>),
    /// Not sent, or refused for now (refused connection, 429): safe to
    /// try again, nothing taken.
    NotTaken(ClientError, Option<std::time::Duration>),
    /// May or may not have been taken; `replayable` is false for a 2xx
    /// error answer (re-sending would get the same answer).
    Ambiguous {
        error: ClientError,
        replayable: bool,
    },
}

impl GatewayClient {
    /// Sends a signed payment body (`payment_c2b`, `payment_b2c`,
    /// `deposit`, `withdrawal`) for `order_id`, recovering from ambiguous
    /// outcomes as [`ClientConfig::recovery`](super::ClientConfig) says.
    pub(super) async fn send_payment(
        &self,
        url: &str,
        body: Vec<u8>,
        order_id: &str,
    ) -> Result<(PaymentResponse, Resolution), ClientError> {
        let recovery = self.config.recovery;
        let retry = self.config.retry;
        let max_attempts = retry.max_attempts.max(1);
        let mut attempt = 0u32;
        let last = loop {
            attempt += 1;
            let wait = match self.send_once(url, &body, attempt).await {
                Sent::Definite(result) => {
                    return (*result).map(|r| (r, resolution_after(attempt)));
                }
                Sent::NotTaken(error, _) if attempt >= max_attempts => return Err(error),
                Sent::NotTaken(_, after) => after.unwrap_or_else(|| retry.backoff(attempt)),
                Sent::Ambiguous { error, .. } if recovery == Recovery::Disabled => {
                    return Err(ambiguous(order_id, attempt, error));
                }
                Sent::Ambiguous { error, replayable } => {
                    if !replayable || attempt >= max_attempts {
                        break error;
                    }
                    retry.backoff(attempt)
                }
            };
            tokio::time::sleep(wait.min(retry.max_backoff)).await;
        };
        if recovery != Recovery::ReplayThenStatus {
            return Err(ambiguous(order_id, attempt, last));
        }
        match self.status(order_id).await {
            Ok(status) => {
                tracing::info!(
                    order_id,
                    attempts = attempt,
                    status = status.status.code(),
                    "payment outcome resolved by status"
                );
                Ok((status, Resolution::ByStatus { attempts: attempt }))
            }
            Err(err) if err.http_status() == Some(404) => {
                // Not taken when status looked: the same bytes once more.
                attempt += 1;
                match self.send_once(url, &body, attempt).await {
                    Sent::Definite(result) => (*result).map(|r| (r, resolution_after(attempt))),
                    Sent::NotTaken(error, _) | Sent::Ambiguous { error, .. } => {
                        Err(ambiguous(order_id, attempt, error))
                    }
                }
            }
            Err(_) => Err(ambiguous(order_id, attempt, last)),
        }
    }

    /// One POST of `body`, classified.
    async fn send_once(&self, url: &str, body: &[u8], attempt: u32) -> Sent {
        let sent = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec())
            .send()
            .await;
        let transport = |source: reqwest::Error| ClientError::Transport {
            url: url.to_owned(),
            attempts: attempt,
            source,
        };
        let response = match sent {
            Ok(response) => response,
            // Refused before anything was sent.
            Err(err) if err.is_connect() => return Sent::NotTaken(transport(err), None),
            Err(err) => {
                return Sent::Ambiguous {
                    error: transport(err),
                    replayable: true,
                }
            }
        };
        let status = response.status().as_u16();
        let after = retry_after(&response);
        let bytes = match response.bytes().await {
            Ok(bytes) => bytes,
            Err(err) => {
                return Sent::Ambiguous {
                    error: transport(err),
                    replayable: true,
                }
            }
        };
        let decoded = decode_response::<PaymentResponse>(status, &bytes);
        match status {
            429 => Sent::NotTaken(
                decoded.err().unwrap_or(ClientError::Http {
                    http_status: status,
                    body: String::new(),
                }),
                after,
            ),
            500..=599 => Sent::Ambiguous {
                error: decoded.err().unwrap_or(ClientError::Http {
                    http_status: status,
                    body: String::new(),
                }),
                replayable: true,
            },
            200..=299 => match decoded {
                Ok(response) => Sent::Definite(Box::new(Ok(response))),
                Err(error) => Sent::Ambiguous {
                    error,
                    replayable: false,
                },
            },
            _ => Sent::Definite(Box::new(decoded)),
        }
    }
}

fn resolution_after(attempts: u32) -> Resolution {
    if attempts <= 1 {
        Resolution::Answered
    } else {
        Resolution::Replayed { attempts }
    }
}

fn ambiguous(order_id: &str, attempts: u32, last: ClientError) -> ClientError {
    tracing::warn!(order_id, attempts, error = %last, "payment outcome unknown");
    ClientError::Ambiguous {
        order_id: order_id.to_owned(),
        attempts,
        last: Box::new(last),
    }
}
