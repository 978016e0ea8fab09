//! Talking to the merchant: one delivery and its answer (timed, for the
//! run's slowest), what a valid callback's answer must be, and the
//! merchant's view of an order through its lookup. Every check module
//! sends through here.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::MerchantTarget;

pub(super) type Check = Result<(), String>;

tokio::task_local! {
    /// The id of the case whose deliveries this task sends (for the
    /// slowest answer of the run).
    pub(super) static CASE_ID: String;
}

/// What the merchant answered.
pub(super) struct Answer {
    pub(super) status: Option<u16>,
    error: Option<String>,
    took: Duration,
}

/// Notes how long the merchant took to answer, for the run's slowest.
fn note_answer(target: &MerchantTarget, answer: &Answer) {
    if answer.status.is_none() {
        return;
    }
    let case = CASE_ID.try_with(Clone::clone).unwrap_or_default();
    let mut slowest = target
        .slowest
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if slowest.as_ref().is_none_or(|(took, _)| answer.took > *took) {
        *slowest = Some((answer.took, case));
    }
}

impl Answer {
    pub(super) fn describe(&self) -> String {
        match (self.status, &self.error) {
            (Some(status), _) => format!("HTTP {status} after {:?}", self.took),
            (None, Some(error)) => format!("no answer ({error})"),
            (None, None) => "no answer".into(),
        }
    }
}

pub(super) async fn post(target: &MerchantTarget, url: &str, body: String) -> Answer {
    let started = Instant::now();
    let sent = target
        .http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await;
    answer_of(target, sent, started.elapsed())
}

pub(super) fn answer_of(
    target: &MerchantTarget,
    sent: Result<reqwest::Response, reqwest::Error>,
    took: Duration,
) -> Answer {
    let answer = match sent {
        Ok(response) => Answer {
            status: Some(response.status().as_u16()),
            error: None,
            took,
        },
        Err(err) => Answer {
            status: None,
            error: Some(err.to_string()),
            took,
        },
    };
    note_answer(target, &answer);
    answer
}

/// A valid callback must be answered exactly 200 (the gateway retries
/// anything else) within the gateway's callback timeout (a slower answer
/// is abandoned and the callback retried: see [`super::timing`]).
pub(super) fn expect_accepted(answer: &Answer, what: &str, target: &MerchantTarget) -> Check {
    if answer.status != Some(200) {
        return Err(format!(
            "{what}: a correctly signed callback must be answered 200, got {}: the gateway would retry it ({})",
            answer.describe(),
            super::schedule::schedule_text()
        ));
    }
    if answer.took > target.deadline {
        return Err(format!(
            "{what}: answered after {:?}, past the gateway's callback timeout of {:?}: the gateway would abandon this attempt and retry it ({})",
            answer.took,
            target.deadline,
            super::schedule::schedule_text()
        ));
    }
    Ok(())
}

/// How long the lookup is asked again while it shows an order not yet
/// credited: a merchant may acknowledge first and apply the callback
/// right after (a queue, or a handler that answers before it works).
pub const LOOKUP_SETTLE: Duration = Duration::from_secs(2);

/// The merchant's view of an order once it has applied what it
/// acknowledged: (credited, status), asked again every 50 ms for up to
/// [`LOOKUP_SETTLE`] while the order is not credited.
pub(super) async fn lookup(
    target: &MerchantTarget,
    order_id: &str,
) -> Result<(u64, Option<i64>), String> {
    let started = Instant::now();
    loop {
        let view = lookup_once(target, order_id).await?;
        if view.0 > 0 || started.elapsed() >= LOOKUP_SETTLE {
            return Ok(view);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The merchant's view of an order: (credited, status).
async fn lookup_once(
    target: &MerchantTarget,
    order_id: &str,
) -> Result<(u64, Option<i64>), String> {
    let base = target
        .order_lookup
        .as_deref()
        .ok_or("this case needs --order-lookup")?;
    let url = format!("{}/{order_id}", base.trim_end_matches('/'));
    let response = target
        .http
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    if response.status().as_u16() == 404 {
        return Ok((0, None));
    }
    let status = response.status().as_u16();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let view: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("GET {url} (HTTP {status}): not the lookup's JSON: {e}"))?;
    Ok((
        view.get("credited").and_then(Value::as_u64).unwrap_or(0),
        view.get("status").and_then(Value::as_i64),
    ))
}

pub(super) async fn credited_once(target: &MerchantTarget, order_id: &str) -> Check {
    let (credited, _) = lookup(target, order_id).await?;
    if credited == 1 {
        Ok(())
    } else {
        Err(format!(
            "order {order_id} credited {credited} times after repeated deliveries of one success: the handler is not idempotent"
        ))
    }
}
