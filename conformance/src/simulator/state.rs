//! The simulator's memory: transactions with their status history, the
//! replies stored for idempotent replays, and every callback delivery
//! attempt.
//!
//! Everything lives in one [`Store`] behind a mutex held only for short,
//! synchronous sections (never across an `.await`). The store's API is
//! small on purpose (get, insert, update, record, list, reset), so that a
//! persistent implementation can replace it later.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use paygate::money::Amount;
use serde::Serialize;

/// The operation that created a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    /// `payment_c2b` (callback operation type 17).
    PaymentC2b,
    /// `payment_b2c` (callback operation type 16).
    PaymentB2c,
    /// POS `deposit` (callback operation type 20).
    Deposit,
    /// POS `withdrawal` (callback operation type 21).
    Withdrawal,
}

impl OperationKind {
    /// The `operation_type` code of this operation's callbacks.
    pub const fn operation_type(self) -> i64 {
        match self {
            OperationKind::PaymentB2c => 16,
            OperationKind::PaymentC2b => 17,
            OperationKind::Deposit => 20,
            OperationKind::Withdrawal => 21,
        }
    }

    /// The method name (`payment_c2b`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            OperationKind::PaymentC2b => "payment_c2b",
            OperationKind::PaymentB2c => "payment_b2c",
            OperationKind::Deposit => "deposit",
            OperationKind::Withdrawal => "withdrawal",
        }
    }

    /// Whether the callback is a POS callback (no `provider_result`).
    pub const fn is_pos(self) -> bool {
        matches!(self, OperationKind::Deposit | OperationKind::Withdrawal)
    }
}

/// One status a transaction went through.
#[derive(Clone, Debug, Serialize)]
pub struct StatusChange {
    /// The status code.
    pub status: i64,
    /// When (UTC, `YYYY-MM-DD hh:mm:ss.ffffff`).
    pub at: String,
    /// Why.
    pub note: String,
}

/// What a transaction is waiting for before its outcome can happen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Awaiting {
    /// Nothing: the outcome timer runs (or the outcome never comes).
    Nothing,
    /// A B2C confirmation: the same request again with `extra.otp`. Holds
    /// the canonical string of the first request.
    Confirmation {
        /// Canonical string of the unconfirmed request.
        canonical: Vec<u8>,
    },
    /// The customer opening the redirect page.
    Redirect,
}

/// Bank details returned for bank-transfer flows.
#[derive(Clone, Debug, Serialize)]
pub struct BankDetails {
    /// Account holder.
    pub account_name: String,
    /// Account to pay into.
    pub account_number: String,
    /// Bank.
    pub bank_name: String,
}

/// A reply kept for idempotent replays: same operation and same signature
/// (same fields in the same order) get the same bytes.
#[derive(Clone, Debug)]
pub struct StoredReply {
    /// The operation called.
    pub operation: OperationKind,
    /// The request's signature, lower case.
    pub signature: String,
    /// The exact response body sent.
    pub body: Bytes,
}

/// One simulated transaction.
#[derive(Clone, Debug, Serialize)]
pub struct Transaction {
    /// Unique serial (never reused, also across resets).
    pub serial: u64,
    /// The merchant's public id.
    pub public_id: String,
    /// The merchant's order id.
    pub order_id: String,
    /// The operation that created it.
    pub operation: OperationKind,
    /// `merchant_id` of the request.
    pub merchant_id: String,
    /// `customer_id` of the request.
    pub customer_id: String,
    /// `amount` of the request.
    pub amount: Amount,
    /// Provider (0 when the request named none).
    pub provider_id: i64,
    /// POS destination (empty when none).
    pub destination_id: String,
    /// Where callbacks go (none: no callback).
    pub callback_url: Option<String>,
    /// Whether a callback is sent when the transaction becomes final.
    pub sends_callback: bool,
    /// The simulator's transaction id.
    pub transaction_id: String,
    /// Reference set on success.
    pub transaction_ref: String,
    /// Current status code.
    pub status: i64,
    /// `provider_result.code`.
    pub provider_code: i64,
    /// `provider_result.message`.
    pub provider_message: String,
    /// `confirm_type` of the last answer.
    pub confirm_type: i64,
    /// Every status it went through.
    pub history: Vec<StatusChange>,
    /// The outcome that happens when the timer fires or the customer
    /// returns from the redirect (`None`: stays in progress).
    #[serde(skip)]
    pub planned: Option<super::outcome::Outcome>,
    /// What it waits for.
    #[serde(skip)]
    pub awaiting: Awaiting,
    /// `extra.customer_redirect` for redirect flows.
    pub redirect_url: Option<String>,
    /// `extra.customer_message`, if any.
    pub customer_message: Option<String>,
    /// Bank details for bank-transfer flows.
    pub bank_details: Option<BankDetails>,
    /// Replies kept for replays.
    #[serde(skip)]
    pub replies: Vec<StoredReply>,
}

