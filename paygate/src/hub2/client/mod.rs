//! The typed, async HUB2 client.
//!
//! Two clients, because HUB2 has two kinds of callers:
//!
//! - [`Hub2Client`], on the merchant's server: every request carries the
//!   `ApiKey`, `MerchantId` and `Environment` headers.
//! - [`Hub2PaymentClient`], usable on the customer's device: attempting a
//!   payment and sending its OTP are authenticated by the intent's `token`
//!   in the body, and this client sends **no** `ApiKey` header (it does not
//!   even know one).
//!
//! # Validation
//!
//! Merchant references (`customerReference`, `purchaseReference`, transfer
//! `reference`) are checked with [`validate_reference`] before anything is
//! sent, and ids put in a URL path are checked with [`validate_id`]: an id
//! that is empty, `.`/`..` or holds anything but `A-Z a-z 0-9 - _ . ~` is
//! refused with [`Hub2Error::Invalid`] rather than encoded, so a crafted id
//! can never reach another endpoint.
//!
//! # Retries
//!
//! HUB2 has no idempotency key, so the rule depends on the method:
//!
//! - `GET` requests are re-sent (same request) with the [`RetryPolicy`]
//!   after a transport error, an HTTP 5xx or an HTTP 429. On 429 the wait is
//!   HUB2's `Retry-After` (seconds) when given; a `Retry-After` longer than
//!   `retry.max_backoff` is not waited for here: the call returns
//!   [`Hub2Error::RateLimited`] with it, for the caller to schedule.
//! - `DELETE` requests are re-sent **only** after a connection error
//!   (`reqwest::Error::is_connect`: the request never reached HUB2).
//! - `POST` requests that create something are re-sent after a connection
//!   error, and after an *ambiguous* outcome only where a second request
//!   cannot pay twice (a payment intent; a payment attempt, which HUB2
//!   refuses with 409 once one is under way); a transfer or a delegated
//!   call is never re-sent once any response, or a timeout, happened. See
//!   [`recovery`] and [`Hub2Recovery`].
//!
//! # Errors
//!
//! A 2xx answer is decoded into the typed model (a mismatch is
//! [`Hub2Error::Decode`] with the JSON path); 429 is
//! [`Hub2Error::RateLimited`]; any other error status with an `Error` body
//! is [`Hub2Error::Api`] (`code`, `message`, `request_id`), without one
//! [`Hub2Error::Http`].

mod config;
mod error;
pub mod recovery;

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use config::{ApiKey, Environment, Hub2Config, PollPolicy, RetryPolicy};
pub use error::Hub2Error;
pub use recovery::{Hub2Recovery, Hub2Reply, Hub2Resolution};

use crate::http::retry_after;
use crate::hub2::models::{
    AttemptPaymentRequest, AuthenticatePaymentRequest, Balance, CreateDelegatedPaymentRequest,
    CreatePaymentIntentRequest, CreateTransferRequest, CreateWebhookRequest, Error as ApiError,
    PaymentIntent, PaymentIntentStatus, PaymentIntentStatusResponse, Transfer,
    TransferStatusResponse, Webhook,
};

/// The pattern HUB2 enforces on merchant references.
pub const REFERENCE_PATTERN: &str = "^[A-Za-z0-9_. -]+$";

/// Whether `c` may appear in a merchant reference: ASCII letters and digits,
/// hyphen, underscore, dot and space.
pub fn is_reference_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ')
}

