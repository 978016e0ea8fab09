//! Whether `--base-url` points at a separately started paygate simulator,
//! and what of it the suite can use.
//!
//! A paygate simulator answers `GET /_sim/health` (open) with its storage
//! and merchant count. When it does and the admin token is accepted
//! (`GET /_sim/clock`), the whole suite runs against it as against the
//! embedded one: it has no real provider to charge, its control API is
//! there, its callbacks reach the suite's receiver when it listens on
//! loopback, the fault cases use the merchant's `-faults` twin when the
//! simulator has one, and the HUB2 cases use its demo HUB2 merchant unless
//! HUB2 credentials are given.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::header::AUTHORIZATION;
use serde_json::Value;

use crate::simulator::hub2::config::{
    DEMO_HUB2_LIMITED_KEY, DEMO_HUB2_MERCHANT_ID, DEMO_HUB2_SANDBOX_KEY,
};
use crate::simulator::AdminToken;

/// A paygate simulator found at the base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetectedSimulator {
    /// Whether it listens on a loopback address, so that its callbacks and
    /// webhooks reach the suite's receivers (which listen on 127.0.0.1).
    pub loopback: bool,
    /// The merchant's twin public id for the fault cases, if the
    /// simulator has it (`{public_id}-faults`).
    pub fault_public_id: Option<String>,
    /// The demo HUB2 merchant's keys, if the simulator knows them.
    pub demo_hub2: Option<DemoHub2>,
    /// HUB2's global limit per client IP, `(requests, window in ms)`, as
    /// its health answer tells.
    pub hub2_rate_limit: Option<(u64, u64)>,
}

impl DetectedSimulator {
    /// Whether its HUB2 limit would throttle the suite, which sends every
    /// HUB2 case from one address: fewer than 1 000 requests a second
    /// (one per millisecond of the window).
    pub fn throttles_hub2(&self) -> bool {
        self.hub2_rate_limit
            .is_some_and(|(requests, window_ms)| requests < window_ms)
    }
}

/// The HUB2 demo merchant of a simulator started with the demo merchants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoHub2 {
    /// `{base}/hub2`.
    pub base_url: String,
    /// `MerchantId`.
    pub merchant_id: String,
    /// The sandbox key with every permission.
    pub api_key: String,
    /// The sandbox key without the `/delegated/` permissions.
    pub limited_key: String,
}

/// Looks for a paygate simulator at `base_url`. `Ok(None)`: not one (a
/// sandbox or a real gateway); `Err`: one whose control API refuses
/// `token`, or that cannot be reached.
pub async fn detect_simulator(
    base_url: &str,
    public_id: &str,
    token: &AdminToken,
) -> Result<Option<DetectedSimulator>, String> {
    let base = base_url.trim_end_matches('/');
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let health = match http.get(format!("{base}/_sim/health")).send().await {
        Ok(answer) if answer.status().is_success() => answer.bytes().await.unwrap_or_default(),
        Ok(_) => return Ok(None),
        Err(e) => return Err(format!("cannot reach {base}: {e}")),
    };
    let Some(health) = serde_json::from_slice::<Value>(&health)
        .ok()
        .filter(|v| v["status"] == "ok" && v["storage"].is_string() && v["merchants"].is_u64())
    else {
        return Ok(None);
    };
    let limit = &health["hub2_rate_limit"];
    let hub2_rate_limit = limit["requests"].as_u64().zip(limit["window_ms"].as_u64());
    let control = |path: String| {
        http.get(format!("{base}{path}"))
            .header(AUTHORIZATION, token.bearer_header())
            .send()
    };
    let clock = control("/_sim/clock".to_owned())
        .await
        .map_err(|e| format!("cannot reach {base}/_sim/clock: {e}"))?;
    if !clock.status().is_success() {
        return Err(format!(
            "{base} is a paygate simulator, but its control API refuses the admin token (HTTP {}): pass the token it printed at start-up (--admin-token or PAYGATE_ADMIN_TOKEN)",
            clock.status().as_u16()
        ));
    }
    let twin = format!("{public_id}-faults");
    let fault_public_id = control(format!("/_sim/merchants/{twin}/faults"))
        .await
        .ok()
        .filter(|answer| answer.status().is_success())
        .map(|_| twin);
    let demo_hub2 = http
        .get(format!("{base}/hub2/balance"))
        .header("ApiKey", DEMO_HUB2_SANDBOX_KEY)
        .header("MerchantId", DEMO_HUB2_MERCHANT_ID)
        .header("Environment", "sandbox")
        .send()
        .await
        .ok()
        .filter(|answer| answer.status().is_success())
        .map(|_| DemoHub2 {
            base_url: format!("{base}/hub2"),
            merchant_id: DEMO_HUB2_MERCHANT_ID.to_owned(),
            api_key: DEMO_HUB2_SANDBOX_KEY.to_owned(),
            limited_key: DEMO_HUB2_LIMITED_KEY.to_owned(),
        });
    Ok(Some(DetectedSimulator {
        loopback: is_loopback(base),
        fault_public_id,
        demo_hub2,
        hub2_rate_limit,
    }))
}

/// Whether the URL's host is a loopback address or `localhost`.
pub fn is_loopback(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn loopback_hosts() {
        for url in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3/x",
            "http://localhost:1",
            "http://[::1]:80",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in ["http://10.0.0.1", "https://example.com", "not a url"] {
            assert!(!is_loopback(url), "{url}");
        }
    }
}
