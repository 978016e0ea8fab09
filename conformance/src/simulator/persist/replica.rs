//! Replica mode (`paygate simulate --db postgres://… --replica`): several
//! simulators on one PostgreSQL database behave as one gateway.
//!
//! Each replica still answers from its memory, but its memory is only a
//! cache of the database for the orders it touches:
//!
//! * **One order, one replica at a time.** Locking an order's shard
//!   ([`Store::lock_order`](crate::simulator::state::Store::lock_order))
//!   also takes a PostgreSQL advisory lock on the order
//!   (`pg_advisory_xact_lock`, in a transaction of one of this replica's
//!   connections) and reads the order's row and replies back into memory.
//!   The lock is held until the guard is dropped, after the change is
//!   committed by the writer, so a replay sent to another replica waits for
//!   the commit and then finds the stored bytes. PostgreSQL releases the
//!   lock of a replica that dies with its connection.
//! * **Transaction ids** come in blocks of [`SERIAL_BLOCK`] reserved in the
//!   `meta` table, so two replicas never hand out the same one.
//! * **Pending work is owned.** Every outbox row names the replica that
//!   delivers it (`owner`). Each replica writes a heartbeat to the
//!   `replicas` table; one whose heartbeat is older than the timeout is
//!   removed by the first replica to notice, which then claims the outbox
//!   rows of replicas that are no longer listed (`FOR UPDATE SKIP LOCKED`:
//!   each row goes to exactly one claimer) and re-arms the outcome timer of
//!   every transaction still waiting for one. A timer that fires twice is
//!   harmless: the second finds the outcome applied (it re-reads the order
//!   under its lock) and does nothing.
//!
//! Connections live on threads of their own: `postgres::Client` runs a
//! Tokio runtime of its own and must never be used on a thread of the
//! simulator's runtime, so a pool that hands the client to the caller
//! (r2d2's model) does not fit; callers send work to the connection's
//! thread and wait for the answer.

use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ::postgres::{Client, Config, NoTls, Statement};
use bytes::Bytes;

mod reads;
mod takeover;

use takeover::Watcher;

use super::{decode, Hub2Object, OutboxEntry, StoreError};
use crate::simulator::operation::OperationKind;
use crate::simulator::transaction::{StoredReply, Transaction};

/// Transaction ids reserved at once.
pub(crate) const SERIAL_BLOCK: u64 = 1_000;

/// How a replica joins its database (`--replica`, `--replica-timeout-ms`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaOptions {
    /// A replica silent for this long is taken to be dead: its pending
    /// callbacks and outcomes are taken over.
    pub timeout: Duration,
    /// Connections this replica opens at most for order locks.
    pub connections: usize,
}

impl Default for ReplicaOptions {
    fn default() -> Self {
        ReplicaOptions {
            timeout: Duration::from_secs(5),
            connections: 16,
        }
    }
}

/// How this process joins a shared database: its options and the base
/// URL the others forward HUB2 requests to when it serves HUB2.
#[derive(Clone, Debug)]
pub(crate) struct Joining {
    pub(crate) options: ReplicaOptions,
    pub(crate) url: String,
}

/// Work a replica took over from one that died.
#[derive(Debug, Default)]
pub(crate) struct Takeover {
    /// Callbacks it now delivers.
    pub(crate) outbox: Vec<OutboxEntry>,
    /// Transactions whose outcome timer it re-arms (all those waiting).
    pub(crate) waiting: Vec<Transaction>,
    /// HUB2's objects as the database holds them, when this replica has
    /// just become the one serving HUB2.
    pub(crate) hub2: Option<Vec<Hub2Object>>,
}

/// Which replica serves HUB2: the one holding a session advisory lock
/// ([`HUB2_LEAD_KEY`]); the others forward `/hub2` requests to it.
#[derive(Default)]
pub(crate) struct Hub2Lead {
    /// Whether this replica serves HUB2.
    pub(crate) leading: AtomicBool,
    /// The base URL of the replica that does.
    pub(crate) leader_url: Mutex<Option<String>>,
    /// The key a forwarded request carries, so that the leader believes
    /// the client address it names (shared by the replicas, in the
    /// database; never logged).
    pub(crate) forward_key: Mutex<String>,
}

