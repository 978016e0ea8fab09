//! Group commit: one thread owns the SQLite connection and writes what
//! every caller asks in batches, one commit per batch.
//!
//! A caller encodes its write (the JSON and columns of a transaction, an
//! attempt), hands it to the writer and blocks until the batch holding it
//! is committed, so it still answers only after its change is durable
//! (the same promise as one commit per change; see [`super::persist`]).
//! While the writer commits one batch, the writes that arrive queue up and
//! become the next batch: the more callers wait, the more each commit
//! carries, and no caller waits for a timer. Callers run on Tokio's
//! blocking pool (see `SimulatorState::blocking`), never on the threads
//! that serve connections.

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use super::persist::{Db, OutboxEntry, StoreError, TxRow, Write, Written};
use super::transaction::Transaction;

/// At most this many writes in one commit (bounds the time one commit
/// takes, so a batch never holds the next callers long).
pub const MAX_BATCH: usize = 512;

struct Job {
    write: Write,
    /// Where to say it is committed.
    done: Done,
}

/// Whom to tell that a write is committed.
enum Done {
    /// Nobody (a queued write): a failure is logged.
    Nobody,
    /// A thread waiting in [`Writer::write`].
    Thread(SyncSender<Result<Written, StoreError>>),
    /// A task awaiting [`Writer::enqueue`]'s receiver.
    Task(tokio::sync::oneshot::Sender<Result<Written, StoreError>>),
}

/// The handle callers send writes through.
pub(crate) struct Writer {
    /// `None` only while dropping.
    jobs: Option<Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
    path: String,
    /// `sqlite` or `postgresql`.
    kind: &'static str,
}

impl Drop for Writer {
    /// Closes the queue and waits until everything queued is committed
    /// (so queued callback attempts are not lost on a clean stop).
    fn drop(&mut self) {
        self.jobs.take();
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
        let thread = std::thread::Builder::new()
            .name("paygate-db-writer".into())
            .spawn(move || run(db, queue))
            .map_err(|e| StoreError {
                path: path.clone(),
                message: format!("cannot start the writer thread: {e}"),
            })?;
        Ok(Writer {
            kind,
            jobs: Some(jobs),
            thread: Some(thread),
            path,
        })
    }

    /// The row of `tx`, encoded here (on the caller's thread).
    /// The database's kind: `sqlite` or `postgresql`.
    pub(crate) fn kind(&self) -> &'static str {
        self.kind
    }

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

    /// Queues `write` for the next batch, `done` to be told of its commit.
    fn send(&self, write: Write, done: Done) -> Result<(), StoreError> {
        self.jobs
            .as_ref()
            .ok_or_else(|| self.gone())?
            .send(Job { write, done })
            .map_err(|_| self.gone())
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

fn run(mut db: Db, queue: Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let writes: Vec<&Write> = batch.iter().map(|job| &job.write).collect();
        let results = db.apply_batch(&writes);
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
                Done::Nobody => {
                    if let Err(err) = result {
                        tracing::error!(error = %err, "a queued write failed");
                    }
                }
            }
        }
    }
}
