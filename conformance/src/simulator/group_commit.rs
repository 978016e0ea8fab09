//! Group commit: the writes of every caller, committed in batches, one
//! commit per batch.
//!
//! A caller encodes its write (the JSON and columns of a transaction, an
//! attempt) and queues it; the queue numbers it. Then either the caller
//! blocks until the batch holding it is committed (PostgreSQL, on Tokio's
//! blocking pool), or its request awaits the [`Watermark`] for that
//! number (SQLite, see [`super::durability`]): in both cases it answers
//! only after its change is durable (the same promise as one commit per
//! change; see [`super::persist`]). While one batch is committed, the
//! writes that arrive queue up and become the next batch: the more
//! requests wait, the more each commit carries, and nothing waits for a
//! timer.
//!
//! Who commits depends on the database ([`Committer`]):
//! * PostgreSQL: a thread of its own, which owns the connection (each
//!   commit is a round trip to the server, not to be waited for on a
//!   request's thread);
//! * SQLite: whoever needs a commit and finds none under way (a request
//!   about to await its fence, a caller of [`Writer::write`]) takes the
//!   connection and commits everything queued, then the writes queued
//!   meanwhile, until the queue is empty; the others await the watermark.
//!   A commit is a few tens of microseconds of work (no `fsync`, see
//!   `persist::sqlite`); handing each batch to a thread of its own cost
//!   more than the commits did, a third busy thread woken thousands of
//!   times a second on the request threads' cores (`benches/README.md`).

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex, PoisonError, TryLockError};

use super::durability::{Fence, Watermark};
use super::persist::{Db, OutboxEntry, StoreError, TxRow, Write, Written};
use super::transaction::Transaction;

/// At most this many writes in one commit (bounds the time one commit
/// takes, so a batch never holds the next callers long).
pub const MAX_BATCH: usize = 512;

struct Job {
    /// Its number: jobs are numbered in the order they are queued.
    seq: u64,
    write: Write,
    /// Where to say it is committed.
    done: Done,
}

/// Whom to tell that a write is committed.
enum Done {
    /// Nobody (a queued write): a failure is logged.
    Nobody,
    /// Whoever awaits the [`Watermark`] for its number (a failure is
    /// kept there, and logged).
    Fenced,
    /// A thread waiting in [`Writer::write`].
    Thread(SyncSender<Result<Written, StoreError>>),
    /// A task awaiting [`Writer::enqueue`]'s receiver.
    Task(tokio::sync::oneshot::Sender<Result<Written, StoreError>>),
}

/// How often a request about to await its fence lets the other tasks
/// ready on its thread run before it commits, so that the commit carries
/// their writes too. Over 200 000 payments at 16 clients, committing at
/// once made batches of 1.5 writes on average; with 2 yields (and
/// callback attempts left to the next request's commit) about 7, and the
/// CPU per payment fell from about 188 to 147 µs (`benches/README.md`).
const YIELDS_BEFORE_COMMIT: usize = 2;

/// Commits the writes of `fence` when dropped, if they are not yet (see
/// [`Writer::durable`]).
struct CommitOnDrop<'a> {
    shared: &'a Arc<Shared>,
    fence: &'a Fence,
}

impl Drop for CommitOnDrop<'_> {
    fn drop(&mut self) {
        if !self.shared.watermark.covers(self.fence) {
            self.shared.commit_queued();
        }
    }
}

/// Who commits the queued writes.
enum Committer {
    /// A thread of its own, fed by a channel (PostgreSQL).
    Thread {
        /// The queue and the next job's number (one lock, so numbers
        /// follow the queue's order); `None` only while dropping.
        jobs: Mutex<Option<(u64, Sender<Job>)>>,
        thread: Option<std::thread::JoinHandle<()>>,
    },
    /// Whoever needs a commit (SQLite, see the module).
    Callers(Arc<Shared>),
}

/// The queue and the connection of an SQLite writer, committed by its
/// callers.
struct Shared {
    /// The next job's number and the jobs queued, in number order (one
    /// lock, so numbers follow the queue's order).
    queue: Mutex<(u64, Vec<Job>)>,
    /// Held by whoever commits.
    db: Mutex<Db>,
    watermark: Arc<Watermark>,
    /// The database, as errors name it.
    path: String,
    #[cfg(test)]
    hooks: Arc<TestHooks>,
}

