//! Simulator configuration: merchants, timing, callback retries, limits.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use paygate::gateway::rules::ProviderTable;
use paygate::SecretKey;
use serde::Deserialize;

use super::admin::ControlAccess;

/// Why the simulator could not be configured or started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimulatorError {
    /// The merchants file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The merchants file or the configuration is invalid; `path` names the
    /// field (`merchants[0].secret_key`).
    #[error("{file}: {path}: {message}")]
    Config {
        /// The file (or `<config>` for an in-memory configuration).
        file: String,
        /// The field at fault.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The database (`--db`) could not be opened or read.
    #[error(transparent)]
    Storage(#[from] super::persist::StoreError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// A merchant the simulator knows.
#[derive(Clone)]
pub struct Merchant {
    /// The first path segment of every request (`/{public_id}/payment_c2b`).
    pub public_id: String,
    /// The `merchant_id` every body must carry.
    pub merchant_id: String,
    /// The key that signs requests and callbacks.
    pub secret_key: SecretKey,
    /// Where POS callbacks (and callbacks of requests without a
    /// `callback_url`) are sent.
    pub callback_url: Option<String>,
}

impl fmt::Debug for Merchant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Merchant")
            .field("public_id", &self.public_id)
            .field("merchant_id", &self.merchant_id)
            .field("secret_key", &self.secret_key)
            .field("callback_url", &self.callback_url)
            .finish()
    }
}

/// How callbacks are retried: until the merchant answers HTTP 200, at most
/// `max_attempts` attempts, waiting `initial_backoff` after the first
/// failure and doubling each time up to `max_backoff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallbackRetry {
    /// Attempts in all (the first one included). Default 5.
    pub max_attempts: u32,
    /// Wait after the first failed attempt. Default 200 ms.
    pub initial_backoff: Duration,
    /// Longest wait between attempts. Default 5 s.
    pub max_backoff: Duration,
}

