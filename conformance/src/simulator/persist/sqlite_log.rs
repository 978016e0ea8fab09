//! SQLite's commit log: while the simulator runs, the writes a payment
//! makes are appended to a file beside the database (`FILE-log`), one
//! record per batch, one `write(2)` each; they are written into the
//! tables (`sqlite_rows`) when the file is opened, or before a write that
//! reads the tables (the pending outbox, a reset).
//!
//! Appended as rows of `journal`, a payment cost SQLite's inserts, a
//! commit writing its last page again to the write-ahead log (two
//! `pwrite`s per 4 KiB frame, 1.75 frames per payment), and the
//! checkpointer copying those pages into the file and syncing both:
//! about 30 µs of CPU per payment, a fifth of a `--db` payment
//! (`benches/README.md`). Here it is one buffered record and a CRC. The
//! encoding is written by hand (length-prefixed fields, no serde): the
//! point is the bytes a payment costs on the request path.
//!
//! Durability is the write-ahead log's with `synchronous=NORMAL`: a
//! record is in the operating system's page cache before its writes are
//! answered, so it survives the death of the process; an operating-system
//! crash may lose the last records. Each record carries its length and a
//! CRC-32 of its bytes: reading stops at the first record that is cut
//! short or does not match (what a crash during an append leaves), and
//! says so.
//!
//! Writing the log into the tables is a commit that also records, in
//! `meta`, the log's generation and how far it was moved
//! (`log_generation`, `log_offset`); only after that commit is the log
//! emptied and given the next generation. A crash between the two leaves
//! records the next open skips, never applies twice. That commit waits
//! for the disk (`synchronous=FULL`): the log is emptied after it.
//!
//! | bytes | what |
//! |---|---|
//! | 0–11 | `paygate-log1` |
//! | 12–19 | the generation (little-endian) |
//! | then | records: length (u32), CRC-32 of the payload (u32), payload: `at_ms` (i64), how many entries (u32), the entries |
//!
//! An entry is a transaction saved (its row, replies and outbox row: the
//! columns of `journal`'s `save` rows) or a delivery attempt (those of an
//! `attempt` row); integers little-endian, text and bytes after their
//! length (u32).

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use rusqlite::Transaction;

use super::sqlite_rows::{self, Progress};
use super::{sqlite_journal, OutboxProgress, OutboxRow, TxRow, Write};

mod codec;

const MAGIC: &[u8; 12] = b"paygate-log1";
/// The header's length: where records start.
pub(super) const HEADER: u64 = 20;

/// The log's file beside database `db`.
pub(super) fn path_of(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-log");
    PathBuf::from(name)
}

/// Whether `write` goes to the log (it only adds to what the tables
/// hold: a save whose outbox id the simulator handed out, a bulk of
/// saves, an attempt).
pub(super) fn logged(write: &Write) -> bool {
    match write {
        Write::Save { outbox, .. } => outbox.as_ref().is_none_or(|out| out.id.is_some()),
        Write::SaveMany(_) | Write::Attempt { .. } => true,
        Write::PendingOutbox | Write::Reset | Write::Hub2(_) => false,
    }
}

/// Whether `write` reads or rewrites the tables (the log must be moved
/// into the database first).
pub(super) fn needs_tables(write: &Write) -> bool {
    !logged(write) && !matches!(write, Write::Hub2(_))
}

/// One write, as read back.
#[derive(Debug)]
pub(super) enum Entry {
    Save {
        row: Box<TxRow>,
        new: bool,
        outbox: Option<OutboxRow>,
    },
    Attempt {
        data: String,
        attempt: u32,
        outbox: Option<(i64, OutboxProgress)>,
    },
}

