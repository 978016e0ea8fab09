//! What the HUB2 checks talk to: [`Hub2Ctx`] (the typed clients, raw HTTP,
//! the control API, the webhook receiver) and the raw answers it reads.

use std::time::Duration;

use paygate::hub2::client::{PollPolicy, RetryPolicy};
use paygate::hub2::models::{
    AttemptPaymentRequest, CreatePaymentIntentRequest, MobileMoneyDetails, PaymentIntent,
    PaymentIntentStatus, PaymentMethod,
};
use paygate::hub2::{Environment, Hub2Client, Hub2Config, Hub2Error, Hub2PaymentClient};
use serde_json::Value;

use super::receiver::WebhookReceiver;
use super::support::ensure;
use crate::simulator::AdminToken;

/// What the HUB2 checks talk to.
pub struct Hub2Ctx {
    /// HUB2 base URL (`.../hub2` on the simulator).
    pub base_url: String,
    /// Merchant id.
    pub merchant_id: String,
    /// The key with every permission.
    pub api_key: String,
    /// Its environment.
    pub environment: Environment,
    /// A key without the `/delegated/` permissions (simulator only).
    pub limited_key: Option<String>,
    /// The typed client with `api_key`.
    pub client: Hub2Client,
    /// The token-authenticated client.
    pub payments: Hub2PaymentClient,
    /// Raw HTTP.
    pub http: reqwest::Client,
    /// The webhook receiver (simulator only).
    pub receiver: Option<WebhookReceiver>,
    /// Deadline for an intent to reach a final status.
    pub final_status: Duration,
    /// Whether the target is the simulator (control API, magic numbers).
    pub simulator: bool,
    /// The simulator's admin token, sent with every `/_sim` request.
    pub admin_token: Option<AdminToken>,
}

