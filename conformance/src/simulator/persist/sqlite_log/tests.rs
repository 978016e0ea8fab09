use bytes::Bytes;

use super::super::sqlite::SqliteDb;
use super::super::{OutboxProgress, OutboxRow, TxRow, Write, Written};
use super::*;
use crate::simulator::operation::OperationKind;
use crate::simulator::transaction::StoredReply;

/// A fresh folder of this test process, and a database path in it.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("paygate-log-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir.join("sim.db")
}

fn row(order_id: &str, serial: i64, reply: Option<&str>) -> TxRow {
    // A transaction as the simulator stores it (read back at open).
    let tx: crate::simulator::transaction::Transaction =
        serde_json::from_value(serde_json::json!({
            "serial": serial, "public_id": "m", "order_id": order_id, "operation": "payment_c2b",
            "merchant_id": "", "customer_id": "2250700000001", "amount": "100", "provider_id": 2303,
            "destination_id": "", "callback_url": null, "sends_callback": true,
            "transaction_id": format!("SIM{serial}"), "transaction_ref": "", "status": 1,
            "provider_code": 0, "provider_message": "é", "confirm_type": 0, "history": [],
            "redirect_url": null, "customer_message": null, "bank_details": null,
        }))
        .expect("a transaction");
    let mut row = TxRow::state_of(&tx).expect("encoded");
    row.replies = reply
        .map(|body| StoredReply {
            operation: OperationKind::PaymentC2b,
            signature: format!("sig-{body}"),
            body: Bytes::copy_from_slice(body.as_bytes()),
        })
        .into_iter()
        .collect();
    row.daily = None;
    row
}

/// A delivery attempt as the simulator stores it (read back at open).
fn attempt_json(attempt: u32) -> String {
    serde_json::to_string(&crate::simulator::transaction::CallbackAttempt {
        public_id: "m".into(),
        order_id: "o-1".into(),
        operation_type: 17,
        status: 2,
        url: "http://127.0.0.1:9/cb".into(),
        attempt,
        http_status: Some(500),
        error: None,
        delivered: false,
        at: "2026-12-06 10:00:00.000000".into(),
        latency_ms: Some(1),
        next_attempt_at: None,
        body: None,
    })
    .expect("an attempt")
}

fn writes() -> Vec<Write> {
    vec![
        Write::Save {
            row: row("o-1", 1, Some("first")),
            new: true,
            outbox: None,
        },
        Write::Save {
            row: row("o-1", 1, None),
            new: false,
            outbox: Some(Box::new(OutboxRow {
                id: Some(7),
                operation_type: 17,
                status: 2,
                url: "http://127.0.0.1:9/cb".into(),
                body: Bytes::from_static(b"{\"status\":2}"),
            })),
        },
        Write::SaveMany(vec![row("b-1", 2, Some("b1")), row("b-2", 3, None)]),
        Write::Attempt {
            data: attempt_json(1),
            attempt: 1,
            outbox: Some((
                7,
                OutboxProgress::Retry {
                    next_attempt_ms: 1_234,
                },
            )),
        },
        Write::Attempt {
            data: attempt_json(2),
            attempt: 2,
            outbox: Some((7, OutboxProgress::Delivered)),
        },
        Write::Attempt {
            data: attempt_json(3),
            attempt: 3,
            outbox: Some((8, OutboxProgress::Abandoned)),
        },
        Write::Attempt {
            data: attempt_json(4),
            attempt: 1,
            outbox: None,
        },
    ]
}

/// What an entry holds, as text (for comparing).
fn shown(entry: &Entry) -> String {
    format!("{entry:?}")
}

/// What a write becomes once read back, as text.
fn expected(writes: &[Write]) -> Vec<String> {
    let mut out = Vec::new();
    for write in writes {
        match write {
            Write::Save { row, new, outbox } => out.push(shown(&Entry::Save {
                row: Box::new(row.clone()),
                new: *new,
                outbox: outbox.as_deref().cloned(),
            })),
            Write::SaveMany(rows) => {
                for row in rows {
                    out.push(shown(&Entry::Save {
                        row: Box::new(row.clone()),
                        new: true,
                        outbox: None,
                    }));
                }
            }
            Write::Attempt {
                data,
                attempt,
                outbox,
            } => out.push(shown(&Entry::Attempt {
                data: data.clone(),
                attempt: *attempt,
                outbox: *outbox,
            })),
            _ => {}
        }
    }
    out
}