impl Shared {
    fn queue(&self) -> std::sync::MutexGuard<'_, (u64, Vec<Job>)> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Commits everything queued, unless someone else is committing (who
    /// then commits what this caller queued: a caller queues before it
    /// comes here, and whoever commits looks at the queue again after
    /// letting go of the connection).
    fn commit_queued(self: &Arc<Self>) {
        loop {
            #[cfg(test)]
            let Some(_gate) = self.test_gate() else {
                return;
            };
            let mut db = match self.db.try_lock() {
                Ok(db) => db,
                Err(TryLockError::WouldBlock) => return,
                Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            };
            loop {
                let batch: Vec<Job> = {
                    let mut queue = self.queue();
                    let take = queue.1.len().min(MAX_BATCH);
                    queue.1.drain(..take).collect()
                };
                if batch.is_empty() {
                    break;
                }
                commit(
                    &mut db,
                    batch,
                    &self.watermark,
                    &self.path,
                    #[cfg(test)]
                    &self.hooks,
                );
            }
            drop(db);
            if self.queue().1.is_empty() {
                return;
            }
        }
    }

    /// The test gate, if open; while a test holds it, a thread of its own
    /// waits for it and then commits, so that no request's thread blocks.
    #[cfg(test)]
    fn test_gate(self: &Arc<Self>) -> Option<std::sync::MutexGuard<'_, ()>> {
        match self.hooks.gate.try_lock() {
            Ok(gate) => Some(gate),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => {
                let shared = self.clone();
                let helper = std::thread::spawn(move || {
                    drop(shared.hooks.gate.lock());
                    shared.commit_queued();
                });
                self.hooks
                    .helpers
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(helper);
                None
            }
        }
    }
}

/// The handle callers send writes through.
pub(crate) struct Writer {
    committer: Committer,
    /// How far the writes are committed.
    watermark: Arc<Watermark>,
    /// What tests do to the writer.
    #[cfg(test)]
    pub(crate) hooks: Arc<TestHooks>,
    path: String,
    /// `sqlite` or `postgresql`.
    kind: &'static str,
}

impl Drop for Writer {
    /// Commits everything queued (so queued callback attempts are not
    /// lost on a clean stop): closes a writer thread's queue and waits for
    /// it, or commits what callers left.
    fn drop(&mut self) {
        #[cfg(test)]
        self.hooks.join_helpers();
        match &mut self.committer {
            Committer::Thread { jobs, thread } => {
                jobs.get_mut()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                if let Some(thread) = thread.take() {
                    let _ = thread.join();
                }
            }
            Committer::Callers(shared) => shared.commit_queued(),
        }
    }
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("path", &self.path).finish()
    }
}

impl Writer {
    /// The writer of `db`: for PostgreSQL, a thread of its own (ended
    /// when the handle is dropped, after writing everything queued); for
    /// SQLite, its callers commit (see the module).
    pub(crate) fn start(db: Db, path: String) -> Result<Writer, StoreError> {
        let kind = db.kind();
        let watermark = Arc::new(Watermark::default());
        #[cfg(test)]
        let hooks = Arc::new(TestHooks::default());
        if matches!(db, Db::Sqlite(_)) {
            let shared = Arc::new(Shared {
                queue: Mutex::new((1, Vec::new())),
                db: Mutex::new(db),
                watermark: watermark.clone(),
                path: path.clone(),
                #[cfg(test)]
                hooks: hooks.clone(),
            });
            return Ok(Writer {
                committer: Committer::Callers(shared),
                watermark,
                #[cfg(test)]
                hooks,
                path,
                kind,
            });
        }
        let (jobs, queue) = mpsc::channel();
        let published = watermark.clone();
        #[cfg(test)]
        let hooked = hooks.clone();
        let named = path.clone();
        let thread = std::thread::Builder::new()
            .name("paygate-db-writer".into())
            .spawn(move || {
                run(
                    db,
                    queue,
                    &published,
                    &named,
                    #[cfg(test)]
                    &hooked,
                )
            })
            .map_err(|e| StoreError {
                path: path.clone(),
                message: format!("cannot start the writer thread: {e}"),
            })?;
        Ok(Writer {
            kind,
            committer: Committer::Thread {
                jobs: Mutex::new(Some((1, jobs))),
                thread: Some(thread),
            },
            watermark,
            #[cfg(test)]
            hooks,
            path,
        })
    }

