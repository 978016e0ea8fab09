//! HUB2 cases (groups `hub2-*`), derived from the HUB2 spec where it can:
//! every (country, provider) pair of the spec's `Country` × `Provider`
//! enums (a payment where the simulator serves the pair, a 400 where it
//! does not), every `PaymentMethod`, every operation of the spec's
//! operation table without credentials (its documented 401), and the
//! Processing Only pairs. Hand-written cases cover the OTP, redirection and
//! USSD flows, a new attempt after a failed one (`hub2/attempts.rs`), tokens,
//! references, permissions, polling throttle, balance, and webhook
//! signatures across a secret rotation (verified by the suite's own
//! receiver with `WebhookSecrets {current, previous}`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use paygate::hub2::client::{PollPolicy, RetryPolicy};
use paygate::hub2::models::{
    AttemptPaymentRequest, AuthenticatePaymentRequest, Country, CreateDelegatedPaymentRequest,
    CreatePaymentIntentRequest, CreateTransferRequest, CreateWebhookRequest, Currency,
    DestinationType, MobileMoneyDetails, NextActionType, PaymentIntent, PaymentIntentStatus,
    PaymentMethod, PaymentStatus, Provider, TransferDestination, TransferStatus, WebhookEventType,
    OPERATIONS,
};
use paygate::hub2::webhook::{verify_webhook, verify_webhook_event, WebhookSecret, WebhookSecrets};
use paygate::hub2::{Environment, Hub2Client, Hub2Config, Hub2Error, Hub2PaymentClient};
use serde_json::{json, Value};
use tokio::sync::{oneshot, Notify};

use super::cases::{Case, CaseKind};

mod attempts;
use crate::simulator::hub2::{
    country_currency, BANK_TRANSFER_COUNTRIES, DELEGATED_PAIRS, SUPPORTED_PAIRS,
};

/// Report groups of the HUB2 cases.
pub mod group {
    /// Payments for every served pair and method, fees, transfers, balance.
    pub const HAPPY_PATH: &str = "hub2-happy-path";
    /// Refused input: unsupported pairs, references, formats.
    pub const VALIDATION: &str = "hub2-validation";
    /// Keys, environments, tokens, permissions.
    pub const SECURITY: &str = "hub2-security";
    /// OTP, redirection, USSD, bank transfer, more than one attempt.
    pub const FLOWS: &str = "hub2-flows";
    /// Processing Only mode.
    pub const DELEGATED: &str = "hub2-delegated";
    /// Polling throttle and rate limits.
    pub const THROTTLE: &str = "hub2-throttle";
    /// Webhook deliveries and signatures.
    pub const WEBHOOKS: &str = "hub2-webhooks";
}

/// What one HUB2 case does.
#[derive(Clone, Debug)]
pub enum Hub2Case {
    /// A mobile-money payment on a served pair ends successful.
    Pay {
        /// Country.
        country: String,
        /// Provider.
        provider: String,
    },
    /// A payment on a pair the target does not serve gets 400.
    UnsupportedPair {
        /// Country.
        country: String,
        /// Provider.
        provider: String,
    },
    /// A bank-transfer payment carries bank details with a unique reference.
    BankTransfer {
        /// Country.
        country: String,
    },
    /// OTP flow: action_required, OTP `1234`, successful.
    Otp,
    /// OTP flow with `0000`: failed.
    WrongOtp,
    /// An OTP that is not 4 digits: 400 naming `confirmationCode`.
    OtpBadFormat,
    /// OTP given up front in `mobileMoney.otp`: successful, no action.
    OtpUpFront,
    /// Redirection flow: opening the page completes it.
    Redirection,
    /// USSD flow: action_required, then successful.
    Ussd,
    /// The documented failure number: the intent ends failed.
    PaymentFails,
    /// A failed attempt then a successful one on the same intent: both in
    /// `payments`, in order; the intent ends successful; no third attempt.
    RetryAfterFailure,
    /// A wrong OTP fails the first attempt; the second one gets its own OTP
    /// step and ends successful.
    RetryAfterWrongOtp,
    /// No new attempt while one is processing (409); after it fails, one.
    NoAttemptWhilePending,
    /// Every attempt carries one fee at the rate `GET /_sim/fees` gives.
    Fees,
    /// The token of another intent: 403; a forged token: 401.
    WrongToken,
    /// A reference with a forbidden character: the client refuses it
    /// without sending, the target answers 400 naming the field.
    ForbiddenReference {
        /// `customerReference`, `purchaseReference` or (transfer) `reference`.
        field: &'static str,
    },
    /// An operation of the spec sent without credentials gets its
    /// documented 401 (a forged token for the token-authenticated ones).
    NoCredentials {
        /// `operationId`.
        operation: &'static str,
        /// HTTP method.
        method: &'static str,
        /// Path template.
        path: &'static str,
    },
    /// A key of one environment with the other `Environment`: 403.
    WrongEnvironment,
    /// `/delegated/...` with a key lacking the permission: 403.
    DelegatedNoPermission {
        /// `payments` or `transfers`.
        what: &'static str,
    },
    /// Credentials that fail validation, or an unsupported provider, are
    /// refused by the registration with 400.
    CredentialsValidation,
    /// Processing Only on a supported pair: register credentials, then pay
    /// or transfer.
    Delegated {
        /// Country.
        country: &'static str,
        /// Provider.
        provider: &'static str,
        /// `payment` or `transfer`.
        transaction_type: &'static str,
    },
    /// Reading a final intent again and again: 429 with Retry-After.
    PollFinalIntent,
    /// A transfer ends successful and is debited from the balance.
    Transfer,
    /// A transfer above the available balance: 402, balance unchanged.
    TransferAboveBalance,
    /// A delivery verifies with the current secret; after a rotation it
    /// carries `s1` (new) and `s0` (old), both verify; tampering fails.
    WebhookSignatures,
}

