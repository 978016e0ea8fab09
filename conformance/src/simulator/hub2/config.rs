//! HUB2 accounts of the simulator: merchants, API keys with their
//! environment and permissions, webhook secrets, balances and limits.

use std::fmt;
use std::time::Duration;

use paygate::hub2::models::Mode;
use serde::Deserialize;

use super::fees::{FeeModel, MAX_FEE_RATE_BPS};

/// The permission `POST /delegated/payments` needs.
pub const PERMISSION_DELEGATED_PAYMENT: &str = "Api.delegated_payment_create";
/// The permission `POST /delegated/transfers` needs.
pub const PERMISSION_DELEGATED_TRANSFER: &str = "Api.delegated_transfer_create";
/// Every permission the simulator knows.
pub const ALL_PERMISSIONS: [&str; 2] =
    [PERMISSION_DELEGATED_PAYMENT, PERMISSION_DELEGATED_TRANSFER];

/// The demo HUB2 merchant id.
pub const DEMO_HUB2_MERCHANT_ID: &str = "demo-hub2-merchant";
/// The demo sandbox key with every permission (public: it is in the README).
pub const DEMO_HUB2_SANDBOX_KEY: &str = "demo-hub2-sandbox-key";
/// The demo sandbox key without the `/delegated/` permissions.
pub const DEMO_HUB2_LIMITED_KEY: &str = "demo-hub2-limited-key";
/// The demo live key.
pub const DEMO_HUB2_LIVE_KEY: &str = "demo-hub2-live-key";
/// The demo merchant's webhook secret.
pub const DEMO_HUB2_WEBHOOK_SECRET: &str = "demo-hub2-webhook-secret";
/// The demo merchant's starting sandbox balance (transfer account), XOF.
pub const DEMO_HUB2_SANDBOX_BALANCE: i64 = 1_000_000;

/// `sandbox` or `live`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Hub2Environment {
    /// Tests.
    Sandbox,
    /// Real money.
    Live,
}

impl Hub2Environment {
    /// `sandbox` or `live`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Hub2Environment::Sandbox => "sandbox",
            Hub2Environment::Live => "live",
        }
    }

    /// Parses the `Environment` header value.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "sandbox" => Some(Hub2Environment::Sandbox),
            "live" => Some(Hub2Environment::Live),
            _ => None,
        }
    }

    /// The `mode` the API shows on objects of this environment.
    pub const fn mode(self) -> Mode {
        match self {
            Hub2Environment::Sandbox => Mode::Sandbox,
            Hub2Environment::Live => Mode::Live,
        }
    }
}

/// One API key of a merchant.
#[derive(Clone, PartialEq, Eq)]
pub struct Hub2ApiKey {
    /// The secret value sent in the `ApiKey` header.
    pub key: String,
    /// The environment it belongs to.
    pub environment: Hub2Environment,
    /// Permissions, e.g. [`PERMISSION_DELEGATED_PAYMENT`].
    pub permissions: Vec<String>,
}

impl fmt::Debug for Hub2ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hub2ApiKey")
            .field("key", &"<redacted>")
            .field("environment", &self.environment)
            .field("permissions", &self.permissions)
            .finish()
    }
}

impl Hub2ApiKey {
    /// Whether the key holds `permission`.
    pub fn has(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission || p == "*")
    }
}

/// A HUB2 merchant.
#[derive(Clone)]
pub struct Hub2Merchant {
    /// The `MerchantId` header value.
    pub merchant_id: String,
    /// Its API keys.
    pub api_keys: Vec<Hub2ApiKey>,
    /// The secret new webhooks get (`None`: a random one per webhook).
    pub webhook_secret: Option<String>,
    /// Starting transfer-account balance in the sandbox, XOF.
    pub sandbox_balance: i64,
    /// Starting transfer-account balance in live, XOF.
    pub live_balance: i64,
    /// Its own fee model (`None`: [`Hub2Config::fees`]).
    pub fees: Option<FeeModel>,
}

