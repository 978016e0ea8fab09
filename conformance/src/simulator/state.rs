//! The simulator's memory: transactions with their status history, the
//! replies stored for idempotent replays, and every callback delivery
//! attempt.
//!
//! Everything lives in one [`Store`] behind a mutex held only for short,
//! synchronous sections (never across an `.await`). The store has two
//! backends behind one API (get, insert, persist, record, list, reset):
//!
//! * in memory (the default): everything is lost when the process stops;
//! * SQLite ([`Store::open`], `paygate simulate --db FILE`): the same maps
//!   serve the reads, and every change is written through to the database
//!   in one SQLite transaction before the caller goes on (see
//!   [`super::persist`] for the schema and the durability promise). On
//!   open, everything is read back.
//!
//! A change made through [`Store::get_mut`] is in memory only until
//! [`Store::persist`] is called with the changed transaction.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use paygate::money::Amount;
use serde::{Deserialize, Serialize};

use super::persist::{Db, NewOutbox, OutboxEntry, OutboxProgress, StoreError};

/// The operation that created a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// `payment_b2c/bulk`: the record of a bulk payout (its items are
    /// `payment_b2c` transactions). Kept under [`bulk_key`].
    BulkB2c,
}

/// The store key of a bulk payout's record: `#bulk/` cannot start an
/// `order_id` (`#` and `/` are not allowed there), so it never collides.
pub fn bulk_key(bulk_id: &str) -> String {
    format!("#bulk/{bulk_id}")
}

impl OperationKind {
    /// The `operation_type` code of this operation's callbacks.
    pub const fn operation_type(self) -> i64 {
        match self {
            OperationKind::PaymentB2c => 16,
            OperationKind::PaymentC2b => 17,
            OperationKind::Deposit => 20,
            OperationKind::Withdrawal => 21,
            // A bulk record sends no callback of its own; its items do.
            OperationKind::BulkB2c => 16,
        }
    }

    /// The method name (`payment_c2b`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            OperationKind::PaymentC2b => "payment_c2b",
            OperationKind::PaymentB2c => "payment_b2c",
            OperationKind::Deposit => "deposit",
            OperationKind::Withdrawal => "withdrawal",
            OperationKind::BulkB2c => "payment_b2c/bulk",
        }
    }

    /// The operation named `name` (`payment_c2b`, ...).
    pub fn from_name(name: &str) -> Option<Self> {
        [
            OperationKind::PaymentC2b,
            OperationKind::PaymentB2c,
            OperationKind::Deposit,
            OperationKind::Withdrawal,
            OperationKind::BulkB2c,
        ]
        .into_iter()
        .find(|op| op.as_str() == name)
    }

    /// Whether the callback is a POS callback (no `provider_result`).
    pub const fn is_pos(self) -> bool {
        matches!(self, OperationKind::Deposit | OperationKind::Withdrawal)
    }
}

/// One status a transaction went through.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StatusChange {
    /// The status code.
    pub status: i64,
    /// When (UTC, `YYYY-MM-DD hh:mm:ss.ffffff`).
    pub at: String,
    /// Why.
    pub note: String,
}

/// What a transaction is waiting for before its outcome can happen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Awaiting {
    /// Nothing: the outcome timer runs (or the outcome never comes).
    #[default]
    Nothing,
    /// A B2C confirmation: the same request again with `extra.otp`. Holds
    /// the canonical string of the first request.
    Confirmation {
        /// Canonical string of the unconfirmed request.
        canonical: Vec<u8>,
    },
    /// The customer opening the redirect page.
    Redirect,
    /// The customer's OTP, in a `status` request with `customer_id` and
    /// `extra.otp` (an OTP flow's payment sent without one).
    Otp,
}

/// Bank details returned for bank-transfer flows.
#[derive(Clone, Debug, Serialize, Deserialize)]
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
#[derive(Clone, Debug, Serialize, Deserialize)]
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
    /// The bulk payout this payout is an item of.
    #[serde(default)]
    pub bulk_id: Option<String>,
    /// For a bulk record: the order ids of its items, in request order.
    #[serde(default)]
    pub items: Vec<String>,
}

