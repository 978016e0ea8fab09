//! The typed, async client of the Payment API Gateway.
//!
//! Every call validates the request against the brand's provider rules,
//! signs it, sends it, and re-sends the very same bytes after a transport
//! error, an HTTP 5xx or an HTTP 429 (the gateway is idempotent by
//! `order_id`). A response whose `result.code` is not zero is a
//! [`ClientError::Gateway`], whatever its HTTP status.
//!
//! Validation refuses only what every reading of the documentation refuses
//! ([`ClientError::Invalid`], nothing sent). What only some reading refuses
//! is sent anyway and comes back as [`Reply::warnings`] (each also logged as
//! a `tracing` warning): the gateway has the last word.

mod config;
mod error;
mod recovery;

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use config::{BrandProfile, ClientConfig, Credentials, PollPolicy, RetryPolicy};
pub use error::ClientError;
pub use recovery::{Recovery, Resolution};

use crate::gateway::rules::{Direction, ProviderTable};
use crate::gateway::validate::{
    check_order_id, check_payment, PaymentDraft, Preflight, Violation, Violations,
};
use crate::gateway::{
    BulkB2cRequest, BulkB2cResponse, BulkCancelRequest, BulkCancelResponse, BulkDetailsRequest,
    BulkDetailsResponse, DepositRequest, ErrorResponse, PaymentB2cRequest, PaymentC2bRequest,
    PaymentResponse, StatusRequest, WithdrawalRequest,
};
use crate::http::retry_after;
use crate::signing::{sign, Signable, SigningKey};

/// A response, with the warnings pre-flight validation raised about the
/// request (rules some reading of the documentation enforces; the request
/// was sent anyway). Dereferences to the response.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply<T> {
    /// The gateway's answer.
    pub response: T,
    /// What the documentation is unsure about in the request.
    pub warnings: Vec<Violation>,
    /// How the outcome was learned: the first answer, a replay of the
    /// same bytes, or the order's status (see [`Recovery`]).
    pub resolution: Resolution,
}

impl<T> Reply<T> {
    /// The response alone.
    pub fn into_inner(self) -> T {
        self.response
    }
}

impl<T> core::ops::Deref for Reply<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.response
    }
}

/// A request body that carries the merchant id and a signature.
pub trait SignedBody: Serialize + Signable {
    /// Sets `merchant_id`.
    fn set_merchant_id(&mut self, merchant_id: &str);
    /// Sets `signature`.
    fn set_signature(&mut self, signature: String);
}

macro_rules! signed_body {
    ($($t:ty),*) => {$(
        impl SignedBody for $t {
            fn set_merchant_id(&mut self, merchant_id: &str) {
                merchant_id.clone_into(&mut self.merchant_id);
            }
            fn set_signature(&mut self, signature: String) {
                self.signature = signature;
            }
        }
    )*};
}
signed_body!(
    PaymentC2bRequest,
    PaymentB2cRequest,
    StatusRequest,
    DepositRequest,
    WithdrawalRequest,
    BulkB2cRequest,
    BulkDetailsRequest,
    BulkCancelRequest
);

/// Signs `body` in place: sets the merchant id, then the signature over
/// every other field in the order they will be sent.
pub fn sign_body<T: SignedBody>(
    key: &SigningKey,
    merchant_id: &str,
    body: &mut T,
) -> Result<(), ClientError> {
    body.set_merchant_id(merchant_id);
    let signature = sign(key, body)?;
    body.set_signature(signature.to_string());
    Ok(())
}

/// The names of the fields of a serializable value that are present and
/// not empty (used for the rules' required `extra` fields).
fn present_fields<T: Serialize>(value: &T) -> Vec<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .filter(|(_, v)| !v.is_null() && v.as_str() != Some(""))
            .map(|(k, _)| k)
            .collect(),
        _ => Vec::new(),
    }
}