/// Every record of the log of `db`: (at_ms, entries as text), and why
/// reading stopped early if it did.
fn read_all(db: &Path) -> (Vec<(i64, Vec<String>)>, Option<String>) {
    let log = CommitLog::open(db).expect("the log opens");
    let mut records = log.records(HEADER).expect("the log reads");
    let mut out = Vec::new();
    while let Some((at, entries)) = records.next_record().expect("no undecodable record") {
        out.push((at, entries.iter().map(shown).collect()));
    }
    (out, records.torn().map(str::to_owned))
}

fn started(db: &Path) -> CommitLog {
    let mut log = CommitLog::open(db).expect("the log opens");
    log.restart(HEADER, 1);
    log
}

#[test]
fn what_is_appended_reads_back_entry_for_entry() {
    let db = scratch("round-trip");
    let mut log = started(&db);
    let writes = writes();
    let refs: Vec<&Write> = writes.iter().collect();
    log.append(&refs[..2], 11).expect("appended");
    log.append(&refs[2..], 22).expect("appended");
    let (records, torn) = read_all(&db);
    assert_eq!(torn, None);
    let all: Vec<String> = records.iter().flat_map(|(_, e)| e.clone()).collect();
    assert_eq!(all, expected(&writes));
    assert_eq!(
        records.iter().map(|(at, _)| *at).collect::<Vec<_>>(),
        [11, 22]
    );
    assert_eq!(records[0].1.len(), 2);
}

#[test]
fn a_record_cut_short_or_changed_ends_the_log_there_and_says_so() {
    let db = scratch("torn");
    let mut log = started(&db);
    let writes = writes();
    let refs: Vec<&Write> = writes.iter().collect();
    log.append(&refs[..1], 1).expect("appended");
    let first_end = log.len;
    log.append(&refs[1..2], 2).expect("appended");
    let whole = std::fs::read(path_of(&db)).expect("the log");

    // Cut anywhere inside the second record: the first stays.
    for cut in [first_end + 1, first_end + 8, whole.len() as u64 - 1] {
        std::fs::write(path_of(&db), &whole[..cut as usize]).expect("cut");
        let (records, torn) = read_all(&db);
        assert_eq!(records.len(), 1, "cut at {cut}");
        let torn = torn.expect("it says the log was cut");
        assert!(torn.contains(&format!("from byte {first_end}")), "{torn}");
    }
    // One byte of the second record's payload changed.
    let mut changed = whole.clone();
    let last = changed.len() - 3;
    changed[last] ^= 0x20;
    std::fs::write(path_of(&db), &changed).expect("changed");
    let (records, torn) = read_all(&db);
    assert_eq!(records.len(), 1);
    assert!(torn.is_some());
    // A length past the end of the file.
    let mut long = whole.clone();
    long[first_end as usize..first_end as usize + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(path_of(&db), &long).expect("changed");
    let (records, torn) = read_all(&db);
    assert_eq!((records.len(), torn.is_some()), (1, true));
}

#[test]
fn a_record_whose_crc_matches_but_cannot_be_read_is_an_error_naming_it() {
    let db = scratch("undecodable");
    let log = started(&db);
    drop(log);
    // at_ms, one entry of an unknown kind.
    let mut payload = 5i64.to_le_bytes().to_vec();
    payload.extend_from_slice(&1u32.to_le_bytes());
    payload.push(9);
    let mut record = (payload.len() as u32).to_le_bytes().to_vec();
    record.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    record.extend_from_slice(&payload);
    let mut file = OpenOptions::new()
        .append(true)
        .open(path_of(&db))
        .expect("the log");
    file.write_all(&record).expect("written");
    let log = CommitLog::open(&db).expect("the log opens");
    let err = log
        .records(HEADER)
        .expect("reads")
        .next_record()
        .expect_err("an unknown kind is an error");
    assert!(
        err.contains("byte 20") && err.contains("unknown entry kind 9"),
        "{err}"
    );
}

#[test]
fn a_file_that_is_not_a_commit_log_is_refused_by_name() {
    let db = scratch("foreign");
    std::fs::write(path_of(&db), b"this is some other file entirely").expect("written");
    let err = CommitLog::open(&db).expect_err("refused");
    assert!(
        err.contains("sim.db-log") && err.contains("not a paygate commit log"),
        "{err}"
    );
    // Too short for a header (cut as it was started): no records.
    std::fs::write(path_of(&db), b"paygate").expect("written");
    let (records, torn) = read_all(&db);
    assert!(records.is_empty() && torn.is_none());
}

/// The rows of `table` in the database file.
fn count(db: &Path, table: &str) -> i64 {
    rusqlite::Connection::open(db)
        .and_then(|conn| {
            conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get(0)
            })
        })
        .expect("the file reads")
}

