//! The simulator's memory: transactions with their status history, the
//! replies stored for idempotent replays, and every callback delivery
//! attempt.
//!
//! # No global lock, no pause that grows with the store
//!
//! Transactions live in [`SHARDS`] shards chosen by a hash of
//! `(public_id, order_id)`, each an ordered map behind its own mutex: a
//! request locks only the shard of its order ([`Store::lock_order`]), so
//! requests for different orders rarely meet, and an ordered map grows a
//! node at a time, never rehashing everything it holds (a hash map that
//! doubles stalls every request behind it for a time proportional to its
//! size: the pauses of 23 ms to 1.5 s issue 15 measured). The derived
//! indexes are sharded the same way: daily totals by their
//! [`DailyKey`], in ordered maps too (they grow with every new customer
//! of the day), held payments in their own small map. Serial numbers
//! come from an atomic counter. Callback attempts are appended to a list
//! of fixed-size chunks (never copied as it grows).
//!
//! Locks are always taken in this order, so no two paths can wait for
//! each other: transaction shards (ascending index) → one daily-total
//! shard → the held-payments map → the database writer. Every lock is held
//! only for short synchronous sections, never across an `.await`.
//!
//! # Backends
//!
//! * in memory (the default): everything is lost when the process stops;
//! * SQLite (`Store::open`, `paygate simulate --db FILE`): the maps
//!   serve the reads, and every change is written through to the
//!   database, in batches shared with the changes of other callers (see
//!   `group_commit`, and [`super::persist`] for the schema and the
//!   durability promise). A request changes memory at once and answers
//!   once its writes, and those of the transactions it read, are
//!   committed (see `durability`). On open, everything is read
//!   back.
//! * PostgreSQL alone: the same, each write committed before the caller
//!   goes on (on Tokio's blocking pool).
//! * PostgreSQL as one of several replicas (`--replica`): the same, and
//!   the maps are a cache: locking an order also locks it in the database
//!   and reads it back (see `persist::replica`).
//!
//! A change made through [`StoreGuard::get_mut`] is in memory only until
//! [`StoreGuard::persist`] is called with the changed transaction.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use paygate::gateway::Status;
use paygate::money::Amount;

use super::group_commit::Writer;
use super::persist::replica::{Hub2Lead, Joining, OrderLocks, Refreshed, Replica, Takeover};
use super::persist::{
    Db, Hub2Object, Hub2Put, OutboxEntry, OutboxProgress, StoreError, Write, Written,
};
use attempt_log::AttemptLog;
use order_key::{OrderKey, OrderRef};

pub use super::clock::{format_timestamp, now_timestamp};
pub use super::operation::OperationKind;
pub use super::transaction::{
    Awaiting, BankDetails, CallbackAttempt, DailyKey, StatusChange, StoredReply, Transaction,
};

/// How many shards the transactions (and the daily totals) are split
/// into: far more than the cores that serve requests, so two requests
/// rarely wait for the same shard.
pub const SHARDS: usize = 64;

/// The shard of an order's key.
fn shard_index(key: &OrderRef<'_>) -> usize {
    (key.hash % SHARDS as u64) as usize
}

/// The store key of a bulk payout's record: `#bulk/` cannot start an
/// `order_id` (`#` and `/` are not allowed there), so it never collides.
pub fn bulk_key(bulk_id: &str) -> String {
    format!("#bulk/{bulk_id}")
}

/// Why [`StoreGuard::insert_within_daily`] did not insert.
#[derive(Debug)]
pub enum InsertRefused {
    /// The customer's total of the day so far (minor units): the new
    /// amount would take it past the maximum.
    DailyMaximum {
        /// The total before this payment.
        so_far: u64,
    },
    /// The database write failed; nothing changed.
    Storage(StoreError),
}

/// A daily total's key, its hash first: the ordered map compares that
/// integer, held in its own nodes, before it follows the key's strings.
type HashedDaily = (u64, DailyKey);
type Holds = HashMap<(String, String), Vec<(String, Amount)>>;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One shard of the transactions.
#[derive(Debug, Default)]
pub struct Shard {
    /// Boxed: a tree node then holds small entries, full or not, where a
    /// transaction held inline left about a third of every node's 560-byte
    /// slots empty, and a search reads fewer cache lines.
    transactions: BTreeMap<OrderKey, Box<Transaction>>,
}

