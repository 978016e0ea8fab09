//! Checkpoints of the SQLite write-ahead log, off the writer's path.
//!
//! A checkpoint copies the pages committed to the write-ahead log back
//! into the database file and syncs both (two `fsync`s): the one step of
//! a durable write that waits for the disk. SQLite runs it inside the
//! commit that takes the log past its threshold, so the writes of that
//! batch, and every request awaiting them, waited for it: with the
//! default 1 000 pages, about 9 ms at the 99th percentile of a loaded
//! simulator, against 1.1 ms at the median, and the longer the log is let
//! grow, the longer each wait (about 20 ms at 4 000 pages, 85 ms at 20 000).
//!
//! Here the writer's connection never checkpoints
//! (`wal_autocheckpoint=0`). After its commits, it nudges this thread,
//! which checkpoints on a connection of its own in SQLite's `PASSIVE`
//! mode: it copies what is committed while the writer goes on appending,
//! and blocks nobody. Once a checkpoint has copied everything, the
//! writer's next transaction starts the log again from its beginning.
//! Under a load that never pauses, a commit lands during almost every
//! checkpoint, and the log would only grow; so once it passes
//! [`RESTART_FRAMES`], the checkpointer holds the writer between two
//! batches (the [`Pause`] the writer takes around each batch) for one
//! more checkpoint, of what was committed since the last one: the log is
//! then all copied, and the writer's next transaction starts it again.
//! Before it holds the writer, it flushes the database file itself and
//! copies what was committed meanwhile: SQLite syncs the file only at the
//! end of a checkpoint that copies the whole log, so the held checkpoint
//! would have flushed every page copied since the log last started.
//! After the log restarts, the checkpointer lets the kernel drop the
//! database file's pages from its page cache ([`forget_copied_pages`]).
//! That pause, once per 64 MiB of log, is the only time the writer waits
//! for a checkpoint.
//!
//! Nothing about durability changes: a commit is in the log (and in the
//! operating system's cache) before it is answered, as before; a
//! checkpoint only moves pages that are already committed.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

/// How long a nudge waits for more commits before checkpointing them
/// together (each checkpoint syncs twice, whatever it copies).
const GATHER: Duration = Duration::from_millis(20);

/// Past this many frames in the log (64 MiB of 4 KiB pages), a
/// checkpoint makes the writer start the log again.
pub(super) const RESTART_FRAMES: i64 = 16_384;

/// Held by the writer around each batch, and by the checkpointer to keep
/// the writer between batches.
type Pause = Arc<Mutex<()>>;

/// Takes `pause` (nothing it guards can be left half done: a panicking
/// holder leaves it usable).
fn hold(pause: &Mutex<()>) -> MutexGuard<'_, ()> {
    pause.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The checkpointing thread: nudged after commits, stopped when dropped.
pub(super) struct Checkpointer {
    /// `None` only while dropping (closing it ends the thread).
    nudges: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Shared with the thread (see [`Checkpointer::batch`]).
    pause: Pause,
}

impl std::fmt::Debug for Checkpointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpointer").finish_non_exhaustive()
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.nudges.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Checkpointer {
    /// Opens a second connection on `path` (already in WAL mode) and
    /// starts the thread that checkpoints on it; the log starts again once
    /// it passes `restart_frames` ([`RESTART_FRAMES`] but in tests).
    pub(super) fn start(path: &Path, restart_frames: i64) -> Result<Checkpointer, String> {
        let conn = Connection::open(path).map_err(|e| format!("cannot open: {e}"))?;
        let db_file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
        conn.execute_batch("PRAGMA busy_timeout=2000; PRAGMA synchronous=NORMAL;")
            .map_err(|e| format!("cannot set pragmas: {e}"))?;
        // One nudge pending is enough: the thread checkpoints everything
        // committed by the time it runs.
        let (nudges, received) = mpsc::sync_channel(1);
        let pause = Pause::default();
        let shared = pause.clone();
        let thread = std::thread::Builder::new()
            .name("paygate-db-checkpoint".into())
            .spawn(move || run(&conn, &db_file, &received, &shared, restart_frames))
            .map_err(|e| format!("cannot start the checkpoint thread: {e}"))?;
        Ok(Checkpointer {
            nudges: Some(nudges),
            thread: Some(thread),
            pause,
        })
    }

    /// Held by the writer around each batch: while the checkpointer holds
    /// it, the writer waits between two batches.
    pub(super) fn batch(&self) -> MutexGuard<'_, ()> {
        hold(&self.pause)
    }

    /// Says that something was committed (never blocks).
    pub(super) fn nudge(&self) {
        if let Some(nudges) = &self.nudges {
            let _ = nudges.try_send(());
        }
    }
}

/// Tells the kernel it may drop the database file's pages from its page
/// cache (those not yet written to disk stay). Run after the log restarts
/// (the file just synced): nothing reads the copied pages again while
/// the simulator runs (its commits append to the commit log, or to the
/// journal, whose last pages SQLite keeps in its own cache), and a file
/// growing by some 3 KB per payment otherwise fills memory with them
/// while the journal is written; on a virtual machine, memory
/// touched for the first time costs several times what reused memory
/// does (`benches/README.md`).
fn forget_copied_pages(db_file: &std::fs::File) {
    #[cfg(target_os = "linux")]
    if let Err(err) = rustix::fs::fadvise(db_file, 0, None, rustix::fs::Advice::DontNeed) {
        tracing::debug!(error = %err, "cannot drop the database file's cached pages");
    }
    #[cfg(not(target_os = "linux"))]
    let _ = db_file;
}

