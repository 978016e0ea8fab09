//! Seeded fault profiles: answers and callbacks that go wrong *after* the
//! simulator has committed the operation, so the client cannot tell from
//! what it received whether it paid.
//!
//! A merchant's profile (merchants file `faults:`, or
//! `PUT /_sim/merchants/{public_id}/faults`) has a seed, a rate in percent
//! and the kinds of fault to draw from. Every decision is a pure function
//! of the seed and of what the request or callback is (public id, method,
//! order id, how many times this order was sent; for callbacks the order
//! and its status): never of timing, thread or arrival order. The same
//! seed and the same requests give the same faults, and on the manual
//! clock a byte-identical delivery log.
//!
//! Answer faults (payment_c2b, payment_b2c, deposit, withdrawal; only on an
//! answer that accepted the request, and after it is stored):
//!
//! | kind | what the client sees |
//! |---|---|
//! | `drop` | the connection closes before any byte of the answer |
//! | `bad_gateway`, `gateway_timeout` | HTTP 502 / 504 with a proxy's HTML page |
//! | `cut_body` | the answer's head and half its body, then the connection closes |
//! | `slow` | the real answer, [`FaultProfile::slow_ms`] late (real time: it is the client's HTTP timeout that is tested) |
//! | `error_body` | HTTP 200 with `{"result":{"code":10500,...}}`, as a gateway that reports errors under 200 would |
//!
//! Callback faults (on the callback of a transaction that settled):
//!
//! | kind | what the merchant receives |
//! |---|---|
//! | `duplicate` | the callback twice |
//! | `reorder` | the final callback, then a stale "in progress" (status 1) one for the same order |
//! | `delay` | the callback [`FaultProfile::callback_delay_ms`] late (on the simulator's clock) |
//! | `unknown_order` | the callback, and a correctly signed one for an order the merchant never sent |
//!
//! Extra callbacks (duplicates, stale and unknown ones) are delivered and
//! logged like any other, but are not written to the `--db` outbox.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The longest `slow_ms` and `callback_delay_ms` (one hour).
pub const MAX_FAULT_DELAY_MS: u64 = 3_600_000;

/// A fault on the answer to a request the simulator accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerFault {
    /// The connection closes before the answer.
    Drop,
    /// HTTP 502 instead of the answer.
    BadGateway,
    /// HTTP 504 instead of the answer.
    GatewayTimeout,
    /// Half the answer's body, then the connection closes.
    CutBody,
    /// The answer, late.
    Slow,
    /// HTTP 200 with an error body.
    ErrorBody,
}

impl AnswerFault {
    /// Every kind.
    pub const ALL: [AnswerFault; 6] = [
        AnswerFault::Drop,
        AnswerFault::BadGateway,
        AnswerFault::GatewayTimeout,
        AnswerFault::CutBody,
        AnswerFault::Slow,
        AnswerFault::ErrorBody,
    ];
}

/// A fault on a callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackFault {
    /// Delivered twice.
    Duplicate,
    /// The final callback, then a stale "in progress" one.
    Reorder,
    /// Delivered late.
    Delay,
    /// Also a callback for an order the merchant never sent.
    UnknownOrder,
}

impl CallbackFault {
    /// Every kind.
    pub const ALL: [CallbackFault; 4] = [
        CallbackFault::Duplicate,
        CallbackFault::Reorder,
        CallbackFault::Delay,
        CallbackFault::UnknownOrder,
    ];
}

/// One merchant's faults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultProfile {
    /// Seeds every decision.
    pub seed: u64,
    /// The share of answers, and of callbacks, that go wrong, 0 to 100.
    pub rate_percent: u32,
    /// The answer faults drawn from (default: all; `[]`: none).
    #[serde(default = "all_answer_faults")]
    pub answers: Vec<AnswerFault>,
    /// The callback faults drawn from (default: all; `[]`: none).
    #[serde(default = "all_callback_faults")]
    pub callbacks: Vec<CallbackFault>,
    /// How late a `slow` answer is. Default 2 000 ms.
    #[serde(default = "default_slow_ms")]
    pub slow_ms: u64,
    /// How late a `delay`ed callback is. Default 60 000 ms.
    #[serde(default = "default_callback_delay_ms")]
    pub callback_delay_ms: u64,
}