/// The store: transactions, replies and callback attempts in memory,
/// written through to SQLite when opened with `Store::open`.
pub struct Store {
    shards: Box<[Mutex<Shard>]>,
    /// Amounts accepted per [`DailyKey`] in minor units, sharded by the
    /// key's hash: derived from the transactions, rebuilt on open.
    daily: Box<[Mutex<BTreeMap<HashedDaily, u64>>]>,
    /// Held C2B payments (status 6) per (public_id, customer_id), oldest
    /// first, with their amounts: derived, rebuilt on open.
    holds: Mutex<Holds>,
    attempts: Mutex<AttemptLog>,
    /// Shared with the namespaces' stores (see [`Store::sharing_ids_with`]):
    /// a transaction id is never handed out twice in one simulator.
    serial: Arc<AtomicU64>,
    count: AtomicUsize,
    hasher: RandomState,
    db: Option<Writer>,
    /// HUB2's objects read from the database at open, until the HUB2
    /// state takes them ([`Store::take_hub2`]).
    hub2_loaded: Mutex<Vec<Hub2Object>>,
    /// This process's membership of a database shared by replicas.
    replica: Option<Arc<Replica>>,
    /// The last outbox id handed out (SQLite; see [`Store::next_outbox_id`]).
    outbox_ids: AtomicI64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("transactions", &self.transaction_count())
            .field("persistent", &self.is_persistent())
            .finish_non_exhaustive()
    }
}

impl Default for Store {
    fn default() -> Self {
        Store {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            daily: (0..SHARDS).map(|_| Mutex::default()).collect(),
            holds: Mutex::default(),
            attempts: Mutex::default(),
            serial: Arc::new(AtomicU64::new(0)),
            count: AtomicUsize::new(0),
            hasher: RandomState::new(),
            db: None,
            hub2_loaded: Mutex::default(),
            replica: None,
            outbox_ids: AtomicI64::new(0),
        }
    }
}

impl Store {
    /// An empty in-memory store.
    pub fn new() -> Self {
        Store::default()
    }

    /// An empty in-memory store drawing its transaction ids from the same
    /// sequence as `other` (a namespace's store and its root's).
    pub(crate) fn sharing_ids_with(other: &Store) -> Self {
        Store {
            serial: Arc::clone(&other.serial),
            ..Store::default()
        }
    }

    /// A store kept in the database `--db` names (an SQLite file, created
    /// if missing, WAL mode; or a PostgreSQL URL), with everything it
    /// already holds read back; with `replica`, as one of several replicas
    /// of a PostgreSQL database.
    pub(crate) fn open(
        path: &std::path::Path,
        replica: Option<Joining>,
    ) -> Result<Self, StoreError> {
        let (db, loaded, replica) = Db::open(path, replica)?;
        let writer = Writer::start(db, super::persist::display_target(path))?;
        let store = Store {
            serial: Arc::new(AtomicU64::new(loaded.serial)),
            db: Some(writer),
            hub2_loaded: Mutex::new(loaded.hub2),
            replica,
            outbox_ids: AtomicI64::new(loaded.outbox_id),
            ..Store::default()
        };
        {
            let mut attempts = lock(&store.attempts);
            for attempt in loaded.attempts {
                attempts.push(attempt);
            }
        }
        for tx in loaded.transactions {
            let mut guard = store.lock_order(&tx.public_id, &tx.order_id);
            guard.put(tx);
        }
        Ok(store)
    }

    /// The key of an order: its hash picks its shard and orders the
    /// shard's map (see `order_key`).
    fn key_of<'a>(&self, public_id: &'a str, order_id: &'a str) -> OrderRef<'a> {
        OrderRef::new(
            self.hasher.hash_one((public_id, order_id)),
            public_id,
            order_id,
        )
    }

    fn shard_of(&self, public_id: &str, order_id: &str) -> usize {
        shard_index(&self.key_of(public_id, order_id))
    }

    /// A daily total's key with its hash, which picks its shard.
    fn hashed_daily(&self, key: DailyKey) -> HashedDaily {
        (self.hasher.hash_one(&key), key)
    }

    fn daily_of(&self, key: &HashedDaily) -> &Mutex<BTreeMap<HashedDaily, u64>> {
        &self.daily[(key.0 % SHARDS as u64) as usize]
    }