impl Hub2Ctx {
    /// A context; `fast` polls every 30 ms (simulator), else every second.
    pub fn new(
        base_url: &str,
        merchant_id: &str,
        api_key: &str,
        environment: Environment,
        limited_key: Option<String>,
        simulator: bool,
    ) -> Result<Hub2Ctx, String> {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let mut config = Hub2Config::new(base_url.clone(), api_key, merchant_id, environment);
        config.timeout = Duration::from_secs(15);
        config.retry = RetryPolicy {
            max_attempts: 1,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(500),
        };
        if simulator {
            config.poll = PollPolicy {
                initial_delay: Duration::from_millis(30),
                factor: 1,
                max_delay: Duration::from_millis(30),
            };
        }
        let client = Hub2Client::new(config).map_err(|e| e.to_string())?;
        let payments = Hub2PaymentClient::with_retry(
            &base_url,
            Duration::from_secs(15),
            RetryPolicy {
                max_attempts: 1,
                initial_backoff: Duration::from_millis(50),
                max_backoff: Duration::from_millis(500),
            },
        )
        .map_err(|e| e.to_string())?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Hub2Ctx {
            base_url,
            merchant_id: merchant_id.to_owned(),
            api_key: api_key.to_owned(),
            environment,
            limited_key,
            client,
            payments,
            http,
            receiver: None,
            final_status: Duration::from_secs(if simulator { 10 } else { 120 }),
            simulator,
            admin_token: None,
        })
    }

    /// The `Environment` header value of the key.
    pub(super) fn env_str(&self) -> &'static str {
        match self.environment {
            Environment::Live => "live",
            _ => "sandbox",
        }
    }

    /// A raw request: `key` as `ApiKey` (none: no credentials), `env` in
    /// place of the key's environment.
    pub(super) async fn raw(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        env: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Raw, String> {
        let url = format!("{}{path}", self.base_url);
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut request = self
            .http
            .request(method, &url)
            .header("MerchantId", &self.merchant_id)
            .header("Environment", env.unwrap_or(self.env_str()));
        if let Some(key) = key {
            request = request.header("ApiKey", key);
        }
        if let (true, Some(token)) = (path.starts_with("/_sim/"), &self.admin_token) {
            request = request.header(reqwest::header::AUTHORIZATION, token.bearer_header());
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.map_err(|e| format!("{url}: {e}"))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.bytes().await.map_err(|e| format!("{url}: {e}"))?;
        Ok(Raw {
            status,
            retry_after,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        })
    }

    /// A `POST` to the simulator's control API (`/_sim{path}`).
    pub(super) async fn control(&self, path: &str, body: &Value) -> Result<Raw, String> {
        self.raw("POST", &format!("/_sim{path}"), None, None, Some(body))
            .await
    }

    /// A reference unique in this run.
    pub(super) fn unique(&self, prefix: &str) -> String {
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{prefix}-{n:05}")
    }

    /// A new intent; it must be `payment_required` with a JWT-shaped token.
    pub(super) async fn intent(
        &self,
        amount: i64,
        currency: &str,
    ) -> Result<PaymentIntent, String> {
        let intent = self
            .client
            .create_payment_intent(&CreatePaymentIntentRequest::new(
                self.unique("customer"),
                self.unique("order"),
                amount,
                currency,
            ))
            .await
            .map_err(|e| format!("createPaymentIntent: {e}"))?;
        ensure(
            intent.status == PaymentIntentStatus::PaymentRequired,
            format!("a new intent is {}, not payment_required", intent.status),
        )?;
        ensure(
            intent.token.split('.').count() == 3,
            "the intent token is not JWT-shaped".into(),
        )?;
        Ok(intent)
    }

    /// A mobile-money attempt on `intent`, with the OTP up front if given.
    pub(super) async fn attempt(
        &self,
        intent: &PaymentIntent,
        country: &str,
        provider: &str,
        msisdn: &str,
        otp: Option<&str>,
    ) -> Result<PaymentIntent, Hub2Error> {
        let mut mobile_money = MobileMoneyDetails::new(msisdn);
        if let Some(otp) = otp {
            mobile_money = mobile_money.with_otp(otp);
        }
        self.payments
            .attempt_payment(
                &intent.id,
                &AttemptPaymentRequest::new(
                    intent.token.clone(),
                    PaymentMethod::MobileMoney,
                    country,
                )
                .with_provider(provider)
                .with_mobile_money(mobile_money),
            )
            .await
    }

    /// Waits for the intent to be final.
    pub(super) async fn wait(&self, id: &str) -> Result<PaymentIntent, String> {
        self.client
            .wait_for_payment_intent(id, self.final_status)
            .await
            .map_err(|e| format!("waiting for {id}: {e}"))
    }

    /// Polls until the intent is `action_required` (allowed while it is
    /// `processing`).
    pub(super) async fn wait_action(&self, id: &str) -> Result<PaymentIntent, String> {
        let deadline = tokio::time::Instant::now() + self.final_status;
        loop {
            // The whole intent, so that the status and the nextAction come
            // from the same read.
            let intent = self
                .client
                .get_payment_intent(id)
                .await
                .map_err(|e| format!("getPaymentIntent: {e}"))?;
            match intent.status {
                PaymentIntentStatus::ActionRequired => return Ok(intent),
                PaymentIntentStatus::Processing => {}
                other => return Err(format!("{id} became {other}, not action_required")),
            }
            if tokio::time::Instant::now() > deadline {
                return Err(format!("{id} never became action_required"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A raw answer.
pub(super) struct Raw {
    /// HTTP status.
    pub(super) status: u16,
    /// `Retry-After`, if sent.
    pub(super) retry_after: Option<String>,
    /// The body as JSON (`null` if it is not JSON).
    pub(super) body: Value,
}

impl Raw {
    /// A short description for failure messages.
    pub(super) fn describe(&self) -> String {
        let text = self.body.to_string();
        format!(
            "HTTP {} {}",
            self.status,
            text.chars().take(300).collect::<String>()
        )
    }

    /// Checks the status and the spec's Error body.
    pub(super) fn expect_error(&self, status: u16) -> Result<(), String> {
        ensure(
            self.status == status,
            format!("expected HTTP {status}, got {}", self.describe()),
        )?;
        let ok = self.body["status"] == status
            && self.body["code"].is_string()
            && self.body["message"].is_string()
            && self.body["request_id"]
                .as_str()
                .is_some_and(|r| !r.is_empty());
        ensure(
            ok,
            format!(
                "the body is not the spec's Error {{status, code, message, request_id}}: {}",
                self.describe()
            ),
        )
    }
}
