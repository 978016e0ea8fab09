//! The merchant-side suite: `paygate conform --merchant URL` drives a
//! merchant's own callback endpoint, in whatever language it is written,
//! the way the gateway does, and checks what it answers.
//!
//! * [`cases`]: what is sent (derived from the spec's callbacks: every
//!   operation type and status, nested `extra`, a float written `100.10`,
//!   unicode, an unusual key order; seven tamperings; replays, concurrent
//!   duplicates, a late "in progress", an unknown order);
//! * [`bodies`]: building, signing and tampering with the bodies;
//! * [`hub2`]: the HUB2 webhook deliveries;
//! * [`timing`]: the deliveries of the gateway's retry schedule;
//! * [`faults`]: a seeded fault profile's deliveries;
//! * [`schedule`]: the retry schedule assumed of the gateway;
//! * `exchange`: one delivery and its answer, the order lookup;
//! * `checks`: running one case and judging it.
//!
//! A valid callback must be answered exactly HTTP 200 within the gateway's
//! callback timeout; a tampered one anything but 200. What the merchant
//! did with a callback is read through its optional **order lookup**
//! (`--order-lookup URL`): `GET {URL}/{order_id}` answers
//! `{"credited": N, "status": S}` (404: never credited), asked again for
//! up to two seconds while an acknowledged order is not yet credited.
//! Without it the cases that need it are skipped, with the reason.

pub mod bodies;
pub mod cases;
mod checks;
mod exchange;
pub mod faults;
pub mod hub2;
pub mod schedule;
pub mod timing;

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use paygate::signing::SigningKey;
use tokio::sync::Semaphore;

pub use cases::{merchant_cases, MerchantCase, MerchantCaseKind};

use crate::conform::{CaseResult, Outcome};

/// The gateway's callback timeout: a merchant slower than this is retried.
pub const CALLBACK_DEADLINE: Duration = Duration::from_secs(5);

/// The merchant endpoint under test.
#[derive(Debug)]
pub struct MerchantTarget {
    /// Where payment callbacks (C2B, B2C) are sent.
    pub url: String,
    /// Where POS callbacks are sent (default: `url`).
    pub pos_url: Option<String>,
    /// The merchant's secret, as the gateway signs with it.
    pub key: SigningKey,
    /// The merchant's order lookup (see the module docs).
    pub order_lookup: Option<String>,
    /// The longest a valid callback may take to be answered.
    pub deadline: Duration,
    /// The merchant's HUB2 webhook endpoint, if it has one.
    pub hub2: Option<hub2::Hub2WebhookTarget>,
    /// The fault profile the `merchant-faults` cases deliver by, if any.
    pub faults: Option<faults::FaultPlan>,
    http: reqwest::Client,
    /// The slowest answer so far and the case it answered.
    slowest: Mutex<Option<(Duration, String)>>,
}

impl MerchantTarget {
    /// A target at `url` whose callbacks `key` signs.
    pub fn new(url: impl Into<String>, key: SigningKey) -> Result<MerchantTarget, String> {
        let http = reqwest::Client::builder()
            .timeout(CALLBACK_DEADLINE + Duration::from_secs(5))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(MerchantTarget {
            url: url.into(),
            pos_url: None,
            key,
            order_lookup: None,
            deadline: CALLBACK_DEADLINE,
            hub2: None,
            faults: None,
            http,
            slowest: Mutex::new(None),
        })
    }
}