/// Checks a merchant reference (`customerReference`, `purchaseReference`,
/// transfer `reference`) the way HUB2 does: not empty, and only letters,
/// digits, hyphen, underscore, dot and space (HUB2 answers HTTP 400
/// otherwise). The error names `field` and the rule; its `message` reads
/// well after the field name, e.g. `purchaseReference must match
/// /^[A-Za-z0-9_. -]+$/ ...`, so the simulator can answer with it too.
pub fn validate_reference(field: &'static str, value: &str) -> Result<(), Hub2Error> {
    if value.is_empty() {
        return Err(Hub2Error::Invalid {
            field: field.into(),
            message: format!("must match /{REFERENCE_PATTERN}/: it is empty"),
        });
    }
    if let Some((at, bad)) = value
        .chars()
        .enumerate()
        .find(|(_, c)| !is_reference_char(*c))
    {
        return Err(Hub2Error::Invalid {
            field: field.into(),
            message: format!(
                "must match /{REFERENCE_PATTERN}/ (letters, digits, hyphen, underscore, dot \
                 and space only): found {bad:?} at character {}",
                at + 1
            ),
        });
    }
    Ok(())
}

/// Checks that a payment call carries the intent's token.
fn require_token(token: &str) -> Result<(), Hub2Error> {
    if token.is_empty() {
        return Err(Hub2Error::Invalid {
            field: "token".into(),
            message: "must not be empty (it is the intent's token)".into(),
        });
    }
    Ok(())
}

/// Checks an id before it goes into a URL path: not empty, not `.` or `..`,
/// and only the URL-unreserved characters `A-Z a-z 0-9 - _ . ~` (HUB2 ids
/// look like `pi_tffiDaXyWQu203rIXhujW`). Nothing is percent-encoded: an id
/// that would need it is refused.
pub fn validate_id(field: &'static str, id: &str) -> Result<(), Hub2Error> {
    let message = if id.is_empty() {
        "must not be empty".to_owned()
    } else if id == "." || id == ".." {
        format!("must not be {id:?}")
    } else if let Some(bad) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~')))
    {
        format!(
            "may only hold letters, digits and `- _ . ~` (it goes in the URL path); found {bad:?}"
        )
    } else {
        return Ok(());
    };
    Err(Hub2Error::Invalid {
        field: field.into(),
        message,
    })
}

/// Whether polling is allowed (and useful): the intent is `processing` or
/// `action_required`. Polling any other status gets the caller throttled.
pub fn is_pollable(status: &PaymentIntentStatus) -> bool {
    matches!(
        status,
        PaymentIntentStatus::Processing | PaymentIntentStatus::ActionRequired
    )
}

/// One HTTP answer, read in full.
struct Answer {
    status: u16,
    retry_after: Option<Duration>,
    body: Bytes,
}

/// The HTTP plumbing both clients share: base URL, retries, decoding.
#[derive(Clone, Debug)]
struct Transport {
    http: reqwest::Client,
    base_url: String,
    retry: RetryPolicy,
}

