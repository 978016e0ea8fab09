//! What both clients share over HTTP: how a request is retried, how a
//! status is polled, and how a `Retry-After` answer is read.

use std::time::Duration;

/// How often and how patiently a request is re-sent after a transport
/// error, an HTTP 5xx or an HTTP 429. Every attempt sends the same body: the
/// Payment API Gateway's idempotency by `order_id` (and HUB2's for reads)
/// makes the retry safe.
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

/// How a client polls a status until it is final.
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

/// `Retry-After` in seconds, if the response has one.
pub fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1), Duration::from_millis(200));
        assert_eq!(p.backoff(2), Duration::from_millis(400));
        assert_eq!(p.backoff(3), Duration::from_millis(800));
        assert_eq!(p.backoff(100), p.max_backoff);
    }
}
