//! How a guard's changes reach the database: each change is one
//! [`Write`], either committed before the call returns or, inside work
//! that collects a fence (SQLite, see [`crate::simulator::durability`]),
//! queued with its number noted in the fence and on the transaction.

use super::{lock, DailyKey, InsertRefused, StoreGuard, Transaction};
use crate::simulator::durability;
use crate::simulator::group_commit::Writer;
use crate::simulator::persist::{NewOutbox, OutboxRow, StoreError, TxRow, Write};

impl StoreGuard<'_> {
    /// Whether writes made now are queued under a fence instead of waited
    /// for: SQLite (one process owns the file, so memory is the truth
    /// between commits), inside work collecting a fence.
    fn fenced(&self) -> bool {
        self.store.fences() && durability::collecting()
    }

    /// Writes `write`: committed before returning (the outbox id the
    /// database gave, number 0), or, in fenced work, queued (no id, and its
    /// number, already noted in the fence).
    fn save(&self, db: &Writer, write: Write) -> Result<(Option<i64>, u64), StoreError> {
        if self.fenced() {
            let seq = db.save_fenced(write)?;
            durability::note(seq);
            Ok((None, seq))
        } else {
            db.save(write).map(|id| (id, 0))
        }
    }

    /// Adds (or replaces) a transaction with its replies. With a database,
    /// it is committed first (or, in fenced work, queued); if that fails,
    /// nothing changes.
    pub fn insert(&mut self, mut tx: Transaction) -> Result<(), StoreError> {
        self.check_shared()?;
        if let Some(db) = &self.store.db {
            let row = db.row(&tx)?;
            let (_, seq) = self.save(
                db,
                Write::Save {
                    row,
                    new: true,
                    outbox: None,
                },
            )?;
            tx.durable_seq = seq;
        }
        self.put(tx);
        Ok(())
    }

    /// Adds a new payment unless it would take its customer's total of the
    /// day past `daily_max` (minor units; `None`: no maximum). The check,
    /// the database write and the count happen under the daily total's
    /// lock, so two payments of one customer racing on different orders
    /// cannot both pass.
    pub fn insert_within_daily(
        &mut self,
        mut tx: Transaction,
        daily_max: Option<u64>,
    ) -> Result<(), InsertRefused> {
        if !DailyKey::counts(&tx) {
            return self.insert(tx).map_err(InsertRefused::Storage);
        }
        self.check_shared().map_err(InsertRefused::Storage)?;
        let store = self.store;
        let key = store.hashed_daily(DailyKey::of(&tx));
        let mut daily = lock(store.daily_of(&key));
        // A replica counts what every replica accepted (locked in the
        // database until this guard is dropped, after the commit).
        let so_far = match self.shared.as_ref().filter(|_| daily_max.is_some()) {
            Some(shared) => shared
                .daily_total(&key.1.text())
                .map_err(InsertRefused::Storage)?,
            None => daily.get(&key).copied().unwrap_or(0),
        };
        let after = so_far.saturating_add(tx.amount.minor());
        if daily_max.is_some_and(|max| after > max) {
            return Err(InsertRefused::DailyMaximum { so_far });
        }
        if let Some(db) = &store.db {
            let (_, seq) = db
                .row(&tx)
                .and_then(|row| {
                    self.save(
                        db,
                        Write::Save {
                            row,
                            new: true,
                            outbox: None,
                        },
                    )
                })
                .map_err(InsertRefused::Storage)?;
            tx.durable_seq = seq;
        }
        daily.insert(key, after);
        drop(daily);
        self.place(tx);
        Ok(())
    }

    /// Adds new transactions together: with a database, in one commit (all
    /// or none); if that fails, nothing changes. The guard must hold the
    /// shard of every one.
    pub fn insert_all(&mut self, mut txs: Vec<Transaction>) -> Result<(), StoreError> {
        self.check_shared()?;
        if let Some(db) = &self.store.db {
            let rows = txs.iter().map(|tx| db.row(tx)).collect::<Result<_, _>>()?;
            let (_, seq) = self.save(db, Write::SaveMany(rows))?;
            for tx in &mut txs {
                tx.durable_seq = seq;
            }
        }
        for tx in txs {
            self.put(tx);
        }
        Ok(())
    }

    /// Notes a transaction that just became a hold (status 6).
    pub fn note_hold(&self, tx: &Transaction) {
        self.store.note_hold(tx);
    }

    /// Writes the current state of the transaction `tx` is a copy of (its
    /// replies included) to the database. A no-op in memory.
    pub fn persist(&mut self, tx: &Transaction) -> Result<(), StoreError> {
        self.save_state(tx, None, TxRow::of).map(|_| ())
    }

    /// Writes the new state of the transaction `tx` is a copy of (an
    /// outcome: its replies are unchanged, and not written again), adding
    /// a callback to the outbox in the same database transaction; returns
    /// the outbox id (`None` in memory).
    pub(crate) fn persist_with_callback(
        &mut self,
        tx: &Transaction,
        callback: Option<NewOutbox<'_>>,
    ) -> Result<Option<i64>, StoreError> {
        self.save_state(tx, callback, TxRow::state_of)
    }

    /// Writes `tx` as `row` encodes it, with `callback`.
    fn save_state(
        &mut self,
        tx: &Transaction,
        callback: Option<NewOutbox<'_>>,
        row: fn(&Transaction) -> Result<TxRow, serde_json::Error>,
    ) -> Result<Option<i64>, StoreError> {
        self.check_shared()?;
        let Some(db) = &self.store.db else {
            return Ok(None);
        };
        let outbox = callback.map(|callback| {
            let mut row = OutboxRow::from(callback);
            row.id = self.store.next_outbox_id();
            Box::new(row)
        });
        let given = outbox.as_ref().and_then(|row| row.id);
        let row = row(tx).map_err(|e| db.encoding_error(e))?;
        let write = Write::Save {
            row,
            new: false,
            outbox,
        };
        let (id, seq) = self.save(db, write)?;
        if seq > 0 {
            if let Some(stored) = self.get_mut(&tx.public_id, &tx.order_id) {
                stored.durable_seq = seq;
            }
        }
        Ok(given.or(id))
    }
}
