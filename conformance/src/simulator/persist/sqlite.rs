//! The SQLite backend (`--db FILE`).
//!
//! The simulator holds an exclusive lock on the file for as long as it
//! runs (see [`lock_file`]): a second simulator on the same file fails to
//! start ("locked by another process") rather than handing out the same
//! transaction ids. The kernel drops the lock when the process dies, so a
//! restart after SIGKILL opens the file at once. Two connections work on
//! it: the writer's (behind `group_commit`'s lock, used by whichever
//! thread commits) and the one that
//! checkpoints the write-ahead log (`sqlite_checkpoint`).
//!
//! Transactions, replies, outbox rows and delivery attempts are appended
//! to the commit log beside the file (`sqlite_log`) and written into
//! their tables (`sqlite_rows`) when the file is opened, or before a
//! write that reads the tables (after the older rows of the journal,
//! `sqlite_journal`); HUB2's objects and the meta rows are written in
//! place.
//!
//! # Durability
//!
//! The database runs in WAL mode with `synchronous=NORMAL`. A commit
//! appends the changed pages to the write-ahead log with `write(2)` and
//! returns without `fsync`: once `COMMIT` returns, the data is in the
//! operating system's page cache and survives the death of the process
//! (SIGKILL, a panic, an abort); the next open replays the log. Only an
//! operating-system crash or a power loss may lose the last commits (the
//! database itself stays consistent), which is the trade-off a test
//! simulator wants: no `fsync` per accepted payment.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use rusqlite::{params, Connection, OptionalExtension};

use super::sqlite_checkpoint::{Checkpointer, RESTART_FRAMES};
use super::sqlite_journal;
use super::sqlite_log::{self, CommitLog};
use super::sqlite_rows::{self, SCHEMA};
use super::{
    attach_reply, decode, Hub2Object, Loaded, OutboxEntry, OutboxRow, StoreError, Write, Written,
    HUB2_ALL,
};
use crate::simulator::clock::now_ms;

/// What an SQLite error opening the file means, for the person who gave
/// `--db`: `what` with the likely cause appended.
fn why(what: &str, err: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode;
    let cause = match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => {
            "the file is not an SQLite database (a text file, random bytes, or encrypted?); \
             give --db a new path or a file this simulator wrote"
        }
        Some(ErrorCode::DatabaseCorrupt) => {
            "the database file is corrupt; move it aside and start with a new path"
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            "the file is locked by another process (another simulator on the same --db?)"
        }
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => {
            "the file or its folder cannot be written"
        }
        _ => return what.to_owned(),
    };
    format!("{what} ({cause})")
}