fn all_answer_faults() -> Vec<AnswerFault> {
    AnswerFault::ALL.to_vec()
}

fn all_callback_faults() -> Vec<CallbackFault> {
    CallbackFault::ALL.to_vec()
}

fn default_slow_ms() -> u64 {
    2_000
}

fn default_callback_delay_ms() -> u64 {
    60_000
}

impl FaultProfile {
    /// A profile with every kind of fault at `rate_percent`.
    pub fn new(seed: u64, rate_percent: u32) -> Self {
        FaultProfile {
            seed,
            rate_percent,
            answers: all_answer_faults(),
            callbacks: all_callback_faults(),
            slow_ms: default_slow_ms(),
            callback_delay_ms: default_callback_delay_ms(),
        }
    }

    /// What is wrong with the profile: `(field, message)`.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if self.rate_percent > 100 {
            return Err((
                "rate_percent",
                format!("{} is not between 0 and 100", self.rate_percent),
            ));
        }
        for (field, value) in [
            ("slow_ms", self.slow_ms),
            ("callback_delay_ms", self.callback_delay_ms),
        ] {
            if value > MAX_FAULT_DELAY_MS {
                return Err((
                    field,
                    format!("{value} is more than {MAX_FAULT_DELAY_MS} (one hour)"),
                ));
            }
        }
        Ok(())
    }

    /// The fault, if any, on the answer to the `nth` request (from 1) for
    /// this order.
    pub fn answer_fault(
        &self,
        public_id: &str,
        method: &str,
        order_id: &str,
        nth: u32,
    ) -> Option<AnswerFault> {
        let draw = self.draw(&[
            b"answer",
            public_id.as_bytes(),
            method.as_bytes(),
            order_id.as_bytes(),
            &nth.to_le_bytes(),
        ]);
        pick(draw, self.rate_percent, &self.answers)
    }

    /// The fault, if any, on the callback of this order in `status`.
    pub fn callback_fault(
        &self,
        public_id: &str,
        order_id: &str,
        status: i64,
    ) -> Option<CallbackFault> {
        let draw = self.draw(&[
            b"callback",
            public_id.as_bytes(),
            order_id.as_bytes(),
            &status.to_le_bytes(),
        ]);
        pick(draw, self.rate_percent, &self.callbacks)
    }

    /// 64 bits from the seed and `parts` (each length-prefixed, so no two
    /// lists of parts share an input): SHA-256, stable across platforms
    /// and releases, unlike `std`'s hashers.
    fn draw(&self, parts: &[&[u8]]) -> u64 {
        let mut hash = Sha256::new();
        hash.update(self.seed.to_le_bytes());
        for part in parts {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        let digest = hash.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(first)
    }
}

/// A fault with probability `rate_percent` %, its kind drawn evenly.
fn pick<T: Copy>(draw: u64, rate_percent: u32, kinds: &[T]) -> Option<T> {
    if kinds.is_empty() || draw % 100 >= u64::from(rate_percent) {
        return None;
    }
    let index = (draw >> 32) % kinds.len() as u64;
    kinds.get(usize::try_from(index).ok()?).copied()
}

