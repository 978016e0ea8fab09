//! The PostgreSQL backend (`--db postgres://user:password@host:port/db`).
//!
//! The same tables as SQLite's, created if missing. The connection holds
//! a session advisory lock for as long as the simulator runs: a second
//! simulator on the same database fails to start rather than handing out
//! the same transaction ids. PostgreSQL drops the lock when the
//! connection ends, so a restart after SIGKILL opens the database at once.
//! With `--replica`, several simulators share the database instead (a
//! shared lock each; see `replica`).
//!
//! # Durability
//!
//! PostgreSQL's own: with its default `synchronous_commit=on`, a commit
//! that returned is on disk, so it also survives a crash of the machine
//! the database runs on. Each batch of writes is one transaction, each
//! write in its own savepoint (one that fails is rolled back alone), the
//! statements prepared once when the simulator starts.
//!
//! The password in the URL never appears in an error or a log line
//! ([`redacted`]).

use std::time::Duration;

use ::postgres::{Client, Config, NoTls, Statement};

use super::postgres_outbox::{outbox_entry, OUTBOX_COLUMNS};
use super::replica::{Joining, Replica};
use super::{
    attach_reply, decode, Hub2Object, Loaded, StoreError, TxRow, Write, Written, HUB2_ALL,
};

/// An opened database, what it held, and this process's membership when
/// it is one of several replicas.
pub(crate) type Opened = (PostgresDb, Loaded, Option<std::sync::Arc<Replica>>);
use crate::simulator::clock::now_ms;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS transactions (
    public_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    serial BIGINT NOT NULL,
    transaction_id TEXT NOT NULL,
    status BIGINT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (public_id, order_id)
);
CREATE TABLE IF NOT EXISTS replies (
    public_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    signature TEXT NOT NULL,
    body BYTEA NOT NULL,
    PRIMARY KEY (public_id, order_id, operation, signature)
);
CREATE TABLE IF NOT EXISTS outbox (
    id BIGSERIAL PRIMARY KEY,
    public_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    operation_type BIGINT NOT NULL,
    status BIGINT NOT NULL,
    url TEXT NOT NULL,
    body BYTEA NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (state);
CREATE TABLE IF NOT EXISTS callback_attempts (
    id BIGSERIAL PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS replicas (
    id TEXT PRIMARY KEY,
    seen TIMESTAMPTZ NOT NULL
);
ALTER TABLE replicas ADD COLUMN IF NOT EXISTS url TEXT;
ALTER TABLE replicas ADD COLUMN IF NOT EXISTS hub2 BOOLEAN NOT NULL DEFAULT false;
CREATE TABLE IF NOT EXISTS replica_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS owner TEXT;
CREATE TABLE IF NOT EXISTS daily_amounts (
    public_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    key TEXT NOT NULL,
    minor BIGINT NOT NULL,
    PRIMARY KEY (public_id, order_id)
);
CREATE INDEX IF NOT EXISTS daily_amounts_key ON daily_amounts (key);
CREATE TABLE IF NOT EXISTS hub2_objects (
    seq BIGSERIAL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
";

/// The advisory lock key a running simulator holds on its database
/// ("paygate" in ASCII, truncated to 64 bits): exclusively, or shared by
/// the replicas of `--replica`.
const LOCK_KEY: i64 = 0x7061_7967_6174_6500;

/// The advisory lock under which the schema is created or migrated (two
/// replicas starting at once would otherwise race on `CREATE TABLE`).
const SCHEMA_LOCK_KEY: i64 = 0x7061_7967_6174_6501;

/// `url` without its password (`postgres://user:***@host/db`), for errors
/// and logs. A URL that does not parse is shown as `postgres://***`.
pub(crate) fn redacted(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() && parsed.set_password(Some("***")).is_err() {
                return "postgres://***".into();
            }
            parsed.to_string()
        }
        Err(_) => "postgres://***".into(),
    }
}

/// The statements of every write, prepared once.
struct Statements {
    upsert_serial: Statement,
    delete_replies: Statement,
    upsert_transaction: Statement,
    insert_reply: Statement,
    insert_outbox: Statement,
    insert_attempt: Statement,
    update_outbox: Statement,
    pending_outbox: Statement,
    hub2_upsert: Statement,
    hub2_delete: Statement,
    add_daily: Statement,
}

/// One PostgreSQL connection, owned by the writer thread of
/// `group_commit`. `postgres::Client` runs a Tokio runtime of its own, so
/// it is only ever used on threads that run none: it is opened on a
/// thread of its own and then lives on the writer thread.
pub(crate) struct PostgresDb {
    client: Client,
    statements: Statements,
    shown: String,
    /// The replica that delivers the callbacks this one adds to the
    /// outbox (`--replica`; `None`: the only simulator on the database).
    owner: Option<String>,
}

impl std::fmt::Debug for PostgresDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresDb")
            .field("url", &self.shown)
            .finish_non_exhaustive()
    }
}