/// Why `case` cannot run against `target`, if it cannot.
pub fn skip_reason(target: &MerchantTarget, case: &MerchantCase) -> Option<Cow<'static, str>> {
    let plan =
        match (&case.kind, &target.faults) {
            (MerchantCaseKind::Faults(_), None) => return Some(
                "needs a fault profile (--fault-profile FILE, or --fault-seed N --fault-rate P)"
                    .into(),
            ),
            (MerchantCaseKind::Faults(fault), Some(plan)) => Some((*fault, plan)),
            _ => None,
        };
    if case.needs_lookup && target.order_lookup.is_none() {
        return Some("needs the merchant's order lookup (--order-lookup URL)".into());
    }
    if let Some((fault, plan)) = plan {
        if plan.orders_with(fault).is_empty() {
            return Some(
                format!(
                    "the fault profile (seed {}, {} %) drew none of its {} orders {}",
                    plan.profile.seed,
                    plan.profile.rate_percent,
                    plan.orders,
                    match fault {
                        None => "without a fault".to_owned(),
                        Some(f) => format!("for `{}`", crate::simulator::faults::callback_name(f)),
                    }
                )
                .into(),
            );
        }
    }
    if let MerchantCaseKind::Timing(timing) = &case.kind {
        if let Some(reason) = timing.skip_reason(&target.url) {
            return Some(reason.into());
        }
    }
    if let MerchantCaseKind::Hub2(delivery) = &case.kind {
        match &target.hub2 {
            None => {
                return Some(
                    "needs the merchant's HUB2 webhook (--hub2-webhook URL, PAYGATE_HUB2_WEBHOOK_SECRET)"
                        .into(),
                )
            }
            Some(hub2) if delivery.needs_previous() && hub2.previous.is_none() => {
                return Some(
                    "needs the previous webhook secret the merchant still accepts (PAYGATE_HUB2_WEBHOOK_PREVIOUS_SECRET)"
                        .into(),
                )
            }
            Some(hub2) if delivery.needs_expired() && hub2.expired.is_none() => {
                return Some(
                    "needs a webhook secret rotated out more than 24 hours ago (PAYGATE_HUB2_WEBHOOK_EXPIRED_SECRET)"
                        .into(),
                )
            }
            Some(_) => {}
        }
    }
    None
}

/// Runs `cases` against `target`, `concurrency` at a time, reporting each
/// result to `on_result` as it finishes; returns them in case order.
pub async fn run_merchant(
    target: MerchantTarget,
    cases: Vec<MerchantCase>,
    concurrency: usize,
    on_result: impl Fn(&CaseResult),
) -> Vec<CaseResult> {
    run_merchant_timed(target, cases, concurrency, on_result)
        .await
        .results
}

/// What a run of the merchant suite found.
#[derive(Debug)]
pub struct MerchantRun {
    /// The results, in case order.
    pub results: Vec<CaseResult>,
    /// The merchant's slowest answer and the case it answered, if any
    /// delivery was answered.
    pub slowest: Option<(Duration, String)>,
}

/// Like [`run_merchant`], also telling the merchant's slowest answer.
pub async fn run_merchant_timed(
    target: MerchantTarget,
    cases: Vec<MerchantCase>,
    concurrency: usize,
    on_result: impl Fn(&CaseResult),
) -> MerchantRun {
    let target = Arc::new(target);
    let slots = Arc::new(Semaphore::new(concurrency.max(1)));
    let seq = Arc::new(AtomicU64::new(0));
    let tag = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut results: Vec<Option<CaseResult>> = (0..cases.len()).map(|_| None).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for (index, case) in cases.into_iter().enumerate() {
        if let Some(reason) = skip_reason(&target, &case) {
            let result = CaseResult {
                id: case.id,
                group: case.group,
                outcome: Outcome::Skip(reason.into()),
                duration: Duration::ZERO,
            };
            on_result(&result);
            results[index] = Some(result);
            continue;
        }
        let target = Arc::clone(&target);
        let slots = Arc::clone(&slots);
        let order_id = format!("mc-{tag:x}-{:05}", seq.fetch_add(1, Ordering::Relaxed));
        tasks.spawn(async move {
            let _slot = slots.acquire_owned().await;
            let started = Instant::now();
            let run = checks::run_case(&target, &case.kind, &order_id);
            let outcome = match exchange::CASE_ID.scope(case.id.clone(), run).await {
                Ok(()) => Outcome::Pass,
                Err(message) => Outcome::Fail(message),
            };
            (
                index,
                CaseResult {
                    id: case.id,
                    group: case.group,
                    outcome,
                    duration: started.elapsed(),
                },
            )
        });
    }
    while let Some(joined) = tasks.join_next().await {
        if let Ok((index, result)) = joined {
            on_result(&result);
            results[index] = Some(result);
        }
    }
    let slowest = target
        .slowest
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    MerchantRun {
        results: results.into_iter().flatten().collect(),
        slowest,
    }
}