impl Entry {
    /// Writes it in place inside `db` (as folding its journal rows would:
    /// `sqlite_rows`); `at_ms`: when its record was appended.
    pub(super) fn write_in_place(&self, db: &Transaction<'_>, at_ms: i64) -> rusqlite::Result<()> {
        match self {
            Entry::Save { row, new, outbox } => {
                sqlite_rows::save(db, row, *new, outbox.as_ref(), at_ms).map(|_| ())
            }
            Entry::Attempt {
                data,
                attempt,
                outbox,
            } => match outbox {
                Some((outbox_id, progress)) => {
                    let (state, next) = progress.columns();
                    let progress = Progress {
                        outbox_id: *outbox_id,
                        attempts: i64::from(*attempt),
                        state,
                        next_attempt_ms: i64::try_from(next).unwrap_or(i64::MAX),
                    };
                    sqlite_rows::record_attempt(db, data, Some(&progress))
                }
                None => sqlite_rows::record_attempt(db, data, None),
            },
        }
    }
}

/// The log, open for appending.
pub(super) struct CommitLog {
    file: File,
    path: PathBuf,
    generation: i64,
    /// Its length (header included) after the last append.
    len: u64,
    /// Up to where its records are in the database.
    moved: u64,
    /// Why appending stopped (a failed append that could not be cut
    /// back, or a header that could not be written).
    broken: Option<String>,
    /// The record being encoded (kept: its capacity is reused).
    buf: Vec<u8>,
    /// Its length when the kernel was last told it may drop its pages.
    advised: u64,
    /// Whether that telling still runs.
    forgetting: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for CommitLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommitLog")
            .field("path", &self.path)
            .field("generation", &self.generation)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl CommitLog {
    /// Opens the log of database `db`, created if missing. A file too
    /// short for its header (cut by a crash as it was started) holds no
    /// records; one with another header is refused.
    pub(super) fn open(db: &Path) -> Result<CommitLog, String> {
        let path = path_of(db);
        let shown = path.display().to_string();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| format!("cannot open the commit log {shown}: {e}"))?;
        let len = file
            .metadata()
            .map_err(|e| format!("cannot read the commit log {shown}: {e}"))?
            .len();
        let mut generation = 0;
        if len >= HEADER {
            let mut header = [0u8; HEADER as usize];
            file.seek(SeekFrom::Start(0))
                .and_then(|_| file.read_exact(&mut header))
                .map_err(|e| format!("cannot read the commit log {shown}: {e}"))?;
            if &header[..12] != MAGIC {
                return Err(format!(
                    "{shown} is not a paygate commit log (its first bytes are not `paygate-log1`); \
                     move it aside if it is not needed"
                ));
            }
            generation = i64::from_le_bytes(header[12..20].try_into().unwrap_or_default());
        }
        Ok(CommitLog {
            file,
            path,
            generation,
            len: len.max(HEADER),
            moved: HEADER,
            broken: None,
            buf: Vec::new(),
            advised: 0,
            forgetting: std::sync::Arc::default(),
        })
    }

    pub(super) fn generation(&self) -> i64 {
        self.generation
    }

    /// Whether records were appended since the log last started.
    pub(super) fn has_records(&self) -> bool {
        self.len > self.moved
    }

    /// Appends `writes` (each [`logged`]) as one record; `at_ms`: when
    /// (an outbox row's time added). An append that fails is cut back,
    /// so the records after it stay readable.
    pub(super) fn append(&mut self, writes: &[&Write], at_ms: i64) -> Result<(), String> {
        if let Some(why) = &self.broken {
            return Err(why.clone());
        }
        let buf = &mut self.buf;
        buf.clear();
        buf.extend_from_slice(&[0; 8]);
        buf.extend_from_slice(&at_ms.to_le_bytes());
        let count_at = buf.len();
        buf.extend_from_slice(&[0; 4]);
        let mut count: u32 = 0;
        for write in writes {
            count = count.saturating_add(codec::encode(buf, write)?);
        }
        buf[count_at..count_at + 4].copy_from_slice(&count.to_le_bytes());
        let payload = u32::try_from(buf.len() - 8)
            .map_err(|_| "a batch too large for one commit-log record (4 GiB)".to_owned())?;
        let crc = crc32fast::hash(&buf[8..]);
        buf[..4].copy_from_slice(&payload.to_le_bytes());
        buf[4..8].copy_from_slice(&crc.to_le_bytes());
        if let Err(err) = self.file.write_all(buf) {
            let shown = self.path.display();
            if let Err(cut) = self.file.set_len(self.len) {
                self.broken = Some(format!(
                    "the commit log {shown} could not be cut back after a failed append \
                     ({cut}); restart the simulator"
                ));
            }
            return Err(format!("cannot append to the commit log {shown}: {err}"));
        }
        self.len += buf.len() as u64;
        if self.len - self.advised >= FORGET_EVERY {
            self.forget_in_background();
        }
        Ok(())
    }