fn case(id: String, group: &'static str, kind: Hub2Case) -> Case {
    Case {
        id: format!("hub2/{id}"),
        group,
        sandbox_safe: false,
        needs: super::cases::Needs {
            hub2: true,
            ..Default::default()
        },
        kind: CaseKind::Hub2(kind),
    }
}

fn safe(mut case: Case) -> Case {
    case.sandbox_safe = true;
    case
}

fn control(mut case: Case) -> Case {
    case.needs.control_api = true;
    case
}

fn callbacks(mut case: Case) -> Case {
    case.needs.callbacks = true;
    case
}

/// Every HUB2 case.
pub fn derive_cases() -> Vec<Case> {
    let mut out = Vec::new();
    for country in Country::ALL {
        for provider in Provider::ALL {
            let (c, p) = (country.as_str(), provider.as_str());
            let served = SUPPORTED_PAIRS.iter().any(|(sc, sp)| *sc == c && *sp == p);
            if served {
                out.push(case(
                    format!("pay/{c}/{p}"),
                    group::HAPPY_PATH,
                    Hub2Case::Pay {
                        country: c.into(),
                        provider: p.into(),
                    },
                ));
            } else {
                out.push(case(
                    format!("unsupported_pair/{c}/{p}"),
                    group::VALIDATION,
                    Hub2Case::UnsupportedPair {
                        country: c.into(),
                        provider: p.into(),
                    },
                ));
            }
        }
    }
    for method in PaymentMethod::ALL {
        if *method == PaymentMethod::BankTransfer {
            for country in BANK_TRANSFER_COUNTRIES {
                out.push(control(case(
                    format!("bank_transfer/{country}"),
                    group::FLOWS,
                    Hub2Case::BankTransfer {
                        country: (*country).into(),
                    },
                )));
            }
        }
    }
    for flow in [
        ("otp", Hub2Case::Otp),
        ("otp_wrong", Hub2Case::WrongOtp),
        ("otp_up_front", Hub2Case::OtpUpFront),
        ("redirection", Hub2Case::Redirection),
        ("ussd", Hub2Case::Ussd),
        ("payment_fails", Hub2Case::PaymentFails),
        ("retry_after_failure", Hub2Case::RetryAfterFailure),
        ("retry_after_wrong_otp", Hub2Case::RetryAfterWrongOtp),
    ] {
        out.push(case(flow.0.into(), group::FLOWS, flow.1));
    }
    out.push(control(case(
        "no_attempt_while_pending".into(),
        group::FLOWS,
        Hub2Case::NoAttemptWhilePending,
    )));
    out.push(case(
        "otp_bad_format".into(),
        group::VALIDATION,
        Hub2Case::OtpBadFormat,
    ));
    out.push(safe(case(
        "wrong_token".into(),
        group::SECURITY,
        Hub2Case::WrongToken,
    )));
    for field in ["customerReference", "purchaseReference", "reference"] {
        out.push(safe(case(
            format!("forbidden_reference/{field}"),
            group::VALIDATION,
            Hub2Case::ForbiddenReference { field },
        )));
    }
    for op in OPERATIONS {
        out.push(safe(case(
            format!("no_credentials/{}", op.id),
            group::SECURITY,
            Hub2Case::NoCredentials {
                operation: op.id,
                method: op.method,
                path: op.path,
            },
        )));
    }
    out.push(safe(case(
        "wrong_environment".into(),
        group::SECURITY,
        Hub2Case::WrongEnvironment,
    )));
    for what in ["payments", "transfers"] {
        out.push(case(
            format!("delegated/no_permission/{what}"),
            group::DELEGATED,
            Hub2Case::DelegatedNoPermission { what },
        ));
    }
    out.push(control(case(
        "delegated/credentials_validation".into(),
        group::DELEGATED,
        Hub2Case::CredentialsValidation,
    )));
    for (country, provider) in DELEGATED_PAIRS {
        for transaction_type in ["payment", "transfer"] {
            out.push(control(case(
                format!("delegated/{transaction_type}/{country}/{provider}"),
                group::DELEGATED,
                Hub2Case::Delegated {
                    country,
                    provider,
                    transaction_type,
                },
            )));
        }
    }
    out.push(case(
        "poll_final_intent".into(),
        group::THROTTLE,
        Hub2Case::PollFinalIntent,
    ));
    out.push(case(
        "transfer".into(),
        group::HAPPY_PATH,
        Hub2Case::Transfer,
    ));
    out.push(control(case(
        "fees".into(),
        group::HAPPY_PATH,
        Hub2Case::Fees,
    )));
    out.push(case(
        "transfer_above_balance".into(),
        group::VALIDATION,
        Hub2Case::TransferAboveBalance,
    ));
    out.push(callbacks(control(case(
        "webhook_signatures".into(),
        group::WEBHOOKS,
        Hub2Case::WebhookSignatures,
    ))));
    out
}