impl Transaction {
    /// Whether the status is final (2, 3, 4 or 5): a hold (6) can still be
    /// consumed, an undefined status (-1) settled, a withdrawal in transit
    /// (7) handed over.
    pub fn is_final(&self) -> bool {
        paygate::gateway::Status::from(self.status).is_final()
    }

    /// The UTC day it was accepted (`YYYY-MM-DD`).
    pub fn day(&self) -> &str {
        self.history
            .first()
            .and_then(|h| h.at.get(..10))
            .unwrap_or("")
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
            Awaiting::Otp => Some("otp"),
        }
    }
}

/// One callback delivery attempt. Neither the key nor the signature is kept.
#[derive(Clone, Debug, Serialize, Deserialize)]
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

/// The store: transactions, replies and callback attempts in memory,
/// written through to SQLite when opened with [`Store::open`].
#[derive(Debug, Default)]
pub struct Store {
    transactions: HashMap<(String, String), Transaction>,
    callbacks: Vec<CallbackAttempt>,
    serial: u64,
    db: Option<Db>,
    /// Amounts accepted per customer and day (see [`DailyKey`]), in minor
    /// units: derived from the transactions, rebuilt on open.
    daily: HashMap<DailyKey, u64>,
    /// Held C2B payments (status 6) per (public_id, customer_id), oldest
    /// first: derived from the transactions, rebuilt on open.
    holds: HashMap<(String, String), Vec<String>>,
}

/// What a daily cumulative limit counts: one merchant's payments (or
/// payouts) through one provider to one customer on one UTC day. Per
/// customer is the loosest reading of the documentation's "daily
/// cumulative limit" (a per-merchant total would refuse more).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DailyKey {
    /// The merchant.
    pub public_id: String,
    /// The provider.
    pub provider_id: i64,
    /// `payment_c2b` or `payment_b2c`.
    pub operation: OperationKind,
    /// The customer.
    pub customer_id: String,
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
}

impl DailyKey {
    /// The key a transaction counts under.
    pub fn of(tx: &Transaction) -> DailyKey {
        DailyKey {
            public_id: tx.public_id.clone(),
            provider_id: tx.provider_id,
            operation: tx.operation,
            customer_id: tx.customer_id.clone(),
            day: tx.day().to_owned(),
        }
    }
}

impl Store {
    /// An empty in-memory store.
    pub fn new() -> Self {
        Store::default()
    }

    /// A store kept in the SQLite database at `path` (created if missing,
    /// WAL mode), with everything it already holds read back.
    pub fn open(path: &std::path::Path) -> Result<Self, StoreError> {
        let (db, loaded) = Db::open(path)?;
        let mut store = Store {
            callbacks: loaded.attempts,
            serial: loaded.serial,
            db: Some(db),
            ..Store::default()
        };
        for tx in loaded.transactions {
            store.index(&tx);
            store
                .transactions
                .insert((tx.public_id.clone(), tx.order_id.clone()), tx);
        }
        Ok(store)
    }

