//! HUB2 calls that never pay twice: what the clients do when the answer to
//! a call that creates something does not say whether it happened.
//!
//! An outcome is *ambiguous* when the request may have reached HUB2 but no
//! answer says what happened: a timeout or a connection lost after the
//! request left (not a refused connection), a body cut short, an HTTP 5xx,
//! or an HTTP 2xx whose body is not the spec's object. HTTP 4xx and 429
//! answers are not ambiguous: the request was refused.
//!
//! HUB2 has no idempotency key, so what is safe depends on the call:
//!
//! | call | money moves? | on an ambiguous outcome ([`Hub2Recovery::Resolve`]) |
//! |---|---|---|
//! | `create_payment_intent` | no | sent again: at worst an intent nobody holds the token of stays `payment_required` (nothing is ever collected on it) |
//! | `attempt_payment` (either client) | yes | sent again with the same token: an intent is paid at most once and refuses a new attempt while one is in progress or once it succeeded (HTTP 409), so a replay either *is* the attempt or is refused |
//! | on the merchant's server ([`Hub2Client::attempt_payment`]) | | the intent is read after each ambiguous outcome: an attempt in progress, successful or failed is the outcome ([`Hub2Resolution::ByIntent`]); still `payment_required` means nothing was taken, and the same body is sent again |
//! | on the device ([`Hub2PaymentClient`], which may not read intents) | | a 409 to the replay means the earlier request was taken: [`Hub2Error::AttemptTaken`] |
//! | `create_transfer`, `create_delegated_transfer`, `create_delegated_payment` | yes | **never sent again**: a second request would be a second pay-out (or a second intent and debit), and a transfer cannot be looked up by the merchant's `reference`. [`Hub2Error::Ambiguous`] carries the reference; the `transfer.*` (or `payment*`) webhook with that reference settles it |
//!
//! With [`Hub2Recovery::Disabled`] the first ambiguous outcome of any call
//! is [`Hub2Error::Ambiguous`]: for tests that prove a caller's own
//! recovery, or the lack of one. Refused connections are retried as before
//! (nothing was taken), within the [`RetryPolicy`]; HTTP 429 is returned as
//! [`Hub2Error::RateLimited`] (not processed; the caller schedules).
//!
//! [`RetryPolicy`]: super::RetryPolicy

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{
    decode_answer, encode, error_of, require_token, validate_id, validate_reference, Hub2Client,
    Hub2Error, Hub2PaymentClient, Transport,
};
use crate::hub2::models::{AttemptPaymentRequest, PaymentIntent, PaymentIntentStatus};

/// What a creating call does with an ambiguous outcome (module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hub2Recovery {
    /// Send again where that cannot pay twice, resolve by reading the
    /// intent where the client may, and say so where neither is possible.
    /// The default.
    #[default]
    Resolve,
    /// The first ambiguous outcome is [`Hub2Error::Ambiguous`].
    Disabled,
}

/// How the outcome of a creating call was learned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hub2Resolution {
    /// The first answer said it.
    #[default]
    Answered,
    /// The answer to the same body sent again said it (`attempts`
    /// requests in all).
    Replayed {
        /// Requests sent, the first included.
        attempts: u32,
    },
    /// Reading the intent said it (`attempts` attempt requests had been
    /// sent).
    ByIntent {
        /// Attempt requests sent.
        attempts: u32,
    },
}

/// A creating call's result and how it was learned.
#[derive(Clone, Debug)]
pub struct Hub2Reply<T> {
    /// What HUB2 answered (or what reading it said).
    pub value: T,
    /// How.
    pub resolution: Hub2Resolution,
}

/// What one send produced.
enum Sent<T> {
    /// A definite answer: the object, or a refusal (with its status).
    Definite(Result<T, Hub2Error>),
    /// Not taken, safe to send again: a refused connection.
    NotTaken(Hub2Error),
    /// May or may not have been taken.
    Ambiguous(Hub2Error),
}

impl Transport {
    /// One POST of `body`, classified (module docs).
    async fn post_once<T: DeserializeOwned>(
        &self,
        path: &str,
        headers: &HeaderMap,
        body: &[u8],
        attempt: u32,
    ) -> Sent<T> {
        let url = self.url(path);
        let sent = self
            .http
            .request(Method::POST, &url)
            .headers(headers.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec())
            .send()
            .await;
        let transport = |source: reqwest::Error| Hub2Error::Transport {
            url: url.clone(),
            attempts: attempt,
            source,
        };
        let response = match sent {
            Ok(response) => response,
            Err(err) if err.is_connect() => return Sent::NotTaken(transport(err)),
            Err(err) => return Sent::Ambiguous(transport(err)),
        };
        let status = response.status().as_u16();
        let retry_after = crate::http::retry_after(&response);
        let bytes = match response.bytes().await {
            Ok(bytes) => bytes,
            Err(err) => return Sent::Ambiguous(transport(err)),
        };
        match status {
            // Not processed; the caller decides when to send again (as
            // before this module: a POST is never re-sent on 429 here).
            429 => Sent::Definite(Err(error_of(status, retry_after, &bytes))),
            500..=599 => Sent::Ambiguous(error_of(status, retry_after, &bytes)),
            200..=299 => match decode_answer(status, retry_after, &bytes) {
                Ok(value) => Sent::Definite(Ok(value)),
                Err(error) => Sent::Ambiguous(error),
            },
            _ => Sent::Definite(Err(error_of(status, retry_after, &bytes))),
        }
    }

