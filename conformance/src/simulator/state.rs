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
//!
//! The records it keeps ([`Transaction`], [`CallbackAttempt`], ...), the
//! operations ([`OperationKind`]) and the timestamps are defined in their
//! own modules and re-exported here.

use std::collections::HashMap;

use paygate::gateway::Status;
use paygate::money::Amount;

use super::persist::{Db, NewOutbox, OutboxEntry, OutboxProgress, StoreError};

pub use super::clock::{format_timestamp, now_timestamp};
pub use super::operation::OperationKind;
pub use super::transaction::{
    Awaiting, BankDetails, CallbackAttempt, StatusChange, StoredReply, Transaction,
};

/// The store key of a bulk payout's record: `#bulk/` cannot start an
/// `order_id` (`#` and `/` are not allowed there), so it never collides.
pub fn bulk_key(bulk_id: &str) -> String {
    format!("#bulk/{bulk_id}")
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
        if Status::from(tx.status) == Status::SuccessHold {
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
                .is_some_and(|tx| {
                    Status::from(tx.status) == Status::SuccessHold && tx.amount >= amount
                })
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