impl PostgresDb {
    fn error(&self, what: &str, err: impl std::fmt::Display) -> StoreError {
        StoreError {
            path: self.shown.clone(),
            message: format!("{what}: {err}"),
        }
    }

    /// Connects, takes the database (alone, or as one of its replicas),
    /// creates the tables if missing and reads everything back.
    pub(crate) fn open(url: &str, replica: Option<Joining>) -> Result<Opened, StoreError> {
        let shown = redacted(url);
        let url = url.to_owned();
        let fail_shown = shown.clone();
        std::thread::Builder::new()
            .name("paygate-db-open".into())
            .spawn(move || Self::open_here(&url, shown, replica))
            .map_err(|e| StoreError {
                path: fail_shown.clone(),
                message: format!("cannot start the connecting thread: {e}"),
            })?
            .join()
            .map_err(|_| StoreError {
                path: fail_shown,
                message: "the connecting thread failed".into(),
            })?
    }

    fn open_here(url: &str, shown: String, replica: Option<Joining>) -> Result<Opened, StoreError> {
        let fail = |what: &str, err: &dyn std::fmt::Display| StoreError {
            path: shown.clone(),
            message: format!("{what}: {err}"),
        };
        let mut config: Config = url.parse().map_err(|e| fail("not a PostgreSQL URL", &e))?;
        config.connect_timeout(Duration::from_secs(10));
        config.application_name("paygate simulate");
        let mut client = config
            .connect(NoTls)
            .map_err(|e| fail("cannot connect", &e))?;
        let take = if replica.is_some() {
            "SELECT pg_try_advisory_lock_shared($1)"
        } else {
            "SELECT pg_try_advisory_lock($1)"
        };
        let locked: bool = client
            .query_one(take, &[&LOCK_KEY])
            .and_then(|row| row.try_get(0))
            .map_err(|e| fail("cannot take the database's lock", &e))?;
        if !locked {
            let why = if replica.is_some() {
                "a paygate simulator without --replica is using this database"
            } else {
                "another paygate simulator is using this database \
                 (several simulators on one database each need --replica)"
            };
            return Err(fail("cannot take the database's lock", &why));
        }
        // "relation already exists, skipping" is not news at every start.
        client
            .batch_execute(&format!(
                "SET client_min_messages TO WARNING; BEGIN; \
                 SELECT pg_advisory_xact_lock({SCHEMA_LOCK_KEY}); {SCHEMA} COMMIT;"
            ))
            .map_err(|e| fail("cannot create the schema", &e))?;
        let statements = Statements::prepare(&mut client)
            .map_err(|e| fail("cannot prepare the statements", &e))?;
        let replica = replica
            .map(|joining| {
                Replica::join(config.clone(), shown.clone(), joining.options, joining.url)
            })
            .transpose()?;
        let mut db = PostgresDb {
            client,
            statements,
            shown,
            owner: replica.as_ref().map(|r| r.id().to_owned()),
        };
        let loaded = db.load()?;
        Ok((db, loaded, replica))
    }

