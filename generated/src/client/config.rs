//! What a client needs to know: the brand it talks to, the merchant's
//! credentials, and how patient to be.

use core::fmt;
use std::time::Duration;

use crate::rules::ProviderTable;
use crate::signing::SecretKey;

/// One brand of the white-label gateway: its base URL and its provider
/// table. Nothing brand-specific is built into the client.
#[derive(Clone, Debug)]
pub struct BrandProfile {
    /// A name for logs and reports.
    pub name: String,
    /// The API's base URL, without the trailing `/{public_id}/...`.
    pub base_url: String,
    /// The providers this brand offers; defaults to the documented table.
    pub providers: &'static ProviderTable,
}

impl BrandProfile {
    /// A brand at `base_url` with the documented provider table.
    pub fn new(name: impl Into<String>, base_url: impl Into<String>) -> Self {
        BrandProfile {
            name: name.into(),
            base_url: base_url.into(),
            providers: &crate::gateway::PROVIDER_TABLE,
        }
    }

    /// Replaces the provider table (a brand that offers other providers).
    pub fn with_providers(mut self, providers: &'static ProviderTable) -> Self {
        self.providers = providers;
        self
    }
}

/// The merchant's credentials, as issued by the gateway.
#[derive(Clone)]
pub struct Credentials {
    /// The merchant's public id (the first path segment).
    pub public_id: String,
    /// The merchant id sent in every body.
    pub merchant_id: String,
    /// The secret key that signs requests and callbacks.
    pub secret_key: SecretKey,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("public_id", &self.public_id)
            .field("merchant_id", &self.merchant_id)
            .field("secret_key", &self.secret_key)
            .finish()
    }
}

/// How often and how patiently a request is re-sent after a transport
/// error, an HTTP 5xx or an HTTP 429. Every attempt sends the same body, so
/// the gateway's idempotency by `order_id` makes the retry safe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled after each further one.
    pub initial_backoff: Duration,
    /// The longest wait between attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` (attempt counts from 1).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.initial_backoff
            .checked_mul(factor)
            .map_or(self.max_backoff, |d| d.min(self.max_backoff))
    }
}

/// How `wait_for_final_status` polls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PollPolicy {
    /// Wait before the first poll.
    pub initial_delay: Duration,
    /// Growth of the wait after each poll that found no final status.
    pub factor: u32,
    /// The longest wait between polls.
    pub max_delay: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            initial_delay: Duration::from_secs(2),
            factor: 2,
            max_delay: Duration::from_secs(30),
        }
    }
}

/// Everything a [`GatewayClient`](super::GatewayClient) is built from.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The brand to talk to.
    pub brand: BrandProfile,
    /// Who is talking.
    pub credentials: Credentials,
    /// Deadline of one HTTP exchange.
    pub timeout: Duration,
    /// Retries of one request.
    pub retry: RetryPolicy,
    /// Status polling.
    pub poll: PollPolicy,
}

impl ClientConfig {
    /// A configuration with default timeout (30 s), retries and polling.
    pub fn new(brand: BrandProfile, credentials: Credentials) -> Self {
        ClientConfig {
            brand,
            credentials,
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            poll: PollPolicy::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(750),
        };
        let waits: Vec<u128> = (1..=6).map(|a| policy.backoff(a).as_millis()).collect();
        assert_eq!(waits, vec![100, 200, 400, 750, 750, 750]);
        assert_eq!(policy.backoff(200), Duration::from_millis(750));
    }

    #[test]
    fn credentials_debug_hides_the_secret() {
        let creds = Credentials {
            public_id: "pub".into(),
            merchant_id: "m".into(),
            secret_key: SecretKey::new("topsecretvalue"),
        };
        assert!(!format!("{creds:?}").contains("topsecret"));
    }
}
