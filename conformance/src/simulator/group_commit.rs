//! Group commit: one thread owns the SQLite connection and writes what
//! every caller asks in batches, one commit per batch.
//!
//! A caller encodes its write (the JSON and columns of a transaction, an
//! attempt) and hands it to the writer, which numbers it in queue order.
//! Then either the caller blocks until the batch holding it is committed
//! (PostgreSQL, on Tokio's blocking pool), or its request awaits the
//! [`Watermark`] for that number (SQLite, see [`super::durability`]): in
//! both cases it answers only after its change is durable (the same
//! promise as one commit per change; see [`super::persist`]). While the
//! writer commits one batch, the writes that arrive queue up and become
//! the next batch: the more requests wait, the more each commit carries,
//! and nothing waits for a timer.

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};

use super::durability::Watermark;
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

/// The handle callers send writes through.
pub(crate) struct Writer {
    /// The queue and the next job's number (one lock, so numbers follow
    /// the queue's order); `None` only while dropping.
    jobs: Mutex<Option<(u64, Sender<Job>)>>,
    /// How far the writer has committed.
    watermark: Arc<Watermark>,
    /// What tests do to the writer thread.
    #[cfg(test)]
    pub(crate) hooks: Arc<TestHooks>,
    thread: Option<std::thread::JoinHandle<()>>,
    path: String,
    /// `sqlite` or `postgresql`.
    kind: &'static str,
}

impl Drop for Writer {
    /// Closes the queue and waits until everything queued is committed
    /// (so queued callback attempts are not lost on a clean stop).
    fn drop(&mut self) {
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("path", &self.path).finish()
    }
}

impl Writer {
    /// Starts the writer thread on `db`. It ends when the last handle is
    /// dropped, after writing everything already queued.
    pub(crate) fn start(db: Db, path: String) -> Result<Writer, StoreError> {
        let kind = db.kind();
        let (jobs, queue) = mpsc::channel();
        let watermark = Arc::new(Watermark::default());
        let published = watermark.clone();
        #[cfg(test)]
        let hooks = Arc::new(TestHooks::default());
        #[cfg(test)]
        let hooked = hooks.clone();
        let thread = std::thread::Builder::new()
            .name("paygate-db-writer".into())
            .spawn(move || {
                run(
                    db,
                    queue,
                    &published,
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
            jobs: Mutex::new(Some((1, jobs))),
            watermark,
            #[cfg(test)]
            hooks,
            thread: Some(thread),
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
    /// commit; returns its number.
    fn send(&self, write: Write, done: Done) -> Result<u64, StoreError> {
        let mut jobs = self
            .jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (next, queue) = jobs.as_mut().ok_or_else(|| self.gone())?;
        let seq = *next;
        queue
            .send(Job { seq, write, done })
            .map_err(|_| self.gone())?;
        *next += 1;
        Ok(seq)
    }

    /// How far the writer has committed (see [`super::durability`]).
    pub(crate) fn watermark(&self) -> &Arc<Watermark> {
        &self.watermark
    }

    /// Queues `write` for the next batch without waiting: returns its
    /// number, for the caller's fence (see [`super::durability`]).
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
        wait.recv().map_err(|_| self.gone())?
    }

    /// Queues `write` for the next batch without waiting for its commit,
    /// for writes nobody answers after (a callback attempt: if the process
    /// dies before the commit, the outbox row is still pending and the
    /// callback is sent again, which is the at-least-once promise).
    pub(crate) fn submit(&self, write: Write) {
        if self.send(write, Done::Nobody).is_err() {
            tracing::error!(db = %self.path, "the writer thread has stopped; a write is lost");
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

fn run(mut db: Db, queue: Receiver<Job>, watermark: &Watermark, #[cfg(test)] hooks: &TestHooks) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        #[cfg(test)]
        let _open = hooks
            .gate
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let writes: Vec<&Write> = batch.iter().map(|job| &job.write).collect();
        let results = db.apply_batch(&writes);
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
}

/// What a test can do to the writer thread.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct TestHooks {
    /// Held to keep the writer from committing its next batch.
    pub(crate) gate: Mutex<()>,
    /// Set: the next batch fails as a full disk would.
    pub(crate) fail_next: std::sync::atomic::AtomicBool,
}