impl Transport {
    fn new(base_url: &str, timeout: Duration, retry: RetryPolicy) -> Result<Self, Hub2Error> {
        let parsed = reqwest::Url::parse(base_url).map_err(|e| Hub2Error::Invalid {
            field: "base_url".into(),
            message: format!("is not a URL: {e}"),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Hub2Error::Invalid {
                field: "base_url".into(),
                message: format!("must be http or https, not {}", parsed.scheme()),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| Hub2Error::Config(e.to_string()))?;
        Ok(Transport {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            retry,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Sends one request with the retry rule of its method (module docs).
    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &HeaderMap,
        body: Option<Vec<u8>>,
    ) -> Result<Answer, Hub2Error> {
        let url = self.url(path);
        let retry = self.retry;
        let idempotent = method == Method::GET;
        let attempts = retry.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = self
                .http
                .request(method.clone(), &url)
                .headers(headers.clone());
            if let Some(body) = &body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let wait = match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retry_after = retry_after(&response);
                    let body = match response.bytes().await {
                        Ok(bytes) => bytes,
                        Err(_) if idempotent && attempt < attempts => {
                            tokio::time::sleep(retry.backoff(attempt)).await;
                            continue;
                        }
                        Err(source) => {
                            return Err(Hub2Error::Transport {
                                url,
                                attempts: attempt,
                                source,
                            })
                        }
                    };
                    let answer = Answer {
                        status,
                        retry_after,
                        body,
                    };
                    let retryable = idempotent && (status == 429 || status >= 500);
                    if !retryable || attempt >= attempts {
                        return Ok(answer);
                    }
                    match retry_after {
                        // HUB2 asks for longer than this call may wait: the
                        // caller decides (e.g. wait_for_payment_intent).
                        Some(wait) if status == 429 && wait > retry.max_backoff => {
                            return Ok(answer)
                        }
                        Some(wait) => wait.min(retry.max_backoff),
                        None => retry.backoff(attempt),
                    }
                }
                Err(source) => {
                    let retryable = idempotent || source.is_connect();
                    if !retryable || attempt >= attempts {
                        return Err(Hub2Error::Transport {
                            url,
                            attempts: attempt,
                            source,
                        });
                    }
                    retry.backoff(attempt)
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    async fn call<Req: Serialize + ?Sized, Resp: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        headers: &HeaderMap,
        body: Option<&Req>,
    ) -> Result<Resp, Hub2Error> {
        let body = body.map(encode).transpose()?;
        let answer = self.send(method, path, headers, body).await?;
        decode_answer(answer.status, answer.retry_after, &answer.body)
    }
}

fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Hub2Error> {
    serde_json::to_vec(value).map_err(|e| Hub2Error::Decode {
        path: String::new(),
        message: format!("cannot serialize the request: {e}"),
    })
}

/// Turns an error status into the typed error (429, `Error` body, other).
fn error_of(http_status: u16, retry_after: Option<Duration>, body: &[u8]) -> Hub2Error {
    if http_status == 429 {
        return Hub2Error::RateLimited { retry_after };
    }
    if let Ok(error) = serde_json::from_slice::<ApiError>(body) {
        return Hub2Error::Api {
            http_status,
            code: error.code,
            message: error.message,
            request_id: error.request_id,
        };
    }
    Hub2Error::Http {
        http_status,
        body: String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned(),
    }
}

/// Turns an HTTP answer into the typed response or a typed error.
pub fn decode_answer<T: DeserializeOwned>(
    http_status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<T, Hub2Error> {
    if !(200..300).contains(&http_status) {
        return Err(error_of(http_status, retry_after, body));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| Hub2Error::Decode {
        path: err.path().to_string(),
        message: err.into_inner().to_string(),
    })?;
    de.end().map_err(|e| Hub2Error::Decode {
        path: String::new(),
        message: e.to_string(),
    })?;
    Ok(value)
}

fn header_value(
    field: &'static str,
    value: &str,
    sensitive: bool,
) -> Result<HeaderValue, Hub2Error> {
    let mut header = HeaderValue::from_str(value).map_err(|_| Hub2Error::Invalid {
        field: field.into(),
        message: "is not a valid HTTP header value (visible ASCII only)".into(),
    })?;
    header.set_sensitive(sensitive);
    Ok(header)
}

/// The merchant-side HUB2 client: every request carries `ApiKey`,
/// `MerchantId` and `Environment`. Cheap to clone; clones share one
/// connection pool. `Debug` never shows the API key.
#[derive(Clone)]
pub struct Hub2Client {
    transport: Transport,
    config: Hub2Config,
    headers: HeaderMap,
}

impl core::fmt::Debug for Hub2Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Hub2Client")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Hub2Client {
    /// Builds a client. Fails if `base_url` is not an http(s) URL, if the
    /// key or merchant id cannot be an HTTP header, or if the HTTP stack
    /// cannot start.
    pub fn new(config: Hub2Config) -> Result<Self, Hub2Error> {
        if config.api_key.is_empty() {
            return Err(Hub2Error::Invalid {
                field: "api_key".into(),
                message: "must not be empty".into(),
            });
        }
        let transport = Transport::new(&config.base_url, config.timeout, config.retry)?;
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("apikey"),
            header_value("api_key", config.api_key.expose(), true)?,
        );
        headers.insert(
            HeaderName::from_static("merchantid"),
            header_value("merchant_id", &config.merchant_id, false)?,
        );
        headers.insert(
            HeaderName::from_static("environment"),
            HeaderValue::from_static(config.environment.as_str()),
        );
        Ok(Hub2Client {
            transport,
            config,
            headers,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &Hub2Config {
        &self.config
    }

    /// A [`Hub2PaymentClient`] for the same base URL, timeout and retries
    /// (it sends no API key).
    pub fn payment_client(&self) -> Hub2PaymentClient {
        Hub2PaymentClient {
            transport: self.transport.clone(),
            recovery: self.config.recovery,
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Hub2Error> {
        self.transport
            .call::<(), T>(Method::GET, path, &self.headers, None)
            .await
    }

    async fn post<Req: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &Req,
    ) -> Result<T, Hub2Error> {
        self.transport
            .call(Method::POST, path, &self.headers, Some(body))
            .await
    }

    /// A call that moves money and cannot be sent twice safely: an
    /// ambiguous outcome is [`Hub2Error::Ambiguous`] with `reference`.
    async fn create_once<Req: Serialize, T: DeserializeOwned>(
        &self,
        call: &'static str,
        reference: &str,
        path: &str,
        request: &Req,
    ) -> Result<T, Hub2Error> {
        let call = recovery::CreatingCall {
            name: call,
            reference,
            path,
            replay_safe: false,
        };
        recovery::create(
            &self.transport,
            self.config.recovery,
            call,
            &self.headers,
            request,
        )
        .await
        .map(|reply| reply.value)
    }

    /// `POST /payment-intents`: first step of a pay-in. Both references are
    /// checked first. The answer is `payment_required`, with the `token`
    /// that [`Hub2PaymentClient`] needs.
    pub async fn create_payment_intent(
        &self,
        request: &CreatePaymentIntentRequest,
    ) -> Result<PaymentIntent, Hub2Error> {
        self.create_payment_intent_reply(request)
            .await
            .map(|reply| reply.value)
    }

    /// `GET /payment-intents/{id}`. Do not call it repeatedly on an intent
    /// that is not `processing` or `action_required`: HUB2 throttles that.
    pub async fn get_payment_intent(&self, id: &str) -> Result<PaymentIntent, Hub2Error> {
        validate_id("id", id)?;
        self.get(&format!("/payment-intents/{id}")).await
    }

    /// `GET /payment-intents/{id}/status`. Same polling rule as
    /// [`Hub2Client::get_payment_intent`].
    pub async fn get_payment_intent_status(
        &self,
        id: &str,
    ) -> Result<PaymentIntentStatusResponse, Hub2Error> {
        validate_id("id", id)?;
        self.get(&format!("/payment-intents/{id}/status")).await
    }

    /// `POST /transfers`: a pay-out. The `reference` is checked first.
    /// Keep the returned `id`.
    pub async fn create_transfer(
        &self,
        request: &CreateTransferRequest,
    ) -> Result<Transfer, Hub2Error> {
        validate_reference("reference", &request.reference)?;
        self.create_once("createTransfer", &request.reference, "/transfers", request)
            .await
    }

    /// `GET /transfers/{id}`.
    pub async fn get_transfer(&self, id: &str) -> Result<Transfer, Hub2Error> {
        validate_id("id", id)?;
        self.get(&format!("/transfers/{id}")).await
    }

    /// `GET /transfers/{id}/status`. Poll it only while the transfer is
    /// `created` or `pending`.
    pub async fn get_transfer_status(&self, id: &str) -> Result<TransferStatusResponse, Hub2Error> {
        validate_id("id", id)?;
        self.get(&format!("/transfers/{id}/status")).await
    }

    /// `GET /balance`: collection and transfer account balances.
    pub async fn get_balance(&self) -> Result<Balance, Hub2Error> {
        self.get("/balance").await
    }

    /// `POST /delegated/payments` (Processing Only mode): intent and attempt
    /// in one call, on the merchant's own provider account. Needs a key with
    /// `Api.delegated_payment_create` (HTTP 403 otherwise). Both references
    /// are checked first.
    pub async fn create_delegated_payment(
        &self,
        request: &CreateDelegatedPaymentRequest,
    ) -> Result<PaymentIntent, Hub2Error> {
        validate_reference("customerReference", &request.customer_reference)?;
        validate_reference("purchaseReference", &request.purchase_reference)?;
        self.create_once(
            "createDelegatedPayment",
            &request.purchase_reference,
            "/delegated/payments",
            request,
        )
        .await
    }

    /// `POST /delegated/transfers` (Processing Only mode). Needs a key with
    /// `Api.delegated_transfer_create` (HTTP 403 otherwise). The `reference`
    /// is checked first.
    pub async fn create_delegated_transfer(
        &self,
        request: &CreateTransferRequest,
    ) -> Result<Transfer, Hub2Error> {
        validate_reference("reference", &request.reference)?;
        self.create_once(
            "createDelegatedTransfer",
            &request.reference,
            "/delegated/transfers",
            request,
        )
        .await
    }

    /// `POST /webhooks`. The answer's `secret` verifies the deliveries
    /// (see [`crate::hub2::webhook`]); store it.
    pub async fn create_webhook(
        &self,
        request: &CreateWebhookRequest,
    ) -> Result<Webhook, Hub2Error> {
        self.post("/webhooks", request).await
    }

    /// `GET /webhooks`.
    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>, Hub2Error> {
        self.get("/webhooks").await
    }

    /// `DELETE /webhooks/{id}`.
    pub async fn delete_webhook(&self, id: &str) -> Result<(), Hub2Error> {
        validate_id("id", id)?;
        let answer = self
            .transport
            .send(
                Method::DELETE,
                &format!("/webhooks/{id}"),
                &self.headers,
                None,
            )
            .await?;
        if (200..300).contains(&answer.status) {
            Ok(())
        } else {
            Err(error_of(answer.status, answer.retry_after, &answer.body))
        }
    }

    /// Waits for a payment intent to leave `processing`/`action_required`,
    /// polling as HUB2 allows:
    ///
    /// 1. reads the intent once; if it is in any other status
    ///    (`payment_required`, `successful`, `failed`, unknown) it is
    ///    returned at once, without polling;
    /// 2. otherwise polls `GET /payment-intents/{id}/status` after
    ///    `poll.initial_delay`, then waits `factor` times longer after each
    ///    poll (at most `poll.max_delay`); after an HTTP 429 it waits at
    ///    least HUB2's `Retry-After`;
    /// 3. once the status leaves `processing`/`action_required` it reads and
    ///    returns the whole intent (one read);
    /// 4. at the deadline it returns [`Hub2Error::Deadline`] with the last
    ///    status seen. No request is started after the deadline, and one in
    ///    flight at the deadline is abandoned.
    ///
    /// Webhooks make this unnecessary; prefer them.
    pub async fn wait_for_payment_intent(
        &self,
        id: &str,
        deadline: Duration,
    ) -> Result<PaymentIntent, Hub2Error> {
        validate_id("id", id)?;
        let end = tokio::time::Instant::now() + deadline;
        let timed_out = |last: Option<&PaymentIntentStatus>| Hub2Error::Deadline {
            id: id.to_owned(),
            last_status: last.map(|s| s.as_str().to_owned()),
        };
        let intent = tokio::time::timeout_at(end, self.get_payment_intent(id))
            .await
            .map_err(|_| timed_out(None))??;
        if !is_pollable(&intent.status) {
            return Ok(intent);
        }
        let poll = self.config.poll;
        let mut last_status = intent.status;
        let mut delay = poll.initial_delay;
        let mut wait = delay;
        loop {
            let now = tokio::time::Instant::now();
            if now + wait >= end {
                tokio::time::sleep_until(end).await;
                return Err(timed_out(Some(&last_status)));
            }
            tokio::time::sleep(wait).await;
            delay = delay.saturating_mul(poll.factor.max(1)).min(poll.max_delay);
            wait = delay;
            match tokio::time::timeout_at(end, self.get_payment_intent_status(id)).await {
                Err(_) => return Err(timed_out(Some(&last_status))),
                Ok(Ok(status)) => {
                    if !is_pollable(&status.status) {
                        return tokio::time::timeout_at(end, self.get_payment_intent(id))
                            .await
                            .map_err(|_| timed_out(Some(&status.status)))?;
                    }
                    last_status = status.status;
                }
                Ok(Err(Hub2Error::RateLimited { retry_after })) => {
                    wait = wait.max(retry_after.unwrap_or_default());
                }
                Ok(Err(other)) => return Err(other),
            }
        }
    }
}

/// The token-authenticated HUB2 client: attempts a payment on an intent and
/// sends its OTP. It holds no API key and sends no `ApiKey`, `MerchantId`
/// or `Environment` header, so it may run on the customer's device; the
/// intent's `token` (from [`Hub2Client::create_payment_intent`]) in each
/// body authenticates the call. An attempt is re-sent after a connection
/// error or an ambiguous outcome (module docs, [`Hub2Recovery`]).
#[derive(Clone, Debug)]
pub struct Hub2PaymentClient {
    transport: Transport,
    recovery: Hub2Recovery,
}

impl Hub2PaymentClient {
    /// A client for `base_url` with the given per-request timeout and the
    /// default [`RetryPolicy`].
    pub fn new(base_url: impl AsRef<str>, timeout: Duration) -> Result<Self, Hub2Error> {
        Self::with_retry(base_url, timeout, RetryPolicy::default())
    }

    /// A client with a chosen [`RetryPolicy`].
    pub fn with_retry(
        base_url: impl AsRef<str>,
        timeout: Duration,
        retry: RetryPolicy,
    ) -> Result<Self, Hub2Error> {
        Ok(Hub2PaymentClient {
            transport: Transport::new(base_url.as_ref(), timeout, retry)?,
            recovery: Hub2Recovery::default(),
        })
    }

    /// The same client with another [`Hub2Recovery`].
    pub fn with_recovery(mut self, recovery: Hub2Recovery) -> Self {
        self.recovery = recovery;
        self
    }

    async fn post<Req: Serialize>(
        &self,
        path: &str,
        body: &Req,
    ) -> Result<PaymentIntent, Hub2Error> {
        self.transport
            .call(Method::POST, path, &HeaderMap::new(), Some(body))
            .await
    }

    /// `POST /payment-intents/{intent_id}/payments`: a payment attempt. The
    /// answer is the whole intent, normally `processing` (or
    /// `action_required`, with a `nextAction` on the new payment). An
    /// ambiguous outcome is resolved as [`recovery`] says;
    /// [`Hub2PaymentClient::attempt_payment_reply`] also tells how.
    pub async fn attempt_payment(
        &self,
        intent_id: &str,
        request: &AttemptPaymentRequest,
    ) -> Result<PaymentIntent, Hub2Error> {
        self.attempt_payment_reply(intent_id, request)
            .await
            .map(|reply| reply.value)
    }

    /// `POST /payment-intents/{intent_id}/authentication`: the customer's
    /// OTP for a payment whose `nextAction` is `otp`.
    pub async fn authenticate_payment(
        &self,
        intent_id: &str,
        request: &AuthenticatePaymentRequest,
    ) -> Result<PaymentIntent, Hub2Error> {
        validate_id("intent_id", intent_id)?;
        require_token(&request.token)?;
        if request.confirmation_code.is_empty() {
            return Err(Hub2Error::Invalid {
                field: "confirmationCode".into(),
                message: "must not be empty".into(),
            });
        }
        self.post(
            &format!("/payment-intents/{intent_id}/authentication"),
            request,
        )
        .await
    }
}