    /// Sends `body` until an answer is definite, as far as `replay` allows
    /// after an ambiguous outcome: `Ok` is the definite answer and the
    /// number of requests sent; `Err` is either a definite refusal
    /// ([`Stopped::Refused`]) or an outcome still unknown
    /// ([`Stopped::Unknown`]).
    async fn post_recovering<T: DeserializeOwned>(
        &self,
        path: &str,
        headers: &HeaderMap,
        body: &[u8],
        replay: bool,
    ) -> Result<(T, u32), Stopped> {
        let max_attempts = self.retry.max_attempts.max(1);
        let mut ambiguous_seen = false;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let wait = match self.post_once(path, headers, body, attempt).await {
                Sent::Definite(Ok(value)) => return Ok((value, attempt)),
                Sent::Definite(Err(error)) => {
                    return Err(Stopped::Refused {
                        error,
                        attempts: attempt,
                        after_ambiguous: ambiguous_seen,
                    })
                }
                Sent::NotTaken(error) if attempt >= max_attempts => {
                    return Err(if ambiguous_seen {
                        Stopped::Unknown {
                            last: error,
                            attempts: attempt,
                        }
                    } else {
                        Stopped::Refused {
                            error,
                            attempts: attempt,
                            after_ambiguous: false,
                        }
                    })
                }
                Sent::NotTaken(_) => self.retry.backoff(attempt),
                Sent::Ambiguous(last) if !replay || attempt >= max_attempts => {
                    return Err(Stopped::Unknown {
                        last,
                        attempts: attempt,
                    })
                }
                Sent::Ambiguous(_) => {
                    ambiguous_seen = true;
                    self.retry.backoff(attempt)
                }
            };
            tokio::time::sleep(wait.min(self.retry.max_backoff)).await;
        }
    }
}

/// Why [`Transport::post_recovering`] stopped without an object.
enum Stopped {
    /// HUB2 refused the request (`after_ambiguous`: an earlier request of
    /// the same call had an ambiguous outcome).
    Refused {
        error: Hub2Error,
        attempts: u32,
        after_ambiguous: bool,
    },
    /// The outcome is still unknown.
    Unknown { last: Hub2Error, attempts: u32 },
}

fn ambiguous(call: &'static str, reference: &str, attempts: u32, last: Hub2Error) -> Hub2Error {
    tracing::warn!(call, reference, attempts, error = %last, "HUB2 outcome unknown");
    Hub2Error::Ambiguous {
        call,
        reference: reference.to_owned(),
        attempts,
        last: Box::new(last),
    }
}

fn resolution_after(attempts: u32) -> Hub2Resolution {
    if attempts <= 1 {
        Hub2Resolution::Answered
    } else {
        Hub2Resolution::Replayed { attempts }
    }
}

/// A creating call: its name (for errors and logs), the merchant's
/// reference it carries, its path, and whether sending it again after an
/// ambiguous outcome is safe.
pub(super) struct CreatingCall<'a> {
    pub(super) name: &'static str,
    pub(super) reference: &'a str,
    pub(super) path: &'a str,
    pub(super) replay_safe: bool,
}

/// A creating call under `recovery`: replayed when it is safe.
pub(super) async fn create<Req: Serialize, T: DeserializeOwned>(
    transport: &Transport,
    recovery: Hub2Recovery,
    call: CreatingCall<'_>,
    headers: &HeaderMap,
    request: &Req,
) -> Result<Hub2Reply<T>, Hub2Error> {
    let body = encode(request)?;
    let replay = call.replay_safe && recovery == Hub2Recovery::Resolve;
    match transport
        .post_recovering(call.path, headers, &body, replay)
        .await
    {
        Ok((value, attempts)) => Ok(Hub2Reply {
            value,
            resolution: resolution_after(attempts),
        }),
        Err(Stopped::Refused { error, .. }) => Err(error),
        Err(Stopped::Unknown { last, attempts }) => {
            Err(ambiguous(call.name, call.reference, attempts, last))
        }
    }
}

/// The path and body of a payment attempt on `intent_id`, once the id and
/// the token are checked.
fn attempt_request(
    intent_id: &str,
    request: &AttemptPaymentRequest,
) -> Result<(String, Vec<u8>), Hub2Error> {
    validate_id("intent_id", intent_id)?;
    require_token(&request.token)?;
    Ok((
        format!("/payment-intents/{intent_id}/payments"),
        encode(request)?,
    ))
}