impl Transaction {
    /// Whether the status is final (2, 3 or 4).
    pub fn is_final(&self) -> bool {
        matches!(self.status, 2..=4)
    }

    /// Moves to `status`, recording it in the history.
    pub fn set_status(&mut self, status: i64, note: impl Into<String>) {
        self.status = status;
        self.history.push(StatusChange {
            status,
            at: now_timestamp(),
            note: note.into(),
        });
    }

    /// `awaiting` as a word for the control API.
    pub fn awaiting_label(&self) -> Option<&'static str> {
        match self.awaiting {
            Awaiting::Nothing => None,
            Awaiting::Confirmation { .. } => Some("confirmation"),
            Awaiting::Redirect => Some("redirect"),
        }
    }
}

/// One callback delivery attempt. Neither the key nor the signature is kept.
#[derive(Clone, Debug, Serialize)]
pub struct CallbackAttempt {
    /// The merchant's public id.
    pub public_id: String,
    /// The order the callback is about.
    pub order_id: String,
    /// The callback's `operation_type`.
    pub operation_type: i64,
    /// The callback's `status`.
    pub status: i64,
    /// Where it was sent.
    pub url: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The merchant's HTTP status, if it answered.
    pub http_status: Option<u16>,
    /// The transport error, if it did not.
    pub error: Option<String>,
    /// Whether this attempt counted as delivered (HTTP 200).
    pub delivered: bool,
    /// When (UTC, `YYYY-MM-DD hh:mm:ss.ffffff`).
    pub at: String,
}

/// The in-memory store.
#[derive(Debug, Default)]
pub struct Store {
    transactions: HashMap<(String, String), Transaction>,
    callbacks: Vec<CallbackAttempt>,
    serial: u64,
}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Store::default()
    }

    /// A fresh serial number and the transaction id derived from it.
    pub fn next_ids(&mut self) -> (u64, String) {
        self.serial += 1;
        (self.serial, format!("SIM{:010}", self.serial))
    }

    /// The transaction of `order_id` for merchant `public_id`.
    pub fn get(&self, public_id: &str, order_id: &str) -> Option<&Transaction> {
        self.transactions
            .get(&(public_id.to_owned(), order_id.to_owned()))
    }

    /// Same, mutable.
    pub fn get_mut(&mut self, public_id: &str, order_id: &str) -> Option<&mut Transaction> {
        self.transactions
            .get_mut(&(public_id.to_owned(), order_id.to_owned()))
    }

    /// The transaction, only if it is still the one with `serial` (a reset
    /// and a new request under the same order id make a new one).
    pub fn get_serial_mut(
        &mut self,
        public_id: &str,
        order_id: &str,
        serial: u64,
    ) -> Option<&mut Transaction> {
        self.get_mut(public_id, order_id)
            .filter(|tx| tx.serial == serial)
    }

    /// Adds (or replaces) a transaction.
    pub fn insert(&mut self, tx: Transaction) {
        self.transactions
            .insert((tx.public_id.clone(), tx.order_id.clone()), tx);
    }

    /// How many transactions there are.
    pub fn transaction_count(&self) -> usize {
        self.transactions.len()
    }

    /// Records a callback attempt.
    pub fn record_attempt(&mut self, attempt: CallbackAttempt) {
        self.callbacks.push(attempt);
    }

    /// Every attempt, oldest first, optionally only for one order id.
    pub fn attempts(&self, order_id: Option<&str>) -> Vec<CallbackAttempt> {
        self.callbacks
            .iter()
            .filter(|a| order_id.map_or(true, |o| a.order_id == o))
            .cloned()
            .collect()
    }

    /// Forgets every transaction and callback attempt.
    pub fn reset(&mut self) {
        self.transactions.clear();
        self.callbacks.clear();
    }
}

/// Now, as the gateway writes times: `YYYY-MM-DD hh:mm:ss.ffffff` (UTC).
pub fn now_timestamp() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format_timestamp(since.as_secs(), since.subsec_micros())
}

/// Formats seconds since the epoch (UTC) plus microseconds.
pub fn format_timestamp(secs: u64, micros: u32) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{micros:06}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_look_like_the_gateways() {
        assert_eq!(format_timestamp(0, 0), "1970-01-01 00:00:00.000000");
        assert_eq!(
            format_timestamp(1_606_298_912, 832_969),
            "2020-11-25 10:08:32.832969"
        );
        assert_eq!(
            format_timestamp(951_782_400, 1),
            "2000-02-29 00:00:00.000001"
        );
    }
}