    /// Whether changes are kept in a database.
    pub fn is_persistent(&self) -> bool {
        self.db.is_some()
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

    /// Same, mutable. The change is in memory only until
    /// [`Store::persist`].
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

    /// Adds (or replaces) a transaction with its replies. With a database,
    /// it is committed first; if that fails, nothing changes.
    pub fn insert(&mut self, tx: Transaction) -> Result<(), StoreError> {
        if let Some(db) = self.db.as_mut() {
            db.save(&tx, true, None)?;
        }
        self.index(&tx);
        self.transactions
            .insert((tx.public_id.clone(), tx.order_id.clone()), tx);
        Ok(())
    }

    /// Adds new transactions together: with a database, in one commit (all
    /// or none); if that fails, nothing changes.
    pub fn insert_all(&mut self, txs: Vec<Transaction>) -> Result<(), StoreError> {
        if let Some(db) = self.db.as_mut() {
            db.save_many(&txs)?;
        }
        for tx in txs {
            self.index(&tx);
            self.transactions
                .insert((tx.public_id.clone(), tx.order_id.clone()), tx);
        }
        Ok(())
    }

    /// Counts a new transaction in the derived indexes.
    fn index(&mut self, tx: &Transaction) {
        if matches!(
            tx.operation,
            OperationKind::PaymentC2b | OperationKind::PaymentB2c
        ) {
            let total = self.daily.entry(DailyKey::of(tx)).or_default();
            *total = total.saturating_add(tx.amount.minor());
        }
        if tx.status == 6 {
            self.note_hold(tx);
        }
    }

    /// The amount accepted so far under `key`, in minor units.
    pub fn daily_total(&self, key: &DailyKey) -> u64 {
        self.daily.get(key).copied().unwrap_or(0)
    }

    /// Notes a transaction that just became a hold (status 6).
    pub fn note_hold(&mut self, tx: &Transaction) {
        let holds = self
            .holds
            .entry((tx.public_id.clone(), tx.customer_id.clone()))
            .or_default();
        if !holds.contains(&tx.order_id) {
            holds.push(tx.order_id.clone());
        }
    }

    /// Takes the oldest hold of the customer that covers `amount`, if any
    /// (it is no longer listed as a hold).
    pub fn take_hold(
        &mut self,
        public_id: &str,
        customer_id: &str,
        amount: Amount,
    ) -> Option<String> {
        let key = (public_id.to_owned(), customer_id.to_owned());
        let holds = self.holds.get_mut(&key)?;
        let transactions = &self.transactions;
        let at = holds.iter().position(|order| {
            transactions
                .get(&(public_id.to_owned(), order.clone()))
                .is_some_and(|tx| tx.status == 6 && tx.amount >= amount)
        })?;
        Some(holds.remove(at))
    }

    /// Writes the current state of the transaction `tx` is a copy of (its
    /// replies included) to the database. A no-op in memory.
    pub fn persist(&mut self, tx: &Transaction) -> Result<(), StoreError> {
        match self.db.as_mut() {
            Some(db) => db.save(tx, false, None).map(|_| ()),
            None => Ok(()),
        }
    }

    /// Same, adding a callback to the outbox in the same database
    /// transaction; returns the outbox id (`None` in memory).
    pub(crate) fn persist_with_callback(
        &mut self,
        tx: &Transaction,
        callback: Option<NewOutbox<'_>>,
    ) -> Result<Option<i64>, StoreError> {
        match self.db.as_mut() {
            Some(db) => db.save(tx, false, callback),
            None => Ok(None),
        }
    }

    /// How many transactions there are.
    pub fn transaction_count(&self) -> usize {
        self.transactions.len()
    }

    /// Every transaction (in no particular order).
    pub fn transactions(&self) -> impl Iterator<Item = &Transaction> {
        self.transactions.values()
    }

    /// Records a callback attempt.
    pub fn record_attempt(&mut self, attempt: CallbackAttempt) {
        self.record_outbox_attempt(attempt, None);
    }

    /// Records a callback attempt and where its outbox delivery stands, in
    /// one database transaction. A write failure is logged: the attempt
    /// stays in memory and, the outbox row still pending, the callback is
    /// sent again after a restart (at least once).
    pub(crate) fn record_outbox_attempt(
        &mut self,
        attempt: CallbackAttempt,
        outbox: Option<(i64, OutboxProgress)>,
    ) {
        if let Some(db) = self.db.as_mut() {
            if let Err(err) = db.record_attempt(&attempt, outbox) {
                tracing::error!(error = %err, "cannot record a callback attempt");
            }
        }
        self.callbacks.push(attempt);
    }

    /// Callbacks still to deliver (always empty in memory: there, pending
    /// deliveries live only in their tasks).
    pub fn pending_callbacks(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        match &self.db {
            Some(db) => db.pending_outbox(),
            None => Ok(Vec::new()),
        }
    }

    /// Every attempt, oldest first, optionally only for one order id.
    pub fn attempts(&self, order_id: Option<&str>) -> Vec<CallbackAttempt> {
        self.callbacks
            .iter()
            .filter(|a| order_id.is_none_or(|o| a.order_id == o))
            .cloned()
            .collect()
    }

    /// Forgets every transaction and callback attempt (and, with a
    /// database, the pending callbacks).
    pub fn reset(&mut self) {
        if let Some(db) = self.db.as_mut() {
            if let Err(err) = db.reset() {
                tracing::error!(error = %err, "cannot reset the database");
            }
        }
        self.transactions.clear();
        self.callbacks.clear();
        self.daily.clear();
        self.holds.clear();
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