/// A payment request pre-flight validation can read: `PaymentC2bRequest`
/// and `PaymentB2cRequest` (the same fields).
pub trait PaymentFields {
    /// Checks the request against `table` as a payment in `direction`.
    fn check(&self, table: &'static ProviderTable, direction: Direction) -> Preflight;
}

macro_rules! payment_fields {
    ($($t:ty),*) => {$(
        impl PaymentFields for $t {
            fn check(&self, table: &'static ProviderTable, direction: Direction) -> Preflight {
                let extras = self.extra.as_ref().map(present_fields).unwrap_or_default();
                let extras: Vec<&str> = extras.iter().map(String::as_str).collect();
                check_payment(
                    table,
                    &PaymentDraft {
                        direction,
                        provider_id: self.provider_id,
                        country: self.country.as_ref().map(|c| c.as_str()),
                        currency: self.currency.as_str(),
                        amount: self.amount,
                        customer_id: &self.customer_id,
                        order_id: &self.order_id,
                        extras: &extras,
                    },
                )
            }
        }
    )*};
}
payment_fields!(PaymentC2bRequest, PaymentB2cRequest);

/// Checks a C2B or B2C request against the brand's provider rules:
/// refusals and warnings.
pub fn validate_payment(
    brand: &BrandProfile,
    direction: Direction,
    request: &impl PaymentFields,
) -> Preflight {
    request.check(brand.providers, direction)
}

/// An `extra` object with no field set.
fn empty_extra() -> Result<crate::gateway::RequestExtra, ClientError> {
    Ok(crate::gateway::RequestExtra::new())
}

/// The Payment API Gateway client. Cheap to clone; clones share one
/// connection pool.
#[derive(Clone, Debug)]
pub struct GatewayClient {
    http: reqwest::Client,
    config: ClientConfig,
    key: SigningKey,
}

impl GatewayClient {
    /// Builds a client; fails only if the HTTP stack cannot start.
    pub fn new(config: ClientConfig) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| ClientError::Config(e.to_string()))?;
        let key = SigningKey::new(&config.credentials.secret_key);
        Ok(GatewayClient { http, config, key })
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The keyed signing state (for verifying callbacks with the same key).
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    fn url(&self, operation: &str) -> String {
        format!(
            "{}/{}/{}",
            self.config.brand.base_url.trim_end_matches('/'),
            self.config.credentials.public_id,
            operation
        )
    }

    /// A payment from the customer to the merchant (C2B).
    pub async fn payment_c2b(
        &self,
        mut request: PaymentC2bRequest,
    ) -> Result<Reply<PaymentResponse>, ClientError> {
        let warnings = preflight(validate_payment(
            &self.config.brand,
            Direction::C2b,
            &request,
        ))?;
        let (response, resolution) = self.call_payment("payment_c2b", &mut request).await?;
        Ok(Reply {
            response,
            warnings,
            resolution,
        })
    }

    /// A payout from the merchant to the customer (B2C). If the response's
    /// `confirm_type` is not zero, send the confirmation with
    /// [`GatewayClient::confirm_payment_b2c`].
    pub async fn payment_b2c(
        &self,
        mut request: PaymentB2cRequest,
    ) -> Result<Reply<PaymentResponse>, ClientError> {
        let warnings = preflight(validate_payment(
            &self.config.brand,
            Direction::B2c,
            &request,
        ))?;
        let (response, resolution) = self.call_payment("payment_b2c", &mut request).await?;
        Ok(Reply {
            response,
            warnings,
            resolution,
        })
    }

    /// The second `payment_b2c` request that confirms a payout whose first
    /// response had a non-zero `confirm_type`: the same order with the same
    /// fields, plus the customer's one-time password in `extra.otp` (every
    /// other `extra` field is kept).
    pub async fn confirm_payment_b2c(
        &self,
        mut request: PaymentB2cRequest,
        otp: &str,
    ) -> Result<Reply<PaymentResponse>, ClientError> {
        let mut extra = match request.extra.take() {
            Some(extra) => extra,
            None => empty_extra()?,
        };
        extra.otp = Some(otp.to_owned());
        request.extra = Some(extra);
        self.payment_b2c(request).await
    }