// ----- the suite's webhook receiver --------------------------------------------

/// One delivery the receiver got.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// `Hub2-Signature`.
    pub signature: String,
    /// The raw body.
    pub body: Bytes,
    /// Whether it verified with the secrets registered for its endpoint.
    pub verified: Result<(), String>,
}

#[derive(Default)]
struct Inbox {
    secrets: Mutex<HashMap<String, WebhookSecrets>>,
    deliveries: Mutex<HashMap<String, Vec<Delivery>>>,
    notify: Notify,
}

/// The suite's HUB2 webhook endpoint: `POST /hub2-webhooks/{name}`,
/// verifying each delivery with the [`WebhookSecrets`] set for `name`
/// (200 if it verifies, 401 otherwise).
pub struct WebhookReceiver {
    inbox: Arc<Inbox>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl WebhookReceiver {
    /// Starts on `127.0.0.1:0`.
    pub async fn start() -> std::io::Result<WebhookReceiver> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let inbox = Arc::new(Inbox::default());
        let app = Router::new()
            .route("/hub2-webhooks/{name}", post(receive))
            .with_state(Arc::clone(&inbox));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(WebhookReceiver {
            inbox,
            addr,
            stop: Some(stop),
        })
    }

    /// The URL of endpoint `name`.
    pub fn url(&self, name: &str) -> String {
        format!("http://{}/hub2-webhooks/{name}", self.addr)
    }

    /// Sets the secrets endpoint `name` verifies with.
    pub fn set_secrets(&self, name: &str, secrets: WebhookSecrets) {
        lock(&self.inbox.secrets).insert(name.to_owned(), secrets);
    }

