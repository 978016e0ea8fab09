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
/// The demo merchant's twin for fault profiles (`paygate conform` puts
/// its seeded faults on this one, so the other cases never see them).
pub const DEMO_HUB2_FAULTS_MERCHANT_ID: &str = "demo-hub2-merchant-faults";
/// The twin's sandbox key (public: it is in the README).
pub const DEMO_HUB2_FAULTS_KEY: &str = "demo-hub2-faults-key";
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
    /// Its seeded fault profile for the answers to its payment intents,
    /// payment attempts and transfers (see `hub2::faults`); also set with
    /// `PUT /hub2/_sim/merchants/{merchant_id}/faults`.
    pub faults: Option<crate::simulator::faults::FaultProfile>,
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
            .field("faults", &self.faults)
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

/// How long a payment-intent token stays valid by default: 24 hours.
/// HUB2's documentation says the token is a JWT but not how long it lasts;
/// this is the simulator's choice: long enough for any checkout and its
/// retries, short enough that a leaked token stops working.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// The secret that signs payment-intent tokens. Its `Debug` never shows
/// it.
#[derive(Clone)]
pub struct TokenKey(Vec<u8>);

impl TokenKey {
    /// A key of these bytes (for reproducible runs and tests).
    pub fn new(secret: impl AsRef<[u8]>) -> TokenKey {
        TokenKey(secret.as_ref().to_vec())
    }

    /// 32 random bytes from the operating system. If the system cannot
    /// give any (it practically always can), a key from the process's
    /// randomly seeded hasher and the time; never a constant.
    pub fn random() -> TokenKey {
        let mut bytes = [0u8; 32];
        if getrandom::fill(&mut bytes).is_err() {
            use std::hash::{BuildHasher, Hasher};
            for chunk in bytes.chunks_mut(8) {
                let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
                hasher.write_u128(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos()),
                );
                chunk.copy_from_slice(&hasher.finish().to_le_bytes()[..chunk.len()]);
            }
        }
        TokenKey(bytes.to_vec())
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey(<redacted>)")
    }
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
    /// The key of the payment-intent tokens (HS256): random for each run
    /// unless configured (`hub2.token_key` in the merchants file).
    pub token_key: TokenKey,
    /// How long a payment-intent token is valid after it is issued
    /// (`exp` = `iat` + this); default [`DEFAULT_TOKEN_LIFETIME`].
    pub token_lifetime: Duration,
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
            token_key: TokenKey::random(),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            fees: FeeModel::default(),
        }
    }
}

impl Hub2Config {
    /// Defaults with the demo merchant `demo-hub2-merchant`: keys
    /// `demo-hub2-sandbox-key` (sandbox, every permission),
    /// `demo-hub2-limited-key` (sandbox, no `/delegated/` permission),
    /// `demo-hub2-live-key` (live, every permission); webhook secret
    /// `demo-hub2-webhook-secret`; 1 000 000 XOF in the sandbox. And its
    /// twin for fault profiles, `demo-hub2-merchant-faults` (key
    /// `demo-hub2-faults-key`, sandbox, every permission, same webhook
    /// secret and balance).
    pub fn demo() -> Self {
        let all: Vec<String> = ALL_PERMISSIONS.iter().map(|p| (*p).to_owned()).collect();
        Hub2Config {
            merchants: vec![
                Hub2Merchant {
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
                    faults: None,
                },
                Hub2Merchant {
                    merchant_id: DEMO_HUB2_FAULTS_MERCHANT_ID.into(),
                    api_keys: vec![Hub2ApiKey {
                        key: DEMO_HUB2_FAULTS_KEY.into(),
                        environment: Hub2Environment::Sandbox,
                        permissions: ALL_PERMISSIONS.iter().map(|p| (*p).to_owned()).collect(),
                    }],
                    webhook_secret: Some(DEMO_HUB2_WEBHOOK_SECRET.into()),
                    sandbox_balance: DEMO_HUB2_SANDBOX_BALANCE,
                    live_balance: 0,
                    fees: None,
                    faults: None,
                },
            ],
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
    #[serde(default)]
    token_key: Option<String>,
    #[serde(default)]
    token_lifetime_s: Option<u64>,
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
    #[serde(default)]
    faults: Option<crate::simulator::faults::FaultProfile>,
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
        if let Some(key) = self.token_key {
            if key.len() < 16 {
                return Err((
                    "hub2.token_key".into(),
                    "must be at least 16 bytes (omit it for a random key per run)".into(),
                ));
            }
            config.token_key = TokenKey::new(key);
        }
        if let Some(seconds) = self.token_lifetime_s {
            if seconds == 0 || seconds > 366 * 24 * 60 * 60 {
                return Err((
                    "hub2.token_lifetime_s".into(),
                    format!("must be between 1 and 31622400 (a year), not {seconds}"),
                ));
            }
            config.token_lifetime = Duration::from_secs(seconds);
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
            if let Some(profile) = &entry.faults {
                profile
                    .check()
                    .map_err(|(name, message)| (field(&format!("faults.{name}")), message))?;
            }
            config.merchants.push(Hub2Merchant {
                merchant_id: entry.merchant_id,
                api_keys: keys,
                webhook_secret: entry.webhook_secret,
                sandbox_balance,
                live_balance,
                fees,
                faults: entry.faults,
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
