//! SQLite's journal: the changes of a run, in order, folded into the
//! tables when the file is opened.
//!
//! The simulator's commits append to the commit log (`sqlite_log`),
//! written into the tables directly; the journal holds what a release
//! before the log committed, and the writes of a batch that also reads
//! the tables (the pending outbox, a reset), folded before the log.
//!
//! Written in place, one payment changed rows in four tables: its
//! transaction row (twice: accepted, then final), its idempotency record,
//! its callback's outbox row (added, then marked delivered) and the
//! attempt. The rewrites land on pages written milliseconds before and
//! the inserts on the tail of four b-trees, so each commit wrote about
//! ten 4 KiB pages to the write-ahead log for seven writes: 4.2 pages
//! and 38 µs of SQLite's CPU per payment, most of `--db`'s cost over
//! memory (`benches/README.md`). Here every such write is one row (a
//! transaction's replies a row each) appended to `journal`, whose pages
//! fill one after the other: a commit writes the few pages its rows fill.
//!
//! The journal is folded into the tables ([`fold`]) when the database
//! is opened, before anything is read back, oldest row first, each row
//! written in place as it would have been (`sqlite_rows`), in chunks of
//! [`FOLD_CHUNK`] rows, each chunk's writes and the deletion of its rows
//! committed together (a crash during the fold leaves the rest of the
//! journal for the next open). So while a simulator runs, its tables
//! hold the state as of its start and `journal` what changed since; a
//! reader of the file (the `sqlite3` shell) sees both. A reset and the
//! read of the pending outbox take the journal into account.
//!
//! | `kind` | columns |
//! |---|---|
//! | `save`, `save-new` (it replaces any earlier transaction under its order id) | `public_id`, `order_id`, `serial`, `transaction_id`, `status`, `data` (the transaction's JSON); with a callback, its outbox row: `outbox_id`, `operation_type`, `callback_status`, `url`, `body`, `at_ms` (when it was added) |
//! | `reply` (after its `save`) | `public_id`, `order_id`, `operation`, `signature`, `body` (the bytes answered) |
//! | `attempt` | `data` (the attempt's JSON); for an outbox delivery, its progress: `outbox_id`, `attempts`, `state`, `at_ms` (when the next attempt is due) |

use rusqlite::types::Type;
use rusqlite::{params, Row, Transaction};

use super::sqlite_rows::{self, OutboxInsert, Progress};
use super::{OutboxProgress, OutboxRow, TxRow};

/// The journal's table.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    public_id TEXT,
    order_id TEXT,
    serial INTEGER,
    transaction_id TEXT,
    status INTEGER,
    data TEXT,
    operation TEXT,
    signature TEXT,
    body BLOB,
    outbox_id INTEGER,
    operation_type INTEGER,
    callback_status INTEGER,
    url TEXT,
    attempts INTEGER,
    state TEXT,
    at_ms INTEGER
);
";

/// How many journal rows one transaction of [`fold`] writes in place
/// (bounds the write-ahead log a fold grows before a checkpoint).
pub(super) const FOLD_CHUNK: i64 = 10_000;

/// Appends a transaction's row, its replies and, if given, its
/// callback's outbox row (whose id is known: see [`OutboxRow::id`]).
pub(super) fn save(
    db: &Transaction<'_>,
    row: &TxRow,
    new: bool,
    outbox: Option<&OutboxRow>,
    at_ms: i64,
) -> Result<(), rusqlite::Error> {
    db.prepare_cached(
        "INSERT INTO journal (kind, public_id, order_id, serial, transaction_id, status, data,
            outbox_id, operation_type, callback_status, url, body, at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        if new { "save-new" } else { "save" },
        row.public_id,
        row.order_id,
        row.serial,
        row.transaction_id,
        row.status,
        row.data,
        outbox.and_then(|out| out.id),
        outbox.map(|out| out.operation_type),
        outbox.map(|out| out.status),
        outbox.map(|out| out.url.as_str()),
        outbox.map(|out| &out.body[..]),
        outbox.map(|_| at_ms),
    ])?;
    for reply in &row.replies {
        db.prepare_cached(
            "INSERT INTO journal (kind, public_id, order_id, operation, signature, body)
             VALUES ('reply', ?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            row.public_id,
            row.order_id,
            reply.operation.as_str(),
            reply.signature,
            &reply.body[..]
        ])?;
    }
    Ok(())
}

/// Appends a delivery attempt and, for an outbox delivery, its progress.
pub(super) fn attempt(
    db: &Transaction<'_>,
    data: &str,
    attempt: u32,
    outbox: Option<(i64, OutboxProgress)>,
) -> Result<(), rusqlite::Error> {
    let columns = outbox.map(|(_, progress)| progress.columns());
    let state = columns.map(|(state, _)| state);
    let next = columns.map(|(_, next)| i64::try_from(next).unwrap_or(i64::MAX));
    db.prepare_cached(
        "INSERT INTO journal (kind, data, outbox_id, attempts, state, at_ms)
         VALUES ('attempt', ?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        data,
        outbox.map(|(id, _)| id),
        outbox.map(|_| attempt),
        state,
        next
    ])?;
    Ok(())
}