/// The fault profiles in force and what they did.
#[derive(Default)]
pub(crate) struct Faults {
    profiles: RwLock<HashMap<String, FaultProfile>>,
    /// Requests seen per (public id, order id), for the `nth` of a draw.
    sent: Mutex<HashMap<(String, String), u32>>,
    /// Faults injected per public id and kind.
    injected: Mutex<BTreeMap<String, BTreeMap<String, u64>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Faults {
    /// Faults from the merchants file.
    pub(crate) fn new(initial: impl IntoIterator<Item = (String, FaultProfile)>) -> Self {
        Faults {
            profiles: RwLock::new(initial.into_iter().collect()),
            ..Faults::default()
        }
    }

    /// The merchant's profile.
    pub(crate) fn profile(&self, public_id: &str) -> Option<FaultProfile> {
        let profiles = self.profiles.read().unwrap_or_else(PoisonError::into_inner);
        profiles.get(public_id).cloned()
    }

    /// Sets (or with `None` removes) the merchant's profile.
    pub(crate) fn set(&self, public_id: &str, profile: Option<FaultProfile>) {
        let mut profiles = self
            .profiles
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        match profile {
            Some(profile) => profiles.insert(public_id.to_owned(), profile),
            None => profiles.remove(public_id),
        };
    }

    /// Whether the merchant has a profile (cheap; the request path asks).
    pub(crate) fn any_for(&self, public_id: &str) -> bool {
        let profiles = self.profiles.read().unwrap_or_else(PoisonError::into_inner);
        profiles.contains_key(public_id)
    }

    /// Whether any merchant has a profile (cheaper than reading a body to
    /// learn whose request it is).
    pub(crate) fn has_profiles(&self) -> bool {
        let profiles = self.profiles.read().unwrap_or_else(PoisonError::into_inner);
        !profiles.is_empty()
    }

    /// The answer fault for this request, counting it.
    pub(crate) fn answer_fault(
        &self,
        public_id: &str,
        method: &str,
        order_id: &str,
    ) -> Option<AnswerFault> {
        let profile = self.profile(public_id)?;
        let nth = {
            let mut sent = lock(&self.sent);
            let count = sent
                .entry((public_id.to_owned(), order_id.to_owned()))
                .or_insert(0);
            *count = count.saturating_add(1);
            *count
        };
        let fault = profile.answer_fault(public_id, method, order_id, nth)?;
        self.count(public_id, &format!("answer.{}", answer_name(fault)));
        tracing::debug!(
            public_id,
            order_id,
            nth,
            fault = answer_name(fault),
            "answer fault"
        );
        Some(fault)
    }

    /// Notes an injected fault under `kind`.
    pub(crate) fn count(&self, public_id: &str, kind: &str) {
        let mut injected = lock(&self.injected);
        let counts = injected.entry(public_id.to_owned()).or_default();
        let count = counts.entry(kind.to_owned()).or_insert(0);
        *count = count.saturating_add(1);
    }

    /// The faults injected for the merchant, by kind.
    pub(crate) fn injected(&self, public_id: &str) -> BTreeMap<String, u64> {
        lock(&self.injected)
            .get(public_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Forgets the request counts and injected counts (not the profiles):
    /// after `/_sim/reset` the same requests draw the same faults again.
    pub(crate) fn reset(&self) {
        lock(&self.sent).clear();
        lock(&self.injected).clear();
    }
}

/// The name of an answer fault as the profile writes it.
pub(crate) fn answer_name(fault: AnswerFault) -> &'static str {
    match fault {
        AnswerFault::Drop => "drop",
        AnswerFault::BadGateway => "bad_gateway",
        AnswerFault::GatewayTimeout => "gateway_timeout",
        AnswerFault::CutBody => "cut_body",
        AnswerFault::Slow => "slow",
        AnswerFault::ErrorBody => "error_body",
    }
}

/// The name of a callback fault as the profile writes it.
pub(crate) fn callback_name(fault: CallbackFault) -> &'static str {
    match fault {
        CallbackFault::Duplicate => "duplicate",
        CallbackFault::Reorder => "reorder",
        CallbackFault::Delay => "delay",
        CallbackFault::UnknownOrder => "unknown_order",
    }
}

/// Marks a response whose connection must close before it is written
/// (read by `serve`, which then fails the request instead of answering).
#[derive(Clone, Copy, Debug)]
pub(crate) struct DropConnection;

/// The error the connection ends with on a `drop` fault.
#[derive(Debug)]
pub(crate) struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by a fault profile")
    }
}

