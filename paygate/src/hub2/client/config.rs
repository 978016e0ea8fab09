//! What a HUB2 client needs to know: where HUB2 is, who the merchant is,
//! which environment to act in, and how patient to be.

use core::fmt;
use std::time::Duration;

pub use crate::http::{PollPolicy, RetryPolicy};

/// The HUB2 environment a request runs in (the `Environment` header). It
/// must match the environment the API key was created for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Environment {
    /// Tests: no real money moves.
    Sandbox,
    /// Real money.
    Live,
}

impl Environment {
    /// The header value: `sandbox` or `live`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Environment::Sandbox => "sandbox",
            Environment::Live => "live",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::str::FromStr for Environment {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sandbox" => Ok(Environment::Sandbox),
            "live" => Ok(Environment::Live),
            other => Err(format!(
                "unknown HUB2 environment {other:?} (expected `sandbox` or `live`)"
            )),
        }
    }
}

impl From<Environment> for crate::hub2::models::Mode {
    fn from(environment: Environment) -> Self {
        match environment {
            Environment::Sandbox => crate::hub2::models::Mode::Sandbox,
            Environment::Live => crate::hub2::models::Mode::Live,
        }
    }
}

/// The merchant's secret HUB2 API key (the `ApiKey` header).
///
/// The text never appears in `Debug` output, and the header built from it is
/// marked sensitive so HTTP-level logging does not print it either.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(Box<str>);

impl ApiKey {
    /// Wraps the key exactly as issued by the dashboard.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into().into_boxed_str())
    }

    /// The key itself, for building the `ApiKey` header. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The number of bytes in the key.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the key is empty (HUB2 never issues empty keys).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey(<redacted, {} bytes>)", self.0.len())
    }
}

impl From<&str> for ApiKey {
    fn from(key: &str) -> Self {
        ApiKey::new(key)
    }
}

impl From<String> for ApiKey {
    fn from(key: String) -> Self {
        ApiKey::new(key)
    }
}

/// Everything a [`Hub2Client`](super::Hub2Client) is built from.
///
/// `Debug` never shows the API key.
#[derive(Clone, Debug)]
pub struct Hub2Config {
    /// The API's base URL, e.g. `https://api.hub2.io` or the simulator's
    /// `http://127.0.0.1:8080/hub2` (a trailing `/` is ignored).
    pub base_url: String,
    /// The secret API key (`ApiKey` header).
    pub api_key: ApiKey,
    /// The merchant's identifier (`MerchantId` header).
    pub merchant_id: String,
    /// `Environment` header.
    pub environment: Environment,
    /// Deadline of one HTTP exchange.
    pub timeout: Duration,
    /// Retries of one request (see the module documentation for which
    /// requests are retried when).
    pub retry: RetryPolicy,
    /// Status polling of [`wait_for_payment_intent`](super::Hub2Client::wait_for_payment_intent).
    pub poll: PollPolicy,
    /// What creating calls do with an ambiguous outcome (default
    /// [`Hub2Recovery::Resolve`](super::Hub2Recovery)).
    pub recovery: super::Hub2Recovery,
}

impl Hub2Config {
    /// The default polling of HUB2 statuses: 1 s, then doubling, at most
    /// 10 s between polls.
    pub const DEFAULT_POLL: PollPolicy = PollPolicy {
        initial_delay: Duration::from_secs(1),
        factor: 2,
        max_delay: Duration::from_secs(10),
    };

    /// A configuration with the default timeout (30 s), retries
    /// ([`RetryPolicy::default`]) and polling ([`Hub2Config::DEFAULT_POLL`]).
    pub fn new(
        base_url: impl Into<String>,
        api_key: impl Into<ApiKey>,
        merchant_id: impl Into<String>,
        environment: Environment,
    ) -> Self {
        Hub2Config {
            base_url: base_url.into(),
            api_key: api_key.into(),
            merchant_id: merchant_id.into(),
            environment,
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            poll: Self::DEFAULT_POLL,
            recovery: super::Hub2Recovery::default(),
        }
    }
}