impl Hub2Lead {
    /// Whether this replica serves HUB2.
    pub(crate) fn is_leading(&self) -> bool {
        self.leading.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The base URL of the replica serving HUB2, once known.
    pub(crate) fn leader_url(&self) -> Option<String> {
        lock(&self.leader_url).clone()
    }

    /// The replicas' shared forward key.
    pub(crate) fn forward_key(&self) -> String {
        lock(&self.forward_key).clone()
    }
}

impl std::fmt::Debug for Hub2Lead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub2Lead")
            .field("leading", &self.is_leading())
            .field("leader_url", &self.leader_url())
            .finish_non_exhaustive()
    }
}

/// The session advisory lock of the replica serving HUB2.
pub(crate) const HUB2_LEAD_KEY: i64 = 0x7061_7967_6174_6502;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A stable 64-bit key for an advisory lock (FNV-1a over the parts, each
/// followed by a zero byte): the same in every replica, unlike the
/// process's randomly seeded hasher.
pub(crate) fn lock_key(parts: &[&str]) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// The statements a connection prepares once.
struct Prepared {
    order: Statement,
    reserve: Statement,
    daily: Statement,
}

type Job = Box<dyn FnOnce(&mut Client, &Prepared) + Send>;

/// One connection and the thread that owns it.
struct Conn {
    jobs: Sender<Job>,
}

impl Conn {
    fn open(config: &Config, shown: &str) -> Result<Conn, StoreError> {
        let config = config.clone();
        let (ready, wait) = mpsc::sync_channel(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let fail_shown = shown.to_owned();
        std::thread::Builder::new()
            .name("paygate-db-replica".into())
            .spawn(move || {
                let connected = config.connect(NoTls).and_then(|mut client| {
                    // A replica that freezes holding an order's lock must
                    // not hold up the others for ever: a wait for a lock
                    // gives up after 30 s (that request fails), and a
                    // transaction left idle for 60 s is ended by the server,
                    // its locks with it.
                    client.batch_execute(
                        "SET lock_timeout = '30s'; SET idle_in_transaction_session_timeout = '60s'",
                    )?;
                    let prepared = Prepared::prepare(&mut client)?;
                    Ok((client, prepared))
                });
                match connected {
                    Ok((mut client, prepared)) => {
                        let _ = ready.send(Ok(()));
                        serve(&mut client, &prepared, &queue);
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e.to_string()));
                    }
                }
            })
            .map_err(|e| StoreError {
                path: fail_shown.clone(),
                message: format!("cannot start a connection thread: {e}"),
            })?;
        match wait.recv() {
            Ok(Ok(())) => Ok(Conn { jobs }),
            Ok(Err(message)) => Err(StoreError {
                path: fail_shown,
                message: format!("cannot connect: {message}"),
            }),
            Err(_) => Err(StoreError {
                path: fail_shown,
                message: "the connection thread failed".into(),
            }),
        }
    }

    /// Runs `work` on the connection's thread and waits for its answer;
    /// `None` if the connection has gone.
    fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Client, &Prepared) -> T + Send + 'static,
    ) -> Option<T> {
        let (done, wait) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |client, prepared| {
            let _ = done.send(work(client, prepared));
        });
        self.jobs.send(job).ok()?;
        wait.recv().ok()
    }

    /// Queues `work` without waiting for it.
    fn queue(&self, work: impl FnOnce(&mut Client, &Prepared) + Send + 'static) -> bool {
        self.jobs.send(Box::new(work)).is_ok()
    }
}

/// The connection thread's loop: runs jobs until every sender is gone or
/// the connection breaks.
fn serve(client: &mut Client, prepared: &Prepared, queue: &Receiver<Job>) {
    while let Ok(job) = queue.recv() {
        job(client, prepared);
        if client.is_closed() {
            return;
        }
    }
}

impl Prepared {
    fn prepare(client: &mut Client) -> Result<Prepared, ::postgres::Error> {
        Ok(Prepared {
            order: client.prepare(
                "SELECT t.data, r.operation, r.signature, r.body
                 FROM transactions t
                 LEFT JOIN replies r ON r.public_id = t.public_id AND r.order_id = t.order_id
                 WHERE t.public_id = $1 AND t.order_id = $2",
            )?,
            reserve: client.prepare(
                "INSERT INTO meta (key, value) VALUES ('serial', $1)
                 ON CONFLICT (key) DO UPDATE SET value = meta.value + $1
                 RETURNING value",
            )?,
            daily: client.prepare(
                "SELECT COALESCE(sum(minor), 0)::BIGINT FROM daily_amounts WHERE key = $1",
            )?,
        })
    }
}

struct Pool {
    idle: Vec<Conn>,
    open: usize,
}