/// Folds the oldest `limit` rows of the journal into the tables, in
/// order, and deletes them; returns how many it folded (0: the journal
/// is empty). A row that cannot be read back is an error naming it.
pub(super) fn fold(db: &Transaction<'_>, limit: i64) -> Result<usize, rusqlite::Error> {
    let mut stmt = db.prepare_cached(
        "SELECT id, kind, public_id, order_id, serial, transaction_id, status, data,
            operation, signature, body, outbox_id, operation_type, callback_status, url,
            attempts, state, at_ms
         FROM journal ORDER BY id LIMIT ?1",
    )?;
    let mut rows = stmt.query([limit])?;
    let mut last = None;
    let mut folded = 0;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        fold_row(db, id, row)?;
        last = Some(id);
        folded += 1;
    }
    drop(rows);
    if let Some(last) = last {
        db.prepare_cached("DELETE FROM journal WHERE id <= ?1")?
            .execute([last])?;
    }
    Ok(folded)
}

/// Folds the whole journal (inside one transaction: for the rare writes
/// that must see the tables up to date, see `sqlite`).
pub(super) fn fold_all(db: &Transaction<'_>) -> Result<(), rusqlite::Error> {
    while fold(db, FOLD_CHUNK)? > 0 {}
    Ok(())
}