    /// Locks the shard of one order: everything about that order can be
    /// read and changed through the guard. A replica also locks the order
    /// in the database and reads it back.
    pub fn lock_order(&self, public_id: &str, order_id: &str) -> StoreGuard<'_> {
        let index = self.shard_of(public_id, order_id);
        let guard = StoreGuard {
            store: self,
            held: vec![(index, lock(&self.shards[index]))],
            shared: None,
            shared_error: None,
        };
        guard.share(vec![(public_id.to_owned(), order_id.to_owned())])
    }

    /// Locks the shards of several orders of one merchant at once (in
    /// ascending order, so it never deadlocks with another caller).
    pub fn lock_orders<'a>(
        &self,
        public_id: &str,
        order_ids: impl IntoIterator<Item = &'a str>,
    ) -> StoreGuard<'_> {
        let orders: Vec<(String, String)> = order_ids
            .into_iter()
            .map(|order| (public_id.to_owned(), order.to_owned()))
            .collect();
        let mut indexes: Vec<usize> = orders
            .iter()
            .map(|(public_id, order)| self.shard_of(public_id, order))
            .collect();
        indexes.sort_unstable();
        indexes.dedup();
        let guard = StoreGuard {
            store: self,
            held: indexes
                .into_iter()
                .map(|index| (index, lock(&self.shards[index])))
                .collect(),
            shared: None,
            shared_error: None,
        };
        guard.share(orders)
    }

    /// Whether changes are kept in a database.
    pub fn is_persistent(&self) -> bool {
        self.db.is_some()
    }

    /// Where the state is kept: `memory`, `sqlite` or `postgresql`.
    pub fn storage(&self) -> &'static str {
        self.db.as_ref().map_or("memory", Writer::kind)
    }

    /// A fresh serial number and the transaction id derived from it
    /// (a replica's from the block it reserved in the database).
    pub fn next_ids(&self) -> Result<(u64, String), StoreError> {
        let serial = match &self.replica {
            Some(replica) => replica.next_serial()?,
            None => self
                .serial
                .fetch_add(1, Ordering::Relaxed)
                .saturating_add(1),
        };
        Ok((serial, format!("SIM{serial:010}")))
    }

    /// How many transactions there are (a replica counts every replica's,
    /// in the database).
    pub fn transaction_count(&self) -> usize {
        if let Some(replica) = &self.replica {
            match replica.transaction_count() {
                Ok(n) => return usize::try_from(n).unwrap_or(usize::MAX),
                Err(err) => tracing::error!(error = %err, "cannot count the transactions"),
            }
        }
        self.count.load(Ordering::Relaxed)
    }

    /// Who serves HUB2, for a replica (`None` otherwise).
    pub(crate) fn hub2_lead(&self) -> Option<&Hub2Lead> {
        self.replica.as_deref().map(Replica::hub2)
    }

    /// Whether this store is one of several replicas of one database.
    pub fn is_replica(&self) -> bool {
        self.replica.is_some()
    }

    /// On a clean stop, a replica leaves its group: the others take its
    /// pending work over at once (see `persist::replica`). Blocks for at
    /// most 5 s; nothing to do for a store that is not a replica.
    pub fn leave_replicas(&self) {
        if let Some(replica) = &self.replica {
            replica.leave();
        }
    }

    /// The work taken over from replicas that died, for one task to
    /// receive (`None` when not a replica, and after the first call).
    pub(crate) fn takeovers(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Takeover>> {
        self.replica.as_ref().and_then(|r| r.takeovers())
    }

    /// The id of a new outbox row, handed out here for SQLite so that it
    /// is known before the commit (PostgreSQL's come from its sequence:
    /// `None`).
    pub(crate) fn next_outbox_id(&self) -> Option<i64> {
        let sqlite = self.db.as_ref().is_some_and(|db| db.kind() == "sqlite");
        sqlite.then(|| {
            self.outbox_ids
                .fetch_add(1, Ordering::Relaxed)
                .saturating_add(1)
        })
    }

    /// Whether request work on this store collects a fence instead of
    /// waiting for each commit (see `durability`): SQLite, one
    /// process owning the file.
    pub(crate) fn fences(&self) -> bool {
        self.replica.is_none() && self.db.as_ref().is_some_and(|db| db.kind() == "sqlite")
    }

    /// Waits until every write of `fence` is committed (the error of one
    /// that failed); at once in memory.
    pub(crate) async fn durable(&self, fence: &super::durability::Fence) -> Result<(), StoreError> {
        match &self.db {
            Some(db) => db.durable(fence).await,
            None => Ok(()),
        }
    }

    /// The writer's test hooks (see `group_commit::TestHooks`).
    #[cfg(test)]
    pub(crate) fn writer_hooks(&self) -> Option<Arc<super::group_commit::TestHooks>> {
        self.db.as_ref().map(|db| db.hooks.clone())
    }

    /// A copy of the transaction of `order_id` for merchant `public_id`.
    pub fn get_cloned(&self, public_id: &str, order_id: &str) -> Option<Transaction> {
        self.lock_order(public_id, order_id)
            .get(public_id, order_id)
            .cloned()
    }

    /// Copies of what `select` picks from every transaction, one shard at
    /// a time (not a snapshot of one instant; a replica's: from the
    /// database, without the replies).
    pub fn collect<T>(&self, mut select: impl FnMut(&Transaction) -> Option<T>) -> Vec<T> {
        let mut out = Vec::new();
        // A replica reads every replica's from the database, a page at a
        // time (its memory holds only the orders it touched).
        if let Some(replica) = &self.replica {
            let mut after = 0;
            loop {
                match replica.transactions_after(after, 10_000) {
                    Ok(page) if page.is_empty() => return out,
                    Ok(page) => {
                        after = page.last().map_or(u64::MAX, |tx| tx.serial);
                        out.extend(page.iter().filter_map(&mut select));
                    }
                    Err(err) => {
                        tracing::error!(error = %err, "cannot list every replica's transactions");
                        return out;
                    }
                }
            }
        }
        for shard in self.shards.iter() {
            out.extend(
                lock(shard)
                    .transactions
                    .values()
                    .filter_map(|tx| select(tx)),
            );
        }
        out
    }

    /// The amount accepted so far under `key`, in minor units.
    pub fn daily_total(&self, key: &DailyKey) -> u64 {
        let key = self.hashed_daily(key.clone());
        lock(self.daily_of(&key)).get(&key).copied().unwrap_or(0)
    }

    fn note_hold(&self, tx: &Transaction) {
        let mut holds = lock(&self.holds);
        let list = holds
            .entry((tx.public_id.clone(), tx.customer_id.clone()))
            .or_default();
        if !list.iter().any(|(order, _)| *order == tx.order_id) {
            list.push((tx.order_id.clone(), tx.amount));
        }
    }

    /// Takes the oldest hold of the customer that covers `amount`, if any
    /// (it is no longer listed as a hold). Call it without holding a
    /// [`StoreGuard`].
    pub fn take_hold(&self, public_id: &str, customer_id: &str, amount: Amount) -> Option<String> {
        if let Some(replica) = &self.replica {
            // Every replica's holds, from the database, each checked again
            // under its order's lock.
            let held = replica
                .in_status(public_id, Status::SuccessHold.code())
                .inspect_err(|err| tracing::error!(error = %err, "cannot read the holds"))
                .ok()?;
            return held
                .into_iter()
                .filter(|tx| tx.customer_id == customer_id && tx.amount >= amount)
                .map(|tx| tx.order_id)
                .find(|order| {
                    self.lock_order(public_id, order)
                        .get(public_id, order)
                        .is_some_and(|tx| Status::from(tx.status) == Status::SuccessHold)
                });
        }
        let key = (public_id.to_owned(), customer_id.to_owned());
        loop {
            let candidate = {
                let mut holds = lock(&self.holds);
                let list = holds.get_mut(&key)?;
                let at = list.iter().position(|(_, held)| *held >= amount)?;
                list.remove(at).0
            };
            // Still a hold? (A forced outcome may have settled it.)
            let still = self
                .lock_order(public_id, &candidate)
                .get(public_id, &candidate)
                .is_some_and(|tx| Status::from(tx.status) == Status::SuccessHold);
            if still {
                return Some(candidate);
            }
        }
    }

    /// Records a callback attempt.
    pub fn record_attempt(&self, attempt: CallbackAttempt) {
        self.record_outbox_attempt(attempt, None);
    }

    /// Records a callback attempt and where its outbox delivery stands, in
    /// one database write queued for the next group commit, not waited
    /// for (nobody is answered after it). A write failure is logged: the attempt
    /// stays in memory and, the outbox row still pending, the callback is
    /// sent again after a restart (at least once).
    pub(crate) fn record_outbox_attempt(
        &self,
        attempt: CallbackAttempt,
        outbox: Option<(i64, OutboxProgress)>,
    ) {
        if let Some(db) = &self.db {
            // Queued, not waited for: nobody is answered after it.
            match serde_json::to_string(&attempt) {
                Ok(data) => db.submit(Write::Attempt {
                    data,
                    attempt: attempt.attempt,
                    outbox,
                }),
                Err(err) => tracing::error!(error = %err, "cannot encode a callback attempt"),
            }
        }
        lock(&self.attempts).push(attempt);
    }

    /// HUB2's objects as read from the database at open (once; empty in
    /// memory and afterwards).
    pub(crate) fn take_hub2(&self) -> Vec<Hub2Object> {
        std::mem::take(&mut *lock(&self.hub2_loaded))
    }

    /// Queues HUB2 changes for the next group commit, in the order of the
    /// calls (make it while holding the HUB2 lock, so the database sees
    /// the changes in the order they were made); `None` in memory. Await
    /// the receiver before answering.
    pub(crate) fn enqueue_hub2(
        &self,
        puts: Vec<Hub2Put>,
    ) -> Option<Result<tokio::sync::oneshot::Receiver<Result<Written, StoreError>>, StoreError>>
    {
        self.db.as_ref().map(|db| db.enqueue(Write::Hub2(puts)))
    }

    /// Callbacks still to deliver (always empty in memory: there, pending
    /// deliveries live only in their tasks).
    pub fn pending_callbacks(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        match &self.db {
            // A replica delivers only what it claims (see `persist::replica`).
            Some(_) if self.replica.is_some() => Ok(Vec::new()),
            Some(db) => db.pending_outbox(),
            None => Ok(Vec::new()),
        }
    }

    /// Every attempt, oldest first, optionally only for one order id
    /// (a replica's: every replica's, from the database).
    pub fn attempts(&self, order_id: Option<&str>) -> Vec<CallbackAttempt> {
        // A replica lists every replica's, from the database.
        if let Some(replica) = &self.replica {
            match replica.attempts() {
                Ok(all) => {
                    return all
                        .into_iter()
                        .filter(|a| order_id.is_none_or(|o| a.order_id == o))
                        .collect()
                }
                Err(err) => tracing::error!(error = %err, "cannot list every replica's attempts"),
            }
        }
        lock(&self.attempts)
            .iter()
            .filter(|a| order_id.is_none_or(|o| a.order_id == o))
            .cloned()
            .collect()
    }

    /// Forgets every transaction and callback attempt (and, with a
    /// database, the pending callbacks).
    pub fn reset(&self) {
        let mut shards: Vec<MutexGuard<'_, Shard>> = self.shards.iter().map(lock).collect();
        if let Some(db) = &self.db {
            if let Err(err) = db.write(Write::Reset) {
                tracing::error!(error = %err, "cannot reset the database");
            }
        }
        for shard in &mut shards {
            shard.transactions.clear();
        }
        self.count.store(0, Ordering::Relaxed);
        for daily in self.daily.iter() {
            lock(daily).clear();
        }
        lock(&self.holds).clear();
        *lock(&self.attempts) = AttemptLog::default();
    }
}

