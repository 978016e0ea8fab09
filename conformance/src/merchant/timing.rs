//! The merchant suite's timing group: the deliveries a gateway's retries
//! produce.
//!
//! The seeds document no retry schedule. These cases use the simulator's
//! (assumed) one, [`CallbackRetry::default`](crate::simulator::CallbackRetry::default): 5 attempts in all, 200 ms
//! after the first failed attempt, doubling up to 5 s, each attempt
//! abandoned after [`CALLBACK_DEADLINE`] (5 s). An attempt fails, and is
//! retried, when the merchant answers anything but 200 or answers too
//! late; a merchant must therefore expect the identical callback several
//! times, also after it has already applied it.

use std::time::Duration;

use paygate::gateway::{OperationType, Status};
use tokio::io::AsyncWriteExt;

use super::bodies::{draft, Shape};
use super::exchange::{credited_once, expect_accepted, post, Check};
use super::schedule::schedule;
use super::{MerchantTarget, CALLBACK_DEADLINE};

/// How long after sending the first delivery the suite, acting as a
/// gateway whose timeout fired, closes the connection without reading the
/// answer. The simulator waits [`CALLBACK_DEADLINE`] (5 s); the suite
/// scales that down to 50 ms so that a quick merchant has usually applied
/// the callback, and a slower one is abandoned mid-work, as in production.
pub const ABANDON_AFTER: Duration = Duration::from_millis(50);

/// What a timing case delivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimingCase {
    /// A success whose first delivery the gateway abandons (it closes the
    /// connection [`ABANDON_AFTER`] after sending, never reading the
    /// answer), then the identical callback again after the schedule's
    /// first wait: 200 to the retry; credited once.
    RetriedAfterGatewayTimeout,
    /// The identical success delivered as often as the schedule allows
    /// (`max_attempts`), with its waits between them (200 ms, 400 ms,
    /// 800 ms, 1.6 s: 3 s in all, real time, not scaled): 200 each time;
    /// credited once.
    FullRetrySchedule,
}

impl TimingCase {
    /// Every timing case, named.
    pub const ALL: [(&'static str, TimingCase); 2] = [
        (
            "retried_after_gateway_timeout_credited_once",
            TimingCase::RetriedAfterGatewayTimeout,
        ),
        (
            "full_retry_schedule_credited_once",
            TimingCase::FullRetrySchedule,
        ),
    ];

    /// Why it cannot run against `url`, if it cannot.
    pub fn skip_reason(self, url: &str) -> Option<&'static str> {
        match self {
            TimingCase::RetriedAfterGatewayTimeout if !url.starts_with("http://") => Some(
                "abandons a delivery on a connection of its own, which needs an http:// --merchant URL",
            ),
            _ => None,
        }
    }

    /// Runs the case for `order_id`.
    pub(super) async fn run(self, target: &MerchantTarget, order_id: &str) -> Check {
        let body = draft(
            OperationType::PaymentC2b,
            Status::Success,
            order_id,
            Shape::Plain,
        )
        .signed(&target.key)?;
        let retry = schedule();
        match self {
            TimingCase::RetriedAfterGatewayTimeout => {
                abandoned_delivery(&target.url, &body).await?;
                tokio::time::sleep(retry.backoff(1)).await;
                let answer = post(target, &target.url, body).await;
                expect_accepted(
                    &answer,
                    "the retry of a delivery the gateway abandoned",
                    target,
                )?;
            }
            TimingCase::FullRetrySchedule => {
                for attempt in 1..=retry.max_attempts {
                    if attempt > 1 {
                        tokio::time::sleep(retry.backoff(attempt - 1)).await;
                    }
                    let answer = post(target, &target.url, body.clone()).await;
                    expect_accepted(
                        &answer,
                        &format!("attempt {attempt} of {}", retry.max_attempts),
                        target,
                    )?;
                }
            }
        }
        credited_once(target, order_id).await
    }
}

/// Sends `body` to `url` on a connection of its own and closes it
/// [`ABANDON_AFTER`] later without reading a byte of the answer.
async fn abandoned_delivery(url: &str, body: &str) -> Check {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("--merchant {url:?}: {e}"))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| format!("--merchant {url:?} has no host"))?;
    let port = parsed
        .port_or_known_default()
        .ok_or_else(|| format!("--merchant {url:?} has no port"))?;
    let path = match parsed.query() {
        Some(query) => format!("{}?{query}", parsed.path()),
        None => parsed.path().to_owned(),
    };
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let send = async {
        let mut stream = tokio::net::TcpStream::connect(format!("{host}:{port}")).await?;
        stream.write_all(request.as_bytes()).await?;
        stream.flush().await?;
        Ok::<_, std::io::Error>(stream)
    };
    let stream = match tokio::time::timeout(CALLBACK_DEADLINE, send).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            return Err(format!(
                "the first delivery could not be sent to {url}: {e}"
            ))
        }
        Err(_) => {
            return Err(format!(
                "the first delivery could not be sent to {url} within {CALLBACK_DEADLINE:?}"
            ))
        }
    };
    tokio::time::sleep(ABANDON_AFTER).await;
    drop(stream);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merchant::schedule::schedule_text;

    #[test]
    fn the_schedule_is_the_simulators() {
        let retry = schedule();
        let waits: Vec<u128> = (1..retry.max_attempts)
            .map(|a| retry.backoff(a).as_millis())
            .collect();
        assert_eq!(waits, [200, 400, 800, 1600]);
        assert!(schedule_text().contains("5 attempts"));
    }

    #[test]
    fn only_a_plain_http_url_can_be_abandoned_by_hand() {
        let case = TimingCase::RetriedAfterGatewayTimeout;
        assert!(case.skip_reason("http://127.0.0.1:1/cb").is_none());
        assert!(case.skip_reason("https://example.com/cb").is_some());
        assert!(TimingCase::FullRetrySchedule
            .skip_reason("https://example.com/cb")
            .is_none());
    }
}