/// Takes the lock that makes one simulator per file: an exclusive
/// advisory lock on the database file itself, held by its own open file
/// (SQLite's connections, two of them, take SQLite's locks as usual and
/// share the file with readers such as the `sqlite3` shell). A second
/// simulator on the same file fails to start instead of handing out the
/// same serials. The kernel drops the lock when the process dies, so a
/// restart after SIGKILL takes it at once.
fn lock_file(path: &Path) -> Result<std::fs::File, StoreError> {
    let refuse = |message: String| StoreError {
        path: path.display().to_string(),
        message,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| {
            refuse(format!(
                "cannot open (the file or its folder cannot be written): {e}"
            ))
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(refuse(
            "the file is locked by another process (another simulator on the same --db?)".into(),
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(refuse(format!("cannot lock the file: {e}"))),
    }
}

/// Refuses an SQLite database of something else: one that has tables but
/// not the simulator's `meta` table, or a `meta` table without the
/// simulator's columns.
fn check_foreign(conn: &Connection) -> Result<(), String> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .and_then(|mut stmt| {
            stmt.query_map([], |row| row.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| format!("{}: {e}", why("cannot list the tables", &e)))?;
    if tables.is_empty() {
        return Ok(());
    }
    let ours = [
        "meta",
        "transactions",
        "replies",
        "outbox",
        "callback_attempts",
        "hub2_objects",
        "journal",
    ];
    let foreign: Vec<&String> = tables
        .iter()
        .filter(|t| !ours.contains(&t.as_str()))
        .collect();
    if !tables.iter().any(|t| t == "meta") || !foreign.is_empty() {
        let shown: Vec<&str> = tables.iter().take(8).map(String::as_str).collect();
        return Err(format!(
            "not a paygate simulator database: it holds tables {} (the simulator's are {}); \
             give --db a new path or a file this simulator wrote",
            shown.join(", "),
            ours.join(", ")
        ));
    }
    Ok(())
}

/// One SQLite connection, behind `group_commit`'s lock: whichever thread
/// commits a batch uses it.
pub(crate) struct SqliteDb {
    conn: Connection,
    path: PathBuf,
    /// Where the commits of transactions and attempts are appended.
    log: CommitLog,
    /// Where the log's records end, once a batch moved them into the
    /// database and committed (the log then starts again).
    moved_to: Option<u64>,
    /// Checkpoints the write-ahead log (declared after `conn`: dropped
    /// after it, so the writer's connection closes first).
    checkpointer: Checkpointer,
    /// The file's lock: one simulator per file (see [`lock_file`]).
    _lock: std::fs::File,
}

impl std::fmt::Debug for SqliteDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDb")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteDb {
    fn error(&self, what: &str, err: impl std::fmt::Display) -> StoreError {
        StoreError {
            path: self.path.display().to_string(),
            message: format!("{what}: {err}"),
        }
    }

    /// Opens (or creates) the database and reads everything back.
    pub(crate) fn open(path: &Path) -> Result<(SqliteDb, Loaded), StoreError> {
        let fail = |what: &str, err: &dyn std::fmt::Display| StoreError {
            path: path.display().to_string(),
            message: format!("{what}: {err}"),
        };
        let lock = lock_file(path)?;
        let conn = Connection::open(path).map_err(|e| fail(&why("cannot open", &e), &e))?;
        conn.execute_batch("PRAGMA busy_timeout=2000;")
            .map_err(|e| fail(&why("cannot set pragmas", &e), &e))?;
        // Before anything is changed (WAL mode is kept in the file).
        check_foreign(&conn).map_err(|message| StoreError {
            path: path.display().to_string(),
            message,
        })?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(|e| fail(&why("cannot switch to WAL", &e), &e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(fail(
                "cannot switch to WAL",
                &format!("journal_mode is {mode}"),
            ));
        }
        // Checkpoints are the other thread's (see `sqlite_checkpoint`); a
        // log restarted after a long burst is cut back to 64 MiB.
        conn.execute_batch(
            "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0;
             PRAGMA journal_size_limit=67108864;",
        )
        .map_err(|e| fail(&why("cannot set pragmas", &e), &e))?;
        conn.execute_batch(SCHEMA)
            .and_then(|()| conn.execute_batch(sqlite_journal::SCHEMA))
            .map_err(|e| fail(&why("cannot create the schema", &e), &e))?;
        let checkpointer = Checkpointer::start(path, RESTART_FRAMES)
            .map_err(|e| fail("cannot start checkpoints", &e))?;
        let log = CommitLog::open(path).map_err(|e| fail("cannot open the commit log", &e))?;
        let mut db = SqliteDb {
            conn,
            path: path.to_owned(),
            log,
            moved_to: None,
            checkpointer,
            _lock: lock,
        };
        // The journal's rows (written by a release before the commit log,
        // or by a batch that read the tables) are older than the log's.
        db.fold_journal()?;
        db.move_log()?;
        let loaded = db.load()?;
        Ok((db, loaded))
    }

    /// Writes the commit log's records in place (see `sqlite_log`), a
    /// chunk of entries per commit, each waiting for the disk; then
    /// empties the log.
    fn move_log(&mut self) -> Result<(), StoreError> {
        let path = self.path.display().to_string();
        let fail = |message: String| StoreError {
            path: path.clone(),
            message,
        };
        let sql = |e: rusqlite::Error| fail(format!("cannot move the commit log: {e}"));
        let read_meta = |key: &str| -> Result<i64, StoreError> {
            self.conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                    row.get(0)
                })
                .optional()
                .map(Option::unwrap_or_default)
                .map_err(sql)
        };
        let marked_generation = read_meta("log_generation")?;
        let marked_offset = u64::try_from(read_meta("log_offset")?).unwrap_or(0);
        let generation = self.log.generation();
        let from = if generation != 0 && generation == marked_generation {
            marked_offset.max(sqlite_log::HEADER)
        } else {
            sqlite_log::HEADER
        };
        let mut records = self.log.records(from).map_err(&fail)?;
        if records.left() > 0 {
            tracing::info!(
                db = %path,
                bytes = records.left(),
                "writing the commit log into the tables (what was committed while \
                 the simulator last ran)"
            );
        }
        self.conn
            .execute_batch("PRAGMA synchronous=FULL;")
            .map_err(sql)?;
        let mut entries = 0usize;
        loop {
            let _checkpoint_waits = self.checkpointer.batch();
            let db = self.conn.transaction().map_err(sql)?;
            let mut moved = 0;
            while moved < sqlite_journal::FOLD_CHUNK {
                let Some((at_ms, chunk)) = records.next_record().map_err(&fail)? else {
                    break;
                };
                for entry in &chunk {
                    entry.write_in_place(&db, at_ms).map_err(sql)?;
                }
                moved += i64::try_from(chunk.len()).unwrap_or(i64::MAX);
            }
            if moved == 0 {
                break;
            }
            sqlite_log::mark(&db, generation, records.pos()).map_err(sql)?;
            db.commit().map_err(sql)?;
            self.checkpointer.nudge();
            entries += usize::try_from(moved).unwrap_or(usize::MAX);
        }
        self.conn
            .execute_batch("PRAGMA synchronous=NORMAL;")
            .map_err(sql)?;
        if let Some(torn) = records.torn() {
            tracing::warn!(db = %path, "{torn}");
        }
        if entries > 0 {
            tracing::info!(db = %path, entries, "commit log written into the tables");
        }
        let next = generation.max(marked_generation).saturating_add(1);
        self.log.restart(records.pos(), next);
        Ok(())
    }

    /// Folds the journal into the tables (see `sqlite_journal`), a chunk
    /// per commit.
    fn fold_journal(&mut self) -> Result<(), StoreError> {
        let path = self.path.display().to_string();
        let fail = |e: rusqlite::Error| StoreError {
            path: path.clone(),
            message: format!(
                "{}: {e}",
                why("cannot fold the journal into the tables", &e)
            ),
        };
        // Its rows are numbered in order: the span counts them without a
        // scan of the table.
        let rows: i64 = self
            .conn
            .query_row(
                "SELECT coalesce(max(id) - min(id) + 1, 0) FROM journal",
                [],
                |row| row.get(0),
            )
            .map_err(fail)?;
        if rows > 0 {
            tracing::info!(
                db = %path,
                rows,
                "folding the journal into the tables (what was committed while \
                 the simulator last ran)"
            );
        }
        loop {
            let _checkpoint_waits = self.checkpointer.batch();
            let db = self.conn.transaction().map_err(fail)?;
            let folded = sqlite_journal::fold(&db, sqlite_journal::FOLD_CHUNK).map_err(fail)?;
            db.commit().map_err(fail)?;
            self.checkpointer.nudge();
            if folded == 0 {
                return Ok(());
            }
        }
    }

    fn load(&self) -> Result<Loaded, StoreError> {
        let serial: u64 = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'serial'", [], |row| {
                row.get::<_, i64>(0)
            })
            .optional()
            .map_err(|e| self.error("cannot read the serial", e))?
            .map_or(0, |v| u64::try_from(v).unwrap_or(0));
        let mut transactions = std::collections::HashMap::new();
        {
            let mut stmt = self
                .conn
                .prepare("SELECT data FROM transactions")
                .map_err(|e| self.error("cannot read transactions", e))?;
            let rows = stmt
                .query_map([], |row| row.get::<_, String>(0))
                .map_err(|e| self.error("cannot read transactions", e))?;
            for row in rows {
                let data = row.map_err(|e| self.error("cannot read transactions", e))?;
                let tx =
                    decode(&data).map_err(|e| self.error("a transaction row is not valid", e))?;
                transactions.insert((tx.public_id.clone(), tx.order_id.clone()), tx);
            }
        }
        {
            let mut stmt = self
                .conn
                .prepare("SELECT public_id, order_id, operation, signature, body FROM replies")
                .map_err(|e| self.error("cannot read replies", e))?;
            let rows = stmt
                .query_map([], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, Vec<u8>>(4)?,
                    ))
                })
                .map_err(|e| self.error("cannot read replies", e))?;
            for row in rows {
                let reply = row.map_err(|e| self.error("cannot read replies", e))?;
                attach_reply(&mut transactions, reply)
                    .map_err(|e| self.error("a reply row is not valid", e))?;
            }
        }
        let mut attempts = Vec::new();
        {
            let mut stmt = self
                .conn
                .prepare("SELECT data FROM callback_attempts ORDER BY id")
                .map_err(|e| self.error("cannot read callback attempts", e))?;
            let rows = stmt
                .query_map([], |row| row.get::<_, String>(0))
                .map_err(|e| self.error("cannot read callback attempts", e))?;
            for row in rows {
                let data = row.map_err(|e| self.error("cannot read callback attempts", e))?;
                attempts.push(
                    serde_json::from_str(&data)
                        .map_err(|e| self.error("a callback attempt row is not valid", e))?,
                );
            }
        }
        let mut hub2 = Vec::new();
        {
            let mut stmt = self
                .conn
                .prepare("SELECT kind, id, doc FROM hub2_objects ORDER BY rowid")
                .map_err(|e| self.error("cannot read HUB2 objects", e))?;
            let rows = stmt
                .query_map([], |row| {
                    Ok(Hub2Object {
                        kind: row.get(0)?,
                        id: row.get(1)?,
                        doc: row.get(2)?,
                    })
                })
                .map_err(|e| self.error("cannot read HUB2 objects", e))?;
            for row in rows {
                hub2.push(row.map_err(|e| self.error("cannot read HUB2 objects", e))?);
            }
        }
        // Outbox ids are never reused, also after a reset (kept in `meta`
        // then) or in a file written when the table had AUTOINCREMENT.
        let read_id = |sql: &str| -> Result<i64, StoreError> {
            self.conn
                .query_row(sql, [], |row| row.get(0))
                .map_err(|e| self.error("cannot read the last outbox id", e))
        };
        let mut outbox_id = read_id(
            "SELECT max(coalesce((SELECT value FROM meta WHERE key = 'outbox'), 0),
                        coalesce((SELECT max(id) FROM outbox), 0))",
        )?;
        if read_id("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'")? > 0 {
            outbox_id = outbox_id.max(read_id(
                "SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'outbox'",
            )?);
        }
        let mut loaded = Loaded::new(transactions, attempts, serial, hub2);
        loaded.outbox_id = outbox_id;
        Ok(loaded)
    }

    /// Applies a batch of writes in one SQLite transaction (one commit, so
    /// one append to the write-ahead log for all of them). If the commit
    /// fails, every write gets that error. Returns one result per write,
    /// in order.
    ///
    /// The writes run one after the other; if one fails, the whole
    /// transaction is rolled back and the batch runs again with each
    /// write in its own savepoint, so that only the failing one is
    /// refused and the others go on. (A savepoint per write on every batch
    /// cost a fifth of the writer's statements; a write fails only when
    /// the disk does.)
    pub(crate) fn apply_batch(&mut self, batch: &[&Write]) -> Vec<Result<Written, StoreError>> {
        if batch.iter().any(|write| sqlite_log::needs_tables(write)) {
            // The log moves into the journal inside the batch's
            // transaction (`try_batch`), the writes go to the database,
            // and the log starts again once that is committed.
            let moved = self.log.has_records();
            if moved {
                let _ = self.conn.execute_batch("PRAGMA synchronous=FULL;");
            }
            let results = self.apply_in_database(batch);
            if moved {
                let _ = self.conn.execute_batch("PRAGMA synchronous=NORMAL;");
                if let Some(end) = self.moved_to.take() {
                    let next = self.log.generation().saturating_add(1);
                    self.log.restart(end, next);
                }
            }
            return results;
        }
        let (logged, in_place): (Vec<_>, Vec<_>) = batch
            .iter()
            .enumerate()
            .partition(|(_, write)| sqlite_log::logged(write));
        let mut results: Vec<Option<Result<Written, StoreError>>> =
            batch.iter().map(|_| None).collect();
        if !in_place.is_empty() {
            let writes: Vec<&Write> = in_place.iter().map(|(_, write)| **write).collect();
            for ((i, _), result) in in_place.iter().zip(self.apply_in_database(&writes)) {
                results[*i] = Some(result);
            }
        }
        if !logged.is_empty() {
            let writes: Vec<&Write> = logged.iter().map(|(_, write)| **write).collect();
            let at_ms = i64::try_from(now_ms()).unwrap_or(i64::MAX);
            let appended = self
                .log
                .append(&writes, at_ms)
                .map_err(|message| self.error("cannot commit", message));
            for (i, write) in logged {
                results[i] = Some(match &appended {
                    Ok(()) => Ok(Written::Saved(match write {
                        Write::Save { outbox, .. } => outbox.as_deref().and_then(|out| out.id),
                        _ => None,
                    })),
                    Err(err) => Err(err.clone()),
                });
            }
        }
        results
            .into_iter()
            .map(|result| {
                result.unwrap_or_else(|| Err(self.error("cannot write a batch", "no result")))
            })
            .collect()
    }

    /// [`SqliteDb::apply_batch`] for writes that go to the database.
    fn apply_in_database(&mut self, batch: &[&Write]) -> Vec<Result<Written, StoreError>> {
        match self.try_batch(batch, false) {
            Ok(results) => results,
            Err(None) => self
                .try_batch(batch, true)
                .unwrap_or_else(|err| self.all_failed(batch, err)),
            Err(Some(err)) => self.all_failed(batch, Some(err)),
        }
    }

    /// Every write of `batch` failing with `err` (or a generic error).
    fn all_failed(
        &self,
        batch: &[&Write],
        err: Option<StoreError>,
    ) -> Vec<Result<Written, StoreError>> {
        let err = err.unwrap_or_else(|| self.error("cannot write a batch", "a write failed"));
        batch.iter().map(|_| Err(err.clone())).collect()
    }

    /// One attempt at a batch. Without `savepoints`, the first failing
    /// write rolls everything back (`Err(None)`); with them, it is rolled
    /// back alone. `Err(Some(_))`: the transaction could not begin or
    /// commit.
    fn try_batch(
        &mut self,
        batch: &[&Write],
        savepoints: bool,
    ) -> Result<Vec<Result<Written, StoreError>>, Option<StoreError>> {
        let _checkpoint_waits = self.checkpointer.batch();
        let path = self.path.display().to_string();
        let fail = |what: &str, e: rusqlite::Error| StoreError {
            path: path.clone(),
            message: format!("{what}: {e}"),
        };
        let db = self
            .conn
            .transaction()
            .map_err(|e| Some(fail("cannot begin a transaction", e)))?;
        let moved_to =
            if self.log.has_records() && batch.iter().any(|w| sqlite_log::needs_tables(w)) {
                Some(self.log.move_into(&db).map_err(|message| {
                    Some(StoreError {
                        path: path.clone(),
                        message,
                    })
                })?)
            } else {
                None
            };
        let mut results = Vec::with_capacity(batch.len());
        // Savepoints through cached statements (rusqlite's `savepoint()`
        // parses its SQL anew each time).
        let run = |db: &rusqlite::Transaction<'_>, sql: &str| {
            db.prepare_cached(sql)
                .and_then(|mut s| s.execute([]))
                .map(|_| ())
        };
        for write in batch {
            let result = if savepoints {
                run(&db, "SAVEPOINT write").and_then(|()| match apply(&db, write) {
                    Ok(written) => run(&db, "RELEASE write").map(|()| written),
                    Err(e) => {
                        let _ =
                            run(&db, "ROLLBACK TO write").and_then(|()| run(&db, "RELEASE write"));
                        Err(e)
                    }
                })
            } else {
                // Returning drops `db`, which rolls back.
                Ok(apply(&db, write).map_err(|_| None)?)
            };
            results.push(result.map_err(|e| fail(write.what(), e)));
        }
        db.commit().map_err(|e| Some(fail("cannot commit", e)))?;
        self.moved_to = moved_to;
        self.checkpointer.nudge();
        Ok(results)
    }
}