    /// Lets the kernel drop the log's pages, on a thread of its own (the
    /// call takes milliseconds, which the writer, holding every commit,
    /// must not wait for); skipped while the last one still runs.
    fn forget_in_background(&mut self) {
        use std::sync::atomic::Ordering;
        if self.forgetting.swap(true, Ordering::AcqRel) {
            return;
        }
        self.advised = self.len;
        let busy = self.forgetting.clone();
        let spawned = self.file.try_clone().and_then(|file| {
            std::thread::Builder::new()
                .name("paygate-log-forget".into())
                .spawn(move || {
                    forget_written_pages(&file);
                    busy.store(false, Ordering::Release);
                })
        });
        if spawned.is_err() {
            self.forgetting.store(false, Ordering::Release);
        }
    }

    /// The records from `from` on, to read one after the other.
    pub(super) fn records(&self, from: u64) -> Result<Records, String> {
        let shown = self.path.display().to_string();
        let mut file = self
            .file
            .try_clone()
            .map_err(|e| format!("cannot read the commit log {shown}: {e}"))?;
        let end = file
            .metadata()
            .map_err(|e| format!("cannot read the commit log {shown}: {e}"))?
            .len();
        file.seek(SeekFrom::Start(from))
            .map_err(|e| format!("cannot read the commit log {shown}: {e}"))?;
        Ok(Records {
            reader: BufReader::with_capacity(1 << 20, file),
            pos: from,
            end,
            shown,
            torn: None,
        })
    }

    /// Writes every record not yet moved in place inside `db`, after
    /// what the journal holds (older), with the marker of how far (see
    /// the module's notes); returns where they end, for
    /// [`CommitLog::restart`] once `db` is committed.
    pub(super) fn move_into(&self, db: &Transaction<'_>) -> Result<u64, String> {
        let failed = |e: rusqlite::Error| format!("cannot move the commit log: {e}");
        sqlite_journal::fold_all(db).map_err(failed)?;
        let mut records = self.records(self.moved)?;
        while let Some((at_ms, entries)) = records.next_record()? {
            for entry in &entries {
                entry.write_in_place(db, at_ms).map_err(failed)?;
            }
        }
        if let Some(torn) = records.torn() {
            return Err(torn.to_owned());
        }
        mark(db, self.generation, records.pos)
            .map_err(|e| format!("cannot move the commit log: {e}"))?;
        Ok(records.pos)
    }

    /// Empties the log (everything up to `moved` is committed to the
    /// database) and starts generation `generation`. If it cannot be
    /// emptied, appends go on after `moved`; if its new header cannot be
    /// written, appends stop.
    pub(super) fn restart(&mut self, moved: u64, generation: i64) {
        let shown = self.path.display().to_string();
        if let Err(err) = self.file.set_len(0) {
            tracing::warn!(log = %shown, error = %err, "cannot empty the commit log");
            self.moved = moved;
            return;
        }
        let mut header = [0u8; HEADER as usize];
        header[..12].copy_from_slice(MAGIC);
        header[12..].copy_from_slice(&generation.to_le_bytes());
        match self.file.write_all(&header) {
            Ok(()) => {
                self.generation = generation;
                self.len = HEADER;
                self.moved = HEADER;
            }
            Err(err) => {
                self.broken = Some(format!(
                    "cannot start the commit log {shown} again ({err}); restart the simulator"
                ));
            }
        }
    }
}

