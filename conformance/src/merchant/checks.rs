//! Running one merchant case: send, read the answer (and the merchant's
//! view through its order lookup), judge.

use std::time::{Duration, Instant};

use paygate::gateway::{OperationType, Status};
use serde_json::Value;

use super::bodies::{draft, Shape};
use super::cases::MerchantCaseKind;
use super::hub2::{Hub2Delivery, HEADER};
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

fn answer_of(
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
            super::timing::schedule_text()
        ));
    }
    if answer.took > target.deadline {
        return Err(format!(
            "{what}: answered after {:?}, past the gateway's callback timeout of {:?}: the gateway would abandon this attempt and retry it ({})",
            answer.took,
            target.deadline,
            super::timing::schedule_text()
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

fn url_for(target: &MerchantTarget, operation: OperationType) -> &str {
    match operation {
        OperationType::Deposit | OperationType::Withdrawal => {
            target.pos_url.as_deref().unwrap_or(&target.url)
        }
        _ => &target.url,
    }
}

/// Runs one case for `order_id`.
pub(crate) async fn run_case(
    target: &MerchantTarget,
    kind: &MerchantCaseKind,
    order_id: &str,
) -> Check {
    let c2b = OperationType::PaymentC2b;
    let success = |shape| draft(c2b, Status::Success, order_id, shape);
    match kind {
        MerchantCaseKind::Valid {
            operation,
            status,
            shape,
        } => {
            let body = draft(*operation, *status, order_id, *shape).signed(&target.key)?;
            let answer = post(target, url_for(target, *operation), body).await;
            expect_accepted(&answer, "the callback", target)
        }
        MerchantCaseKind::Tampered(tamper) => {
            let body = tamper.apply(&success(Shape::Plain), &target.key)?;
            let answer = post(target, &target.url, body).await;
            if answer.status == Some(200) {
                return Err(format!(
                    "a callback {} was answered 200: the merchant acted on a body the gateway did not sign",
                    tamper.name().replace('_', " ")
                ));
            }
            Ok(())
        }
        MerchantCaseKind::Replay => {
            let body = success(Shape::Plain).signed(&target.key)?;
            for n in ["first", "second"] {
                let answer = post(target, &target.url, body.clone()).await;
                expect_accepted(&answer, &format!("the {n} delivery"), target)?;
            }
            credited_once(target, order_id).await
        }
        MerchantCaseKind::ConcurrentDuplicates => {
            let body = success(Shape::Plain).signed(&target.key)?;
            let sends = (0..8).map(|_| post(target, &target.url, body.clone()));
            for (i, answer) in futures_util::future::join_all(sends)
                .await
                .iter()
                .enumerate()
            {
                expect_accepted(answer, &format!("duplicate {}", i + 1), target)?;
            }
            credited_once(target, order_id).await
        }
        MerchantCaseKind::LateInProgress => {
            let final_body = success(Shape::Plain).signed(&target.key)?;
            let late =
                draft(c2b, Status::InProgress, order_id, Shape::Plain).signed(&target.key)?;
            expect_accepted(
                &post(target, &target.url, final_body).await,
                "the success",
                target,
            )?;
            let answer = post(target, &target.url, late).await;
            if !answer.status.is_some_and(|s| (200..300).contains(&s)) {
                return Err(format!(
                    "a late \"in progress\" after the success must still be acknowledged (else it is retried), got {}",
                    answer.describe()
                ));
            }
            let (credited, status) = lookup(target, order_id).await?;
            if status != Some(Status::Success.code()) {
                return Err(format!(
                    "after a success and a late \"in progress\", the merchant's order is in status {status:?}, not 2: a final status must not move back"
                ));
            }
            if credited != 1 {
                return Err(format!("credited {credited} times, not once"));
            }
            Ok(())
        }
        MerchantCaseKind::Hub2(delivery) => hub2_case(target, delivery, order_id).await,
        MerchantCaseKind::Timing(timing) => timing.run(target, order_id).await,
        MerchantCaseKind::Faults(fault) => {
            super::faults::run_fault_case(target, *fault, order_id).await
        }
        MerchantCaseKind::UnknownOrder => {
            let body = draft(
                c2b,
                Status::Success,
                &format!("never-sent-{order_id}"),
                Shape::Plain,
            )
            .signed(&target.key)?;
            let answer = post(target, &target.url, body).await;
            match answer.status {
                Some(status) if status < 500 => Ok(()),
                _ => Err(format!(
                    "a callback for an order never sent must be answered (2xx or 4xx), got {}",
                    answer.describe()
                )),
            }
        }
    }
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

async fn hub2_case(target: &MerchantTarget, delivery: &Hub2Delivery, event_id: &str) -> Check {
    let hub2 = target
        .hub2
        .as_ref()
        .ok_or("this case needs --hub2-webhook")?;
    for (n, (body, header)) in delivery.requests(hub2, event_id).into_iter().enumerate() {
        let mut request = target
            .http
            .post(&hub2.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(header) = header {
            request = request.header(HEADER, header);
        }
        let started = Instant::now();
        let sent = request.send().await;
        let answer = answer_of(target, sent, started.elapsed());
        if delivery.must_accept() {
            expect_accepted(&answer, &format!("delivery {}", n + 1), target)?;
        } else if answer.status == Some(200) {
            return Err(format!(
                "a webhook whose signature HUB2 did not make was answered 200 ({})",
                answer.describe()
            ));
        }
    }
    Ok(())
}
