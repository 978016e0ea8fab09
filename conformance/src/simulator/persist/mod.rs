//! Where the [`Store`](super::state::Store) keeps its state
//! (`paygate simulate --db FILE|URL`, [`SimulatorConfig::db`](super::SimulatorConfig::db)):
//! an SQLite file (`sqlite`) or a PostgreSQL database (`postgresql`),
//! the same tables and the same writes in both.
//!
//! # What is kept
//!
//! | table | rows |
//! |---|---|
//! | `transactions` | one per `(public_id, order_id)`: the whole transaction as JSON (status, history, planned outcome, what it awaits) |
//! | `replies` | the idempotency records: `(public_id, order_id, operation, signature)` → the exact response bytes sent |
//! | `outbox` | one per callback to deliver: URL, the signed body, attempts made, next attempt time, `pending` / `delivered` / `abandoned` |
//! | `callback_attempts` | every delivery attempt (what `GET /_sim/callbacks` lists) |
//! | `daily_amounts` | PostgreSQL only: each payment's amount under its daily key (customer, provider, direction, day); replicas check the daily maximum against their sum (SQLite's totals are rebuilt from the transactions) |
//! | `replicas` | PostgreSQL only: the replicas of `--replica` and their last heartbeat |
//! | `meta` | the last serial handed out (transaction ids are never reused, also across resets and restarts; SQLite writes it at a reset, from the rows it deletes, and otherwise reads it back from the largest serial stored), and SQLite's last outbox id at a reset |
//! | `journal` | SQLite only: changes not yet folded into the tables above, one row per transaction state, idempotency record or delivery attempt (from a release before the commit log, or a batch that read the tables; see `sqlite_journal`). A running simulator appends its commits to the log beside the file, `FILE-log`, written into the tables when the file is opened again (see `sqlite_log`) |
//! | `hub2_objects` | HUB2's state, one row per object as JSON: intents, transfers, webhooks (with their secrets and rotation time), balances, provider credentials, webhook delivery attempts and the bank-transfer serial (see `hub2::persist`) |
//!
//! One simulator owns its database while it runs: a second one on the
//! same file or database fails to start rather than handing out the same
//! transaction ids (see each backend for how), unless every simulator on
//! a PostgreSQL database is started with `--replica` (see `replica`; the
//! `replicas` table lists them, the outbox's `owner` names who delivers
//! each callback). Durability differs: see `sqlite` and `postgresql`.
//!
//! # When
//!
//! Every change is one write, committed in a batch with the writes of
//! other requests (group commit, see `group_commit`; a write that fails
//! is refused alone, the others of its batch go on) **before** the HTTP
//! answer is sent:
//!
//! * an accepted payment: its transaction row, its idempotency record and
//!   the stored response (and, PostgreSQL, the new last serial);
//! * a transaction becoming final: its new state and its callback's outbox
//!   row (so a crash leaves either neither, and the outcome timer is
//!   re-armed on restart, or both, and the delivery is resumed);
//! * a delivery attempt: the attempt and the outbox row's progress. This
//!   one is queued without waiting for its commit (nobody is answered
//!   after it): a crash before the commit leaves the outbox row pending,
//!   and the callback is sent again (at least once, as promised).
//!
//! A replay of a request never answers what is not yet committed: with
//! PostgreSQL it waits for the shard's lock, held until the commit; with
//! SQLite the shard's lock is released at once, and the replay, having
//! read the order, awaits the same commit as the request that wrote it
//! (see `durability`).

mod postgres_outbox;
mod postgresql;
pub(crate) mod replica;
mod sqlite;
mod sqlite_checkpoint;
mod sqlite_journal;
mod sqlite_log;

#[cfg(test)]
pub(crate) use sqlite_log::entries_of as logged_entries;
mod sqlite_rows;

pub use replica::ReplicaOptions;

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;

