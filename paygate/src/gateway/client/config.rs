//! What a client needs to know: the brand it talks to, the merchant's
//! credentials, and how patient to be.

use core::fmt;
use std::time::Duration;

use crate::gateway::rules::ProviderTable;
pub use crate::http::{PollPolicy, RetryPolicy};
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
    /// What a payment call does when an answer does not say whether the
    /// payment was taken (see [`Recovery`](super::Recovery)).
    pub recovery: super::Recovery,
}

impl ClientConfig {
    /// A configuration with default timeout (30 s), retries, polling and
    /// recovery.
    pub fn new(brand: BrandProfile, credentials: Credentials) -> Self {
        ClientConfig {
            brand,
            credentials,
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            poll: PollPolicy::default(),
            recovery: super::Recovery::default(),
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