impl fmt::Debug for Hub2Merchant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hub2Merchant")
            .field("merchant_id", &self.merchant_id)
            .field("api_keys", &self.api_keys)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("sandbox_balance", &self.sandbox_balance)
            .field("live_balance", &self.live_balance)
            .field("fees", &self.fees)
            .finish()
    }
}

/// At most `requests` requests per `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed in one window.
    pub requests: u32,
    /// The window.
    pub window: Duration,
}

/// The HUB2 side of the simulator.
#[derive(Clone, Debug)]
pub struct Hub2Config {
    /// The merchants (none: every HUB2 request is refused with 401).
    pub merchants: Vec<Hub2Merchant>,
    /// Global limit per client IP; default 50 requests per 5 s, as HUB2
    /// documents.
    pub rate_limit: RateLimit,
    /// Reads of one intent (or transfer), or of its status, per client IP
    /// while it is NOT `processing` / `action_required` (transfers: not
    /// `created` / `pending`); default 3 per 5 s.
    pub poll_limit: RateLimit,
    /// The key of the payment-intent tokens (HS256).
    pub token_secret: String,
    /// The fee model of merchants without their own; default
    /// [`super::fees::DEFAULT_FEE_RATE_BPS`].
    pub fees: FeeModel,
}

impl Default for Hub2Config {
    fn default() -> Self {
        Hub2Config {
            merchants: Vec::new(),
            rate_limit: RateLimit {
                requests: 50,
                window: Duration::from_secs(5),
            },
            poll_limit: RateLimit {
                requests: 3,
                window: Duration::from_secs(5),
            },
            token_secret: "paygate-hub2-simulator-token-secret".into(),
            fees: FeeModel::default(),
        }
    }
}

impl Hub2Config {
    /// Defaults with the demo merchant `demo-hub2-merchant`: keys
    /// `demo-hub2-sandbox-key` (sandbox, every permission),
    /// `demo-hub2-limited-key` (sandbox, no `/delegated/` permission),
    /// `demo-hub2-live-key` (live, every permission); webhook secret
    /// `demo-hub2-webhook-secret`; 1 000 000 XOF in the sandbox.
    pub fn demo() -> Self {
        let all: Vec<String> = ALL_PERMISSIONS.iter().map(|p| (*p).to_owned()).collect();
        Hub2Config {
            merchants: vec![Hub2Merchant {
                merchant_id: DEMO_HUB2_MERCHANT_ID.into(),
                api_keys: vec![
                    Hub2ApiKey {
                        key: DEMO_HUB2_SANDBOX_KEY.into(),
                        environment: Hub2Environment::Sandbox,
                        permissions: all.clone(),
                    },
                    Hub2ApiKey {
                        key: DEMO_HUB2_LIMITED_KEY.into(),
                        environment: Hub2Environment::Sandbox,
                        permissions: Vec::new(),
                    },
                    Hub2ApiKey {
                        key: DEMO_HUB2_LIVE_KEY.into(),
                        environment: Hub2Environment::Live,
                        permissions: all,
                    },
                ],
                webhook_secret: Some(DEMO_HUB2_WEBHOOK_SECRET.into()),
                sandbox_balance: DEMO_HUB2_SANDBOX_BALANCE,
                live_balance: 0,
                fees: None,
            }],
            ..Hub2Config::default()
        }
    }

    /// The fee model of `merchant_id`: its own, else [`Hub2Config::fees`].
    pub fn fee_model(&self, merchant_id: &str) -> FeeModel {
        self.merchants
            .iter()
            .find(|m| m.merchant_id == merchant_id)
            .and_then(|m| m.fees)
            .unwrap_or(self.fees)
    }
}