/// Writes journal row `id` in place.
fn fold_row(db: &Transaction<'_>, id: i64, row: &Row<'_>) -> Result<(), rusqlite::Error> {
    let kind: String = row.get(1)?;
    match kind.as_str() {
        "save" | "save-new" => {
            let tx = TxRow {
                public_id: row.get(2)?,
                order_id: row.get(3)?,
                serial: row.get(4)?,
                transaction_id: row.get(5)?,
                status: row.get(6)?,
                data: row.get(7)?,
                replies: Vec::new(),
                daily: None,
            };
            sqlite_rows::write_transaction(db, &tx, kind == "save-new")?;
            if let Some(outbox_id) = row.get::<_, Option<i64>>(11)? {
                let body: Vec<u8> = row.get(10)?;
                let url: String = row.get(14)?;
                sqlite_rows::insert_outbox(
                    db,
                    &OutboxInsert {
                        id: Some(outbox_id),
                        public_id: &tx.public_id,
                        order_id: &tx.order_id,
                        operation_type: row.get(12)?,
                        status: row.get(13)?,
                        url: &url,
                        body: &body,
                        at_ms: row.get(17)?,
                    },
                )?;
            }
        }
        "reply" => {
            let (public_id, order_id): (String, String) = (row.get(2)?, row.get(3)?);
            let (operation, signature): (String, String) = (row.get(8)?, row.get(9)?);
            let body: Vec<u8> = row.get(10)?;
            sqlite_rows::insert_reply(db, &public_id, &order_id, &operation, &signature, &body)?;
        }
        "attempt" => {
            let data: String = row.get(7)?;
            match row.get::<_, Option<i64>>(11)? {
                Some(outbox_id) => {
                    let state: String = row.get(16)?;
                    let progress = Progress {
                        outbox_id,
                        attempts: row.get(15)?,
                        state: &state,
                        next_attempt_ms: row.get(17)?,
                    };
                    sqlite_rows::record_attempt(db, &data, Some(&progress))?;
                }
                None => sqlite_rows::record_attempt(db, &data, None)?,
            }
        }
        other => {
            return Err(rusqlite::Error::FromSqlConversionFailure(
                1,
                Type::Text,
                format!("journal row {id} has an unknown kind {other:?}").into(),
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use rusqlite::Connection;

    use super::super::sqlite_rows::{self, OutboxInsert, Progress, SCHEMA};
    use super::super::{OutboxProgress, OutboxRow, TxRow};
    use super::{attempt, fold, save};
    use crate::simulator::operation::OperationKind;
    use crate::simulator::transaction::StoredReply;

    fn database() -> Connection {
        let conn = Connection::open_in_memory().expect("an in-memory database");
        conn.execute_batch(SCHEMA)
            .and_then(|()| conn.execute_batch(super::SCHEMA))
            .expect("the schema");
        conn
    }

    fn tx(order_id: &str, serial: i64, status: i64, reply: Option<&str>) -> TxRow {
        TxRow {
            public_id: "m".into(),
            order_id: order_id.into(),
            serial,
            transaction_id: format!("SIM{serial}"),
            status,
            data: format!(r#"{{"serial":{serial},"status":{status}}}"#),
            replies: reply
                .map(|body| StoredReply {
                    operation: OperationKind::PaymentC2b,
                    signature: format!("sig-{body}"),
                    body: Bytes::copy_from_slice(body.as_bytes()),
                })
                .into_iter()
                .collect(),
            daily: None,
        }
    }

    /// Every table's rows, in a fixed order, as text.
    fn dump(conn: &Connection) -> Vec<String> {
        let mut out = Vec::new();
        for sql in [
            "SELECT public_id, order_id, serial, transaction_id, status, data FROM transactions ORDER BY order_id",
            "SELECT public_id, order_id, operation, signature, body FROM replies ORDER BY order_id, signature",
            "SELECT id, public_id, order_id, operation_type, status, url, body, attempts, next_attempt_ms, state FROM outbox ORDER BY id",
            "SELECT id, data FROM callback_attempts ORDER BY id",
        ] {
            let mut stmt = conn.prepare(sql).expect("a query");
            let columns = stmt.column_count();
            let rows = stmt
                .query_map([], |row| {
                    (0..columns)
                        .map(|i| row.get::<_, rusqlite::types::Value>(i).map(|v| format!("{v:?}")))
                        .collect::<Result<Vec<_>, _>>()
                })
                .expect("rows");
            for row in rows {
                out.push(row.expect("a row").join("|"));
            }
        }
        out
    }

    #[test]
    fn folding_the_journal_writes_the_tables_as_writing_in_place_does() {
        let callback = OutboxRow {
            id: Some(7),
            operation_type: 17,
            status: 2,
            url: "http://127.0.0.1:9/cb".into(),
            body: Bytes::from_static(b"{\"status\":2}"),
        };
        let steps: Vec<(TxRow, bool, bool)> = vec![
            // accepted with its reply; its outcome with a callback; the
            // same order id accepted again (the earlier reply goes).
            (tx("o-1", 1, 1, Some("first")), true, false),
            (tx("o-2", 2, 1, Some("second")), true, false),
            (tx("o-1", 1, 2, None), false, true),
            (tx("o-1", 3, 1, Some("again")), true, false),
        ];
        let progress = [
            (
                7,
                OutboxProgress::Retry {
                    next_attempt_ms: 123,
                },
            ),
            (7, OutboxProgress::Delivered),
        ];

        let mut journaled = database();
        let db = journaled.transaction().expect("a transaction");
        for (row, new, with_callback) in &steps {
            save(&db, row, *new, with_callback.then_some(&callback), 99).expect("appended");
        }
        for (n, (id, step)) in progress.iter().enumerate() {
            attempt(
                &db,
                &format!("attempt {n}"),
                n as u32 + 1,
                Some((*id, *step)),
            )
            .expect("appended");
        }
        attempt(&db, "an attempt of no outbox row", 1, None).expect("appended");
        // Small chunks: a chunk may end between a save and its reply.
        while fold(&db, 3).expect("folded") > 0 {}
        db.commit().expect("committed");
        let left: i64 = journaled
            .query_row("SELECT count(*) FROM journal", [], |row| row.get(0))
            .expect("a count");
        assert_eq!(left, 0, "the folded rows are deleted");

        let mut in_place = database();
        let db = in_place.transaction().expect("a transaction");
        for (row, new, with_callback) in &steps {
            sqlite_rows::write_transaction(&db, row, *new).expect("written");
            if *with_callback {
                sqlite_rows::insert_outbox(
                    &db,
                    &OutboxInsert {
                        id: callback.id,
                        public_id: &row.public_id,
                        order_id: &row.order_id,
                        operation_type: callback.operation_type,
                        status: callback.status,
                        url: &callback.url,
                        body: &callback.body,
                        at_ms: 99,
                    },
                )
                .expect("written");
            }
        }
        for (n, (id, step)) in progress.iter().enumerate() {
            let (state, next) = step.columns();
            let progress = Progress {
                outbox_id: *id,
                attempts: n as i64 + 1,
                state,
                next_attempt_ms: next as i64,
            };
            sqlite_rows::record_attempt(&db, &format!("attempt {n}"), Some(&progress))
                .expect("written");
        }
        sqlite_rows::record_attempt(&db, "an attempt of no outbox row", None).expect("written");
        db.commit().expect("committed");

        let (folded, written) = (dump(&journaled), dump(&in_place));
        assert_eq!(folded, written);
        assert!(
            folded.iter().any(|row| row.contains("\"delivered\"")),
            "{folded:#?}"
        );
        assert!(
            !folded.iter().any(|row| row.contains("sig-first")),
            "the reply of the replaced transaction is gone: {folded:#?}"
        );
    }

    #[test]
    fn a_journal_row_that_cannot_be_read_back_is_an_error_naming_it() {
        let mut conn = database();
        conn.execute_batch(
            "INSERT INTO journal (kind, data) VALUES ('attempt', 'fine');
             INSERT INTO journal (kind) VALUES ('a kind from elsewhere');",
        )
        .expect("rows");
        let db = conn.transaction().expect("a transaction");
        let err = fold(&db, 10).expect_err("an unknown kind");
        assert!(
            err.to_string().contains("journal row 2")
                && err.to_string().contains("a kind from elsewhere"),
            "{err}"
        );
        drop(db);
        // A save row without its transaction's columns.
        conn.execute_batch("DELETE FROM journal; INSERT INTO journal (kind) VALUES ('save');")
            .expect("rows");
        let db = conn.transaction().expect("a transaction");
        assert!(fold(&db, 10).is_err(), "a save row without its columns");
    }
}