/// The block of serials reserved, and the connection that reserves them.
struct Serials {
    /// The next serial to hand out (0: none reserved yet).
    next: u64,
    /// The last one of the block.
    end: u64,
    conn: Option<Conn>,
}

/// This process's membership in a shared database.
pub(crate) struct Replica {
    id: String,
    shown: String,
    config: Config,
    options: ReplicaOptions,
    pool: Mutex<Pool>,
    freed: Condvar,
    serials: Mutex<Serials>,
    takeovers: Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<Takeover>>>,
    /// Stops the heartbeat thread (see [`Replica::leave`]).
    stop: Mutex<Option<Sender<mpsc::SyncSender<()>>>>,
    hub2: Arc<Hub2Lead>,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("id", &self.id)
            .field("db", &self.shown)
            .finish_non_exhaustive()
    }
}

impl Drop for Replica {
    /// The heartbeat thread stops and marks this replica as gone.
    fn drop(&mut self) {
        lock(&self.stop).take();
    }
}

/// The orders read back under their locks, in the order asked.
pub(crate) type Refreshed = Vec<Option<Transaction>>;

/// Advisory locks held on some orders, released (the holding transaction
/// ends) when dropped.
pub(crate) struct OrderLocks<'a> {
    replica: &'a Replica,
    conn: Option<Conn>,
}

impl OrderLocks<'_> {
    /// Locks the daily total `key` (a [`DailyKey::text`](crate::simulator::state::DailyKey::text))
    /// along with the orders, until they are released, and reads it:
    /// what every replica accepted under it, in minor units.
    pub(crate) fn daily_total(&self, key: &str) -> Result<u64, StoreError> {
        let gone = || {
            self.replica
                .error("cannot read a daily total", "the connection has gone")
        };
        let conn = self.conn.as_ref().ok_or_else(gone)?;
        let lock = lock_key(&["daily", key]);
        let key = key.to_owned();
        conn.run(move |client, prepared| {
            client
                .execute("SELECT pg_advisory_xact_lock($1)", &[&lock])
                .and_then(|_| client.query_one(&prepared.daily, &[&key]))
                .and_then(|row| row.try_get::<_, i64>(0))
                .map(|minor| u64::try_from(minor).unwrap_or(0))
                .map_err(|e| e.to_string())
        })
        .ok_or_else(gone)?
        .map_err(|e| self.replica.error("cannot read a daily total", e))
    }
}

impl Drop for OrderLocks<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Queued, not awaited: the next job on this connection runs
            // after it, and the writes made under the locks are already
            // committed by the writer.
            if conn.queue(|client, _| {
                let _ = client.batch_execute("COMMIT");
            }) {
                self.replica.give_back(conn);
            } else {
                self.replica.forget();
            }
        }
    }
}