#[test]
fn a_log_moved_and_committed_but_not_yet_emptied_is_not_applied_twice() {
    let db = scratch("moved-once");
    let (mut sqlite, _) = SqliteDb::open(&db).expect("opens");
    let writes = writes();
    let refs: Vec<&Write> = writes.iter().collect();
    for result in sqlite.apply_batch(&refs) {
        assert!(matches!(result, Ok(Written::Saved(_))), "{result:?}");
    }
    drop(sqlite);
    assert_eq!(count(&db, "callback_attempts"), 0, "in the log only");
    // What a crash between the move's commit and emptying the log leaves:
    // the log as it was, its records marked as moved.
    let log = std::fs::read(path_of(&db)).expect("the log");
    let (sqlite, loaded) = SqliteDb::open(&db).expect("reopens");
    drop(sqlite);
    assert_eq!(count(&db, "callback_attempts"), 4);
    assert_eq!(loaded.transactions.len(), 3);
    std::fs::write(path_of(&db), &log).expect("the log put back");
    let (sqlite, loaded) = SqliteDb::open(&db).expect("reopens");
    drop(sqlite);
    assert_eq!(count(&db, "callback_attempts"), 4, "not applied twice");
    assert_eq!(loaded.transactions.len(), 3);
    assert_eq!(read_all(&db).0.len(), 0, "emptied");
}

#[test]
fn a_write_that_reads_the_tables_sees_what_the_log_holds() {
    let db = scratch("pending");
    let (mut sqlite, _) = SqliteDb::open(&db).expect("opens");
    let writes = writes();
    let refs: Vec<&Write> = writes.iter().take(2).collect();
    sqlite.apply_batch(&refs);
    // The outbox row added by the second save is pending.
    let pending = sqlite.apply_batch(&[&Write::PendingOutbox]);
    match &pending[..] {
        [Ok(Written::Pending(entries))] => {
            assert_eq!(entries.iter().map(|e| e.id).collect::<Vec<_>>(), [7]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        read_all(&db).0.len(),
        0,
        "the log was moved and started again"
    );
    // Appends go on in the new generation, and a reset forgets them too.
    let more: Vec<&Write> = writes.iter().skip(2).take(1).collect();
    sqlite.apply_batch(&more);
    assert_eq!(read_all(&db).0.len(), 1);
    sqlite.apply_batch(&[&Write::Reset]);
    drop(sqlite);
    let (_, loaded) = SqliteDb::open(&db).expect("reopens");
    assert!(loaded.transactions.is_empty(), "reset");
}

#[test]
fn the_journal_s_older_rows_are_written_before_the_log_s_records() {
    let db = scratch("order");
    let (mut sqlite, _) = SqliteDb::open(&db).expect("opens");
    // A save in a batch that reads the tables goes to the journal...
    let first = Write::Save {
        row: row("o-1", 1, Some("first")),
        new: true,
        outbox: None,
    };
    sqlite.apply_batch(&[&Write::PendingOutbox, &first]);
    assert_eq!(count(&db, "journal"), 2, "the save and its reply");
    // ...a later one to the log.
    let mut later = row("o-1", 1, None);
    later.status = 2;
    later.data = later.data.replace("\"status\":1", "\"status\":2");
    sqlite.apply_batch(&[&Write::Save {
        row: later,
        new: false,
        outbox: None,
    }]);
    assert_eq!(read_all(&db).0.len(), 1);
    drop(sqlite);
    let (_, loaded) = SqliteDb::open(&db).expect("reopens");
    let status: i64 = rusqlite::Connection::open(&db)
        .and_then(|c| c.query_row("SELECT status FROM transactions", [], |r| r.get(0)))
        .expect("one row");
    assert_eq!(status, 2, "the later write stands");
    assert_eq!(loaded.transactions.len(), 1);
    assert_eq!(loaded.transactions[0].status, 2);
    assert_eq!(count(&db, "replies"), 1);
}