impl std::error::Error for Dropped {}

fn proxy_page(status: StatusCode) -> Response {
    let text = format!(
        "<html><head><title>{status}</title></head><body><h1>{status}</h1></body></html>\n"
    );
    (status, [(header::CONTENT_TYPE, "text/html")], text).into_response()
}

/// The answer as the fault makes it.
pub(crate) async fn disrupt(answer: Response, fault: AnswerFault, slow: Duration) -> Response {
    match fault {
        AnswerFault::Drop => {
            let mut response = StatusCode::OK.into_response();
            response.extensions_mut().insert(DropConnection);
            response
        }
        AnswerFault::BadGateway => proxy_page(StatusCode::BAD_GATEWAY),
        AnswerFault::GatewayTimeout => proxy_page(StatusCode::GATEWAY_TIMEOUT),
        AnswerFault::CutBody => cut_body(answer).await,
        AnswerFault::Slow => {
            tokio::time::sleep(slow).await;
            answer
        }
        AnswerFault::ErrorBody => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"result":{"code":10500,"message":"temporary system error"}}"#,
        )
            .into_response(),
    }
}

/// The head (with the full `Content-Length`) and the first half of the
/// body, then an error: hyper closes the connection mid-body.
async fn cut_body(answer: Response) -> Response {
    let (mut parts, body) = answer.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return proxy_page(StatusCode::BAD_GATEWAY);
    };
    let half = Bytes::copy_from_slice(&bytes[..bytes.len() / 2]);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, bytes.len().into());
    let chunks: Vec<Result<Bytes, Dropped>> = vec![Ok(half), Err(Dropped)];
    let stream = futures_util::stream::iter(chunks);
    Response::from_parts(parts, Body::from_stream(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_the_share_of_faults_and_each_kind_is_drawn() {
        let profile = FaultProfile::new(7, 20);
        let mut seen = BTreeMap::new();
        let n = 20_000;
        for i in 0..n {
            if let Some(f) = profile.answer_fault("p", "payment_c2b", &format!("o{i}"), 1) {
                *seen.entry(f).or_insert(0u32) += 1;
            }
        }
        let total: u32 = seen.values().sum();
        assert!((3_600..4_400).contains(&total), "{total} faults of {n}");
        assert_eq!(seen.len(), AnswerFault::ALL.len(), "{seen:?}");
    }

    #[test]
    fn the_same_seed_draws_the_same_faults_and_another_seed_others() {
        let a = FaultProfile::new(1, 50);
        let b = FaultProfile::new(2, 50);
        let draws = |p: &FaultProfile| {
            (0..200)
                .map(|i| p.callback_fault("p", &format!("o{i}"), 2))
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(&a), draws(&a.clone()));
        assert_ne!(draws(&a), draws(&b));
    }

    #[test]
    fn zero_percent_or_no_kinds_never_faults() {
        let mut p = FaultProfile::new(3, 0);
        assert!((0..1000).all(|i| p.answer_fault("p", "m", &i.to_string(), 1).is_none()));
        p.rate_percent = 100;
        p.answers.clear();
        assert!((0..1000).all(|i| p.answer_fault("p", "m", &i.to_string(), 1).is_none()));
        p.answers = vec![AnswerFault::Slow];
        assert!((0..1000)
            .all(|i| p.answer_fault("p", "m", &i.to_string(), 1) == Some(AnswerFault::Slow)));
    }

    #[test]
    fn a_profile_out_of_range_names_the_field() {
        let mut p = FaultProfile::new(3, 101);
        assert_eq!(p.check().map_err(|e| e.0), Err("rate_percent"));
        p.rate_percent = 10;
        p.slow_ms = MAX_FAULT_DELAY_MS + 1;
        assert_eq!(p.check().map_err(|e| e.0), Err("slow_ms"));
    }
}