fn apply(db: &rusqlite::Transaction<'_>, write: &Write) -> Result<Written, rusqlite::Error> {
    let now = || i64::try_from(now_ms()).unwrap_or(i64::MAX);
    match write {
        Write::Save { row, new, outbox } => match outbox.as_deref() {
            Some(OutboxRow { id: None, .. }) => {
                // The database picks the outbox id (never so with SQLite,
                // whose ids the simulator hands out): written in place,
                // after the journal.
                sqlite_journal::fold_all(db)?;
                let id = sqlite_rows::save(db, row, *new, outbox.as_deref(), now())?;
                Ok(Written::Saved(id))
            }
            out => {
                sqlite_journal::save(db, row, *new, out, now())?;
                Ok(Written::Saved(out.and_then(|out| out.id)))
            }
        },
        Write::SaveMany(rows) => {
            let at = now();
            for row in rows {
                sqlite_journal::save(db, row, true, None, at)?;
            }
            Ok(Written::Saved(None))
        }
        Write::Attempt {
            data,
            attempt,
            outbox,
        } => {
            sqlite_journal::attempt(db, data, *attempt, *outbox)?;
            Ok(Written::Saved(None))
        }
        Write::PendingOutbox => {
            sqlite_journal::fold_all(db)?;
            let mut stmt = db.prepare_cached(
                "SELECT id, public_id, order_id, operation_type, status, url, body, attempts, next_attempt_ms
                 FROM outbox WHERE state = 'pending' ORDER BY id",
            )?;
            let rows = stmt.query_map([], |row| {
                Ok(OutboxEntry {
                    id: row.get(0)?,
                    public_id: row.get(1)?,
                    order_id: row.get(2)?,
                    operation_type: row.get(3)?,
                    status: row.get(4)?,
                    url: row.get(5)?,
                    body: Bytes::from(row.get::<_, Vec<u8>>(6)?),
                    attempts: row.get(7)?,
                    next_attempt_ms: u64::try_from(row.get::<_, i64>(8)?).unwrap_or(0),
                })
            })?;
            Ok(Written::Pending(rows.collect::<Result<Vec<_>, _>>()?))
        }
        Write::Reset => {
            // What the deleted rows held (in the tables or still in the
            // journal), so that no id is handed out again.
            db.execute_batch(
                "INSERT INTO meta (key, value)
                    SELECT 'serial', max(coalesce((SELECT max(serial) FROM transactions), 0),
                                         coalesce((SELECT max(serial) FROM journal), 0))
                    WHERE true
                    ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value);
                 INSERT INTO meta (key, value)
                    SELECT 'outbox', max(coalesce((SELECT max(id) FROM outbox), 0),
                                         coalesce((SELECT max(outbox_id) FROM journal
                                                   WHERE kind IN ('save', 'save-new')), 0))
                    WHERE true
                    ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value);
                 DELETE FROM journal; DELETE FROM transactions; DELETE FROM replies;
                 DELETE FROM outbox; DELETE FROM callback_attempts;",
            )?;
            Ok(Written::Saved(None))
        }
        Write::Hub2(puts) => {
            for put in puts {
                match (&put.doc, put.kind) {
                    (None, HUB2_ALL) => {
                        db.prepare_cached("DELETE FROM hub2_objects")?.execute([])?;
                    }
                    (None, kind) => {
                        db.prepare_cached("DELETE FROM hub2_objects WHERE kind = ?1 AND id = ?2")?
                            .execute(params![kind, put.id])?;
                    }
                    (Some(doc), kind) => {
                        db.prepare_cached(
                            "INSERT INTO hub2_objects (kind, id, doc) VALUES (?1, ?2, ?3)
                             ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc",
                        )?
                        .execute(params![kind, put.id, doc])?;
                    }
                }
            }
            Ok(Written::Saved(None))
        }
    }
}