    /// The status of an earlier operation.
    pub async fn status(&self, order_id: &str) -> Result<PaymentResponse, ClientError> {
        check_order_id(order_id).map_err(|v| Violations(vec![v]))?;
        let mut request = StatusRequest::new(String::new(), order_id);
        self.call("status", &mut request).await
    }

    /// The status of an earlier payment that also hands over the customer's
    /// one-time password: the documented way for providers whose OTP comes
    /// after the payment (seed 002's status example carries
    /// `customer_id` and `extra.otp`).
    pub async fn status_with_otp(
        &self,
        order_id: &str,
        customer_id: &str,
        otp: &str,
    ) -> Result<PaymentResponse, ClientError> {
        check_order_id(order_id).map_err(|v| Violations(vec![v]))?;
        let mut extra = empty_extra()?;
        extra.otp = Some(otp.to_owned());
        let mut request = StatusRequest::new(String::new(), order_id)
            .with_customer_id(customer_id)
            .with_extra(extra);
        self.call("status", &mut request).await
    }

    /// A cash deposit through a POS terminal.
    pub async fn deposit(
        &self,
        mut request: DepositRequest,
    ) -> Result<Reply<PaymentResponse>, ClientError> {
        check_order_id(&request.order_id).map_err(|v| Violations(vec![v]))?;
        let (response, resolution) = self.call_payment("deposit", &mut request).await?;
        Ok(Reply {
            response,
            warnings: Vec::new(),
            resolution,
        })
    }

    /// A cash withdrawal through a POS terminal.
    pub async fn withdrawal(
        &self,
        mut request: WithdrawalRequest,
    ) -> Result<Reply<PaymentResponse>, ClientError> {
        check_order_id(&request.order_id).map_err(|v| Violations(vec![v]))?;
        let (response, resolution) = self.call_payment("withdrawal", &mut request).await?;
        Ok(Reply {
            response,
            warnings: Vec::new(),
            resolution,
        })
    }

    /// The second `withdrawal` request that confirms a withdrawal whose first
    /// response had a non-zero `confirm_type`: the same fields, plus the
    /// customer's one-time password in `extra.otp`.
    pub async fn confirm_withdrawal(
        &self,
        mut request: WithdrawalRequest,
        otp: &str,
    ) -> Result<Reply<PaymentResponse>, ClientError> {
        let mut extra = match request.extra.take() {
            Some(extra) => extra,
            None => empty_extra()?,
        };
        extra.otp = Some(otp.to_owned());
        request.extra = Some(extra);
        self.withdrawal(request).await
    }

    /// A bulk payout: every item is checked against the provider rules as
    /// a B2C payment (in the bulk's currency) before anything is sent.
    pub async fn bulk_payment_b2c(
        &self,
        mut request: BulkB2cRequest,
    ) -> Result<Reply<BulkB2cResponse>, ClientError> {
        let mut warnings = Vec::new();
        let mut refusals = Vec::new();
        for (i, item) in request.items.iter().enumerate() {
            let draft = PaymentDraft {
                direction: Direction::B2c,
                provider_id: item.provider_id,
                country: item.country.as_ref().map(|c| c.as_str()),
                currency: request.currency.as_str(),
                amount: item.amount,
                customer_id: &item.customer_id,
                order_id: &item.order_id,
                extras: &[],
            };
            let found = check_payment(self.config.brand.providers, &draft);
            let at = |mut v: Violation| {
                v.field = format!("items[{i}].{}", v.field);
                v
            };
            refusals.extend(found.refusals.into_iter().map(at));
            warnings.extend(found.warnings.into_iter().map(at));
        }
        let found = Preflight { refusals, warnings };
        let warnings = preflight(found)?;
        let response = self.call("payment_b2c/bulk", &mut request).await?;
        Ok(Reply {
            response,
            warnings,
            resolution: Resolution::Answered,
        })
    }

