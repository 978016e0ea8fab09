//! HUB2 state, in memory (and, with `--db`, in the database: see
//! `persist`): intents, transfers, balances, webhooks and their
//! delivery attempts, provider credentials and the rate-limit counters.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use paygate::hub2::models::{PaymentIntent, Transfer, Webhook};
use serde::{Deserialize, Serialize};

use super::config::{Hub2Config, Hub2Environment};

/// What a payment attempt does next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Plan {
    /// Ends successful after the latency.
    Succeed,
    /// Ends failed after the latency, for this reason.
    Fail(String),
    /// Stays `processing` (bank transfers, msisdn ending `03`) until the
    /// control API forces an outcome.
    Stay,
    /// Asks for an OTP (msisdn ending `11`).
    Otp,
    /// Asks the customer to open a page (msisdn ending `12`).
    Redirection,
    /// Asks the customer to follow a USSD procedure (msisdn ending `13`),
    /// then succeeds after the latency.
    Ussd,
}

/// An intent and what the simulator keeps beside it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IntentRecord {
    /// The intent as the API returns it.
    pub intent: PaymentIntent,
    /// The environment it lives in.
    pub env: Hub2Environment,
    /// Created through `/delegated/payments`.
    pub delegated: bool,
    /// The plan of the current (last) payment attempt.
    pub plan: Option<Plan>,
}

/// A transfer and what the simulator keeps beside it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TransferRecord {
    /// The transfer as the API returns it.
    pub transfer: Transfer,
    /// The environment it lives in.
    pub env: Hub2Environment,
    /// Created through `/delegated/transfers` (no HUB2 balance moves).
    pub delegated: bool,
    /// Whether it fails (msisdn ending `01`).
    pub fails: bool,
}

/// A webhook and its secrets (kept in the `--db` file too: the
/// simulator's own secrets, which it must sign with after a restart).
#[derive(Clone, Serialize, Deserialize)]
pub struct WebhookRecord {
    /// The webhook as the API returns it (without `secret`).
    pub webhook: Webhook,
    /// Owner.
    pub merchant_id: String,
    /// Environment.
    pub env: Hub2Environment,
    /// Current secret.
    pub secret: String,
    /// The secret before the last rotation, and when it was rotated.
    /// The previous secret and when it was replaced (ms since the epoch,
    /// on the simulator's clock).
    pub previous: Option<(String, u64)>,
}

/// How long the previous secret still signs (`s0`) after a rotation.
pub const PREVIOUS_SECRET_VALIDITY: Duration = Duration::from_secs(24 * 3600);

impl std::fmt::Debug for WebhookRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookRecord")
            .field("webhook", &self.webhook)
            .field("merchant_id", &self.merchant_id)
            .field("env", &self.env)
            .field("secret", &"<redacted>")
            .field(
                "previous",
                &self.previous.as_ref().map(|(_, at)| ("<redacted>", at)),
            )
            .finish()
    }
}

impl WebhookRecord {
    /// The previous secret, if rotated less than 24 hours ago.
    pub fn live_previous(&self) -> Option<&str> {
        let validity_ms = u64::try_from(PREVIOUS_SECRET_VALIDITY.as_millis()).unwrap_or(u64::MAX);
        let now = crate::simulator::clock::now_ms();
        self.previous
            .as_ref()
            .filter(|(_, at)| now.saturating_sub(*at) < validity_ms)
            .map(|(s, _)| s.as_str())
    }
}

/// One webhook delivery attempt. Secrets and signatures are not kept.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// The webhook.
    pub webhook_id: String,
    /// The event id (`evt_...`).
    pub event_id: String,
    /// The event type.
    pub event_type: String,
    /// The id of the object the event is about.
    pub object_id: String,
    /// The object's status in the event.
    pub status: String,
    /// Where it was sent.
    pub url: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The receiver's HTTP status, if it answered.
    pub http_status: Option<u16>,
    /// The transport error, if it did not.
    pub error: Option<String>,
    /// Whether the attempt counted as delivered (2xx).
    pub delivered: bool,
    /// Whether `Hub2-Signature` carried `s0` too.
    pub signed_with_previous: bool,
    /// When (UTC, ISO 8601).
    pub at: String,
}

/// A webhook event still to deliver to one webhook (in the outbox with
/// `--db`, so a restarted simulator sends it again).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingWebhook {
    /// The webhook.
    pub webhook_id: String,
    /// Where it goes.
    pub url: String,
    /// The event's JSON, byte for byte as first sent.
    pub body: String,
    /// The event id (`evt_...`).
    pub event_id: String,
    /// The event type.
    pub event_type: String,
    /// The id of the object the event is about.
    pub object_id: String,
    /// The object's status in the event.
    pub status: String,
    /// Attempts made so far.
    pub attempts_made: u32,
}