/// How many bytes appended between two [`forget_written_pages`].
const FORGET_EVERY: u64 = 32 << 20;

/// Tells the kernel it may drop the log's pages from its page cache:
/// nothing reads them while the simulator runs, and a log growing by some
/// 3 KB per payment otherwise fills memory with them; on a virtual
/// machine, memory touched for the first time costs several times what
/// reused memory does (`benches/README.md`). Pages not yet written to
/// disk are written first (the call starts that) and dropped at a later
/// call.
fn forget_written_pages(file: &File) {
    #[cfg(target_os = "linux")]
    if let Err(err) = rustix::fs::fadvise(file, 0, None, rustix::fs::Advice::DontNeed) {
        tracing::debug!(error = %err, "cannot drop the commit log's cached pages");
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

/// Records that the log of `generation` is in the database up to `offset`.
pub(super) fn mark(db: &Transaction<'_>, generation: i64, offset: u64) -> rusqlite::Result<()> {
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    db.prepare_cached(
        "INSERT INTO meta (key, value) VALUES ('log_generation', ?1), ('log_offset', ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([generation, offset])?;
    Ok(())
}

/// The records of a log, read from a point on.
pub(super) struct Records {
    reader: BufReader<File>,
    pos: u64,
    end: u64,
    shown: String,
    torn: Option<String>,
}

impl Records {
    /// The next record (its `at_ms` and entries), or `None` at the end or
    /// at a record cut short or not matching its CRC ([`Records::torn`]
    /// says which). A record that matches but cannot be decoded (written
    /// by another version?) is an error.
    pub(super) fn next_record(&mut self) -> Result<Option<(i64, Vec<Entry>)>, String> {
        if self.torn.is_some() || self.pos >= self.end {
            return Ok(None);
        }
        let left = self.end - self.pos;
        let mut head = [0u8; 8];
        if left < 8 || self.reader.read_exact(&mut head).is_err() {
            return Ok(self.tear(left));
        }
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if u64::from(len) > left - 8 {
            return Ok(self.tear(left));
        }
        let mut payload = vec![0u8; len as usize];
        if self.reader.read_exact(&mut payload).is_err() || crc32fast::hash(&payload) != crc {
            return Ok(self.tear(left));
        }
        let at = self.pos;
        self.pos += 8 + u64::from(len);
        codec::decode(&payload).map(Some).map_err(|why| {
            format!(
                "the commit log {} has a record at byte {at} that cannot be read ({why}); \
                 was it written by another version?",
                self.shown
            )
        })
    }

    fn tear(&mut self, left: u64) -> Option<(i64, Vec<Entry>)> {
        self.torn = Some(format!(
            "the commit log {} ends with {left} bytes that are not a whole record \
             (from byte {}): a crash during an append; what they held was never answered",
            self.shown, self.pos
        ));
        None
    }

    /// Where the records read so far end.
    pub(super) fn pos(&self) -> u64 {
        self.pos
    }

    /// How many bytes are left to read.
    pub(super) fn left(&self) -> u64 {
        self.end.saturating_sub(self.pos)
    }

    /// Why reading stopped before the end of the file, if it did.
    pub(super) fn torn(&self) -> Option<&str> {
        self.torn.as_deref()
    }
}

/// The entries in the commit log of database `db` (`save-new`, `save` or
/// `attempt`, and the order id, empty for an attempt), as a reader of the
/// file sees them while a simulator runs.
#[cfg(test)]
pub(crate) fn entries_of(db: &Path) -> Vec<(&'static str, String)> {
    let log = CommitLog::open(db).expect("the log opens");
    let mut records = log.records(HEADER).expect("the log reads");
    let mut out = Vec::new();
    while let Some((_, entries)) = records.next_record().expect("a record") {
        for entry in entries {
            out.push(match entry {
                Entry::Save { row, new, .. } => {
                    (if new { "save-new" } else { "save" }, row.order_id)
                }
                Entry::Attempt { .. } => ("attempt", String::new()),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests;