    fn load(&mut self) -> Result<Loaded, StoreError> {
        let serial: i64 = self
            .client
            .query_opt("SELECT value FROM meta WHERE key = 'serial'", &[])
            .and_then(|row| row.map(|r| r.try_get(0)).transpose())
            .map_err(|e| self.error("cannot read the serial", e))?
            .unwrap_or(0);
        let mut transactions = std::collections::HashMap::new();
        let mut attempts = Vec::new();
        // A replica's memory is only a cache, filled as it locks orders,
        // and it reads every replica's attempts and transactions from the
        // database when asked: reading them all here would be wasted.
        if self.owner.is_none() {
            let rows = self
                .client
                .query("SELECT data FROM transactions ORDER BY serial", &[])
                .map_err(|e| self.error("cannot read transactions", e))?;
            for row in rows {
                let data: String = row
                    .try_get(0)
                    .map_err(|e| self.error("cannot read transactions", e))?;
                let tx =
                    decode(&data).map_err(|e| self.error("a transaction row is not valid", e))?;
                transactions.insert((tx.public_id.clone(), tx.order_id.clone()), tx);
            }
            let rows = self
                .client
                .query(
                    "SELECT public_id, order_id, operation, signature, body FROM replies",
                    &[],
                )
                .map_err(|e| self.error("cannot read replies", e))?;
            for row in rows {
                let read = |row: &::postgres::Row| -> Result<_, ::postgres::Error> {
                    Ok((
                        row.try_get::<_, String>(0)?,
                        row.try_get::<_, String>(1)?,
                        row.try_get::<_, String>(2)?,
                        row.try_get::<_, String>(3)?,
                        row.try_get::<_, Vec<u8>>(4)?,
                    ))
                };
                let reply = read(&row).map_err(|e| self.error("cannot read replies", e))?;
                attach_reply(&mut transactions, reply)
                    .map_err(|e| self.error("a reply row is not valid", e))?;
            }
            let rows = self
                .client
                .query("SELECT data FROM callback_attempts ORDER BY id", &[])
                .map_err(|e| self.error("cannot read callback attempts", e))?;
            for row in rows {
                let data: String = row
                    .try_get(0)
                    .map_err(|e| self.error("cannot read callback attempts", e))?;
                attempts.push(
                    serde_json::from_str(&data)
                        .map_err(|e| self.error("a callback attempt row is not valid", e))?,
                );
            }
        }
        let mut hub2 = Vec::new();
        let rows = self
            .client
            .query("SELECT kind, id, doc FROM hub2_objects ORDER BY seq", &[])
            .map_err(|e| self.error("cannot read HUB2 objects", e))?;
        for row in rows {
            let read = |row: &::postgres::Row| -> Result<Hub2Object, ::postgres::Error> {
                Ok(Hub2Object {
                    kind: row.try_get(0)?,
                    id: row.try_get(1)?,
                    doc: row.try_get(2)?,
                })
            };
            hub2.push(read(&row).map_err(|e| self.error("cannot read HUB2 objects", e))?);
        }
        Ok(Loaded::new(
            transactions,
            attempts,
            u64::try_from(serial).unwrap_or(0),
            hub2,
        ))
    }

    /// Applies a batch of writes in one PostgreSQL transaction, each in
    /// its own savepoint: one that fails is rolled back alone and gets its
    /// error, the others go on. If the commit fails, every write gets that
    /// error. One result per write, in order.
    pub(crate) fn apply_batch(&mut self, batch: &[&Write]) -> Vec<Result<Written, StoreError>> {
        let shown = self.shown.clone();
        let fail = |what: &str, e: ::postgres::Error| StoreError {
            path: shown.clone(),
            message: format!("{what}: {e}"),
        };
        let statements = &self.statements;
        let owner = &self.owner;
        let mut db = match self.client.transaction() {
            Ok(db) => db,
            Err(e) => {
                let err = fail("cannot begin a transaction", e);
                return batch.iter().map(|_| Err(err.clone())).collect();
            }
        };
        let mut results = Vec::with_capacity(batch.len());
        for write in batch {
            let result = db.savepoint("write").and_then(|mut savepoint| {
                match apply(&mut savepoint, statements, owner, write) {
                    Ok(written) => savepoint.commit().map(|()| written),
                    Err(e) => {
                        let _ = savepoint.rollback();
                        Err(e)
                    }
                }
            });
            results.push(result.map_err(|e| fail(write.what(), e)));
        }
        if let Err(e) = db.commit() {
            let err = fail("cannot commit", e);
            return batch.iter().map(|_| Err(err.clone())).collect();
        }
        results
    }
}