/// The optional `hub2:` section of a merchants file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Hub2Section {
    #[serde(default)]
    merchants: Vec<Hub2MerchantEntry>,
    #[serde(default)]
    rate_limit: Option<RateLimitEntry>,
    #[serde(default)]
    poll_limit: Option<RateLimitEntry>,
    #[serde(default)]
    fees: Option<FeeModel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitEntry {
    requests: u32,
    window_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Hub2MerchantEntry {
    merchant_id: String,
    api_keys: Vec<Hub2KeyEntry>,
    #[serde(default)]
    webhook_secret: Option<String>,
    #[serde(default)]
    sandbox_balance: Option<i64>,
    #[serde(default)]
    live_balance: Option<i64>,
    #[serde(default)]
    fees: Option<FeeModel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Hub2KeyEntry {
    key: String,
    environment: Hub2Environment,
    #[serde(default)]
    permissions: Vec<String>,
}

impl Hub2Section {
    /// Checks the section; errors are `(path, message)`.
    pub(crate) fn into_config(self) -> Result<Hub2Config, (String, String)> {
        let mut config = Hub2Config::default();
        for (name, limit, slot) in [
            ("hub2.rate_limit", self.rate_limit, &mut config.rate_limit),
            ("hub2.poll_limit", self.poll_limit, &mut config.poll_limit),
        ] {
            if let Some(limit) = limit {
                if limit.requests == 0 || limit.window_ms == 0 {
                    return Err((
                        name.into(),
                        "requests and window_ms must be positive".into(),
                    ));
                }
                *slot = RateLimit {
                    requests: limit.requests,
                    window: Duration::from_millis(limit.window_ms),
                };
            }
        }
        if let Some(fees) = self.fees {
            config.fees = check_fees("hub2.fees", fees)?;
        }
        let mut seen_keys: Vec<String> = Vec::new();
        for (i, entry) in self.merchants.into_iter().enumerate() {
            let field = |name: &str| format!("hub2.merchants[{i}].{name}");
            if entry.merchant_id.trim().is_empty() {
                return Err((field("merchant_id"), "must not be empty".into()));
            }
            if config
                .merchants
                .iter()
                .any(|m| m.merchant_id == entry.merchant_id)
            {
                return Err((
                    field("merchant_id"),
                    format!("{:?} is used by an earlier merchant", entry.merchant_id),
                ));
            }
            if entry.api_keys.is_empty() {
                return Err((field("api_keys"), "at least one key is needed".into()));
            }
            let mut keys = Vec::new();
            for (k, key) in entry.api_keys.into_iter().enumerate() {
                if key.key.trim().is_empty() {
                    return Err((
                        field(&format!("api_keys[{k}].key")),
                        "must not be empty".into(),
                    ));
                }
                if seen_keys.contains(&key.key) {
                    return Err((
                        field(&format!("api_keys[{k}].key")),
                        "is used by an earlier key".into(),
                    ));
                }
                seen_keys.push(key.key.clone());
                keys.push(Hub2ApiKey {
                    key: key.key,
                    environment: key.environment,
                    permissions: key.permissions,
                });
            }
            if entry
                .webhook_secret
                .as_deref()
                .is_some_and(|s| s.is_empty())
            {
                return Err((field("webhook_secret"), "must not be empty".into()));
            }
            let sandbox_balance = entry.sandbox_balance.unwrap_or(DEMO_HUB2_SANDBOX_BALANCE);
            let live_balance = entry.live_balance.unwrap_or(0);
            if sandbox_balance < 0 || live_balance < 0 {
                return Err((
                    field("sandbox_balance"),
                    "balances must not be negative".into(),
                ));
            }
            let fees = match entry.fees {
                Some(fees) => Some(check_fees(&field("fees"), fees)?),
                None => None,
            };
            config.merchants.push(Hub2Merchant {
                merchant_id: entry.merchant_id,
                api_keys: keys,
                webhook_secret: entry.webhook_secret,
                sandbox_balance,
                live_balance,
                fees,
            });
        }
        Ok(config)
    }
}

/// Checks a fee model of the merchants file (`path` names it in errors).
fn check_fees(path: &str, fees: FeeModel) -> Result<FeeModel, (String, String)> {
    if fees.rate_bps > MAX_FEE_RATE_BPS {
        return Err((
            format!("{path}.rate_bps"),
            format!(
                "must be at most {MAX_FEE_RATE_BPS} (basis points: 10000 is 100 %), not {}",
                fees.rate_bps
            ),
        ));
    }
    Ok(fees)
}