use super::outcome::Outcome;
use super::transaction::{Awaiting, CallbackAttempt, DailyKey, StoredReply, Transaction};
use replica::Replica;

/// Why the database could not be opened, read or written.
#[derive(Clone, Debug, thiserror::Error)]
#[error("simulator database {path}: {message}")]
pub struct StoreError {
    /// The database file.
    pub path: String,
    /// What failed.
    pub message: String,
}

/// A callback waiting to be delivered, as kept in the outbox.
#[derive(Clone, Debug)]
pub struct OutboxEntry {
    /// The outbox row.
    pub id: i64,
    /// The merchant's public id.
    pub public_id: String,
    /// The order the callback is about.
    pub order_id: String,
    /// The callback's `operation_type`.
    pub operation_type: i64,
    /// The callback's `status`.
    pub status: i64,
    /// Where it goes.
    pub url: String,
    /// The signed body, byte for byte.
    pub body: Bytes,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (milliseconds since the epoch).
    pub next_attempt_ms: u64,
}

/// A callback to add to the outbox with a transaction's final state.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NewOutbox<'a> {
    pub(crate) operation_type: i64,
    pub(crate) status: i64,
    pub(crate) url: &'a str,
    pub(crate) body: &'a [u8],
}

/// Where a delivery stands after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OutboxProgress {
    /// The merchant answered 200.
    Delivered,
    /// No attempt left.
    Abandoned,
    /// Another attempt is due at this time (ms since the epoch).
    Retry { next_attempt_ms: u64 },
}

impl OutboxProgress {
    /// The outbox row's `state` and `next_attempt_ms` columns after it.
    pub(crate) fn columns(self) -> (&'static str, u64) {
        match self {
            OutboxProgress::Delivered => ("delivered", 0),
            OutboxProgress::Abandoned => ("abandoned", 0),
            OutboxProgress::Retry { next_attempt_ms } => ("pending", next_attempt_ms),
        }
    }
}

/// What was in the database when it was opened.
pub(crate) struct Loaded {
    pub(crate) transactions: Vec<Transaction>,
    pub(crate) attempts: Vec<CallbackAttempt>,
    pub(crate) serial: u64,
    pub(crate) hub2: Vec<Hub2Object>,
    /// The largest outbox id ever handed out (SQLite; 0 for PostgreSQL,
    /// whose ids come from its sequence).
    pub(crate) outbox_id: i64,
}

impl Loaded {
    /// What a backend read: the transactions by order (in serial order
    /// here), and the last serial handed out, which is never below the
    /// largest one stored.
    fn new(
        transactions: std::collections::HashMap<(String, String), Transaction>,
        attempts: Vec<CallbackAttempt>,
        stored_serial: u64,
        hub2: Vec<Hub2Object>,
    ) -> Loaded {
        let mut transactions: Vec<Transaction> = transactions.into_values().collect();
        transactions.sort_by_key(|tx| tx.serial);
        let serial = transactions
            .iter()
            .map(|tx| tx.serial)
            .max()
            .unwrap_or(0)
            .max(stored_serial);
        Loaded {
            transactions,
            attempts,
            serial,
            hub2,
            outbox_id: 0,
        }
    }
}

/// One HUB2 object as kept: its kind (`intent`, `transfer`, ...), its id
/// within the kind, and its JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Hub2Object {
    pub(crate) kind: String,
    pub(crate) id: String,
    pub(crate) doc: String,
}

/// A change to one HUB2 object: its new JSON, or `None` to delete it.
/// The kind [`HUB2_ALL`] with `None` deletes every HUB2 object (a reset).
#[derive(Clone, Debug)]
pub(crate) struct Hub2Put {
    pub(crate) kind: &'static str,
    pub(crate) id: String,
    pub(crate) doc: Option<String>,
}

/// The kind of a [`Hub2Put`] that stands for every HUB2 object.
pub(crate) const HUB2_ALL: &str = "*";