impl Statements {
    fn prepare(client: &mut Client) -> Result<Statements, ::postgres::Error> {
        Ok(Statements {
            upsert_serial: client.prepare(
                "INSERT INTO meta (key, value) VALUES ('serial', $1)
                 ON CONFLICT (key) DO UPDATE SET value = GREATEST(meta.value, excluded.value)",
            )?,
            delete_replies: client
                .prepare("DELETE FROM replies WHERE public_id = $1 AND order_id = $2")?,
            upsert_transaction: client.prepare(
                "INSERT INTO transactions (public_id, order_id, serial, transaction_id, status, data)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (public_id, order_id) DO UPDATE SET
                    serial = excluded.serial, transaction_id = excluded.transaction_id,
                    status = excluded.status, data = excluded.data",
            )?,
            insert_reply: client.prepare(
                "INSERT INTO replies (public_id, order_id, operation, signature, body)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )?,
            insert_outbox: client.prepare(
                "INSERT INTO outbox (public_id, order_id, operation_type, status, url, body, attempts, next_attempt_ms, state, owner)
                 VALUES ($1, $2, $3, $4, $5, $6, 0, $7, 'pending', $8) RETURNING id",
            )?,
            insert_attempt: client.prepare("INSERT INTO callback_attempts (data) VALUES ($1)")?,
            update_outbox: client.prepare(
                "UPDATE outbox SET attempts = $2, state = $3, next_attempt_ms = $4 WHERE id = $1",
            )?,
            pending_outbox: client.prepare(
                &format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE state = 'pending' ORDER BY id"),
            )?,
            hub2_upsert: client.prepare(
                "INSERT INTO hub2_objects (kind, id, doc) VALUES ($1, $2, $3)
                 ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc",
            )?,
            hub2_delete: client.prepare("DELETE FROM hub2_objects WHERE kind = $1 AND id = $2")?,
            add_daily: client.prepare(
                "INSERT INTO daily_amounts (public_id, order_id, key, minor) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (public_id, order_id) DO UPDATE SET key = excluded.key, minor = excluded.minor",
            )?,
        })
    }
}

fn millis(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn apply(
    db: &mut ::postgres::Transaction<'_>,
    st: &Statements,
    owner: &Option<String>,
    write: &Write,
) -> Result<Written, ::postgres::Error> {
    match write {
        Write::Save { row, new, outbox } => {
            write_transaction(db, st, row, *new, owner.is_some())?;
            let mut outbox_id = None;
            if let Some(out) = outbox {
                let row = db.query_one(
                    &st.insert_outbox,
                    &[
                        &row.public_id,
                        &row.order_id,
                        &out.operation_type,
                        &out.status,
                        &out.url,
                        &&out.body[..],
                        &millis(now_ms()),
                        owner,
                    ],
                )?;
                outbox_id = Some(row.try_get::<_, i64>(0)?);
            }
            Ok(Written::Saved(outbox_id))
        }
        Write::SaveMany(rows) => {
            for row in rows {
                write_transaction(db, st, row, true, owner.is_some())?;
            }
            Ok(Written::Saved(None))
        }
        Write::Attempt {
            data,
            attempt,
            outbox,
        } => {
            db.execute(&st.insert_attempt, &[data])?;
            if let Some((id, progress)) = outbox {
                let (state, next) = progress.columns();
                db.execute(
                    &st.update_outbox,
                    &[id, &i64::from(*attempt), &state, &millis(next)],
                )?;
            }
            Ok(Written::Saved(None))
        }
        Write::PendingOutbox => {
            let mut pending = Vec::new();
            for row in db.query(&st.pending_outbox, &[])? {
                pending.push(outbox_entry(&row)?);
            }
            Ok(Written::Pending(pending))
        }
        Write::Reset => {
            db.batch_execute(
                "DELETE FROM transactions; DELETE FROM replies; DELETE FROM outbox;
                 DELETE FROM callback_attempts; DELETE FROM daily_amounts;",
            )?;
            Ok(Written::Saved(None))
        }
        Write::Hub2(puts) => {
            for put in puts {
                match (&put.doc, put.kind) {
                    (None, HUB2_ALL) => db.batch_execute("DELETE FROM hub2_objects")?,
                    (None, kind) => {
                        db.execute(&st.hub2_delete, &[&kind, &put.id])?;
                    }
                    (Some(doc), kind) => {
                        db.execute(&st.hub2_upsert, &[&kind, &put.id, doc])?;
                    }
                }
            }
            Ok(Written::Saved(None))
        }
    }
}

/// Writes one transaction row and its replies (and, for a new one, the
/// last serial) inside `db`.
fn write_transaction(
    db: &mut ::postgres::Transaction<'_>,
    st: &Statements,
    row: &TxRow,
    new: bool,
    replica: bool,
) -> Result<(), ::postgres::Error> {
    if new {
        db.execute(&st.delete_replies, &[&row.public_id, &row.order_id])?;
        // A replica reserved its serials in blocks, which moved the last
        // serial already; updating that one row from every replica's
        // batches would make them wait for each other.
        if !replica {
            db.execute(&st.upsert_serial, &[&row.serial])?;
        }
        if let Some((key, minor)) = &row.daily {
            db.execute(&st.add_daily, &[&row.public_id, &row.order_id, key, minor])?;
        }
    }
    db.execute(
        &st.upsert_transaction,
        &[
            &row.public_id,
            &row.order_id,
            &row.serial,
            &row.transaction_id,
            &row.status,
            &row.data,
        ],
    )?;
    for reply in &row.replies {
        db.execute(
            &st.insert_reply,
            &[
                &row.public_id,
                &row.order_id,
                &reply.operation.as_str(),
                &reply.signature,
                &&reply.body[..],
            ],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn the_password_never_shows() {
        let shown = redacted("postgres://paygate:s3cret@127.0.0.1:5432/sim");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("paygate") && shown.contains("/sim"),
            "{shown}"
        );
        assert_eq!(redacted("postgres://u:secret@[bad"), "postgres://***");
    }
}