/// Some shards of the [`Store`], locked: the transactions whose orders
/// were named when locking, and everything that goes with changing them.
pub struct StoreGuard<'a> {
    store: &'a Store,
    /// Ascending by shard index.
    held: Vec<(usize, MutexGuard<'a, Shard>)>,
    /// A replica's locks on the orders in the database.
    shared: Option<OrderLocks<'a>>,
    /// Why a replica could not lock or read its orders: every write through
    /// this guard fails with it (the memory may be stale).
    shared_error: Option<StoreError>,
}

impl std::fmt::Debug for StoreGuard<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreGuard")
            .field(
                "shards",
                &self.held.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            )
            .field("locked_in_database", &self.shared.is_some())
            .finish()
    }
}

impl<'a> StoreGuard<'a> {
    /// A replica's part of locking: the orders locked in the database too,
    /// and read back into the shards (a row another replica removed is
    /// removed here).
    fn share(mut self, orders: Vec<(String, String)>) -> Self {
        let Some(replica) = &self.store.replica else {
            return self;
        };
        match replica.lock_orders(orders.clone()) {
            Ok((locks, rows)) => {
                self.shared = Some(locks);
                self.refresh(orders, rows);
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot lock orders in the shared database");
                self.shared_error = Some(err);
            }
        }
        self
    }