    /// Waits for a delivery to `name` whose event satisfies `pred`.
    pub async fn wait_for(
        &self,
        name: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Option<Delivery> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inbox.notify.notified();
            let found = lock(&self.inbox.deliveries).get(name).and_then(|list| {
                list.iter()
                    .find(|d| serde_json::from_slice::<Value>(&d.body).is_ok_and(|v| pred(&v)))
                    .cloned()
            });
            if found.is_some() {
                return found;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }

    /// Stops the server.
    pub fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn receive(
    State(inbox): State<Arc<Inbox>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let signature = headers
        .get("hub2-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let secrets = lock(&inbox.secrets).get(&name).cloned();
    let verified = match secrets {
        None => Err(format!("no secrets for endpoint {name}")),
        Some(secrets) => verify_webhook_event(&secrets, &signature, &body)
            .map(drop)
            .map_err(|e| e.to_string()),
    };
    let status = if verified.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::UNAUTHORIZED
    };
    lock(&inbox.deliveries)
        .entry(name)
        .or_default()
        .push(Delivery {
            signature,
            body,
            verified,
        });
    inbox.notify.notify_waiters();
    status
}

// ----- the context -------------------------------------------------------------

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
        })
    }

    fn env_str(&self) -> &'static str {
        match self.environment {
            Environment::Live => "live",
            _ => "sandbox",
        }
    }

    async fn raw(
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

    async fn control(&self, path: &str, body: &Value) -> Result<Raw, String> {
        self.raw("POST", &format!("/_sim{path}"), None, None, Some(body))
            .await
    }

    fn unique(&self, prefix: &str) -> String {
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{prefix}-{n:05}")
    }

    async fn intent(&self, amount: i64, currency: &str) -> Result<PaymentIntent, String> {
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

    async fn attempt(
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

    async fn wait(&self, id: &str) -> Result<PaymentIntent, String> {
        self.client
            .wait_for_payment_intent(id, self.final_status)
            .await
            .map_err(|e| format!("waiting for {id}: {e}"))
    }

    /// Polls until the intent is `action_required` (allowed while it is
    /// `processing`).
    async fn wait_action(&self, id: &str) -> Result<PaymentIntent, String> {
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
struct Raw {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

impl Raw {
    fn describe(&self) -> String {
        let text = self.body.to_string();
        format!(
            "HTTP {} {}",
            self.status,
            text.chars().take(300).collect::<String>()
        )
    }

    /// Checks the status and the spec's Error body.
    fn expect_error(&self, status: u16) -> Result<(), String> {
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

fn ensure(condition: bool, message: String) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err(message)
    }
}

fn msisdn_for(country: &str, suffix: &str) -> String {
    let base = match country {
        "CI" => "07000000",
        "SN" => "7700000",
        _ => "9000000",
    };
    format!("{base}{suffix}")
}

fn expect_final(intent: &PaymentIntent, status: PaymentIntentStatus) -> Result<(), String> {
    ensure(
        intent.status == status,
        format!(
            "intent {} ended {}, expected {status}",
            intent.id, intent.status
        ),
    )?;
    let payment_status = match status {
        PaymentIntentStatus::Successful => PaymentStatus::Successful,
        _ => PaymentStatus::Failed,
    };
    ensure(
        intent
            .payments
            .last()
            .is_some_and(|p| p.status == payment_status),
        format!("the last payment of {} is not {payment_status}", intent.id),
    )
}

// ----- the checks ----------------------------------------------------------------

/// Runs one HUB2 case.
pub(crate) async fn run(ctx: Option<&Hub2Ctx>, case: &Hub2Case) -> Result<(), String> {
    let Some(ctx) = ctx else {
        return Err("no HUB2 target configured".into());
    };
    match case {
        Hub2Case::Pay { country, provider } => {
            let currency = country_currency(country).unwrap_or("XOF");
            let intent = ctx.intent(200, currency).await?;
            let attempted = ctx
                .attempt(&intent, country, provider, &msisdn_for(country, "99"), None)
                .await
                .map_err(|e| format!("attemptPayment: {e}"))?;
            ensure(
                attempted.status == PaymentIntentStatus::Processing
                    && attempted.payments.len() == 1,
                format!(
                    "after the attempt the intent is {} with {} payment(s)",
                    attempted.status,
                    attempted.payments.len()
                ),
            )?;
            expect_final(
                &ctx.wait(&intent.id).await?,
                PaymentIntentStatus::Successful,
            )
        }
        Hub2Case::UnsupportedPair { country, provider } => {
            let currency = country_currency(country).unwrap_or("XOF");
            let intent = ctx.intent(200, currency).await?;
            let body = json!({"token": intent.token, "paymentMethod": "mobile_money", "country": country,
                              "provider": provider, "mobileMoney": {"msisdn": msisdn_for(country, "99")}});
            ctx.raw(
                "POST",
                &format!("/payment-intents/{}/payments", intent.id),
                None,
                None,
                Some(&body),
            )
            .await?
            .expect_error(400)
        }
        Hub2Case::BankTransfer { country } => bank_transfer(ctx, country).await,
        Hub2Case::Otp => otp(ctx, "1234", PaymentIntentStatus::Successful).await,
        Hub2Case::WrongOtp => otp(ctx, "0000", PaymentIntentStatus::Failed).await,
        Hub2Case::OtpBadFormat => {
            let intent = ctx.intent(200, "XOF").await?;
            ctx.attempt(&intent, "CI", "orange", &msisdn_for("CI", "11"), None)
                .await
                .map_err(|e| format!("attemptPayment: {e}"))?;
            ctx.wait_action(&intent.id).await?;
            let body = json!({"token": intent.token, "confirmationCode": "12a"});
            let raw = ctx
                .raw(
                    "POST",
                    &format!("/payment-intents/{}/authentication", intent.id),
                    None,
                    None,
                    Some(&body),
                )
                .await?;
            raw.expect_error(400)?;
            ensure(
                raw.body.to_string().contains("confirmationCode"),
                format!(
                    "the error does not name confirmationCode: {}",
                    raw.describe()
                ),
            )
        }
        Hub2Case::OtpUpFront => {
            let intent = ctx.intent(200, "XOF").await?;
            ctx.attempt(
                &intent,
                "CI",
                "orange",
                &msisdn_for("CI", "11"),
                Some("4321"),
            )
            .await
            .map_err(|e| format!("attemptPayment: {e}"))?;
            let done = ctx.wait(&intent.id).await?;
            expect_final(&done, PaymentIntentStatus::Successful)
        }
        Hub2Case::Redirection => {
            let intent = ctx.intent(200, "XOF").await?;
            ctx.attempt(&intent, "SN", "wave", &msisdn_for("SN", "12"), None)
                .await
                .map_err(|e| format!("attemptPayment: {e}"))?;
            let waiting = ctx.wait_action(&intent.id).await?;
            let action = waiting
                .payments
                .last()
                .and_then(|p| p.next_action.clone())
                .ok_or("action_required without nextAction")?;
            ensure(
                action.r#type == NextActionType::Redirection,
                format!("nextAction is {}, not redirection", action.r#type),
            )?;
            let url = action
                .data
                .map(|d| d.url)
                .ok_or("redirection without data.url")?;
            let page = ctx
                .http
                .get(&url)
                .send()
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            ensure(
                page.status().is_success(),
                format!("{url}: HTTP {}", page.status()),
            )?;
            expect_final(
                &ctx.wait(&intent.id).await?,
                PaymentIntentStatus::Successful,
            )
        }
        Hub2Case::Ussd => {
            let intent = ctx.intent(200, "XOF").await?;
            ctx.attempt(&intent, "CI", "mtn", &msisdn_for("CI", "13"), None)
                .await
                .map_err(|e| format!("attemptPayment: {e}"))?;
            let waiting = ctx.wait_action(&intent.id).await?;
            ensure(
                waiting
                    .payments
                    .last()
                    .and_then(|p| p.next_action.as_ref())
                    .is_some_and(|a| a.r#type == NextActionType::Ussd && !a.message.is_empty()),
                "action_required without a ussd nextAction and message".into(),
            )?;
            expect_final(
                &ctx.wait(&intent.id).await?,
                PaymentIntentStatus::Successful,
            )
        }
        Hub2Case::PaymentFails => {
            let intent = ctx.intent(200, "XOF").await?;
            ctx.attempt(&intent, "CI", "orange", &msisdn_for("CI", "01"), None)
                .await
                .map_err(|e| format!("attemptPayment: {e}"))?;
            expect_final(&ctx.wait(&intent.id).await?, PaymentIntentStatus::Failed)
        }
        Hub2Case::RetryAfterFailure => attempts::retry_after_failure(ctx).await,
        Hub2Case::RetryAfterWrongOtp => attempts::retry_after_wrong_otp(ctx).await,
        Hub2Case::NoAttemptWhilePending => attempts::no_attempt_while_pending(ctx).await,
        Hub2Case::Fees => attempts::fees(ctx).await,
        Hub2Case::WrongToken => {
            let intent = ctx.intent(200, "XOF").await?;
            let other = ctx.intent(200, "XOF").await?;
            let stolen = PaymentIntent {
                token: other.token.clone(),
                ..intent.clone()
            };
            match ctx
                .attempt(&stolen, "CI", "orange", &msisdn_for("CI", "99"), None)
                .await
            {
                Err(e) if matches!(e.http_status(), Some(401 | 403)) => {}
                other => {
                    return Err(format!(
                        "the token of another intent: expected 401/403, got {other:?}"
                    ))
                }
            }
            let forged = PaymentIntent {
                token: format!("{}x", intent.token),
                ..intent.clone()
            };
            match ctx
                .attempt(&forged, "CI", "orange", &msisdn_for("CI", "99"), None)
                .await
            {
                Err(e) if e.http_status() == Some(401) => Ok(()),
                other => Err(format!("a forged token: expected 401, got {other:?}")),
            }
        }
        Hub2Case::ForbiddenReference { field } => forbidden_reference(ctx, field).await,
        Hub2Case::NoCredentials {
            operation,
            method,
            path,
        } => {
            let path = path.replace("{id}", "pi_conformance0000000001");
            // A well-formed body, so that only the credentials are wrong.
            let body = (*method == "POST").then(|| {
                json!({"token": "not.a.token", "confirmationCode": "1234", "paymentMethod": "mobile_money",
                       "country": "CI", "provider": "orange", "mobileMoney": {"msisdn": "0700000099"}})
            });
            let raw = ctx.raw(method, &path, None, None, body.as_ref()).await?;
            raw.expect_error(401)
                .map_err(|e| format!("{operation}: {e}"))
        }
        Hub2Case::WrongEnvironment => {
            let other = if ctx.env_str() == "live" {
                "sandbox"
            } else {
                "live"
            };
            let raw = ctx
                .raw("GET", "/balance", Some(&ctx.api_key), Some(other), None)
                .await?;
            ensure(
                matches!(raw.status, 401 | 403),
                format!(
                    "a {} key with Environment {other}: expected 401 or 403, got {}",
                    ctx.env_str(),
                    raw.describe()
                ),
            )?;
            raw.expect_error(raw.status)
        }
        Hub2Case::DelegatedNoPermission { what } => {
            let key = ctx
                .limited_key
                .as_deref()
                .ok_or("no key without the permission")?;
            let body = if *what == "payments" {
                json!({"customerReference": "c", "purchaseReference": "p", "amount": 100, "currency": "XOF",
                       "paymentMethod": "mobile_money", "country": "CI", "provider": "orange", "mobileMoney": {"msisdn": "0700000099"}})
            } else {
                transfer_json(100, "0500000099", "mtn")
            };
            let raw = ctx
                .raw(
                    "POST",
                    &format!("/delegated/{what}"),
                    Some(key),
                    None,
                    Some(&body),
                )
                .await?;
            raw.expect_error(403)?;
            let permission = if *what == "payments" {
                "Api.delegated_payment_create"
            } else {
                "Api.delegated_transfer_create"
            };
            ensure(
                raw.body["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(permission)),
                format!("the message does not name {permission}: {}", raw.describe()),
            )
        }
        Hub2Case::CredentialsValidation => {
            for (credentials, what) in [
                (json!({}), "apiKey missing"),
                (json!({"apiKey": ""}), "apiKey empty"),
                (json!({"apiKey": "invalid"}), "authentication refused"),
                (
                    json!({"apiKey": "no-balance-access"}),
                    "GET /balance refused",
                ),
            ] {
                let raw = ctx
                    .control(
                        "/provider-credentials",
                        &json!({"provider": "orange", "country": "CI", "transactionType": "payment", "credentials": credentials}),
                    )
                    .await?;
                raw.expect_error(400).map_err(|e| format!("{what}: {e}"))?;
            }
            let raw = ctx
                .control(
                    "/provider-credentials",
                    &json!({"provider": "wave", "country": "SN", "transactionType": "payment", "credentials": {"apiKey": "k"}}),
                )
                .await?;
            raw.expect_error(400)
                .map_err(|e| format!("unsupported provider: {e}"))
        }
        Hub2Case::Delegated {
            country,
            provider,
            transaction_type,
        } => delegated(ctx, country, provider, transaction_type).await,
        Hub2Case::PollFinalIntent => {
            // A fresh intent is payment_required: not a status to poll.
            let intent = ctx.intent(200, "XOF").await?;
            for attempt in 1..=20 {
                match ctx.client.get_payment_intent_status(&intent.id).await {
                    Ok(_) => {}
                    Err(Hub2Error::RateLimited { .. }) => {
                        // The raw answer: the spec's Error and Retry-After.
                        let raw = ctx
                            .raw(
                                "GET",
                                &format!("/payment-intents/{}/status", intent.id),
                                Some(&ctx.api_key),
                                None,
                                None,
                            )
                            .await?;
                        raw.expect_error(429)?;
                        ensure(
                            raw.retry_after
                                .as_deref()
                                .and_then(|r| r.parse::<u64>().ok())
                                .is_some(),
                            format!("429 without a numeric Retry-After: {:?}", raw.retry_after),
                        )?;
                        return ensure(attempt > 1, "throttled on the first read".into());
                    }
                    Err(e) => return Err(format!("read {attempt}: {e}")),
                }
            }
            Err("20 reads of a payment_required intent were never throttled".into())
        }
        Hub2Case::Transfer => {
            let before = transfer_available(ctx).await?;
            let transfer = ctx
                .client
                .create_transfer(&transfer_request(ctx, 1500, "0500000099"))
                .await
                .map_err(|e| format!("createTransfer: {e}"))?;
            let after = transfer_available(ctx).await?;
            ensure(
                after == before - 1500,
                format!("balance {before} -> {after} after a transfer of 1500"),
            )?;
            wait_transfer(ctx, &transfer.id).await
        }
        Hub2Case::TransferAboveBalance => {
            // In GNF, which no other case moves, so the balance is stable.
            let before = transfer_available_in(ctx, &Currency::Gnf).await?;
            let mut request = transfer_request(ctx, before + 1, "620000099");
            request.currency = Currency::Gnf;
            request.destination.country = Country::Gn;
            request.destination.provider = Provider::Orange;
            let result = ctx.client.create_transfer(&request).await;
            match result {
                Err(Hub2Error::Api {
                    http_status: 400 | 402 | 409,
                    code,
                    message,
                    ..
                }) => {
                    ensure(
                        code == "insufficient-funds" || message.contains("funds"),
                        format!("the refusal does not say why: {code} {message}"),
                    )?;
                }
                other => {
                    return Err(format!(
                        "a transfer above the balance: expected 402, got {other:?}"
                    ))
                }
            }
            let after = transfer_available_in(ctx, &Currency::Gnf).await?;
            ensure(
                after == before,
                format!("balance changed {before} -> {after}"),
            )
        }
        Hub2Case::WebhookSignatures => webhook_signatures(ctx).await,
    }
}

async fn otp(ctx: &Hub2Ctx, code: &str, expected: PaymentIntentStatus) -> Result<(), String> {
    let intent = ctx.intent(200, "XOF").await?;
    ctx.attempt(&intent, "CI", "orange", &msisdn_for("CI", "11"), None)
        .await
        .map_err(|e| format!("attemptPayment: {e}"))?;
    let waiting = ctx.wait_action(&intent.id).await?;
    let action = waiting
        .payments
        .last()
        .and_then(|p| p.next_action.clone())
        .ok_or("action_required without nextAction")?;
    ensure(
        action.r#type == NextActionType::Otp && action.message.starts_with("Mode Sandbox"),
        format!("nextAction is {} {:?}", action.r#type, action.message),
    )?;
    ctx.payments
        .authenticate_payment(
            &intent.id,
            &AuthenticatePaymentRequest::new(intent.token.clone(), code),
        )
        .await
        .map_err(|e| format!("authenticatePayment: {e}"))?;
    expect_final(&ctx.wait(&intent.id).await?, expected)
}

async fn bank_transfer(ctx: &Hub2Ctx, country: &str) -> Result<(), String> {
    let currency = country_currency(country).unwrap_or("XOF");
    let mut references = Vec::new();
    for _ in 0..2 {
        let intent = ctx.intent(5000, currency).await?;
        let answer = ctx
            .payments
            .attempt_payment(
                &intent.id,
                &AttemptPaymentRequest::new(
                    intent.token.clone(),
                    PaymentMethod::BankTransfer,
                    country,
                ),
            )
            .await
            .map_err(|e| format!("attemptPayment: {e}"))?;
        let details = answer
            .payments
            .last()
            .and_then(|p| p.bank_transfer_details.clone())
            .ok_or("a bank_transfer payment without bankTransferDetails")?;
        ensure(!details.reference.is_empty(), "empty bank reference".into())?;
        references.push(details.reference);
        let raw = ctx
            .control(
                &format!("/payment-intents/{}/outcome", intent.id),
                &json!({"status": "successful"}),
            )
            .await?;
        ensure(
            raw.status == 200,
            format!("forcing the outcome: {}", raw.describe()),
        )?;
        expect_final(
            &ctx.wait(&intent.id).await?,
            PaymentIntentStatus::Successful,
        )?;
    }
    ensure(
        references[0] != references[1],
        format!("two bank transfers share the reference {}", references[0]),
    )
}

async fn forbidden_reference(ctx: &Hub2Ctx, field: &str) -> Result<(), String> {
    let bad = "order#1042/é";
    let (client_result, path, body) = if field == "reference" {
        let mut request = transfer_request(ctx, 100, "0500000099");
        request.reference = bad.into();
        let body = serde_json::to_value(&request).map_err(|e| e.to_string())?;
        (
            ctx.client.create_transfer(&request).await.map(drop),
            "/transfers",
            body,
        )
    } else {
        let mut request =
            CreatePaymentIntentRequest::new("customer-1", "order-1", 100, Currency::Xof);
        if field == "customerReference" {
            request.customer_reference = bad.into();
        } else {
            request.purchase_reference = bad.into();
        }
        let body = serde_json::to_value(&request).map_err(|e| e.to_string())?;
        (
            ctx.client.create_payment_intent(&request).await.map(drop),
            "/payment-intents",
            body,
        )
    };
    match client_result {
        Err(Hub2Error::Invalid { field: named, .. }) if named == field => {}
        other => {
            return Err(format!(
                "the client's pre-flight did not refuse {field}: {other:?}"
            ))
        }
    }
    let raw = ctx
        .raw("POST", path, Some(&ctx.api_key), None, Some(&body))
        .await?;
    raw.expect_error(400)?;
    ensure(
        raw.body["code"].as_str().is_some_and(|c| c.contains(field))
            || raw.body["message"]
                .as_str()
                .is_some_and(|m| m.contains(field)),
        format!("the 400 does not name {field}: {}", raw.describe()),
    )
}

fn transfer_json(amount: i64, msisdn: &str, provider: &str) -> Value {
    json!({"reference": "payout-conformance", "amount": amount, "currency": "XOF", "description": "conformance",
           "destination": {"type": "mobile_money", "country": "CI", "recipientName": "Awa Kone", "msisdn": msisdn, "provider": provider}})
}

fn transfer_request(ctx: &Hub2Ctx, amount: i64, msisdn: &str) -> CreateTransferRequest {
    let destination = TransferDestination::new(
        DestinationType::MobileMoney,
        Country::Ci,
        "Awa Kone",
        msisdn,
        Provider::Mtn,
    );
    CreateTransferRequest::new(ctx.unique("payout"), amount, Currency::Xof, destination)
        .with_description("conformance")
}

/// Polls the transfer status (allowed while created / pending) until it
/// is final; it must be successful.
async fn wait_transfer(ctx: &Hub2Ctx, id: &str) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + ctx.final_status;
    loop {
        let status = ctx
            .client
            .get_transfer_status(id)
            .await
            .map_err(|e| format!("getTransferStatus: {e}"))?;
        match status.status {
            TransferStatus::Successful => return Ok(()),
            TransferStatus::Created | TransferStatus::Pending => {}
            other => return Err(format!("transfer {id} ended {other}")),
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("transfer {id} never ended"));
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

async fn transfer_available(ctx: &Hub2Ctx) -> Result<i64, String> {
    transfer_available_in(ctx, &Currency::Xof).await
}

async fn transfer_available_in(ctx: &Hub2Ctx, currency: &Currency) -> Result<i64, String> {
    let balance = ctx
        .client
        .get_balance()
        .await
        .map_err(|e| format!("getBalance: {e}"))?;
    balance
        .transfer_account
        .iter()
        .find(|a| &a.currency == currency)
        .map(|a| a.available_balance)
        .ok_or_else(|| format!("no {currency} transfer account in the balance"))
}

async fn delegated(
    ctx: &Hub2Ctx,
    country: &str,
    provider: &str,
    transaction_type: &str,
) -> Result<(), String> {
    let raw = ctx
        .control(
            "/provider-credentials",
            &json!({"provider": provider, "country": country, "transactionType": transaction_type,
                    "credentials": {"apiKey": "conformance-provider-key", "username": "merchant"}}),
        )
        .await?;
    ensure(
        raw.status == 201,
        format!("registering credentials: {}", raw.describe()),
    )?;
    let currency = country_currency(country).unwrap_or("XOF");
    if transaction_type == "payment" {
        let intent = ctx
            .client
            .create_delegated_payment(
                &CreateDelegatedPaymentRequest::new(
                    ctx.unique("customer"),
                    ctx.unique("order"),
                    120,
                    currency,
                    PaymentMethod::MobileMoney,
                    country,
                    provider,
                )
                .with_mobile_money(MobileMoneyDetails::new(msisdn_for(country, "99"))),
            )
            .await
            .map_err(|e| format!("createDelegatedPayment: {e}"))?;
        expect_final(
            &ctx.wait(&intent.id).await?,
            PaymentIntentStatus::Successful,
        )
    } else {
        let mut request = transfer_request(ctx, 100, &msisdn_for(country, "99"));
        request.currency = Currency::from(currency);
        request.destination.country = Country::from(country);
        request.destination.provider = Provider::from(provider);
        let transfer = ctx
            .client
            .create_delegated_transfer(&request)
            .await
            .map_err(|e| format!("createDelegatedTransfer: {e}"))?;
        ensure(
            matches!(
                transfer.status,
                TransferStatus::Created | TransferStatus::Pending
            ),
            format!("a new delegated transfer is {}", transfer.status),
        )?;
        wait_transfer(ctx, &transfer.id).await
    }
}

async fn webhook_signatures(ctx: &Hub2Ctx) -> Result<(), String> {
    let receiver = ctx.receiver.as_ref().ok_or("no webhook receiver")?;
    let name = ctx.unique("wh");
    let webhook = ctx
        .client
        .create_webhook(
            &CreateWebhookRequest::new(
                receiver.url(&name),
                vec![
                    WebhookEventType::PaymentIntentCreated,
                    WebhookEventType::PaymentIntentSucceeded,
                ],
            )
            .with_description("conformance"),
        )
        .await
        .map_err(|e| format!("createWebhook: {e}"))?;
    let first = webhook
        .secret
        .clone()
        .ok_or("createWebhook answered no secret")?;
    receiver.set_secrets(&name, WebhookSecrets::new(WebhookSecret::new(&first)));
    let result = async {
        let intent = ctx.intent(300, "XOF").await?;
        let wait = Duration::from_secs(10);
        let created = receiver
            .wait_for(&name, wait, |e| {
                e["type"] == "payment_intent.created" && e["data"]["id"] == intent.id.as_str()
            })
            .await
            .ok_or("no payment_intent.created delivery")?;
        created
            .verified
            .clone()
            .map_err(|e| format!("payment_intent.created: {e}"))?;
        ensure(
            !created.signature.contains("s0="),
            format!("s0 before any rotation: {}", created.signature),
        )?;

        let rotated = ctx
            .control(&format!("/webhooks/{}/rotate", webhook.id), &json!({}))
            .await?;
        let second = rotated.body["secret"]
            .as_str()
            .ok_or_else(|| format!("rotation answered no secret: {}", rotated.describe()))?
            .to_owned();
        receiver.set_secrets(
            &name,
            WebhookSecrets::new(WebhookSecret::new(&second))
                .with_previous(WebhookSecret::new(&first)),
        );
        ctx.attempt(&intent, "CI", "orange", &msisdn_for("CI", "99"), None)
            .await
            .map_err(|e| format!("attemptPayment: {e}"))?;
        let succeeded = receiver
            .wait_for(&name, wait, |e| {
                e["type"] == "payment_intent.succeeded" && e["data"]["id"] == intent.id.as_str()
            })
            .await
            .ok_or("no payment_intent.succeeded delivery")?;
        succeeded
            .verified
            .clone()
            .map_err(|e| format!("after the rotation: {e}"))?;
        ensure(
            succeeded.signature.starts_with("s1=") && succeeded.signature.contains(",s0="),
            format!(
                "after a rotation the header is not s1=..,s0=..: {}",
                succeeded.signature
            ),
        )?;
        // Each secret alone verifies (s1 with the new, s0 with the old)...
        for (label, secret) in [("new", &second), ("previous", &first)] {
            verify_webhook(
                &WebhookSecrets::new(WebhookSecret::new(secret)),
                &succeeded.signature,
                &succeeded.body,
            )
            .map_err(|e| format!("the {label} secret alone: {e}"))?;
        }
        // ...a wrong secret or a tampered body does not.
        ensure(
            verify_webhook(
                &WebhookSecrets::new(WebhookSecret::new("not-the-secret")),
                &succeeded.signature,
                &succeeded.body,
            )
            .is_err(),
            "a wrong secret verifies".into(),
        )?;
        let mut tampered = succeeded.body.to_vec();
        if let Some(b) = tampered.iter_mut().find(|b| **b == b'3') {
            *b = b'4';
        } else {
            tampered.push(b' ');
        }
        ensure(
            verify_webhook(
                &WebhookSecrets::new(WebhookSecret::new(&second))
                    .with_previous(WebhookSecret::new(&first)),
                &succeeded.signature,
                &tampered,
            )
            .is_err(),
            "a tampered body verifies".into(),
        )
    }
    .await;
    let _ = ctx.client.delete_webhook(&webhook.id).await;
    result
}