/// The persisted form of a transaction: the public fields plus the ones
/// the public serialization skips (replies are kept in their own table).
type TxRecord = (Transaction, Option<Outcome>, Awaiting);

/// A callback to add to the outbox with a transaction's final state
/// (owned: it is queued for the writer).
#[derive(Clone, Debug)]
pub(crate) struct OutboxRow {
    /// Its id, when the simulator hands them out (SQLite: known before the
    /// commit, see `durability`); `None`: the database picks it.
    pub(crate) id: Option<i64>,
    pub(crate) operation_type: i64,
    pub(crate) status: i64,
    pub(crate) url: String,
    pub(crate) body: Bytes,
}

impl From<NewOutbox<'_>> for OutboxRow {
    fn from(out: NewOutbox<'_>) -> Self {
        OutboxRow {
            id: None,
            operation_type: out.operation_type,
            status: out.status,
            url: out.url.to_owned(),
            body: Bytes::copy_from_slice(out.body),
        }
    }
}

/// A transaction as written: its row's key, columns and JSON, and its
/// replies (encoded by the caller, so a commit only writes).
#[derive(Clone, Debug)]
pub(crate) struct TxRow {
    public_id: String,
    order_id: String,
    serial: i64,
    transaction_id: String,
    status: i64,
    data: String,
    replies: Vec<StoredReply>,
    /// The daily total it counts towards and its amount in minor units
    /// (PostgreSQL keeps the totals for replicas; SQLite rebuilds them).
    daily: Option<(String, i64)>,
}

impl TxRow {
    /// The row of `tx` with its replies.
    pub(crate) fn of(tx: &Transaction) -> Result<TxRow, serde_json::Error> {
        let mut row = TxRow::state_of(tx)?;
        row.replies.clone_from(&tx.replies);
        Ok(row)
    }

    /// The row of `tx` without its replies: for a change of state only
    /// (an outcome), whose replies were written with the requests that
    /// made them.
    pub(crate) fn state_of(tx: &Transaction) -> Result<TxRow, serde_json::Error> {
        let daily = DailyKey::counts(tx).then(|| {
            (
                DailyKey::of(tx).text(),
                i64::try_from(tx.amount.minor()).unwrap_or(i64::MAX),
            )
        });
        Ok(TxRow {
            daily,
            public_id: tx.public_id.clone(),
            order_id: tx.order_id.clone(),
            serial: i64::try_from(tx.serial).unwrap_or(i64::MAX),
            transaction_id: tx.transaction_id.clone(),
            status: tx.status,
            data: encode(tx)?,
            replies: Vec::new(),
        })
    }
}

/// One write to the database.
#[derive(Debug)]
pub(crate) enum Write {
    /// A transaction's row and replies (`new`: it replaces any earlier one
    /// under the same order id, and the last serial moves on), with a new
    /// outbox row if given.
    Save {
        row: TxRow,
        new: bool,
        outbox: Option<Box<OutboxRow>>,
    },
    /// New transactions, all or none.
    SaveMany(Vec<TxRow>),
    /// A delivery attempt (JSON) and, for an outbox delivery, its progress.
    Attempt {
        data: String,
        attempt: u32,
        outbox: Option<(i64, OutboxProgress)>,
    },
    /// Every delivery still pending, oldest first (a read).
    PendingOutbox,
    /// Forgets transactions, replies, the outbox and the attempts (keeps
    /// the serial).
    Reset,
    /// HUB2 objects changed, in order.
    Hub2(Vec<Hub2Put>),
}

impl Write {
    fn what(&self) -> &'static str {
        match self {
            Write::Save { .. } => "cannot save a transaction",
            Write::SaveMany(_) => "cannot save a bulk of transactions",
            Write::Attempt { .. } => "cannot record a callback attempt",
            Write::PendingOutbox => "cannot read the outbox",
            Write::Reset => "cannot reset",
            Write::Hub2(_) => "cannot save HUB2 state",
        }
    }
}