    /// The database's kind: `sqlite` or `postgresql`.
    pub(crate) fn kind(&self) -> &'static str {
        self.kind
    }

    /// The row of `tx`, encoded here (on the caller's thread).
    pub(crate) fn row(&self, tx: &Transaction) -> Result<TxRow, StoreError> {
        TxRow::of(tx).map_err(|e| self.encoding_error(e))
    }

    /// An error encoding something to write.
    pub(crate) fn encoding_error(&self, err: serde_json::Error) -> StoreError {
        StoreError {
            path: self.path.clone(),
            message: format!("cannot encode for the database: {err}"),
        }
    }

    fn gone(&self) -> StoreError {
        StoreError {
            path: self.path.clone(),
            message: "the writer thread has stopped".into(),
        }
    }

    /// Queues `write` for the next batch, `done` to be told of its
    /// commit; returns its number. (Callers of an SQLite writer then see
    /// that it is committed: [`Writer::commit_queued`].)
    fn send(&self, write: Write, done: Done) -> Result<u64, StoreError> {
        match &self.committer {
            Committer::Thread { jobs, .. } => {
                let mut jobs = jobs.lock().unwrap_or_else(PoisonError::into_inner);
                let (next, queue) = jobs.as_mut().ok_or_else(|| self.gone())?;
                let seq = *next;
                queue
                    .send(Job { seq, write, done })
                    .map_err(|_| self.gone())?;
                *next += 1;
                Ok(seq)
            }
            Committer::Callers(shared) => {
                let mut queue = shared.queue();
                let seq = queue.0;
                queue.1.push(Job { seq, write, done });
                queue.0 += 1;
                Ok(seq)
            }
        }
    }

    /// Commits what is queued, unless a commit is under way (which then
    /// commits it too) or a thread of its own does (PostgreSQL).
    fn commit_queued(&self) {
        if let Committer::Callers(shared) = &self.committer {
            shared.commit_queued();
        }
    }

    /// Waits until every write of `fence` is committed (the error of one
    /// that failed). With an SQLite writer, commits them if nobody is,
    /// after letting the tasks ready on this thread queue their writes
    /// first ([`YIELDS_BEFORE_COMMIT`]); and if this wait is dropped (its
    /// request cancelled) before they are committed, commits them then,
    /// so that no write is left queued with nobody to commit it.
    pub(crate) async fn durable(&self, fence: &Fence) -> Result<(), StoreError> {
        let _unless_done = match &self.committer {
            Committer::Callers(shared) => {
                let guard = CommitOnDrop { shared, fence };
                for _ in 0..YIELDS_BEFORE_COMMIT {
                    if self.watermark.covers(fence) {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
                if !self.watermark.covers(fence) {
                    shared.commit_queued();
                }
                Some(guard)
            }
            Committer::Thread { .. } => None,
        };
        self.watermark.reached(fence).await
    }

    /// Queues `write` for the next batch without waiting: returns its
    /// number, for the caller's fence (see [`super::durability`]), whose
    /// awaiting ([`Writer::durable`]) commits it. (The caller may hold a
    /// store lock: nothing is committed here.)
    pub(crate) fn save_fenced(&self, write: Write) -> Result<u64, StoreError> {
        if self.watermark.full() {
            return Err(StoreError {
                path: self.path.clone(),
                message: format!(
                    "{} writes failed; the simulator takes no more until it is restarted",
                    super::durability::MAX_FAILED
                ),
            });
        }
        self.send(write, Done::Fenced)
    }

    /// Writes `write` with the next batch; returns once it is committed.
    pub(crate) fn write(&self, write: Write) -> Result<Written, StoreError> {
        let (done, wait) = mpsc::sync_channel(1);
        self.send(write, Done::Thread(done))?;
        self.commit_queued();
        wait.recv().map_err(|_| self.gone())?
    }

    /// Queues `write` for the next batch without waiting for its commit
    /// (committed now, or by the wait of a request whose write is queued
    /// before it), for writes nobody answers after (a callback attempt: if the process
    /// dies before the commit, the outbox row is still pending and the
    /// callback is sent again, which is the at-least-once promise).
    pub(crate) fn submit(&self, write: Write) {
        if self.send(write, Done::Nobody).is_err() {
            tracing::error!(db = %self.path, "the writer thread has stopped; a write is lost");
        }
        // A request's write queued before it will be committed by that
        // request's wait, and this one with it.
        let awaited = match &self.committer {
            Committer::Callers(shared) => shared
                .queue()
                .1
                .iter()
                .any(|job| matches!(job.done, Done::Fenced)),
            Committer::Thread { .. } => false,
        };
        if !awaited {
            self.commit_queued();
        }
    }

    /// Queues `write` now (so writes queued one after the other commit in
    /// that order) and gives the receiver of its result, for a task to
    /// await without blocking a thread.
    pub(crate) fn enqueue(
        &self,
        write: Write,
    ) -> Result<tokio::sync::oneshot::Receiver<Result<Written, StoreError>>, StoreError> {
        let (done, wait) = tokio::sync::oneshot::channel();
        self.send(write, Done::Task(done))?;
        self.commit_queued();
        Ok(wait)
    }

    /// [`Writer::write`] for writes that give back an outbox id.
    pub(crate) fn save(&self, write: Write) -> Result<Option<i64>, StoreError> {
        match self.write(write)? {
            Written::Saved(id) => Ok(id),
            Written::Pending(_) => Ok(None),
        }
    }

    /// Every delivery still pending, oldest first.
    pub(crate) fn pending_outbox(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        match self.write(Write::PendingOutbox)? {
            Written::Pending(entries) => Ok(entries),
            Written::Saved(_) => Ok(Vec::new()),
        }
    }
}

/// A PostgreSQL writer's thread: commits what the queue holds, batch
/// after batch, until the queue is closed.
fn run(
    mut db: Db,
    queue: Receiver<Job>,
    watermark: &Watermark,
    path: &str,
    #[cfg(test)] hooks: &TestHooks,
) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        #[cfg(test)]
        let _open = hooks.gate.lock().unwrap_or_else(PoisonError::into_inner);
        commit(
            &mut db,
            batch,
            watermark,
            path,
            #[cfg(test)]
            hooks,
        );
    }
}