impl Hub2PaymentClient {
    /// [`Hub2PaymentClient::attempt_payment`] with how the outcome was
    /// learned. A replay refused with 409 is [`Hub2Error::AttemptTaken`]:
    /// this client may not read the intent; the merchant's server can
    /// (or its webhook says).
    pub async fn attempt_payment_reply(
        &self,
        intent_id: &str,
        request: &AttemptPaymentRequest,
    ) -> Result<Hub2Reply<PaymentIntent>, Hub2Error> {
        let (path, body) = attempt_request(intent_id, request)?;
        let replay = self.recovery == Hub2Recovery::Resolve;
        match self
            .transport
            .post_recovering(&path, &HeaderMap::new(), &body, replay)
            .await
        {
            Ok((value, attempts)) => Ok(Hub2Reply {
                value,
                resolution: resolution_after(attempts),
            }),
            Err(Stopped::Refused {
                error,
                attempts,
                after_ambiguous: true,
            }) if error.http_status() == Some(409) => Err(Hub2Error::AttemptTaken {
                intent_id: intent_id.to_owned(),
                attempts,
            }),
            Err(Stopped::Refused { error, .. }) => Err(error),
            Err(Stopped::Unknown { last, attempts }) => {
                Err(ambiguous("attemptPayment", intent_id, attempts, last))
            }
        }
    }
}

impl Hub2Client {
    /// `POST /payment-intents/{intent_id}/payments` from the merchant's
    /// server (the body's `token` authenticates it, as on the device),
    /// resolving an ambiguous outcome by reading the intent: an attempt in
    /// progress, successful or failed is the outcome
    /// ([`Hub2Resolution::ByIntent`]); an intent still `payment_required`
    /// took nothing, and the same body is sent again, within the
    /// [`RetryPolicy`](super::RetryPolicy). A failed intent is returned as
    /// it is: whether the failed attempt was this one or an earlier one,
    /// nothing was debited.
    pub async fn attempt_payment(
        &self,
        intent_id: &str,
        request: &AttemptPaymentRequest,
    ) -> Result<Hub2Reply<PaymentIntent>, Hub2Error> {
        let (path, body) = attempt_request(intent_id, request)?;
        let recovery = self.config.recovery;
        let retry = self.transport.retry;
        let max_attempts = retry.max_attempts.max(1);
        let mut ambiguous_seen = false;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let last = match self
                .transport
                .post_once(&path, &HeaderMap::new(), &body, attempts)
                .await
            {
                Sent::Definite(Ok(value)) => {
                    return Ok(Hub2Reply {
                        value,
                        resolution: resolution_after(attempts),
                    })
                }
                // The earlier request was taken after all.
                Sent::Definite(Err(error))
                    if ambiguous_seen && error.http_status() == Some(409) =>
                {
                    let value = self.get_payment_intent(intent_id).await?;
                    return Ok(Hub2Reply {
                        value,
                        resolution: Hub2Resolution::ByIntent { attempts },
                    });
                }
                Sent::Definite(Err(error)) => return Err(error),
                Sent::NotTaken(error) if attempts < max_attempts => {
                    tracing::debug!(intent_id, attempts, %error, "attempt not sent; again");
                    tokio::time::sleep(retry.backoff(attempts).min(retry.max_backoff)).await;
                    continue;
                }
                Sent::NotTaken(last) if !ambiguous_seen => return Err(last),
                Sent::NotTaken(last) | Sent::Ambiguous(last) => last,
            };
            if recovery == Hub2Recovery::Disabled {
                return Err(ambiguous("attemptPayment", intent_id, attempts, last));
            }
            ambiguous_seen = true;
            let Ok(intent) = self.get_payment_intent(intent_id).await else {
                return Err(ambiguous("attemptPayment", intent_id, attempts, last));
            };
            if intent.status != PaymentIntentStatus::PaymentRequired {
                tracing::info!(
                    intent_id,
                    attempts,
                    status = intent.status.as_str(),
                    "payment attempt resolved by reading the intent"
                );
                return Ok(Hub2Reply {
                    value: intent,
                    resolution: Hub2Resolution::ByIntent { attempts },
                });
            }
            if attempts >= max_attempts {
                return Err(ambiguous("attemptPayment", intent_id, attempts, last));
            }
            // Nothing taken when it was read: the same body again (one
            // still on its way would make this one a 409).
            tokio::time::sleep(retry.backoff(attempts).min(retry.max_backoff)).await;
        }
    }

    /// [`Hub2Client::create_payment_intent`] with how the outcome was
    /// learned (an intent moves no money: it is sent again after an
    /// ambiguous outcome).
    pub async fn create_payment_intent_reply(
        &self,
        request: &crate::hub2::models::CreatePaymentIntentRequest,
    ) -> Result<Hub2Reply<PaymentIntent>, Hub2Error> {
        validate_reference("customerReference", &request.customer_reference)?;
        validate_reference("purchaseReference", &request.purchase_reference)?;
        let call = CreatingCall {
            name: "createPaymentIntent",
            reference: &request.purchase_reference,
            path: "/payment-intents",
            replay_safe: true,
        };
        create(
            &self.transport,
            self.config.recovery,
            call,
            &self.headers,
            request,
        )
        .await
    }
}