impl Default for CallbackRetry {
    fn default() -> Self {
        CallbackRetry {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl CallbackRetry {
    /// The wait after failed attempt number `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Everything the simulator needs to run.
#[derive(Clone, Debug)]
pub struct SimulatorConfig {
    /// The merchants it accepts requests from.
    pub merchants: Vec<Merchant>,
    /// Time from acceptance to the final state. Default 300 ms.
    pub latency: Duration,
    /// Callback retry policy.
    pub callback_retry: CallbackRetry,
    /// How long one callback attempt may take. Default 5 s.
    pub callback_timeout: Duration,
    /// Callback (and HUB2 webhook) deliveries in flight at once; the others
    /// wait their turn (first come, first served). Default 64.
    pub callback_concurrency: usize,
    /// The provider rules requests are checked against. Default
    /// [`paygate::gateway::PROVIDER_TABLE`].
    pub providers: &'static ProviderTable,
    /// Largest request body accepted. Default 64 KiB.
    pub max_body_bytes: usize,
    /// The HUB2 side (served under `/hub2`): merchants, keys, limits.
    /// Default: no HUB2 merchant; [`SimulatorConfig::demo`] has one.
    pub hub2: super::hub2::config::Hub2Config,
    /// Where the gateway's and HUB2's state is kept (`--db FILE|URL`):
    /// transactions, idempotency records, the callback outbox and delivery
    /// attempts, HUB2's intents, transfers, balances and webhooks; in an
    /// SQLite file (WAL), or in PostgreSQL when the path is a
    /// `postgres://` or `postgresql://` URL. A simulator restarted on the
    /// same database has lost no accepted transaction and resumes pending
    /// outcomes and callbacks. Default `None`: in memory.
    pub db: Option<PathBuf>,
    /// Join [`SimulatorConfig::db`] (PostgreSQL) as one of several
    /// replicas serving as one gateway (`--replica`); `None`: the only
    /// simulator on it. See `persist::replica`.
    pub replica: Option<super::persist::ReplicaOptions>,
    /// Who may use the control API (`/_sim/...`, `/hub2/_sim/...`).
    /// Default [`ControlAccess::GeneratedToken`]: a random admin token,
    /// read with [`RunningSimulator::admin_token`](super::RunningSimulator::admin_token).
    pub control: ControlAccess,
    /// Timeouts and the bound on connections; see [`ConnectionLimits`].
    pub connections: ConnectionLimits,
    /// The wall clock (default), or a manual clock moved by
    /// `POST /_sim/clock/advance` (see `sim_clock`).
    pub clock: ClockMode,
    /// Seeded fault profiles by merchant public id (see `faults`); also
    /// set at run time with `PUT /_sim/merchants/{public_id}/faults`.
    pub faults: std::collections::BTreeMap<String, super::faults::FaultProfile>,
    /// Every gateway callback goes here instead of the request's or the
    /// merchant's `callback_url`, and each delivery and the answer are
    /// logged at `info` (`paygate listen --forward-to URL`). Default `None`.
    pub forward_callbacks_to: Option<String>,
    /// How many namespaces (`/ns/{name}/...`, see `namespaces`) may exist
    /// and how long an idle one lives.
    pub namespaces: NamespaceLimits,
}

/// How many namespaces (`/ns/{name}/...`, see `namespaces`) may exist and how long an idle one lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NamespaceLimits {
    /// Namespaces at once. Default 256.
    pub max: usize,
    /// A namespace without a request for this long is deleted. Default
    /// 24 h; `None`: never.
    pub idle_ttl: Option<Duration>,
}

impl Default for NamespaceLimits {
    fn default() -> Self {
        NamespaceLimits {
            max: 256,
            idle_ttl: Some(Duration::from_secs(24 * 3600)),
        }
    }
}

/// Which clock the simulator runs on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClockMode {
    /// Real time.
    #[default]
    Wall,
    /// Stopped at `start_ms` (ms since the epoch; `None`: the time at
    /// start-up) until advanced.
    Manual {
        /// Where it starts.
        start_ms: Option<u64>,
    },
}

/// How long a client may take, and how many may be connected at once.
/// A client that sends its request head too slowly, its body too slowly
/// or keeps a connection idle is disconnected, so slow or idle clients
/// cannot hold the simulator's memory or its connection slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From the connection's start (or the end of the previous answer on
    /// a kept-alive connection) to the end of the request head; past it
    /// the connection is closed (HTTP/1 answers 408 when part of a head
    /// came). Default 10 s. This is also the idle keep-alive timeout.
    pub header_timeout: Duration,
    /// From the end of the head to the end of the body; past it the
    /// request is answered 408 and the connection closed. Default 30 s.
    pub body_timeout: Duration,
    /// At most this many connections at once; further clients wait in the
    /// listen backlog until one closes. Default 1024.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

/// The demo merchant's public id.
pub const DEMO_PUBLIC_ID: &str = "demo-public-id";
/// The demo merchant's merchant id.
pub const DEMO_MERCHANT_ID: &str = "demo-merchant";
/// The demo merchant's secret key (public: it is in the README).
pub const DEMO_SECRET_KEY: &str = "demo-secret-key-change-me";

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            merchants: Vec::new(),
            latency: Duration::from_millis(300),
            callback_retry: CallbackRetry::default(),
            callback_timeout: Duration::from_secs(5),
            callback_concurrency: 64,
            providers: &paygate::gateway::PROVIDER_TABLE,
            max_body_bytes: 64 * 1024,
            hub2: super::hub2::config::Hub2Config::default(),
            db: None,
            replica: None,
            control: ControlAccess::default(),
            connections: ConnectionLimits::default(),
            clock: ClockMode::Wall,
            faults: std::collections::BTreeMap::new(),
            forward_callbacks_to: None,
            namespaces: NamespaceLimits::default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MerchantsFile {
    merchants: Vec<MerchantEntry>,
    #[serde(default)]
    hub2: Option<super::hub2::config::Hub2Section>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MerchantEntry {
    public_id: String,
    merchant_id: String,
    secret_key: String,
    #[serde(default)]
    callback_url: Option<String>,
    #[serde(default)]
    faults: Option<super::faults::FaultProfile>,
}

impl SimulatorConfig {
    /// Defaults with the demo merchant (`demo-public-id` / `demo-merchant`
    /// / `demo-secret-key-change-me`), the same merchant under a second
    /// public id `demo-public-id-faults` (where `paygate conform --base-url`
    /// runs its fault-profile cases, so that no other case sees a fault),
    /// and the HUB2 demo merchant (see [`super::hub2::config::Hub2Config::demo`]).
    pub fn demo() -> Self {
        let merchant = Merchant {
            public_id: DEMO_PUBLIC_ID.into(),
            merchant_id: DEMO_MERCHANT_ID.into(),
            secret_key: SecretKey::new(DEMO_SECRET_KEY),
            callback_url: None,
        };
        SimulatorConfig {
            merchants: vec![
                merchant.clone(),
                Merchant {
                    public_id: format!("{DEMO_PUBLIC_ID}-faults"),
                    ..merchant
                },
            ],
            hub2: super::hub2::config::Hub2Config::demo(),
            ..SimulatorConfig::default()
        }
    }

    /// Defaults with the merchants of a YAML file:
    ///
    /// ```yaml
    /// merchants:
    ///   - public_id: demo-public-id
    ///     merchant_id: demo-merchant
    ///     secret_key: demo-secret-key-change-me
    ///     callback_url: http://127.0.0.1:9000/callback   # optional
    ///     faults: {seed: 7, rate_percent: 20}            # optional, see `faults`
    /// hub2:                                  # optional: HUB2 under /hub2
    ///   rate_limit: {requests: 50, window_ms: 5000}   # optional
    ///   poll_limit: {requests: 3, window_ms: 5000}    # optional
    ///   fees: {rate_bps: 200}                         # optional, 2 % per attempt
    ///   merchants:
    ///     - merchant_id: demo-hub2-merchant
    ///       webhook_secret: demo-hub2-webhook-secret  # optional
    ///       sandbox_balance: 1000000                  # optional, XOF
    ///       live_balance: 0                           # optional, XOF
    ///       fees: {rate_bps: 150}                     # optional, its own rate
    ///       api_keys:
    ///         - key: demo-hub2-sandbox-key
    ///           environment: sandbox
    ///           permissions: [Api.delegated_payment_create, Api.delegated_transfer_create]
    /// ```
    ///
    /// Without a `hub2:` section the simulator has no HUB2 merchant.
    pub fn from_yaml_file(path: impl AsRef<Path>) -> Result<Self, SimulatorError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SimulatorError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_yaml_str(&text, &path.display().to_string())
    }

    /// Like [`SimulatorConfig::from_yaml_file`], from text; `file` names the
    /// source in errors.
    pub fn from_yaml_str(text: &str, file: &str) -> Result<Self, SimulatorError> {
        let config_error = |path: String, message: String| SimulatorError::Config {
            file: file.to_owned(),
            path,
            message,
        };
        let de = serde_yaml::Deserializer::from_str(text);
        let parsed: MerchantsFile = serde_path_to_error::deserialize(de).map_err(|err| {
            let path = err.path().to_string();
            let path = if path == "." {
                "(top level)".to_owned()
            } else {
                path
            };
            let message = err.into_inner().to_string();
            // serde_yaml already prefixes some messages with the path.
            let message = message
                .strip_prefix(&format!("{path}: "))
                .map_or(message.clone(), str::to_owned);
            config_error(path, message)
        })?;
        if parsed.merchants.is_empty() {
            return Err(config_error(
                "merchants".into(),
                "at least one merchant is needed".into(),
            ));
        }
        let mut merchants: Vec<Merchant> = Vec::with_capacity(parsed.merchants.len());
        let mut faults = std::collections::BTreeMap::new();
        for (i, entry) in parsed.merchants.into_iter().enumerate() {
            let field = |name: &str| format!("merchants[{i}].{name}");
            for (name, value) in [
                ("public_id", &entry.public_id),
                ("merchant_id", &entry.merchant_id),
                ("secret_key", &entry.secret_key),
            ] {
                if value.trim().is_empty() {
                    return Err(config_error(field(name), "must not be empty".into()));
                }
            }
            if entry.public_id.contains('/') || entry.public_id.starts_with('_') {
                return Err(config_error(
                    field("public_id"),
                    "must not contain `/` or start with `_`".into(),
                ));
            }
            if merchants.iter().any(|m| m.public_id == entry.public_id) {
                return Err(config_error(
                    field("public_id"),
                    format!("{:?} is used by an earlier merchant", entry.public_id),
                ));
            }
            if let Some(url) = &entry.callback_url {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(config_error(
                        field("callback_url"),
                        format!("{url:?} is not an http:// or https:// URL"),
                    ));
                }
            }
            if let Some(profile) = entry.faults {
                profile.check().map_err(|(name, message)| {
                    config_error(field(&format!("faults.{name}")), message)
                })?;
                faults.insert(entry.public_id.clone(), profile);
            }
            merchants.push(Merchant {
                public_id: entry.public_id,
                merchant_id: entry.merchant_id,
                secret_key: SecretKey::new(entry.secret_key),
                callback_url: entry.callback_url,
            });
        }
        let hub2 = match parsed.hub2 {
            Some(section) => section
                .into_config()
                .map_err(|(path, message)| config_error(path, message))?,
            None => super::hub2::config::Hub2Config::default(),
        };
        Ok(SimulatorConfig {
            merchants,
            hub2,
            faults,
            ..SimulatorConfig::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_errors_name_the_field() {
        let err = SimulatorConfig::from_yaml_str(
            "merchants:\n  - public_id: a\n    merchant_id: b\n",
            "m.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("merchants[0]") && err.contains("secret_key"),
            "{err}"
        );
        let err = SimulatorConfig::from_yaml_str(
            "merchants:\n  - public_id: a\n    merchant_id: b\n    secret_key: ''\n",
            "m.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("merchants[0].secret_key"), "{err}");
        let err = SimulatorConfig::from_yaml_str("merchants: 3", "m.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("merchants"), "{err}");
        assert!(SimulatorConfig::from_yaml_str(": : :", "m.yaml").is_err());
    }

    #[test]
    fn yaml_loads_and_debug_hides_keys() {
        let config = SimulatorConfig::from_yaml_str(
            "merchants:\n  - public_id: a\n    merchant_id: b\n    secret_key: topsecret\n    callback_url: http://x/cb\n",
            "m.yaml",
        )
        .unwrap();
        assert_eq!(config.merchants.len(), 1);
        assert!(!format!("{config:?}").contains("topsecret"));
    }

    #[test]
    fn fault_profiles_load_from_the_merchants_file_and_errors_name_the_field() {
        let base = "merchants:\n  - public_id: a\n    merchant_id: b\n    secret_key: k\n";
        let config = SimulatorConfig::from_yaml_str(
            &format!("{base}    faults: {{seed: 7, rate_percent: 20, answers: [drop]}}\n"),
            "m.yaml",
        )
        .unwrap();
        let profile = &config.faults["a"];
        assert_eq!((profile.seed, profile.rate_percent), (7, 20));
        assert_eq!(profile.answers, [super::super::faults::AnswerFault::Drop]);
        assert_eq!(profile.callbacks.len(), 4, "callback kinds default to all");
        for (faults, field) in [
            (
                "{seed: 7, rate_percent: 101}",
                "merchants[0].faults.rate_percent",
            ),
            (
                "{seed: 7, rate_percent: 5, answers: [explode]}",
                "merchants[0].faults.answers",
            ),
            ("{seed: 7, rate_percent: 5, typo: 1}", "merchants[0].faults"),
        ] {
            let err =
                SimulatorConfig::from_yaml_str(&format!("{base}    faults: {faults}\n"), "m.yaml")
                    .unwrap_err()
                    .to_string();
            assert!(err.contains(field), "{faults}: {err}");
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let retry = CallbackRetry {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
        };
        let waits: Vec<u128> = (1..=4).map(|a| retry.backoff(a).as_millis()).collect();
        assert_eq!(waits, [100, 200, 350, 350]);
        assert_eq!(retry.backoff(200), Duration::from_millis(350));
    }
}