/// Commits `batch`, publishes how far the writes are committed and tells
/// whoever waits for each.
///
/// A panic while applying the batch (a bug: nothing in it should) fails
/// every write of the batch, as a failed commit would: its waiters are
/// told so, rather than a later batch's commit passing for theirs.
fn commit(
    db: &mut Db,
    batch: Vec<Job>,
    watermark: &Watermark,
    path: &str,
    #[cfg(test)] hooks: &TestHooks,
) {
    let writes: Vec<&Write> = batch.iter().map(|job| &job.write).collect();
    let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        #[cfg(test)]
        if hooks
            .panic_next
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            panic!("a test's panic inside a commit");
        }
        db.apply_batch(&writes)
    }));
    let results = applied.unwrap_or_else(|_| {
        let err = StoreError {
            path: path.to_owned(),
            message: "a commit failed unexpectedly (a bug in the simulator)".into(),
        };
        writes.iter().map(|_| Err(err.clone())).collect()
    });
    #[cfg(test)]
    let results = if hooks
        .fail_next
        .swap(false, std::sync::atomic::Ordering::SeqCst)
    {
        let err = StoreError {
            path: "test".into(),
            message: "disk full (a test's failure)".into(),
        };
        results.into_iter().map(|_| Err(err.clone())).collect()
    } else {
        results
    };
    let upto = batch.last().map_or(0, |job| job.seq);
    let failures = batch
        .iter()
        .zip(&results)
        .filter_map(|(job, result)| Some((job.seq, result.as_ref().err()?.clone())))
        .collect();
    watermark.publish(upto, failures);
    for (job, result) in batch.into_iter().zip(results) {
        match job.done {
            // The caller may have gone (its task was cancelled):
            // nothing to tell it, the write stands.
            Done::Thread(done) => {
                let _ = done.send(result);
            }
            Done::Task(done) => {
                let _ = done.send(result);
            }
            Done::Nobody | Done::Fenced => {
                if let Err(err) = result {
                    tracing::error!(error = %err, "a queued write failed");
                }
            }
        }
    }
}

/// What a test can do to the writer.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct TestHooks {
    /// Held to keep the writer from committing its next batch (an SQLite
    /// writer's callers then leave the commit to a thread that waits for
    /// the gate).
    pub(crate) gate: Mutex<()>,
    /// Set: the next batch fails as a full disk would.
    pub(crate) fail_next: std::sync::atomic::AtomicBool,
    /// Set: the next batch panics while it is applied.
    pub(crate) panic_next: std::sync::atomic::AtomicBool,
    /// The threads that waited for the gate to commit: each holds the
    /// database (and the file's lock) until it ends.
    helpers: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

#[cfg(test)]
impl TestHooks {
    /// Waits (5 s at most each) for the threads that waited for the gate,
    /// so that the file's lock is let go when the writer is dropped (a
    /// test reopening the file right after found it still locked).
    fn join_helpers(&self) {
        let helpers =
            std::mem::take(&mut *self.helpers.lock().unwrap_or_else(PoisonError::into_inner));
        for helper in helpers {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while !helper.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            if helper.is_finished() {
                let _ = helper.join();
            }
        }
    }
}