    fn refresh(&mut self, orders: Vec<(String, String)>, rows: Refreshed) {
        for ((public_id, order_id), row) in orders.into_iter().zip(rows) {
            let store = self.store;
            let key = store.key_of(&public_id, &order_id);
            let Some(shard) = self.shard_mut(&key) else {
                continue;
            };
            match row {
                Some(tx) => {
                    let hold = Status::from(tx.status) == Status::SuccessHold;
                    if hold {
                        store.note_hold(&tx);
                    }
                    if shard
                        .transactions
                        .insert(key.to_owned(), Box::new(tx))
                        .is_none()
                    {
                        store.count.fetch_add(1, Ordering::Relaxed);
                    }
                }
                None => {
                    if shard.transactions.remove(key.as_dyn()).is_some() {
                        store.count.fetch_sub(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }

    /// The error a write must fail with when a replica could not lock.
    fn check_shared(&self) -> Result<(), StoreError> {
        match &self.shared_error {
            Some(err) => Err(err.clone()),
            None => Ok(()),
        }
    }

    fn shard(&self, key: &OrderRef<'_>) -> Option<&Shard> {
        let (index, order_id) = (shard_index(key), key.order_id);
        let at = self.held.binary_search_by_key(&index, |(i, _)| *i).ok();
        debug_assert!(
            at.is_some(),
            "order {order_id:?} read through a guard that does not hold its shard"
        );
        at.map(|at| &*self.held[at].1)
    }

    fn shard_mut(&mut self, key: &OrderRef<'_>) -> Option<&mut Shard> {
        let (index, order_id) = (shard_index(key), key.order_id);
        let at = self.held.binary_search_by_key(&index, |(i, _)| *i).ok();
        debug_assert!(
            at.is_some(),
            "order {order_id:?} changed through a guard that does not hold its shard"
        );
        at.map(|at| &mut *self.held[at].1)
    }

    /// The transaction of `order_id` for merchant `public_id`. Reading it
    /// raises the fence of the work to its last write (see
    /// `durability`): nothing is answered from it before that
    /// write is committed.
    pub fn get(&self, public_id: &str, order_id: &str) -> Option<&Transaction> {
        let key = self.store.key_of(public_id, order_id);
        let tx = self.shard(&key)?.transactions.get(key.as_dyn())?;
        super::durability::note(tx.durable_seq);
        Some(tx)
    }

    /// Same, mutable. The change is in memory only until
    /// [`StoreGuard::persist`].
    pub fn get_mut(&mut self, public_id: &str, order_id: &str) -> Option<&mut Transaction> {
        let key = self.store.key_of(public_id, order_id);
        let tx = self.shard_mut(&key)?.transactions.get_mut(key.as_dyn())?;
        super::durability::note(tx.durable_seq);
        Some(tx)
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

    /// A fresh serial number and the transaction id derived from it.
    pub fn next_ids(&self) -> Result<(u64, String), StoreError> {
        self.check_shared()?;
        self.store.next_ids()
    }

    /// Puts a transaction in its shard and the indexes (no database).
    fn put(&mut self, tx: Transaction) {
        if DailyKey::counts(&tx) {
            let key = self.store.hashed_daily(DailyKey::of(&tx));
            let mut daily = lock(self.store.daily_of(&key));
            let total = daily.entry(key).or_default();
            *total = total.saturating_add(tx.amount.minor());
        }
        self.place(tx);
    }

    /// Puts a transaction in its shard and the holds (not the daily
    /// totals).
    fn place(&mut self, tx: Transaction) {
        if Status::from(tx.status) == Status::SuccessHold {
            self.store.note_hold(&tx);
        }
        let key = self.store.key_of(&tx.public_id, &tx.order_id).to_owned();
        if let Some(shard) = self.shard_mut(&key.as_ref()) {
            if shard.transactions.insert(key, Box::new(tx)).is_none() {
                self.store.count.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

mod attempt_log;
mod order_key;
#[cfg(test)]
mod tests;
mod writes;