    /// One page of a bulk payout's items, with its totals.
    pub async fn bulk_details(
        &self,
        bulk_id: &str,
        page: i64,
        page_size: i64,
    ) -> Result<BulkDetailsResponse, ClientError> {
        let mut request = BulkDetailsRequest::new(String::new(), bulk_id, page, page_size);
        self.call("payment_b2c/bulk/details", &mut request).await
    }

    /// Stops a bulk payout: items not yet executed are cancelled.
    pub async fn bulk_cancel(&self, bulk_id: &str) -> Result<BulkCancelResponse, ClientError> {
        let mut request = BulkCancelRequest::new(String::new(), bulk_id);
        self.call("payment_b2c/bulk/cancel", &mut request).await
    }

    /// Polls `status` until the transaction reaches a final status (2, 3, 4
    /// or 5, see [`Status::is_final`](crate::gateway::Status::is_final)) or a
    /// hold (6), or `deadline` passes, waiting longer after each poll and backing
    /// off further when the gateway answers HTTP 429.
    pub async fn wait_for_final_status(
        &self,
        order_id: &str,
        deadline: Duration,
    ) -> Result<PaymentResponse, ClientError> {
        let start = tokio::time::Instant::now();
        let end = start + deadline;
        let poll = self.config.poll;
        let mut delay = poll.initial_delay;
        let mut last_status = None;
        loop {
            match self.status(order_id).await {
                Ok(response) => {
                    // A hold (6) rests until a withdrawal consumes it.
                    if response.status.is_final()
                        || response.status == crate::gateway::Status::SuccessHold
                    {
                        return Ok(response);
                    }
                    last_status = Some(response.status.code());
                }
                Err(err) if err.http_status() == Some(429) => {
                    delay = delay.saturating_mul(poll.factor.max(2)).min(poll.max_delay);
                }
                Err(other) => return Err(other),
            }
            let now = tokio::time::Instant::now();
            if now >= end {
                return Err(ClientError::Deadline {
                    order_id: order_id.to_owned(),
                    last_status,
                });
            }
            tokio::time::sleep(delay.min(end - now)).await;
            delay = delay.saturating_mul(poll.factor.max(1)).min(poll.max_delay);
        }
    }

    /// Signs `request` as this merchant; the bytes to send.
    fn signed_bytes<Req: SignedBody>(&self, request: &mut Req) -> Result<Vec<u8>, ClientError> {
        sign_body(&self.key, &self.config.credentials.merchant_id, request)?;
        serde_json::to_vec(request).map_err(|e| ClientError::Decode {
            path: String::new(),
            message: format!("cannot serialize the request: {e}"),
        })
    }

    /// Signs and sends one request, with retries, and decodes the answer.
    async fn call<Req: SignedBody, Resp: DeserializeOwned + HasResult>(
        &self,
        operation: &str,
        request: &mut Req,
    ) -> Result<Resp, ClientError> {
        let body = self.signed_bytes(request)?;
        let url = self.url(operation);
        let (status, bytes) = self.send_with_retries(&url, body).await?;
        decode_response(status, &bytes)
    }

    /// Signs and sends a payment (a request with an `order_id` that takes
    /// money), recovering from ambiguous outcomes (see [`Recovery`]).
    async fn call_payment<Req: SignedBody + HasOrderId>(
        &self,
        operation: &str,
        request: &mut Req,
    ) -> Result<(PaymentResponse, Resolution), ClientError> {
        let body = self.signed_bytes(request)?;
        let url = self.url(operation);
        self.send_payment(&url, body, request.order_id()).await
    }