impl PendingWebhook {
    /// The outbox key: the event and the webhook.
    pub fn key(&self) -> String {
        format!("{}|{}", self.event_id, self.webhook_id)
    }
}

/// Provider credentials registered for Processing Only mode.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProviderCredentials {
    /// Owner.
    #[serde(rename = "merchantId")]
    pub merchant_id: String,
    /// Environment.
    pub environment: Hub2Environment,
    /// `orange`, `mtn`.
    pub provider: String,
    /// `CI`, `SN`.
    pub country: String,
    /// `payment` or `transfer`.
    #[serde(rename = "transactionType")]
    pub transaction_type: String,
    /// When (UTC, ISO 8601).
    #[serde(rename = "registeredAt")]
    pub registered_at: String,
}

/// The two accounts of a merchant in one environment and currency.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Accounts {
    /// Received from pay-ins.
    pub collection: i64,
    /// Available for pay-outs.
    pub transfer: i64,
}

/// Sliding-window counters.
#[derive(Debug, Default)]
pub struct Limiter {
    /// Hit times per key, ms since the epoch on the simulator's clock.
    hits: HashMap<String, VecDeque<u64>>,
}

impl Limiter {
    /// Forgets the counters of `object_id` for every client IP (the keys
    /// `{ip}|{object_id}`).
    pub fn forget_object(&mut self, object_id: &str) {
        let suffix = format!("|{object_id}");
        self.hits.retain(|key, _| !key.ends_with(&suffix));
    }

    /// Counts a hit for `key`; `Err(retry_after_secs)` if it is over
    /// `requests` per `window` (the refused hit is not counted).
    pub fn hit(&mut self, key: &str, requests: u32, window: Duration) -> Result<(), u64> {
        let now = crate::simulator::clock::now_ms();
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        let queue = self.hits.entry(key.to_owned()).or_default();
        while queue
            .front()
            .is_some_and(|t| now.saturating_sub(*t) >= window_ms)
        {
            queue.pop_front();
        }
        if queue.len() >= requests as usize {
            let oldest = queue.front().copied().unwrap_or(now);
            let wait_ms = window_ms.saturating_sub(now.saturating_sub(oldest));
            return Err(wait_ms.div_ceil(1000).max(1));
        }
        queue.push_back(now);
        if self.hits.len() > 100_000 {
            self.hits
                .retain(|_, q| q.back().is_some_and(|t| now.saturating_sub(*t) < 3_600_000));
        }
        Ok(())
    }
}

/// The HUB2 store.
#[derive(Debug, Default)]
pub struct Hub2Store {
    /// Intents by id.
    pub intents: HashMap<String, IntentRecord>,
    /// Transfers by id.
    pub transfers: HashMap<String, TransferRecord>,
    /// Webhooks by id.
    pub webhooks: HashMap<String, WebhookRecord>,
    /// Every delivery attempt, oldest first.
    pub deliveries: Vec<WebhookDelivery>,
    /// Registered provider credentials.
    pub credentials: Vec<ProviderCredentials>,
    /// Balances by (merchant, environment, currency).
    pub balances: HashMap<(String, Hub2Environment, String), Accounts>,
    /// Global rate limit, by client IP.
    pub global: Limiter,
    /// Polling throttle, by client IP and object id.
    pub polls: Limiter,
    /// Serial for bank-transfer references.
    pub serial: u64,
    /// Webhook events read back from the database still to deliver, until
    /// the restart's resume takes them.
    pub outbox: Vec<PendingWebhook>,
}

/// Currencies every merchant starts with a balance in.
pub const CURRENCIES: [&str; 4] = ["XOF", "XAF", "GNF", "CDF"];

impl Hub2Store {
    /// A store with the configured starting balances.
    pub fn new(config: &Hub2Config) -> Self {
        let mut store = Hub2Store::default();
        store.seed_balances(config);
        store
    }

    fn seed_balances(&mut self, config: &Hub2Config) {
        for merchant in &config.merchants {
            for currency in CURRENCIES {
                for (env, amount) in [
                    (Hub2Environment::Sandbox, merchant.sandbox_balance),
                    (Hub2Environment::Live, merchant.live_balance),
                ] {
                    self.balances.insert(
                        (merchant.merchant_id.clone(), env, currency.to_owned()),
                        Accounts {
                            collection: 0,
                            transfer: amount,
                        },
                    );
                }
            }
        }
    }

    /// The accounts of a merchant (created empty if unknown).
    pub fn accounts(
        &mut self,
        merchant_id: &str,
        env: Hub2Environment,
        currency: &str,
    ) -> &mut Accounts {
        self.balances
            .entry((merchant_id.to_owned(), env, currency.to_owned()))
            .or_default()
    }

    /// Forgets everything and restores the starting balances.
    pub fn reset(&mut self, config: &Hub2Config) {
        *self = Hub2Store::default();
        self.seed_balances(config);
    }
}