/// What a [`Write`] gave back.
#[derive(Debug)]
pub(crate) enum Written {
    /// Done (the new outbox row's id, if one was added).
    Saved(Option<i64>),
    /// The pending deliveries.
    Pending(Vec<OutboxEntry>),
}

/// A row of the `replies` table: public id, order id, operation,
/// signature, body.
type ReplyRow = (String, String, String, String, Vec<u8>);

/// Puts a row of the `replies` table back on its transaction, read at
/// open (a reply whose transaction is gone is skipped); the error names an
/// unknown operation.
fn attach_reply(
    transactions: &mut std::collections::HashMap<(String, String), Transaction>,
    (public_id, order_id, operation, signature, body): ReplyRow,
) -> Result<(), String> {
    let operation = super::operation::OperationKind::from_name(&operation)
        .ok_or_else(|| format!("operation {operation:?}"))?;
    if let Some(tx) = transactions.get_mut(&(public_id, order_id)) {
        tx.replies.push(StoredReply {
            operation,
            signature,
            body: Bytes::from(body),
        });
    }
    Ok(())
}

/// A transaction row's JSON: the transaction, its planned outcome and what
/// it awaits.
fn encode(tx: &Transaction) -> Result<String, serde_json::Error> {
    serde_json::to_string(&(tx, &tx.planned, &tx.awaiting))
}

/// Decodes a transaction row's JSON (see [`encode`]).
fn decode(data: &str) -> Result<Transaction, serde_json::Error> {
    let (mut tx, planned, awaiting): TxRecord = serde_json::from_str(data)?;
    tx.planned = planned;
    tx.awaiting = awaiting;
    Ok(tx)
}

/// Whether `--db` names a PostgreSQL database (`postgres://` or
/// `postgresql://`) rather than an SQLite file.
pub(crate) fn is_postgres_url(target: &Path) -> bool {
    target
        .to_str()
        .is_some_and(|t| t.starts_with("postgres://") || t.starts_with("postgresql://"))
}

/// `target` as errors and logs show it: a file's path, or a PostgreSQL
/// URL without its password.
pub(crate) fn display_target(target: &Path) -> String {
    if is_postgres_url(target) {
        postgresql::redacted(&target.to_string_lossy())
    } else {
        target.display().to_string()
    }
}

/// The database of a running simulator, owned by `group_commit`'s
/// writer.
#[derive(Debug)]
pub(crate) enum Db {
    Sqlite(Box<sqlite::SqliteDb>),
    Postgres(Box<postgresql::PostgresDb>),
}

impl Db {
    /// Opens (or creates) the database `--db` names and reads everything
    /// back; with `replica`, joins it as one of several replicas (PostgreSQL
    /// only).
    pub(crate) fn open(
        target: &Path,
        replica: Option<replica::Joining>,
    ) -> Result<(Db, Loaded, Option<Arc<Replica>>), StoreError> {
        if is_postgres_url(target) {
            let (db, loaded, replica) =
                postgresql::PostgresDb::open(&target.to_string_lossy(), replica)?;
            Ok((Db::Postgres(Box::new(db)), loaded, replica))
        } else if replica.is_some() {
            Err(StoreError {
                path: display_target(target),
                message: "replicas share a PostgreSQL database: --replica needs \
                          --db postgres://..."
                    .into(),
            })
        } else {
            let (db, loaded) = sqlite::SqliteDb::open(target)?;
            Ok((Db::Sqlite(Box::new(db)), loaded, None))
        }
    }

    /// `sqlite` or `postgresql`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgresql",
        }
    }

    /// Applies a batch of writes in one database transaction; one result
    /// per write, in order (see each backend).
    pub(crate) fn apply_batch(&mut self, batch: &[&Write]) -> Vec<Result<Written, StoreError>> {
        match self {
            Db::Sqlite(db) => db.apply_batch(batch),
            Db::Postgres(db) => db.apply_batch(batch),
        }
    }
}