    /// Sends the same bytes until an answer that is not 429/5xx, or until
    /// the attempts run out.
    async fn send_with_retries(
        &self,
        url: &str,
        body: Vec<u8>,
    ) -> Result<(u16, bytes::Bytes), ClientError> {
        let retry = self.config.retry;
        let attempts = retry.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self
                .http
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await;
            let wait = match sent {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retry_after = retry_after(&response);
                    let bytes = match response.bytes().await {
                        Ok(bytes) => bytes,
                        Err(_) if attempt < attempts => {
                            tokio::time::sleep(retry.backoff(attempt)).await;
                            continue;
                        }
                        Err(source) => {
                            return Err(ClientError::Transport {
                                url: url.to_owned(),
                                attempts: attempt,
                                source,
                            })
                        }
                    };
                    let retryable = status == 429 || status >= 500;
                    if !retryable || attempt >= attempts {
                        return Ok((status, bytes));
                    }
                    retry_after
                        .unwrap_or_else(|| retry.backoff(attempt))
                        .min(retry.max_backoff)
                }
                Err(source) => {
                    if attempt >= attempts {
                        return Err(ClientError::Transport {
                            url: url.to_owned(),
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
}

/// Refusals become [`ClientError::Invalid`]; warnings are logged and
/// returned.
fn preflight(found: Preflight) -> Result<Vec<Violation>, ClientError> {
    let warnings = found.into_result()?;
    for w in &warnings {
        tracing::warn!(
            field = %w.field,
            rule = %w.rule,
            certainty = %w.certainty,
            "{}",
            w.message
        );
    }
    Ok(warnings)
}

/// A payment request: what recovery asks `status` about.
pub trait HasOrderId {
    /// `order_id`.
    fn order_id(&self) -> &str;
}

macro_rules! has_order_id {
    ($($t:ty),*) => {$(
        impl HasOrderId for $t {
            fn order_id(&self) -> &str {
                &self.order_id
            }
        }
    )*};
}
has_order_id!(
    PaymentC2bRequest,
    PaymentB2cRequest,
    DepositRequest,
    WithdrawalRequest
);

/// A response type that carries the gateway's `result`.
pub trait HasResult {
    /// `result.code` and `result.message`.
    fn result(&self) -> (i64, &str);
}

macro_rules! has_result {
    ($($t:ty),*) => {$(
        impl HasResult for $t {
            fn result(&self) -> (i64, &str) {
                (self.result.code, &self.result.message)
            }
        }
    )*};
}
has_result!(
    PaymentResponse,
    BulkB2cResponse,
    BulkDetailsResponse,
    BulkCancelResponse
);

/// Turns an HTTP answer into the typed response or a typed error.
pub fn decode_response<T: DeserializeOwned + HasResult>(
    http_status: u16,
    body: &[u8],
) -> Result<T, ClientError> {
    if (200..300).contains(&http_status) {
        let mut de = serde_json::Deserializer::from_slice(body);
        match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Ok(response) => {
                let (code, message) = response.result();
                if code != 0 {
                    return Err(ClientError::Gateway {
                        http_status,
                        code,
                        message: message.to_owned(),
                    });
                }
                return Ok(response);
            }
            Err(err) => {
                // A success status with an error body is still a gateway error.
                if let Ok(error) = serde_json::from_slice::<ErrorResponse>(body) {
                    return Err(ClientError::Gateway {
                        http_status,
                        code: error.result.code,
                        message: error.result.message,
                    });
                }
                return Err(ClientError::Decode {
                    path: err.path().to_string(),
                    message: err.into_inner().to_string(),
                });
            }
        }
    }
    if let Ok(error) = serde_json::from_slice::<ErrorResponse>(body) {
        return Err(ClientError::Gateway {
            http_status,
            code: error.result.code,
            message: error.result.message,
        });
    }
    Err(ClientError::Http {
        http_status,
        body: String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned(),
    })
}