/// Frames in the log and frames copied, after a checkpoint in `mode`.
fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<(i64, i64)> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
        Ok((row.get(1)?, row.get(2)?))
    })
}

/// Checkpoints on `conn` after each nudge (`db_file`: the database file,
/// to flush before the writer is held).
fn run(
    conn: &Connection,
    db_file: &std::fs::File,
    nudges: &Receiver<()>,
    pause: &Mutex<()>,
    restart_frames: i64,
) {
    while nudges.recv().is_ok() {
        std::thread::sleep(GATHER);
        let _ = nudges.try_recv();
        let result = checkpoint(conn, "PASSIVE").and_then(|(frames, copied)| {
            if frames > restart_frames {
                // SQLite syncs the database file only at the end of a
                // checkpoint that copies the whole log, so the held one
                // would flush every page copied since the log last
                // started (64 MiB of appended pages took 23 to 32 ms):
                // flushed here, unheld, with what was committed meanwhile.
                if let Err(err) = db_file.sync_data() {
                    tracing::warn!(error = %err, "cannot sync the database file");
                }
                checkpoint(conn, "PASSIVE")?;
                let _writer_waits = hold(pause);
                checkpoint(conn, "PASSIVE")
            } else {
                Ok((frames, copied))
            }
        });
        if matches!(result, Ok((frames, copied)) if frames > restart_frames && copied == frames) {
            forget_copied_pages(db_file);
        }
        match result {
            Ok((frames, copied)) => {
                tracing::trace!(frames, copied, "write-ahead log checkpointed");
            }
            // The writer's commits stand (they are in the log); the log
            // grows until a later checkpoint succeeds.
            Err(err) => tracing::warn!(error = %err, "cannot checkpoint the write-ahead log"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh folder of this test process.
    fn scratch(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("paygate-checkpoint-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A fresh database in WAL mode that never checkpoints by itself, as
    /// the writer's connection is set up: its path and the connection.
    fn writer(name: &str) -> (std::path::PathBuf, Connection) {
        let path = scratch(name).join(format!("{name}.db"));
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0;
             CREATE TABLE rows (id INTEGER PRIMARY KEY, body BLOB NOT NULL);",
        )
        .unwrap();
        (path, conn)
    }

    fn wal_frames(path: &Path) -> u64 {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let len = std::fs::metadata(wal).map_or(0, |m| m.len());
        // A 32-byte header, then frames of a 24-byte header and a page.
        len.saturating_sub(32) / (24 + 4096)
    }

    #[test]
    fn under_writes_that_never_pause_the_log_starts_again_past_its_limit() {
        let (path, conn) = writer("restart");
        let limit = 200;
        let checkpointer = Checkpointer::start(&path, limit).unwrap();
        // Commits one after the other for a second, a few thousand a
        // second (about the simulator's rate under load): a new page or
        // so each, and the checkpointer nudged after each, as the writer
        // does.
        let body = vec![7u8; 3_000];
        let start = std::time::Instant::now();
        let mut commits = 0u64;
        while start.elapsed() < Duration::from_secs(1) {
            let held = checkpointer.batch();
            conn.execute("INSERT INTO rows (body) VALUES (?1)", [&body])
                .unwrap();
            commits += 1;
            checkpointer.nudge();
            drop(held);
            std::thread::sleep(Duration::from_micros(100));
        }
        drop(checkpointer);
        // The log file keeps the length of its longest run. Every commit
        // adds about three pages: had the log never started again, it
        // would be about three times as long as there were commits; with
        // it started again past the limit, it is a little over the limit
        // (what was committed while one checkpoint ran).
        let frames = wal_frames(&path);
        assert!(commits > 10 * limit as u64, "{commits} commits");
        assert!(
            frames < commits,
            "{frames} frames in the log after {commits} commits"
        );
        // Nothing was lost on the way.
        let count: u64 = conn
            .query_row("SELECT count(*) FROM rows", [], |row| row.get(0))
            .unwrap();
        assert_eq!(count, commits);
        drop(conn);
        // And read back whole by a new connection, after the file's cached
        // pages were let go at each restart.
        let (count, bytes): (u64, u64) = Connection::open(&path)
            .unwrap()
            .query_row("SELECT count(*), sum(length(body)) FROM rows", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .unwrap();
        assert_eq!((count, bytes), (commits, commits * 3_000));
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn the_writer_waits_while_the_checkpointer_holds_it() {
        let (path, conn) = writer("pause");
        let checkpointer = Checkpointer::start(&path, RESTART_FRAMES).unwrap();
        // What the checkpointer's thread takes to start the log again.
        let held = hold(&checkpointer.pause);
        let (done, finished) = mpsc::channel();
        std::thread::scope(|scope| {
            let checkpointer = &checkpointer;
            scope.spawn(move || {
                let _batch = checkpointer.batch();
                conn.execute("INSERT INTO rows (body) VALUES (x'00')", [])
                    .unwrap();
                done.send(()).unwrap();
            });
            assert!(finished.recv_timeout(Duration::from_millis(100)).is_err());
            drop(held);
            finished.recv_timeout(Duration::from_secs(5)).unwrap();
        });
        drop(checkpointer);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