impl Replica {
    /// Joins the database at `config` as a new replica: registers its
    /// heartbeat and starts the thread that keeps it and watches the
    /// others.
    pub(crate) fn join(
        config: Config,
        shown: String,
        options: ReplicaOptions,
        url: String,
    ) -> Result<Arc<Replica>, StoreError> {
        let id = format!(
            "{}-{}-{:08x}",
            hostname(),
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        let (send, receive) = tokio::sync::mpsc::unbounded_channel();
        let (stop_send, stop_receive) = mpsc::channel();
        let replica = Arc::new(Replica {
            id,
            shown,
            config,
            options: ReplicaOptions {
                connections: options.connections.max(1),
                ..options
            },
            pool: Mutex::new(Pool {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
            serials: Mutex::new(Serials {
                next: 0,
                end: 0,
                conn: None,
            }),
            takeovers: Mutex::new(Some(receive)),
            stop: Mutex::new(Some(stop_send)),
            hub2: Arc::new(Hub2Lead::default()),
        });
        let heartbeat = Conn::open(&replica.config, &replica.shown)?;
        replica.beat(&heartbeat, &url)?;
        // Before the store reads HUB2's objects: whoever leads from the
        // start serves what it read.
        // Replicas starting together may not see the one that won the lock
        // at once: wait for its row (2 s at most) before serving.
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        loop {
            takeover::try_to_lead(&heartbeat, &replica.id, &replica.hub2)
                .map_err(|e| replica.error("cannot settle who serves HUB2", e))?;
            if replica.hub2.leader_url().is_some() || std::time::Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let watcher = Watcher {
            id: replica.id.clone(),
            shown: replica.shown.clone(),
            config: replica.config.clone(),
            timeout: replica.options.timeout,
            conn: heartbeat,
            takeovers: send,
            stop: stop_receive,
            hub2: Arc::clone(&replica.hub2),
        };
        std::thread::Builder::new()
            .name("paygate-db-heartbeat".into())
            .spawn(move || watcher.run())
            .map_err(|e| replica.error("cannot start the heartbeat thread", e))?;
        Ok(replica)
    }

    /// Leaves the group on a clean stop: the heartbeat stops and this
    /// replica is marked as gone, so the others take its pending callbacks
    /// and outcomes over at their next heartbeat rather than after the
    /// timeout. Waits at most 5 s.
    pub(crate) fn leave(&self) {
        let Some(stop) = lock(&self.stop).take() else {
            return;
        };
        let (done, wait) = mpsc::sync_channel(1);
        if stop.send(done).is_ok() {
            let _ = wait.recv_timeout(Duration::from_secs(5));
        }
    }

    /// This replica's id (the `owner` of the outbox rows it delivers).
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// The work taken over from dead replicas, for one task to receive
    /// (`None` after the first call).
    pub(crate) fn takeovers(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Takeover>> {
        lock(&self.takeovers).take()
    }

    fn error(&self, what: &str, err: impl std::fmt::Display) -> StoreError {
        StoreError {
            path: self.shown.clone(),
            message: format!("{what}: {err}"),
        }
    }

    /// Registers this replica (its id and base URL) and reads the forward
    /// key the replicas share (made by the first one).
    fn beat(&self, conn: &Conn, url: &str) -> Result<(), StoreError> {
        let id = self.id.clone();
        let url = url.to_owned();
        let key = format!(
            "{:016x}{:016x}",
            std::hash::BuildHasher::hash_one(&std::hash::RandomState::new(), &id),
            std::hash::BuildHasher::hash_one(&std::hash::RandomState::new(), &url)
        );
        let read = conn.run(move |client, _| {
            client
                .execute(
                    "INSERT INTO replicas (id, seen, url) VALUES ($1, now(), $2)
                     ON CONFLICT (id) DO UPDATE SET seen = now(), url = excluded.url",
                    &[&id, &url],
                )
                .and_then(|_| {
                    client.execute(
                        "INSERT INTO replica_secrets (name, value) VALUES ('forward', $1)
                         ON CONFLICT (name) DO NOTHING",
                        &[&key],
                    )
                })
                .and_then(|_| {
                    client.query_one(
                        "SELECT value FROM replica_secrets WHERE name = 'forward'",
                        &[],
                    )
                })
                .and_then(|row| row.try_get::<_, String>(0))
                .map_err(|e| e.to_string())
        });
        let key = read
            .unwrap_or_else(|| Err("the connection has gone".into()))
            .map_err(|e| self.error("cannot register this replica", e))?;
        *lock(&self.hub2.forward_key) = key;
        Ok(())
    }

    /// Who serves HUB2 (see [`Hub2Lead`]).
    pub(crate) fn hub2(&self) -> &Hub2Lead {
        &self.hub2
    }

    /// Runs `work` on a connection of the pool (`what` names it in an
    /// error) and gives the connection back.
    fn with_conn<T: Send + 'static>(
        &self,
        what: &str,
        work: impl FnOnce(&mut Client, &Prepared) -> Result<T, String> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.take()?;
        match conn.run(work) {
            Some(result) => {
                self.give_back(conn);
                result.map_err(|e| self.error(what, e))
            }
            None => {
                self.forget();
                Err(self.error(what, "the connection has gone"))
            }
        }
    }

    /// A connection of the pool, waiting for one while all are in use.
    fn take(&self) -> Result<Conn, StoreError> {
        let mut pool = lock(&self.pool);
        loop {
            if let Some(conn) = pool.idle.pop() {
                return Ok(conn);
            }
            if pool.open < self.options.connections {
                pool.open += 1;
                drop(pool);
                return Conn::open(&self.config, &self.shown).inspect_err(|_| self.forget());
            }
            pool = self
                .freed
                .wait(pool)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn give_back(&self, conn: Conn) {
        lock(&self.pool).idle.push(conn);
        self.freed.notify_one();
    }

    /// A connection that broke: one more may be opened.
    fn forget(&self) {
        let mut pool = lock(&self.pool);
        pool.open = pool.open.saturating_sub(1);
        drop(pool);
        self.freed.notify_one();
    }

    /// Locks the orders (across every replica) and reads them back.
    pub(crate) fn lock_orders(
        &self,
        orders: Vec<(String, String)>,
    ) -> Result<(OrderLocks<'_>, Refreshed), StoreError> {
        let conn = self.take()?;
        let mut keys: Vec<i64> = orders
            .iter()
            .map(|(public_id, order_id)| lock_key(&[public_id, order_id]))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let read = conn.run(move |client, prepared| {
            let result = lock_and_read(client, prepared, &keys, &orders);
            if result.is_err() {
                let _ = client.batch_execute("ROLLBACK");
            }
            result
        });
        match read {
            Some(Ok(rows)) => Ok((
                OrderLocks {
                    replica: self,
                    conn: Some(conn),
                },
                rows,
            )),
            Some(Err(message)) => {
                self.give_back(conn);
                Err(self.error("cannot lock an order", message))
            }
            None => {
                self.forget();
                Err(self.error("cannot lock an order", "the connection has gone"))
            }
        }
    }

    /// A fresh serial number, from this replica's reserved block (a new
    /// block is reserved when it runs out). The reservation has a
    /// connection of its own: the caller holds one of the pool's already
    /// (its order's lock), and waiting for a second could wait for ever.
    pub(crate) fn next_serial(&self) -> Result<u64, StoreError> {
        let mut serials = lock(&self.serials);
        if serials.next == 0 || serials.next > serials.end {
            if serials.conn.is_none() {
                serials.conn = Some(Conn::open(&self.config, &self.shown)?);
            }
            let reserved = serials.conn.as_ref().and_then(|conn| {
                conn.run(|client, prepared| {
                    client
                        .query_one(&prepared.reserve, &[&(SERIAL_BLOCK as i64)])
                        .and_then(|row| row.try_get::<_, i64>(0))
                        .map_err(|e| e.to_string())
                })
            });
            let Some(result) = reserved else {
                serials.conn = None;
                return Err(self.error("cannot reserve serials", "the connection has gone"));
            };
            let end = result.map_err(|e| self.error("cannot reserve serials", e))?;
            let end = u64::try_from(end).unwrap_or(0);
            serials.next = end.saturating_sub(SERIAL_BLOCK - 1).max(1);
            serials.end = end;
        }
        let serial = serials.next;
        serials.next = serial.saturating_add(1);
        Ok(serial)
    }
}

/// Takes the advisory locks (ascending, so two replicas locking several
/// orders never deadlock) in a new transaction, and reads each order.
fn lock_and_read(
    client: &mut Client,
    prepared: &Prepared,
    keys: &[i64],
    orders: &[(String, String)],
) -> Result<Refreshed, String> {
    let mut sql = String::from("BEGIN;");
    for key in keys {
        sql.push_str(&format!(" SELECT pg_advisory_xact_lock({key});"));
    }
    client.batch_execute(&sql).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(orders.len());
    for (public_id, order_id) in orders {
        let rows = client
            .query(&prepared.order, &[public_id, order_id])
            .map_err(|e| e.to_string())?;
        let mut tx: Option<Transaction> = None;
        for row in rows {
            if tx.is_none() {
                let data: String = row.try_get(0).map_err(|e| e.to_string())?;
                tx = Some(decode(&data).map_err(|e| format!("a transaction row: {e}"))?);
            }
            let operation: Option<String> = row.try_get(1).map_err(|e| e.to_string())?;
            if let (Some(tx), Some(operation)) = (tx.as_mut(), operation) {
                let operation = OperationKind::from_name(&operation)
                    .ok_or_else(|| format!("a reply row: operation {operation:?}"))?;
                tx.replies.push(StoredReply {
                    operation,
                    signature: row.try_get(2).map_err(|e| e.to_string())?,
                    body: Bytes::from(row.try_get::<_, Vec<u8>>(3).map_err(|e| e.to_string())?),
                });
            }
        }
        out.push(tx);
    }
    Ok(out)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().chars().take(32).collect())
        .ok()
        .filter(|h: &String| !h.is_empty())
        .unwrap_or_else(|| "replica".into())
}

#[cfg(test)]
mod tests {
    use super::lock_key;

    #[test]
    fn lock_keys_are_stable_and_tell_the_parts_apart() {
        // The same in every process (a fixed function, not a seeded hash).
        assert_eq!(lock_key(&["m", "o-1"]), lock_key(&["m", "o-1"]));
        assert_ne!(lock_key(&["m", "o-1"]), lock_key(&["m", "o-2"]));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(lock_key(&["ab", "c"]), lock_key(&["a", "bc"]));
        assert_eq!(
            lock_key(&[]),
            i64::from_ne_bytes(0xcbf2_9ce4_8422_2325u64.to_ne_bytes())
        );
    }
}
