//! The rows of SQLite's tables, written in place: a transaction and its
//! replies, an outbox row, a delivery attempt and its outbox progress.
//!
//! The simulator's commits append to the commit log instead
//! (`sqlite_log`); these writes are what writing the log into the tables
//! does with each of its entries, and folding the journal
//! (`sqlite_journal`) with each of its rows, in the order they were
//! committed.

use rusqlite::{params, Transaction};

use super::{OutboxRow, TxRow};

/// The tables, created where missing (an older file keeps its own).
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS transactions (
    public_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    serial INTEGER NOT NULL,
    transaction_id TEXT NOT NULL,
    status INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (public_id, order_id)
);
CREATE TABLE IF NOT EXISTS replies (
    public_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    signature TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (public_id, order_id, operation, signature)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    public_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    operation_type INTEGER NOT NULL,
    status INTEGER NOT NULL,
    url TEXT NOT NULL,
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
);
DROP INDEX IF EXISTS outbox_pending;
CREATE TABLE IF NOT EXISTS callback_attempts (
    id INTEGER PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hub2_objects (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
";

/// A callback's outbox row, as folded: its id is always known (SQLite's
/// ids are handed out by the simulator, see `durability`).
pub(super) struct OutboxInsert<'a> {
    pub(super) id: Option<i64>,
    pub(super) public_id: &'a str,
    pub(super) order_id: &'a str,
    pub(super) operation_type: i64,
    pub(super) status: i64,
    pub(super) url: &'a str,
    pub(super) body: &'a [u8],
    /// When it was added: its first attempt is due then (milliseconds
    /// since the epoch).
    pub(super) at_ms: i64,
}

/// Where a delivery stands after an attempt, as the outbox row keeps it.
pub(super) struct Progress<'a> {
    pub(super) outbox_id: i64,
    pub(super) attempts: i64,
    /// `pending`, `delivered` or `abandoned`.
    pub(super) state: &'a str,
    pub(super) next_attempt_ms: i64,
}

/// Writes one transaction row and its replies (`new`: it replaces any
/// earlier transaction under the same order id, whose replies go).
pub(super) fn write_transaction(
    db: &Transaction<'_>,
    row: &TxRow,
    new: bool,
) -> Result<(), rusqlite::Error> {
    if new {
        db.prepare_cached("DELETE FROM replies WHERE public_id = ?1 AND order_id = ?2")?
            .execute(params![row.public_id, row.order_id])?;
    }
    db.prepare_cached(
        "INSERT INTO transactions (public_id, order_id, serial, transaction_id, status, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (public_id, order_id) DO UPDATE SET
            serial = excluded.serial, transaction_id = excluded.transaction_id,
            status = excluded.status, data = excluded.data",
    )?
    .execute(params![
        row.public_id,
        row.order_id,
        row.serial,
        row.transaction_id,
        row.status,
        row.data
    ])?;
    for reply in &row.replies {
        insert_reply(
            db,
            &row.public_id,
            &row.order_id,
            reply.operation.as_str(),
            &reply.signature,
            &reply.body,
        )?;
    }
    Ok(())
}

/// Writes a transaction ([`write_transaction`]) and, if given, adds its
/// callback's outbox row (added at `at_ms`); returns the row's id.
pub(super) fn save(
    db: &Transaction<'_>,
    row: &TxRow,
    new: bool,
    outbox: Option<&OutboxRow>,
    at_ms: i64,
) -> Result<Option<i64>, rusqlite::Error> {
    write_transaction(db, row, new)?;
    outbox
        .map(|out| {
            insert_outbox(
                db,
                &OutboxInsert {
                    id: out.id,
                    public_id: &row.public_id,
                    order_id: &row.order_id,
                    operation_type: out.operation_type,
                    status: out.status,
                    url: &out.url,
                    body: &out.body,
                    at_ms,
                },
            )
        })
        .transpose()
}

/// Keeps one idempotency record (a second one with the same key is
/// ignored: it holds the same bytes).
pub(super) fn insert_reply(
    db: &Transaction<'_>,
    public_id: &str,
    order_id: &str,
    operation: &str,
    signature: &str,
    body: &[u8],
) -> Result<(), rusqlite::Error> {
    db.prepare_cached(
        "INSERT OR IGNORE INTO replies (public_id, order_id, operation, signature, body)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![public_id, order_id, operation, signature, body])?;
    Ok(())
}

/// Adds a callback to the outbox, pending; returns its id.
pub(super) fn insert_outbox(
    db: &Transaction<'_>,
    out: &OutboxInsert<'_>,
) -> Result<i64, rusqlite::Error> {
    db.prepare_cached(
        "INSERT INTO outbox (id, public_id, order_id, operation_type, status, url, body, attempts, next_attempt_ms, state)
         VALUES (?8, ?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, 'pending')",
    )?
    .execute(params![
        out.public_id,
        out.order_id,
        out.operation_type,
        out.status,
        out.url,
        out.body,
        out.at_ms,
        out.id
    ])?;
    Ok(db.last_insert_rowid())
}

/// Records a delivery attempt (its JSON) and, for an outbox delivery,
/// where the delivery stands.
pub(super) fn record_attempt(
    db: &Transaction<'_>,
    data: &str,
    progress: Option<&Progress<'_>>,
) -> Result<(), rusqlite::Error> {
    db.prepare_cached("INSERT INTO callback_attempts (data) VALUES (?1)")?
        .execute(params![data])?;
    if let Some(progress) = progress {
        db.prepare_cached(
            "UPDATE outbox SET attempts = ?2, state = ?3, next_attempt_ms = ?4 WHERE id = ?1",
        )?
        .execute(params![
            progress.outbox_id,
            progress.attempts,
            progress.state,
            progress.next_attempt_ms
        ])?;
    }
    Ok(())
}
